//! Container verbs on `Engine`: create, start (through a monitor), stop, kill, remove, wait,
//! list and inspect, with state reconciled against the processes that really exist.
//!
//! One file per verb; what they share (lookups, reconciliation, locks) is here.

mod create;
mod mount;
mod pause;
mod remove;
mod rename;
mod start;
mod stop;
mod wait;

pub(crate) use mount::refuse_rootless;
pub use stop::Stopped;

use nix::sys::signal::Signal;
use rand::RngExt;

use crate::container::{self, ContainerBrief, ContainerPaths, ContainerRecord, Status};
use crate::monitor::{EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_START_FAILED};
use crate::runtime::{self, RuntimeError};
use crate::{network, Engine, Error, Result};

/// Why the monitor could not start a container's process.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("{0}")]
    Prepare(String),
    /// A published host port is taken: the command cannot be invoked (126, as Podman).
    #[error(transparent)]
    PortInUse(#[from] crate::network::ports::PortInUse),
}

impl LaunchError {
    pub fn exit_code(&self) -> i32 {
        match self {
            LaunchError::Runtime(RuntimeError::NotFound { .. }) => EXIT_NOT_FOUND,
            LaunchError::Runtime(RuntimeError::NotExecutable { .. } | RuntimeError::NoWorkdir { .. })
            | LaunchError::PortInUse(_) => EXIT_NOT_EXECUTABLE,
            _ => EXIT_START_FAILED,
        }
    }
}

fn valid_name(name: &str) -> bool {
    crate::container::names::valid(name)
}

pub(crate) fn new_id() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// A signal for `kill`, as Podman takes it: a name (`TERM`, `SIGTERM`, `-TERM`) or a number
/// from 1 to 64, real-time signals included. Errors are Podman's words.
pub fn parse_kill_signal(s: &str) -> std::result::Result<i32, String> {
    let t = s.trim().strip_prefix('-').unwrap_or(s.trim());
    if let Ok(n) = t.parse::<i64>() {
        return match n {
            1..=64 => Ok(n as i32),
            0 => Err(format!("invalid signal: {t}")),
            _ => Err("valid signals are 1 through 64".into()),
        };
    }
    parse_signal(t).map(|sig| sig as i32).ok_or_else(|| format!("invalid signal: {t}"))
}

fn parse_signal(s: &str) -> Option<Signal> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    name.parse().ok()
}

impl Engine {
    /// Deletes a container's row and releases its network address, in one transaction.
    fn delete_record(&self, id: &str) -> Result<bool> {
        let state = self.state();
        let tx = state.conn().unchecked_transaction()?;
        let deleted = container::delete(&tx, id)?;
        network::release(&tx, id)?;
        tx.commit()?;
        Ok(deleted)
    }

    /// Finds a container by name or id, with its state reconciled.
    pub fn container(&self, query: &str) -> Result<ContainerRecord> {
        let c = container::find(self.state().conn(), query)?;
        self.reconcile(c)
    }

    /// Every container, with state reconciled.
    pub fn containers(&self) -> Result<Vec<ContainerRecord>> {
        let list = container::list(self.state().conn())?;
        self.reconcile_all(list)
    }

    /// Every container, state reconciled, with only the options a list shows (ports, pod,
    /// network, healthcheck, labels): `ps`'s table at 10 000 containers.
    pub fn containers_brief(&self) -> Result<Vec<ContainerBrief>> {
        let mut list = container::list_brief(self.state().conn())?;
        for c in list.iter_mut().filter(|c| c.is_running()) {
            let settled =
                matches!(c.status, Status::Running | Status::Paused) && container::process_alive(c.pid, c.pid_start);
            if !settled {
                // the rare one to fix: through the full record, as [`Engine::reconcile`] writes it
                // (read in a statement of its own: the state's lock is let go before reconcile
                // takes it again)
                let full = container::get(self.state().conn(), &c.id)?;
                if let Some(full) = full {
                    *c = self.reconcile(full)?.into_brief();
                }
            }
        }
        Ok(list)
    }

    /// [`Engine::reconcile`] of each record that says it runs, in place: the others need no
    /// check, and moving 10 000 records through a new Vec is time `ps` shows.
    fn reconcile_all(&self, mut list: Vec<ContainerRecord>) -> Result<Vec<ContainerRecord>> {
        for c in list.iter_mut().filter(|c| c.is_running()) {
            *c = self.reconcile(c.clone())?;
        }
        Ok(list)
    }

