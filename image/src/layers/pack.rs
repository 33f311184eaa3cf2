//! A container's upper directory written back as an OCI layer tar (`commit`).
//!
//! The reverse of `unpack`: an overlay whiteout (a 0:0 character device) becomes an empty
//! `DIR/.wh.NAME` entry, an opaque directory (`trusted.overlay.opaque` or `user.overlay.opaque`
//! = `y`) gets a `DIR/.wh..wh..opq` entry after its own, a second name of an inode becomes a
//! hard link to the first, and owners, modes, mtimes and xattrs (but overlay's own) are kept,
//! the xattrs as PAX `SCHILY.xattr.*` records. Entries are written in name order, a directory
//! before its content, so the same tree always gives the same tar.
//!
//! The tree may change while it is read (a running container): a regular file is written with
//! the size it had when listed, cut or padded with zeros, so the archive stays well formed.

use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::view::{is_opaque, is_whiteout};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARK: &str = ".wh..wh..opq";

/// Writes the tar of `upper` (its content, not the directory itself) to `out`, and returns it.
pub fn write_layer_tar<W: Write>(upper: &Path, out: W) -> io::Result<W> {
    write_layer_tar_at(upper, out, None)
}

/// [`write_layer_tar`], every entry's mtime `mtime` when given (a reproducible layer: the same
/// files give the same bytes whenever they were written).
pub fn write_layer_tar_at<W: Write>(upper: &Path, out: W, mtime: Option<u64>) -> io::Result<W> {
    let mut b = tar::Builder::new(out);
    b.mode(tar::HeaderMode::Complete);
    b.follow_symlinks(false);
    let mut links: HashMap<(u64, u64), PathBuf> = HashMap::new();
    walk(&mut b, upper, Path::new(""), &mut links, mtime)?;
    b.into_inner()
}

fn walk<W: Write>(
    b: &mut tar::Builder<W>,
    dir: &Path,
    rel: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
    mtime: Option<u64>,
) -> io::Result<()> {
    let header = |meta: &Metadata, kind: EntryType| {
        let mut h = header(meta, kind);
        if let Some(t) = mtime {
            h.set_mtime(t);
        }
        h
    };
    let mut names: Vec<_> = fs::read_dir(dir)?.map(|e| e.map(|e| e.file_name())).collect::<io::Result<_>>()?;
    names.sort();
    for name in names {
        let host = dir.join(&name);
        let rel = rel.join(&name);
        let meta = match fs::symlink_metadata(&host) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
            Err(e) => return Err(e),
        };
        if is_whiteout(&meta) {
            let mut wh = std::ffi::OsString::from(WHITEOUT_PREFIX);
            wh.push(&name);
            let path = rel.with_file_name(wh);
            let mut h = header(&meta, EntryType::Regular);
            h.set_mode(0o600);
            h.set_size(0);
            b.append_data(&mut h, &path, io::empty())?;
            continue;
        }
        write_xattrs(b, &host)?;
        let ft = meta.file_type();
        if ft.is_dir() {
            let mut h = header(&meta, EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, &rel, io::empty())?;
            if is_opaque(&host) {
                let mut h = header(&meta, EntryType::Regular);
                h.set_mode(0o600);
                h.set_size(0);
                b.append_data(&mut h, rel.join(OPAQUE_MARK), io::empty())?;
            }
            walk(b, &host, &rel, links, mtime)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&host)?;
            let mut h = header(&meta, EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, &rel, &target)?;
        } else if ft.is_file() {
            if meta.nlink() > 1 {
                if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                    let mut h = header(&meta, EntryType::Link);
                    h.set_size(0);
                    b.append_link(&mut h, &rel, first)?;
                    continue;
                }
                links.insert((meta.dev(), meta.ino()), rel.clone());
            }
            let file = match File::open(&host) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let mut h = header(&meta, EntryType::Regular);
            h.set_size(meta.len());
            b.append_data(&mut h, &rel, Exact { inner: file.take(meta.len()), left: meta.len() })?;
        } else if ft.is_char_device() || ft.is_block_device() {
            let kind = if ft.is_char_device() { EntryType::Char } else { EntryType::Block };
            let mut h = header(&meta, kind);
            h.set_size(0);
            let rdev = meta.rdev();
            h.set_device_major(nix::sys::stat::major(rdev) as u32)?;
            h.set_device_minor(nix::sys::stat::minor(rdev) as u32)?;
            b.append_data(&mut h, &rel, io::empty())?;
        } else if ft.is_fifo() {
            let mut h = header(&meta, EntryType::Fifo);
            h.set_size(0);
            b.append_data(&mut h, &rel, io::empty())?;
        }
        // a socket has no tar form: skipped, as containers/storage skips it
    }
    Ok(())
}

fn header(meta: &Metadata, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(meta.uid() as u64);
    h.set_gid(meta.gid() as u64);
    h.set_mtime(meta.mtime().max(0) as u64);
    h
}

/// The entry's xattrs, overlay's own left out, as a PAX header before it.
fn write_xattrs<W: Write>(b: &mut tar::Builder<W>, host: &Path) -> io::Result<()> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    let names = match xattr::list(host) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(()),
        Err(e) => return Err(e),
    };
    for name in names {
        let n = name.to_string_lossy();
        if n.starts_with("trusted.overlay.") || n.starts_with("user.overlay.") {
            continue;
        }
        if let Some(value) = xattr::get(host, &name)? {
            records.push((format!("SCHILY.xattr.{n}"), value));
        }
    }
    if records.is_empty() {
        return Ok(());
    }
    records.sort();
    b.append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
}

/// Exactly `left` bytes: what the file has, then zeros if it shrank meanwhile.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left as usize);
        let mut n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            buf[..want].fill(0);
            n = want;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteouts_opaque_dirs_and_links_round_trip_through_the_unpacker() {
        let src = tempfile::tempdir().unwrap();
        let up = src.path();
        fs::create_dir(up.join("d")).unwrap();
        fs::write(up.join("d/a"), b"hello").unwrap();
        fs::hard_link(up.join("d/a"), up.join("b")).unwrap();
        std::os::unix::fs::symlink("d/a", up.join("s")).unwrap();
        nix::sys::stat::mknod(&up.join("gone"), nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0)
            .unwrap();
        let opaque = xattr::set(up.join("d"), "trusted.overlay.opaque", b"y").is_ok();
        let tar = write_layer_tar(up, Vec::new()).unwrap();
        let mut names = Vec::new();
        for e in tar::Archive::new(&tar[..]).entries().unwrap() {
            let e = e.unwrap();
            names.push((e.path().unwrap().display().to_string(), e.header().entry_type()));
        }
        assert!(names.contains(&("b".into(), EntryType::Regular)), "{names:?}");
        assert!(names.contains(&("d/a".into(), EntryType::Link)), "{names:?}");
        assert!(names.contains(&(".wh.gone".into(), EntryType::Regular)), "{names:?}");
        assert!(names.contains(&("s".into(), EntryType::Symlink)), "{names:?}");
        assert_eq!(opaque, names.contains(&("d/.wh..wh..opq".into(), EntryType::Regular)), "{names:?}");
        let dest = tempfile::tempdir().unwrap();
        super::super::unpack_stream(&tar[..], dest.path()).unwrap();
        assert_eq!(fs::read(dest.path().join("d/a")).unwrap(), b"hello");
        assert!(is_whiteout(&fs::symlink_metadata(dest.path().join("gone")).unwrap()));
        assert_eq!(opaque, is_opaque(&dest.path().join("d")));
    }
}
