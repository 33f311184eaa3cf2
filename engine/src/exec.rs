//! `exec`: a process in a running container. The caller (the CLI, the app: multi-threaded)
//! spawns a re-exec of the running binary with [`EXEC_ARG`], which is single-threaded and calls
//! the runtime's `exec`: it joins the container's namespaces and cgroup, takes its capabilities,
//! seccomp profile, limits and user, and waits for the process, exiting with its status. Its
//! standard streams are the process's: the caller's own, or a pseudo-terminal for `-t`.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::{Process, UserBuilder};
use serde::{Deserialize, Serialize};

use crate::container::{self, in_root, user};
use crate::monitor::{EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_START_FAILED};
use crate::runtime::{self, RuntimeError};
use crate::{Engine, EngineConfig, Error, Result};

pub use berth_userns::reexec::EXEC_ARG;

/// What `berth exec` asked for.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExecOptions {
    pub command: Vec<String>,
    /// `KEY=VALUE`, over the container's environment.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// A terminal: stdin is a pty the process gets as its controlling terminal.
    pub tty: bool,
    /// Milliseconds the process may run: then it and its process group (what it started that
    /// did not leave it) are killed, and the exit status is 137 (a healthcheck's timeout).
    #[serde(default)]
    pub kill_after_ms: Option<u64>,
}

impl Engine {
    /// The command that runs `opts` in the running container `query`; the caller chooses its
    /// standard streams and waits for it. Its exit status is the process's (126/127 when the
    /// command can't be run, 125 when the exec failed).
    pub fn exec_command(&self, query: &str, opts: &ExecOptions) -> Result<std::process::Command> {
        let c = self.container(query)?;
        if c.status != container::Status::Running {
            return Err(Error::StateImproper(format!(
                "can only create exec sessions on running containers: container {} is {}: container state improper",
                c.name,
                c.status.as_str()
            )));
        }
        if opts.command.is_empty() || opts.command[0].is_empty() {
            return Err(Error::Invalid("exec needs a command: berth exec CONTAINER COMMAND [ARG...]".into()));
        }
        let helper = berth_userns::reexec::helper_command()
            .map_err(|source| Error::Io { path: "/proc/self/exe".into(), source })?;
        let mut cmd = helper;
        cmd.arg(EXEC_ARG)
            .args(["--root".as_ref(), self.config().root.as_os_str()])
            .args(["--run-root".as_ref(), self.config().run_root.as_os_str()])
            .args(["--id", &c.id, "--options", &serde_json::to_string(opts).expect("options serialise")]);
        if opts.tty {
            // SAFETY: setsid in the child before exec is async-signal-safe.
            unsafe {
                cmd.pre_exec(|| {
                    nix::unistd::setsid().map_err(std::io::Error::from)?;
                    Ok(())
                });
            }
        }
        Ok(cmd)
    }

    /// Starts `opts` (with `tty`) in the running container `query` and returns the helper and
    /// the master of the terminal the process got, made in the container's own devpts. The
    /// caller relays the master; the helper's exit status is the process's.
    pub fn exec_tty(&self, query: &str, opts: &ExecOptions) -> Result<(std::process::Child, std::os::fd::OwnedFd)> {
        use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let opts = ExecOptions { tty: true, ..opts.clone() };
        let mut cmd = self.exec_command(query, &opts)?;
        let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC)
            .map_err(|e| Error::Invalid(format!("creating the console socket: {e}")))?;
        let fd = theirs.as_raw_fd();
        cmd.args(["--console-fd", "3"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        // SAFETY: dup2 is async-signal-safe; the new descriptor 3 is not close-on-exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| Error::Io { path: "/proc/self/exe".into(), source })?;
        drop(cmd);
        drop(theirs);
        match crate::console::receive_fd(&ours) {
            Ok(master) => Ok((child, master)),
            Err(_) => {
                let mut text = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut text);
                }
                let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(EXIT_START_FAILED);
                let message = text.trim().trim_start_matches("Error: ").to_string();
                Err(Error::StartFailed { code, message })
            }
        }
    }
}

/// The exec helper (`__berth-exec`, started by [`crate::helpers::run_if_helper`]): its exit code.
pub(crate) fn helper_main(args: &[String]) -> i32 {
    let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let console = get("--console-fd").and_then(|f| f.parse::<i32>().ok());
    // Errors after the start are not worth dying of a closed stderr for.
    // SAFETY: ignoring SIGPIPE has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    match (get("--root"), get("--run-root"), get("--id"), get("--options")) {
        (Some(root), Some(run_root), Some(id), Some(options)) => match serde_json::from_str(&options) {
            Ok(opts) => match helper(PathBuf::from(root), PathBuf::from(run_root), &id, &opts, console) {
                Ok(code) => code,
                Err((code, message)) => {
                    eprintln!("Error: {message}");
                    code
                }
            },
            Err(e) => {
                eprintln!("{EXEC_ARG}: bad --options: {e}");
                EXIT_START_FAILED
            }
        },
        _ => {
            eprintln!("{EXEC_ARG}: usage: --root DIR --run-root DIR --id ID --options JSON");
            EXIT_START_FAILED
        }
    }
}

