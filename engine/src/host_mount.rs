//! What Berth mounts on the host itself, only when a user asks for it as Podman lets them:
//! `berth mount` (a container's root filesystem), `image mount` (an image's layers, read-only)
//! and volumes with the local driver's options. A container's own root is never mounted here:
//! the runtime mounts it inside the container's mount namespace.
//!
//! `mount` counts: each call adds one, each `umount` takes one and the last unmounts (`force`
//! unmounts at once). The count is a small file in the run root, gone with the mounts at reboot.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// Whether `path` is a mount point (in this process's mount namespace).
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    let path = path.to_string_lossy();
    // Octal escapes as the kernel writes them in mountinfo.
    let escaped = path.replace('\\', "\\134").replace(' ', "\\040").replace('\t', "\\011").replace('\n', "\\012");
    info.lines().any(|l| l.split(' ').nth(4) == Some(escaped.as_str()))
}

/// Mounts `lower` (top first) on `target`: read-only, or over `upper` and `work` when given.
/// One read-only layer is bound (overlay needs two lower layers without an upper one).
/// Binds the directory `source` on `target`, writable (a `--rootfs` container's root).
pub fn bind_dir(target: &Path, source: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(target)?;
    mount(Some(source), target, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)?;
    Ok(())
}

pub fn mount_layers(target: &Path, lower: &[PathBuf], upper_work: Option<(&Path, &Path)>) -> std::io::Result<()> {
    std::fs::create_dir_all(target)?;
    let text = |p: &PathBuf| p.to_string_lossy().into_owned();
    match (lower, upper_work) {
        ([], _) => Err(std::io::Error::other("an image without layers has nothing to mount")),
        ([only], None) => {
            mount(Some(only.as_path()), target, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
            let ro = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            mount(None::<&str>, target, None::<&str>, ro, None::<&str>).inspect_err(|_| {
                let _ = umount2(target, MntFlags::MNT_DETACH);
            })?;
            Ok(())
        }
        (lower, rw) => {
            let lowerdir = lower.iter().map(text).collect::<Vec<_>>().join(":");
            let (data, flags) = match rw {
                Some((u, w)) => {
                    (format!("lowerdir={lowerdir},upperdir={},workdir={}", u.display(), w.display()), MsFlags::empty())
                }
                None => (format!("lowerdir={lowerdir}"), MsFlags::MS_RDONLY),
            };
            mount(Some("overlay"), target, Some("overlay"), flags, Some(data.as_str()))?;
            Ok(())
        }
    }
}

/// Unmounts `target` if it is mounted.
pub fn unmount(target: &Path) -> std::io::Result<()> {
    if is_mount_point(target) {
        umount2(target, MntFlags::MNT_DETACH)?;
    }
    Ok(())
}

/// The mount counts' directory in the run root.
fn count_file(run_root: &Path, id: &str) -> PathBuf {
    run_root.join("mounts").join(id)
}

pub fn count(run_root: &Path, id: &str) -> u64 {
    std::fs::read_to_string(count_file(run_root, id)).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

pub fn set_count(run_root: &Path, id: &str, n: u64) -> std::io::Result<()> {
    let file = count_file(run_root, id);
    if n == 0 {
        return match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    std::fs::create_dir_all(file.parent().expect("a parent"))?;
    std::fs::write(file, n.to_string())
}

/// Mounts with `mount_it` unless `target` is mounted already; counts one more either way.
pub fn acquire(
    run_root: &Path,
    id: &str,
    target: &Path,
    mount_it: impl FnOnce() -> std::io::Result<()>,
) -> std::io::Result<()> {
    if is_mount_point(target) {
        return set_count(run_root, id, count(run_root, id).max(1) + 1);
    }
    mount_it()?;
    set_count(run_root, id, 1)
}

/// Takes one from the count and unmounts at zero (`force`: at once). Whether it was mounted.
pub fn release(run_root: &Path, id: &str, target: &Path, force: bool) -> std::io::Result<bool> {
    if !is_mount_point(target) {
        set_count(run_root, id, 0)?;
        return Ok(false);
    }
    let n = count(run_root, id);
    if force || n <= 1 {
        umount2(target, MntFlags::MNT_DETACH)?;
        set_count(run_root, id, 0)?;
    } else {
        set_count(run_root, id, n - 1)?;
    }
    Ok(true)
}
