//! Images as directories, as containers/image writes them: the `dir:` transport (a `version`
//! file, `manifest.json`, every blob under its hex digest) and the OCI image layout (`oci:`:
//! `oci-layout`, `index.json`, `blobs/sha256/HEX`).
//!
//! Nothing is left half written. A new directory (or one that replaces an empty directory or a
//! former `dir:` image) is written beside its destination, `.NAME.berth-XXXX`, and renamed into
//! place when complete; an existing OCI layout gets each new blob through a temporary file
//! renamed under its digest and its `index.json` replaced the same way, and a failed push
//! removes the blobs it added. A non-empty directory that is neither is refused, as
//! containers/image refuses it.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// The `version` file of a `dir:` image.
pub const DIR_VERSION: &str = "Directory Transport Version: 1.1\n";
pub const OCI_LAYOUT: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not empty and does not hold an image ({what}): refusing to overwrite it; give a new or empty directory")]
    NotAnImage { path: PathBuf, what: &'static str },
    #[error("{path}: {message}")]
    Bad { path: PathBuf, message: String },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io { path: path.to_path_buf(), source }
}

fn hex_of(digest: &str) -> Result<&str, LayoutError> {
    crate::content::digest_hex(digest)
        .map_err(|e| LayoutError::Bad { path: PathBuf::from(digest), message: e.to_string() })
}

/// A directory being written beside where it goes; removed on drop unless placed.
struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    placed: bool,
}

impl Staging {
    fn beside(dest: &Path) -> Result<Staging, LayoutError> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(LayoutError::Bad {
                path: dest.to_path_buf(),
                message: format!("its parent directory {} does not exist", parent.display()),
            });
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
        Err(LayoutError::Bad { path: dest.to_path_buf(), message: "no free name for a staging directory".into() })
    }

    /// Puts the staged directory where it goes: over nothing or an empty directory with one
    /// rename; over a former image by moving that aside first, removing it once replaced.
    fn place(mut self) -> Result<(), LayoutError> {
        let dest = self.dest.clone();
        match fs::rename(&self.tmp, &dest) {
            Ok(()) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY) | Some(libc::EEXIST)) => {
                let old = self.tmp.with_extension("old");
                fs::rename(&dest, &old).map_err(io_at(&dest))?;
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

/// What is at a destination path now.
enum Existing {
    Nothing,
    Empty,
    /// A non-empty directory; whether it has this file.
    Full {
        has_marker: bool,
    },
}

fn existing(path: &Path, marker: &str) -> Result<Existing, LayoutError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing::Nothing),
        Err(e) => Err(LayoutError::Io { path: path.to_path_buf(), source: e }),
        Ok(m) if !m.is_dir() => Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "not a directory" }),
        Ok(_) => {
            let mut entries = fs::read_dir(path).map_err(io_at(path))?;
            if entries.next().is_none() {
                Ok(Existing::Empty)
            } else {
                Ok(Existing::Full { has_marker: path.join(marker).is_file() })
            }
        }
    }
}

/// Copies `src` into a new file `dest`, synced.
fn write_file(dest: &Path, src: &mut dyn Read) -> Result<u64, LayoutError> {
    let mut f = File::create(dest).map_err(io_at(dest))?;
    let n = io::copy(src, &mut f).map_err(io_at(dest))?;
    f.sync_all().map_err(io_at(dest))?;
    Ok(n)
}

/// A `dir:` image being written.
pub struct DirWriter {
    staging: Staging,
}

