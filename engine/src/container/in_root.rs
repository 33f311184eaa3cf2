//! A running container's files, read from the host through the container's own root.
//!
//! `/proc/PID/root/etc/passwd` looks like a path into the container, but the kernel resolves
//! the rest of it from the host's side: an absolute link in the container (`/etc/passwd ->
//! /etc/shadow`) would name the host's file. Here the container's root is opened first and the
//! path is resolved with `openat2(RESOLVE_IN_ROOT)`, so links and `..` stay inside it, magic
//! links are refused, and the file is opened `O_PATH` and checked before it is read: a FIFO
//! can't hang the reader, a device is never opened, and a read stops at a cap.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;

use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::layers::view::{kind, read_capped, ViewError};

/// The root directory of process `pid`, opened `O_PATH`: the root [`open_in`] resolves in.
pub fn open_root(pid: i32) -> std::io::Result<File> {
    open_dir(std::path::Path::new(&format!("/proc/{pid}/root")))
}

/// The directory `dir` of the host opened `O_PATH`, as a root for [`open_in`] (a volume's
/// `_data`, whose links mean what they mean inside the containers that mount it).
pub fn open_dir(dir: &std::path::Path) -> std::io::Result<File> {
    let fd: OwnedFd = nix::fcntl::open(dir, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())?;
    Ok(File::from(fd))
}

/// The file at `path` in the root of process `pid`, opened `O_PATH` (not yet for reading).
fn open_path(pid: i32, path: &str) -> std::io::Result<File> {
    open_in(&open_root(pid)?, path)
}

/// The file at `path` resolved inside `root` (links and `..` never leave it), opened `O_PATH`.
pub fn open_in(root: &File, path: &str) -> std::io::Result<File> {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let rel = match path.trim_start_matches('/') {
        "" => ".",
        rel => rel,
    };
    let fd = openat2(root, rel, how).map_err(|e| match e {
        nix::Error::ENOSYS => std::io::Error::other("reading a container's files needs Linux 5.6 or newer (openat2)"),
        e => e.into(),
    })?;
    Ok(File::from(fd))
}

/// The content of the regular file at `path` inside the container whose process is `pid`,
/// at most `cap` bytes; `None` when there is no such file. `what` names the file in errors.
pub fn read(pid: i32, path: &str, cap: u64, what: &str) -> Result<Option<Vec<u8>>, ViewError> {
    let io = |source| ViewError::Io { what: what.to_string(), source };
    let file = match open_path(pid, path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ViewError::NotAFile { what: what.to_string(), kind: kind(&meta) });
    }
    // Reopened through the descriptor: the same file, now for reading.
    let readable =
        std::fs::OpenOptions::new().read(true).open(format!("/proc/self/fd/{}", file.as_raw_fd())).map_err(io)?;
    read_capped(readable, what, cap).map(Some)
}

/// Whether the container whose process is `pid` has an executable regular file at `path`.
pub fn is_executable(pid: i32, path: &str) -> bool {
    open_path(pid, path).and_then(|f| f.metadata()).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The entries of the directory at `path` inside the container whose process is `pid`, sorted,
/// each with whether it is a directory (a link to one counts, resolved inside the container);
/// `None` when there is no directory there.
pub fn list_dir(pid: i32, path: &str) -> std::io::Result<Option<Vec<(String, bool)>>> {
    let dir = match open_path(pid, path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !dir.metadata()?.is_dir() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/self/fd/{}", dir.as_raw_fd()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = match e.file_type()? {
            t if t.is_symlink() => open_path(pid, &format!("{}/{name}", path.trim_end_matches('/')))
                .and_then(|f| f.metadata())
                .is_ok_and(|m| m.is_dir()),
            t => t.is_dir(),
        };
        out.push((name, is_dir));
    }
    out.sort();
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_root_and_refuses_what_is_not_a_file() {
        // This process's root is the host's: its files are what a container's would be.
        let me = std::process::id() as i32;
        let passwd = super::read(me, "/etc/passwd", 1 << 20, "/etc/passwd").unwrap().unwrap();
        assert!(String::from_utf8_lossy(&passwd).starts_with("root:"));
        assert!(super::read(me, "/no/such/file", 1024, "/no/such/file").unwrap().is_none());
        let err = super::read(me, "/dev/zero", 1024, "/dev/zero").unwrap_err().to_string();
        assert_eq!(err, "/dev/zero is a character device, not a regular file");
        let err = super::read(me, "/etc/passwd", 4, "/etc/passwd").unwrap_err().to_string();
        assert_eq!(err, "/etc/passwd is larger than 4 bytes");
        assert!(super::is_executable(me, "/bin/sh"));
        let etc = super::list_dir(me, "/etc").unwrap().unwrap();
        assert!(etc.contains(&("passwd".to_string(), false)), "{etc:?}");
        let root = super::list_dir(me, "/../..").unwrap().unwrap();
        assert!(root.contains(&("etc".to_string(), true)), "{root:?}");
        assert!(super::list_dir(me, "/etc/passwd").unwrap().is_none());
        assert!(!super::is_executable(me, "/etc/passwd"));
    }
}
