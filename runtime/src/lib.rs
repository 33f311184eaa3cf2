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

/// The cgroup every container's own cgroup lives under: `berth/<id>` as root; rootless, under
/// the user's delegated cgroup (see `rootless::delegated_cgroup`) when there is one.
pub fn cgroup_parent() -> &'static str {
    static PARENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PARENT.get_or_init(|| match crate::rootless::is_rootless() {
        false => "berth".to_string(),
        true => crate::rootless::delegated_cgroup().map(|d| format!("{d}/berth")).unwrap_or_else(|| "berth".into()),
    })
}
