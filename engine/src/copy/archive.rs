//! The two ends of a copy, the same on the host and inside a container's root: [`send`] writes
//! a tar of one path, [`receive`] places a tar at a destination with Podman's rules, and
//! [`open_stdin_archive`] reads a user's (compressed) tar. Nothing here knows containers:
//! the copy helper calls these after entering one, the `berth` command on the host.
//!
//! The tar `send` writes has one root: the source named by the last component of the path the
//! user gave (a link is followed: `ctr:/link` copies what it names), or `.` for a directory's
//! contents (`dir/.`). `receive` maps that root onto the destination:
//!
//! - an existing directory (links followed): into it, as its own name, or its contents merged;
//! - an existing file: replaced by a file, refused for a directory;
//! - nothing: created under that name (its parent must exist; a dangling link at the path is
//!   followed, so the file lands where the link points, as with Podman);
//! - a trailing `/` asks for an existing directory.
//!
//! A file over a directory or a directory over a file fails ("file exists") unless the user
//! asked for `--overwrite`. On the host every entry must land below the destination: a link the
//! archive made is never written through to elsewhere.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Where a copy's paths are, for messages: `on container NAME` or `on the host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Container(String),
    Host,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Container(name) => write!(f, "on container {name}"),
            Place::Host => f.write_str("on the host"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("\"{path}\" could not be found {place}: no such file or directory")]
    NotFound { path: String, place: Place },
    #[error("destination must be a directory when copying a directory")]
    DirectoryOverFile,
    #[error("destination must be a directory when copying from stdin")]
    StdinNeedsDirectory,
    #[error("source must be a (compressed) tar archive when copying from stdin")]
    NotAnArchive,
    #[error("the archive on stdin is compressed with {0}, which berth cannot read: decompress it first")]
    UnsupportedCompression(&'static str),
    #[error("invalid destination: \"{0}\" must be a directory or a regular file")]
    InvalidDestination(String),
    #[error(
        "copying into {into}: error creating \"{shown}\": {what} is in the way (--overwrite replaces it): file exists"
    )]
    InTheWay { into: String, shown: String, what: &'static str },
    #[error("the archive names \"{0}\", which leaves the destination: refused")]
    Escapes(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CopyError {
    let context = context.into();
    move |source| CopyError::Io { context, source }
}

/// Whose the files a copy writes become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The process writing them (a copy to the host).
    Writer,
    /// One user, the container's (`--archive`, Podman's default).
    Fixed { uid: u32, gid: u32 },
    /// As the archive says (`--archive=false`).
    FromArchive,
}

/// How [`receive`] places an archive.
#[derive(Clone, Debug)]
pub struct Receive {
    /// The archive is a directory's contents (the source ended in `/.`).
    pub contents: bool,
    /// Replace a directory by a file and a file by a directory.
    pub overwrite: bool,
    pub owner: Owner,
    /// The destination is on the host: entries must stay below it, and messages name paths
    /// relative to it.
    pub host: bool,
    pub place: Place,
}

/// Whether the user's path asks for a directory's contents (`dir/.`, or `/`).
pub fn wants_contents(path: &str) -> bool {
    path == "/" || path.ends_with("/.")
}

/// Where `path` is, its links resolved; with `follow` false a link as the last component stays
/// itself (Docker's API sends and stats such a link as a link), unless the path ends in `/` or
/// `/.`, which asks for what the link names.
fn locate(path: &str, follow: bool) -> std::io::Result<PathBuf> {
    let as_given = Path::new(path);
    match as_given.file_name() {
        Some(name) if !follow && !path.ends_with('/') && !wants_contents(path) => {
            let parent = as_given.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Ok(std::fs::canonicalize(parent)?.join(name))
        }
        _ => std::fs::canonicalize(path),
    }
}

/// What is at a path, as Docker's `docker cp` asks for it (`HEAD /containers/{id}/archive`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PathStat {
    /// The last component of the path as given: `.` for `dir/.`, `/` for the root.
    pub name: String,
    pub size: u64,
    /// `st_mode`: the file's type and permission bits.
    pub mode: u32,
    /// The modification time: seconds and nanoseconds since the epoch.
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// For a link, the path it leads to, resolved in the same root.
    pub link_target: Option<String>,
}

