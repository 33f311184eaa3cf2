//! A container's control group, through cgroups-rs.
//!
//! This module exists so the rest of the engine can limit, watch, freeze, signal and clean up
//! a container's processes without caring which cgroup layout the host has: cgroup v1 (one
//! hierarchy per controller), hybrid (v1 controllers plus an empty cgroup2 mount, which
//! cgroups-rs ignores), or pure v2. A container lives at `<parent>/<id>` in every hierarchy.
//!
//! A limit the host cannot enforce is an error that names the limit and the missing
//! controller, never silently dropped; without limits, missing controllers are warnings.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cgroups_rs::fs::cpu::CpuController;
use cgroups_rs::fs::cpuacct::CpuAcctController;
use cgroups_rs::fs::cpuset::CpuSetController;
use cgroups_rs::fs::freezer::FreezerController;
use cgroups_rs::fs::hierarchies;
use cgroups_rs::fs::memory::MemController;
use cgroups_rs::fs::pid::PidController;
use cgroups_rs::fs::{Cgroup, MaxValue, Subsystem};
use cgroups_rs::{CgroupPid, FreezerState};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

/// How long `delete` waits for the processes of a cgroup to be gone, and `freeze` for the
/// freezer to settle.
const SETTLE: Duration = Duration::from_secs(2);