impl DirWriter {
    /// Starts writing an image for `path`: a new directory, an empty one, or a former `dir:`
    /// image (whose content is replaced, as containers/image replaces it).
    pub fn create(path: &Path) -> Result<DirWriter, LayoutError> {
        match existing(path, "version")? {
            Existing::Full { has_marker: false } => {
                return Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "no version file" })
            }
            Existing::Full { has_marker: true } => {
                let version = fs::read_to_string(path.join("version")).map_err(io_at(path))?;
                if version != DIR_VERSION {
                    return Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "an unknown version file" });
                }
            }
            Existing::Nothing | Existing::Empty => {}
        }
        Ok(DirWriter { staging: Staging::beside(path)? })
    }

    /// Writes a blob (a layer or the config) under its hex digest.
    pub fn put_blob(&mut self, digest: &str, src: &mut dyn Read) -> Result<u64, LayoutError> {
        let hex = hex_of(digest)?;
        write_file(&self.staging.tmp.join(hex), src)
    }

    /// Writes `manifest.json` and `version`, then puts the directory in place.
    pub fn finish(self, manifest: &[u8]) -> Result<(), LayoutError> {
        write_file(&self.staging.tmp.join("manifest.json"), &mut &manifest[..])?;
        write_file(&self.staging.tmp.join("version"), &mut DIR_VERSION.as_bytes())?;
        self.staging.place()
    }
}

/// An image being added to an OCI image layout.
pub struct OciWriter {
    /// Where blobs and the index are written: the staging directory of a new layout, or the
    /// existing layout itself.
    root: PathBuf,
    staging: Option<Staging>,
    /// Blobs this writer added to an existing layout (removed again unless it finishes).
    added: Vec<PathBuf>,
    done: bool,
}

impl OciWriter {
    pub fn create(path: &Path) -> Result<OciWriter, LayoutError> {
        let staging = match existing(path, "oci-layout")? {
            Existing::Full { has_marker: false } => {
                return Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "no oci-layout file" })
            }
            Existing::Full { has_marker: true } => None,
            Existing::Nothing | Existing::Empty => Some(Staging::beside(path)?),
        };
        let root = staging.as_ref().map_or_else(|| path.to_path_buf(), |s| s.tmp.clone());
        let blobs = root.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(io_at(&blobs))?;
        Ok(OciWriter { root, staging, added: Vec::new(), done: false })
    }

    /// Writes a blob under `blobs/sha256/HEX` unless the layout has it.
    /// Returns whether it was written.
    pub fn put_blob(&mut self, digest: &str, src: &mut dyn Read) -> Result<bool, LayoutError> {
        let hex = hex_of(digest)?;
        let dest = self.root.join("blobs/sha256").join(hex);
        if dest.is_file() {
            return Ok(false);
        }
        let tmp = self.root.join("blobs/sha256").join(format!(".{hex}.berth-{:08x}", rand_u32()));
        let written = write_file(&tmp, src).and_then(|_| fs::rename(&tmp, &dest).map_err(io_at(&dest)));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        if self.staging.is_none() {
            self.added.push(dest);
        }
        Ok(true)
    }

    /// Adds the manifest (a blob) to `index.json`, under `tag` when given (the entry that had
    /// that name loses it), and puts a new layout in place.
    pub fn finish(
        mut self,
        manifest: &[u8],
        media_type: &str,
        digest: &str,
        tag: Option<&str>,
    ) -> Result<(), LayoutError> {
        self.put_blob(digest, &mut &manifest[..])?;
        let index_path = self.root.join("index.json");
        let mut index: Value = match fs::read(&index_path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| LayoutError::Bad {
                path: index_path.clone(),
                message: format!("not an OCI index: {e}"),
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
            }
            Err(e) => return Err(LayoutError::Io { path: index_path, source: e }),
        };
        let Some(manifests) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
            return Err(LayoutError::Bad { path: index_path, message: "no manifests list".into() });
        };
        let name_of =
            |m: &Value| m.get("annotations").and_then(|a| a.get(REF_NAME)).and_then(Value::as_str).map(str::to_string);
        let mut entry = json!({"mediaType": media_type, "digest": digest, "size": manifest.len()});
        if let Some(tag) = tag {
            // as containers/image: the image that had this name keeps its place, without it
            for m in manifests.iter_mut().filter(|m| name_of(m).as_deref() == Some(tag)) {
                if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
                    a.remove(REF_NAME);
                    if a.is_empty() {
                        m.as_object_mut().map(|o| o.remove("annotations"));
                    }
                }
            }
            entry["annotations"] = json!({ REF_NAME: tag });
        }
        // an unnamed entry of the same manifest is this one again
        match manifests.iter_mut().find(|m| m["digest"] == json!(digest) && name_of(m).is_none()) {
            Some(same) => *same = entry,
            None => manifests.push(entry),
        }
        let bytes = serde_json::to_vec(&index).expect("an index serialises");
        let tmp = self.root.join(format!(".index.json.berth-{:08x}", rand_u32()));
        let written =
            write_file(&tmp, &mut &bytes[..]).and_then(|_| fs::rename(&tmp, &index_path).map_err(io_at(&index_path)));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let layout = self.root.join("oci-layout");
        if !layout.is_file() {
            write_file(&layout, &mut OCI_LAYOUT.as_bytes())?;
        }
        self.done = true;
        match self.staging.take() {
            Some(s) => s.place(),
            None => Ok(()),
        }
    }
}

