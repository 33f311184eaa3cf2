//! User-namespace primitives for Berth run by a regular user (rootless mode), low enough for
//! the layers, the runtime and the monitor to use: whether this process is rootless, the user's
//! id maps, the user's namespace (made once, held by a pause process, [`join`]ed by helpers), the
//! outside helper, and the re-executions of the running binary ([`reexec`]).
//!
//! The front ends (the `berth` command, the desktop app) stay the user. Whatever must own files
//! as other users or mount filesystems runs in **one user namespace per user**, as Podman keeps
//! one:
//!
//! - container id 0 is the user; ids 1 and up are the user's ranges in `/etc/subuid` and
//!   `/etc/subgid`, mapped by the setuid helpers `newuidmap`/`newgidmap` (Debian's `uidmap`);
//!   without ranges (or without those helpers) only id 0 is mapped and [`warnings`] says so;
//! - the helpers that run inside it ([`join`] is their first step, while they are still
//!   single-threaded): the monitor (so the containers' namespaces are owned by it), `exec` and
//!   `cp` (which must own what they join), and `__berth-userns`, which unpacks layers (so their
//!   owners are kept), fills volumes, and removes trees of files owned by sub-ids.
//!
//! What Berth does with these (when a container gets a cgroup, what to warn about at create) is
//! policy, and lives above, in the engine's `rootless` module. This crate knows nothing of
//! containers, images or Berth's records.

mod maps;
mod namespace;
mod outside_helper;
pub mod reexec;

use std::path::PathBuf;
use std::sync::OnceLock;

pub use maps::{parse_sub_ranges, IdMaps, SubRange};
pub use namespace::{join, pause_main};
pub use outside_helper::{keep_outside_helper, run_outside, stop_recorded, OutsideRun};
pub use reexec::remove_tree;

/// Whether this process is Berth run by a regular user: not root, or root only inside a user
/// namespace (a helper that joined ours).
pub fn is_rootless() -> bool {
    static ROOTLESS: OnceLock<bool> = OnceLock::new();
    *ROOTLESS.get_or_init(|| !nix::unistd::geteuid().is_root() || in_user_namespace())
}

/// Whether this process must go through a helper for what needs the user namespace: rootless
/// and not inside it.
pub fn outside() -> bool {
    !nix::unistd::geteuid().is_root()
}

/// Whether this process is in a user namespace other than the initial one (whose map is the
/// identity over all ids).
pub fn in_user_namespace() -> bool {
    match std::fs::read_to_string("/proc/self/uid_map") {
        Ok(map) => map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"],
        Err(_) => false,
    }
}

/// Whether this process is in a user namespace that maps only root (no sub-ids).
pub fn single_mapping() -> bool {
    static SINGLE: OnceLock<bool> = OnceLock::new();
    *SINGLE.get_or_init(|| {
        in_user_namespace()
            && std::fs::read_to_string("/proc/self/uid_map").map(|m| m.lines().count() <= 1).unwrap_or(true)
    })
}

/// Runtime state of the user's rootless mode (the pause process's pid and its lock):
/// `$XDG_RUNTIME_DIR/berth`, else `/tmp/berth-UID`.
pub fn state_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(|d| PathBuf::from(d).join("berth"))
        .unwrap_or_else(|| std::env::temp_dir().join(format!("berth-{}", real_uid())))
}

/// The user's id on the host (outside any namespace of ours).
pub(crate) fn real_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// A program on PATH (or in /usr/bin, /usr/sbin).
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_else(|| vec!["/usr/bin".into(), "/bin".into()])
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// What a rootless user should know before the first container: printed by the front ends.
pub fn warnings() -> Vec<String> {
    if !is_rootless() || !outside() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let maps = IdMaps::of_current_user();
    if !maps.helpers {
        out.push(
            "newuidmap and newgidmap were not found: containers have only root (the user); install Debian's uidmap package"
                .to_string(),
        );
    } else if !maps.has_sub_ids() {
        out.push(format!(
            "no subordinate ids for user {} in /etc/subuid and /etc/subgid: containers have only root (the user); add them with `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {}`",
            maps.user, maps.user
        ));
    }
    out
}
