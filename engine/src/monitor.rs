//! The monitor: one small process per running container, in conmon's role.
//!
//! `start` re-executes the running binary (the `berth` command or the desktop app) with
//! [`MONITOR_ARG`]; every binary that links the engine calls `helpers::run_if_helper` first
//! thing in `main`. The monitor forks once more and the first process exits at once, so the monitor is
//! nobody's child and outlives whoever started it; it starts a new session, away from the
//! caller's terminal.
//!
//! It is single-threaded on purpose: it clones the container's init (the runtime's launch), and
//! cloning from a multi-threaded process is where runtimes deadlock. It then holds the
//! container's stdout and stderr, writes them to the k8s-file log, records the exit code and time,
//! tears down the cgroup and the network, removes the container when it was created with `--rm`,
//! and restarts it as its restart policy says (with a growing delay), unless the user stopped it.
//!
//! It tells the starter how the start went on an inherited pipe: `ok PID` or `error CODE MESSAGE`.

use std::io::Read;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe2, setsid, ForkResult};

use crate::container::logs::{LogWriter, Stream};
use crate::container::{self, ContainerPaths};
use crate::{attach, network, runtime};
use crate::{Engine, EngineConfig};

pub use berth_userns::reexec::MONITOR_ARG;

/// Log files rotate past this size (Podman's `log_size_max` is unlimited by default; a desktop
/// app keeping every container's output forever is not kind to disks).
pub const LOG_SIZE_MAX: u64 = 64 * 1024 * 1024;

/// Exit codes as Podman reports them for failures to start.
pub const EXIT_START_FAILED: i32 = 125;
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
pub const EXIT_NOT_FOUND: i32 = 127;

/// The monitor (`__berth-monitor`, started by [`crate::helpers::run_if_helper`]): its exit code.
pub(crate) fn monitor_main(args: &[String]) -> i32 {
    crate::trace::mark("monitor started");
    match MonitorArgs::parse(args) {
        Some(a) => a.run(),
        None => {
            eprintln!("{MONITOR_ARG}: usage: --root DIR --run-root DIR --id ID --ready-fd FD [--lock-fd FD] [--preserve-fds N]");
            2
        }
    }
}

struct MonitorArgs {
    root: PathBuf,
    run_root: PathBuf,
    id: String,
    ready_fd: i32,
    /// The starter's start lock, held until the container runs (or failed to): a starter
    /// killed meanwhile must not let another start launch it a second time.
    lock_fd: Option<i32>,
    /// Fds 3 to 3+N-1, inherited from the starter, go on to the container (`--preserve-fds`).
    preserve_fds: u32,
}

impl MonitorArgs {
    fn parse(args: &[String]) -> Option<MonitorArgs> {
        let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
        Some(MonitorArgs {
            root: get("--root")?.into(),
            run_root: get("--run-root")?.into(),
            id: get("--id")?,
            ready_fd: get("--ready-fd")?.parse().ok()?,
            lock_fd: match get("--lock-fd") {
                Some(fd) => Some(fd.parse().ok()?),
                None => None,
            },
            preserve_fds: match get("--preserve-fds") {
                Some(n) => n.parse().ok()?,
                None => 0,
            },
        })
    }

