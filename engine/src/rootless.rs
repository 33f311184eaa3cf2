//! Rootless mode: Berth run by a regular user.
//!
//! The front ends (the `berth` command, the desktop app) stay the user. Whatever must own files
//! as other users or mount filesystems runs in **one user namespace per user**, held open by a
//! pause process (`__berth-pause`), as Podman keeps one:
//!
//! - container id 0 is the user; ids 1 and up are the user's ranges in `/etc/subuid` and
//!   `/etc/subgid`, mapped by the setuid helpers `newuidmap`/`newgidmap` (Debian's `uidmap`);
//!   without ranges (or without those helpers) only id 0 is mapped and [`warnings`] says so;
//! - the helpers that run inside it ([`join`] is their first step, while they are still
//!   single-threaded): the monitor (so the containers' namespaces are owned by it), `exec` and
//!   `cp` (which must own what they join), and `__berth-userns`, which unpacks layers (so their
//!   owners are kept), fills volumes, and removes trees of files owned by sub-ids.
//!
//! Every helper joins the same namespace, so an `exec` can enter a container that another
//! process started. The pause process's pid is kept in [`state_dir`]; a helper that finds none
//! (first use, or after a reboot) makes a new namespace under a lock.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use nix::sched::CloneFlags;
use nix::unistd::{ForkResult, Uid};

use crate::layers::{UnpackError, Unpacked};

pub const PAUSE_ARG: &str = "__berth-pause";
pub const USERNS_ARG: &str = "__berth-userns";

/// Whether this process is Berth run by a regular user: not root, or root only inside a user
/// namespace (a helper that joined ours).
pub fn is_rootless() -> bool {
    static ROOTLESS: OnceLock<bool> = OnceLock::new();
    *ROOTLESS.get_or_init(|| !nix::unistd::geteuid().is_root() || in_user_namespace())
}

/// Whether this process must go through a helper for what needs the user namespace: rootless
/// and not inside it.
pub fn outside() -> bool {
    !nix::unistd::geteuid().is_root()
}

/// Whether this process is in a user namespace other than the initial one (whose map is the
/// identity over all ids).
pub fn in_user_namespace() -> bool {
    match std::fs::read_to_string("/proc/self/uid_map") {
        Ok(map) => map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"],
        Err(_) => false,
    }
}

/// Whether this process is in a user namespace that maps only root (no sub-ids).
pub fn single_mapping() -> bool {
    static SINGLE: OnceLock<bool> = OnceLock::new();
    *SINGLE.get_or_init(|| {
        in_user_namespace()
            && std::fs::read_to_string("/proc/self/uid_map").map(|m| m.lines().count() <= 1).unwrap_or(true)
    })
}

/// Runtime state of the user's rootless mode (the pause process's pid and its lock):
/// `$XDG_RUNTIME_DIR/berth`, else `/tmp/berth-UID`.
pub fn state_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(|d| PathBuf::from(d).join("berth"))
        .unwrap_or_else(|| std::env::temp_dir().join(format!("berth-{}", real_uid())))
}

/// The user's id on the host (outside any namespace of ours).
fn real_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// One range of subordinate ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubRange {
    pub start: u32,
    pub count: u32,
}

/// The ranges of `user` (by name or number) in a `/etc/subuid`-style file.
pub fn parse_sub_ranges(text: &str, name: &str, id: u32) -> Vec<SubRange> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (who, start, count) = (f.next()?, f.next()?, f.next()?);
            if who != name && who.parse::<u32>().ok() != Some(id) {
                return None;
            }
            Some(SubRange { start: start.trim().parse().ok()?, count: count.trim().parse().ok()? })
        })
        .filter(|r| r.count > 0)
        .collect()
}

/// The user's own id and sub-ids, in the order they are mapped: the user is 0, the ranges are
/// 1, 2, ... The ranges are empty when there are none or `newuidmap`/`newgidmap` are missing.
#[derive(Debug, Clone)]
pub struct IdMaps {
    pub uid: u32,
    pub gid: u32,
    pub user: String,
    pub uids: Vec<SubRange>,
    pub gids: Vec<SubRange>,
    pub helpers: bool,
}

