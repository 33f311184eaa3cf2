//! The OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/HEX`), in a directory or a
//! tar: `save --format oci-dir|oci-archive` and `push oci:DIR[:TAG]` write it here.

use std::io::Read;
use std::path::Path;

use serde_json::{json, Value};

use super::sink::{existing, DirSink, Existing, Sink};
use super::{hex_of, io_err, put_once, BlobSink, LayoutError, Result};
use crate::media_type::OCI_INDEX;

/// The annotation that names an image in an OCI layout's index.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The `oci-layout` file.
pub const OCI_LAYOUT: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";

/// A blob's file in the layout.
pub fn blob_name(digest: &str) -> Result<String> {
    Ok(format!("blobs/sha256/{}", hex_of(digest)?))
}

/// The sink for adding an image to the OCI layout at `path`: the existing layout itself, or
/// a new directory beside it when nothing (or an empty directory) is there. A non-empty
/// directory that is no OCI layout is refused, as containers/image refuses it.
pub fn open_dir(path: &Path) -> Result<DirSink> {
    match existing(path, "oci-layout")? {
        Existing::Full { has_marker: false } => {
            Err(LayoutError::NotAnImage { path: path.to_path_buf(), what: "no oci-layout file" })
        }
        Existing::Full { has_marker: true } => Ok(DirSink::adding_to(path)),
        Existing::Nothing | Existing::Empty => DirSink::beside(path),
    }
}

/// A manifest for `index.json`, and the name it goes under.
#[derive(Clone, Debug)]
pub struct IndexEntry<'a> {
    pub media_type: &'a str,
    pub digest: &'a str,
    pub size: u64,
    pub name: Option<&'a str>,
}

/// Images being written into an OCI layout: blobs first, then [`OciWriter::finish`].
pub struct OciWriter<'a> {
    sink: &'a mut dyn Sink,
}

impl<'a> OciWriter<'a> {
    pub fn new(sink: &'a mut dyn Sink) -> OciWriter<'a> {
        OciWriter { sink }
    }

    /// Adds the manifests to `index.json` (the sink's existing one, read back, when it has
    /// one). A name moves to its new manifest: the entry that had it stays, unnamed, as
    /// containers/image leaves it; an unnamed entry of the same manifest is replaced. Then
    /// `oci-layout`, unless the layout has it.
    pub fn finish(self, entries: &[IndexEntry<'_>]) -> Result<()> {
        let mut index: Value = match self.sink.read_back("index.json").map_err(io_err("index.json"))? {
            Some(b) => serde_json::from_slice(&b)
                .map_err(|e| LayoutError::Invalid(format!("index.json: not an OCI index: {e}")))?,
            None => json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}),
        };
        let Some(manifests) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
            return Err(LayoutError::Invalid("index.json: no manifests list".into()));
        };
        let name_of =
            |m: &Value| m.get("annotations").and_then(|a| a.get(REF_NAME)).and_then(Value::as_str).map(str::to_string);
        for e in entries {
            let mut entry = json!({"mediaType": e.media_type, "digest": e.digest, "size": e.size});
            if let Some(tag) = e.name {
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
            match manifests.iter_mut().find(|m| m["digest"] == json!(e.digest) && name_of(m).is_none()) {
                Some(same) => *same = entry,
                None => manifests.push(entry),
            }
        }
        let bytes = serde_json::to_vec(&index).expect("an index serialises");
        self.sink.file("index.json", bytes.len() as u64, &mut &bytes[..]).map_err(io_err("index.json"))?;
        if !self.sink.has("oci-layout") {
            self.sink
                .file("oci-layout", OCI_LAYOUT.len() as u64, &mut OCI_LAYOUT.as_bytes())
                .map_err(io_err("oci-layout"))?;
        }
        Ok(())
    }
}

impl BlobSink for OciWriter<'_> {
    fn has_blob(&self, digest: &str) -> Result<bool> {
        Ok(self.sink.has(&blob_name(digest)?))
    }

    fn put_blob(&mut self, digest: &str, size: u64, data: &mut dyn Read) -> Result<bool> {
        put_once(self.sink, &blob_name(digest)?, size, data)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::content::sha256_digest;
    use crate::media_type::OCI_MANIFEST;

    fn push(dest: &Path, tag: &str, manifest: &[u8], blob: Option<&[u8]>) -> Result<()> {
        let mut sink = open_dir(dest)?;
        let mut w = OciWriter::new(&mut sink);
        if let Some(b) = blob {
            w.put_blob(&sha256_digest(b), b.len() as u64, &mut &b[..])?;
        }
        let digest = sha256_digest(manifest);
        w.put_blob(&digest, manifest.len() as u64, &mut &manifest[..])?;
        let entry =
            IndexEntry { media_type: OCI_MANIFEST, digest: &digest, size: manifest.len() as u64, name: Some(tag) };
        w.finish(&[entry])?;
        sink.place()
    }

    #[test]
    fn an_oci_layout_keeps_other_tags_and_replaces_its_own() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("oci");
        for (tag, m) in [("a", "{\"m\":1}"), ("b", "{\"m\":2}"), ("a", "{\"m\":3}")] {
            push(&dest, tag, m.as_bytes(), None).unwrap();
        }
        let index: Value = serde_json::from_slice(&fs::read(dest.join("index.json")).unwrap()).unwrap();
        // the first image lost its name to the third, and stays, unnamed
        let names: Vec<Option<&str>> =
            index["manifests"].as_array().unwrap().iter().map(|m| m["annotations"][REF_NAME].as_str()).collect();
        assert_eq!(names, [None, Some("b"), Some("a")]);
        assert_eq!(index["mediaType"], OCI_INDEX);
        assert_eq!(fs::read_to_string(dest.join("oci-layout")).unwrap(), OCI_LAYOUT);
        assert_eq!(fs::read_dir(dest.join("blobs/sha256")).unwrap().count(), 3);
    }

    #[test]
    fn a_failed_addition_to_a_layout_removes_the_blobs_it_added() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("oci");
        push(&dest, "a", b"{\"m\":1}", Some(b"layer one")).unwrap();
        let index = fs::read(dest.join("index.json")).unwrap();
        let before = fs::read_dir(dest.join("blobs/sha256")).unwrap().count();
        {
            let mut sink = open_dir(&dest).unwrap();
            let mut w = OciWriter::new(&mut sink);
            let b = b"layer two";
            assert!(w.put_blob(&sha256_digest(b), b.len() as u64, &mut &b[..]).unwrap());
            // a blob the layout has is not written again
            let b = b"layer one";
            assert!(!w.put_blob(&sha256_digest(b), b.len() as u64, &mut &b[..]).unwrap());
            // dropped unfinished
        }
        assert_eq!(fs::read_dir(dest.join("blobs/sha256")).unwrap().count(), before);
        assert_eq!(fs::read(dest.join("index.json")).unwrap(), index);
        assert_eq!(super::super::dir::tests::entries(t.path()), ["oci"]);
    }
}