impl Drop for OciWriter {
    fn drop(&mut self) {
        if !self.done {
            for b in &self.added {
                let _ = fs::remove_file(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(p: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        v.sort();
        v
    }

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn a_dir_image_replaces_an_empty_dir_or_a_former_image_but_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("img");
        fs::create_dir(&dest).unwrap();
        let mut w = DirWriter::create(&dest).unwrap();
        w.put_blob(D1, &mut &b"blob"[..]).unwrap();
        w.finish(b"{}").unwrap();
        assert_eq!(fs::read_to_string(dest.join("version")).unwrap(), DIR_VERSION);
        assert_eq!(fs::read(dest.join(&D1[7..])).unwrap(), b"blob");

        // again: the old content goes
        let w = DirWriter::create(&dest).unwrap();
        w.finish(b"{\"a\":1}").unwrap();
        assert!(!dest.join(&D1[7..]).exists());
        assert_eq!(entries(t.path()), ["img"]);

        fs::write(dest.join("version"), "other").unwrap();
        assert!(matches!(DirWriter::create(&dest), Err(LayoutError::NotAnImage { .. })));
        let other = t.path().join("other");
        fs::create_dir(&other).unwrap();
        fs::write(other.join("precious"), "x").unwrap();
        let e = DirWriter::create(&other).err().unwrap().to_string();
        assert!(e.contains("refusing to overwrite"), "{e}");
    }

    #[test]
    fn an_unfinished_write_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("img");
        let mut w = DirWriter::create(&dest).unwrap();
        w.put_blob(D1, &mut &b"blob"[..]).unwrap();
        drop(w);
        let mut o = OciWriter::create(&t.path().join("oci")).unwrap();
        o.put_blob(D1, &mut &b"blob"[..]).unwrap();
        drop(o);
        assert!(entries(t.path()).is_empty());
    }

    #[test]
    fn an_oci_layout_keeps_other_tags_and_replaces_its_own() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("oci");
        for (tag, m) in [("a", "{\"m\":1}"), ("b", "{\"m\":2}"), ("a", "{\"m\":3}")] {
            let w = OciWriter::create(&dest).unwrap();
            let digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(m.as_bytes())));
            w.finish(m.as_bytes(), "application/vnd.oci.image.manifest.v1+json", &digest, Some(tag)).unwrap();
        }
        let index: Value = serde_json::from_slice(&fs::read(dest.join("index.json")).unwrap()).unwrap();
        // the first image lost its name to the third, and stays, unnamed
        let names: Vec<Option<&str>> =
            index["manifests"].as_array().unwrap().iter().map(|m| m["annotations"][REF_NAME].as_str()).collect();
        assert_eq!(names, [None, Some("b"), Some("a")]);
        assert_eq!(fs::read_to_string(dest.join("oci-layout")).unwrap(), OCI_LAYOUT);
        assert_eq!(fs::read_dir(dest.join("blobs/sha256")).unwrap().count(), 3);
    }
}