impl IdMaps {
    pub fn of_current_user() -> IdMaps {
        let uid = real_uid();
        let gid = nix::unistd::getgid().as_raw();
        let user = nix::unistd::User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        let read = |f: &str| std::fs::read_to_string(f).unwrap_or_default();
        let helpers = which("newuidmap").is_some() && which("newgidmap").is_some();
        IdMaps {
            uid,
            gid,
            uids: parse_sub_ranges(&read("/etc/subuid"), &user, uid),
            gids: parse_sub_ranges(&read("/etc/subgid"), &user, uid),
            user,
            helpers,
        }
    }

    /// Whether containers get more ids than root.
    pub fn has_sub_ids(&self) -> bool {
        self.helpers && !self.uids.is_empty() && !self.gids.is_empty()
    }

    /// The arguments of `newuidmap PID ...`: `0 UID 1` and each range after it.
    pub fn map_args(own: u32, ranges: &[SubRange]) -> Vec<String> {
        let mut args = vec!["0".to_string(), own.to_string(), "1".to_string()];
        let mut next = 1u64;
        for r in ranges {
            args.extend([next.to_string(), r.start.to_string(), r.count.to_string()]);
            next += r.count as u64;
        }
        args
    }

    /// The host uid that container uid `id` is, if it is mapped.
    pub fn host_uid(&self, id: u32) -> Option<u32> {
        host_id(self.uid, &self.uids, id)
    }
}

fn host_id(own: u32, ranges: &[SubRange], id: u32) -> Option<u32> {
    if id == 0 {
        return Some(own);
    }
    let mut first = 1u32;
    for r in ranges {
        if id >= first && id - first < r.count {
            return Some(r.start + (id - first));
        }
        first = first.checked_add(r.count)?;
    }
    None
}

pub(crate) fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_else(|| vec!["/usr/bin".into(), "/bin".into()])
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// What a rootless user should know before the first container: printed by the front ends.
pub fn warnings() -> Vec<String> {
    if !is_rootless() || !outside() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let maps = IdMaps::of_current_user();
    if !maps.helpers {
        out.push(
            "newuidmap and newgidmap were not found: containers have only root (the user); install Debian's uidmap package"
                .to_string(),
        );
    } else if !maps.has_sub_ids() {
        out.push(format!(
            "no subordinate ids for user {} in /etc/subuid and /etc/subgid: containers have only root (the user); add them with `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {}`",
            maps.user, maps.user
        ));
    }
    out
}

/// The user's delegated cgroup, relative to the cgroup2 root: on a pure cgroup v2 host,
/// systemd's `user@UID.service` when it belongs to the user (systemd delegates it). Containers
/// then get `<it>/berth/<id>` and their limits; elsewhere (cgroup v1 or hybrid, no systemd
/// user instance) they get no cgroup and no limits, and [`limits_warning`] says so.
pub fn delegated_cgroup() -> Option<String> {
    let root = Path::new("/sys/fs/cgroup");
    if !root.join("cgroup.controllers").is_file() {
        return None;
    }
    let uid = real_uid();
    let rel = format!("user.slice/user-{uid}.slice/user@{uid}.service");
    let owner = std::fs::metadata(root.join(&rel)).ok().map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    // A process may be moved only within a subtree the mover may write: this process (and the
    // monitors it starts, which inherit its cgroup) must be inside it. A terminal's session
    // scope is not (Podman asks systemd for a scope there; Berth goes without a cgroup).
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let inside = own.lines().any(|l| l.strip_prefix("0::/").is_some_and(|p| p.starts_with(&format!("{rel}/"))));
    (owner == Some(uid) && inside).then_some(rel)
}

/// Rootless without a delegated cgroup, limits cannot be applied: what to tell whoever asked
/// for some (the container runs without them, as Podman's does).
pub fn limits_warning() -> Option<String> {
    if !is_rootless() || delegated_cgroup().is_some() {
        return None;
    }
    Some(
        "resource limits are ignored: rootless containers get a cgroup only on cgroup v2, started from inside the user's delegated cgroup (systemd's user@UID.service, e.g. `systemd-run --user --scope berth ...`)"
            .to_string(),
    )
}

