//! The Files tabs' reading and writing: a container's or a volume's files as a [`Tree`].
//!
//! A running container's files are read through its own root and a volume's in its `_data`,
//! both with the engine's `in_root::open_in` (`openat2(RESOLVE_IN_ROOT)`): a link means what it
//! means inside, never a host file, and `..` stops at the root. A stopped container's are its
//! writable layer over its image's, merged as overlay would (`layers::view::LayerView`). Entries
//! are listed with `lstat` (a link is shown as a link, with its target as written, never
//! followed for its size or owner); a file is read only when regular and under a cap.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use berth_engine::container::in_root;
use berth_engine::layers::view::{kind, read_capped, LayerView, ViewError};

use crate::dto::{ApiError, FileContent, FileEntry, FileKind};

/// The largest file the viewer opens.
pub const VIEW_CAP: u64 = 1024 * 1024;
/// The largest tar a download makes (it crosses as base64 in one answer).
pub const DOWNLOAD_CAP: u64 = 64 * 1024 * 1024;
/// The largest file an upload takes.
pub const UPLOAD_CAP: u64 = 16 * 1024 * 1024;

/// Where a container's or a volume's files are.
pub enum Tree {
    /// A directory opened `O_PATH`, every path resolved inside it: a running container's root
    /// (`/proc/PID/root`), a volume's `_data`.
    InRoot(File),
    /// Layer directories, top first: a stopped container's writable layer over its image's.
    Layers(Vec<PathBuf>),
}

fn io_error(path: &str, e: std::io::Error) -> ApiError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ApiError::not_found(format!("{path}: no such file or directory")),
        std::io::ErrorKind::PermissionDenied => ApiError::new("forbidden", format!("{path}: permission denied")),
        _ => ApiError::engine(format!("{path}: {e}")),
    }
}

fn view_error(path: &str, e: ViewError) -> ApiError {
    match e {
        ViewError::TooLarge { cap, .. } => {
            ApiError::new("too_large", format!("{path} is larger than {} KiB: download it instead", cap / 1024))
        }
        ViewError::NotAFile { kind, .. } => ApiError::invalid(format!("{path} is {kind}, not a regular file")),
        ViewError::Io { source, .. } => io_error(path, source),
        e => ApiError::invalid(e.to_string()),
    }
}

/// `/proc/self/fd/N` of an open file: a path to it that needs no name.
fn fd_path(f: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()))
}

/// `path` made absolute and without a trailing `/` (but for the root).
pub fn clean(path: &str) -> String {
    let p = format!("/{}", path.trim().trim_matches('/'));
    if p == "/" {
        p
    } else {
        p.trim_end_matches('/').to_string()
    }
}