    fn run(self) -> i32 {
        // SAFETY: the fd number was handed to us by the starter, which keeps no other use of it
        // in this (freshly exec'd) process.
        let ready = unsafe { OwnedFd::from_raw_fd(self.ready_fd) };
        // SAFETY: as for the ready fd.
        let start_lock = self.lock_fd.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
        // Ours only: not the container's, nor any command's this monitor runs (the container
        // keeps the fds it is given, `--preserve-fds`, and these two may be among their numbers).
        let _ = nix::fcntl::fcntl(&ready, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
        if let Some(l) = &start_lock {
            let _ = nix::fcntl::fcntl(l, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
        }
        // Rootless: the container's namespaces must belong to the user's namespace; pasta is
        // started from outside it.
        if let Err(e) = crate::rootless::keep_outside_helper().and_then(|()| crate::rootless::join()) {
            report(&ready, &format!("error {EXIT_START_FAILED} {e}"));
            return 1;
        }
        // Fork once more so the monitor is nobody's child; the starter reaps the first process.
        // SAFETY: this process is single-threaded (it has just been exec'd and started nothing).
        match unsafe { fork() } {
            Ok(ForkResult::Parent { .. }) => return 0,
            Ok(ForkResult::Child) => {}
            Err(e) => {
                report(&ready, &format!("error {EXIT_START_FAILED} forking the monitor: {e}"));
                return 1;
            }
        }
        let _ = setsid();
        crate::trace::mark("monitor forked");
        let config = match EngineConfig::new(self.root, self.run_root) {
            Ok(c) => c,
            Err(e) => {
                report(&ready, &format!("error {EXIT_START_FAILED} {e}"));
                return 1;
            }
        };
        let engine = match Engine::open(config) {
            Ok(e) => e,
            Err(e) => {
                report(&ready, &format!("error {EXIT_START_FAILED} {e}"));
                return 1;
            }
        };
        supervise(&engine, &self.id, ready, start_lock, self.preserve_fds)
    }
}

fn report(ready: &OwnedFd, line: &str) {
    let mut f = std::fs::File::from(ready.try_clone().expect("dup of the ready pipe"));
    let _ = writeln!(f, "{line}");
}

/// Starts the container and supervises it, restarting it as its restart policy says, until it
/// is done; returns the monitor's exit code.
fn supervise(engine: &Engine, id: &str, ready: OwnedFd, start_lock: Option<OwnedFd>, preserve_fds: u32) -> i32 {
    let mut ready = Some(ready);
    let mut start_lock = start_lock;
    let mut restarts = 0u32;
    let mut backoff = 0u32;
    loop {
        let first = ready.is_some();
        let starter = ready.as_ref().and_then(|r| r.try_clone().ok());
        let run = run_once(engine, id, ready.take(), &mut start_lock, preserve_fds);
        finish(engine, id, run.exit_code, run.error.as_deref());
        crate::trace::mark("exit recorded");
        // A start that failed is reported once its exit is recorded (and a `--rm` container
        // removed): whoever started it then finds a container that is done.
        let report_failure = || {
            if let (Some(r), false) = (&starter, run.started) {
                report(r, &format!("error {} {}", run.exit_code, run.error.as_deref().unwrap_or("")));
            }
        };
        let Ok(Some(c)) = container::get(engine.state().conn(), id) else {
            report_failure();
            return 0;
        };
        if c.options.remove {
            let _ = engine.remove_container(id, true);
            crate::trace::mark("removed (--rm)");
            report_failure();
            engine.pod_member_done(&c);
            return 0;
        }
        report_failure();
        drop(starter);
        // A start that failed lets go only now, its exit recorded: the next start finds it done.
        start_lock = None;
        // A start that failed was reported to whoever started it: not retried behind their back.
        let stopped = container::stopped_by_user(engine.state().conn(), id).ok().flatten().unwrap_or(true);
        if (first && !run.started) || stopped || !c.options.restart.restarts(run.exit_code, restarts) {
            engine.pod_member_done(&c);
            return if run.started { 0 } else { 1 };
        }
        // Docker's backoff: 100 ms, doubling up to a minute; a run of 10 s or more starts over.
        if run.ran_for >= Duration::from_secs(10) {
            backoff = 0;
        }
        let delay = Duration::from_millis(100 * 2u64.pow(backoff.min(10))).min(Duration::from_secs(60));
        backoff += 1;
        restarts += 1;
        let _ = container::set_restart_pending(engine.state().conn(), id, std::process::id() as i32, restarts);
        let deadline = Instant::now() + delay;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50).min(deadline - Instant::now()));
            match container::stopped_by_user(engine.state().conn(), id) {
                Ok(Some(false)) => {}
                _ => return 0, // stopped or removed meanwhile
            }
        }
        let _ = std::fs::remove_file(engine.exit_file(id));
    }
}

/// How one run of the container went.
struct Run {
    exit_code: i32,
    error: Option<String>,
    /// Whether its process started at all.
    started: bool,
    ran_for: Duration,
}

