//! `rm` and `container prune`: everything a container had (writable layer, log, cgroup, volumes
//! of its own, address, record) removed.

use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::container::{self, ContainerPaths, ContainerRecord};
use crate::runtime;
use crate::{network, Engine, Error, Result};

impl Engine {
    /// `berth rm`: removes a stopped container and everything it had (writable layer, log,
    /// cgroup, state); `force` stops a running one first.
    pub fn remove_container(&self, query: &str, force: bool) -> Result<ContainerRecord> {
        let c = self.container(query)?;
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
        // A `berth mount` of it goes first: its files are about to go.
        self.release_container_mount(&c.id)?;
        self.release_image_mounts(&c)?;
        let address = network::address_of(self.state().conn(), &c.id)?;
        if !self.delete_record(&c.id)? {
            return Ok(c); // removed meanwhile (by its own --rm)
        }
        if let Some(a) = address {
            self.refresh_network_hosts(&a.network);
        }
        // Anonymous volumes belong to their container and go with it.
        for m in &c.options.mounts {
            if let crate::volume::MountRequest::Volume { name, anonymous: true, .. } = m {
                let _ = self.remove_volume(name, false);
            }
        }
        // A --rm container's exit file stays for whoever waits on it (it is in the run root,
        // gone at reboot); anyone else's goes with the container.
        if !c.options.remove {
            let _ = std::fs::remove_file(self.exit_file(&c.id));
        }
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

    /// `berth container prune`: removes every container that is not running.
    pub fn prune_containers(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for c in self.containers()? {
            if !c.is_running() && self.remove_container(&c.id, false).is_ok() {
                removed.push(c.id);
            }
        }
        Ok(removed)
    }
}