/// `path`'s metadata (its last link followed with `follow`), or `None` when nothing is there.
pub fn stat(path: &str, follow: bool) -> Option<PathStat> {
    use std::os::unix::fs::MetadataExt;
    let resolved = locate(path, follow).ok()?;
    let meta = std::fs::symlink_metadata(&resolved).ok()?;
    if (path.ends_with('/') || wants_contents(path)) && !meta.is_dir() {
        return None;
    }
    let link_target = meta.is_symlink().then(|| {
        let target = std::fs::canonicalize(&resolved).unwrap_or_else(|_| follow_dangling(&resolved));
        target.display().to_string()
    });
    let trimmed = path.trim_end_matches('/');
    let name = if trimmed.is_empty() { "/" } else { trimmed.rsplit('/').next().unwrap_or(trimmed) };
    Some(PathStat {
        name: name.to_string(),
        size: meta.size(),
        mode: meta.mode(),
        mtime: meta.mtime(),
        mtime_nsec: meta.mtime_nsec().clamp(0, 999_999_999) as u32,
        link_target,
    })
}

/// Writes a tar of `path` (the user's spelling is `shown`) to `out`; see the module's doc. With
/// `follow` false a link named by `path` is sent as a link (see [`locate`]).
pub fn send(path: &str, shown: &str, place: &Place, follow: bool, out: impl Write) -> Result<(), CopyError> {
    let not_found = || CopyError::NotFound { path: shown.to_string(), place: place.clone() };
    let resolved = locate(path, follow).map_err(|_| not_found())?;
    let meta = std::fs::symlink_metadata(&resolved).map_err(|_| not_found())?;
    let name: Vec<u8> = if wants_contents(path) {
        if !meta.is_dir() {
            return Err(not_found());
        }
        b".".to_vec()
    } else {
        Path::new(path).file_name().map(|n| n.as_bytes().to_vec()).unwrap_or_else(|| b".".to_vec())
    };
    let mut tar = tar::Builder::new(out);
    append_tree(&mut tar, name, &resolved)
        .and_then(|_| tar.into_inner())
        .and_then(|mut w| w.flush())
        .map_err(io(format!("reading {shown} {place}")))
}

/// Appends `src` as `name`, and a directory's entries below it as `name/…`, in name order;
/// links are not followed, sockets are left out. Names are written as given: the `./` of a
/// directory's contents stays (Docker's clients rename the entries of `dir/.` by that prefix,
/// which tar-rs's own walk drops). A name or link past a header's field goes before it in a GNU
/// long-name entry.
fn append_tree<W: Write>(tar: &mut tar::Builder<W>, name: Vec<u8>, src: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::symlink_metadata(src)?;
    let kind = meta.file_type();
    if kind.is_socket() {
        return Ok(());
    }
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
    if kind.is_symlink() {
        let target = std::fs::read_link(src)?;
        set_name(tar, &mut header, target.as_os_str().as_bytes(), tar::EntryType::GNULongLink)?;
    }
    if kind.is_char_device() || kind.is_block_device() {
        header.set_device_major(libc::major(meta.rdev()))?;
        header.set_device_minor(libc::minor(meta.rdev()))?;
    }
    let mut shown = name.clone();
    if kind.is_dir() && !shown.ends_with(b"/") {
        shown.push(b'/');
    }
    set_name(tar, &mut header, &shown, tar::EntryType::GNULongName)?;
    header.set_cksum();
    if kind.is_file() {
        // what the header says, even if the file grows meanwhile
        tar.append(&header, std::fs::File::open(src)?.take(meta.len()))?;
    } else {
        tar.append(&header, std::io::empty())?;
    }
    if kind.is_dir() {
        let mut children =
            std::fs::read_dir(src)?.map(|e| e.map(|e| e.file_name())).collect::<std::io::Result<Vec<_>>>()?;
        children.sort();
        for child in children {
            let mut child_name = shown.clone();
            child_name.extend_from_slice(child.as_bytes());
            append_tree(tar, child_name, &src.join(&child))?;
        }
    }
    Ok(())
}

