//! Terminal sessions: a shell in a running container on a pseudo-terminal, for the UI's
//! xterm.js. The engine's exec helper (`__berth-exec`, a re-exec of this binary that joins the
//! container) starts the shell on a terminal made in the container's own devpts and hands us
//! its master side (`Engine::exec_tty`).
//!
//! A thread per session reads the output and sends it as base64, then `{exited: code}` once
//! the shell is gone. Input, window sizes and close come by session id. Closing hangs the
//! terminal up (the shell gets SIGHUP, as when a terminal window closes) and kills the helper
//! if it has not exited a moment later.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use berth_engine::exec::ExecOptions;
use berth_engine::Engine;
use nix::poll::{PollFd, PollFlags};
use nix::pty::Winsize;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::channel::Sink;
use crate::dto::{ApiError, TerminalOutput};

/// How long a closed session's helper has to exit after the hang-up before it is killed.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How often the output thread looks up from a quiet terminal to see whether it was closed.
const WAKE: u16 = 100;

nix::ioctl_write_ptr_bad!(set_window_size, nix::libc::TIOCSWINSZ, Winsize);

struct Session {
    /// The terminal's master side, for input and window sizes; None once hung up.
    master: Mutex<Option<File>>,
    helper: Pid,
    closing: AtomicBool,
}

/// The open sessions, by id.
#[derive(Clone, Default)]
pub struct Terminals {
    sessions: Arc<Mutex<HashMap<String, Arc<Session>>>>,
}

fn resize(master: &impl AsRawFd, cols: u16, rows: u16) -> std::io::Result<()> {
    let ws = Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer, which outlives the call.
    unsafe { set_window_size(master.as_raw_fd(), &ws) }?;
    Ok(())
}

/// The shell to run in the container whose init is `pid`: bash when it has one.
pub fn shell_for(pid: i32) -> &'static str {
    // Looked up through the container's root: a link there means the container's file.
    if berth_engine::container::in_root::is_executable(pid, "/bin/bash") {
        "/bin/bash"
    } else {
        "/bin/sh"
    }
}

fn check_size(cols: u16, rows: u16) -> Result<(), ApiError> {
    if cols == 0 || rows == 0 {
        return Err(ApiError::invalid(format!("terminal size {cols}x{rows}: columns and rows must be at least 1")));
    }
    Ok(())
}

impl Terminals {
    /// Starts a shell in running container `query` on a `cols` x `rows` terminal whose output
    /// goes to `sink`; returns the session's id.
    pub fn open(
        &self,
        engine: &Engine,
        query: &str,
        cols: u16,
        rows: u16,
        sink: impl Sink<TerminalOutput>,
    ) -> Result<String, ApiError> {
        check_size(cols, rows)?;
        let c = engine.container(query)?;
        let pid = c.pid.filter(|_| c.is_running()).ok_or_else(|| {
            ApiError::conflict(format!(
                "container {} is {}: start it to open a terminal in it",
                c.name,
                c.status.as_str()
            ))
        })?;
        let opts = ExecOptions {
            command: vec![shell_for(pid).to_string()],
            env: vec!["TERM=xterm-256color".into()],
            tty: true,
            ..Default::default()
        };
        let (mut child, master) = engine.exec_tty(&c.id, &opts)?;
        // Its errors were for the start, which went well.
        drop(child.stderr.take());
        let failed = |e: std::io::Error| ApiError::engine(format!("opening a terminal in container {}: {e}", c.name));
        if let Err(e) = resize(&master, cols, rows) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed(e));
        }
        let reader = File::from(master.try_clone().map_err(failed)?);
        let session = Arc::new(Session {
            master: Mutex::new(Some(File::from(master))),
            helper: Pid::from_raw(child.id() as i32),
            closing: AtomicBool::new(false),
        });
        let key = crate::id::new_id();
        self.lock().insert(key.clone(), session.clone());
        let sessions = self.clone();
        let k = key.clone();
        std::thread::Builder::new()
            .name(format!("terminal-{}", &c.id[..12]))
            .spawn(move || {
                let code = relay(reader, child, &session, &sink, || {
                    sessions.lock().remove(&k);
                });
                let _ = sink.send(TerminalOutput::Exited { exited: code });
            })
            .map_err(failed)?;
        Ok(key)
    }

    /// Types `data` into the session's terminal.
    pub fn input(&self, key: &str, data: &[u8]) -> Result<(), ApiError> {
        let s = self.get(key)?;
        let mut master = s.master.lock().unwrap_or_else(|e| e.into_inner());
        let master = master.as_mut().ok_or_else(|| gone(key))?;
        master.write_all(data).map_err(|e| ApiError::engine(format!("writing to terminal session {key}: {e}")))
    }

    /// Gives the session's terminal a new size (the shell gets SIGWINCH).
    pub fn resize(&self, key: &str, cols: u16, rows: u16) -> Result<(), ApiError> {
        check_size(cols, rows)?;
        let s = self.get(key)?;
        let master = s.master.lock().unwrap_or_else(|e| e.into_inner());
        let master = master.as_ref().ok_or_else(|| gone(key))?;
        resize(master, cols, rows).map_err(|e| ApiError::engine(format!("resizing terminal session {key}: {e}")))
    }

    /// Ends a session: hangs up its terminal, then kills its helper if it lingers. Closing one
    /// that already ended is not an error.
    pub fn close(&self, key: &str) {
        if let Some(s) = self.lock().get(key) {
            s.closing.store(true, Ordering::SeqCst);
            // The helper passes it on to the shell.
            let _ = kill(s.helper, Signal::SIGHUP);
        }
    }

    /// How many sessions are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, key: &str) -> Result<Arc<Session>, ApiError> {
        self.lock().get(key).cloned().ok_or_else(|| gone(key))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn gone(key: &str) -> ApiError {
    ApiError::not_found(format!("no terminal session {key:?}: it was closed or its shell exited"))
}