/// What to tell whoever creates a container with `opts` rootless: missing sub-ids, limits
/// that will be ignored.
pub fn create_warnings(opts: &crate::CreateOptions) -> Vec<String> {
    let mut out = warnings();
    if opts.limits != crate::container::Limits::default() {
        out.extend(limits_warning());
    }
    out
}

/// The pause process: holds the user namespace open.
fn pause_main() -> ! {
    // Nothing inherited stays open: a starter waiting for a pipe's end must not wait for us.
    for fd in 3..1024 {
        let _ = nix::unistd::close(fd);
    }
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: plain dup2 onto the standard descriptors.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    for sig in [nix::sys::signal::Signal::SIGHUP, nix::sys::signal::Signal::SIGINT] {
        // SAFETY: ignoring a signal installs no handler.
        let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigIgn) };
    }
    loop {
        nix::unistd::pause();
    }
}

/// Whether `pid` is a pause process of this user.
fn is_pause(pid: i32) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let owner = std::fs::metadata(format!("/proc/{pid}")).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).ok();
    owner == Some(real_uid()) && cmdline.split(|b| *b == 0).any(|a| a == PAUSE_ARG.as_bytes())
}

/// Enters the user's namespace, making it (and its pause process) when there is none. Must be
/// called while the process is single-threaded; does nothing for root.
pub fn join() -> Result<(), String> {
    if !outside() {
        return Ok(());
    }
    let dir = state_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let lock_path = dir.join("pause.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("opening {}: {e}", lock_path.display()))?;
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("locking {}: {e}", lock_path.display()))?;
    let pid_file = dir.join("pause.pid");
    let existing = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse::<i32>().ok());
    let pid = match existing.filter(|p| is_pause(*p)) {
        Some(pid) => pid,
        // The pause process is gone (killed) while containers still run: their namespace is
        // joined again through one of their monitors, and gets a new pause process, so an
        // `exec` can still enter them. Only with none is a new namespace made.
        None => match surviving_monitor(&dir) {
            Some(monitor) => {
                enter(monitor)?;
                let pid = fork_pause()?;
                std::fs::write(&pid_file, pid.to_string())
                    .map_err(|e| format!("writing {}: {e}", pid_file.display()))?;
                return Ok(());
            }
            None => {
                let pid = spawn_pause()?;
                std::fs::write(&pid_file, pid.to_string())
                    .map_err(|e| format!("writing {}: {e}", pid_file.display()))?;
                pid
            }
        },
    };
    enter(pid)
}

/// Joins the user namespace of `pid`.
fn enter(pid: i32) -> Result<(), String> {
    let ns_path = format!("/proc/{pid}/ns/user");
    let ns = std::fs::File::open(&ns_path).map_err(|e| format!("opening {ns_path}: {e}"))?;
    nix::sched::setns(&ns, CloneFlags::CLONE_NEWUSER).map_err(|e| {
        let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(1);
        if e == nix::errno::Errno::EINVAL && threads > 1 {
            format!(
                "joining the user namespace of {ns_path}: this helper is multi-threaded from the start (a library of its binary started a thread before main)"
            )
        } else {
            format!("joining the user namespace of {ns_path}: {e}")
        }
    })?;
    Ok(())
}

/// A monitor of this user, in a user namespace, whose run root is under `state_dir`'s parent.
fn surviving_monitor(state_dir: &Path) -> Option<i32> {
    let own = std::fs::read_link("/proc/self/ns/user").ok()?;
    let base = state_dir.parent()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let owner = std::fs::metadata(e.path()).ok().map(|m| std::os::unix::fs::MetadataExt::uid(&m))?;
        if owner != real_uid() {
            return None;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_monitor = args.iter().any(|a| *a == crate::monitor::MONITOR_ARG.as_bytes());
        let run_root = args.iter().position(|a| *a == b"--run-root").and_then(|i| args.get(i + 1))?;
        let under = Path::new(std::ffi::OsStr::from_bytes(run_root)).starts_with(base);
        let ns = std::fs::read_link(format!("/proc/{pid}/ns/user")).ok()?;
        (is_monitor && under && ns != own).then_some(pid)
    })
}

