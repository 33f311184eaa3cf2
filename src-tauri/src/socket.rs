//! The Docker-compatible socket from the settings: `berth system service` run by the app as a
//! process of its own (detached, so it keeps serving after the window closes, like the
//! containers), found again by the pid file next to its socket.

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
fn berth_binary() -> Option<PathBuf> {
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
        let _ = std::fs::write(pid_file(&socket), child.id().to_string());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !serving(&socket) {
            if Instant::now() > deadline {
                return Err(ApiError::engine(format!("the service did not start listening on {}", socket.display())));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        let pid = std::fs::read_to_string(pid_file(&socket)).ok().and_then(|p| p.trim().parse::<i32>().ok());
        let Some(pid) = pid else {
            return Err(ApiError::new(
                "conflict",
                format!(
                    "{} is served by a process this app did not start: stop that `berth system service`",
                    socket.display()
                ),
            ));
        };
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while serving(&socket) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(pid_file(&socket));
    }
    Ok(setting(config))
}
