//! An image's layers read as the one tree a container sees, without mounting them.
//!
//! Creating a container reads the image's /etc/passwd and /etc/group, and a new volume copies
//! up what the image has at its mount point, before any overlay is mounted. The layers are
//! directories on the host, and their content is the image's: a symlink in them means what it
//! means inside the container, never on the host. So a path is resolved here component by
//! component against the merged view (the top layer that has an entry wins; whiteouts and
//! opaque directories hide lower layers; an absolute link restarts at the image's root, `..`
//! stops there), and only the resolved path, which has no links left, is opened, with
//! `O_NOFOLLOW` and `O_NONBLOCK` (a FIFO must not hang the reader) and a size cap.

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Overlay's mark of a directory that hides the lower layers' content: `trusted.*` as root,
/// `user.*` for a rootless overlay mounted with `userxattr`. Either counts, whoever reads.
pub const OPAQUE_XATTRS: [&str; 2] = ["trusted.overlay.opaque", "user.overlay.opaque"];

/// Links followed while resolving one path, as the kernel's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// Whether `dir` (a directory in a layer) is opaque.
pub fn is_opaque(dir: &Path) -> bool {
    OPAQUE_XATTRS.iter().any(|name| xattr::get(dir, name).ok().flatten().as_deref() == Some(b"y"))
}

/// Overlay's whiteout: a character device 0:0.
pub fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// `what` names the file as a user knows it: "the image's /etc/passwd".
    #[error("{what}: too many levels of symbolic links (more than {MAX_LINKS})")]
    Loop { what: String },
    #[error("{what} is {kind}, not a regular file")]
    NotAFile { what: String, kind: &'static str },
    #[error("{what} is larger than {cap} bytes")]
    TooLarge { what: String, cap: u64 },
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

/// One entry of the merged tree: where it is on the host, and what it is.
#[derive(Debug)]
pub struct Entry {
    pub host_path: PathBuf,
    pub meta: Metadata,
}

/// The layers of an image (their `diff` directories), top first.
#[derive(Clone, Copy, Debug)]
pub struct LayerView<'a> {
    layers: &'a [PathBuf],
}

impl<'a> LayerView<'a> {
    pub fn new(layers_top_first: &'a [PathBuf]) -> LayerView<'a> {
        LayerView { layers: layers_top_first }
    }

    /// The entry at `rel` (a path without links or `..`, relative to the image's root), as
    /// overlay would show it, or `None` when no layer has it or an upper one hides it.
    pub fn lookup(&self, rel: &Path) -> Option<Entry> {
        let parts: Vec<&std::ffi::OsStr> = rel.iter().collect();
        let (last, parents) = parts.split_last()?;
        for layer in self.layers {
            let (dir, opaque) = match descend(layer, parents) {
                Descent::Missing { opaque: false } => continue,
                Descent::Missing { opaque: true } | Descent::Hidden => return None,
                Descent::Dir { dir, opaque } => (dir, opaque),
            };
            let host_path = dir.join(last);
            if let Ok(meta) = std::fs::symlink_metadata(&host_path) {
                return (!is_whiteout(&meta)).then_some(Entry { host_path, meta });
            }
            if opaque {
                return None;
            }
        }
        None
    }

    /// The directories at `rel` (resolved, as [`LayerView::resolve`] gives it) whose content
    /// overlay merges there, top first: it stops at the first layer that hides the ones below
    /// (an opaque directory at `rel` or above it, or anything that is not a directory).
    pub fn dirs_at(&self, rel: &Path) -> Vec<PathBuf> {
        let parts: Vec<&std::ffi::OsStr> = rel.iter().collect();
        let mut out = Vec::new();
        for layer in self.layers {
            match descend(layer, &parts) {
                Descent::Missing { opaque: false } => continue,
                Descent::Missing { opaque: true } | Descent::Hidden => break,
                Descent::Dir { dir, opaque } => {
                    out.push(dir);
                    if opaque {
                        break;
                    }
                }
            }
        }
        out
    }

    /// `path` as the container would resolve it: a relative path inside the image with every
    /// link followed (inside the image) and no `.` or `..` left.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, ViewError> {
        let mut todo: Vec<OsString> = components(Path::new(path));
        todo.reverse(); // a stack: the next component is last
        let mut done = PathBuf::new();
        let mut links = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            let candidate = done.join(&part);
            match self.lookup(&candidate) {
                Some(e) if e.meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(ViewError::Loop { what: shown(path) });
                    }
                    let target = std::fs::read_link(&e.host_path)
                        .map_err(|source| ViewError::Io { what: shown(path), source })?;
                    if target.is_absolute() {
                        done = PathBuf::new();
                    }
                    let mut next = components(&target);
                    next.reverse();
                    todo.extend(next);
                }
                _ => done = candidate,
            }
        }
        Ok(done)
    }

    /// The entries of the directory at `path` (links followed inside the image) as the merged
    /// tree shows them, sorted by name, each with whether it is a directory (a link to one
    /// counts, resolved inside the image); `None` when `path` is not a directory there.
    pub fn list_dir(&self, path: &str) -> Result<Option<Vec<(OsString, bool)>>, ViewError> {
        let rel = self.resolve(path)?;
        if rel.as_os_str().is_empty() {
            // the root: every layer has it
        } else if !self.lookup(&rel).is_some_and(|e| e.meta.is_dir()) {
            return Ok(None);
        }
        let mut seen = std::collections::BTreeMap::new();
        for dir in self.dirs_at(&rel) {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let name = e.file_name();
                if seen.contains_key(&name) {
                    continue;
                }
                let Ok(meta) = std::fs::symlink_metadata(e.path()) else { continue };
                // a whiteout hides the name: remembered, and left out below
                seen.insert(name, (!is_whiteout(&meta)).then_some(meta));
            }
        }
        let mut out = Vec::with_capacity(seen.len());
        for (name, meta) in seen {
            let Some(meta) = meta else { continue };
            let is_dir = if meta.file_type().is_symlink() {
                let inner = rel.join(&name);
                self.resolve(&inner.to_string_lossy())
                    .ok()
                    .is_some_and(|r| r.as_os_str().is_empty() || self.lookup(&r).is_some_and(|e| e.meta.is_dir()))
            } else {
                meta.is_dir()
            };
            out.push((name, is_dir));
        }
        Ok(Some(out))
    }

    /// The content of the regular file at `path` (links followed inside the image), at most
    /// `cap` bytes; `None` when the image has no such file.
    pub fn read_file(&self, path: &str, cap: u64) -> Result<Option<Vec<u8>>, ViewError> {
        let what = shown(path);
        let rel = self.resolve(path)?;
        let Some(entry) = self.lookup(&rel) else { return Ok(None) };
        if !entry.meta.is_file() {
            return Err(ViewError::NotAFile { what, kind: kind(&entry.meta) });
        }
        let io = |source| ViewError::Io { what: what.clone(), source };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&entry.host_path)
            .map_err(io)?;
        read_capped(file, &what, cap).map(Some)
    }
}