/// Writes `value` into the header's name field (`GNULongName`) or link field (`GNULongLink`),
/// after a long-name entry holding all of it when it does not fit.
fn set_name<W: Write>(
    tar: &mut tar::Builder<W>,
    header: &mut tar::Header,
    value: &[u8],
    kind: tar::EntryType,
) -> std::io::Result<()> {
    let old = header.as_old_mut();
    let field = if kind == tar::EntryType::GNULongName { &mut old.name } else { &mut old.linkname };
    if value.len() > field.len() {
        let mut long = tar::Header::new_gnu();
        long.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        long.set_mode(0o644);
        long.set_entry_type(kind);
        long.set_size(value.len() as u64 + 1);
        long.set_cksum();
        tar.append(&long, value.chain(&[0u8][..]))?;
    }
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    Ok(())
}

/// Reads a user's tar, plain, gzip or zstd: the bytes of the tar, checked to start with a tar
/// header.
pub fn open_stdin_archive(mut input: impl Read + 'static) -> Result<Box<dyn Read>, CopyError> {
    let mut magic = Vec::with_capacity(6);
    (&mut input).take(6).read_to_end(&mut magic).map_err(io("reading stdin"))?;
    let chained = std::io::Cursor::new(magic.clone()).chain(input);
    let mut stream: Box<dyn Read> = match magic.as_slice() {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(chained)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => {
            Box::new(zstd::stream::read::Decoder::new(chained).map_err(io("reading a zstd stream on stdin"))?)
        }
        [b'B', b'Z', b'h', ..] => return Err(CopyError::UnsupportedCompression("bzip2")),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => return Err(CopyError::UnsupportedCompression("xz")),
        _ => Box::new(chained),
    };
    let mut block = Vec::with_capacity(512);
    (&mut stream).take(512).read_to_end(&mut block).map_err(|_| CopyError::NotAnArchive)?;
    if block.len() < 512 || !is_tar_header(&block) {
        return Err(CopyError::NotAnArchive);
    }
    Ok(Box::new(std::io::Cursor::new(block).chain(stream)))
}

/// A tar header block (its checksum matches) or the zero block of an empty archive.
fn is_tar_header(block: &[u8]) -> bool {
    if block.iter().all(|&b| b == 0) {
        return true;
    }
    let field = String::from_utf8_lossy(&block[148..156]);
    let Ok(expected) = u32::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8) else {
        return false;
    };
    let sum: u32 = block.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u32 }).sum();
    sum == expected
}

/// The components of an entry's path, `.` dropped; `..` or an absolute path is refused.
fn parts(path: &Path) -> Result<Vec<OsString>, CopyError> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n.to_os_string()),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) | Component::ParentDir => {
                return Err(CopyError::Escapes(path.display().to_string()))
            }
        }
    }
    Ok(out)
}

/// Follows `path` while it is a link, resolving each target against the link's directory:
/// where a write at `path` lands. At most 40 links, as the kernel.
fn follow_dangling(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(target) => p = p.parent().unwrap_or(Path::new("/")).join(target),
            Err(_) => break,
        }
    }
    p
}

