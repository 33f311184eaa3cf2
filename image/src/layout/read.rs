//! Reading a layout: a tar is indexed once (each entry's name, data offset and size; links
//! resolved within the archive), then its files are read in place by offset, so a layer
//! streams from the archive into the unpacker without being copied out first. A compressed
//! archive or one on a pipe is first made a plain tar file by the caller ([`spool`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use super::oci::{blob_name, REF_NAME};
use super::{hex_of, Compression, LayoutError, Result};
use crate::content::sha256_digest;
use crate::media_type::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

/// containerd's (and Docker's) annotation with the image's full name.
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// The largest JSON file (manifest, config, index) read from an archive.
const MAX_JSON: u64 = 32 << 20;

/// Where a file's bytes are in a tar: its data offset and size.
#[derive(Clone, Debug)]
pub struct Entry {
    offset: u64,
    size: u64,
    /// A symbolic or hard link's target (a name in the archive).
    link: Option<String>,
}

/// A layout to read files from: an indexed tar file, or a directory.
pub enum Source {
    Tar { file: Arc<File>, path: PathBuf, entries: HashMap<String, Entry> },
    Dir(PathBuf),
}

fn clean(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in name.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

impl Source {
    /// Indexes a plain tar file. Fails on anything that is not a complete tar.
    pub fn tar(path: &Path, mut file: File) -> Result<Source> {
        use std::io::Seek;
        let len = file.metadata().map_err(|e| io_err(path, e))?.len();
        file.rewind().map_err(|e| io_err(path, e))?;
        let mut entries = HashMap::new();
        {
            let mut archive = tar::Archive::new(&file);
            let iter = archive.entries_with_seek().map_err(|e| invalid_tar(path, e))?;
            for entry in iter {
                let entry = entry.map_err(|e| invalid_tar(path, e))?;
                let name = clean(&String::from_utf8_lossy(&entry.path_bytes()));
                let kind = entry.header().entry_type();
                let offset = entry.raw_file_position();
                let size = entry.size();
                if offset.checked_add(size).is_none_or(|end| end > len) {
                    return Err(invalid_tar(path, io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected EOF")));
                }
                let link = match kind {
                    tar::EntryType::Symlink => entry.link_name_bytes().map(|l| {
                        let l = String::from_utf8_lossy(&l).into_owned();
                        if l.starts_with('/') {
                            clean(&l)
                        } else {
                            let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                            clean(&format!("{dir}/{l}"))
                        }
                    }),
                    tar::EntryType::Link => entry.link_name_bytes().map(|l| clean(&String::from_utf8_lossy(&l))),
                    _ => None,
                };
                if kind.is_file() || link.is_some() {
                    entries.insert(name, Entry { offset, size, link });
                }
            }
        }
        if entries.is_empty() {
            return Err(invalid_tar(path, io::Error::other("no files in it")));
        }
        Ok(Source::Tar { file: Arc::new(file), path: path.to_path_buf(), entries })
    }

    fn entry(&self, name: &str) -> Option<Entry> {
        let Source::Tar { entries, .. } = self else { return None };
        let mut name = clean(name);
        for _ in 0..16 {
            let e = entries.get(&name)?;
            match &e.link {
                Some(target) => name = target.clone(),
                None => return Some(e.clone()),
            }
        }
        None
    }

    /// What the source is, for messages.
    pub fn path(&self) -> &Path {
        match self {
            Source::Tar { path, .. } => path,
            Source::Dir(d) => d,
        }
    }

    pub fn has(&self, name: &str) -> bool {
        match self {
            Source::Tar { .. } => self.entry(name).is_some(),
            Source::Dir(d) => d.join(clean(name)).is_file(),
        }
    }

    /// A file of the layout, and its size.
    pub fn open(&self, name: &str) -> Result<(Box<dyn Read + Send>, u64)> {
        let missing = || LayoutError::Invalid(format!("{}: has no file {name}", self.path().display()));
        match self {
            Source::Tar { file, .. } => {
                let e = self.entry(name).ok_or_else(missing)?;
                Ok((Box::new(Section { file: file.clone(), pos: e.offset, end: e.offset + e.size }), e.size))
            }
            Source::Dir(d) => {
                let p = d.join(clean(name));
                let f = File::open(&p).map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => missing(),
                    _ => io_err(&p, e),
                })?;
                let size = f.metadata().map_err(|e| io_err(&p, e))?.len();
                Ok((Box::new(f), size))
            }
        }
    }

    /// A small file (JSON), whole.
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        let (mut r, size) = self.open(name)?;
        if size > MAX_JSON {
            return Err(LayoutError::Invalid(format!(
                "{}: {name} is {size} bytes, too large for a manifest or config",
                self.path().display()
            )));
        }
        let mut buf = Vec::with_capacity(size as usize);
        r.read_to_end(&mut buf).map_err(|e| io_err(&self.path().join(name), e))?;
        Ok(buf)
    }
}

