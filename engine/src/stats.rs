//! Resource usage of running containers, read from their cgroups, for front ends that show
//! live figures (the desktop app's CPU and memory columns). Usage is cumulative (CPU time);
//! rates are the caller's business, computed from two samples.

use crate::runtime::cgroup::ContainerCgroup;
use crate::runtime::CGROUP_PARENT;
use crate::{Engine, Error, Result};

/// One sample of a container's usage; `None` where the host lacks the controller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerStats {
    pub id: String,
    /// CPU time used by all its processes since it started, in nanoseconds.
    pub cpu_usage_ns: Option<u64>,
    /// Bytes of memory in use (page cache included, as the cgroup counts it).
    pub memory_usage: Option<u64>,
    /// The memory limit in bytes; `None` when unlimited.
    pub memory_limit: Option<u64>,
    /// Processes (and threads) in the container.
    pub pids: Option<u64>,
}

impl Engine {
    /// The current usage of a running container, by name or id.
    pub fn container_stats(&self, query: &str) -> Result<ContainerStats> {
        let c = self.container(query)?;
        if !c.is_running() {
            return Err(Error::StateImproper(format!(
                "container {} is {}: only running containers have stats: container state improper",
                c.name,
                c.status.as_str()
            )));
        }
        let cgroup = ContainerCgroup::load(CGROUP_PARENT, &c.id)
            .map_err(|e| Error::StateImproper(format!("reading the stats of container {}: {e}", c.name)))?;
        let s = cgroup.stats();
        Ok(ContainerStats {
            id: c.id,
            cpu_usage_ns: s.cpu_usage_ns,
            memory_usage: s.memory_usage,
            memory_limit: s.memory_limit,
            pids: s.pids_current,
        })
    }
}
