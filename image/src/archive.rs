//! Images on disk, outside a registry: `docker save`'s tar (docker-archive), the OCI image
//! layout in a tar (oci-archive) or a directory (oci), and containers/image's `dir:` layout
//! (docker-dir), read and written as Podman's containers/image does.
//!
//! Reading: a tar is indexed once (each entry's name, data offset and size; links resolved
//! within the archive), then its files are read in place by offset, so a layer streams from the
//! archive into the unpacker without being copied out first. A compressed archive or one on a
//! pipe is first made a plain tar file by the caller ([`spool`]). Writing: a [`Sink`] takes the
//! files of a layout one after another (a tar stream, or files in a directory); the engine
//! decides their content, this module their names and the JSON that ties them together.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
/// The annotation that names an image in an OCI layout's index.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's (and Docker's) annotation with the image's full name.
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// The largest JSON file (manifest, config, index) read from an archive.
const MAX_JSON: u64 = 32 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

type Result<T, E = ArchiveError> = std::result::Result<T, E>;

/// The layouts `save` writes and `load` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    DockerArchive,
    OciArchive,
    OciDir,
    DockerDir,
}

impl Format {
    /// Podman's `--format` names.
    pub fn parse(s: &str) -> Result<Format> {
        Ok(match s {
            "docker-archive" => Format::DockerArchive,
            "oci-archive" => Format::OciArchive,
            "oci-dir" => Format::OciDir,
            "docker-dir" => Format::DockerDir,
            _ => {
                return Err(ArchiveError::Invalid(
                    "format value must be one of oci-dir oci-archive docker-dir docker-archive".into(),
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::DockerArchive => "docker-archive",
            Format::OciArchive => "oci-archive",
            Format::OciDir => "oci-dir",
            Format::DockerDir => "docker-dir",
        }
    }

    /// Whether it is a directory rather than one file.
    pub fn is_dir(self) -> bool {
        matches!(self, Format::OciDir | Format::DockerDir)
    }
}

/// A reference in one of the archive transports: `docker-archive:PATH[:REF]`,
/// `oci-archive:PATH[:REF]`, `oci:DIR[:REF]`, `dir:DIR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportRef {
    pub transport: Transport,
    pub path: PathBuf,
    /// The image in the archive: a name, or (docker-archive) `@INDEX`.
    pub reference: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    DockerArchive,
    OciArchive,
    Oci,
    Dir,
}

impl TransportRef {
    /// `None` when `s` names no archive transport (a registry reference, then).
    pub fn parse(s: &str) -> Option<Result<TransportRef>> {
        let (transport, rest) = if let Some(r) = s.strip_prefix("docker-archive:") {
            (Transport::DockerArchive, r)
        } else if let Some(r) = s.strip_prefix("oci-archive:") {
            (Transport::OciArchive, r)
        } else if let Some(r) = s.strip_prefix("oci:") {
            (Transport::Oci, r)
        } else if let Some(r) = s.strip_prefix("dir:") {
            (Transport::Dir, r)
        } else {
            return None;
        };
        if rest.is_empty() {
            return Some(Err(ArchiveError::Invalid(format!("{s}: no path: use {}PATH", &s[..s.len() - rest.len()]))));
        }
        // PATH:REF; a path itself may not hold a colon, as in containers/image
        let (path, reference) = match (transport, rest.split_once(':')) {
            (Transport::Dir, _) | (_, None) => (rest, None),
            (_, Some((p, r))) => (p, Some(r.to_string()).filter(|r| !r.is_empty())),
        };
        Some(Ok(TransportRef { transport, path: PathBuf::from(path), reference }))
    }
}

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
        let missing = || ArchiveError::Invalid(format!("{}: has no file {name}", self.path().display()));
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
            return Err(ArchiveError::Invalid(format!(
                "{}: {name} is {size} bytes, too large for a manifest or config",
                self.path().display()
            )));
        }
        let mut buf = Vec::with_capacity(size as usize);
        r.read_to_end(&mut buf).map_err(|e| io_err(&self.path().join(name), e))?;
        Ok(buf)
    }
}

