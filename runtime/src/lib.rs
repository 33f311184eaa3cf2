//! The container runtime (youki's libcontainer, crun's role): an OCI runtime spec and overlay
//! layers in, a running, isolated container process out. `process` is the fork/clone chain, `rootfs` the
//! container's filesystem, `capabilities` the capability sets, `seccomp` the syscall filter,
//! `cgroup` the resource controls, `sys` every syscall behind one trait, `defaults` Podman's
//! default capabilities and masked and read-only paths.
//!
//! It knows nothing of SQLite, images, Berth's records or rootless policy: whoever calls it says
//! which cgroup, which id maps, which mounts, as data.

pub mod capabilities;
pub mod cgroup;
pub mod defaults;
mod error;
mod mount_options;
pub mod process;
mod rootfs;
pub mod seccomp;
pub mod sys;

pub use error::RuntimeError;
pub use process::{exec, launch, Exec, Launch, RootfsLayers, Started, DEFAULT_PATH};
pub use rootfs::resolve_in_root;
