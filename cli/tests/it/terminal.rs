//! A real pseudo-terminal for the tests that drive terminal sessions (`exec -it`, `run -it`,
//! `attach`, and the docker client's): the command runs with it as its controlling terminal,
//! as in a user's terminal, and the test types into its master and reads what comes back.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn set_size(fd: &OwnedFd, rows: u16, cols: u16) {
    let ws = nix::pty::Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one winsize.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
}

/// Spawns `cmd` on a new terminal of `rows`×`cols`; returns it and the terminal's master
/// (non-blocking).
pub fn spawn(mut cmd: Command, rows: u16, cols: u16) -> (Child, std::fs::File) {
    let pty = nix::pty::openpty(None, None).unwrap();
    set_size(&pty.master, rows, cols);
    let slave = pty.slave;
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    let fd = slave.as_raw_fd();
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::ioctl(fd, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(cmd); // it holds copies of the slave: the master sees the end only when all are closed
    drop(slave);
    nix::fcntl::fcntl(&pty.master, nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK)).unwrap();
    (child, std::fs::File::from(pty.master))
}

/// Reads from the terminal until `want` shows up in `seen`.
pub fn expect(master: &mut std::fs::File, seen: &mut String, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut buf = [0u8; 4096];
    while !seen.contains(want) {
        assert!(Instant::now() < deadline, "timed out waiting for {want:?} in {seen:?}");
        match master.read(&mut buf) {
            Ok(0) => panic!("the terminal closed before {want:?}: {seen:?}"),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("reading the terminal: {e} after {seen:?}"),
        }
    }
}

/// Waits for the command to end, draining its terminal; its exit code.
pub fn exit_code(child: &mut Child, master: &mut std::fs::File) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "the command did not end");
        let _ = master.read(&mut [0u8; 4096]);
        std::thread::sleep(Duration::from_millis(20));
    }
}
