//! Layer tarballs built entry by entry, so tests control every byte the engine unpacks.
//!
//! The engine's unpacker must cope with whatever a registry hands it: devices, fifos, hardlinks,
//! xattrs, whiteouts, and hostile names such as `../evil`. The `tar` crate refuses to write the
//! hostile ones, so this builder formats each header itself (with `tar::Header` for the numeric
//! fields) and writes names straight into the header's name field. Long names and xattrs go into
//! a pax extended header, as Docker and containerd write them.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use anyhow::{Context, Result};
use tar::{EntryType, Header};

/// The modification time given to entries unless [`LayerBuilder::mtime`] says otherwise
/// (2024-01-01T00:00:00Z), so that layers and their digests are reproducible.
pub const DEFAULT_MTIME: u64 = 1_704_067_200;

const BLOCK: usize = 512;

/// Builds an uncompressed tar archive (an image layer) entry by entry.
///
/// Paths are written as given, without a leading `/`; directories get a trailing `/`.
/// Owners default to 0:0.
#[derive(Debug, Clone)]
pub struct LayerBuilder {
    out: Vec<u8>,
    mtime: u64,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    /// An empty layer.
    pub fn new() -> Self {
        LayerBuilder { out: Vec::new(), mtime: DEFAULT_MTIME }
    }

    /// Sets the modification time of the entries added after this call.
    pub fn mtime(&mut self, secs: u64) -> &mut Self {
        self.mtime = secs;
        self
    }

    /// A regular file owned by root.
    pub fn file(&mut self, path: &str, contents: impl AsRef<[u8]>, mode: u32) -> &mut Self {
        self.file_owned(path, contents, mode, 0, 0)
    }

    /// A regular file with an explicit owner.
    pub fn file_owned(&mut self, path: &str, contents: impl AsRef<[u8]>, mode: u32, uid: u64, gid: u64) -> &mut Self {
        self.entry(Entry {
            kind: EntryType::Regular,
            name: clean(path).as_bytes(),
            mode,
            uid,
            gid,
            data: contents.as_ref(),
            ..Entry::default()
        })
    }

    /// A regular file owned by root with extended attributes, written as pax
    /// `SCHILY.xattr.NAME` records.
    pub fn file_with_xattrs(
        &mut self,
        path: &str,
        contents: impl AsRef<[u8]>,
        mode: u32,
        xattrs: &[(&str, &[u8])],
    ) -> &mut Self {
        self.entry(Entry {
            kind: EntryType::Regular,
            name: clean(path).as_bytes(),
            mode,
            data: contents.as_ref(),
            xattrs: xattrs.iter().map(|(name, value)| (name.as_bytes().to_vec(), value.to_vec())).collect(),
            ..Entry::default()
        })
    }