/// In a forked child: becomes the pause process (a new session, this binary re-executed).
fn exec_pause() -> ! {
    let _ = nix::unistd::setsid();
    let exe = std::ffi::CString::new("/proc/self/exe").unwrap();
    let argv = [std::ffi::CString::new("berth").unwrap(), std::ffi::CString::new(PAUSE_ARG).unwrap()];
    let _ = nix::unistd::execv(&exe, &argv);
    // SAFETY: leaving the forked child without running the parent's destructors.
    unsafe { libc::_exit(1) }
}

/// Forks a pause process in the namespace this process has joined.
fn fork_pause() -> Result<i32, String> {
    // SAFETY: the caller is single-threaded (see `join`).
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("forking the pause process: {e}"))? {
        ForkResult::Child => exec_pause(),
        ForkResult::Parent { child } => Ok(child.as_raw()),
    }
}

/// Forks the pause process into a new user namespace and maps it.
fn spawn_pause() -> Result<i32, String> {
    let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("creating a pipe: {e}"));
    let (ready_r, ready_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    // SAFETY: the caller is single-threaded (see `join`).
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("forking the pause process: {e}"))? {
        ForkResult::Child => {
            drop((ready_r, go_w));
            let code = match nix::sched::unshare(CloneFlags::CLONE_NEWUSER) {
                Ok(()) => b'u',
                Err(_) => b'e',
            };
            let _ = nix::unistd::write(&ready_w, &[code]);
            let mut b = [0u8; 1];
            if code != b'u' || !matches!(nix::unistd::read(&go_r, &mut b), Ok(1)) {
                // SAFETY: leaving the forked child without running the parent's destructors.
                unsafe { libc::_exit(1) };
            }
            exec_pause()
        }
        ForkResult::Parent { child } => {
            drop((ready_w, go_r));
            let fail = |msg: String| {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                Err(msg)
            };
            let mut b = [0u8; 1];
            match nix::unistd::read(&ready_r, &mut b) {
                Ok(1) if b[0] == b'u' => {}
                _ => {
                    return fail(
                        "creating a user namespace failed: this kernel does not allow them to regular users (check sysctl user.max_user_namespaces and kernel.unprivileged_userns_clone)"
                            .into(),
                    )
                }
            }
            if let Err(e) = write_maps(child.as_raw(), &IdMaps::of_current_user()) {
                return fail(e);
            }
            if nix::unistd::write(&go_w, b"g") != Ok(1) {
                return fail("starting the pause process".into());
            }
            Ok(child.as_raw())
        }
    }
}

/// Maps the user namespace of `pid`: through newuidmap/newgidmap with the sub-ids, else only
/// root (the user), written directly.
fn write_maps(pid: i32, maps: &IdMaps) -> Result<(), String> {
    if maps.has_sub_ids() {
        for (tool, own, ranges) in [("newuidmap", maps.uid, &maps.uids), ("newgidmap", maps.gid, &maps.gids)] {
            let out = Command::new(tool)
                .arg(pid.to_string())
                .args(IdMaps::map_args(own, ranges))
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("running {tool}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{tool} failed: {}: check the ranges of user {} in /etc/subuid and /etc/subgid",
                    String::from_utf8_lossy(&out.stderr).trim(),
                    maps.user
                ));
            }
        }
        return Ok(());
    }
    let write = |file: &str, text: String| {
        std::fs::write(format!("/proc/{pid}/{file}"), text).map_err(|e| format!("writing /proc/{pid}/{file}: {e}"))
    };
    write("uid_map", format!("0 {} 1\n", maps.uid))?;
    write("setgroups", "deny".into())?;
    write("gid_map", format!("0 {} 1\n", maps.gid))
}

