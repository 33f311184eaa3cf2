//! `rm` and `container prune`: everything a container had (writable layer, log, cgroup, volumes
//! of its own, address, record) removed.

use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::container::{self, ContainerPaths, ContainerRecord};
use crate::runtime;
use crate::{network, Engine, Error, Result};

/// How long the exit code of a removed container stays readable.
const EXIT_FILE_KEPT: Duration = Duration::from_secs(600);

impl Engine {
    /// `berth rm`: removes a stopped container and everything it had (writable layer, log,
    /// cgroup, state); `force` stops a running one first.
    pub fn remove_container(&self, query: &str, force: bool) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if let Some(pod_id) = c.options.pod.as_deref().filter(|_| c.options.pod_infra) {
            let found = crate::pod::get(self.state().conn(), pod_id);
            if let Ok(Some(p)) = found {
                return Err(Error::Invalid(format!(
                    "container {} is the infra container of pod {} and cannot be removed without removing the pod (use pod rm, or rm --depend)",
                    c.id, p.id
                )));
            }
        }
        self.remove_pod_container(&c.id, force)
    }

    /// [`Engine::remove_container`] without the infra container's guard: for `pod rm` and
    /// `rm --depend`, which remove its pod too.
    pub(crate) fn remove_pod_container(&self, query: &str, force: bool) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        let dependents = self.container_dependents(&c.id)?;
        if !dependents.is_empty() {
            return Err(Error::Invalid(format!(
                "container {} has dependent containers which must be removed before it: {} (remove them, or use rm --depend)",
                c.id,
                dependents.join(", ")
            )));
        }
        if c.is_running() {
            if !force {
                return Err(Error::StateImproper(format!(
                    "cannot remove container {} as it is running - running or paused containers cannot be removed without force: container state improper",
                    c.id
                )));
            }
            container::set_stopped_by_user(self.state().conn(), &c.id)?;
            self.thaw(&c)?;
            if let Some(pid) = c.pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            self.wait_gone(&c, Duration::from_secs(10));
            // Let the monitor finish its bookkeeping (exit file, --rm) before removing.
            match self.wait_exited(&c.id) {
                Err(Error::ContainerLookup(container::LookupError::NotFound(_))) => return Ok(c),
                other => drop(other?),
            }
        }
        if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), &c.id) {
            let _ = cg.kill_all(Signal::SIGKILL);
            let _ = cg.delete();
        }
        self.release_pod_shm(&c.id);
        // A `berth mount` of it goes first: its files are about to go.
        self.release_container_mount(&c.id)?;
        self.release_image_mounts(&c)?;
        let addresses = network::addresses_of(self.state().conn(), &c.id)?;
        if !self.delete_record(&c.id)? {
            return Ok(c); // removed meanwhile (by its own --rm)
        }
        self.refresh_networks_hosts(&addresses.into_iter().map(|a| a.network).collect::<Vec<_>>());
        // Anonymous volumes belong to their container and go with it.
        for m in &c.options.mounts {
            if let crate::volume::MountRequest::Volume { name, anonymous: true, .. } = m {
                let _ = self.remove_volume(name, false);
            }
        }
        // The exit file stays for whoever waits on it (a `run` in the foreground whose
        // container an `rm -f` removes as it exits, a `wait`); those of containers removed a
        // while ago go now.
        self.sweep_exit_files();
        let _ = std::fs::remove_file(self.config().run_root.join("locks").join(&c.id));
        let _ = std::fs::remove_file(self.config().run_root.join("locks").join(format!("{}.stop", c.id)));
        let dir = ContainerPaths::new(&self.config().root, &c.id).dir;
        if let Err(e) = crate::rootless::remove_tree(&dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::Io { path: dir, source: e });
            }
        }
        self.events().container("remove", &c, []);
        Ok(c)
    }

    /// Removes the exit files of containers that were removed more than [`EXIT_FILE_KEPT`]
    /// ago (the run root is a tmpfs: a reboot empties it anyway).
    fn sweep_exit_files(&self) {
        let Ok(entries) = std::fs::read_dir(self.config().run_root.join("exits")) else { return };
        for e in entries.flatten() {
            let old = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok());
            if old.is_none_or(|age| age < EXIT_FILE_KEPT) {
                continue;
            }
            let id = e.file_name().to_string_lossy().into_owned();
            if matches!(container::get(self.state().conn(), &id), Ok(None)) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// The containers that use this one's network (`--network container:ID`), and theirs in
    /// turn: the ones to remove first, dependents of dependents before them.
    pub fn container_dependents(&self, id: &str) -> Result<Vec<String>> {
        let all = self.containers()?;
        let mut out: Vec<String> = Vec::new();
        let mut queue = vec![id.to_string()];
        while let Some(next) = queue.pop() {
            let on = format!("container:{next}");
            for c in all.iter().filter(|c| c.options.network.as_deref() == Some(on.as_str())) {
                if !out.contains(&c.id) && c.id != id {
                    out.insert(0, c.id.clone());
                    queue.push(c.id.clone());
                }
            }
        }
        Ok(out)
    }

    /// `berth container prune`: removes every container that is not running.
    pub fn prune_containers(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        let mut all = self.containers()?;
        // a container on another's network goes before that one
        all.sort_by_key(|c| !matches!(network::Mode::of(&c.options), network::Mode::Container(_)));
        for c in all {
            if !c.is_running() && self.remove_container(&c.id, false).is_ok() {
                removed.push(c.id);
            }
        }
        Ok(removed)
    }
}
