//! Unpacked layers, keyed by chain id, each a directory that overlayfs can stack.
//!
//! A layer is unpacked into `layers/.tmp-<chain>` while it downloads and renamed to
//! `layers/<chain>` only after both its compressed digest and its diff id check out, so a
//! directory under its final name is always complete. Whiteouts are stored the overlay way
//! (see `unpack`), so the directories can be used as lower dirs as they are.

pub mod changes;
pub mod flatten;
pub mod pack;
pub mod unpack;
pub mod view;

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The mode of a layer's root that its tar did not set: containers/storage's, 0555 (what
/// Podman's containers show for `/` then).
pub const DEFAULT_ROOT_MODE: u32 = 0o555;

use sha2::{Digest as _, Sha256};

use crate::content::digest_hex;
pub use unpack::{UnpackError, UnpackStats};

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("image {image}: layer {layer}: {source}")]
    Unpack { image: String, layer: String, source: UnpackError },
    #[error("image {image}: layer {layer}: {message}")]
    Corrupt { image: String, layer: String, message: String },
    #[error("layer store {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The chain ids of a stack of diff ids: `chain(0) = diff(0)`,
/// `chain(n) = sha256(chain(n-1) + " " + diff(n))`.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => format!("sha256:{}", hex::encode(Sha256::digest(format!("{prev} {d}")))),
        };
        out.push(next);
    }
    out
}

#[derive(Clone, Debug)]
pub struct LayerStore {
    root: PathBuf,
}

impl LayerStore {
    pub fn open(root: &Path) -> io::Result<LayerStore> {
        let root = root.join("layers");
        fs::create_dir_all(&root)?;
        Ok(LayerStore { root })
    }

    fn io(&self, path: &Path, source: io::Error) -> LayerError {
        LayerError::Io { path: path.to_path_buf(), source }
    }

    /// The directory of a complete layer (its content is in `<dir>/diff`).
    pub fn dir(&self, chain_id: &str) -> PathBuf {
        self.root.join(digest_hex(chain_id).unwrap_or(chain_id))
    }

    pub fn diff_dir(&self, chain_id: &str) -> PathBuf {
        self.dir(chain_id).join("diff")
    }

    pub fn exists(&self, chain_id: &str) -> bool {
        self.diff_dir(chain_id).is_dir()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A short relative name for a layer's diff dir (`l/<26 hex>`, a symlink), so that an
    /// overlay mount's lowerdir option stays under a page even for images with many layers
    /// (the mount is made from inside `root`).
    pub fn short_link(&self, chain_id: &str) -> Result<String, LayerError> {
        let hex = digest_hex(chain_id).unwrap_or(chain_id);
        let short = format!("l/{}", &hex[..26.min(hex.len())]);
        let link = self.root.join(&short);
        let target = PathBuf::from("..").join(hex).join("diff");
        match fs::read_link(&link) {
            Ok(t) if t == target => return Ok(short),
            Ok(_) => fs::remove_file(&link).map_err(|e| self.io(&link, e))?,
            Err(_) => {}
        }
        fs::create_dir_all(self.root.join("l")).map_err(|e| self.io(&link, e))?;
        match std::os::unix::fs::symlink(&target, &link) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(self.io(&link, e)),
            _ => Ok(short),
        }
    }

    /// The mode of a container's root directory, as containers/storage gives it: that of the
    /// highest layer (of `diff_dirs`, top first) whose tar set its root, else
    /// [`DEFAULT_ROOT_MODE`]. A layer whose root is the default is one that did not set it.
    pub fn root_mode(diff_dirs: &[PathBuf]) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        diff_dirs
            .iter()
            .filter_map(|d| fs::metadata(d).ok())
            .map(|m| m.permissions().mode() & 0o7777)
            .find(|m| *m != DEFAULT_ROOT_MODE)
            .unwrap_or(DEFAULT_ROOT_MODE)
    }

    /// A fresh staging directory for unpacking `chain_id`; the caller holds the blob's ingest
    /// lock, so no one else uses it and whatever is left there is from an interrupted attempt.
    /// Where a layer is staged before it is renamed under its chain id.
    pub fn staging(&self, chain_id: &str) -> PathBuf {
        self.root.join(format!(".tmp-{}", digest_hex(chain_id).unwrap_or(chain_id)))
    }

    pub fn stage(&self, chain_id: &str) -> Result<PathBuf, LayerError> {
        let tmp = self.staging(chain_id);
        self.remove_tree(&tmp)?;
        let diff = tmp.join("diff");
        fs::create_dir_all(&diff).map_err(|e| self.io(&tmp, e))?;
        // A layer without an entry for its root gets containers/storage's mode for one, 0555
        // (a root entry in the tar sets its own); a container's root comes from these.
        fs::set_permissions(&diff, std::os::unix::fs::PermissionsExt::from_mode(DEFAULT_ROOT_MODE))
            .map_err(|e| self.io(&diff, e))?;
        Ok(tmp)
    }

    /// Moves a staged, verified layer under its chain id.
    pub fn commit(&self, staged: &Path, chain_id: &str) -> Result<(), LayerError> {
        let dest = self.dir(chain_id);
        self.remove_tree(&dest)?;
        fs::rename(staged, &dest).map_err(|e| self.io(&dest, e))
    }

    pub fn discard(&self, staged: &Path) {
        let _ = self.remove_tree(staged);
    }

    pub fn remove(&self, chain_id: &str) -> Result<(), LayerError> {
        let hex = digest_hex(chain_id).unwrap_or(chain_id);
        let _ = fs::remove_file(self.root.join("l").join(&hex[..26.min(hex.len())]));
        self.remove_tree(&self.dir(chain_id))
    }

    fn remove_tree(&self, path: &Path) -> Result<(), LayerError> {
        match berth_userns::remove_tree(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.io(path, e)),
            _ => Ok(()),
        }
    }
}

