//! The outside helper: a process of the user's kept outside the user namespace by a monitor,
//! for what only works from there (pasta and slirp4netns join a container's namespaces as their
//! owner), and the end of the network helpers it started.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::unistd::ForkResult;

use crate::outside;

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