/// Places the archive `input` at `dest`; see the module's doc. `archive` is a user's own tar
/// (stdin): it is unpacked as it is into `dest`, which must be a directory.
pub fn receive(input: impl Read, dest: &str, archive: bool, how: &Receive) -> Result<(), CopyError> {
    let mut tar = tar::Archive::new(input);
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    tar.set_overwrite(true);
    tar.set_unpack_xattrs(false);
    tar.set_preserve_ownerships(how.owner == Owner::FromArchive);
    let not_found = || CopyError::NotFound { path: dest.to_string(), place: how.place.clone() };
    let dest_meta = std::fs::metadata(dest).ok();
    let dest_is_dir = dest_meta.as_ref().is_some_and(|m| m.is_dir());
    if archive && !dest_is_dir {
        return Err(CopyError::StdinNeedsDirectory);
    }
    if (dest.ends_with('/') || dest.ends_with("/.")) && !dest_is_dir {
        return Err(not_found());
    }
    if how.host {
        // a device, a pipe or a socket is no place for files; nor is a link to anything but a
        // directory (`/dev/stdout` is one: only `-` means standard output, as in Podman)
        let link = std::fs::symlink_metadata(dest).is_ok_and(|m| m.file_type().is_symlink());
        if let Some(m) = &dest_meta {
            if !m.is_dir() && (link || !m.is_file()) {
                return Err(CopyError::InvalidDestination(dest.to_string()));
            }
        }
    }
    // Where the root of the archive goes (`target`), and the directory it goes into (`base`):
    // known at the first entry, which tells whether the source is a directory.
    let mut plan: Option<(PathBuf, PathBuf, bool)> = None; // (target, base, target existed)
    let entries = tar.entries().map_err(io("reading the archive"))?;
    for entry in entries {
        let mut entry = entry.map_err(io("reading the archive"))?;
        let raw = entry.path().map_err(io("reading the archive"))?.into_owned();
        let mut rel = parts(&raw)?;
        let is_dir = entry.header().entry_type().is_dir();
        if plan.is_none() {
            plan = Some(place_root(dest, dest_is_dir, dest_meta.is_some(), archive, how, &rel, is_dir, not_found)?);
        }
        let (target, base, existed) = plan.as_ref().expect("planned");
        if !archive && !how.contents {
            if rel.is_empty() {
                continue; // a root named `.` where a name was expected: nothing to place
            }
            rel.remove(0);
        }
        let path = rel.iter().fold(target.clone(), |p, c| p.join(c));
        if rel.is_empty() && *existed && is_dir {
            continue; // an existing directory keeps its own owner and mode
        }
        place_entry(&mut entry, &path, base, is_dir, how, target, archive)?;
    }
    Ok(())
}

/// Where the archive's root goes: (target, base, whether the target is an existing directory).
#[allow(clippy::too_many_arguments)]
fn place_root(
    dest: &str,
    dest_is_dir: bool,
    dest_exists: bool,
    archive: bool,
    how: &Receive,
    first: &[OsString],
    first_is_dir: bool,
    not_found: impl Fn() -> CopyError,
) -> Result<(PathBuf, PathBuf, bool), CopyError> {
    let resolve = |p: &str| std::fs::canonicalize(p).map_err(|_| not_found());
    if archive {
        let d = resolve(dest)?;
        return Ok((d.clone(), d, true));
    }
    let source_is_dir = how.contents || first_is_dir || first.len() > 1;
    if dest_is_dir {
        let d = resolve(dest)?;
        if how.contents {
            return Ok((d.clone(), d, true));
        }
        let Some(name) = first.first() else { return Ok((d.clone(), d, true)) };
        let target = d.join(name);
        return Ok((target, d, false));
    }
    if dest_exists && source_is_dir {
        return Err(CopyError::DirectoryOverFile);
    }
    // A new name (or a file to replace): its parent must be a directory.
    let landing = if dest_exists { resolve(dest)? } else { follow_dangling(Path::new(dest)) };
    let parent = landing.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("/"));
    let parent = std::fs::canonicalize(parent).map_err(|_| not_found())?;
    if !parent.is_dir() {
        return Err(not_found());
    }
    let name = landing.file_name().ok_or_else(not_found)?;
    Ok((parent.join(name), parent, false))
}

