//! The caller's side of a terminal session (`exec -t`, later `run -t`): a pseudo-terminal whose
//! other end the process gets, the caller's terminal in raw mode while it runs (so Ctrl-C is a
//! byte for the process's terminal, which turns it into SIGINT there), its window size copied
//! over now and whenever it changes, and the bytes relayed both ways.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::pty::Winsize;
use nix::sys::termios::{self, SetArg, Termios};

/// The caller's terminal put back as it was when dropped.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Raw mode on stdin when it is a terminal; None otherwise.
    pub fn enable() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// The window size of the caller's terminal (stdin's, else stdout's).
pub fn window_size() -> Option<Winsize> {
    for fd in [0, 1] {
        let mut ws = Winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCGWINSZ writes one winsize into the pointer.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 {
            return Some(ws);
        }
    }
    None
}

pub fn set_window_size(fd: &OwnedFd, ws: &Winsize) {
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, ws) };
}

/// Relays the session until the process side closes the terminal: stdin to the master when
/// `interactive`, the master to stdout, and window size changes. Returns when the output ends.
pub async fn relay(master: OwnedFd, interactive: bool) -> anyhow::Result<()> {
    let master = std::sync::Arc::new(master);
    if interactive {
        let m = master.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stdin = std::io::stdin().lock();
            let mut out = std::fs::File::from(m.try_clone().expect("dup of the terminal"));
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 || out.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
    let m = master.clone();
    tokio::spawn(async move {
        let Ok(mut changes) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()) else {
            return;
        };
        while changes.recv().await.is_some() {
            if let Some(ws) = window_size() {
                set_window_size(&m, &ws);
            }
        }
    });
    let m = master.clone();
    tokio::task::spawn_blocking(move || {
        let mut input = std::fs::File::from(m.try_clone().expect("dup of the terminal"));
        let mut stdout = std::io::stdout().lock();
        let mut buf = [0u8; 16 * 1024];
        // EIO once every holder of the other end has closed it.
        while let Ok(n) = input.read(&mut buf) {
            if n == 0 || stdout.write_all(&buf[..n]).and_then(|_| stdout.flush()).is_err() {
                break;
            }
        }
    })
    .await?;
    Ok(())
}

/// How an attach session ended.
pub enum Ended {
    /// The container's output ended (it exited).
    Exited,
    /// The user typed the detach keys; the container runs on.
    Detached,
    /// Nothing came through: the container's output ended before the attach got any of it
    /// (a quick container, gone by then). Whatever it wrote is in its log.
    Missed,
}

/// Attaches to container `id` through its monitor: output to stdout/stderr, stdin to the
/// container when `stdin_open`, the terminal raw and its size followed when `tty`, and
/// Ctrl-P Ctrl-Q to detach.
/// This process's stdin to a running container's, without a terminal: the output is read from
/// the log instead (a follower opened before the start misses nothing, which an attach made
/// after it may). The socket's own copy of the output is read and dropped, so the monitor
/// never waits on it. Returns once the threads are started; they end with stdin or the
/// container.
pub fn send_stdin(run_root: &std::path::Path, id: &str) -> anyhow::Result<()> {
    use berth_engine::attach::Attached;
    let mut att = Attached::connect(run_root, id)
        .map_err(|e| anyhow::anyhow!("attaching to container {}: {e}: is it running?", &id[..12]))?;
    let mut drain = att.stream.try_clone()?;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut drain, &mut std::io::sink());
    });
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = att.close_stdin();
                    return;
                }
                Ok(n) => {
                    if att.send_input(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(())
}

pub async fn attach(run_root: &std::path::Path, id: &str, stdin_open: bool, tty: bool) -> anyhow::Result<Ended> {
    use berth_engine::attach::{self, Attached};
    use std::sync::atomic::{AtomicBool, Ordering};
    let att = Attached::connect(run_root, id)
        .map_err(|e| anyhow::anyhow!("attaching to container {}: {e}: is it running?", &id[..12]))?;
    let reader = att.stream.try_clone()?;
    let writer = std::sync::Arc::new(std::sync::Mutex::new(att));
    let detached = std::sync::Arc::new(AtomicBool::new(false));
    let raw = if tty { RawMode::enable() } else { None };
    if tty {
        if let Some(ws) = window_size() {
            let _ = writer.lock().expect("attach writer").resize(ws.ws_row, ws.ws_col);
        }
        let w = writer.clone();
        tokio::spawn(async move {
            let Ok(mut changes) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()) else {
                return;
            };
            while changes.recv().await.is_some() {
                if let Some(ws) = window_size() {
                    let _ = w.lock().expect("attach writer").resize(ws.ws_row, ws.ws_col);
                }
            }
        });
    }
    if stdin_open {
        let w = writer.clone();
        let d = detached.clone();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 4096];
            let mut pending = Vec::new();
            loop {
                let n = match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = w.lock().expect("attach writer").close_stdin();
                        return;
                    }
                    Ok(n) => n,
                };
                let (data, detach) = attach::scan_detach(&mut pending, &buf[..n], attach::DETACH_KEYS);
                let mut att = w.lock().expect("attach writer");
                if !data.is_empty() && att.send_input(&data).is_err() {
                    return;
                }
                if detach {
                    d.store(true, Ordering::SeqCst);
                    let _ = att.stream.shutdown(std::net::Shutdown::Both);
                    return;
                }
            }
        });
    }
    let received = tokio::task::spawn_blocking(move || {
        let mut stdout = std::io::stdout();
        let mut stderr = std::io::stderr();
        let mut received = 0usize;
        let _ = Attached::read_output(reader, |kind, data| {
            received += data.len();
            let _ = if kind == attach::STDERR {
                stderr.write_all(data).and_then(|_| stderr.flush())
            } else {
                stdout.write_all(data).and_then(|_| stdout.flush())
            };
        });
        received
    })
    .await?;
    drop(raw);
    Ok(if detached.load(Ordering::SeqCst) {
        Ended::Detached
    } else if received == 0 {
        Ended::Missed
    } else {
        Ended::Exited
    })
}
