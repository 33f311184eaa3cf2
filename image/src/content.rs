//! Content-addressed blobs (manifests, configs, compressed layers) by digest.
//!
//! Bytes are written to an ingest file, hashed as they arrive, and renamed under their digest
//! only once the hash matches: a blob is never stored under a digest it does not match. An
//! interrupted download leaves its partial ingest file behind; the next writer of the same
//! digest (serialised by a lock file, across processes) re-hashes it and resumes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest as _, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("invalid digest \"{0}\": expected sha256:<64 lowercase hex characters>")]
    InvalidDigest(String),
    #[error("blob {expected} does not match its digest (got {actual}): refusing to store it")]
    Mismatch { expected: String, actual: String },
    #[error("blob {digest}: {source}")]
    Io { digest: String, source: io::Error },
    #[error("blob {0} not found in the content store")]
    NotFound(String),
}

/// The hex part of a sha256 digest, checked so it can be used as a file name.
/// `sha256:` and the hex of the bytes' SHA-256.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A reader or a writer that hashes (SHA-256) and counts the bytes that go through it.
pub struct Hashing<T> {
    inner: T,
    hasher: Sha256,
    len: u64,
}

impl<T> Hashing<T> {
    pub fn new(inner: T) -> Self {
        Hashing { inner, hasher: Sha256::new(), len: 0 }
    }

    /// The reader or writer back (unflushed), the `sha256:` digest and the byte count.
    pub fn finish(self) -> (T, String, u64) {
        (self.inner, format!("sha256:{}", hex::encode(self.hasher.finalize())), self.len)
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub fn digest_hex(digest: &str) -> Result<&str, ContentError> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => Ok(hex),
        _ => Err(ContentError::InvalidDigest(digest.to_string())),
    }
}

#[derive(Clone, Debug)]
pub struct ContentStore {
    blobs: PathBuf,
    ingest: PathBuf,
}

impl ContentStore {
    pub fn open(root: &Path) -> io::Result<ContentStore> {
        let store = ContentStore { blobs: root.join("blobs/sha256"), ingest: root.join("ingest") };
        fs::create_dir_all(&store.blobs)?;
        fs::create_dir_all(&store.ingest)?;
        Ok(store)
    }

    pub fn path(&self, digest: &str) -> Result<PathBuf, ContentError> {
        Ok(self.blobs.join(digest_hex(digest)?))
    }

    pub fn has(&self, digest: &str) -> bool {
        self.path(digest).is_ok_and(|p| p.exists())
    }

    pub fn read(&self, digest: &str) -> Result<Vec<u8>, ContentError> {
        fs::read(self.path(digest)?).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ContentError::NotFound(digest.into()),
            _ => ContentError::Io { digest: digest.into(), source: e },
        })
    }

    pub fn open_blob(&self, digest: &str) -> Result<File, ContentError> {
        File::open(self.path(digest)?).map_err(|e| ContentError::Io { digest: digest.into(), source: e })
    }

    /// Stores a small blob held in memory, after checking its digest.
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<(), ContentError> {
        if self.has(digest) {
            return Ok(());
        }
        let mut w = self.ingest_locked(digest)?;
        w.restart()?;
        w.write(bytes)?;
        w.commit()
    }

    /// A fresh file in the ingest directory for a blob whose digest is known only once it is
    /// written (`commit` makes its layer there); [`store_file`](Self::store_file) moves it in.
    pub fn temp_file(&self) -> io::Result<(PathBuf, File)> {
        let path = self.ingest.join(format!("new-{}-{:016x}.tmp", std::process::id(), rand_u64()));
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok((path, file))
    }

    /// Moves a complete file from [`temp_file`](Self::temp_file), whose digest its writer
    /// hashed as it wrote it, under that digest (under the blob's ingest lock; a blob already
    /// there is kept and the file dropped). Returns whether the blob is new.
    pub fn store_file(&self, digest: &str, path: &Path) -> Result<bool, ContentError> {
        let ingest = self.ingest_locked(digest)?;
        let new = !ingest.is_committed();
        let moved = if new { fs::rename(path, &ingest.final_path) } else { fs::remove_file(path) };
        moved.map_err(|e| ingest.io(e))?;
        let _ = fs::remove_file(&ingest.data);
        Ok(new)
    }

    pub fn delete(&self, digest: &str) -> Result<(), ContentError> {
        match fs::remove_file(self.path(digest)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(ContentError::Io { digest: digest.into(), source: e }),
            _ => Ok(()),
        }
    }

    /// Every stored digest (for checks and garbage collection).
    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.blobs)? {
            out.push(format!("sha256:{}", entry?.file_name().to_string_lossy()));
        }
        Ok(out)
    }

    /// Removes what an abandoned download of `digest` wrote (a cancelled pull: nothing to
    /// resume), under the blob's ingest lock; a blob complete under its digest stays.
    pub fn discard_partial(&self, digest: &str) -> Result<(), ContentError> {
        let ingest = self.ingest_locked(digest)?;
        if !ingest.is_committed() {
            ingest.discard();
        }
        Ok(())
    }

    /// Opens the ingest for `digest`, waiting while another process writes the same blob.
    /// A partial file from an interrupted attempt is re-hashed so the writer can resume.
    pub fn ingest_locked(&self, digest: &str) -> Result<Ingest, ContentError> {
        let hex = digest_hex(digest)?;
        let io_err = |source| ContentError::Io { digest: digest.into(), source };
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.ingest.join(format!("{hex}.lock")))
            .map_err(io_err)?;
        let mut lock_file = lock_file;
        let lock = loop {
            match Flock::lock(lock_file, FlockArg::LockExclusiveNonblock) {
                Ok(l) => break l,
                Err((f, nix::errno::Errno::EWOULDBLOCK)) => {
                    lock_file = f;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err((_, e)) => return Err(io_err(io::Error::from(e))),
            }
        };
        let data = self.ingest.join(format!("{hex}.data"));
        let mut file =
            OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&data).map_err(io_err)?;
        let mut hasher = Sha256::new();
        let mut offset = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(io_err)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            offset += n as u64;
        }
        Ok(Ingest {
            digest: digest.into(),
            data,
            final_path: self.blobs.join(hex),
            file,
            hasher,
            offset,
            lock: Arc::new(lock),
        })
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A locked, partially written blob. Dropping it keeps the partial data for a later resume.
pub struct Ingest {
    digest: String,
    data: PathBuf,
    final_path: PathBuf,
    file: File,
    hasher: Sha256,
    offset: u64,
    lock: Arc<Flock<File>>,
}