fn invalid_tar(path: &Path, e: io::Error) -> ArchiveError {
    // the tar crate's words may quote the bad header's bytes: not for a terminal
    let why = match e.kind() {
        io::ErrorKind::UnexpectedEof => "unexpected EOF".to_string(),
        _ if e.to_string().chars().any(char::is_control) || e.to_string().len() > 80 => {
            "invalid tar header".to_string()
        }
        _ => e.to_string(),
    };
    ArchiveError::Invalid(format!("{}: not a complete tar archive: {why}", path.display()))
}

fn io_err(path: &Path, source: io::Error) -> ArchiveError {
    ArchiveError::Io { path: path.to_path_buf(), source }
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

/// Compression told by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn of(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// A reader of the uncompressed bytes.
    pub fn decoder<'a, R: Read + 'a>(self, r: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(r),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(r)?),
        })
    }

    pub fn oci_layer(self) -> &'static str {
        match self {
            Compression::None => OCI_LAYER,
            Compression::Gzip => OCI_LAYER_GZIP,
            Compression::Zstd => OCI_LAYER_ZSTD,
        }
    }

    pub fn docker_layer(self) -> &'static str {
        match self {
            Compression::None => DOCKER_LAYER,
            Compression::Gzip => DOCKER_LAYER_GZIP,
            Compression::Zstd => DOCKER_LAYER_ZSTD,
        }
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

pub fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
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
    let bad = |what: String| ArchiveError::Invalid(format!("{at}: {what}"));
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
                config_digest: sha256(&config),
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
        let digest = sha256(&manifest);
        let img = image_of_manifest(src, manifest, digest, Vec::new())?;
        return Ok((Kind::DockerDir, vec![img]));
    }
    Err(bad("holds neither manifest.json (docker-archive, docker-dir) nor index.json (oci)".into()))
}

fn blob_name(digest: &str) -> Result<String> {
    let hex = crate::content::digest_hex(digest).map_err(|e| ArchiveError::Invalid(e.to_string()))?;
    Ok(format!("blobs/sha256/{hex}"))
}

/// Reads a blob of an OCI layout and checks its digest.
fn read_blob(src: &Source, digest: &str, dir_layout: bool) -> Result<Vec<u8>> {
    let name = if dir_layout { digest_hex_name(digest)? } else { blob_name(digest)? };
    let bytes = src.read(&name)?;
    if sha256(&bytes) != digest {
        return Err(ArchiveError::Invalid(format!(
            "{}: {name} does not match its digest {digest}",
            src.path().display()
        )));
    }
    Ok(bytes)
}

fn digest_hex_name(digest: &str) -> Result<String> {
    Ok(crate::content::digest_hex(digest).map_err(|e| ArchiveError::Invalid(e.to_string()))?.to_string())
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
                    ArchiveError::Invalid(format!("{}: index {digest} does not parse: {e}", src.path().display()))
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
        ArchiveError::Invalid(format!("{}: manifest {digest} does not parse: {e}", src.path().display()))
    })?;
    let media = m.get("mediaType").and_then(Value::as_str).unwrap_or(OCI_MANIFEST).to_string();
    let config_digest = m
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .ok_or_else(|| ArchiveError::Invalid(format!("{}: manifest {digest} has no config", src.path().display())))?
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

/// Where a layout's files go.
pub trait Sink {
    fn file(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()>;
    fn symlink(&mut self, name: &str, target: &str) -> io::Result<()>;
}

/// A tar stream, with the entries containers/image writes: root-owned, read-only, time zero.
pub struct TarSink<W: Write> {
    builder: tar::Builder<W>,
}

impl<W: Write> TarSink<W> {
    pub fn new(w: W) -> TarSink<W> {
        TarSink { builder: tar::Builder::new(w) }
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
        Ok(())
    }

    fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Symlink, 0);
        self.builder.append_link(&mut h, name, target)
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

/// Files in a directory.
pub struct DirSink {
    pub root: PathBuf,
}

impl Sink for DirSink {
    fn file(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let path = self.root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut f = File::create(&path)?;
        let n = io::copy(&mut Exact { inner: data, left: size }, &mut f)?;
        if n != size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{name}: {} bytes short", size - n)));
        }
        f.sync_all()
    }

    fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        std::os::unix::fs::symlink(target, self.root.join(name))
    }
}

