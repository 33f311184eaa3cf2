//! Images as files and directories outside a registry, laid out as containers/image lays them
//! out (so Podman, skopeo and Docker read what Berth writes, and Berth reads theirs):
//!
//! - docker-archive: `docker save`'s tar (`docker_archive`);
//! - the OCI image layout, in a directory (`oci:`, `--format oci-dir`) or a tar (oci-archive)
//!   (`oci`);
//! - the `dir:` layout (`--format docker-dir`): a `version` file, `manifest.json`, every blob
//!   under its hex digest (`dir`).
//!
//! `save` and `push` write them through the same writers ([`OciWriter`], [`DirWriter`],
//! [`DockerArchiveWriter`]) over a [`Sink`]: a tar stream ([`TarSink`]) or a directory
//! ([`DirSink`]). Nothing is left half written: a new directory is written beside its
//! destination and renamed into place; files added to an existing OCI layout go through
//! temporary files renamed, and are removed again unless the writer finished.
//!
//! `read` indexes a tar once and reads its files in place, or reads a directory;
//! `transport` parses `docker-archive:PATH[:REF]`, `oci-archive:`, `oci:`, `dir:`.

use std::io::{self, Read};
use std::path::PathBuf;

use serde_json::json;

use crate::media_type::{
    DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_LAYER_ZSTD, DOCKER_MANIFEST, OCI_CONFIG, OCI_LAYER,
    OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
};

pub mod dir;
pub mod docker_archive;
pub mod oci;
pub mod read;
pub mod sink;
pub mod transport;

pub use dir::DirWriter;
pub use docker_archive::DockerArchiveWriter;
pub use oci::{IndexEntry, OciWriter};
pub use read::{read_images, spool, ArchivedImage, ArchivedLayer, Kind, Source};
pub use sink::{DirSink, Sink, TarSink};
pub use transport::{Transport, TransportRef};

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not empty and does not hold an image ({what}): refusing to overwrite it; give a new or empty directory")]
    NotAnImage { path: PathBuf, what: &'static str },
}

type Result<T, E = LayoutError> = std::result::Result<T, E>;

fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> LayoutError {
    let path = path.into();
    move |source| LayoutError::Io { path, source }
}

/// The hex of a `sha256:` digest, validated: it becomes a file name.
fn hex_of(digest: &str) -> Result<&str> {
    crate::content::digest_hex(digest).map_err(|e| LayoutError::Invalid(e.to_string()))
}

/// Where blobs go, by digest; the layout's writer names their files.
pub trait BlobSink {
    /// Whether the layout has this blob already.
    fn has_blob(&self, digest: &str) -> Result<bool>;
    /// Writes a blob of exactly `size` bytes unless the layout has it; whether it was written.
    fn put_blob(&mut self, digest: &str, size: u64, data: &mut dyn Read) -> Result<bool>;
}

/// Writes `name` unless the sink has it; whether it was written.
fn put_once(sink: &mut dyn Sink, name: &str, size: u64, data: &mut dyn Read) -> Result<bool> {
    if sink.has(name) {
        return Ok(false);
    }
    sink.file(name, size, data).map_err(io_err(name))?;
    Ok(true)
}

/// One layer as a manifest (or docker-archive's `manifest.json`) lists it.
#[derive(Clone, Debug)]
pub struct WrittenLayer {
    pub diff_id: String,
    pub digest: String,
    pub size: u64,
    pub media_type: String,
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
                return Err(LayoutError::Invalid(
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