/// Keeps a blob's ingest lock held (e.g. by a thread still unpacking it) after the `Ingest` is gone.
pub type IngestLock = Arc<Flock<File>>;

impl Ingest {
    /// Bytes already written (by this or an interrupted earlier attempt).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The partial data written so far, for replaying into an unpacker when resuming.
    pub fn partial(&self) -> Result<File, ContentError> {
        File::open(&self.data).map_err(|e| self.io(e))
    }

    pub fn lock(&self) -> IngestLock {
        self.lock.clone()
    }

    /// Whether the blob is already complete under its digest.
    pub fn is_committed(&self) -> bool {
        self.final_path.exists()
    }

    pub fn restart(&mut self) -> Result<(), ContentError> {
        self.file.set_len(0).map_err(|e| self.io(e))?;
        self.file = OpenOptions::new().write(true).truncate(true).open(&self.data).map_err(|e| self.io(e))?;
        self.hasher = Sha256::new();
        self.offset = 0;
        Ok(())
    }

    pub fn write(&mut self, chunk: &[u8]) -> Result<(), ContentError> {
        self.file.write_all(chunk).map_err(|e| self.io(e))?;
        self.hasher.update(chunk);
        self.offset += chunk.len() as u64;
        Ok(())
    }

    /// Checks the bytes written against the digest; on a mismatch they are thrown away,
    /// so no later attempt resumes from them.
    pub fn verify(&mut self) -> Result<(), ContentError> {
        let actual = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
        if actual != self.digest {
            self.restart()?;
            return Err(ContentError::Mismatch { expected: self.digest.clone(), actual });
        }
        Ok(())
    }

    /// Verifies the digest and moves the data under it.
    pub fn commit(mut self) -> Result<(), ContentError> {
        self.verify()?;
        self.file.sync_all().map_err(|e| self.io(e))?;
        fs::rename(&self.data, &self.final_path).map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Gives up on the blob: the bytes written so far go, so nothing is resumed from them
    /// (a failed load from a file, which has nothing to resume).
    pub fn discard(self) {
        let _ = fs::remove_file(&self.data);
    }

    fn io(&self, source: io::Error) -> ContentError {
        ContentError::Io { digest: self.digest.clone(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(b: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(b)))
    }

    #[test]
    fn refuses_a_mismatching_blob_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let claimed = digest_of(b"good");
        let err = store.put(&claimed, b"evil").unwrap_err();
        assert!(matches!(err, ContentError::Mismatch { .. }), "{err}");
        assert!(err.to_string().contains(&claimed));
        assert!(!store.has(&claimed));
        assert!(store.list().unwrap().is_empty());
        store.put(&claimed, b"good").unwrap();
        assert_eq!(store.read(&claimed).unwrap(), b"good");
    }

    #[test]
    fn resumes_a_partial_ingest() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let d = digest_of(b"hello world");
        {
            let mut w = store.ingest_locked(&d).unwrap();
            w.write(b"hello ").unwrap();
        }
        let mut w = store.ingest_locked(&d).unwrap();
        assert_eq!(w.offset(), 6);
        w.write(b"world").unwrap();
        w.commit().unwrap();
        assert_eq!(store.read(&d).unwrap(), b"hello world");
    }

    #[test]
    fn digests_are_checked_before_use_as_paths() {
        for bad in ["sha256:../../etc/passwd", "sha256:ABC", "md5:00", "sha256:"] {
            let dir = tempfile::tempdir().unwrap();
            let store = ContentStore::open(dir.path()).unwrap();
            assert!(matches!(store.put(bad, b"x"), Err(ContentError::InvalidDigest(_))), "{bad}");
        }
    }
}
