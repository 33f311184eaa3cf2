//! containers/image's `dir:` layout (`save --format docker-dir`, `push dir:DIR`): a `version`
//! file, `manifest.json`, and every blob (layers, config) under its hex digest.

use std::fs;
use std::io::Read;
use std::path::Path;

use super::sink::{existing, DirSink, Existing, Sink};
use super::{hex_of, io_err, put_once, BlobSink, LayoutError, Result};

/// The `version` file of a `dir:` image.
pub const DIR_VERSION: &str = "Directory Transport Version: 1.1\n";

/// The sink for an image at `path`: a new directory, an empty one, or a former `dir:` image
/// (whose content is replaced, as containers/image replaces it). A non-empty directory that
/// is no `dir:` image is refused.
pub fn open_dir(path: &Path) -> Result<DirSink> {
    match existing(path, "version")? {
        Existing::Full { has_marker: false } => {
            return Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "no version file" })
        }
        Existing::Full { has_marker: true } => {
            let version = fs::read_to_string(path.join("version")).map_err(io_err(path))?;
            if version != DIR_VERSION {
                return Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "an unknown version file" });
            }
        }
        Existing::Nothing | Existing::Empty => {}
    }
    DirSink::beside(path)
}

/// An image being written in the `dir:` layout: blobs first, then [`DirWriter::finish`].
pub struct DirWriter<'a> {
    sink: &'a mut dyn Sink,
}

impl<'a> DirWriter<'a> {
    pub fn new(sink: &'a mut dyn Sink) -> DirWriter<'a> {
        DirWriter { sink }
    }

    /// Writes `manifest.json` and `version`.
    pub fn finish(self, manifest: &[u8]) -> Result<()> {
        self.sink.file("manifest.json", manifest.len() as u64, &mut &manifest[..]).map_err(io_err("manifest.json"))?;
        self.sink.file("version", DIR_VERSION.len() as u64, &mut DIR_VERSION.as_bytes()).map_err(io_err("version"))
    }
}

impl BlobSink for DirWriter<'_> {
    fn has_blob(&self, digest: &str) -> Result<bool> {
        Ok(self.sink.has(hex_of(digest)?))
    }

    fn put_blob(&mut self, digest: &str, size: u64, data: &mut dyn Read) -> Result<bool> {
        put_once(self.sink, hex_of(digest)?, size, data)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn entries(p: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        v.sort();
        v
    }

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn write(dest: &Path, blob: Option<&[u8]>, manifest: &[u8]) {
        let mut sink = open_dir(dest).unwrap();
        let mut w = DirWriter::new(&mut sink);
        if let Some(b) = blob {
            w.put_blob(D1, b.len() as u64, &mut &b[..]).unwrap();
        }
        w.finish(manifest).unwrap();
        sink.place().unwrap();
    }

    #[test]
    fn a_dir_image_replaces_an_empty_dir_or_a_former_image_but_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("img");
        fs::create_dir(&dest).unwrap();
        write(&dest, Some(b"blob"), b"{}");
        assert_eq!(fs::read_to_string(dest.join("version")).unwrap(), DIR_VERSION);
        assert_eq!(fs::read(dest.join(&D1[7..])).unwrap(), b"blob");

        // again: the old content goes
        write(&dest, None, b"{\"a\":1}");
        assert!(!dest.join(&D1[7..]).exists());
        assert_eq!(entries(t.path()), ["img"]);

        fs::write(dest.join("version"), "other").unwrap();
        assert!(matches!(open_dir(&dest), Err(LayoutError::NotAnImage { .. })));
        let other = t.path().join("other");
        fs::create_dir(&other).unwrap();
        fs::write(other.join("precious"), "x").unwrap();
        let e = open_dir(&other).err().unwrap().to_string();
        assert!(e.contains("refusing to overwrite"), "{e}");
    }

    #[test]
    fn an_unfinished_write_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let mut sink = open_dir(&t.path().join("img")).unwrap();
        DirWriter::new(&mut sink).put_blob(D1, 4, &mut &b"blob"[..]).unwrap();
        drop(sink);
        let mut sink = super::super::oci::open_dir(&t.path().join("oci")).unwrap();
        super::super::OciWriter::new(&mut sink).put_blob(D1, 4, &mut &b"blob"[..]).unwrap();
        drop(sink);
        // a short source is an error, and leaves nothing either
        let mut sink = open_dir(&t.path().join("short")).unwrap();
        assert!(DirWriter::new(&mut sink).put_blob(D1, 10, &mut &b"blob"[..]).is_err());
        drop(sink);
        assert!(entries(t.path()).is_empty());
    }
}