/// Launches the container once and supervises it until it exits. `ready` is the starter's pipe,
/// on the first run only, with its start lock (released here once the container runs; after a
/// failure, by the caller once the exit is recorded).
fn run_once(
    engine: &Engine,
    id: &str,
    ready: Option<OwnedFd>,
    start_lock: &mut Option<OwnedFd>,
    preserve_fds: u32,
) -> Run {
    let paths = ContainerPaths::new(&engine.config().root, id);
    let mut monitor_log = std::fs::OpenOptions::new().create(true).append(true).open(paths.monitor_log()).ok();
    let mut note = |msg: &str| {
        if let Some(f) = monitor_log.as_mut() {
            let _ = writeln!(f, "{} {msg}", chrono::Utc::now().to_rfc3339());
        }
    };
    let failed = |code: i32, message: &str| {
        let message = message.replace('\n', " ");
        if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), id) {
            let _ = cg.delete();
        }
        Run { exit_code: code, error: Some(message), started: false, ran_for: Duration::ZERO }
    };
    let options = container::get(engine.state().conn(), id).ok().flatten().map(|c| c.options).unwrap_or_default();
    let io = match StdioSetup::new(options.tty, options.interactive) {
        Ok(io) => io,
        Err(e) => return failed(EXIT_START_FAILED, &e),
    };
    let (started, attachment) = match engine.launch_container(id, io.container_fds(), io.console_fd(), preserve_fds) {
        Ok(s) => s,
        Err(e) => return failed(e.exit_code(), &e.to_string()),
    };
    let began = Instant::now();
    let mut session = match io.into_session() {
        Ok(s) => s, // the container's ends are closed now
        Err(e) => {
            let _ = nix::sys::signal::kill(started.pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(started.pid, None);
            return failed(EXIT_START_FAILED, &e);
        }
    };
    let pid = started.pid;
    let start_time = container::process_start_time(pid.as_raw()).unwrap_or(0);
    if let Err(e) =
        container::set_running(engine.state().conn(), id, pid.as_raw(), start_time, std::process::id() as i32)
    {
        note(&format!("recording the start: {e}"));
    }
    if let Some(pidfile) = &options.monitor_pidfile {
        if let Err(e) = std::fs::write(pidfile, std::process::id().to_string()) {
            note(&format!("writing the monitor's pid to {}: {e}", pidfile.display()));
        }
    }
    let health = start_health_checks(engine, id, &options, pid.as_raw(), &mut note);
    let socket = attach::socket_path(&engine.config().run_root, id);
    let listener = listen(&socket).map_err(|e| note(&format!("attach socket {}: {e}", socket.display()))).ok();
    container_event(engine, id, if ready.is_some() { "start" } else { "restart" }, []);
    if let Some(r) = ready {
        report(&r, &format!("ok {}", pid.as_raw()));
    }
    *start_lock = None;
    // The log is written for every driver: an attached `run` reads it as it grows. With the
    // `none` driver it goes when the container exits (a reader keeps what it has open).
    let mut log = LogWriter::open(&paths.log(), options.log.max_size.unwrap_or(LOG_SIZE_MAX)).ok();
    // `--pid host`: the init's exit is watched (a pidfd), for what it leaves behind.
    let init_exit = if options.pid_host { pidfd_open(pid) } else { None };
    // `--timeout`: killed when its time is up, and then it has no exit code of its own (-1).
    let deadline = options.timeout.filter(|t| *t > 0).map(|t| began + Duration::from_secs(t));
    let mut timed_out = false;
    session.pump(
        listener.as_ref(),
        &mut |stream, data| {
            if let Some(l) = log.as_mut() {
                if let Err(e) = l.write(stream, data) {
                    note(&format!("writing the log: {e}"));
                }
            }
        },
        deadline,
        &mut || {
            timed_out = true;
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), id) {
                let _ = cg.kill_all(nix::sys::signal::Signal::SIGKILL);
            }
        },
        init_exit.as_ref(),
        &mut || {
            // in the host's pid namespace nothing dies with the init: what it left is killed,
            // as a pid namespace of its own would (and the output then ends)
            if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), id) {
                let _ = cg.kill_all(nix::sys::signal::Signal::SIGKILL);
            }
        },
    );
    if let Some(l) = log.as_mut() {
        let _ = l.flush_partial();
    }
    if options.log.driver == container::LogDriver::None {
        drop(log.take());
        let _ = std::fs::remove_file(paths.log());
    }
    drop(listener);
    let _ = std::fs::remove_file(&socket);
    let exit_code = loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => break code,
            Ok(WaitStatus::Signaled(_, sig, _)) => break 128 + sig as i32,
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                note(&format!("waiting for the container: {e}"));
                break 255;
            }
        }
    };
    if let Some(mut h) = health {
        // It drops a check under way and goes; an action it took on an unhealthy container
        // (a restart stops this run) it finishes first, and then this monitor does not wait
        // for it: the action waits for this exit to be recorded.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(h.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let until = Instant::now() + Duration::from_millis(200);
        while matches!(h.try_wait(), Ok(None)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let exit_code = if timed_out { -1 } else { exit_code };
    crate::trace::mark(&format!("container exited ({exit_code})"));
    if let Err(e) =
        runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), id).and_then(|cg| cg.delete())
    {
        note(&format!("removing the cgroup: {e}"));
    }
    // The ports are free again only once their NAT rules are gone.
    let now = container::get(engine.state().conn(), id).ok().flatten();
    if let Some(c) = &now {
        engine.share_hosts_entry(c, false);
    }
    let ports = now.as_ref().is_none_or(|c| !c.options.ports.is_empty());
    let networks = network::joined_networks(engine.state().conn(), &now.map_or(options.clone(), |c| c.options), id);
    network::pasta::stop(&engine.config().run_root, id);
    network::slirp::stop(&engine.config().run_root, id);
    if let Err(e) = network::detach(&network::link::LinuxHostNet, id, ports, &networks) {
        note(&format!("taking the network down: {e}"));
    }
    engine.release_pod_shm(id);
    crate::trace::mark("cgroup and network taken down");
    drop(attachment);
    Run { exit_code, error: None, started: true, ran_for: began.elapsed() }
}