/// One image as a layout writer lists it.
pub struct WrittenImage {
    /// Full names (`registry/repo:tag`), none for an image saved by id.
    pub names: Vec<String>,
    pub config_digest: String,
    pub config: Vec<u8>,
    /// Per layer: the diff id (docker-archive's file name) or the blob's descriptor.
    pub layers: Vec<WrittenLayer>,
    /// Manifest bytes (OCI and docker-dir) and digest.
    pub manifest: Option<(Vec<u8>, String)>,
}

#[derive(Clone)]
pub struct WrittenLayer {
    pub diff_id: String,
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

/// docker-archive: `manifest.json`, `repositories`, the config as `<hex>.json`, each layer as
/// `<diff id hex>.tar` and the legacy per-layer directories (`VERSION`, `json`, `layer.tar` as a
/// link) that older readers look for. The layer files must already be in the sink.
pub fn finish_docker_archive(sink: &mut dyn Sink, images: &[WrittenImage]) -> io::Result<()> {
    let mut manifest = Vec::new();
    let mut repositories = serde_json::Map::new();
    let mut legacy_done = std::collections::HashSet::new();
    for img in images {
        let hex = img.config_digest.trim_start_matches("sha256:");
        sink.file(&format!("{hex}.json"), img.config.len() as u64, &mut &img.config[..])?;
        let config: Value = serde_json::from_slice(&img.config).unwrap_or(json!({}));
        let mut parent: Option<String> = None;
        let mut chain = String::new();
        for (i, l) in img.layers.iter().enumerate() {
            chain = if i == 0 { l.diff_id.clone() } else { sha256(format!("{chain} {}", l.diff_id).as_bytes()) };
            // an id per layer of this stack, unique to the image's config too
            let id =
                sha256(format!("{chain} {}", img.config_digest).as_bytes()).trim_start_matches("sha256:").to_string();
            if legacy_done.insert(id.clone()) {
                let mut json = serde_json::Map::new();
                json.insert("id".into(), json!(id));
                if let Some(p) = &parent {
                    json.insert("parent".into(), json!(p));
                }
                if i + 1 == img.layers.len() {
                    for k in
                        ["architecture", "config", "container", "container_config", "created", "docker_version", "os"]
                    {
                        json.insert(k.into(), config.get(k).cloned().unwrap_or(Value::Null));
                    }
                }
                let json = serde_json::to_vec(&Value::Object(json)).expect("json");
                sink.file(&format!("{id}/VERSION"), 3, &mut &b"1.0"[..])?;
                sink.file(&format!("{id}/json"), json.len() as u64, &mut &json[..])?;
                sink.symlink(
                    &format!("{id}/layer.tar"),
                    &format!("../{}.tar", l.diff_id.trim_start_matches("sha256:")),
                )?;
            }
            parent = Some(id);
        }
        for n in &img.names {
            if let (Some(top), Some((repo, tag))) = (&parent, n.rsplit_once(':').filter(|(r, _)| !r.is_empty())) {
                let entry = repositories.entry(repo.to_string()).or_insert_with(|| json!({}));
                entry[tag] = json!(top);
            }
        }
        manifest.push(json!({
            "Config": format!("{hex}.json"),
            "RepoTags": img.names,
            "Layers": img.layers.iter().map(|l| format!("{}.tar", l.diff_id.trim_start_matches("sha256:"))).collect::<Vec<_>>(),
        }));
    }
    let manifest = serde_json::to_vec(&manifest).expect("json");
    sink.file("manifest.json", manifest.len() as u64, &mut &manifest[..])?;
    let repositories = serde_json::to_vec(&Value::Object(repositories)).expect("json");
    sink.file("repositories", repositories.len() as u64, &mut &repositories[..])
}

/// An image manifest of `media_type` (OCI or Docker schema 2) over a config and layers.
pub fn manifest_json(media_type: &str, config_digest: &str, config_len: usize, layers: &[WrittenLayer]) -> Vec<u8> {
    let config_media = if media_type == DOCKER_MANIFEST { DOCKER_CONFIG } else { OCI_CONFIG };
    let v = json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_media, "digest": config_digest, "size": config_len},
        "layers": layers.iter().map(|l| json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size})).collect::<Vec<_>>(),
    });
    serde_json::to_vec(&v).expect("json")
}

