//! `pause` and `unpause`, through the container's cgroup freezer.

use crate::container::{self, ContainerRecord, Status};
use crate::runtime;
use crate::{Engine, Error, Result};

impl Engine {
    /// `berth pause`: freezes every process of the container (the cgroup freezer).
    pub fn pause_container(&self, query: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if c.status != Status::Running {
            return Err(Error::StateImproper(format!(
                "\"{}\" is not running, can't pause it: container state improper",
                c.name
            )));
        }
        let cg = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), &c.id).map_err(|e| {
            match crate::rootless::limits_warning() {
                Some(_) => Error::Invalid(format!(
                    "pausing {}: pausing needs the container's cgroup (its freezer), and rootless containers get none on this host: that takes cgroup v2 with a delegated user cgroup",
                    c.name
                )),
                None => Error::Invalid(format!("pausing {}: {e}", c.name)),
            }
        })?;
        cg.freeze().map_err(|e| Error::Invalid(format!("pausing {}: {e}", c.name)))?;
        container::set_status(self.state().conn(), &c.id, Status::Paused)?;
        self.events().container("pause", &c, []);
        self.container(&c.id)
    }

    /// `berth unpause`: thaws a paused container.
    pub fn unpause_container(&self, query: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if c.status != Status::Paused {
            return Err(Error::StateImproper(format!(
                "\"{}\" is not paused, can't unpause: container state improper",
                c.name
            )));
        }
        self.thaw(&c)?;
        self.events().container("unpause", &c, []);
        self.container(&c.id)
    }

    /// Thaws a paused container so that signals reach it again.
    pub(super) fn thaw(&self, c: &ContainerRecord) -> Result<()> {
        if c.status == Status::Paused {
            let cg = runtime::cgroup::ContainerCgroup::load(crate::rootless::cgroup_parent(), &c.id)
                .map_err(|e| Error::Invalid(format!("unpausing {}: {e}", c.name)))?;
            cg.thaw().map_err(|e| Error::Invalid(format!("unpausing {}: {e}", c.name)))?;
            container::set_status(self.state().conn(), &c.id, Status::Running)?;
        }
        Ok(())
    }
}