type CgError = cgroups_rs::fs::error::Error;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid cgroup name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error(
        "cannot apply the {limit} to cgroup {path}: the {controller} controller is not available on this host{hint}"
    )]
    MissingController { path: String, limit: &'static str, controller: &'static str, hint: &'static str },
    #[error("cannot apply {field} to cgroup {path}: berth does not support this resource limit yet")]
    Unsupported { path: String, field: &'static str },
    #[error("invalid {limit} for cgroup {path}: {reason}")]
    InvalidLimit { path: String, limit: &'static str, reason: String },
    #[error("error creating cgroup {path}: {source}")]
    Create {
        path: String,
        #[source]
        source: CgError,
    },
    #[error("error setting the {limit} of cgroup {path}: {source}")]
    Apply {
        path: String,
        limit: &'static str,
        #[source]
        source: CgError,
    },
    #[error("{first}; removing the half-made cgroup failed too: {cleanup}")]
    ApplyAndCleanup { first: Box<CgroupError>, cleanup: Box<CgroupError> },
    #[error("cgroup {path} does not exist")]
    NotFound { path: String },
    #[error("error adding process {pid} to cgroup {path}: {source}")]
    AddTask {
        path: String,
        pid: u32,
        #[source]
        source: CgError,
    },
    #[error("cannot {op} cgroup {path}: there is no freezer controller on this host")]
    NoFreezer { path: String, op: &'static str },
    #[error("error trying to {op} cgroup {path}: {source}")]
    Freezer {
        path: String,
        op: &'static str,
        #[source]
        source: CgError,
    },
    #[error("cgroup {path} did not reach state {state} within {timeout:?}")]
    FreezerTimeout { path: String, state: &'static str, timeout: Duration },
    #[error("error sending {signal} to process {pid} of cgroup {path}: {source}")]
    Signal {
        path: String,
        pid: u32,
        signal: Signal,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("cgroup {path} still has processes {pids:?} after {timeout:?}; kill them first")]
    Busy { path: String, pids: Vec<u32>, timeout: Duration },
    #[error("error removing cgroup directory {dir}: {source}")]
    Remove {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One limit from the OCI resources, with the controller that enforces it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Limit {
    Memory(i64),
    /// OCI `swap` is memory+swap, as cgroup v1's `memory.memsw.limit_in_bytes`.
    MemorySwap {
        memory: Option<i64>,
        swap: i64,
    },
    MemoryReservation(i64),
    Swappiness(u64),
    CpuShares(u64),
    CpuQuota {
        quota: Option<i64>,
        period: Option<u64>,
    },
    Cpus(String),
    Mems(String),
    Pids(i64),
}

impl Limit {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Limit::Memory(_) => "memory limit",
            Limit::MemorySwap { .. } => "memory+swap limit",
            Limit::MemoryReservation(_) => "memory reservation",
            Limit::Swappiness(_) => "memory swappiness",
            Limit::CpuShares(_) => "cpu shares",
            Limit::CpuQuota { .. } => "cpu quota",
            Limit::Cpus(_) => "cpuset cpus",
            Limit::Mems(_) => "cpuset mems",
            Limit::Pids(_) => "pids limit",
        }
    }

    pub(crate) fn controller(&self) -> &'static str {
        match self {
            Limit::Memory(_) | Limit::MemorySwap { .. } | Limit::MemoryReservation(_) | Limit::Swappiness(_) => {
                "memory"
            }
            Limit::CpuShares(_) | Limit::CpuQuota { .. } => "cpu",
            Limit::Cpus(_) | Limit::Mems(_) => "cpuset",
            Limit::Pids(_) => "pids",
        }
    }
}

/// Splits OCI resources into limits; refuses what this module cannot enforce.
pub(crate) fn limits_of(path: &str, res: &LinuxResources) -> Result<(Vec<Limit>, Vec<String>), CgroupError> {
    let unsupported = |field| Err(CgroupError::Unsupported { path: path.to_string(), field });
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    if let Some(m) = res.memory() {
        if let Some(l) = m.limit().filter(|&l| l > 0) {
            out.push(Limit::Memory(l));
        }
        if let Some(s) = m.swap().filter(|&s| s != 0) {
            out.push(Limit::MemorySwap { memory: m.limit().filter(|&l| l > 0), swap: s });
        }
        if let Some(r) = m.reservation().filter(|&r| r > 0) {
            out.push(Limit::MemoryReservation(r));
        }
        if let Some(s) = m.swappiness() {
            out.push(Limit::Swappiness(s));
        }
        if m.kernel().is_some() {
            return unsupported("memory.kernel");
        }
        if m.kernel_tcp().is_some() {
            return unsupported("memory.kernelTCP");
        }
    }
    if let Some(c) = res.cpu() {
        if let Some(s) = c.shares().filter(|&s| s > 0) {
            out.push(Limit::CpuShares(s));
        }
        if c.quota().is_some() || c.period().is_some() {
            out.push(Limit::CpuQuota { quota: c.quota(), period: c.period() });
        }
        if let Some(cpus) = c.cpus().as_ref().filter(|s| !s.is_empty()) {
            out.push(Limit::Cpus(cpus.clone()));
        }
        if let Some(mems) = c.mems().as_ref().filter(|s| !s.is_empty()) {
            out.push(Limit::Mems(mems.clone()));
        }
        if c.realtime_runtime().is_some() || c.realtime_period().is_some() {
            return unsupported("cpu.realtimeRuntime/realtimePeriod");
        }
        if c.idle().is_some() {
            return unsupported("cpu.idle");
        }
        if c.burst().is_some() {
            return unsupported("cpu.burst");
        }
    }
    if let Some(p) = res.pids() {
        if p.limit() > 0 {
            out.push(Limit::Pids(p.limit()));
        }
    }
    if res.block_io().is_some() {
        return unsupported("blockIO");
    }
    if res.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()) {
        return unsupported("hugepageLimits");
    }
    if res.network().is_some() {
        return unsupported("network");
    }
    if res.rdma().as_ref().is_some_and(|r| !r.is_empty()) {
        return unsupported("rdma");
    }
    if res.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        return unsupported("unified");
    }
    if res.devices().as_ref().is_some_and(|d| !d.is_empty()) {
        warnings.push(format!(
            "device cgroup rules for {path} are not enforced by berth; \
             device access is limited to the device nodes created in the container's /dev"
        ));
    }
    Ok((out, warnings))
}

/// The controllers `limits` need that `available` lacks, as the error for the first one.
pub(crate) fn check_controllers(
    path: &str,
    limits: &[Limit],
    available: &dyn Fn(&str) -> bool,
    hint: &'static str,
) -> Result<(), CgroupError> {
    match limits.iter().find(|l| !available(l.controller())) {
        Some(l) => Err(CgroupError::MissingController {
            path: path.to_string(),
            limit: l.name(),
            controller: l.controller(),
            hint,
        }),
        None => Ok(()),
    }
}

/// Controllers whose absence is worth a warning even when no limit needs them.
const WANTED: &[(&str, &str)] = &[
    ("memory", "memory usage and limits"),
    ("cpu", "cpu limits"),
    ("pids", "process counts and limits"),
    ("freezer", "pause and unpause"),
];

/// Resource usage of a container. `None` when the host lacks the controller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupStats {
    pub memory_usage: Option<u64>,
    /// `None` also when unlimited.
    pub memory_limit: Option<u64>,
    pub cpu_usage_ns: Option<u64>,
    pub pids_current: Option<u64>,
    /// Bytes read from and written to block devices.
    pub block_read: Option<u64>,
    pub block_write: Option<u64>,
    /// The rest of what the cgroup's files tell, for Docker's stats (read by [`Detail::read`]).
    pub detail: Detail,
}

