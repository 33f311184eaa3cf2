//! The user's namespace: made once (by the first helper that finds none) and held open by the
//! pause process, joined by every helper that must own files as sub-ids or mount.
//!
//! The pause process's pid is kept in [`state_dir`]; a helper that finds none (first use, or
//! after a reboot) makes a new namespace under a lock. When the pause process was killed while
//! containers still run, their namespace is joined again through one of their monitors.

use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::sched::CloneFlags;
use nix::unistd::ForkResult;

use crate::maps::IdMaps;
use crate::reexec::{MONITOR_ARG, PAUSE_ARG};
use crate::{outside, real_uid, state_dir};

/// The pause process: holds the user namespace open.
pub fn pause_main() -> ! {
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
        let is_monitor = args.iter().any(|a| *a == MONITOR_ARG.as_bytes());
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