    /// A directory owned by root.
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.dir_owned(path, mode, 0, 0)
    }

    /// A directory with an explicit owner.
    pub fn dir_owned(&mut self, path: &str, mode: u32, uid: u64, gid: u64) -> &mut Self {
        let name = dir_name(clean(path));
        self.entry(Entry { kind: EntryType::Directory, name: name.as_bytes(), mode, uid, gid, ..Entry::default() })
    }

    /// A symbolic link `path` -> `target` (the target is written as given).
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(Entry {
            kind: EntryType::Symlink,
            name: clean(path).as_bytes(),
            link: target.as_bytes(),
            mode: 0o777,
            ..Entry::default()
        })
    }

    /// A hard link `path` to the earlier entry `target` (a path inside the layer).
    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(Entry {
            kind: EntryType::Link,
            name: clean(path).as_bytes(),
            link: clean(target).as_bytes(),
            mode: 0o644,
            ..Entry::default()
        })
    }

    /// A named pipe.
    pub fn fifo(&mut self, path: &str, mode: u32) -> &mut Self {
        self.entry(Entry { kind: EntryType::Fifo, name: clean(path).as_bytes(), mode, ..Entry::default() })
    }

    /// A character device.
    pub fn char_device(&mut self, path: &str, major: u32, minor: u32, mode: u32) -> &mut Self {
        self.entry(Entry {
            kind: EntryType::Char,
            name: clean(path).as_bytes(),
            mode,
            device: (major, minor),
            ..Entry::default()
        })
    }

    /// A block device.
    pub fn block_device(&mut self, path: &str, major: u32, minor: u32, mode: u32) -> &mut Self {
        self.entry(Entry {
            kind: EntryType::Block,
            name: clean(path).as_bytes(),
            mode,
            device: (major, minor),
            ..Entry::default()
        })
    }

    /// An OCI whiteout: deletes `path` from the lower layers (emits `DIR/.wh.NAME`).
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        let path = clean(path).trim_end_matches('/');
        let name = match path.rsplit_once('/') {
            Some((dir, base)) => format!("{dir}/.wh.{base}"),
            None => format!(".wh.{path}"),
        };
        self.file(&name, b"", 0o644)
    }

    /// An OCI opaque whiteout: hides everything the lower layers have under `dir`
    /// (emits `DIR/.wh..wh..opq`).
    pub fn opaque(&mut self, dir: &str) -> &mut Self {
        let dir = clean(dir).trim_end_matches('/');
        let name = if dir.is_empty() { ".wh..wh..opq".to_string() } else { format!("{dir}/.wh..wh..opq") };
        self.file(&name, b"", 0o644)
    }

    /// An entry written exactly as given, for hostile layers: `name` and `link_name` go into the
    /// header's name fields byte for byte (through a pax record when longer than 100 bytes),
    /// nothing is checked or normalised. Mode is 0o755 for directories and 0o644 otherwise,
    /// owner 0:0.
    pub fn raw(&mut self, entry_type: EntryType, name: &[u8], link_name: &[u8], contents: &[u8]) -> &mut Self {
        let mode = if entry_type == EntryType::Directory { 0o755 } else { 0o644 };
        self.entry(Entry { kind: entry_type, name, link: link_name, mode, data: contents, ..Entry::default() })
    }

    /// Appends a header exactly as given (its checksum is not recomputed) followed by `contents`
    /// padded to a block, for tests that need a field this builder does not expose.
    pub fn raw_header(&mut self, header: &Header, contents: &[u8]) -> &mut Self {
        self.out.extend_from_slice(header.as_bytes());
        self.push_data(contents);
        self
    }

    /// Appends arbitrary bytes (e.g. garbage, or a truncated entry).
    pub fn raw_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// Ends the archive with two zero blocks and returns it.
    pub fn build(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0; 2 * BLOCK]);
        self.out
    }

    /// The size of the archive so far, without the end-of-archive blocks.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Tars a real directory tree: the contents of `root` (not `root` itself), in sorted order,
    /// preserving owners, modes, modification times, symlinks, hardlinks, devices, fifos and
    /// xattrs (except `security.selinux`). Sockets are skipped.
    pub fn from_dir(root: &Path) -> Result<LayerBuilder> {
        let mut builder = LayerBuilder::new();
        let mut links = HashMap::new();
        for name in sorted_children(root)? {
            builder.add_tree(root, Path::new(&name), &mut links)?;
        }
        Ok(builder)
    }

    /// Like [`from_dir`](Self::from_dir) but only the given first-level entries of `root`
    /// (each with everything below it). Hardlinks are resolved within this layer only, so the
    /// layer stands alone.
    pub fn from_dir_entries(root: &Path, names: &[std::ffi::OsString]) -> Result<LayerBuilder> {
        let mut builder = LayerBuilder::new();
        let mut links = HashMap::new();
        for name in names {
            builder.add_tree(root, Path::new(name), &mut links)?;
        }
        Ok(builder)
    }

    fn add_tree(&mut self, root: &Path, rel: &Path, links: &mut HashMap<(u64, u64), Vec<u8>>) -> Result<()> {
        let full = root.join(rel);
        let meta =
            std::fs::symlink_metadata(&full).with_context(|| format!("reading metadata of {}", full.display()))?;
        let ft = meta.file_type();
        let mut name = rel.as_os_str().as_bytes().to_vec();
        if ft.is_dir() {
            name.push(b'/');
        }
        let xattrs = read_xattrs(&full)?;
        let mode = meta.mode() & 0o7777;
        let mut entry = Entry {
            name: &name,
            mode,
            uid: meta.uid().into(),
            gid: meta.gid().into(),
            xattrs,
            mtime: Some(meta.mtime().max(0) as u64),
            ..Entry::default()
        };
        let data;
        let link;
        if ft.is_dir() {
            entry.kind = EntryType::Directory;
            self.entry(entry);
            for child in sorted_children(&full)? {
                self.add_tree(root, &rel.join(child), links)?;
            }
            return Ok(());
        } else if ft.is_symlink() {
            link = std::fs::read_link(&full).with_context(|| format!("reading symlink {}", full.display()))?;
            entry.kind = EntryType::Symlink;
            entry.link = link.as_os_str().as_bytes();
        } else if meta.nlink() > 1 && links.contains_key(&(meta.dev(), meta.ino())) {
            entry.kind = EntryType::Link;
            entry.link = &links[&(meta.dev(), meta.ino())];
        } else if ft.is_file() {
            data = std::fs::read(&full).with_context(|| format!("reading {}", full.display()))?;
            entry.kind = EntryType::Regular;
            entry.data = &data;
            if meta.nlink() > 1 {
                links.insert((meta.dev(), meta.ino()), name.clone());
            }
        } else if ft.is_fifo() {
            entry.kind = EntryType::Fifo;
        } else if ft.is_char_device() || ft.is_block_device() {
            entry.kind = if ft.is_char_device() { EntryType::Char } else { EntryType::Block };
            let rdev = meta.rdev();
            entry.device = (dev_major(rdev), dev_minor(rdev));
        } else {
            // sockets cannot be stored in a tar archive
            return Ok(());
        }
        self.entry(entry);
        Ok(())
    }

    fn entry(&mut self, e: Entry<'_>) -> &mut Self {
        let mtime = e.mtime.unwrap_or(self.mtime);
        let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if e.name.len() > 100 {
            pax.push((b"path".to_vec(), e.name.to_vec()));
        }
        if e.link.len() > 100 {
            pax.push((b"linkpath".to_vec(), e.link.to_vec()));
        }
        for (k, v) in &e.xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(k);
            pax.push((key, v.clone()));
        }
        if !pax.is_empty() {
            let mut body = Vec::new();
            for (k, v) in &pax {
                body.extend_from_slice(&pax_record(k, v));
            }
            let mut h = Header::new_ustar();
            set_bytes(&mut h.as_old_mut().name, b"././@PaxHeader");
            h.set_entry_type(EntryType::XHeader);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(mtime);
            h.set_size(body.len() as u64);
            h.set_cksum();
            self.out.extend_from_slice(h.as_bytes());
            self.push_data(&body);
        }

        let mut h = Header::new_ustar();
        set_bytes(&mut h.as_old_mut().name, e.name);
        set_bytes(&mut h.as_old_mut().linkname, e.link);
        h.set_entry_type(e.kind);
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(mtime);
        h.set_size(e.data.len() as u64);
        if matches!(e.kind, EntryType::Char | EntryType::Block) {
            // cannot fail on a ustar header
            let _ = h.set_device_major(e.device.0);
            let _ = h.set_device_minor(e.device.1);
        }
        h.set_cksum();
        self.out.extend_from_slice(h.as_bytes());
        self.push_data(e.data);
        self
    }

    fn push_data(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
        let rem = data.len() % BLOCK;
        if rem != 0 {
            self.out.resize(self.out.len() + BLOCK - rem, 0);
        }
    }
}