/// The finer counters of a cgroup, from its files as the kernel writes them (v1 and v2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    /// CPU time in user and kernel mode, in nanoseconds.
    pub cpu_user_ns: Option<u64>,
    pub cpu_system_ns: Option<u64>,
    /// CPU time per CPU (v1's `cpuacct.usage_percpu`; v2 has none).
    pub cpu_percpu_ns: Option<Vec<u64>>,
    /// CFS periods, throttled periods and time throttled (ns).
    pub cpu_periods: Option<u64>,
    pub cpu_throttled_periods: Option<u64>,
    pub cpu_throttled_ns: Option<u64>,
    /// `memory.stat`, as the kernel names its counters.
    pub memory_stat: std::collections::BTreeMap<String, u64>,
    /// The peak of memory use, and (v1) how often the limit was hit.
    pub memory_max_usage: Option<u64>,
    pub memory_failcnt: Option<u64>,
    /// `pids.max`; `None` when unlimited.
    pub pids_limit: Option<u64>,
    /// Per block device: major, minor, bytes read and written, reads and writes.
    pub block_devices: Vec<BlockDevice>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockDevice {
    pub major: u64,
    pub minor: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub reads: u64,
    pub writes: u64,
}

/// `key value` lines (`memory.stat`, `cpu.stat`, `cpuacct.stat`).
fn key_values(text: &str) -> std::collections::BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn major_minor(dev: &str) -> Option<(u64, u64)> {
    let (a, b) = dev.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// v2's `io.stat`: `MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...`.
fn io_stat_v2(text: &str) -> Vec<BlockDevice> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (major, minor) = major_minor(parts.next()?)?;
            let mut d = BlockDevice { major, minor, ..Default::default() };
            for kv in parts {
                let Some((k, v)) = kv.split_once('=') else { continue };
                let v = v.parse().unwrap_or(0);
                match k {
                    "rbytes" => d.read_bytes = v,
                    "wbytes" => d.write_bytes = v,
                    "rios" => d.reads = v,
                    "wios" => d.writes = v,
                    _ => {}
                }
            }
            Some(d)
        })
        .collect()
}

/// v1's `blkio.throttle.io_service_bytes_recursive` and `..._io_serviced_recursive`:
/// `MAJ:MIN Read N` lines.
fn io_stat_v1(bytes: &str, ios: &str) -> Vec<BlockDevice> {
    let mut devices: std::collections::BTreeMap<(u64, u64), BlockDevice> = Default::default();
    for (text, is_bytes) in [(bytes, true), (ios, false)] {
        for l in text.lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [dev, op, n] = f.as_slice() else { continue };
            let (Some((major, minor)), Ok(n)) = (major_minor(dev), n.parse::<u64>()) else { continue };
            let d = devices.entry((major, minor)).or_insert(BlockDevice { major, minor, ..Default::default() });
            match (*op, is_bytes) {
                ("Read", true) => d.read_bytes = n,
                ("Write", true) => d.write_bytes = n,
                ("Read", false) => d.reads = n,
                ("Write", false) => d.writes = n,
                _ => {}
            }
        }
    }
    devices.into_values().collect()
}