    /// A container recorded as running whose process and monitor are gone (a reboot, a killed
    /// monitor) has exited: record it so, instead of showing it running forever.
    fn reconcile(&self, c: ContainerRecord) -> Result<ContainerRecord> {
        if c.status == Status::Stopping && container::process_alive(c.pid, c.pid_start) {
            // Nobody holds the stop lock: the stop was interrupted, and it still runs.
            if let Ok(_free) = self.stop_lock(&c.id, false) {
                container::set_status(self.state().conn(), &c.id, Status::Running)?;
                return Ok(container::get(self.state().conn(), &c.id)?.unwrap_or(c));
            }
        }
        if !c.is_running() || container::process_alive(c.pid, c.pid_start) {
            return Ok(c);
        }
        let monitor_alive = c.monitor_pid.is_some_and(|p| container::process_start_time(p).is_some());
        if monitor_alive {
            return Ok(c); // it is recording the exit right now
        }
        // The row was read before the monitor was found gone: it may have recorded the exit
        // and ended in between. Only a row that still says running is the monitor's to fix.
        let c = match container::get(self.state().conn(), &c.id)? {
            Some(now) if now.is_running() && now.monitor_pid == c.monitor_pid => now,
            Some(now) => return Ok(now),
            None => return Ok(c),
        };
        // It wrote the exit file and died before the row: the code is known after all.
        let code = std::fs::read_to_string(self.exit_file(&c.id)).ok().and_then(|s| s.trim().parse::<i32>().ok());
        if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), &c.id) {
            let _ = cg.delete();
        }
        // What the monitor would have taken down: NAT rules, the host end of the veth.
        let _ = self.detach_network(&c);
        let (code, error) = match code {
            Some(code) => (code, None),
            None => (255, Some("the container's monitor died; exit status unknown")),
        };
        container::set_exited(self.state().conn(), &c.id, code, error)?;
        self.events().container("died", &c, [("containerExitCode".to_string(), code.to_string())]);
        Ok(container::get(self.state().conn(), &c.id)?.unwrap_or(c))
    }

    fn start_lock(&self, id: &str) -> Result<nix::fcntl::Flock<std::fs::File>> {
        self.lock_file(id, "", nix::fcntl::FlockArg::LockExclusive)
    }

    /// Held by whoever is stopping the container: a container left "stopping" by a stop that
    /// was interrupted is found out by the missing lock.
    fn stop_lock(&self, id: &str, wait: bool) -> Result<nix::fcntl::Flock<std::fs::File>> {
        let arg = if wait { nix::fcntl::FlockArg::LockExclusive } else { nix::fcntl::FlockArg::LockExclusiveNonblock };
        self.lock_file(id, ".stop", arg)
    }

    fn lock_file(&self, id: &str, suffix: &str, arg: nix::fcntl::FlockArg) -> Result<nix::fcntl::Flock<std::fs::File>> {
        let dir = self.config().run_root.join("locks");
        let path = dir.join(format!("{id}{suffix}"));
        let io = |source| Error::Io { path: path.clone(), source };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        nix::fcntl::Flock::lock(file, arg).map_err(|(_, e)| Error::Io { path: path.clone(), source: e.into() })
    }

    pub fn container_paths(&self, id: &str) -> ContainerPaths {
        ContainerPaths::new(&self.config().root, id)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signals_by_name_or_number() {
        use nix::sys::signal::Signal;
        assert_eq!(super::parse_signal("SIGQUIT"), Some(Signal::SIGQUIT));
        assert_eq!(super::parse_signal("term"), Some(Signal::SIGTERM));
        assert_eq!(super::parse_signal("9"), Some(Signal::SIGKILL));
        assert_eq!(super::parse_signal("NOPE"), None);
        assert_eq!(super::parse_kill_signal("64"), Ok(64));
        assert_eq!(super::parse_kill_signal("-TERM"), Ok(15));
        assert_eq!(super::parse_kill_signal("0"), Err("invalid signal: 0".to_string()));
        assert_eq!(super::parse_kill_signal("SIG"), Err("invalid signal: SIG".to_string()));
        assert_eq!(super::parse_kill_signal("65"), Err("valid signals are 1 through 64".to_string()));
        assert_eq!(super::parse_kill_signal("99999999"), Err("valid signals are 1 through 64".to_string()));
    }

    #[test]
    fn names_follow_podmans_rule() {
        assert!(super::valid_name("web-1.a_b"));
        assert!(!super::valid_name("-web"));
        assert!(!super::valid_name("a b"));
        assert!(!super::valid_name(""));
    }
}
