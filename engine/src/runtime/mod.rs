//! The container runtime: an OCI runtime spec and overlay layers in, a running, isolated
//! container process out, as crun does it. `process` is the fork/clone chain, `rootfs` the
//! container's filesystem, `capabilities` the capability sets, `seccomp` the syscall filter,
//! `cgroup` the resource controls, `sys` every syscall behind one trait.

pub(crate) mod capabilities;
pub mod cgroup;
mod error;
mod mount_options;
pub mod process;
mod rootfs;
pub mod seccomp;
pub mod sys;

pub use error::RuntimeError;
pub use process::{exec, launch, Exec, Launch, RootfsLayers, Started, DEFAULT_PATH};

/// The cgroup every container's own cgroup lives under (`berth/<id>`).
pub const CGROUP_PARENT: &str = "berth";