impl Detail {
    /// Reads what the files at `dirs` (the cgroup's directory in each hierarchy) tell.
    pub fn read(dirs: &[PathBuf], v2: bool) -> Detail {
        let file = |name: &str| dirs.iter().find_map(|d| std::fs::read_to_string(d.join(name)).ok());
        let num = |name: &str| file(name).and_then(|t| t.trim().parse::<u64>().ok());
        let mut d = Detail::default();
        if v2 {
            let cpu = file("cpu.stat").map(|t| key_values(&t)).unwrap_or_default();
            let us = |k: &str| cpu.get(k).map(|v| v * 1000);
            d.cpu_user_ns = us("user_usec");
            d.cpu_system_ns = us("system_usec");
            d.cpu_periods = cpu.get("nr_periods").copied();
            d.cpu_throttled_periods = cpu.get("nr_throttled").copied();
            d.cpu_throttled_ns = us("throttled_usec");
            d.memory_max_usage = num("memory.peak");
            d.block_devices = file("io.stat").map(|t| io_stat_v2(&t)).unwrap_or_default();
        } else {
            // USER_HZ ticks.
            // SAFETY: sysconf has no preconditions.
            let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
            let acct = file("cpuacct.stat").map(|t| key_values(&t)).unwrap_or_default();
            d.cpu_user_ns = acct.get("user").map(|t| t * (1_000_000_000 / hz));
            d.cpu_system_ns = acct.get("system").map(|t| t * (1_000_000_000 / hz));
            d.cpu_percpu_ns =
                file("cpuacct.usage_percpu").map(|t| t.split_whitespace().filter_map(|v| v.parse().ok()).collect());
            let cpu = file("cpu.stat").map(|t| key_values(&t)).unwrap_or_default();
            d.cpu_periods = cpu.get("nr_periods").copied();
            d.cpu_throttled_periods = cpu.get("nr_throttled").copied();
            d.cpu_throttled_ns = cpu.get("throttled_time").copied();
            d.memory_max_usage = num("memory.max_usage_in_bytes");
            d.memory_failcnt = num("memory.failcnt");
            d.block_devices = io_stat_v1(
                &file("blkio.throttle.io_service_bytes_recursive").unwrap_or_default(),
                &file("blkio.throttle.io_serviced_recursive").unwrap_or_default(),
            );
        }
        d.memory_stat = file("memory.stat").map(|t| key_values(&t)).unwrap_or_default();
        d.pids_limit = num("pids.max");
        d
    }
}

/// The cgroup of one container, `<parent>/<id>` in every hierarchy of the host.
pub struct ContainerCgroup {
    cg: Cgroup,
    path: String,
}

fn validate(parent: &str, id: &str) -> Result<String, CgroupError> {
    let bad = |name: &str, reason| Err(CgroupError::InvalidName { name: name.to_string(), reason });
    if id.is_empty() {
        return bad(id, "empty container id");
    }
    if id.contains('/') || id == "." || id == ".." {
        return bad(id, "a container id is one path component");
    }
    let parent = parent.trim_matches('/');
    if parent.is_empty() {
        return bad(parent, "empty parent; use e.g. \"berth\"");
    }
    if parent.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return bad(parent, "the parent must be a relative path without . or .. components");
    }
    Ok(format!("{parent}/{id}"))
}

fn subsystem_name(s: &Subsystem) -> String {
    s.controller_name()
}

fn subsystem_dir(s: &Subsystem) -> PathBuf {
    s.to_controller().path().to_path_buf()
}

/// CPU shares (v1, 2..262144) to weight (v2, 1..10000), as runc and crun convert them.
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, cgroups_rs::CPU_SHARES_V1_MAX);
    1 + ((shares - 2) * 9999) / 262142
}

impl ContainerCgroup {
    /// Creates `<parent>/<id>` in every hierarchy the host has and applies `resources`.
    /// Returns warnings about controllers that are missing but not needed by any limit.
    pub fn create(
        parent: &str,
        id: &str,
        resources: Option<&LinuxResources>,
    ) -> Result<(ContainerCgroup, Vec<String>), CgroupError> {
        let path = validate(parent, id)?;
        let (limits, mut warnings) = match resources {
            Some(r) => limits_of(&path, r)?,
            None => (Vec::new(), Vec::new()),
        };
        let hier = hierarchies::auto();
        let v2 = hier.v2();
        let present: Vec<String> = hier.subsystems().iter().map(subsystem_name).collect();
        let available = |c: &str| present.iter().any(|p| p == c);
        check_controllers(&path, &limits, &available, "")?;
        for (c, what) in WANTED {
            if !available(c) {
                warnings.push(format!("the {c} controller is not available: no {what} for {path}"));
            }
        }

        let cg = Cgroup::new(hier, &path).map_err(|source| CgroupError::Create { path: path.clone(), source })?;
        let me = ContainerCgroup { cg, path };
        if let Err(first) = me.apply_all(&limits, v2) {
            return Err(match me.delete() {
                Ok(()) => first,
                Err(cleanup) => CgroupError::ApplyAndCleanup { first: Box::new(first), cleanup: Box::new(cleanup) },
            });
        }
        Ok((me, warnings))
    }