impl Tree {
    /// The entries of the directory at `path`: directories (and links to them) first, then by
    /// name.
    pub fn list(&self, path: &str) -> Result<Vec<FileEntry>, ApiError> {
        let path = clean(path);
        let mut out = match self {
            Tree::InRoot(root) => {
                let dir = in_root::open_in(root, &path).map_err(|e| io_error(&path, e))?;
                let meta = dir.metadata().map_err(|e| io_error(&path, e))?;
                if !meta.is_dir() {
                    return Err(ApiError::invalid(format!("{path} is {}, not a directory", kind(&meta))));
                }
                let base = fd_path(&dir);
                let mut out = Vec::new();
                for e in std::fs::read_dir(&base).map_err(|e| io_error(&path, e))? {
                    let e = e.map_err(|e| io_error(&path, e))?;
                    let name = e.file_name().to_string_lossy().into_owned();
                    // lstat of the name in the opened directory: a link stays a link
                    let Ok(meta) = std::fs::symlink_metadata(base.join(&name)) else { continue };
                    let target =
                        meta.file_type().is_symlink().then(|| std::fs::read_link(base.join(&name)).ok()).flatten();
                    let to_dir = target.is_some()
                        && in_root::open_in(root, &format!("{}/{name}", path.trim_end_matches('/')))
                            .and_then(|f| f.metadata())
                            .is_ok_and(|m| m.is_dir());
                    out.push(entry(name, &meta, target, to_dir));
                }
                out
            }
            Tree::Layers(layers) => {
                let view = LayerView::new(layers);
                let rel = view.resolve(&path).map_err(|e| view_error(&path, e))?;
                let names = view
                    .list_dir(&path)
                    .map_err(|e| view_error(&path, e))?
                    .ok_or_else(|| ApiError::not_found(format!("{path}: no such directory")))?;
                let mut out = Vec::new();
                for (name, to_dir) in names {
                    let Some(found) = view.lookup(&rel.join(&name)) else { continue };
                    let target = found.meta.file_type().is_symlink().then(|| std::fs::read_link(&found.host_path).ok());
                    let name = name.to_string_lossy().into_owned();
                    out.push(entry(name, &found.meta, target.flatten(), to_dir && found.meta.file_type().is_symlink()));
                }
                out
            }
        };
        out.sort_by(|a, b| {
            let dir = |e: &FileEntry| !(e.kind == FileKind::Dir || e.link_to_dir);
            (dir(a), &a.name).cmp(&(dir(b), &b.name))
        });
        Ok(out)
    }

    /// The regular file at `path` for the viewer: at most `cap` bytes, text or `binary`.
    pub fn read(&self, path: &str, cap: u64) -> Result<FileContent, ApiError> {
        let path = clean(path);
        let bytes = match self {
            Tree::InRoot(root) => {
                let file = in_root::open_in(root, &path).map_err(|e| io_error(&path, e))?;
                let meta = file.metadata().map_err(|e| io_error(&path, e))?;
                if !meta.is_file() {
                    return Err(ApiError::invalid(format!("{path} is {}, not a regular file", kind(&meta))));
                }
                if meta.len() > cap {
                    return Err(view_error(&path, ViewError::TooLarge { what: path.clone(), cap }));
                }
                // Reopened through the descriptor: the same file, now for reading.
                let readable = File::open(fd_path(&file)).map_err(|e| io_error(&path, e))?;
                read_capped(readable, &path, cap).map_err(|e| view_error(&path, e))?
            }
            Tree::Layers(layers) => LayerView::new(layers)
                .read_file(&path, cap)
                .map_err(|e| view_error(&path, e))?
                .ok_or_else(|| ApiError::not_found(format!("{path}: no such file")))?,
        };
        let size = bytes.len() as u64;
        let head = &bytes[..bytes.len().min(8192)];
        let text = if head.contains(&0) { None } else { String::from_utf8(bytes).ok() };
        Ok(FileContent { path, size, binary: text.is_none(), text })
    }