fn shown(path: &str) -> String {
    format!("the image's /{}", path.trim_start_matches('/'))
}

/// Where walking a layer down through directories ends.
enum Descent {
    /// A component is not in this layer; `opaque` when a directory above it hides the lower
    /// layers.
    Missing { opaque: bool },
    /// A whiteout, a file or a link stands where a directory is walked: nothing below shows.
    Hidden,
    /// Every component is a directory here; `opaque` when one of them is.
    Dir { dir: PathBuf, opaque: bool },
}

fn descend(layer: &Path, parts: &[&std::ffi::OsStr]) -> Descent {
    let mut dir = layer.to_path_buf();
    let mut opaque = false;
    for p in parts {
        dir.push(p);
        match std::fs::symlink_metadata(&dir) {
            Err(_) => return Descent::Missing { opaque },
            Ok(m) if !m.is_dir() => return Descent::Hidden,
            Ok(_) => opaque |= is_opaque(&dir),
        }
    }
    Descent::Dir { dir, opaque }
}

/// Reads an open file that must be regular (`what` names it), refusing more than `cap` bytes.
pub fn read_capped(file: File, what: &str, cap: u64) -> Result<Vec<u8>, ViewError> {
    let io = |source| ViewError::Io { what: what.to_string(), source };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ViewError::NotAFile { what: what.to_string(), kind: kind(&meta) });
    }
    if meta.len() > cap {
        return Err(ViewError::TooLarge { what: what.to_string(), cap });
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut out).map_err(io)?;
    if out.len() as u64 > cap {
        return Err(ViewError::TooLarge { what: what.to_string(), cap });
    }
    Ok(out)
}

/// What a non-regular file is, in words.
pub fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a regular file"
    }
}