struct Entry<'a> {
    kind: EntryType,
    name: &'a [u8],
    link: &'a [u8],
    mode: u32,
    uid: u64,
    gid: u64,
    data: &'a [u8],
    device: (u32, u32),
    xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `None`: the builder's current default.
    mtime: Option<u64>,
}

impl Default for Entry<'_> {
    fn default() -> Self {
        Entry {
            kind: EntryType::Regular,
            name: b"",
            link: b"",
            mode: 0o644,
            uid: 0,
            gid: 0,
            data: b"",
            device: (0, 0),
            xattrs: BTreeMap::new(),
            mtime: None,
        }
    }
}

fn clean(path: &str) -> &str {
    path.trim_start_matches('/')
}

fn dir_name(path: &str) -> String {
    if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    }
}

/// Copies up to the field's length; a longer value travels in a pax record.
fn set_bytes(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    field[n..].fill(0);
}

/// One pax record: "LEN KEY=VALUE\n" where LEN counts the whole record, itself included.
fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let rest = 1 + key.len() + 1 + value.len() + 1; // ' ' key '=' value '\n'
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut rec = format!("{len} ").into_bytes();
    rec.extend_from_slice(key);
    rec.push(b'=');
    rec.extend_from_slice(value);
    rec.push(b'\n');
    debug_assert_eq!(rec.len(), len);
    rec
}