    fn apply_all(&self, limits: &[Limit], v2: bool) -> Result<(), CgroupError> {
        if v2 && !limits.is_empty() {
            // On v2 a controller must also be enabled for this cgroup by its parent.
            let enabled = std::fs::read_to_string(self.v2_dir().join("cgroup.controllers")).unwrap_or_default();
            let enabled = |c: &str| enabled.split_whitespace().any(|e| e == c);
            check_controllers(
                &self.path,
                limits,
                &enabled,
                " (not delegated: missing from the parent's cgroup.subtree_control)",
            )?;
        }
        for limit in limits {
            self.apply(limit, v2)?;
        }
        Ok(())
    }

    fn v2_dir(&self) -> PathBuf {
        Path::new(hierarchies::UNIFIED_MOUNTPOINT).join(&self.path)
    }

    fn apply(&self, limit: &Limit, v2: bool) -> Result<(), CgroupError> {
        let wrap = |source| CgroupError::Apply { path: self.path.clone(), limit: limit.name(), source };
        let missing = || CgroupError::MissingController {
            path: self.path.clone(),
            limit: limit.name(),
            controller: limit.controller(),
            hint: "",
        };
        match limit {
            Limit::Memory(_) | Limit::MemorySwap { .. } | Limit::MemoryReservation(_) | Limit::Swappiness(_) => {
                let mem: &MemController = self.cg.controller_of().ok_or_else(missing)?;
                match *limit {
                    Limit::Memory(l) => mem.set_limit(l).map_err(wrap),
                    Limit::MemorySwap { memory, swap } => {
                        let value = if !v2 || swap < 0 {
                            swap
                        } else {
                            // v2 limits swap alone: memory.swap.max = (memory+swap) - memory.
                            let memory = memory.ok_or_else(|| CgroupError::InvalidLimit {
                                path: self.path.clone(),
                                limit: limit.name(),
                                reason: "on cgroup v2 a swap limit needs a memory limit too".into(),
                            })?;
                            if swap < memory {
                                return Err(CgroupError::InvalidLimit {
                                    path: self.path.clone(),
                                    limit: limit.name(),
                                    reason: format!("memory+swap {swap} is below the memory limit {memory}"),
                                });
                            }
                            swap - memory
                        };
                        mem.set_memswap_limit(value).map_err(wrap)
                    }
                    Limit::MemoryReservation(r) => mem.set_soft_limit(r).map_err(wrap),
                    Limit::Swappiness(s) => mem.set_swappiness(s).map_err(wrap),
                    _ => unreachable!("memory limits only"),
                }
            }
            Limit::CpuShares(s) => {
                let cpu: &CpuController = self.cg.controller_of().ok_or_else(missing)?;
                let value = if v2 { shares_to_weight(*s) } else { *s };
                cpu.set_shares(value).map_err(wrap)
            }
            Limit::CpuQuota { quota, period } => {
                let cpu: &CpuController = self.cg.controller_of().ok_or_else(missing)?;
                cpu.set_cfs_quota_and_period(*quota, *period).map_err(wrap)
            }
            Limit::Cpus(c) => {
                let cs: &CpuSetController = self.cg.controller_of().ok_or_else(missing)?;
                cs.set_cpus(c).map_err(wrap)
            }
            Limit::Mems(m) => {
                let cs: &CpuSetController = self.cg.controller_of().ok_or_else(missing)?;
                cs.set_mems(m).map_err(wrap)
            }
            Limit::Pids(n) => {
                let pids: &PidController = self.cg.controller_of().ok_or_else(missing)?;
                pids.set_pid_max(MaxValue::Value(*n)).map_err(wrap)
            }
        }
    }

    /// Reattaches to the cgroup of a container created earlier (possibly by another process).
    pub fn load(parent: &str, id: &str) -> Result<ContainerCgroup, CgroupError> {
        let path = validate(parent, id)?;
        let cg = Cgroup::load(hierarchies::auto(), &path);
        let me = ContainerCgroup { cg, path };
        if !me.exists() {
            return Err(CgroupError::NotFound { path: me.path });
        }
        Ok(me)
    }