fn helper(
    root: PathBuf,
    run_root: PathBuf,
    id: &str,
    opts: &ExecOptions,
    console: Option<i32>,
) -> std::result::Result<i32, (i32, String)> {
    let fail = |e: &dyn std::fmt::Display| (EXIT_START_FAILED, e.to_string());
    let engine = Engine::open(EngineConfig::new(root, run_root).map_err(|e| fail(&e))?).map_err(|e| fail(&e))?;
    let c = engine.container(id).map_err(|e| fail(&e))?;
    let init = c.pid.filter(|_| c.is_running()).ok_or_else(|| fail(&format!("container {} is not running", c.name)))?;
    let spec = engine.container_spec(id).map_err(|e| fail(&e))?;
    let base = spec.process().clone().ok_or_else(|| fail(&"the container's spec has no process"))?;
    let process = exec_process(&base, opts, init).map_err(|e| fail(&e))?;
    let filter = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(profile) => {
            Some(crate::seccomp_cache::compiled(&engine.config().run_root, profile).map_err(|e| fail(&e))?)
        }
        None => None,
    };
    let cgroup = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), id).ok();
    let mut before_exec = |pid: Pid| match &cgroup {
        Some(cg) => cg.add_task(pid.as_raw() as u32).map_err(|e| e.to_string()),
        None => Ok(()),
    };
    let seccomp = || filter.as_ref().map_or(Ok(()), |f| f.apply().map_err(|e| e.to_string()));
    let started = runtime::exec(
        &runtime::sys::LinuxSyscall,
        runtime::Exec {
            init_pid: Pid::from_raw(init),
            process: &process,
            stdio: [0, 1, 2],
            console: console.filter(|_| opts.tty),
            before_exec: &mut before_exec,
            seccomp: &seccomp,
        },
    )
    .map_err(|e| {
        let code = match e {
            RuntimeError::NotFound { .. } => EXIT_NOT_FOUND,
            RuntimeError::NotExecutable { .. } => EXIT_NOT_EXECUTABLE,
            _ => EXIT_START_FAILED,
        };
        (code, e.to_string())
    })?;
    // Signals the caller forwards (Ctrl-C without a terminal) reach the process.
    forward_signals(started.pid);
    if let Some(ms) = opts.kill_after_ms {
        kill_after(ms);
    }
    loop {
        match waitpid(started.pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(fail(&format!("waiting for the process: {e}"))),
        }
    }
}

static TARGET: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn relay(sig: libc::c_int) {
    let pid = TARGET.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

extern "C" fn expire(_: libc::c_int) {
    let pid = TARGET.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 0 {
        // the process leads a session of its own (the runtime's setsid): its group is what it
        // started and kept
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

/// SIGALRM after `ms`, which kills the process's group ([`ExecOptions::kill_after_ms`]).
fn kill_after(ms: u64) {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(SigHandler::Handler(expire), SaFlags::SA_RESTART, SigSet::empty());
    // SAFETY: the handler only reads an atomic and calls kill.
    let _ = unsafe { sigaction(Signal::SIGALRM, &action) };
    let when = libc::itimerval {
        it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
        it_value: libc::timeval {
            tv_sec: (ms / 1000) as libc::time_t,
            tv_usec: ((ms % 1000) * 1000) as libc::suseconds_t,
        },
    };
    // SAFETY: setitimer reads the struct we pass and writes nothing when the old value is null.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &when, std::ptr::null_mut()) };
}

fn forward_signals(pid: Pid) {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    TARGET.store(pid.as_raw(), std::sync::atomic::Ordering::SeqCst);
    let action = SigAction::new(SigHandler::Handler(relay), SaFlags::SA_RESTART, SigSet::empty());
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT, Signal::SIGUSR1, Signal::SIGUSR2] {
        // SAFETY: the handler only reads an atomic and calls kill.
        let _ = unsafe { sigaction(sig, &action) };
    }
}

/// The container's process with the exec's command, environment, user, directory and terminal.
fn exec_process(base: &Process, opts: &ExecOptions, init: i32) -> std::result::Result<Process, String> {
    let mut p = base.clone();
    p.set_args(Some(opts.command.clone()));
    let mut env = base.env().clone().unwrap_or_default();
    for e in &opts.env {
        let key = e.split('=').next().unwrap_or(e);
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e.clone());
    }
    p.set_env(Some(env));
    if let Some(w) = &opts.workdir {
        if !w.starts_with('/') {
            return Err(format!("workdir \"{w}\" must be an absolute path"));
        }
        p.set_cwd(w.into());
    }
    if let Some(u) = &opts.user {
        // Names resolve against the container's own files, as they are now.
        // They are read through the container's root, so its links can't name the host's files.
        let accounts = |path: &str| match in_root::read(init, path, user::ACCOUNTS_CAP, path) {
            Ok(bytes) => Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned())),
            Err(e) if user::needs_lookup(u) => Err(format!("user \"{u}\" can't be looked up: {e}")),
            Err(_) => Ok(None),
        };
        let passwd = accounts("/etc/passwd")?;
        let group = accounts("/etc/group")?;
        let eu = user::resolve(u, passwd.as_deref(), group.as_deref()).map_err(|e| e.to_string())?;
        let mut caps = p.capabilities().clone();
        if eu.uid != 0 {
            // A non-root user keeps only the bounding set, as at create.
            if let Some(c) = caps.as_mut() {
                c.set_effective(Some(Default::default()));
                c.set_permitted(Some(Default::default()));
            }
        }
        p.set_capabilities(caps);
        p.set_user(
            UserBuilder::default()
                .uid(eu.uid)
                .gid(eu.gid)
                .additional_gids(eu.additional_gids)
                .umask(0o022u32)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    p.set_terminal(Some(opts.tty));
    Ok(p)
}