/// Writes one entry at `path`, after the checks: inside `base` on the host, nothing of the
/// other kind in the way unless `--overwrite`.
fn place_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    path: &Path,
    base: &Path,
    is_dir: bool,
    how: &Receive,
    target: &Path,
    archive: bool,
) -> Result<(), CopyError> {
    let shown = || {
        if how.host {
            format!("/{}", path.strip_prefix(base).unwrap_or(path).display())
        } else {
            path.display().to_string()
        }
    };
    let parent = path.parent().unwrap_or(Path::new("/"));
    if !parent.exists() {
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    if how.host {
        let real = std::fs::canonicalize(parent).map_err(io(format!("resolving {}", parent.display())))?;
        if !real.starts_with(base) {
            return Err(CopyError::Escapes(shown()));
        }
    }
    if let Ok(existing) = std::fs::symlink_metadata(path) {
        let existing_dir = existing.is_dir() || (existing.is_symlink() && path.is_dir());
        if existing_dir != is_dir {
            if !how.overwrite {
                let what = if existing_dir { "a directory" } else { "a file" };
                let into = match &how.place {
                    Place::Container(name) => format!("container {name}"),
                    Place::Host => base.display().to_string(),
                };
                return Err(CopyError::InTheWay { into, shown: shown(), what });
            }
            let removed = if existing.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
            removed.map_err(io(format!("replacing {}", shown())))?;
        }
    }
    let kind = entry.header().entry_type();
    if kind.is_hard_link() {
        // The link's target is mapped like the entry names: it must be a file already placed.
        let name = entry.link_name().map_err(io("reading the archive"))?.unwrap_or_default().into_owned();
        let mut rel = parts(&name)?;
        if !archive && !how.contents && !rel.is_empty() {
            rel.remove(0);
        }
        let source = rel.iter().fold(target.to_path_buf(), |p, c| p.join(c));
        if how.host && !std::fs::canonicalize(&source).is_ok_and(|s| s.starts_with(base)) {
            return Err(CopyError::Escapes(name.display().to_string()));
        }
        let _ = std::fs::remove_file(path);
        return std::fs::hard_link(&source, path).map_err(io(format!("linking {}", shown())));
    }
    entry.unpack(path).map_err(io(format!("writing {}", shown())))?;
    if let Owner::Fixed { uid, gid } = how.owner {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
            .map_err(io(format!("changing the owner of {}", shown())))?;
        // A change of owner clears set-id bits: the archive's mode is put back.
        let mode = entry.header().mode().unwrap_or(0);
        if !kind.is_symlink() && mode & 0o7000 != 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(io(format!("setting the mode of {}", shown())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Receive {
        Receive { contents: false, overwrite: false, owner: Owner::Writer, host: true, place: Place::Host }
    }

    fn tar_of(path: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        send(path.to_str().unwrap(), path.to_str().unwrap(), &Place::Host, true, &mut out).unwrap();
        out
    }

    #[test]
    fn a_file_lands_in_a_directory_under_a_new_name_or_through_a_dangling_link() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.txt");
        std::fs::write(&src, "x").unwrap();
        let into = dir.path().join("into");
        std::fs::create_dir(&into).unwrap();
        receive(&tar_of(&src)[..], into.to_str().unwrap(), false, &host()).unwrap();
        assert_eq!(std::fs::read_to_string(into.join("src.txt")).unwrap(), "x");
        let renamed = dir.path().join("renamed");
        receive(&tar_of(&src)[..], renamed.to_str().unwrap(), false, &host()).unwrap();
        assert_eq!(std::fs::read_to_string(&renamed).unwrap(), "x");
        std::os::unix::fs::symlink("nonesuch", dir.path().join("link")).unwrap();
        receive(&tar_of(&src)[..], dir.path().join("link").to_str().unwrap(), false, &host()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("nonesuch")).unwrap(), "x");
        let err = receive(&tar_of(&src)[..], dir.path().join("no/").to_str().unwrap(), false, &host()).unwrap_err();
        assert!(err.to_string().contains("could not be found on the host"), "{err}");
    }

    #[test]
    fn a_file_over_a_directory_needs_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/foo"), "file").unwrap();
        let dest = dir.path().join("b");
        std::fs::create_dir_all(dest.join("foo")).unwrap();
        let tar = tar_of(&dir.path().join("a/foo"));
        let err = receive(&tar[..], dest.to_str().unwrap(), false, &host()).unwrap_err();
        assert!(err.to_string().contains("error creating \"/foo\": a directory is in the way"), "{err}");
        receive(&tar[..], dest.to_str().unwrap(), false, &Receive { overwrite: true, ..host() }).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("foo")).unwrap(), "file");
    }

    #[test]
    fn contents_merge_and_a_directory_is_refused_over_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/sub")).unwrap();
        std::fs::write(dir.path().join("src/sub/f"), "f").unwrap();
        let dest = dir.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        let src = format!("{}/.", dir.path().join("src").display());
        let mut tar = Vec::new();
        send(&src, &src, &Place::Host, true, &mut tar).unwrap();
        receive(&tar[..], dest.to_str().unwrap(), false, &Receive { contents: true, ..host() }).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("sub/f")).unwrap(), "f");
        std::fs::write(dir.path().join("file"), "").unwrap();
        let err =
            receive(&tar_of(&dir.path().join("src"))[..], dir.path().join("file").to_str().unwrap(), false, &host())
                .unwrap_err();
        assert_eq!(err.to_string(), "destination must be a directory when copying a directory");
    }

    fn names(tar: &[u8]) -> Vec<String> {
        tar::Archive::new(tar).entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
    }

    #[test]
    fn stat_and_send_take_a_link_as_itself_unless_asked_to_follow() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/f"), "hi").unwrap();
        std::os::unix::fs::symlink("d", dir.path().join("link")).unwrap();
        let link = dir.path().join("link").display().to_string();
        let real = std::fs::canonicalize(dir.path().join("d")).unwrap().display().to_string();
        let s = stat(&link, false).unwrap();
        assert_eq!((s.name.as_str(), s.mode & 0o170000, s.link_target), ("link", 0o120000, Some(real)));
        let s = stat(&link, true).unwrap();
        assert_eq!((s.name.as_str(), s.mode & 0o170000, s.link_target), ("link", 0o040000, None));
        assert_eq!(stat(&format!("{link}/."), false).unwrap().name, ".");
        assert_eq!(stat("/", false).unwrap().name, "/");
        assert_eq!(stat(&format!("{}/d/f", dir.path().display()), false).unwrap().size, 2);
        assert!(stat(&format!("{}/d/f/", dir.path().display()), false).is_none());
        assert!(stat(&format!("{}/nonesuch", dir.path().display()), false).is_none());

        let mut out = Vec::new();
        send(&link, &link, &Place::Host, false, &mut out).unwrap();
        let mut a = tar::Archive::new(&out[..]);
        let e = a.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.header().entry_type(), tar::EntryType::Symlink);
        assert_eq!(e.link_name().unwrap().unwrap(), Path::new("d"));
        let mut out = Vec::new();
        send(&link, &link, &Place::Host, true, &mut out).unwrap();
        assert_eq!(names(&out), ["link/", "link/f"]);
    }

    #[test]
    fn a_directory_s_contents_keep_their_dot_and_long_names_survive() {
        let dir = tempfile::tempdir().unwrap();
        let long = "n".repeat(150);
        std::fs::create_dir_all(dir.path().join("src").join(&long)).unwrap();
        std::fs::write(dir.path().join("src/a.txt"), "a").unwrap();
        std::os::unix::fs::symlink("t".repeat(120), dir.path().join("src/l")).unwrap();
        let src = format!("{}/.", dir.path().join("src").display());
        let mut out = Vec::new();
        send(&src, &src, &Place::Host, false, &mut out).unwrap();
        // tar-rs reads `./x` back as `x`: the raw names are Go's, which keep the prefix
        let raw: Vec<Vec<u8>> =
            tar::Archive::new(&out[..]).entries().unwrap().map(|e| e.unwrap().path_bytes().into_owned()).collect();
        let expected = [b"./".to_vec(), b"./a.txt".to_vec(), b"./l".to_vec(), format!("./{long}/").into_bytes()];
        assert_eq!(raw, expected);
        let mut a = tar::Archive::new(&out[..]);
        let l = a.entries().unwrap().nth(2).unwrap().unwrap();
        assert_eq!(l.link_name().unwrap().unwrap(), Path::new(&"t".repeat(120)));
        let dest = dir.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        receive(&out[..], dest.to_str().unwrap(), false, &Receive { contents: true, ..host() }).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("a.txt")).unwrap(), "a");
        assert!(dest.join(&long).is_dir());
    }

    #[test]
    fn entries_may_not_leave_the_destination_on_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(0o755);
        b.append_data(&mut h, "root", std::io::empty()).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "root/out", dir.path()).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, "root/out/escaped", &b"x"[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let dest = dir.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        let err = receive(&tar[..], dest.to_str().unwrap(), false, &host()).unwrap_err();
        assert!(matches!(err, CopyError::Escapes(_)), "{err}");
        assert!(!dir.path().join("escaped").exists());
    }

    #[test]
    fn stdin_must_be_a_tar_plain_or_compressed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "hello").unwrap();
        let tar = tar_of(&dir.path().join("f"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        for input in [tar.clone(), gz] {
            let mut out = Vec::new();
            open_stdin_archive(std::io::Cursor::new(input)).unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, tar);
        }
        let err = open_stdin_archive(std::io::Cursor::new(b"just some text\n".to_vec())).err().unwrap();
        assert_eq!(err.to_string(), "source must be a (compressed) tar archive when copying from stdin");
    }
}