/// A process of the user's kept outside the user namespace by a monitor, for what only works
/// from there: pasta joins a container's user and network namespaces as their owner (from
/// inside, it would lack the capabilities the kernel wants to look into the container's init).
struct Outside {
    requests: std::fs::File,
    replies: std::io::BufReader<std::fs::File>,
}

static OUTSIDE: std::sync::Mutex<Option<Outside>> = std::sync::Mutex::new(None);

/// Forks the outside helper, for [`run_outside`]. Call before [`join`], while single-threaded.
pub fn keep_outside_helper() -> Result<(), String> {
    if !outside() {
        return Ok(());
    }
    let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("creating a pipe: {e}"));
    let (req_r, req_w) = pipe()?;
    let (rep_r, rep_w) = pipe()?;
    // SAFETY: the caller is single-threaded.
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("forking a helper: {e}"))? {
        ForkResult::Child => {
            let keep = [req_r.as_raw_fd(), rep_w.as_raw_fd()];
            for fd in 3..1024 {
                if !keep.contains(&fd) {
                    let _ = nix::unistd::close(fd);
                }
            }
            std::mem::forget((req_w, rep_r)); // closed above
            let _ = nix::sys::prctl::set_name(c"berth-outside");
            serve_outside(std::fs::File::from(req_r), std::fs::File::from(rep_w));
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { .. } => {
            drop((req_r, rep_w));
            let helper = Outside {
                requests: std::fs::File::from(req_w),
                replies: std::io::BufReader::new(std::fs::File::from(rep_r)),
            };
            *OUTSIDE.lock().unwrap_or_else(|e| e.into_inner()) = Some(helper);
            Ok(())
        }
    }
}

/// How the outside helper runs a program.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OutsideRun {
    /// To completion (pasta forks into the background once it is ready).
    Complete,
    /// In the background, once it wrote to its fd 3 (slirp4netns's `--ready-fd=3`); the reply
    /// is its pid.
    Ready,
}

/// Runs `program`: Ok is "" or the background program's pid, Err what it said.
fn execute(how: OutsideRun, program: &str, args: &[&str]) -> Result<String, String> {
    let not_found = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{program}: not found"),
        _ => format!("running {program}: {e}"),
    };
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null());
    if how == OutsideRun::Complete {
        let out = cmd.output().map_err(not_found)?;
        return match out.status.success() {
            true => Ok(String::new()),
            false => Err(String::from_utf8_lossy(&out.stderr).trim().replace('\n', "; ")),
        };
    }
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("creating a pipe: {e}"))?;
    let w = ready_w.as_raw_fd();
    // SAFETY: dup2 is async-signal-safe; the new fd 3 is not close-on-exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            if libc::dup2(w, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.stderr(Stdio::null()).spawn().map_err(not_found)?;
    drop(ready_w);
    let mut b = [0u8; 1];
    match nix::unistd::read(&ready_r, &mut b) {
        Ok(1) => Ok(child.id().to_string()),
        _ => {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!("{program} ended before it was ready ({status})"))
        }
    }
}

/// The outside helper's loop: a request is `MODE\0PROGRAM\0ARG\0...\n` (MODE `run` or
/// `ready`), the reply `ok [PID]` or `error MESSAGE`, one line each; it ends with its requests.
fn serve_outside(requests: std::fs::File, mut replies: std::fs::File) {
    use std::io::BufRead;
    for line in std::io::BufReader::new(requests).lines() {
        let Ok(line) = line else { return };
        // Background programs that ended are reaped here.
        while let Ok(nix::sys::wait::WaitStatus::Exited(..) | nix::sys::wait::WaitStatus::Signaled(..)) =
            nix::sys::wait::waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG))
        {}
        let parts: Vec<&str> = line.split('\0').collect();
        let how = if parts.first() == Some(&"ready") { OutsideRun::Ready } else { OutsideRun::Complete };
        let reply = match parts.get(1) {
            Some(program) => match execute(how, program, &parts[2..]) {
                Ok(out) => format!("ok {out}"),
                Err(e) => format!("error {e}"),
            },
            None => "error empty request".to_string(),
        };
        if writeln!(replies, "{}", reply.trim_end()).is_err() {
            return;
        }
    }
}