/// Sends the terminal's output until the shell is gone or the session is closed; returns the
/// exit code. `forget` removes the session from the open ones.
fn relay(
    mut reader: File,
    mut child: Child,
    session: &Session,
    sink: &impl Sink<TerminalOutput>,
    forget: impl FnOnce(),
) -> i32 {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if session.closing.load(Ordering::SeqCst) {
            break;
        }
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, WAKE) {
            Ok(0) => {
                if !sink.listening() {
                    break;
                }
                continue;
            }
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
        // EIO once every holder of the other end closed it: the shell and its helper exited.
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let data = base64::engine::general_purpose::STANDARD.encode(&buf[..n]);
                if !sink.send(TerminalOutput::Data { data }) {
                    break;
                }
            }
        }
    }
    // Every copy of the master side closed hangs the terminal up: a shell still running gets
    // SIGHUP from the kernel, and from its helper, and a moment to go.
    session.master.lock().unwrap_or_else(|e| e.into_inner()).take();
    forget();
    drop(reader);
    if matches!(child.try_wait(), Ok(None)) {
        let _ = kill(session.helper, Signal::SIGHUP);
    }
    let deadline = Instant::now() + CLOSE_GRACE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                break child.wait().ok();
            }
            Err(_) => break None,
        }
    };
    status.map_or(255, |s| {
        use std::os::unix::process::ExitStatusExt;
        s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_when_the_root_has_it() {
        // This process's root is the host's: its shell tells which to expect.
        let expected = if std::path::Path::new("/bin/bash").exists() { "/bin/bash" } else { "/bin/sh" };
        assert_eq!(shell_for(std::process::id() as i32), expected);
        assert_eq!(shell_for(-1), "/bin/sh", "no such process");
    }

    #[test]
    fn terminal_sizes_are_at_least_one_by_one() {
        assert!(check_size(1, 1).is_ok());
        let e = check_size(80, 0).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid", "terminal size 80x0: columns and rows must be at least 1")
        );
    }

    #[test]
    fn resizing_sets_the_terminal_size() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let mut ws = Winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        nix::ioctl_read_bad!(get_window_size, nix::libc::TIOCGWINSZ, Winsize);
        for (cols, rows) in [(132, 43), (80, 24)] {
            resize(&pty.master, cols, rows).unwrap();
            // SAFETY: TIOCGWINSZ writes one winsize into the pointer.
            unsafe { get_window_size(pty.slave.as_raw_fd(), &mut ws) }.unwrap();
            assert_eq!((ws.ws_col, ws.ws_row), (cols, rows));
        }
    }
}
