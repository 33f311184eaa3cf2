//! Unpacks an OCI layer tar stream into a directory that overlayfs can use as a lower dir.
//!
//! A layer comes from a registry, so its archive is hostile until proven otherwise: no entry may
//! write, link or resolve anything outside the layer directory. The `tar` crate only parses here.
//! Its `unpack_in` is not used, because it silently skips `..` entries and writes device nodes
//! and fifos as regular files. Every path is normalised here instead, and every parent directory
//! is checked with `lstat`, so a symlink in the archive is data and is never followed, not even
//! one that points inside the layer.
//!
//! OCI whiteouts become overlayfs whiteouts on the way: `DIR/.wh.NAME` becomes a 0:0 character
//! device at `DIR/NAME`, and `DIR/.wh..wh..opq` becomes the `trusted.overlay.opaque` xattr on `DIR`.

use std::collections::{BTreeMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, Permissions};
use std::io::{self, ErrorKind, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{lchown, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Condvar, Mutex};

use nix::errno::Errno;
use nix::fcntl::AT_FDCWD;
use nix::sys::stat::{makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::mkfifo;
use tar::{Entry, EntryType, Header};

const WHITEOUT: &[u8] = b".wh.";
/// Files and directories that aufs kept its own bookkeeping in (`.wh..wh.plnk/`, say), not
/// deletions: skipped.
const WHITEOUT_META: &[u8] = b".wh..wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// Rootless, overlay is mounted with `userxattr` and reads its attributes from `user.overlay.*`.
const USER_OPAQUE_XATTR: &str = "user.overlay.opaque";

fn opaque_xattr() -> &'static str {
    if berth_userns::is_rootless() {
        USER_OPAQUE_XATTR
    } else {
        OPAQUE_XATTR
    }
}

/// Rootless, an owner outside the user namespace's map cannot be set: say what to do.
fn owner_error(e: io::Error, uid: u32, gid: u32) -> io::Error {
    if e.raw_os_error() == Some(libc::EINVAL) && berth_userns::is_rootless() {
        return io::Error::other(format!(
            "owner {uid}:{gid} is not mapped in the user namespace: give this user more ids in /etc/subuid and /etc/subgid"
        ));
    }
    e
}
const PAX_XATTR: &[u8] = b"SCHILY.xattr.";

#[derive(Clone, Debug, Default)]
pub struct UnpackStats {
    /// Sum of the sizes of the regular files written.
    pub size: u64,
    /// Entries read from the archive, skipped ones included.
    pub entries: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// an entry that would write or link outside the layer dir; refused
    #[error("layer entry \"{entry}\" {reason}")]
    Escape { entry: String, reason: String },
    #[error("unpacking layer entry \"{entry}\": {source}")]
    Io {
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error("reading layer archive: {0}")]
    Archive(#[source] io::Error),
}

/// Unpack an (already decompressed) OCI layer tar stream into `dest` (an existing empty directory),
/// converting OCI whiteouts into overlayfs whiteouts.
///
/// Creating inodes is most of the work on ext4, so small regular files are written by a few
/// worker threads while this thread reads on. Every check happens here, before a file is handed
/// over; a worker only creates a new file under a directory already verified. Anything that
/// touches an existing path (an overwrite, a whiteout, a hard link) first waits for the workers,
/// so no path can change under a file being written.
pub fn unpack_layer<R: Read>(archive: R, dest: &Path) -> Result<UnpackStats, UnpackError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let pool = Pool::default();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(256);
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| pool.work(&rx));
        }
        let result = unpack_entries(archive, dest, &pool, tx);
        // `tx` is gone: the workers drain the queue and stop; their first error wins.
        pool.wait();
        let failed = pool.error.lock().unwrap_or_else(|e| e.into_inner()).take();
        match (result, failed) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(e)) => Err(e),
            (Ok(stats), None) => Ok(stats),
        }
    })
}

fn unpack_entries<R: Read>(
    archive: R,
    dest: &Path,
    pool: &Pool,
    tx: SyncSender<Job>,
) -> Result<UnpackStats, UnpackError> {
    let mut archive = tar::Archive::new(archive);
    // Times are set here, directories' last; whatever is in an entry's way is removed here first.
    archive.set_preserve_mtime(false);
    archive.set_overwrite(false);
    let mut layer = Layer {
        dest,
        dir_times: BTreeMap::new(),
        stats: UnpackStats::default(),
        verified_dirs: HashSet::new(),
        queued: HashSet::new(),
        pool,
        tx,
    };
    for entry in archive.entries().map_err(UnpackError::Archive)? {
        let mut entry = entry.map_err(UnpackError::Archive)?;
        layer.stats.entries += 1;
        layer.unpack(&mut entry).map_err(|failure| {
            let entry = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            match failure {
                Failure::Escape(reason) => UnpackError::Escape { entry, reason },
                Failure::Io(source) => UnpackError::Io { entry, source },
            }
        })?;
        if let Some(e) = pool.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(e);
        }
    }
    layer.settle();
    // Creating an entry changes its directory's mtime, so directories get theirs at the end,
    // children (which sort after their parents) first.
    for (rel, mtime) in layer.dir_times.iter().rev() {
        set_mtime(&dest.join(rel), mtime)
            .map_err(|source| UnpackError::Io { entry: rel.display().to_string(), source })?;
    }
    Ok(layer.stats)
}