/// Runs `program` with `args` outside the user namespace: through the monitor's outside helper
/// when this process is inside, else directly. Ok is the background program's pid with
/// [`OutsideRun::Ready`]; Err is the program's complaint.
pub fn run_outside(how: OutsideRun, program: &str, args: &[String]) -> Result<String, String> {
    use std::io::BufRead;
    let mut guard = OUTSIDE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(helper) = guard.as_mut() else {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        return execute(how, program, &args);
    };
    let mut request = if how == OutsideRun::Ready { "ready" } else { "run" }.to_string();
    for a in std::iter::once(&program.to_string()).chain(args) {
        request.push('\0');
        request.push_str(a);
    }
    request.push('\n');
    let mut reply = String::new();
    helper
        .requests
        .write_all(request.as_bytes())
        .and_then(|()| helper.replies.read_line(&mut reply).map(|_| ()))
        .map_err(|e| format!("asking the outside helper to run {program}: {e}"))?;
    let reply = reply.trim_end();
    if let Some(msg) = reply.strip_prefix("error ") {
        return Err(msg.to_string());
    }
    match reply.strip_prefix("ok") {
        Some(out) => Ok(out.trim().to_string()),
        None => Err(format!("the outside helper answered {reply:?} for {program}")),
    }
}

/// Ends the network helper whose pid is in `pid_file` (pasta, slirp4netns) when its command
/// name still passes `is_it` (the pid may have been reused since), and removes the file.
pub fn stop_recorded(pid_file: &Path, is_it: impl Fn(&str) -> bool) {
    if let Some(pid) = std::fs::read_to_string(pid_file).ok().and_then(|s| s.trim().parse::<i32>().ok()) {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if is_it(comm.trim()) {
            terminate(pid);
        }
    }
    let _ = std::fs::remove_file(pid_file);
}

/// Ends a network helper (pasta, slirp4netns) and waits, up to two seconds, until it is gone:
/// once this returns, the host ports it held are free for the next container.
fn terminate(pid: i32) {
    let pid = nix::unistd::Pid::from_raw(pid);
    if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        // Gone, or a zombie whose sockets are closed already.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state.rfind(')').and_then(|i| state.get(i + 2..i + 3)) == Some("Z");
        if state.is_empty() || zombie {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
}

/// Runs the pause process or a `__berth-userns` helper and exits when this process is one;
/// returns otherwise. Called by `monitor::run_if_monitor`.
pub(crate) fn run_if_helper(args: &[String]) {
    match args.get(1).map(String::as_str) {
        Some(PAUSE_ARG) => pause_main(),
        Some(USERNS_ARG) => {}
        _ => return,
    }
    let result = join().and_then(|()| helper(&args[2..]));
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

/// The operations of `__berth-userns`, inside the namespace.
fn helper(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("rm") => {
            for p in &args[1..] {
                match std::fs::remove_dir_all(p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(format!("{p}: {e}")),
                    _ => {}
                }
            }
            Ok(())
        }
        Some("unpack") => {
            let dest = args.get(1).ok_or("unpack: DEST missing")?;
            let got =
                crate::layers::unpack_stream(std::io::stdin().lock(), Path::new(dest)).map_err(|e| e.to_string())?;
            let line = format!("{} {} {} {}\n", got.diff_id, got.size, got.stats.size, got.stats.entries);
            std::io::stdout().write_all(line.as_bytes()).map_err(|e| e.to_string())
        }
        Some("copy-up") => match args {
            [_, target, dest, layers @ ..] => {
                let layers: Vec<PathBuf> = layers.iter().map(PathBuf::from).collect();
                crate::volume::copy_up(&layers, dest, Path::new(target)).map_err(|e| format!("{target}: {e}"))
            }
            _ => Err("copy-up: TARGET DEST LAYER... missing".into()),
        },
        other => Err(format!("{USERNS_ARG}: unknown operation {other:?}")),
    }
}

fn helper_command(op: &str) -> std::io::Result<Command> {
    let mut c = crate::monitor::helper_command()?;
    c.arg(USERNS_ARG).arg(op);
    Ok(c)
}

fn run_helper(mut c: Command) -> std::io::Result<()> {
    let out = c.stdin(Stdio::null()).output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(std::io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_string()))
}