/// A container with a healthcheck starts with its health "starting"; the checks run every
/// interval in a helper of their own (`__berth-health`, `crate::health`), so that a slow check
/// never holds up the container's output. None when it has no periodic check.
fn start_health_checks(
    engine: &Engine,
    id: &str,
    options: &container::CreateOptions,
    pid: i32,
    note: &mut impl FnMut(&str),
) -> Option<std::process::Child> {
    let check = options.healthcheck.as_ref()?;
    let dir = ContainerPaths::new(&engine.config().root, id).dir;
    if let Err(e) = container::health::write(&dir, &container::health::HealthState::starting()) {
        note(&format!("writing the health state: {e}"));
    }
    check.interval()?;
    let mut cmd = berth_userns::reexec::helper_command().ok()?;
    cmd.arg(berth_userns::reexec::HEALTH_ARG)
        .args(["--root".as_ref(), engine.config().root.as_os_str()])
        .args(["--run-root".as_ref(), engine.config().run_root.as_os_str()])
        .args(["--id", id, "--pid", &pid.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    if let Ok(f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(ContainerPaths::new(&engine.config().root, id).monitor_log())
    {
        cmd.stderr(f);
    }
    match cmd.spawn() {
        Ok(child) => Some(child),
        Err(e) => {
            note(&format!("starting the healthchecks: {e}"));
            None
        }
    }
}

/// A pidfd of `pid` (readable once it exits), or None where the kernel has none (before 5.3).
fn pidfd_open(pid: nix::unistd::Pid) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd (or -1); no memory is shared.
    let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid.as_raw(), 0) };
    // SAFETY: a non-negative answer is a new fd that nothing else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Records an exit: the exit file, then the row.
fn finish(engine: &Engine, id: &str, exit_code: i32, error: Option<&str>) {
    // Kept after a `--rm` removal, so whoever waits still learns the exit code.
    // The exit file first: once the row says exited, everything the monitor writes is written.
    let exit_file = engine.exit_file(id);
    let tmp = exit_file.with_extension("tmp");
    let _ = std::fs::create_dir_all(exit_file.parent().unwrap_or(&exit_file))
        .and_then(|_| std::fs::write(&tmp, exit_code.to_string()))
        .and_then(|_| std::fs::rename(&tmp, &exit_file));
    let _ = container::set_exited(engine.state().conn(), id, exit_code, error);
    container_event(engine, id, "died", [("containerExitCode".to_string(), exit_code.to_string())]);
}

/// A container's event with its image and labels, or without them if its record is gone.
fn container_event<const N: usize>(engine: &Engine, id: &str, action: &str, more: [(String, String); N]) {
    match container::get(engine.state().conn(), id) {
        Ok(Some(c)) => engine.events().container(action, &c, more),
        _ => engine.events().state("container", action, id, None),
    }
}

/// The container's standard streams before the launch: pipes (stdin a pipe with `-i`, else
/// /dev/null), or, with `-t`, a console socket on which the container sends the master of the
/// terminal it makes in its own devpts.
struct StdioSetup {
    container: [OwnedFd; 3],
    /// `-t`: our end and the container's end of the console socket.
    console: Option<(OwnedFd, OwnedFd)>,
    session: Session,
}

impl StdioSetup {
    fn new(tty: bool, interactive: bool) -> Result<StdioSetup, String> {
        let pipe = || pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("creating a pipe: {e}"));
        let devnull =
            || std::fs::File::open("/dev/null").map(OwnedFd::from).map_err(|e| format!("opening /dev/null: {e}"));
        if tty {
            use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
            let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC)
                .map_err(|e| format!("creating the console socket: {e}"))?;
            return Ok(StdioSetup {
                container: [devnull()?, devnull()?, devnull()?],
                console: Some((ours, theirs)),
                session: Session::new(Vec::new(), None, true),
            });
        }
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let (stdin, stdin_w) = if interactive {
            let (r, w) = pipe()?;
            (r, Some(w))
        } else {
            (devnull()?, None)
        };
        Ok(StdioSetup {
            container: [stdin, out_w, err_w],
            console: None,
            session: Session::new(vec![(out_r, Stream::Stdout), (err_r, Stream::Stderr)], stdin_w, false),
        })
    }

    fn container_fds(&self) -> [std::os::fd::RawFd; 3] {
        [self.container[0].as_raw_fd(), self.container[1].as_raw_fd(), self.container[2].as_raw_fd()]
    }

    fn console_fd(&self) -> Option<std::os::fd::RawFd> {
        self.console.as_ref().map(|(_, theirs)| theirs.as_raw_fd())
    }

    /// Closes the container's ends (it has its own copies now) and, with a terminal, takes its
    /// master from the console socket.
    fn into_session(self) -> Result<Session, String> {
        let mut session = self.session;
        if let Some((ours, theirs)) = self.console {
            drop(theirs);
            let master =
                crate::console::receive_fd(&ours).map_err(|e| format!("receiving the container's terminal: {e}"))?;
            session.outputs.push(Some((master, Stream::Stdout)));
        }
        Ok(session)
    }
}