    /// `<parent>/<id>`, relative to each hierarchy's root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The directories of this cgroup, one per hierarchy (one in all on cgroup v2).
    pub fn dirs(&self) -> Vec<PathBuf> {
        if self.cg.v2() {
            return vec![self.v2_dir()];
        }
        let mut dirs: Vec<PathBuf> = self.cg.subsystems().iter().map(subsystem_dir).collect();
        dirs.sort();
        dirs.dedup(); // co-mounted controllers (e.g. cpu,cpuacct) share a directory
        dirs
    }

    /// Whether the cgroup exists in at least one hierarchy.
    pub fn exists(&self) -> bool {
        self.dirs().iter().any(|d| d.is_dir())
    }

    /// Moves process `pid` (all its threads) into the cgroup, in every hierarchy.
    pub fn add_task(&self, pid: u32) -> Result<(), CgroupError> {
        self.cg.add_task_by_tgid(CgroupPid::from(u64::from(pid))).map_err(|source| CgroupError::AddTask {
            path: self.path.clone(),
            pid,
            source,
        })
    }

    /// The processes in the cgroup (union over hierarchies, sorted).
    pub fn procs(&self) -> Vec<u32> {
        self.cg.procs().into_iter().filter_map(|p| u32::try_from(p.pid).ok()).filter(|&p| p != 0).collect()
    }

    fn freezer(&self, op: &'static str) -> Result<&FreezerController, CgroupError> {
        self.cg.controller_of().ok_or_else(|| CgroupError::NoFreezer { path: self.path.clone(), op })
    }

