//! Healthchecks run: one check in a running container ([`Engine::run_healthcheck`], what
//! `berth healthcheck run` and the periodic checks call), and the periodic checks themselves
//! ([`HEALTH_ARG`]: a helper the container's monitor starts beside it, conmon's and systemd's
//! timer's role in Podman, so nothing outside Berth's own processes is needed).
//!
//! A check is an exec of the check's command: stdout and stderr together, the first
//! [`health::OUTPUT_MAX`] bytes kept, killed when its timeout passes. The result goes into
//! `health.json` under the container's health lock ([`health::HealthState::record`] counts it
//! as Docker does), a `health_status` event is recorded, and when the check leaves the
//! container unhealthy its `--health-on-failure` action (kill, restart, stop) is taken.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::container::health::{self, HealthResult, HealthStatus, OnFailure};
use crate::container::{self, ContainerPaths, Status};
use crate::exec::ExecOptions;
use crate::{Engine, EngineConfig, Error, Result};

pub use berth_userns::reexec::HEALTH_ARG;

/// Set by SIGTERM in the periodic helper: its container's run is over.
static TERMINATED: AtomicBool = AtomicBool::new(false);

impl Engine {
    /// Runs the container's healthcheck once and records the result; returns the container's
    /// health after it. Errors when it has no healthcheck or does not run.
    pub fn run_healthcheck(&self, query: &str) -> Result<HealthStatus> {
        let c = self.container(query)?;
        let Some(check) = c.options.healthcheck.clone().filter(|h| h.command().is_some()) else {
            return Err(Error::Invalid(format!("container {} has no defined healthcheck", c.id)));
        };
        if c.status != Status::Running {
            return Err(Error::StateImproper(format!(
                "container {} is not running: it is {}: start it first",
                c.name,
                c.status.as_str()
            )));
        }
        let command = check.command().unwrap_or_default();
        let start = chrono::Utc::now();
        let timeout = check.timeout();
        let opts = ExecOptions { command, kill_after_ms: Some(timeout.as_millis() as u64), ..Default::default() };
        let (exit_code, output) = match self.exec_command(&c.id, &opts) {
            Ok(cmd) => run_check(cmd, timeout),
            Err(e) => (-1, e.to_string()),
        };
        let result = HealthResult { start, end: chrono::Utc::now(), exit_code, output };
        let in_start_period =
            c.started_at.and_then(|s| (start - s).to_std().ok()).is_some_and(|since| since < check.start_period());
        let dir = ContainerPaths::new(&self.config().root, &c.id).dir;
        let status = {
            let _lock = health::lock(&dir).map_err(|source| Error::Io { path: dir.join("health.lock"), source })?;
            let mut state = health::read(&dir).unwrap_or_else(health::HealthState::starting);
            state.record(result, check.retries(), in_start_period);
            health::write(&dir, &state).map_err(|source| Error::Io { path: health::state_path(&dir), source })?;
            state.status
        };
        self.events().container("health_status", &c, [("health_status".to_string(), status.as_str().to_string())]);
        if status == HealthStatus::Unhealthy {
            self.on_unhealthy(&c.id, c.options.health_on_failure)?;
        }
        Ok(status)
    }

    /// The container's health as its checks left it: `None` when it has no healthcheck.
    pub fn health<O: container::Listed>(&self, c: &container::ContainerRecord<O>) -> Option<health::HealthState> {
        c.options.healthcheck()?;
        let dir = ContainerPaths::new(&self.config().root, &c.id).dir;
        Some(health::read(&dir).unwrap_or_else(health::HealthState::starting))
    }

    /// The health of a running container with a healthcheck (what `ps` shows after `Up`).
    pub fn health_status<O: container::Listed>(&self, c: &container::ContainerRecord<O>) -> Option<HealthStatus> {
        if !c.is_running() {
            return None;
        }
        self.health(c).map(|h| h.status)
    }

