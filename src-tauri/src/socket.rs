//! The Docker-compatible socket from the settings: `berth system service` run by the app as a
//! process of its own (detached, so it keeps serving after the window closes, like the
//! containers), found again by the pid file next to its socket. The file holds the pid and the
//! process's start time; a stop signals that pid only while it is still that process, running
//! Berth's `system service` on this socket: a stale file (the service died, its pid reused) is
//! removed, never followed to a stranger.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth_engine::EngineConfig;

use crate::dto::{ApiError, SocketSetting};

/// The socket: in the run root, where `berth system service` puts it by default.
pub fn path(config: &EngineConfig) -> PathBuf {
    config.run_root.join("berth.sock")
}

fn pid_file(socket: &Path) -> PathBuf {
    socket.with_extension("pid")
}

/// Whether something serves the socket now.
pub fn serving(socket: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

pub fn setting(config: &EngineConfig) -> SocketSetting {
    let p = path(config);
    SocketSetting { enabled: serving(&p), path: p.display().to_string() }
}

/// The `berth` command: beside this binary, else on PATH.
pub(crate) fn berth_binary() -> Option<PathBuf> {
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("berth")));
    beside.filter(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join("berth")).find(|p| p.is_file())
    })
}

/// Starts or stops the service; returns the setting as it is afterwards.
pub fn set(config: &EngineConfig, enabled: bool) -> Result<SocketSetting, ApiError> {
    let socket = path(config);
    if enabled == serving(&socket) {
        return Ok(setting(config));
    }
    if enabled {
        let berth = berth_binary().ok_or_else(|| {
            ApiError::new("unsupported", "the `berth` command is not installed: run scripts/app, or put berth on PATH")
        })?;
        let mut cmd = std::process::Command::new(&berth);
        cmd.arg("--root")
            .arg(&config.root)
            .arg("--runroot")
            .arg(&config.run_root)
            .args(["system", "service", "--timeout", "0", "--socket"])
            .arg(&socket)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: setsid in the child before exec is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| ApiError::engine(format!("starting {}: {e}", berth.display())))?;
        let pid = child.id() as i32;
        let started = berth_engine::container::process_start_time(pid).map(|t| format!(" {t}")).unwrap_or_default();
        let _ = std::fs::write(pid_file(&socket), format!("{pid}{started}\n"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !serving(&socket) {
            if Instant::now() > deadline {
                return Err(ApiError::engine(format!("the service did not start listening on {}", socket.display())));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        let file = pid_file(&socket);
        let recorded = std::fs::read_to_string(&file).ok().and_then(|text| Recorded::parse(&text));
        let not_ours = |why: String| {
            ApiError::new(
                "conflict",
                format!(
                    "{why}{} is served by a process this app did not start: stop that `berth system service`",
                    socket.display()
                ),
            )
        };
        let Some(recorded) = recorded else {
            return Err(not_ours(String::new()));
        };
        if let Err(what) = recorded.is_service_of(&socket) {
            let _ = std::fs::remove_file(&file);
            return Err(not_ours(format!(
                "{} named process {}, which is not the service this app started ({what}): removed that stale file; ",
                file.display(),
                recorded.pid
            )));
        }
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(recorded.pid), nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while serving(&socket) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(pid_file(&socket));
    }
    Ok(setting(config))
}

/// What the pid file says: the service's pid and its start time (clock ticks after boot, as in
/// /proc/PID/stat; absent in files written before it was recorded).
#[derive(Debug, PartialEq)]
struct Recorded {
    pid: i32,
    started: Option<u64>,
}

impl Recorded {
    fn parse(text: &str) -> Option<Recorded> {
        let mut words = text.split_whitespace();
        let pid = words.next()?.parse().ok().filter(|p| *p > 0)?;
        let started = match words.next() {
            Some(w) => Some(w.parse().ok()?),
            None => None,
        };
        Some(Recorded { pid, started })
    }

    /// Ok while the pid is still the process recorded and runs `berth … system service … --socket
    /// SOCKET`; else what it is instead.
    fn is_service_of(&self, socket: &Path) -> Result<(), String> {
        let pid = self.pid;
        let Some(started) = berth_engine::container::process_start_time(pid) else {
            return Err("it is gone".into());
        };
        if self.started.is_some_and(|s| s != started) {
            return Err("that pid is now another process".into());
        }
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).map_err(|e| format!("its program is unknown: {e}"))?;
        let cmdline =
            std::fs::read(format!("/proc/{pid}/cmdline")).map_err(|e| format!("its command is unknown: {e}"))?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let name = exe.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // A rebuilt or upgraded binary shows as "berth (deleted)" while the old one runs.
        if name.strip_suffix(" (deleted)").unwrap_or(&name) != "berth" {
            return Err(format!("it runs {}", exe.display()));
        }
        let has = |pair: [&[u8]; 2]| args.windows(2).any(|w| w == pair);
        let socket = socket.as_os_str().as_encoded_bytes();
        if !has([b"system", b"service"]) || !has([b"--socket", socket]) {
            let shown: Vec<String> = args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            return Err(format!("it runs `{}`", shown.join(" ").trim_end()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_file_holds_a_pid_and_maybe_a_start_time() {
        assert_eq!(Recorded::parse("42 1234\n"), Some(Recorded { pid: 42, started: Some(1234) }));
        assert_eq!(Recorded::parse("42\n"), Some(Recorded { pid: 42, started: None }));
        for bad in ["", "x", "0", "-1", "42 x"] {
            assert_eq!(Recorded::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_process_that_is_not_the_service_is_told_apart() {
        let socket = Path::new("/run/berth/berth.sock");
        let me = std::process::id() as i32;
        let started = berth_engine::container::process_start_time(me);
        let err = Recorded { pid: me, started }.is_service_of(socket).unwrap_err();
        assert!(err.starts_with("it runs /"), "{err}");
        let err = Recorded { pid: me, started: started.map(|s| s + 1) }.is_service_of(socket).unwrap_err();
        assert_eq!(err, "that pid is now another process");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id() as i32;
        child.wait().unwrap();
        assert_eq!(Recorded { pid: gone, started: None }.is_service_of(socket).unwrap_err(), "it is gone");
    }
}
