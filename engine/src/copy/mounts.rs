//! A stopped container's volumes and bind mounts, for a copy into or out of its files. A copy
//! to `/tmp/volume/x` of a container that is not running must land in the volume, as it would
//! once the container runs, so the helper mounts them on the container's files in its own
//! mount namespace: each source is cloned as a detached mount (`open_tree`) while the host's
//! paths are still visible, then moved (`move_mount`) to its destination once inside the
//! container's root, where links in the destination resolve as the container's. Mount points
//! that did not exist are made for the copy and removed after it, so the volume a mount sits
//! in is left as it was. A tmpfs is not mounted: what is copied there goes to the container's
//! own files, below where the tmpfs will be.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::container::mount::MountRequest;

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
const MOUNT_ATTR_RDONLY: u64 = 1;

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// The sources, cloned and not yet attached anywhere: (destination, the mount, is a directory).
pub struct Detached(Vec<(String, OwnedFd, bool)>);

/// What was attached, in order, to be undone in reverse: a mount point made inside a volume
/// is removed before that volume is unmounted.
#[derive(Default)]
pub struct Attached(Vec<Step>);

enum Step {
    Made(PathBuf),
    Mounted(String),
}

impl Detached {
    /// Clones each volume's and bind mount's source; call before leaving the host's root.
    pub fn open(storage_root: &Path, requests: &[MountRequest]) -> Result<Detached, String> {
        let mut sources: Vec<(String, PathBuf, bool)> = requests
            .iter()
            .filter_map(|m| match m {
                MountRequest::Bind { source, destination, read_only } => {
                    Some((destination.clone(), source.clone(), *read_only))
                }
                MountRequest::Volume { name, destination, read_only, .. } => {
                    Some((destination.clone(), crate::volume::data_dir(storage_root, name), *read_only))
                }
                // made when the container starts: a stopped container has nothing there yet
                MountRequest::Tmpfs { .. } | MountRequest::Image { .. } => None,
            })
            .collect();
        // Parents before children, as a mount over a mount needs.
        sources.sort_by_key(|(dest, ..)| Path::new(dest).components().count());
        let mut out = Vec::new();
        for (dest, source, read_only) in sources {
            let c = std::ffi::CString::new(source.as_os_str().as_encoded_bytes())
                .map_err(|_| format!("{}: a path with a NUL byte", source.display()))?;
            let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint;
            // SAFETY: a valid C string; the result is a new descriptor or -1.
            let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
            if fd < 0 {
                let e = std::io::Error::last_os_error();
                return Err(format!("opening {} (mounted at {dest}): {e}", source.display()));
            }
            // SAFETY: open_tree returned a descriptor this process owns.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            if read_only {
                let attr = MountAttr { attr_set: MOUNT_ATTR_RDONLY, attr_clr: 0, propagation: 0, userns_fd: 0 };
                let empty = c"";
                // SAFETY: a valid descriptor, an empty path with AT_EMPTY_PATH and a struct of
                // the size passed.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_mount_setattr,
                        fd.as_raw_fd(),
                        empty.as_ptr(),
                        (libc::AT_EMPTY_PATH | libc::AT_RECURSIVE) as libc::c_uint,
                        &attr as *const MountAttr,
                        std::mem::size_of::<MountAttr>(),
                    )
                };
                if r < 0 {
                    let e = std::io::Error::last_os_error();
                    return Err(format!("making {dest} read-only: {e}"));
                }
            }
            out.push((dest, fd, source.is_dir()));
        }
        Ok(Detached(out))
    }

    /// Moves each mount to its destination in this process's (the container's) root.
    pub fn attach(self) -> Result<Attached, String> {
        let mut attached = Attached::default();
        for (dest, fd, is_dir) in self.0 {
            if let Err(e) = attached.mount_point(Path::new(&dest), is_dir) {
                let _ = attached.detach();
                return Err(format!("making the mount point {dest}: {e}"));
            }
            let target = std::ffi::CString::new(dest.as_bytes()).map_err(|_| format!("{dest}: a NUL byte"))?;
            let empty = c"";
            // SAFETY: a valid descriptor and C strings.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_move_mount,
                    fd.as_raw_fd(),
                    empty.as_ptr(),
                    libc::AT_FDCWD,
                    target.as_ptr(),
                    MOVE_MOUNT_F_EMPTY_PATH,
                )
            };
            if r < 0 {
                let e = std::io::Error::last_os_error();
                let _ = attached.detach();
                return Err(format!("mounting at {dest}: {e}"));
            }
            attached.0.push(Step::Mounted(dest));
        }
        Ok(attached)
    }
}

impl Attached {
    /// Makes `dest` (and its missing parents) for a directory or a file mount, noting each.
    fn mount_point(&mut self, dest: &Path, is_dir: bool) -> std::io::Result<()> {
        if std::fs::symlink_metadata(dest).is_ok() {
            return Ok(());
        }
        let mut missing = Vec::new();
        let mut p = dest.parent();
        while let Some(dir) = p.filter(|d| std::fs::symlink_metadata(d).is_err()) {
            missing.push(dir.to_path_buf());
            p = dir.parent();
        }
        for dir in missing.into_iter().rev() {
            std::fs::create_dir(&dir)?;
            self.0.push(Step::Made(dir));
        }
        if is_dir {
            std::fs::create_dir(dest)?;
        } else {
            std::fs::File::create(dest)?;
        }
        self.0.push(Step::Made(dest.to_path_buf()));
        Ok(())
    }

    /// Unmounts what was attached and removes the mount points made for it (when still empty).
    pub fn detach(self) -> Result<(), String> {
        let mut errors = Vec::new();
        for step in self.0.iter().rev() {
            match step {
                Step::Mounted(dest) => {
                    if let Err(e) = nix::mount::umount2(dest.as_str(), nix::mount::MntFlags::MNT_DETACH) {
                        errors.push(format!("unmounting {dest}: {e}"));
                    }
                }
                Step::Made(made) => {
                    // What the copy wrote there stays, and so does its mount point.
                    let removed = match std::fs::symlink_metadata(made) {
                        Ok(m) if m.is_dir() => std::fs::remove_dir(made),
                        Ok(m) if m.len() == 0 => std::fs::remove_file(made),
                        _ => Ok(()),
                    };
                    let removed = removed.or_else(|e| match e.kind() {
                        std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
                        _ => Err(e),
                    });
                    if let Err(e) = removed {
                        errors.push(format!("removing the mount point {}: {e}", made.display()));
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}