/// An OCI layout's `index.json` and `oci-layout`; blobs (layers, configs, manifests) must
/// already be in the sink.
pub fn finish_oci(sink: &mut dyn Sink, images: &[WrittenImage]) -> io::Result<()> {
    let manifests: Vec<Value> = images
        .iter()
        .flat_map(|img| {
            let (bytes, digest) = img.manifest.as_ref().expect("an OCI image has a manifest");
            let desc = |name: Option<&String>| {
                let mut d = json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": bytes.len()});
                if let Some(n) = name {
                    d["annotations"] = json!({ REF_NAME: n });
                }
                d
            };
            if img.names.is_empty() {
                vec![desc(None)]
            } else {
                img.names.iter().map(|n| desc(Some(n))).collect()
            }
        })
        .collect();
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": manifests})).expect("json");
    sink.file("index.json", index.len() as u64, &mut &index[..])?;
    let layout = br#"{"imageLayoutVersion": "1.0.0"}"#;
    sink.file("oci-layout", layout.len() as u64, &mut &layout[..])
}

/// docker-dir: `manifest.json` and `version`; blobs (named by their hex digest) already in the sink.
pub fn finish_docker_dir(sink: &mut dyn Sink, img: &WrittenImage) -> io::Result<()> {
    let (bytes, _) = img.manifest.as_ref().expect("a docker-dir image has a manifest");
    sink.file("manifest.json", bytes.len() as u64, &mut &bytes[..])?;
    let version = b"Directory Transport Version: 1.1\n";
    sink.file("version", version.len() as u64, &mut &version[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_references_split_path_and_name() {
        let t = TransportRef::parse("docker-archive:/tmp/a.tar").unwrap().unwrap();
        assert_eq!(
            (t.transport, t.path.to_str().unwrap(), t.reference),
            (Transport::DockerArchive, "/tmp/a.tar", None)
        );
        let t = TransportRef::parse("oci-archive:/tmp/a.tar:localhost/x:1").unwrap().unwrap();
        assert_eq!(t.reference.as_deref(), Some("localhost/x:1"));
        let t = TransportRef::parse("docker-archive:a.tar:@1").unwrap().unwrap();
        assert_eq!(t.reference.as_deref(), Some("@1"));
        assert!(TransportRef::parse("docker.io/library/busybox").is_none());
        assert!(TransportRef::parse("oci-archive:").unwrap().is_err());
    }

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

    #[test]
    fn a_docker_archive_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tar");
        let layer = b"layer bytes".to_vec();
        let diff = sha256(&layer);
        let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
        let img = WrittenImage {
            names: vec!["localhost/a:1".into()],
            config_digest: sha256(&config),
            config: config.clone(),
            layers: vec![WrittenLayer {
                diff_id: diff.clone(),
                digest: diff.clone(),
                size: 11,
                media_type: OCI_LAYER.into(),
            }],
            manifest: None,
        };
        let mut sink = TarSink::new(File::create(&p).unwrap());
        sink.file(&format!("{}.tar", diff.trim_start_matches("sha256:")), 11, &mut &layer[..]).unwrap();
        finish_docker_archive(&mut sink, &[img]).unwrap();
        sink.finish().unwrap();
        let src = Source::tar(&p, File::open(&p).unwrap()).unwrap();
        let (kind, images) = read_images(&src).unwrap();
        assert_eq!(kind, Kind::DockerArchive);
        assert_eq!(images[0].names, ["localhost/a:1"]);
        assert_eq!(images[0].config, config);
        let legacy = images[0].layers[0].file.clone();
        let (mut r, size) = src.open(&legacy).unwrap();
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!((got, size), (layer, 11));
        // the legacy directory's layer.tar is a link to the same bytes
        let Source::Tar { entries, .. } = &src else { panic!("a tar") };
        let legacy_link = entries.keys().find(|k| k.ends_with("/layer.tar")).expect("a legacy layer.tar").clone();
        let (mut r, _) = src.open(&legacy_link).unwrap();
        let mut again = Vec::new();
        r.read_to_end(&mut again).unwrap();
        assert_eq!(again, b"layer bytes");
        assert!(src.entry("nonexistent").is_none());
    }
}