    /// `--health-on-failure`: done before the check that found it unhealthy returns, so that
    /// whoever ran it sees the container as the action left it.
    fn on_unhealthy(&self, id: &str, action: OnFailure) -> Result<()> {
        match action {
            OnFailure::None => Ok(()),
            OnFailure::Kill => {
                self.kill_container(id, "KILL")?;
                self.wait_container(id).map(drop)
            }
            OnFailure::Stop => self.stop_container_reporting(id, None).map(drop),
            OnFailure::Restart => {
                self.stop_container_reporting(id, None)?;
                self.start_container(id).map(drop)
            }
        }
    }
}

/// Runs one check's exec helper: its exit code and output (stdout and stderr in the order
/// written, the last newline dropped), or -1 and why when it ran out of time (the helper
/// kills it then: `kill_after_ms`).
fn run_check(mut cmd: std::process::Command, timeout: Duration) -> (i32, String) {
    let (mut reader, writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return (-1, format!("creating a pipe for the check's output: {e}")),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return (-1, format!("creating a pipe for the check's output: {e}")),
    };
    cmd.stdin(std::process::Stdio::null()).stdout(writer).stderr(writer2).process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (-1, format!("starting the check: {e}")),
    };
    drop(cmd); // our copies of the pipe's writing end: the reader ends when the check does
    let collector = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = health::OUTPUT_MAX.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        kept
    });
    let began = Instant::now();
    // the helper kills the check at its timeout; this is for a helper that hangs itself
    let deadline = began + timeout + Duration::from_secs(5);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline || TERMINATED.load(Ordering::Relaxed) => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let timed_out = || (-1, format!("Health check exceeded timeout of {}", humantime(timeout)));
    let Some(status) = status else {
        let _ =
            nix::sys::signal::killpg(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        drop(collector);
        return timed_out();
    };
    if status.code() == Some(137) && began.elapsed() >= timeout {
        return timed_out();
    }
    let output = collector.join().unwrap_or_default();
    let mut output = String::from_utf8_lossy(&output).into_owned();
    if output.ends_with('\n') {
        output.pop();
    }
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    (code, output)
}

fn humantime(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The periodic checks (`__berth-health --root DIR --run-root DIR --id ID --pid PID`): every
/// interval while the container's run that started it (its init `PID`) goes on. Its monitor
/// ends it with SIGTERM when that run ends.
pub(crate) fn helper_main(args: &[String]) -> i32 {
    let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let (Some(root), Some(run_root), Some(id), Some(pid)) =
        (get("--root"), get("--run-root"), get("--id"), get("--pid").and_then(|p| p.parse::<i32>().ok()))
    else {
        eprintln!("{HEALTH_ARG}: usage: --root DIR --run-root DIR --id ID --pid PID");
        return 2;
    };
    extern "C" fn on_term(_: nix::libc::c_int) {
        TERMINATED.store(true, Ordering::Relaxed);
    }
    let action = nix::sys::signal::SigAction::new(
        nix::sys::signal::SigHandler::Handler(on_term),
        nix::sys::signal::SaFlags::empty(),
        nix::sys::signal::SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    let _ = unsafe { nix::sys::signal::sigaction(nix::sys::signal::Signal::SIGTERM, &action) };
    let engine = match EngineConfig::new(root.into(), run_root.into()).and_then(Engine::open) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{HEALTH_ARG}: {e}");
            return 1;
        }
    };
    let this_run = |engine: &Engine| -> Option<container::ContainerRecord> {
        container::get(engine.state().conn(), &id).ok().flatten().filter(|c| c.pid == Some(pid) && c.is_running())
    };
    let Some(interval) = this_run(&engine).and_then(|c| c.options.healthcheck.as_ref().and_then(|h| h.interval()))
    else {
        return 0;
    };
    loop {
        let next = Instant::now() + interval;
        while Instant::now() < next {
            if TERMINATED.load(Ordering::Relaxed) {
                return 0;
            }
            std::thread::sleep((next - Instant::now()).min(Duration::from_millis(100)));
        }
        let Some(c) = this_run(&engine) else { return 0 };
        if c.status == Status::Paused {
            continue; // Docker's and Podman's checks wait while it is paused
        }
        if let Err(e) = engine.run_healthcheck(&id) {
            if this_run(&engine).is_none() {
                return 0;
            }
            eprintln!("{} healthcheck: {e}", chrono::Utc::now().to_rfc3339());
        }
    }
}