/// The monitor's side of a running container's streams: output to the log and to attached
/// clients, their input to the container.
struct Session {
    outputs: Vec<Option<(OwnedFd, Stream)>>,
    stdin: Option<OwnedFd>,
    tty: bool,
    clients: Vec<(UnixStream, attach::FrameReader)>,
    /// Output kept until the first client attaches.
    replay: Option<Vec<u8>>,
}

fn listen(path: &std::path::Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

impl Session {
    fn new(outputs: Vec<(OwnedFd, Stream)>, stdin: Option<OwnedFd>, tty: bool) -> Session {
        Session {
            outputs: outputs.into_iter().map(Some).collect(),
            stdin,
            tty,
            clients: Vec::new(),
            replay: Some(Vec::new()),
        }
    }

    /// Moves bytes until the container's output ends; at `deadline` (its `--timeout`), calls
    /// `on_deadline` once, and when `init` (a pidfd of the container's init) says it exited,
    /// `on_init_exit` once; then goes on until the output ends.
    fn pump(
        &mut self,
        listener: Option<&UnixListener>,
        log: &mut dyn FnMut(Stream, &[u8]),
        mut deadline: Option<Instant>,
        on_deadline: &mut dyn FnMut(),
        mut init: Option<&OwnedFd>,
        on_init_exit: &mut dyn FnMut(),
    ) {
        let mut buf = vec![0u8; 64 * 1024];
        while self.outputs.iter().any(Option::is_some) {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                deadline = None;
                on_deadline();
            }
            let wait = match deadline {
                // at most ~65 s a poll; the loop comes back for the rest
                Some(d) => {
                    PollTimeout::from(d.saturating_duration_since(Instant::now()).as_millis().min(65_000) as u16)
                }
                None => PollTimeout::NONE,
            };
            let mut fds: Vec<PollFd> = Vec::new();
            for (fd, _) in self.outputs.iter().flatten() {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
            let n_out = fds.len();
            if let Some(l) = listener {
                fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
            }
            for (c, _) in &self.clients {
                fds.push(PollFd::new(c.as_fd(), PollFlags::POLLIN));
            }
            if let Some(fd) = init {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, wait) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => break,
            }
            let ready: Vec<bool> = fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect();
            drop(fds);
            if init.is_some() && ready.last().copied().unwrap_or(false) {
                init = None;
                on_init_exit();
            }
            // Output first.
            let mut k = 0;
            for slot in self.outputs.iter_mut() {
                let Some((fd, stream)) = slot.as_ref() else { continue };
                let has = ready[k];
                k += 1;
                if !has {
                    continue;
                }
                let stream = *stream;
                match nix::unistd::read(fd, &mut buf) {
                    Ok(0) => *slot = None,
                    Ok(n) => {
                        log(stream, &buf[..n]);
                        let kind = if stream == Stream::Stderr { attach::STDERR } else { attach::STDOUT };
                        let f = attach::frame(kind, &buf[..n]);
                        if let Some(r) = self.replay.as_mut() {
                            if r.len() + f.len() <= attach::REPLAY_MAX {
                                r.extend_from_slice(&f);
                            }
                        }
                        self.clients.retain_mut(|(c, _)| std::io::Write::write_all(c, &f).is_ok());
                    }
                    Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
                    Err(_) => *slot = None, // EIO: every holder of the terminal's other end is gone
                }
            }
            // A new client.
            let mut idx = n_out;
            if let Some(l) = listener {
                if ready[idx] {
                    if let Ok((mut c, _)) = l.accept() {
                        let _ = c.set_nonblocking(false);
                        let _ = c.set_write_timeout(Some(Duration::from_secs(2)));
                        let replay = self.replay.take().unwrap_or_default();
                        if std::io::Write::write_all(&mut c, &replay).is_ok() {
                            self.clients.push((c, attach::FrameReader::default()));
                        }
                    }
                }
                idx += 1;
            }
            // Client input.
            let mut gone = Vec::new();
            let mut inputs = Vec::new();
            for (i, (c, frames)) in self.clients.iter_mut().enumerate() {
                if !ready.get(idx + i).copied().unwrap_or(false) {
                    continue;
                }
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => gone.push(i),
                    Ok(n) => {
                        frames.push(&buf[..n]);
                        while let Some(f) = frames.next_frame() {
                            inputs.push(f);
                        }
                    }
                }
            }
            for (kind, data) in inputs {
                self.input(kind, &data);
            }
            for i in gone.into_iter().rev() {
                self.clients.remove(i);
            }
        }
        // A client that connected as the container ended still gets what it wrote.
        if let (Some(l), Some(replay)) = (listener, self.replay.take()) {
            if let Ok((mut c, _)) = l.accept() {
                let _ = c.set_nonblocking(false);
                let _ = c.set_write_timeout(Some(Duration::from_secs(2)));
                let _ = std::io::Write::write_all(&mut c, &replay);
            }
        }
        self.clients.clear();
    }

    fn input(&mut self, kind: u8, data: &[u8]) {
        let target = if self.tty {
            self.outputs.first().and_then(|o| o.as_ref()).map(|(fd, _)| fd)
        } else {
            self.stdin.as_ref()
        };
        match kind {
            attach::STDIN => {
                if let Some(fd) = target {
                    let mut rest = data;
                    while !rest.is_empty() {
                        match nix::unistd::write(fd, rest) {
                            Ok(n) => rest = &rest[n..],
                            Err(nix::errno::Errno::EINTR) => {}
                            Err(_) => break,
                        }
                    }
                }
            }
            attach::RESIZE if self.tty && data.len() == 4 => {
                if let Some(fd) = target {
                    let ws = nix::pty::Winsize {
                        ws_row: u16::from_be_bytes([data[0], data[1]]),
                        ws_col: u16::from_be_bytes([data[2], data[3]]),
                        ws_xpixel: 0,
                        ws_ypixel: 0,
                    };
                    // SAFETY: TIOCSWINSZ reads one winsize.
                    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
                }
            }
            attach::CLOSE_STDIN if !self.tty => self.stdin = None,
            _ => {}
        }
    }
}