/// The normal components of a path, with `..` kept (the root and `.` dropped).
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Two layers, top first, in a temporary directory.
    fn layers() -> (tempfile::TempDir, Vec<PathBuf>) {
        let tmp = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = ["top", "bottom"].iter().map(|n| tmp.path().join(n)).collect();
        for d in &dirs {
            std::fs::create_dir_all(d.join("etc")).unwrap();
        }
        (tmp, dirs)
    }

    #[test]
    fn links_resolve_inside_the_image_never_on_the_host() {
        let (_tmp, l) = layers();
        std::fs::write(l[1].join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        // An absolute link to the host's file means the image's own.
        symlink("/etc/passwd", l[0].join("etc/users")).unwrap();
        std::fs::create_dir_all(l[1].join("real")).unwrap();
        std::fs::write(l[1].join("real/hostname"), "image\n").unwrap();
        // A parent directory that is an absolute link, and `..` past the root.
        symlink("/real", l[0].join("data")).unwrap();
        symlink("../../../../real/hostname", l[0].join("etc/up")).unwrap();
        let view = LayerView::new(&l);
        assert_eq!(view.read_file("etc/users", 1024).unwrap().unwrap(), b"root:x:0:0::/root:/bin/sh\n");
        assert_eq!(view.read_file("/data/hostname", 1024).unwrap().unwrap(), b"image\n");
        assert_eq!(view.read_file("etc/up", 1024).unwrap().unwrap(), b"image\n");
        assert_eq!(view.resolve("/data/x/../hostname").unwrap(), Path::new("real/hostname"));
        // The host has /etc/hostname; the image does not.
        symlink("/etc/hostname", l[0].join("etc/host")).unwrap();
        assert!(view.read_file("etc/host", 1024).unwrap().is_none());
    }

    #[test]
    fn a_directory_lists_as_the_merged_tree_shows_it() {
        let (_tmp, l) = layers();
        std::fs::write(l[1].join("etc/gone"), "lower").unwrap();
        std::fs::write(l[1].join("etc/os-release"), "lower").unwrap();
        nix::sys::stat::mknod(&l[0].join("etc/gone"), nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0)
            .unwrap();
        std::fs::create_dir_all(l[1].join("real")).unwrap();
        symlink("/real", l[0].join("data")).unwrap();
        symlink("/etc", l[0].join("etc/host-etc")).unwrap();
        let view = LayerView::new(&l);
        let names = |p: &str| -> Vec<(String, bool)> {
            view.list_dir(p).unwrap().unwrap().into_iter().map(|(n, d)| (n.to_string_lossy().into_owned(), d)).collect()
        };
        assert_eq!(names("/"), [("data".into(), true), ("etc".into(), true), ("real".into(), true)]);
        assert_eq!(names("../../etc"), [("host-etc".into(), true), ("os-release".into(), false)]);
        assert!(view.list_dir("etc/os-release").unwrap().is_none(), "a file is no directory");
        assert!(view.list_dir("nothing").unwrap().is_none());
    }

    #[test]
    fn devices_fifos_loops_and_big_files_are_refused() {
        let (_tmp, l) = layers();
        symlink("/dev/zero", l[0].join("etc/passwd")).unwrap();
        nix::unistd::mkfifo(&l[0].join("etc/group"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        symlink("loop-b", l[0].join("etc/loop-a")).unwrap();
        symlink("loop-a", l[0].join("etc/loop-b")).unwrap();
        std::fs::write(l[0].join("etc/big"), vec![b'x'; 2048]).unwrap();
        let view = LayerView::new(&l);
        // /dev/zero is not in the image: nothing to read, rather than the host's device.
        assert!(view.read_file("etc/passwd", 1024).unwrap().is_none());
        let err = |p: &str| view.read_file(p, 1024).unwrap_err().to_string();
        assert_eq!(err("etc/group"), "the image's /etc/group is a FIFO, not a regular file");
        assert!(err("etc/loop-a").contains("too many levels of symbolic links"), "{}", err("etc/loop-a"));
        assert_eq!(err("etc/big"), "the image's /etc/big is larger than 1024 bytes");
        assert_eq!(view.read_file("etc/big", 4096).unwrap().unwrap().len(), 2048);
    }

    #[test]
    fn whiteouts_opaque_dirs_and_files_over_dirs_hide_lower_layers() {
        let (_tmp, l) = layers();
        for f in ["etc/a", "etc/b", "opaque/c", "opaque/sub/e", "file/d"] {
            std::fs::create_dir_all(l[1].join(f).parent().unwrap()).unwrap();
            std::fs::write(l[1].join(f), "lower").unwrap();
        }
        nix::sys::stat::mknod(&l[0].join("etc/a"), nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0)
            .unwrap();
        std::fs::create_dir_all(l[0].join("opaque")).unwrap();
        std::fs::write(l[0].join("file"), "a file over the lower directory").unwrap();
        let view = LayerView::new(&l);
        assert!(view.read_file("etc/a", 64).unwrap().is_none(), "whited out");
        assert_eq!(view.read_file("etc/b", 64).unwrap().unwrap(), b"lower");
        assert!(view.read_file("file/d", 64).unwrap().is_none(), "a file hides the directory below");
        assert_eq!(view.read_file("opaque/c", 64).unwrap().unwrap(), b"lower", "not opaque yet");
        for name in OPAQUE_XATTRS {
            xattr::set(l[0].join("opaque"), name, b"y").unwrap();
            assert!(view.read_file("opaque/c", 64).unwrap().is_none(), "{name} hides the lower layer");
            assert!(view.read_file("opaque/sub/e", 64).unwrap().is_none(), "{name} hides the lower subtree");
            xattr::remove(l[0].join("opaque"), name).unwrap();
        }
    }
}