/// Hashes and counts everything read through it (the uncompressed stream gives the diff id).
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// What unpacking a layer stream found.
#[derive(Clone, Debug)]
pub struct Unpacked {
    pub diff_id: String,
    /// Length of the uncompressed tar stream, the size Podman reports for a layer.
    pub size: u64,
    pub stats: UnpackStats,
}

/// Decompresses (gzip, zstd or none, told apart by their magic bytes), unpacks into `dest`,
/// and returns the diff id and size of the uncompressed stream.
pub fn unpack_stream<R: Read>(compressed: R, dest: &Path) -> Result<Unpacked, UnpackError> {
    let mut input = BufReader::with_capacity(1 << 17, compressed);
    let magic = input.fill_buf().map_err(UnpackError::Archive)?;
    let decoded: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(input))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(input).map_err(UnpackError::Archive)?)
    } else {
        Box::new(input)
    };
    let mut reader = HashingReader { inner: decoded, hasher: Sha256::new(), len: 0 };
    let stats = unpack::unpack_layer(&mut reader, dest)?;
    // The diff id covers the whole stream, including the padding after the end-of-archive marker.
    io::copy(&mut reader, &mut io::sink()).map_err(UnpackError::Archive)?;
    Ok(Unpacked { diff_id: format!("sha256:{}", hex::encode(reader.hasher.finalize())), size: reader.len, stats })
}

/// [`unpack_stream`], inside the user namespace when Berth is rootless, so owners are kept: the
/// stream goes to a `__berth-userns unpack` helper's stdin, whose answer is the [`Unpacked`].
pub fn unpack_stream_as_owner<R: Read>(mut compressed: R, dest: &Path) -> Result<Unpacked, UnpackError> {
    if !berth_userns::outside() {
        return unpack_stream(compressed, dest);
    }
    let helper_err = |e: std::io::Error| UnpackError::Archive(std::io::Error::other(format!("unpack helper: {e}")));
    let mut child = berth_userns::reexec::userns_command("unpack")
        .map_err(helper_err)?
        .arg(dest)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(helper_err)?;
    let mut stdin = child.stdin.take().expect("piped");
    let copied = std::io::copy(&mut compressed, &mut stdin);
    drop(stdin);
    let out = child.wait_with_output().map_err(helper_err)?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(UnpackError::Archive(std::io::Error::other(msg)));
    }
    // A failed read of our input is the input's failure (a dropped download), not the helper's.
    if let Err(e) = copied {
        return Err(UnpackError::Archive(e));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = line.split_whitespace().collect();
    let bad = || UnpackError::Archive(std::io::Error::other(format!("unpack helper answered {line:?}")));
    match f.as_slice() {
        [diff_id, size, bytes, entries] => Ok(Unpacked {
            diff_id: diff_id.to_string(),
            size: size.parse().map_err(|_| bad())?,
            stats: UnpackStats {
                size: bytes.parse().map_err(|_| bad())?,
                entries: entries.parse().map_err(|_| bad())?,
            },
        }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_oci_definition() {
        let a = "sha256:aaaa".to_string();
        let b = "sha256:bbbb".to_string();
        let ids = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(ids[0], a);
        assert_eq!(ids[1], format!("sha256:{}", hex::encode(Sha256::digest(b"sha256:aaaa sha256:bbbb"))));
    }

    fn tar_with_file() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "hello.txt", &b"hello"[..]).unwrap();
        b.into_inner().unwrap()
    }

    #[test]
    fn diff_id_is_the_same_for_every_compression() {
        use std::io::Write;
        let tar = tar_with_file();
        let want = format!("sha256:{}", hex::encode(Sha256::digest(&tar)));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&tar[..], 3).unwrap();
        for blob in [tar.clone(), gz, zst] {
            let dir = tempfile::tempdir().unwrap();
            let got = unpack_stream(&blob[..], dir.path()).unwrap();
            assert_eq!(got.diff_id, want);
            assert_eq!(got.size, tar.len() as u64);
            assert_eq!(got.stats.size, 5);
            assert_eq!(fs::read(dir.path().join("hello.txt")).unwrap(), b"hello");
        }
    }
}