/// Regular files up to this size go to the workers; bigger ones are written inline, which
/// bounds the memory held by queued files.
const QUEUED_FILE_MAX: u64 = 1 << 20;

/// A new regular file for a worker to write.
struct Job {
    entry: String,
    path: PathBuf,
    data: Vec<u8>,
    meta: Meta,
}

/// Workers' shared state: how many jobs are queued or running, and the first failure.
#[derive(Default)]
struct Pool {
    pending: Mutex<usize>,
    idle: Condvar,
    error: Mutex<Option<UnpackError>>,
}

impl Pool {
    fn work(&self, rx: &Mutex<Receiver<Job>>) {
        loop {
            let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                Ok(job) => job,
                Err(_) => return,
            };
            let failed = self.error.lock().unwrap_or_else(|e| e.into_inner()).is_some();
            if !failed {
                if let Err(source) = write_file(&job.path, &mut &job.data[..], &job.meta) {
                    let mut error = self.error.lock().unwrap_or_else(|e| e.into_inner());
                    error.get_or_insert(UnpackError::Io { entry: job.entry, source });
                }
            }
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            *pending -= 1;
            if *pending == 0 {
                self.idle.notify_all();
            }
        }
    }

    /// Blocks until every queued file is written.
    fn wait(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        while *pending > 0 {
            pending = self.idle.wait(pending).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Why an entry failed, before it is named.
enum Failure {
    Escape(String),
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<Errno> for Failure {
    fn from(e: Errno) -> Self {
        Failure::Io(e.into())
    }
}

struct Layer<'a> {
    dest: &'a Path,
    /// The mtimes of directory entries, set once everything else is in place.
    dir_times: BTreeMap<PathBuf, TimeSpec>,
    stats: UnpackStats,
    /// Directories (relative) known to be real directories, not symlinks: only `clear` removes
    /// or replaces an existing path, and it forgets what it removes.
    verified_dirs: HashSet<PathBuf>,
    /// Files handed to the workers since they were last idle.
    queued: HashSet<PathBuf>,
    pool: &'a Pool,
    tx: SyncSender<Job>,
}

impl Layer<'_> {
    fn unpack<R: Read>(&mut self, entry: &mut Entry<R>) -> Result<(), Failure> {
        let header = entry.header();
        let kind = match header.entry_type() {
            EntryType::XGlobalHeader => return Ok(()),
            // Without a ustar header (old and GNU ones), a trailing slash alone can mark a
            // directory; `Entry::unpack` makes one of it.
            EntryType::Regular if header.as_ustar().is_none() && entry.path_bytes().ends_with(b"/") => {
                EntryType::Directory
            }
            kind => kind,
        };
        let rel = normalize(&entry.path()?).ok_or_else(|| Failure::Escape("has a \"..\" component".into()))?;
        if rel.iter().any(|part| part.as_bytes().starts_with(WHITEOUT_META) && part.as_bytes() != OPAQUE) {
            return Ok(());
        }
        self.check_parents(&rel, true, "is written")?;

        let parent = rel.parent().unwrap_or(Path::new(""));
        let name = rel.file_name().map_or(&b""[..], OsStrExt::as_bytes);
        if name == OPAQUE {
            return Ok(xattr::set(self.dest.join(parent), opaque_xattr(), b"y")?);
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            return self.whiteout(parent, hidden);
        }

        if rel.as_os_str().is_empty() && kind != EntryType::Directory {
            return Err(invalid("only a directory can replace the layer root").into());
        }
        if kind == EntryType::Link {
            let link = entry.link_name()?.ok_or_else(|| invalid("hard link without a target"))?;
            return self.hardlink(&rel, &link);
        }

        let path = self.dest.join(&rel);
        self.clear(&rel, kind == EntryType::Directory)?;
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let meta = Meta::of(entry)?;
                let size = entry.size();
                self.stats.size += size;
                if size > QUEUED_FILE_MAX {
                    return Ok(write_file(&path, entry, &meta)?);
                }
                let mut data = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut data)?;
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                *self.pool.pending.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                self.queued.insert(rel);
                if self.tx.send(Job { entry: name, path, data, meta }).is_err() {
                    return Err(invalid("the file writers stopped").into());
                }
                return Ok(());
            }
            EntryType::Directory | EntryType::Symlink => {
                entry.unpack(&path)?;
            }
            EntryType::Fifo => mkfifo(&path, Mode::empty())?,
            // A user namespace may not make device nodes (Podman's rootless storage skips them too).
            EntryType::Char | EntryType::Block if berth_userns::is_rootless() => return Ok(()),
            EntryType::Char => mknod(&path, SFlag::S_IFCHR, Mode::empty(), device(entry.header())?)?,
            EntryType::Block => mknod(&path, SFlag::S_IFBLK, Mode::empty(), device(entry.header())?)?,
            other => return Err(invalid(format!("unsupported entry type '{}'", other.as_byte().escape_ascii())).into()),
        }
        self.set_metadata(&rel, kind, entry)
    }

    /// Makes sure every ancestor of `rel` is a real directory, so that nothing is written or
    /// linked through a symlink. Missing ancestors are created when `create`; otherwise the walk
    /// stops at the first one, since nothing below it exists.
    fn check_parents(&mut self, rel: &Path, create: bool, what: &str) -> Result<(), Failure> {
        let mut dir = PathBuf::new();
        for part in rel.parent().into_iter().flat_map(Path::components) {
            dir.push(part);
            if self.verified_dirs.contains(&dir) {
                continue;
            }
            if self.queued.contains(&dir) {
                self.settle(); // a file queued under a name now used as a directory
            }
            let path = self.dest.join(&dir);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    self.verified_dirs.insert(dir.clone());
                }
                Ok(meta) if meta.is_symlink() => {
                    return Err(Failure::Escape(format!("{what} through the symlink \"{}\"", dir.display())));
                }
                Ok(_) => {
                    let message = format!("\"{}\" is not a directory", dir.display());
                    return Err(io::Error::new(ErrorKind::NotADirectory, message).into());
                }
                Err(e) if e.kind() == ErrorKind::NotFound && create => {
                    fs::create_dir(&path)?;
                    fs::set_permissions(&path, Permissions::from_mode(0o755))?;
                    self.verified_dirs.insert(dir.clone());
                }
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes whatever is at `rel` to make room for a new entry, except a directory when
    /// `keep_dir`: a directory entry over a directory only updates its metadata.
    fn clear(&mut self, rel: &Path, keep_dir: bool) -> io::Result<()> {
        if self.queued.contains(rel) {
            self.settle();
        }
        let path = self.dest.join(rel);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                if keep_dir {
                    return Ok(());
                }
                self.settle();
                self.dir_times.retain(|dir, _| !dir.starts_with(rel));
                self.verified_dirs.retain(|dir| !dir.starts_with(rel));
                fs::remove_dir_all(&path)
            }
            Ok(_) => {
                self.settle();
                fs::remove_file(&path)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits until the workers have written every queued file.
    fn settle(&mut self) {
        if !self.queued.is_empty() {
            self.pool.wait();
            self.queued.clear();
        }
    }

    /// `parent/.wh.hidden`: whatever lower layers have at `parent/hidden` is gone.
    fn whiteout(&mut self, parent: &Path, hidden: &[u8]) -> Result<(), Failure> {
        match hidden {
            b".." => Err(Failure::Escape("whites out \"..\"".into())),
            b"" | b"." => Err(invalid("whiteout without a name").into()),
            _ => {
                let rel = parent.join(OsStr::from_bytes(hidden));
                self.clear(&rel, false)?;
                Ok(mknod(&self.dest.join(&rel), SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))?)
            }
        }
    }

    /// A hard link to the inode at `link` (taken as relative to the layer root, like tar does),
    /// which this layer must already hold.
    fn hardlink(&mut self, rel: &Path, link: &Path) -> Result<(), Failure> {
        let links_to = format!("links to \"{}\"", link.display());
        let target = normalize(link).ok_or_else(|| Failure::Escape(format!("{links_to} outside the layer")))?;
        self.check_parents(&target, false, &links_to)?;
        if self.queued.contains(&target) {
            self.settle();
        }
        let source = self.dest.join(&target);
        match fs::symlink_metadata(&source) {
            Ok(meta) if meta.is_dir() => Err(invalid(format!("{links_to}, a directory")).into()),
            Ok(_) => {
                self.clear(rel, false)?;
                // `link(2)` does not follow a symlink at `source`: the new name is for the symlink itself.
                Ok(fs::hard_link(&source, self.dest.join(rel))?)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(invalid(format!("{links_to}, which is not in the layer")).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Owner, mode, xattrs and mtime of a non-regular entry, by path.
    fn set_metadata<R: Read>(&mut self, rel: &Path, kind: EntryType, entry: &mut Entry<R>) -> Result<(), Failure> {
        let path = self.dest.join(rel);
        let meta = Meta::of(entry)?;
        lchown(&path, Some(meta.uid), Some(meta.gid)).map_err(|e| owner_error(e, meta.uid, meta.gid))?;
        // `chmod` follows symlinks, and a symlink's own mode means nothing on Linux.
        if kind != EntryType::Symlink {
            fs::set_permissions(&path, Permissions::from_mode(meta.mode))?;
        }
        for (name, value) in &meta.xattrs {
            xattr::set(&path, name, value)?;
        }
        if kind == EntryType::Directory {
            self.dir_times.insert(rel.to_path_buf(), meta.mtime);
            Ok(())
        } else {
            Ok(set_mtime(&path, &meta.mtime)?)
        }
    }
}

/// An entry's owner, mode, xattrs and mtime, applied in that order: `chown` clears setuid/setgid
/// bits and file capabilities (the `security.capability` xattr).
struct Meta {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: TimeSpec,
    xattrs: Vec<(OsString, Vec<u8>)>,
}

impl Meta {
    fn of<R: Read>(entry: &mut Entry<R>) -> io::Result<Meta> {
        let header = entry.header();
        let fields = header.as_old();
        let seconds =
            i64::try_from(numeric(&fields.mtime, header.mtime())?).map_err(|_| invalid("mtime out of range"))?;
        let mut meta = Meta {
            uid: owner_id(numeric(&fields.uid, header.uid())?)?,
            gid: owner_id(numeric(&fields.gid, header.gid())?)?,
            mode: numeric(&fields.mode, header.mode())? & 0o7777,
            mtime: TimeSpec::new(seconds, 0),
            xattrs: Vec::new(),
        };
        // With no sub-ids only root exists in the namespace: everything is root's (Podman's
        // ignore_chown_errors).
        if berth_userns::single_mapping() {
            (meta.uid, meta.gid) = (0, 0);
        }
        if let Some(extensions) = entry.pax_extensions()? {
            for extension in extensions {
                let extension = extension?;
                let key = extension.key_bytes();
                if key == b"mtime" {
                    meta.mtime = pax_time(extension.value_bytes())?;
                } else if let Some(name) = key.strip_prefix(PAX_XATTR) {
                    // Overlay's own xattrs (opaque, redirect, metacopy, origin...) steer how it
                    // merges layers: a layer says what it deletes with `.wh.` entries only.
                    let overlay = name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.");
                    // Rootless, `trusted.*` cannot be set (it needs CAP_SYS_ADMIN on the host).
                    let privileged = name.starts_with(b"trusted.") && berth_userns::is_rootless();
                    if !overlay && !privileged {
                        meta.xattrs.push((OsStr::from_bytes(name).to_owned(), extension.value_bytes().to_vec()));
                    }
                }
            }
        }
        Ok(meta)
    }
}

/// Creates a new regular file (never following or replacing anything at `path`) with its
/// content and metadata, all through the open descriptor.
fn write_file(path: &Path, data: &mut impl Read, meta: &Meta) -> io::Result<()> {
    use std::os::unix::fs::{fchown, OpenOptionsExt};
    use xattr::FileExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    io::copy(data, &mut file)?;
    fchown(&file, Some(meta.uid), Some(meta.gid)).map_err(|e| owner_error(e, meta.uid, meta.gid))?;
    file.set_permissions(Permissions::from_mode(meta.mode))?;
    for (name, value) in &meta.xattrs {
        file.set_xattr(name, value)?;
    }
    nix::sys::stat::futimens(&file, &meta.mtime, &meta.mtime)?;
    Ok(())
}

/// `path` relative to the layer root: leading `/` and `.` components dropped, `None` if it has a
/// `..` component.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => return None,
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

fn device(header: &Header) -> io::Result<u64> {
    match (header.device_major()?, header.device_minor()?) {
        (Some(major), Some(minor)) => Ok(makedev(major.into(), minor.into())),
        _ => Err(invalid("device without device numbers")),
    }
}

/// A numeric header field, where an empty one (all NULs or spaces) reads as 0, as Go's archive/tar
/// reads it.
fn numeric<T: Default>(field: &[u8], parsed: io::Result<T>) -> io::Result<T> {
    if field.iter().all(|&b| b == 0 || b == b' ') {
        Ok(T::default())
    } else {
        parsed
    }
}

fn owner_id(id: u64) -> io::Result<u32> {
    u32::try_from(id).map_err(|_| invalid(format!("owner id {id} out of range")))
}

/// A pax time such as `1700000000.25` or `-1.5`.
fn pax_time(value: &[u8]) -> io::Result<TimeSpec> {
    let parse = || {
        let value = std::str::from_utf8(value).ok()?;
        let (seconds, fraction) = value.split_once('.').unwrap_or((value, ""));
        let seconds: i64 = seconds.parse().ok()?;
        let nanoseconds: u32 = format!("{fraction:0<9}").get(..9)?.parse().ok()?;
        // The fraction counts away from zero: -1.25 is 1.25 s before the epoch.
        Some(match (value.starts_with('-'), i64::from(nanoseconds)) {
            (true, n) if n > 0 => TimeSpec::new(seconds - 1, 1_000_000_000 - n),
            (_, n) => TimeSpec::new(seconds, n),
        })
    };
    parse().ok_or_else(|| invalid(format!("invalid pax mtime \"{}\"", value.escape_ascii())))
}

/// Sets atime and mtime, of a symlink itself rather than its target.
fn set_mtime(path: &Path, time: &TimeSpec) -> io::Result<()> {
    Ok(utimensat(AT_FDCWD, path, time, time, UtimensatFlags::NoFollowSymlink)?)
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    /// Stands for the directory holding `dest` (where an escape would land) in names and targets.
    const OUT: &str = "$OUT";

    /// One archive entry, written with raw headers so that hostile names get through.
    struct E {
        header: Header,
        data: Vec<u8>,
        pax: Vec<(String, Vec<u8>)>,
    }

    fn entry(kind: EntryType, name: &str, mode: u32) -> E {
        let mut header = Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(1000);
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        E { header, data: Vec::new(), pax: Vec::new() }
    }

    fn file(name: &str, data: &str) -> E {
        E { data: data.into(), ..entry(EntryType::Regular, name, 0o644) }
    }
    fn dir(name: &str) -> E {
        entry(EntryType::Directory, name, 0o755)
    }
    fn symlink(name: &str, target: &str) -> E {
        entry(EntryType::Symlink, name, 0o777).link(target)
    }
    fn hardlink(name: &str, target: &str) -> E {
        entry(EntryType::Link, name, 0o644).link(target)
    }
    fn device(kind: EntryType, name: &str, major: u32, minor: u32) -> E {
        let mut e = entry(kind, name, 0o660);
        e.header.set_device_major(major).unwrap();
        e.header.set_device_minor(minor).unwrap();
        e
    }

    impl E {
        fn link(mut self, target: &str) -> E {
            self.header.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
            self
        }
        fn mode(mut self, mode: u32) -> E {
            self.header.set_mode(mode);
            self
        }
        fn owner(mut self, uid: u64, gid: u64) -> E {
            self.header.set_uid(uid);
            self.header.set_gid(gid);
            self
        }
        fn mtime(mut self, mtime: u64) -> E {
            self.header.set_mtime(mtime);
            self
        }
        fn pax(mut self, key: &str, value: &[u8]) -> E {
            self.pax.push((key.into(), value.into()));
            self
        }
    }

    fn archive(entries: Vec<E>, out: &str) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for mut e in entries {
            if !e.pax.is_empty() {
                builder.append_pax_extensions(e.pax.iter().map(|(k, v)| (k.as_str(), v.as_slice()))).unwrap();
            }
            let old = e.header.as_old_mut();
            for field in [&mut old.name[..], &mut old.linkname[..]] {
                let text = String::from_utf8_lossy(field).trim_end_matches('\0').replace(OUT, out);
                field.fill(0);
                field[..text.len()].copy_from_slice(text.as_bytes());
            }
            e.header.set_size(e.data.len() as u64);
            e.header.set_cksum();
            builder.append(&e.header, &e.data[..]).unwrap();
        }
        builder.into_inner().unwrap()
    }

    /// Unpacks `entries` into `OUT/dest` and compares the outcome, rendered by `render`, with
    /// `want`; nothing in `OUT` but `dest` may change, whatever the archive.
    #[track_caller]
    fn check(entries: Vec<E>, want: &str) {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the unpack tests need root: they chown, mknod and set trusted.* xattrs"
        );
        let out = tempfile::tempdir().unwrap();
        let sentinel = out.path().join("sentinel");
        fs::write(&sentinel, "host").unwrap();
        let dest = out.path().join("dest");
        fs::create_dir(&dest).unwrap();
        fs::set_permissions(&dest, Permissions::from_mode(0o755)).unwrap();

        let out_str = out.path().to_str().unwrap();
        let result = unpack_layer(&archive(entries, out_str)[..], &dest);
        let mut got = match result {
            Ok(stats) => format!("entries={} size={}\n", stats.entries, stats.size),
            Err(e) => format!("error: {e}\n"),
        };
        got += &render(&dest);
        let got = got.replace(out_str, OUT);
        assert_eq!(got.trim(), unindent(want), "\n{got}");

        let mut names: Vec<_> = fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["dest", "sentinel"]);
        assert_eq!(fs::read_to_string(&sentinel).unwrap(), "host");
        assert_eq!(fs::metadata(&sentinel).unwrap().nlink(), 1);
    }

    fn unindent(text: &str) -> String {
        text.trim().lines().map(str::trim).collect::<Vec<_>>().join("\n")
    }

    /// One line per path: type, mode, owner, mtime (left out when recent: directories made on the
    /// way), content, xattrs; hard-linked paths name the first path of their inode.
    fn render(dest: &Path) -> String {
        let mut paths = vec![PathBuf::new()];
        let mut i = 0;
        while i < paths.len() {
            let path = dest.join(&paths[i]);
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                let mut children: Vec<_> =
                    fs::read_dir(&path).unwrap().map(|e| paths[i].join(e.unwrap().file_name())).collect();
                children.sort();
                paths.splice(i + 1..i + 1, children);
            }
            i += 1;
        }
        let mut inodes = HashMap::new();
        let mut out = String::new();
        for rel in paths {
            let path = dest.join(&rel);
            let meta = fs::symlink_metadata(&path).unwrap();
            let name = if rel.as_os_str().is_empty() { ".".into() } else { rel.display().to_string() };
            let kind = meta.file_type();
            let what = if kind.is_dir() {
                "dir".to_string()
            } else if kind.is_symlink() {
                format!("-> {}", fs::read_link(&path).unwrap().display())
            } else if kind.is_fifo() {
                "fifo".to_string()
            } else if kind.is_char_device() || kind.is_block_device() {
                let (major, minor) = (nix::sys::stat::major(meta.rdev()), nix::sys::stat::minor(meta.rdev()));
                format!("{} {major}:{minor}", if kind.is_char_device() { "char" } else { "block" })
            } else {
                format!("file {:?}", fs::read_to_string(&path).unwrap())
            };
            out += &format!("{name} {what} {:04o} {}:{}", meta.mode() & 0o7777, meta.uid(), meta.gid());
            if meta.mtime() < 1_000_000_000 {
                out += &format!(" @{}", meta.mtime());
                if meta.mtime_nsec() != 0 {
                    out += &format!("+{}ns", meta.mtime_nsec());
                }
            }
            if meta.nlink() > 1 && !kind.is_dir() {
                out += &format!(" inode={}", inodes.entry(meta.ino()).or_insert_with(|| name.clone()));
            }
            let mut xattrs: Vec<_> = xattr::list(&path).unwrap().collect();
            xattrs.sort();
            for key in xattrs {
                let value = xattr::get(&path, &key).unwrap().unwrap();
                let value = match std::str::from_utf8(&value) {
                    Ok(text) if text.bytes().all(|b| b.is_ascii_graphic()) => text.to_string(),
                    _ => value.iter().map(|b| format!("{b:02x}")).collect(),
                };
                out += &format!(" {}={value}", key.to_string_lossy());
            }
            out += "\n";
        }
        out
    }

    #[test]
    fn regular_files_keep_content_mode_owner_and_mtime() {
        check(
            vec![file("a", "hello").mode(0o640).owner(1000, 1001).mtime(1234), file("dir/b", "x")],
            r#"
            entries=2 size=6
            . dir 0755 0:0
            a file "hello" 0640 1000:1001 @1234
            dir dir 0755 0:0
            dir/b file "x" 0644 0:0 @1000
            "#,
        );
    }

    #[test]
    fn directories_keep_their_mtime_after_children_are_created() {
        check(
            vec![dir("./").mode(0o700).mtime(7), dir("d").mtime(5), dir("d/e").mtime(6), file("d/e/f", "")],
            r#"
            entries=4 size=0
            . dir 0700 0:0 @7
            d dir 0755 0:0 @5
            d/e dir 0755 0:0 @6
            d/e/f file "" 0644 0:0 @1000
            "#,
        );
    }

    #[test]
    fn setuid_setgid_and_sticky_bits_survive_the_owner_change() {
        check(
            vec![
                file("suid", "").mode(0o4755).owner(1000, 1000),
                file("sgid", "").mode(0o2755).owner(1000, 1000),
                dir("tmp").mode(0o1777),
            ],
            r#"
            entries=3 size=0
            . dir 0755 0:0
            sgid file "" 2755 1000:1000 @1000
            suid file "" 4755 1000:1000 @1000
            tmp dir 1777 0:0 @1000
            "#,
        );
    }

    #[test]
    fn symlinks_keep_their_target_verbatim() {
        check(
            vec![
                symlink("rel", "../usr/bin").owner(5, 6).mtime(42),
                symlink("abs", "/etc/passwd"),
                symlink("dangling", "nowhere"),
            ],
            r#"
            entries=3 size=0
            . dir 0755 0:0
            abs -> /etc/passwd 0777 0:0 @1000
            dangling -> nowhere 0777 0:0 @1000
            rel -> ../usr/bin 0777 5:6 @42
            "#,
        );
    }

    #[test]
    fn hard_links_share_the_inode() {
        check(
            vec![file("a", "data"), hardlink("b/c", "a"), symlink("s", "/etc/passwd"), hardlink("t", "/s")],
            r#"
            entries=4 size=4
            . dir 0755 0:0
            a file "data" 0644 0:0 @1000 inode=a
            b dir 0755 0:0
            b/c file "data" 0644 0:0 @1000 inode=a
            s -> /etc/passwd 0777 0:0 @1000 inode=s
            t -> /etc/passwd 0777 0:0 @1000 inode=s
            "#,
        );
    }

    #[test]
    fn fifos_and_devices_are_made_as_such() {
        check(
            vec![
                entry(EntryType::Fifo, "fifo", 0o600),
                device(EntryType::Char, "null", 1, 3).mode(0o666),
                device(EntryType::Block, "disk", 259, 70000),
            ],
            r#"
            entries=3 size=0
            . dir 0755 0:0
            disk block 259:70000 0660 0:0 @1000
            fifo fifo 0600 0:0 @1000
            null char 1:3 0666 0:0 @1000
            "#,
        );
    }

    #[test]
    fn xattrs_and_pax_times_are_applied() {
        // cap_net_raw, effective (VFS_CAP_REVISION_2): set after the owner change, which clears it.
        let cap = [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        check(
            vec![
                file("a", "")
                    .owner(1000, 1000)
                    .pax("SCHILY.xattr.user.note", b"hi")
                    .pax("SCHILY.xattr.trusted.x", b"t")
                    .pax("SCHILY.xattr.security.capability", &cap)
                    .pax("mtime", b"77.5"),
                dir("d").pax("SCHILY.xattr.user.d", b"1"),
                symlink("old", "a").pax("mtime", b"-1.25"),
            ],
            r#"
            entries=3 size=0
            . dir 0755 0:0
            a file "" 0644 1000:1000 @77+500000000ns security.capability=0100000200200000000000000000000000000000 trusted.x=t user.note=hi
            d dir 0755 0:0 @1000 user.d=1
            old -> a 0777 0:0 @-2+750000000ns
            "#,
        );
    }

    #[test]
    fn overlay_xattrs_in_the_archive_are_dropped() {
        check(
            vec![dir("d")
                .pax("SCHILY.xattr.trusted.overlay.redirect", b"/etc")
                .pax("SCHILY.xattr.user.overlay.opaque", b"y")],
            r#"
            entries=1 size=0
            . dir 0755 0:0
            d dir 0755 0:0 @1000
            "#,
        );
    }

    #[test]
    fn whiteouts_become_overlay_whiteouts() {
        check(
            vec![
                dir("d"),
                file("d/gone", "x"),
                dir("d/gonedir"),
                file("d/gonedir/f", "x"),
                file("d/.wh.gone", ""),
                file("d/.wh.gonedir", ""),
                file("new/.wh..wh..opq", ""),
                dir(".wh..wh.plnk"),
                file(".wh..wh.plnk/123.456", "x"),
                file(".wh.top", ""),
            ],
            r#"
            entries=10 size=2
            . dir 0755 0:0
            d dir 0755 0:0 @1000
            d/gone char 0:0 0000 0:0
            d/gonedir char 0:0 0000 0:0
            new dir 0755 0:0 trusted.overlay.opaque=y
            top char 0:0 0000 0:0
            "#,
        );
    }

    #[test]
    fn later_entries_win() {
        check(
            vec![
                dir("d").mtime(5),
                file("d/f", "old"),
                dir("d").mode(0o700).mtime(6),
                file("d/f", "new"),
                file("x", "file"),
                dir("x"),
                dir("y/z"),
                symlink("y", "/"),
                symlink("w", "/"),
                dir("w"),
            ],
            r#"
            entries=10 size=10
            . dir 0755 0:0
            d dir 0700 0:0 @6
            d/f file "new" 0644 0:0 @1000
            w dir 0755 0:0 @1000
            x dir 0755 0:0 @1000
            y -> / 0777 0:0 @1000
            "#,
        );
    }

    #[test]
    fn odd_entry_types() {
        // A pre-POSIX header (no ustar or GNU magic) can mark a directory with a trailing slash only.
        let mut v7 = entry(EntryType::Regular, "v7dir/", 0o750);
        let gnu = v7.header.as_gnu_mut().unwrap();
        (gnu.magic, gnu.version) = ([0; 6], [0; 2]);
        let mut bare = file("bare", "x");
        let fields = bare.header.as_old_mut();
        (fields.uid, fields.gid, fields.mtime) = ([0; 8], [0; 8], [0; 12]);
        check(
            vec![
                E { data: b"6 a=b\n".to_vec(), ..entry(EntryType::XGlobalHeader, "global", 0o644) },
                file("v7dir/kept", ""),
                v7,
                bare,
            ],
            r#"
            entries=4 size=1
            . dir 0755 0:0
            bare file "x" 0644 0:0 @0
            v7dir dir 0750 0:0 @1000
            v7dir/kept file "" 0644 0:0 @1000
            "#,
        );
        check(
            vec![entry(EntryType::new(b'V'), "volume", 0o644)],
            r#"
            error: unpacking layer entry "volume": unsupported entry type 'V'
            . dir 0755 0:0
            "#,
        );
        check(
            vec![symlink("./", "x")],
            r#"
            error: unpacking layer entry "./": only a directory can replace the layer root
            . dir 0755 0:0
            "#,
        );
    }

    #[test]
    fn dot_dot_is_refused() {
        check(
            vec![file("../evil", "x")],
            r#"
            error: layer entry "../evil" has a ".." component
            . dir 0755 0:0
            "#,
        );
        check(
            vec![file("a/../../evil", "x")],
            r#"
            error: layer entry "a/../../evil" has a ".." component
            . dir 0755 0:0
            "#,
        );
        check(
            vec![file("d/.wh...", "")],
            r#"
            error: layer entry "d/.wh..." whites out ".."
            . dir 0755 0:0
            d dir 0755 0:0
            "#,
        );
    }

    #[test]
    fn absolute_paths_stay_in_the_layer() {
        check(
            vec![file("/abs/path", "x")],
            r#"
            entries=1 size=1
            . dir 0755 0:0
            abs dir 0755 0:0
            abs/path file "x" 0644 0:0 @1000
            "#,
        );
    }

    #[test]
    fn symlinks_are_never_followed() {
        check(
            vec![symlink("link", OUT), file("link/evil", "x")],
            r#"
            error: layer entry "link/evil" is written through the symlink "link"
            . dir 0755 0:0
            link -> $OUT 0777 0:0 @1000
            "#,
        );
        check(
            vec![symlink("s", &format!("{OUT}/sentinel")), file("s", "evil").mode(0o4777).owner(1, 1)],
            r#"
            entries=2 size=4
            . dir 0755 0:0
            s file "evil" 4777 1:1 @1000
            "#,
        );
        check(
            vec![symlink("link", ".."), dir("link/evil")],
            r#"
            error: layer entry "link/evil" is written through the symlink "link"
            . dir 0755 0:0
            link -> .. 0777 0:0 @1000
            "#,
        );
        check(
            vec![dir("d"), symlink("d/up", "../.."), file("d/up/.wh.dest", "")],
            r#"
            error: layer entry "d/up/.wh.dest" is written through the symlink "d/up"
            . dir 0755 0:0
            d dir 0755 0:0
            d/up -> ../.. 0777 0:0 @1000
            "#,
        );
    }

    #[test]
    fn hard_links_out_of_the_layer_are_refused() {
        check(
            vec![hardlink("x", "../sentinel")],
            r#"
            error: layer entry "x" links to "../sentinel" outside the layer
            . dir 0755 0:0
            "#,
        );
        check(
            vec![hardlink("x", &format!("{OUT}/sentinel"))],
            r#"
            error: unpacking layer entry "x": links to "$OUT/sentinel", which is not in the layer
            . dir 0755 0:0
            "#,
        );
        check(
            vec![hardlink("passwd", "/etc/passwd")],
            r#"
            error: unpacking layer entry "passwd": links to "/etc/passwd", which is not in the layer
            . dir 0755 0:0
            "#,
        );
        check(
            vec![symlink("out", OUT), hardlink("x", "out/sentinel")],
            r#"
            error: layer entry "x" links to "out/sentinel" through the symlink "out"
            . dir 0755 0:0
            out -> $OUT 0777 0:0 @1000
            "#,
        );
        check(
            vec![dir("d"), hardlink("x", "d")],
            r#"
            error: unpacking layer entry "x": links to "d", a directory
            . dir 0755 0:0
            d dir 0755 0:0
            "#,
        );
    }
}
