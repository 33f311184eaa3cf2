//! `stop` and `kill`: the stop signal, then SIGKILL after the timeout; recorded before the
//! signal, so a restart policy never undoes it.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::*;
use crate::container::{self, ContainerRecord, Status};
use crate::runtime;
use crate::{image, Engine, Error, Result};

/// What a stop did: the container as it is now (as it was, when `removed`), and a warning when
/// the stop signal did not end it within the timeout and SIGKILL did.
#[derive(Debug)]
pub struct Stopped {
    pub container: ContainerRecord,
    pub warning: Option<String>,
    /// A `--rm` container, removed as it stopped.
    pub removed: bool,
}

impl Engine {
    /// `berth stop`: the image's stop signal (SIGTERM by default), then SIGKILL after `timeout`.
    /// A `--rm` container is removed as it stops: the answer is then "not found".
    pub fn stop_container(&self, query: &str, timeout: Duration) -> Result<ContainerRecord> {
        let stopped = self.stop_container_reporting(query, Some(timeout))?;
        if stopped.removed {
            return Err(container::LookupError::NotFound(stopped.container.id).into());
        }
        Ok(stopped.container)
    }

    /// [`Engine::stop_container`], telling whether the stop signal was not enough; `None` waits
    /// the container's own stop timeout (`--stop-timeout`, 10 seconds unless set).
    pub fn stop_container_reporting(&self, query: &str, timeout: Option<Duration>) -> Result<Stopped> {
        let c = self.container(query)?;
        // Before anything else: its restart policy must not bring it back (nor a pending restart).
        container::set_stopped_by_user(self.state().conn(), &c.id)?;
        if !c.is_running() {
            return Ok(Stopped { container: c, warning: None, removed: false });
        }
        let timeout = timeout.unwrap_or(Duration::from_secs(c.options.stop_timeout()));
        self.thaw(&c)?;
        let signal = self.stop_signal(&c);
        let _stopping = self.stop_lock(&c.id, true)?;
        container::set_status(self.state().conn(), &c.id, Status::Stopping)?;
        if let Some(pid) = c.pid {
            // raw, as nix's Signal has no real-time signals
            // SAFETY: kill(2) takes any pid and signal number; it touches no memory of ours.
            let _ = unsafe { nix::libc::kill(pid, signal) };
        }
        let mut warning = None;
        if !self.wait_gone(&c, timeout) {
            if timeout > Duration::ZERO {
                // Podman's words
                warning = Some(format!(
                    "StopSignal {} failed to stop container {} in {} seconds, resorting to SIGKILL",
                    Signal::try_from(signal).map_or_else(|_| signal.to_string(), |s| s.as_str().to_string()),
                    c.name,
                    timeout.as_secs()
                ));
            }
            if let Some(pid) = c.pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), &c.id) {
                let _ = cg.kill_all(Signal::SIGKILL);
            }
        }
        match self.wait_exited(&c.id) {
            Ok(now) => Ok(Stopped { container: now, warning, removed: false }),
            // a --rm container is removed as it stops
            Err(Error::ContainerLookup(container::LookupError::NotFound(_))) => {
                Ok(Stopped { container: c, warning, removed: true })
            }
            Err(e) => Err(e),
        }
    }

    /// The signal a stop sends first, as a number: `--stop-signal`, else the image's, else
    /// SIGTERM.
    pub(crate) fn stop_signal(&self, c: &ContainerRecord) -> i32 {
        if let Some(signo) = c.options.stop_signal {
            return signo;
        }
        image::get(self.state().conn(), &c.image_id)
            .ok()
            .flatten()
            .and_then(|i| i.config())
            .and_then(|cfg| cfg.config().as_ref().and_then(|c| c.stop_signal().clone()))
            .and_then(|s| parse_kill_signal(&s).ok())
            .unwrap_or(Signal::SIGTERM as i32)
    }

    pub(super) fn wait_gone(&self, c: &ContainerRecord, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if !container::process_alive(c.pid, c.pid_start) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the monitor recorded the exit (it reaps the process right away).
    pub(super) fn wait_exited(&self, id: &str) -> Result<ContainerRecord> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let c = match container::get(self.state().conn(), id)? {
                Some(c) => c,
                None => return Err(container::LookupError::NotFound(id.into()).into()), // --rm removed it
            };
            let c = self.reconcile(c)?;
            if !c.is_running() || Instant::now() >= deadline {
                return Ok(c);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `berth kill`: a signal to the container's init.
    pub fn kill_container(&self, query: &str, signal: &str) -> Result<ContainerRecord> {
        // the signal first: a bad one is refused whatever the container
        let signo = super::parse_kill_signal(signal).map_err(Error::Invalid)?;
        let c = self.container(query)?;
        let sig = Signal::try_from(signo).ok();
        if !c.is_running() {
            return Err(Error::StateImproper(format!(
                "can only kill running containers. {} is in state {}: container state improper",
                c.short_id(),
                c.status.as_str()
            )));
        }
        if matches!(sig, Some(Signal::SIGKILL | Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT)) {
            // Killed by the user: its restart policy must not bring it back.
            container::set_stopped_by_user(self.state().conn(), &c.id)?;
        }
        if sig == Some(Signal::SIGKILL) {
            self.thaw(&c)?; // a frozen process dies only once thawed
        }
        if let Some(pid) = c.pid {
            // raw, as nix's Signal has no real-time signals
            // SAFETY: kill(2) takes any pid and signal number; it touches no memory of ours.
            if unsafe { nix::libc::kill(pid, signo) } != 0 {
                let e = nix::errno::Errno::last();
                return Err(Error::Invalid(format!("sending signal {signo} to {}: {e}", c.name)));
            }
        }
        Ok(c)
    }
}