    /// The names of the uids and gids in this tree's /etc/passwd and /etc/group (a container's:
    /// a volume's files belong to whichever container mounts it).
    pub fn owner_names(&self) -> (HashMap<u32, String>, HashMap<u32, String>) {
        let table = |path: &str| -> HashMap<u32, String> {
            let Ok(content) = self.read(path, VIEW_CAP) else { return HashMap::new() };
            content
                .text
                .unwrap_or_default()
                .lines()
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    let id = f.nth(1)?.parse().ok()?;
                    Some((id, name.to_string()))
                })
                .collect()
        };
        (table("/etc/passwd"), table("/etc/group"))
    }

    /// A tar of the file or directory at `path` in a [`Tree::InRoot`] (a volume's files: a
    /// container's go through the engine's copy helper), links stored as links, at most `cap`
    /// bytes.
    pub fn tar(&self, path: &str, cap: u64) -> Result<Vec<u8>, ApiError> {
        let path = clean(path);
        let Tree::InRoot(root) = self else {
            return Err(ApiError::invalid("a container's files are copied out by the engine"));
        };
        let found = in_root::open_in(root, &path).map_err(|e| io_error(&path, e))?;
        let meta = found.metadata().map_err(|e| io_error(&path, e))?;
        let name = Path::new(&path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| ".".into());
        let mut out = CappedWriter { buf: Vec::new(), cap };
        let written = {
            let mut tar = tar::Builder::new(&mut out);
            tar.follow_symlinks(false);
            if meta.is_dir() {
                // `/.` below the descriptor's path: the directory itself, not /proc's link to it
                tar.append_dir_all(&name, fd_path(&found).join(".")).and_then(|_| tar.finish())
            } else if meta.is_file() {
                let mut file = File::open(fd_path(&found)).map_err(|e| io_error(&path, e))?;
                tar.append_file(&name, &mut file).and_then(|_| tar.finish())
            } else {
                return Err(ApiError::invalid(format!("{path} is {}: nothing to download", kind(&meta))));
            }
        };
        match written {
            Ok(()) => Ok(out.buf),
            Err(_) if out.buf.len() as u64 > cap => Err(too_big_download(&path, cap)),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// Writes `data` as the file `name` in the directory `dir` of a [`Tree::InRoot`], never
    /// through a link (a volume's files: a container's go through the engine's copy helper).
    pub fn write_file(&self, dir: &str, name: &str, data: &[u8]) -> Result<(), ApiError> {
        let dir = clean(dir);
        check_name(name)?;
        let Tree::InRoot(root) = self else {
            return Err(ApiError::invalid("a container's files are copied in by the engine"));
        };
        let d = in_root::open_in(root, &dir).map_err(|e| io_error(&dir, e))?;
        if !d.metadata().map_err(|e| io_error(&dir, e))?.is_dir() {
            return Err(ApiError::invalid(format!("{dir} is not a directory")));
        }
        let shown = format!("{}/{name}", dir.trim_end_matches('/'));
        use nix::fcntl::OFlag;
        let fd = nix::fcntl::openat(
            &d,
            name,
            OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_TRUNC
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC
                | OFlag::O_NONBLOCK,
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .map_err(|e| match e {
            nix::Error::ELOOP => ApiError::invalid(format!("{shown} is a link: not written through")),
            e => io_error(&shown, e.into()),
        })?;
        let mut file = File::from(fd);
        let meta = file.metadata().map_err(|e| io_error(&shown, e))?;
        if !meta.is_file() {
            return Err(ApiError::invalid(format!("{shown} is {}, not a regular file", kind(&meta))));
        }
        file.write_all(data).map_err(|e| io_error(&shown, e))
    }
}

/// An uploaded file's name: one component.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(ApiError::invalid(format!("{name:?} is not a file name")));
    }
    Ok(())
}

pub fn too_big_download(path: &str, cap: u64) -> ApiError {
    ApiError::new("too_large", format!("{path} makes a tar larger than {} MiB: too big to download here", cap >> 20))
}

/// A buffer that refuses to grow past `cap` (a download's tar).
pub struct CappedWriter {
    pub buf: Vec<u8>,
    pub cap: u64,
}