    /// Freezes every process and waits until the kernel reports the cgroup frozen.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        let f = self.freezer("freeze")?;
        let err = |source| CgroupError::Freezer { path: self.path.clone(), op: "freeze", source };
        f.freeze().map_err(err)?;
        self.wait_state(f, "freeze", "FROZEN", |s| matches!(s, FreezerState::Frozen))
    }

    /// Thaws a frozen cgroup.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        let f = self.freezer("thaw")?;
        let err = |source| CgroupError::Freezer { path: self.path.clone(), op: "thaw", source };
        f.thaw().map_err(err)?;
        self.wait_state(f, "thaw", "THAWED", |s| matches!(s, FreezerState::Thawed))
    }

    fn wait_state(
        &self,
        f: &FreezerController,
        op: &'static str,
        state: &'static str,
        done: fn(&FreezerState) -> bool,
    ) -> Result<(), CgroupError> {
        let start = Instant::now();
        loop {
            let s = f.state().map_err(|source| CgroupError::Freezer { path: self.path.clone(), op, source })?;
            if done(&s) {
                return Ok(());
            }
            if start.elapsed() > SETTLE {
                return Err(CgroupError::FreezerTimeout { path: self.path.clone(), state, timeout: SETTLE });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the cgroup is frozen (false without a freezer).
    pub fn is_frozen(&self) -> bool {
        self.cg
            .controller_of::<FreezerController>()
            .and_then(|f| f.state().ok())
            .is_some_and(|s| matches!(s, FreezerState::Frozen))
    }

    /// Sends `signal` to every process in the cgroup. With a freezer, the cgroup is frozen
    /// while signalling so no process can fork a child that escapes the signal, then thawed
    /// (left frozen if it was frozen before). Processes that exit meanwhile are not errors.
    pub fn kill_all(&self, signal: Signal) -> Result<(), CgroupError> {
        let was_frozen = self.is_frozen();
        let freezer = self.cg.controller_of::<FreezerController>().is_some();
        if freezer && !was_frozen {
            self.freeze()?;
        }
        let mut result = Ok(());
        for pid in self.procs() {
            match kill(Pid::from_raw(pid as i32), signal) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(source) => {
                    result = Err(CgroupError::Signal { path: self.path.clone(), pid, signal, source });
                    break;
                }
            }
        }
        if freezer && !was_frozen {
            self.thaw()?;
        }
        result
    }

    /// Memory, cpu and pids usage; fields are `None` where the host lacks the controller.
    pub fn stats(&self) -> CgroupStats {
        let mut st = CgroupStats::default();
        if let Some(mem) = self.cg.controller_of::<MemController>() {
            let m = mem.memory_stat();
            st.memory_usage = Some(m.usage_in_bytes);
            // v1 reports "unlimited" as a huge page-aligned number, v2 as max (-1).
            st.memory_limit = u64::try_from(m.limit_in_bytes).ok().filter(|&l| l < 1 << 62);
        }
        if self.cg.v2() {
            if let Some(cpu) = self.cg.controller_of::<CpuController>() {
                st.cpu_usage_ns = cpu
                    .cpu()
                    .stat
                    .lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|us| us * 1000);
            } else {
                // cpu.stat exists even without the cpu controller.
                st.cpu_usage_ns = std::fs::read_to_string(self.v2_dir().join("cpu.stat"))
                    .ok()
                    .and_then(|s| {
                        s.lines().find_map(|l| l.strip_prefix("usage_usec ")).and_then(|v| v.trim().parse::<u64>().ok())
                    })
                    .map(|us| us * 1000);
            }
        } else if let Some(acct) = self.cg.controller_of::<CpuAcctController>() {
            st.cpu_usage_ns = Some(acct.cpuacct().usage);
        }
        if let Some(p) = self.cg.controller_of::<PidController>() {
            st.pids_current = p.get_pid_current().ok();
        }
        if let Some(b) = self.cg.controller_of::<cgroups_rs::fs::blkio::BlkIoController>() {
            let io = b.blkio();
            if self.cg.v2() {
                st.block_read = Some(io.io_stat.iter().map(|d| d.rbytes).sum());
                st.block_write = Some(io.io_stat.iter().map(|d| d.wbytes).sum());
            } else {
                // The throttle counters see every I/O; the CFQ ones only what that scheduler did.
                let devices = &io.throttle.io_service_bytes_recursive;
                st.block_read = Some(devices.iter().map(|d| d.read).sum());
                st.block_write = Some(devices.iter().map(|d| d.write).sum());
            }
        }
        st.detail = Detail::read(&self.dirs(), self.cg.v2());
        st
    }

    /// Waits up to two seconds for the cgroup to be empty, then removes its directory in every
    /// hierarchy. Tries every hierarchy even when one fails, and reports the first failure.
    pub fn delete(&self) -> Result<(), CgroupError> {
        let start = Instant::now();
        loop {
            let pids = self.procs();
            if pids.is_empty() {
                break;
            }
            if start.elapsed() > SETTLE {
                return Err(CgroupError::Busy { path: self.path.clone(), pids, timeout: SETTLE });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut first = None;
        for dir in self.dirs() {
            if let Err(e) = remove_dir_retrying(&dir) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// rmdir with a few retries: the kernel may report EBUSY briefly after the last task exits.
fn remove_dir_retrying(dir: &Path) -> Result<(), CgroupError> {
    let mut delay = Duration::from_millis(10);
    for attempt in 0..6 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if attempt == 5 => return Err(CgroupError::Remove { dir: dir.to_owned(), source: e }),
            Err(_) => {
                std::thread::sleep(delay);
                delay *= 2;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod detail_tests {
    use super::*;

    #[test]
    fn the_cgroup_files_are_read_as_the_kernel_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let w = |n: &str, t: &str| std::fs::write(dir.path().join(n), t).unwrap();
        w(
            "cpu.stat",
            "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 7\nnr_throttled 2\nthrottled_usec 5\n",
        );
        w("memory.stat", "anon 4096\nfile 8192\n");
        w("memory.peak", "65536\n");
        w("pids.max", "max\n");
        w("io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
        let d = Detail::read(&[dir.path().to_path_buf()], true);
        assert_eq!((d.cpu_user_ns, d.cpu_system_ns), (Some(2_000_000), Some(1_000_000)));
        assert_eq!((d.cpu_periods, d.cpu_throttled_periods, d.cpu_throttled_ns), (Some(7), Some(2), Some(5000)));
        assert_eq!(d.memory_stat.get("file"), Some(&8192));
        assert_eq!((d.memory_max_usage, d.pids_limit), (Some(65536), None));
        assert_eq!(
            d.block_devices,
            [BlockDevice { major: 8, minor: 0, read_bytes: 10, write_bytes: 20, reads: 1, writes: 2 }]
        );
        let v1 = io_stat_v1("8:0 Read 100\n8:0 Write 200\n8:0 Total 300\n", "8:0 Read 3\n8:0 Write 4\n");
        assert_eq!(v1, [BlockDevice { major: 8, minor: 0, read_bytes: 100, write_bytes: 200, reads: 3, writes: 4 }]);
    }
}
