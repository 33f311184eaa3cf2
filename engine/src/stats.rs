//! Resource usage of running containers, read from their cgroups, for front ends that show
//! live figures (the desktop app's CPU and memory columns). Usage is cumulative (CPU time);
//! rates are the caller's business, computed from two samples.

use crate::rootless::cgroup_parent;
use crate::runtime::cgroup::ContainerCgroup;
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
    /// Bytes received and sent on its network interfaces (loopback excluded).
    pub net_rx: Option<u64>,
    pub net_tx: Option<u64>,
    /// Bytes read from and written to block devices.
    pub block_read: Option<u64>,
    pub block_write: Option<u64>,
    /// The host's memory, the limit of a container without one.
    pub host_memory: Option<u64>,
    /// The counters of each network interface but `lo` (none with the host's network).
    pub networks: Vec<(String, NetCounters)>,
    /// The cgroup's finer counters (user/system CPU, throttling, memory.stat, per device I/O).
    pub detail: crate::runtime::cgroup::Detail,
}

/// One interface's counters, as `/proc/PID/net/dev` has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetCounters {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// Every interface but `lo` of a `/proc/PID/net/dev` table.
pub fn net_interfaces(table: &str) -> Vec<(String, NetCounters)> {
    table
        .lines()
        .skip(2)
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let name = name.trim();
            let f: Vec<u64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
            (name != "lo" && f.len() >= 12).then(|| {
                let c = NetCounters {
                    rx_bytes: f[0],
                    rx_packets: f[1],
                    rx_errors: f[2],
                    rx_dropped: f[3],
                    tx_bytes: f[8],
                    tx_packets: f[9],
                    tx_errors: f[10],
                    tx_dropped: f[11],
                };
                (name.to_string(), c)
            })
        })
        .collect()
}

/// Received and sent bytes of every interface but `lo`, from a `/proc/PID/net/dev` table.
pub fn net_totals(table: &str) -> (u64, u64) {
    let mut rx = 0;
    let mut tx = 0;
    for line in table.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else { continue };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        if f.len() >= 9 {
            rx += f[0];
            tx += f[8];
        }
    }
    (rx, tx)
}

fn host_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 =
        text.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// One sample of the host's usage: CPU time is cumulative (a rate needs two samples).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostSample {
    /// Clock ticks spent busy (all but idle and iowait) and in all, over every CPU, since boot.
    pub cpu_busy: u64,
    pub cpu_total: u64,
    /// Online CPUs.
    pub cpus: u32,
    /// Bytes of memory: all of it, and what is available without swapping (`MemAvailable`).
    pub mem_total: u64,
    pub mem_available: u64,
}

/// The host's CPU times and memory, from `/proc/stat` and `/proc/meminfo`.
pub fn host_sample() -> std::io::Result<HostSample> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let meminfo = std::fs::read_to_string("/proc/meminfo")?;
    Ok(parse_host(&stat, &meminfo))
}

fn parse_host(stat: &str, meminfo: &str) -> HostSample {
    let mut sample = HostSample::default();
    for line in stat.lines() {
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("cpu") => {
                // user nice system idle iowait irq softirq steal (guest time is in user already)
                let n: Vec<u64> = fields.take(8).filter_map(|f| f.parse().ok()).collect();
                sample.cpu_total = n.iter().sum();
                let idle = n.get(3).copied().unwrap_or(0) + n.get(4).copied().unwrap_or(0);
                sample.cpu_busy = sample.cpu_total.saturating_sub(idle);
            }
            Some(cpu) if cpu.starts_with("cpu") => sample.cpus += 1,
            _ => {}
        }
    }
    let kb = |key: &str| -> u64 {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    sample.mem_total = kb("MemTotal:");
    sample.mem_available = kb("MemAvailable:");
    sample
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
        let s = match ContainerCgroup::load(cgroup_parent(), &c.id) {
            Ok(cgroup) => cgroup.stats(),
            // Rootless without a cgroup: summed over the processes of its pid namespace.
            Err(_) if crate::rootless::is_rootless() => {
                let pids = c.pid.map(crate::top::namespace_pids).unwrap_or_default();
                let (cpu, memory, n) = crate::top::process_usage(&pids);
                crate::runtime::cgroup::CgroupStats {
                    cpu_usage_ns: Some(cpu),
                    memory_usage: Some(memory),
                    pids_current: Some(n),
                    ..Default::default()
                }
            }
            Err(e) => return Err(Error::StateImproper(format!("reading the stats of container {}: {e}", c.name))),
        };
        // The network namespace's counters, as its init sees them.
        let table = c.pid.and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/net/dev")).ok());
        let net = table.as_deref().map(net_totals);
        let host_network = c.options.network.as_deref() == Some("host");
        let networks = table.as_deref().filter(|_| !host_network).map(net_interfaces).unwrap_or_default();
        Ok(ContainerStats {
            id: c.id,
            cpu_usage_ns: s.cpu_usage_ns,
            memory_usage: s.memory_usage,
            memory_limit: s.memory_limit,
            pids: s.pids_current,
            net_rx: net.filter(|_| !host_network).map(|n| n.0),
            net_tx: net.filter(|_| !host_network).map(|n| n.1),
            block_read: s.block_read,
            block_write: s.block_write,
            host_memory: host_memory(),
            networks,
            detail: s.detail,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_sample_counts_busy_ticks_and_cpus() {
        let stat =
            "cpu  100 10 50 800 40 5 5 0 0 0\ncpu0 50 5 25 400 20 2 3 0 0 0\ncpu1 50 5 25 400 20 3 2 0 0 0\nintr 1 2\n";
        let meminfo = "MemTotal:       8000000 kB\nMemFree:        1000000 kB\nMemAvailable:   6000000 kB\n";
        let s = super::parse_host(stat, meminfo);
        assert_eq!((s.cpu_total, s.cpu_busy, s.cpus), (1010, 170, 2));
        assert_eq!((s.mem_total, s.mem_available), (8_000_000 * 1024, 6_000_000 * 1024));
    }

    #[test]
    fn network_totals_skip_loopback() {
        let table = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0
  eth0:    1200      10    0    0    0     0          0         0      800       8    0    0    0     0       0          0
";
        assert_eq!(super::net_totals(table), (1200, 800));
        let ifs = super::net_interfaces(table);
        assert_eq!(ifs.len(), 1);
        assert_eq!((ifs[0].0.as_str(), ifs[0].1.rx_packets, ifs[0].1.tx_packets), ("eth0", 10, 8));
    }
}