impl Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if (self.buf.len() + data.len()) as u64 > self.cap {
            self.buf.extend_from_slice(&data[..(self.cap as usize + 1).saturating_sub(self.buf.len()).min(data.len())]);
            return Err(std::io::Error::other("the download is too big"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn entry(name: String, meta: &Metadata, link_target: Option<PathBuf>, link_to_dir: bool) -> FileEntry {
    let t = meta.file_type();
    let kind = if t.is_symlink() {
        FileKind::Link
    } else if t.is_dir() {
        FileKind::Dir
    } else if t.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    };
    FileEntry {
        name,
        kind,
        size: meta.len(),
        mode: mode_string(meta),
        uid: meta.uid(),
        gid: meta.gid(),
        user: None,
        group: None,
        mtime: meta.mtime(),
        link_target: link_target.map(|t| t.to_string_lossy().into_owned()),
        link_to_dir,
    }
}

/// The mode as `ls -l` prints it.
pub fn mode_string(meta: &Metadata) -> String {
    let t = meta.file_type();
    let first = if t.is_dir() {
        'd'
    } else if t.is_symlink() {
        'l'
    } else if t.is_char_device() {
        'c'
    } else if t.is_block_device() {
        'b'
    } else if t.is_fifo() {
        'p'
    } else if t.is_socket() {
        's'
    } else {
        '-'
    };
    let m = meta.mode();
    let mut s = String::with_capacity(10);
    s.push(first);
    for (i, shift) in [6, 3, 0].into_iter().enumerate() {
        let bits = (m >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let special = m & (0o4000 >> i) != 0;
        s.push(match (bits & 1 != 0, special, i) {
            (true, true, 2) => 't',
            (false, true, 2) => 'T',
            (true, true, _) => 's',
            (false, true, _) => 'S',
            (true, false, _) => 'x',
            (false, false, _) => '-',
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A root with /etc/passwd, a link out of it, a link up past it, a link to a directory in
    /// it, and a big file.
    fn root() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::create_dir_all(r.join("data/sub")).unwrap();
        std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/:/bin/false\n").unwrap();
        std::fs::write(r.join("etc/group"), "root:x:0:\n").unwrap();
        symlink("/etc", r.join("host-etc")).unwrap(); // inside: the root's /etc, never the host's
        symlink("/root", r.join("escape")).unwrap(); // names nothing inside
        symlink("../../../../../etc/shadow", r.join("data/up")).unwrap();
        symlink("sub", r.join("data/to-sub")).unwrap();
        std::fs::write(r.join("data/big"), vec![b'x'; 4096]).unwrap();
        std::fs::write(r.join("data/bin"), b"ELF\0\x01\x02").unwrap();
        tmp
    }

    fn in_root(dir: &Path) -> Tree {
        Tree::InRoot(in_root::open_dir(dir).unwrap())
    }

    #[test]
    fn directories_come_first_and_links_are_links() {
        let tmp = root();
        let t = in_root(tmp.path());
        let top = t.list("/").unwrap();
        let names: Vec<&str> = top.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["data", "etc", "host-etc", "escape"], "directories and links to them first");
        let escape = top.iter().find(|e| e.name == "escape").unwrap();
        assert_eq!(escape.kind, FileKind::Link);
        assert_eq!(escape.link_target.as_deref(), Some("/root"));
        assert!(!escape.link_to_dir, "/root is not in this root: the host's /root is never looked at");
        assert!(escape.mode.starts_with('l'), "{}", escape.mode);
        let data = t.list("/data/").unwrap();
        let up = data.iter().find(|e| e.name == "up").unwrap();
        assert_eq!((up.kind, up.link_target.as_deref()), (FileKind::Link, Some("../../../../../etc/shadow")));
        assert!(data.iter().find(|e| e.name == "to-sub").unwrap().link_to_dir);
        let big = data.iter().find(|e| e.name == "big").unwrap();
        assert_eq!((big.kind, big.size), (FileKind::File, 4096));
        assert_eq!(big.mode.len(), 10);
    }

    #[test]
    fn a_link_out_of_the_root_is_never_followed() {
        let tmp = root();
        let t = in_root(tmp.path());
        // host-etc -> /etc is this root's /etc
        let etc: Vec<String> = t.list("/host-etc").unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(etc, ["group", "passwd"]);
        let passwd = t.read("/host-etc/passwd", VIEW_CAP).unwrap();
        assert!(passwd.text.unwrap().contains("www:x:33"));
        // escape -> /root: nothing in this root, though the host has /root
        assert_eq!(t.list("/escape").unwrap_err().code, "not_found");
        // up -> ../../../etc/shadow stops at the root: this root has no /etc/shadow
        assert_eq!(t.read("/data/up", VIEW_CAP).unwrap_err().code, "not_found");
        assert_eq!(t.read("/../../etc/hostname", VIEW_CAP).unwrap_err().code, "not_found");
        // a download keeps the links as links
        let tar_bytes = t.tar("/data", DOWNLOAD_CAP).unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let mut links = Vec::new();
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            if e.header().entry_type() == tar::EntryType::Symlink {
                links.push((
                    e.path().unwrap().display().to_string(),
                    e.link_name().unwrap().unwrap().display().to_string(),
                ));
            }
        }
        links.sort();
        assert_eq!(
            links,
            [("data/to-sub".to_string(), "sub".to_string()), ("data/up".into(), "../../../../../etc/shadow".into())]
        );
        // an upload never writes through a link
        let err = t.write_file("/data", "up", b"x").unwrap_err();
        assert!(err.message.contains("is a link"), "{}", err.message);
        assert_eq!(t.write_file("/escape", "x", b"x").unwrap_err().code, "not_found");
        t.write_file("/host-etc", "new", b"hello").unwrap();
        assert_eq!(std::fs::read(tmp.path().join("etc/new")).unwrap(), b"hello");
        assert_eq!(t.write_file("/etc", "../x", b"x").unwrap_err().code, "invalid");
    }

    #[test]
    fn a_file_too_big_or_not_regular_is_refused() {
        let tmp = root();
        let t = in_root(tmp.path());
        let err = t.read("/data/big", 1024).unwrap_err();
        assert_eq!(err.code, "too_large");
        assert!(err.message.contains("/data/big is larger than 1 KiB"), "{}", err.message);
        assert_eq!(t.read("/data/big", 4096).unwrap().size, 4096);
        assert_eq!(t.read("/data", 1024).unwrap_err().code, "invalid");
        let bin = t.read("/data/bin", 1024).unwrap();
        assert!(bin.binary && bin.text.is_none());
        nix::unistd::mkfifo(&tmp.path().join("data/fifo"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let err = t.read("/data/fifo", 1024).unwrap_err();
        assert_eq!(err.message, "/data/fifo is a FIFO, not a regular file");
        assert_eq!(t.tar("/data/big", 1000).unwrap_err().code, "too_large");
    }

    #[test]
    fn layers_list_as_the_merged_tree_with_links_as_links() {
        let tmp = tempfile::tempdir().unwrap();
        let upper = tmp.path().join("upper");
        let lower = root();
        std::fs::create_dir_all(upper.join("data")).unwrap();
        std::fs::write(upper.join("data/new"), "upper").unwrap();
        let t = Tree::Layers(vec![upper, lower.path().to_path_buf()]);
        let data = t.list("/data").unwrap();
        let names: Vec<&str> = data.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["sub", "to-sub", "big", "bin", "new", "up"]);
        let up = data.iter().find(|e| e.name == "up").unwrap();
        assert_eq!(up.kind, FileKind::Link);
        assert_eq!(t.read("/data/up", VIEW_CAP).unwrap_err().code, "not_found", "never the host's /etc/shadow");
        assert_eq!(t.read("/host-etc/passwd", VIEW_CAP).unwrap().size, 56);
        assert_eq!(t.read("/data/big", 100).unwrap_err().code, "too_large");
        let (users, _) = t.owner_names();
        assert_eq!(users.get(&33).map(String::as_str), Some("www"));
    }

    #[test]
    fn modes_print_as_ls_prints_them() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        std::fs::write(&f, "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        for (mode, shown) in
            [(0o644, "-rw-r--r--"), (0o4755, "-rwsr-xr-x"), (0o1777, "-rwxrwxrwt"), (0o2640, "-rw-r-S---")]
        {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(mode_string(&std::fs::metadata(&f).unwrap()), shown);
        }
        assert_eq!(mode_string(&std::fs::metadata(tmp.path()).unwrap()).chars().next(), Some('d'));
    }
}