/// `rm -rf path`, inside the user namespace when its files may belong to sub-ids.
pub fn remove_tree(path: &Path) -> std::io::Result<()> {
    if !is_rootless() || !outside() {
        return std::fs::remove_dir_all(path);
    }
    if std::fs::symlink_metadata(path).is_err() {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    let mut c = helper_command("rm")?;
    c.arg(path);
    run_helper(c)
}

/// `volume::copy_up`, inside the user namespace so owners are kept.
pub fn copy_up(layer_dirs_top_first: &[PathBuf], dest: &str, target: &Path) -> std::io::Result<()> {
    if !is_rootless() || !outside() {
        return crate::volume::copy_up(layer_dirs_top_first, dest, target);
    }
    let mut c = helper_command("copy-up")?;
    c.arg(target).arg(dest).args(layer_dirs_top_first);
    run_helper(c)
}

/// `layers::unpack_stream`, inside the user namespace so owners are kept: the stream goes to a
/// helper's stdin.
pub fn unpack_stream<R: Read>(mut compressed: R, dest: &Path) -> Result<Unpacked, UnpackError> {
    if !is_rootless() || !outside() {
        return crate::layers::unpack_stream(compressed, dest);
    }
    let helper_err = |e: std::io::Error| UnpackError::Archive(std::io::Error::other(format!("unpack helper: {e}")));
    let mut child = helper_command("unpack")
        .map_err(helper_err)?
        .arg(dest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(helper_err)?;
    let mut stdin = child.stdin.take().expect("piped");
    let copied = std::io::copy(&mut compressed, &mut stdin);
    drop(stdin);
    let out = child.wait_with_output().map_err(helper_err)?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(UnpackError::Archive(std::io::Error::other(msg)));
    }
    // A failed read of our input is the input's failure (a dropped download), not the helper's.
    if let Err(e) = copied {
        return Err(UnpackError::Archive(e));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = line.split_whitespace().collect();
    let bad = || UnpackError::Archive(std::io::Error::other(format!("unpack helper answered {line:?}")));
    match f.as_slice() {
        [diff_id, size, bytes, entries] => Ok(Unpacked {
            diff_id: diff_id.to_string(),
            size: size.parse().map_err(|_| bad())?,
            stats: crate::layers::UnpackStats {
                size: bytes.parse().map_err(|_| bad())?,
                entries: entries.parse().map_err(|_| bad())?,
            },
        }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_ranges_by_name_or_id() {
        let text = "alice:100000:65536\nbob:165536:65536\n1001:300000:10\n# x\nbad\n";
        assert_eq!(parse_sub_ranges(text, "alice", 1000), vec![SubRange { start: 100000, count: 65536 }]);
        assert_eq!(parse_sub_ranges(text, "carol", 1001), vec![SubRange { start: 300000, count: 10 }]);
        assert!(parse_sub_ranges(text, "dave", 1002).is_empty());
    }

    #[test]
    fn maps_put_the_user_at_zero_and_ranges_after() {
        let ranges = [SubRange { start: 100000, count: 10 }, SubRange { start: 500000, count: 5 }];
        assert_eq!(IdMaps::map_args(1000, &ranges), ["0", "1000", "1", "1", "100000", "10", "11", "500000", "5"]);
        assert_eq!(host_id(1000, &ranges, 0), Some(1000));
        assert_eq!(host_id(1000, &ranges, 1), Some(100000));
        assert_eq!(host_id(1000, &ranges, 10), Some(100009));
        assert_eq!(host_id(1000, &ranges, 11), Some(500000));
        assert_eq!(host_id(1000, &ranges, 16), None);
    }
}
