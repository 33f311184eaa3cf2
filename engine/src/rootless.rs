//! Rootless policy: what Berth does when a regular user runs it. The primitives (whether this
//! process is rootless, the id maps, the user's namespace and its pause process, the outside
//! helper) are `berth_userns`'s, re-exported here; this module decides where a rootless
//! container's cgroup goes (if anywhere) and what to warn about at create.

use std::path::Path;

pub use berth_userns::{
    in_user_namespace, is_rootless, join, keep_outside_helper, outside, parse_sub_ranges, remove_tree, run_outside,
    single_mapping, state_dir, stop_recorded, warnings, which, IdMaps, OutsideRun, SubRange,
};

/// The cgroup every container's own cgroup lives under: `berth/<id>` as root; rootless, under
/// the user's delegated cgroup (see [`delegated_cgroup`]) when there is one.
pub fn cgroup_parent() -> &'static str {
    static PARENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PARENT.get_or_init(|| match is_rootless() {
        false => "berth".to_string(),
        true => delegated_cgroup().map(|d| format!("{d}/berth")).unwrap_or_else(|| "berth".into()),
    })
}

/// The user's delegated cgroup, relative to the cgroup2 root: on a pure cgroup v2 host,
/// systemd's `user@UID.service` when it belongs to the user (systemd delegates it). Containers
/// then get `<it>/berth/<id>` and their limits; elsewhere (cgroup v1 or hybrid, no systemd
/// user instance) they get no cgroup and no limits, and [`limits_warning`] says so.
pub fn delegated_cgroup() -> Option<String> {
    let root = Path::new("/sys/fs/cgroup");
    if !root.join("cgroup.controllers").is_file() {
        return None;
    }
    let uid = nix::unistd::getuid().as_raw();
    let rel = format!("user.slice/user-{uid}.slice/user@{uid}.service");
    let owner = std::fs::metadata(root.join(&rel)).ok().map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    // A process may be moved only within a subtree the mover may write: this process (and the
    // monitors it starts, which inherit its cgroup) must be inside it. A terminal's session
    // scope is not (Podman asks systemd for a scope there; Berth goes without a cgroup).
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let inside = own.lines().any(|l| l.strip_prefix("0::/").is_some_and(|p| p.starts_with(&format!("{rel}/"))));
    (owner == Some(uid) && inside).then_some(rel)
}

/// Rootless without a delegated cgroup, limits cannot be applied: what to tell whoever asked
/// for some (the container runs without them, as Podman's does).
pub fn limits_warning() -> Option<String> {
    if !is_rootless() || delegated_cgroup().is_some() {
        return None;
    }
    Some(
        "resource limits are ignored: rootless containers get a cgroup only on cgroup v2, started from inside the user's delegated cgroup (systemd's user@UID.service, e.g. `systemd-run --user --scope berth ...`)"
            .to_string(),
    )
}

/// What to tell whoever creates a container with `opts` rootless: missing sub-ids, limits
/// that will be ignored.
pub fn create_warnings(opts: &crate::CreateOptions) -> Vec<String> {
    let mut out = warnings();
    if opts.limits != crate::container::Limits::default() {
        out.extend(limits_warning());
    }
    out.extend(crate::container::kernel::ulimit_warnings(&opts.ulimits));
    out
}
