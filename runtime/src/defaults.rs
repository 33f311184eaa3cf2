//! Podman's defaults for what a container may see and do, for whoever builds a spec: the
//! capability set, and the paths masked or made read-only.

/// Podman's default capability set (containers/common `DefaultCapabilities`).
pub use crate::seccomp::DEFAULT_CAPABILITIES as DEFAULT_CAPS;

pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/fs/selinux",
    "/sys/dev/block",
];

pub const READONLY_PATHS: &[&str] =
    &["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