fn invalid_tar(path: &Path, e: io::Error) -> LayoutError {
    // the tar crate's words may quote the bad header's bytes: not for a terminal
    let why = match e.kind() {
        io::ErrorKind::UnexpectedEof => "unexpected EOF".to_string(),
        _ if e.to_string().chars().any(char::is_control) || e.to_string().len() > 80 => {
            "invalid tar header".to_string()
        }
        _ => e.to_string(),
    };
    LayoutError::Invalid(format!("{}: not a complete tar archive: {why}", path.display()))
}

fn io_err(path: &Path, source: io::Error) -> LayoutError {
    LayoutError::Io { path: path.to_path_buf(), source }
}

/// A file of a tar, read in place.
struct Section {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for Section {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the archive ends inside a file"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Copies `input` (a file, a pipe, a request body) into `out` as a plain tar, decompressing
/// it when its magic bytes say gzip or zstd.
pub fn spool(input: impl Read, out: &mut File) -> io::Result<u64> {
    let mut input = io::BufReader::with_capacity(1 << 17, input);
    let magic = io::BufRead::fill_buf(&mut input)?.to_vec();
    let mut decoded = Compression::of(&magic).decoder(input)?;
    let n = io::copy(&mut decoded, out)?;
    out.flush()?;
    Ok(n)
}

/// What kind of layout a source holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    DockerArchive,
    Oci,
    DockerDir,
}

/// One image found in a layout.
#[derive(Clone, Debug)]
pub struct ArchivedImage {
    /// Its names as the layout gives them (RepoTags, or the OCI ref name), not yet normalised.
    pub names: Vec<String>,
    pub config: Vec<u8>,
    pub config_digest: String,
    /// The manifest as stored (OCI and docker-dir layouts), with its media type and digest.
    pub manifest: Option<(Vec<u8>, String, String)>,
    pub layers: Vec<ArchivedLayer>,
}

#[derive(Clone, Debug)]
pub struct ArchivedLayer {
    /// The file in the layout.
    pub file: String,
    /// The blob's digest, when the layout names it (OCI, docker-dir): checked as it is read.
    pub digest: Option<String>,
}

#[derive(Deserialize)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// The layout a source holds and its images.
pub fn read_images(src: &Source) -> Result<(Kind, Vec<ArchivedImage>)> {
    let at = src.path().display().to_string();
    let bad = |what: String| LayoutError::Invalid(format!("{at}: {what}"));
    if src.has("manifest.json") && !src.has("version") {
        let bytes = src.read("manifest.json")?;
        let entries: Vec<DockerEntry> =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("manifest.json does not parse: {e}")))?;
        if entries.is_empty() {
            return Err(bad("manifest.json lists no image".into()));
        }
        let mut out = Vec::new();
        for e in entries {
            let config = src.read(&e.config)?;
            out.push(ArchivedImage {
                names: e.repo_tags.unwrap_or_default(),
                config_digest: sha256_digest(&config),
                config,
                manifest: None,
                layers: e.layers.into_iter().map(|file| ArchivedLayer { file, digest: None }).collect(),
            });
        }
        return Ok((Kind::DockerArchive, out));
    }
    if src.has("index.json") {
        let bytes = src.read("index.json")?;
        let index: Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("index.json does not parse: {e}")))?;
        let mut out = Vec::new();
        collect_oci(src, &index, &mut out, 0)?;
        if out.is_empty() {
            return Err(bad("index.json lists no image manifest".into()));
        }
        return Ok((Kind::Oci, out));
    }
    if src.has("manifest.json") && src.has("version") {
        let manifest = src.read("manifest.json")?;
        let digest = sha256_digest(&manifest);
        let img = image_of_manifest(src, manifest, digest, Vec::new())?;
        return Ok((Kind::DockerDir, vec![img]));
    }
    Err(bad("holds neither manifest.json (docker-archive, docker-dir) nor index.json (oci)".into()))
}

