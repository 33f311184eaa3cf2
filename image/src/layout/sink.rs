//! Where a layout's files go: a tar stream ([`TarSink`]) or a directory ([`DirSink`]).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::{io_err, LayoutError, Result};

/// Where a layout's files go, one after another.
pub trait Sink {
    /// Writes exactly `size` bytes of `data` as `name`; a short source is an error.
    fn file(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()>;
    fn symlink(&mut self, name: &str, target: &str) -> io::Result<()>;
    /// Whether the layout has the file `name`: written through this sink, or there before.
    fn has(&self, name: &str) -> bool;
    /// A file that is in the layout, read back (`None`: not there, or the sink cannot read).
    fn read_back(&self, name: &str) -> io::Result<Option<Vec<u8>>>;
}

/// A tar stream, with the entries containers/image writes: root-owned, read-only, time zero.
pub struct TarSink<W: Write> {
    builder: tar::Builder<W>,
    written: HashSet<String>,
}

impl<W: Write> TarSink<W> {
    pub fn new(w: W) -> TarSink<W> {
        TarSink { builder: tar::Builder::new(w), written: HashSet::new() }
    }

    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }

    fn header(kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o444);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h
    }
}

impl<W: Write> Sink for TarSink<W> {
    fn file(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Regular, size);
        // exactly `size` bytes, or the tar is broken: a short source is an error
        let mut counted = Exact { inner: data, left: size };
        self.builder.append_data(&mut h, name, &mut counted)?;
        if counted.left != 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{name}: {} bytes short", counted.left)));
        }
        self.written.insert(name.to_string());
        Ok(())
    }

    fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Symlink, 0);
        self.builder.append_link(&mut h, name, target)?;
        self.written.insert(name.to_string());
        Ok(())
    }

    fn has(&self, name: &str) -> bool {
        self.written.contains(name)
    }

    fn read_back(&self, _name: &str) -> io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// At most `left` bytes of `inner`.
struct Exact<'a> {
    inner: &'a mut dyn Read,
    left: u64,
}

impl Read for Exact<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.left) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Files in a directory: a new one, written beside its destination (`.NAME.berth-XXXXXXXX`)
/// and renamed into place by [`DirSink::place`], or an existing one that files are added to.
/// Every file is written under a temporary name and renamed when complete and synced; what
/// this sink added to an existing directory (or the whole new one) is removed again when it
/// is dropped without being placed.
pub struct DirSink {
    /// Where files are written: the staging directory, or the existing directory.
    root: PathBuf,
    staging: Option<Staging>,
    /// Files this sink added to an existing directory.
    added: Vec<PathBuf>,
    placed: bool,
}

impl DirSink {
    /// A new directory for `dest`: nothing is there, an empty directory, or one that
    /// [`DirSink::place`] replaces (the caller decided it may).
    pub fn beside(dest: &Path) -> Result<DirSink> {
        let staging = Staging::beside(dest)?;
        Ok(DirSink { root: staging.tmp.clone(), staging: Some(staging), added: Vec::new(), placed: false })
    }

    /// Files added to the existing directory `dest`.
    pub fn adding_to(dest: &Path) -> DirSink {
        DirSink { root: dest.to_path_buf(), staging: None, added: Vec::new(), placed: false }
    }

    /// Keeps what was written: renames a new directory into place (over an empty directory, or
    /// over a former one, which is moved aside first and removed once replaced).
    pub fn place(mut self) -> Result<()> {
        if let Some(s) = self.staging.take() {
            s.place()?;
        }
        self.placed = true;
        Ok(())
    }
}

impl Sink for DirSink {
    fn file(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let path = self.root.join(name);
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent)?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = parent.join(format!(".{file_name}.berth-{:08x}", rand_u32()));
        let written = (|| {
            let mut f = File::create(&tmp)?;
            let n = io::copy(&mut Exact { inner: data, left: size }, &mut f)?;
            if n != size {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{name}: {} bytes short", size - n)));
            }
            f.sync_all()
        })();
        let existed = path.exists();
        if let Err(e) = written.and_then(|_| fs::rename(&tmp, &path)) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        if self.staging.is_none() && !existed {
            self.added.push(path);
        }
        Ok(())
    }

    fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        let path = self.root.join(name);
        std::os::unix::fs::symlink(target, &path)?;
        if self.staging.is_none() {
            self.added.push(path);
        }
        Ok(())
    }

    fn has(&self, name: &str) -> bool {
        self.root.join(name).is_file()
    }

    fn read_back(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.root.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Drop for DirSink {
    fn drop(&mut self) {
        if !self.placed {
            for f in &self.added {
                let _ = fs::remove_file(f);
            }
        }
    }
}

/// What is at a destination path now.
pub(super) enum Existing {
    Nothing,
    Empty,
    /// A non-empty directory; whether it has this file.
    Full {
        has_marker: bool,
    },
}

/// What is at `path`, for a layout whose presence `marker` (a file in it) tells.
pub(super) fn existing(path: &Path, marker: &str) -> Result<Existing> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing::Nothing),
        Err(e) => Err(LayoutError::Io { path: path.to_path_buf(), source: e }),
        Ok(m) if !m.is_dir() => Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "not a directory" }),
        Ok(_) => {
            let mut entries = fs::read_dir(path).map_err(io_err(path))?;
            if entries.next().is_none() {
                Ok(Existing::Empty)
            } else {
                Ok(Existing::Full { has_marker: path.join(marker).is_file() })
            }
        }
    }
}

/// A directory being written beside where it goes; removed on drop unless placed.
struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    placed: bool,
}

impl Staging {
    fn beside(dest: &Path) -> Result<Staging> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(LayoutError::Invalid(format!(
                "{}: its parent directory {} does not exist",
                dest.display(),
                parent.display()
            )));
        }
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
        for _ in 0..16 {
            let tmp = parent.join(format!(".{name}.berth-{:08x}", rand_u32()));
            match fs::create_dir(&tmp) {
                Ok(()) => return Ok(Staging { tmp, dest: dest.to_path_buf(), placed: false }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(LayoutError::Io { path: tmp, source: e }),
            }
        }
        Err(LayoutError::Invalid(format!("{}: no free name for a staging directory", dest.display())))
    }

    /// Puts the staged directory where it goes: over nothing or an empty directory with one
    /// rename; over a former image by moving that aside first, removing it once replaced.
    fn place(mut self) -> Result<()> {
        let dest = self.dest.clone();
        match fs::rename(&self.tmp, &dest) {
            Ok(()) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY) | Some(libc::EEXIST)) => {
                let old = self.tmp.with_extension("old");
                fs::rename(&dest, &old).map_err(io_err(&dest))?;
                if let Err(e) = fs::rename(&self.tmp, &dest) {
                    let _ = fs::rename(&old, &dest);
                    return Err(LayoutError::Io { path: dest, source: e });
                }
                let _ = fs::remove_dir_all(&old);
            }
            Err(e) => return Err(LayoutError::Io { path: dest, source: e }),
        }
        self.placed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.placed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    if File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        return t.subsec_nanos() ^ std::process::id();
    }
    u32::from_ne_bytes(b)
}