fn sorted_children(dir: &Path) -> Result<Vec<std::ffi::OsString>> {
    let mut names = std::fs::read_dir(dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("reading directory {}", dir.display()))?;
    names.sort();
    Ok(names)
}

fn read_xattrs(path: &Path) -> Result<BTreeMap<Vec<u8>, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let names = match xattr::list(path) {
        Ok(names) => names,
        // file systems without xattr support
        Err(e) if e.raw_os_error() == Some(95) => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("listing xattrs of {}", path.display())),
    };
    for name in names {
        if name.as_bytes() == b"security.selinux" {
            continue;
        }
        if let Some(value) =
            xattr::get(path, &name).with_context(|| format!("reading xattr {name:?} of {}", path.display()))?
        {
            out.insert(name.as_bytes().to_vec(), value);
        }
    }
    Ok(out)
}

/// glibc's `major()` for a `dev_t`.
fn dev_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff)) as u32
}

/// glibc's `minor()` for a `dev_t`.
fn dev_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (type, path, link name, data) of each entry.
    type Listed = (EntryType, Vec<u8>, Option<Vec<u8>>, Vec<u8>);

    fn entries(tar: &[u8]) -> Vec<Listed> {
        let mut ar = tar::Archive::new(tar);
        let mut out = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            out.push((e.header().entry_type(), e.path_bytes().to_vec(), e.link_name_bytes().map(|l| l.to_vec()), data));
        }
        out
    }

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(pax_record(b"path", b"abc"), b"12 path=abc\n");
        let rec = pax_record(b"path", &[b'x'; 95]);
        assert!(rec.starts_with(b"105 path="));
        assert_eq!(rec.len(), 105);
        // 98 bytes without the length: "99 " would make it 101
        let rec = pax_record(b"path", &[b'x'; 91]);
        assert!(rec.starts_with(b"101 path="));
        assert_eq!(rec.len(), 101);
    }

    #[test]
    fn builds_every_kind_of_entry() {
        let mut b = LayerBuilder::new();
        b.dir("etc", 0o755)
            .file("etc/hosts", b"127.0.0.1 localhost\n", 0o644)
            .file_owned("/home/app/x", b"x", 0o600, 1000, 1000)
            .symlink("bin/sh", "busybox")
            .hardlink("etc/hosts2", "etc/hosts")
            .fifo("run/fifo", 0o600)
            .char_device("dev/null", 1, 3, 0o666)
            .block_device("dev/loop0", 7, 0, 0o660)
            .file_with_xattrs("cap", b"", 0o755, &[("security.capability", b"\x01\x02")])
            .whiteout("usr/share/doc")
            .opaque("var/cache/")
            .raw(EntryType::Regular, b"../evil", b"", b"pwned")
            .raw(EntryType::Link, b"link", b"../../etc/passwd", b"");
        let long = format!("{}/file", "d".repeat(150));
        b.file(&long, b"long", 0o644);
        let tar = b.build();
        assert_eq!(tar.len() % BLOCK, 0);

        let got = entries(&tar);
        let names: Vec<String> = got.iter().map(|e| String::from_utf8_lossy(&e.1).into_owned()).collect();
        assert_eq!(
            names,
            [
                "etc/",
                "etc/hosts",
                "home/app/x",
                "bin/sh",
                "etc/hosts2",
                "run/fifo",
                "dev/null",
                "dev/loop0",
                "cap",
                "usr/share/.wh.doc",
                "var/cache/.wh..wh..opq",
                "../evil",
                "link",
                long.as_str(),
            ]
        );
        assert_eq!(got[3].0, EntryType::Symlink);
        assert_eq!(got[3].2.as_deref(), Some(&b"busybox"[..]));
        assert_eq!(got[4].0, EntryType::Link);
        assert_eq!(got[6].0, EntryType::Char);
        assert_eq!(got[11].3, b"pwned");
        assert_eq!(got[12].2.as_deref(), Some(&b"../../etc/passwd"[..]));
        assert_eq!(got[13].3, b"long");

        // owners, devices and xattrs
        let mut ar = tar::Archive::new(&tar[..]);
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path_bytes().to_vec();
            match &path[..] {
                b"home/app/x" => {
                    assert_eq!(e.header().uid().unwrap(), 1000);
                    assert_eq!(e.header().mode().unwrap(), 0o600);
                }
                b"dev/null" => {
                    assert_eq!(e.header().device_major().unwrap(), Some(1));
                    assert_eq!(e.header().device_minor().unwrap(), Some(3));
                }
                b"cap" => {
                    let ext: Vec<_> = e
                        .pax_extensions()
                        .unwrap()
                        .unwrap()
                        .map(|x| x.unwrap())
                        .map(|x| (x.key_bytes().to_vec(), x.value_bytes().to_vec()))
                        .collect();
                    assert_eq!(ext, [(b"SCHILY.xattr.security.capability".to_vec(), b"\x01\x02".to_vec())]);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn from_dir_keeps_links_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a"), b"hello").unwrap();
        std::fs::hard_link(root.join("sub/a"), root.join("b")).unwrap();
        std::os::unix::fs::symlink("sub/a", root.join("c")).unwrap();
        std::fs::set_permissions(root.join("sub/a"), std::os::unix::fs::PermissionsExt::from_mode(0o4750)).unwrap();

        let tar = LayerBuilder::from_dir(root).unwrap().build();
        let got = entries(&tar);
        let summary: Vec<(EntryType, String, Option<String>)> = got
            .iter()
            .map(|e| {
                (
                    e.0,
                    String::from_utf8_lossy(&e.1).into_owned(),
                    e.2.as_ref().map(|l| String::from_utf8_lossy(l).into_owned()),
                )
            })
            .collect();
        // "b" sorts first, so it carries the data and "sub/a" becomes the hardlink
        assert_eq!(
            summary,
            [
                (EntryType::Regular, "b".into(), None),
                (EntryType::Symlink, "c".into(), Some("sub/a".into())),
                (EntryType::Directory, "sub/".into(), None),
                (EntryType::Link, "sub/a".into(), Some("b".into())),
            ]
        );
        assert_eq!(got[0].3, b"hello");
        let mut ar = tar::Archive::new(&tar[..]);
        let first = ar.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(first.header().mode().unwrap(), 0o4750);
    }
}