/// Reads a blob of an OCI layout and checks its digest.
fn read_blob(src: &Source, digest: &str, dir_layout: bool) -> Result<Vec<u8>> {
    let name = if dir_layout { digest_hex_name(digest)? } else { blob_name(digest)? };
    let bytes = src.read(&name)?;
    if sha256_digest(&bytes) != digest {
        return Err(LayoutError::Invalid(format!(
            "{}: {name} does not match its digest {digest}",
            src.path().display()
        )));
    }
    Ok(bytes)
}

fn digest_hex_name(digest: &str) -> Result<String> {
    Ok(hex_of(digest)?.to_string())
}

fn collect_oci(src: &Source, index: &Value, out: &mut Vec<ArchivedImage>, depth: usize) -> Result<()> {
    let host = crate::registry::Platform::host();
    let manifests = index.get("manifests").and_then(Value::as_array).cloned().unwrap_or_default();
    for m in &manifests {
        let media = m.get("mediaType").and_then(Value::as_str).unwrap_or(OCI_MANIFEST);
        let digest = m.get("digest").and_then(Value::as_str).unwrap_or_default().to_string();
        let annotations = m.get("annotations");
        let name = annotations
            .and_then(|a| a.get(CONTAINERD_NAME).or_else(|| a.get(REF_NAME)))
            .and_then(Value::as_str)
            .map(str::to_string);
        match media {
            OCI_INDEX | DOCKER_LIST if depth < 2 => {
                // an index in the index: the host's platform
                let bytes = read_blob(src, &digest, false)?;
                let inner: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    LayoutError::Invalid(format!("{}: index {digest} does not parse: {e}", src.path().display()))
                })?;
                let mut chosen = inner.clone();
                if let Some(list) = inner.get("manifests").and_then(Value::as_array) {
                    let fits = |d: &&Value| {
                        let p = d.get("platform");
                        p.and_then(|p| p.get("architecture")).and_then(Value::as_str) == Some(&host.architecture)
                            && p.and_then(|p| p.get("os")).and_then(Value::as_str) == Some(&host.os)
                    };
                    let pick = list.iter().find(fits).or(list.first()).cloned();
                    let mut one = pick.into_iter().collect::<Vec<_>>();
                    if let (Some(n), Some(first)) = (&name, one.first_mut()) {
                        first["annotations"] = json!({ REF_NAME: n });
                    }
                    chosen["manifests"] = json!(one);
                }
                collect_oci(src, &chosen, out, depth + 1)?;
            }
            OCI_MANIFEST | DOCKER_MANIFEST => {
                let bytes = read_blob(src, &digest, false)?;
                out.push(image_of_manifest(src, bytes, digest, name.into_iter().collect())?);
            }
            _ => {}
        }
    }
    Ok(())
}

/// An image from its manifest (OCI layout or docker-dir).
fn image_of_manifest(src: &Source, bytes: Vec<u8>, digest: String, names: Vec<String>) -> Result<ArchivedImage> {
    let dir_layout = src.has("version") && !src.has("index.json");
    let m: Value = serde_json::from_slice(&bytes).map_err(|e| {
        LayoutError::Invalid(format!("{}: manifest {digest} does not parse: {e}", src.path().display()))
    })?;
    let media = m.get("mediaType").and_then(Value::as_str).unwrap_or(OCI_MANIFEST).to_string();
    let config_digest = m
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .ok_or_else(|| LayoutError::Invalid(format!("{}: manifest {digest} has no config", src.path().display())))?
        .to_string();
    let config = read_blob(src, &config_digest, dir_layout)?;
    let mut layers = Vec::new();
    for l in m.get("layers").and_then(Value::as_array).cloned().unwrap_or_default() {
        let d = l.get("digest").and_then(Value::as_str).unwrap_or_default().to_string();
        let file = if dir_layout { digest_hex_name(&d)? } else { blob_name(&d)? };
        layers.push(ArchivedLayer { file, digest: Some(d) });
    }
    Ok(ArchivedImage { names, config, config_digest, manifest: Some((bytes, media, digest)), layers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_or_garbage_tar_is_refused() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(10000);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "big", &vec![7u8; 10000][..]).unwrap();
        let full = b.into_inner().unwrap();
        for (what, bytes) in [("truncated", full[..3000].to_vec()), ("garbage", b"not a tar at all\n".repeat(40))] {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("x.tar");
            std::fs::write(&p, &bytes).unwrap();
            let err = Source::tar(&p, File::open(&p).unwrap()).err().unwrap_or_else(|| panic!("{what} accepted"));
            assert!(err.to_string().contains("not a complete tar archive"), "{what}: {err}");
        }
    }
}
