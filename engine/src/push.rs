//! `push`: an image's stored blobs and manifest to a registry, a `dir:` directory or an OCI
//! layout, as `podman push` copies them.
//!
//! Berth keeps the compressed layer blobs it pulled or committed, so they go out as they are
//! and the manifest keeps its bytes (and digest), unless `--format` asks for the other
//! manifest type (media types change, the blobs do not) or `--compression-format` for another
//! compression than a layer has (that layer is recompressed into a temporary file, removed
//! after the push). To a registry: the right to push is asked for first (refused credentials
//! fail before any upload); then, per layer, a blob the repository has is skipped, one that
//! another repository of that registry has (by the records of the images that have that layer)
//! is mounted from there when the registry allows it, and anything else is uploaded from its
//! file in one request; the config next, the manifest last. `dir:` and `oci:` are written by
//! `layout`, never half.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use oci_spec::image::{Descriptor, Digest, ImageManifest, MediaType};
use tokio::sync::mpsc;

use crate::commit::ImageFormat;
use crate::content::Hashing;
use crate::image;
use crate::layout::{self, BlobSink, DirWriter, IndexEntry, LayoutError, OciWriter, Transport, TransportRef};
use crate::media_type::{
    DOCKER_CONFIG, DOCKER_FOREIGN_GZIP, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_CONFIG, OCI_FOREIGN_GZIP,
    OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_MANIFEST,
};
use crate::reference::Reference;
use crate::registry::{Credentials, Registry, RegistryError};
use crate::{Engine, Error, ImageRecord, Result};

/// Transports Podman knows that `push` does not write (save and the local store are elsewhere).
const OTHER_TRANSPORTS: &[&str] =
    &["docker-archive", "oci-archive", "docker-daemon", "containers-storage", "ostree", "sif", "tarball"];

/// Layers pushed at once.
const PARALLEL_UPLOADS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("invalid destination \"{destination}\": {reason}")]
    Destination { destination: String, reason: String },
    /// `message` is `cause`'s, without the destination it starts with when it names it.
    #[error("pushing {image} to {destination}: {message}{hint}")]
    Failed { image: String, destination: String, cause: Box<Error>, message: String, hint: &'static str },
}

/// Where an image goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// `docker://REF`, or a bare reference.
    Registry(Reference),
    /// `dir:PATH`: containers/image's directory transport.
    Dir(PathBuf),
    /// `oci:PATH[:TAG]`: an OCI image layout.
    Oci { path: PathBuf, tag: Option<String> },
}

impl Destination {
    pub fn parse(input: &str) -> Result<Destination, PushError> {
        let bad = |reason: String| PushError::Destination { destination: input.to_string(), reason };
        if let Some(rest) = input.strip_prefix("docker://") {
            return Reference::parse(rest).map(Destination::Registry).map_err(|e| bad(e.to_string()));
        }
        // the archives are refused below, with the transports push does not write
        let layout = TransportRef::parse(input).filter(|_| input.starts_with("dir:") || input.starts_with("oci:"));
        match layout {
            Some(Err(e)) => return Err(bad(e.to_string())),
            Some(Ok(TransportRef { transport: Transport::Dir, path, .. })) => return Ok(Destination::Dir(path)),
            Some(Ok(TransportRef { transport: Transport::Oci, path, reference })) => {
                // a colon with nothing after it names no image for a reader; a push needs one
                let tag = reference.or_else(|| input.ends_with(':').then(String::new));
                if let Some(t) = &tag {
                    let ok = !t.is_empty()
                        && t.chars().all(|c| c.is_ascii_alphanumeric() || "._-:/@".contains(c))
                        && t.starts_with(|c: char| c.is_ascii_alphanumeric());
                    if !ok {
                        return Err(bad(format!(
                            "{t:?} is not a valid image name in an OCI layout (letters, digits and ._-:/@, starting with a letter or digit)"
                        )));
                    }
                }
                return Ok(Destination::Oci { path, tag });
            }
            Some(Ok(_)) | None => {}
        }
        let transport = input.split_once(':').map(|(t, _)| t).filter(|t| !t.contains('/'));
        if let Some(t) = transport.filter(|t| OTHER_TRANSPORTS.contains(t)) {
            return Err(bad(format!(
                "push does not write the {t} transport: use docker://REF, dir:PATH or oci:PATH[:TAG] (save writes archives)"
            )));
        }
        Reference::parse(input).map(Destination::Registry).map_err(|e| match transport {
            Some(t) if !t.contains('.') && !t.contains(|c: char| c.is_ascii_digit()) && t != "localhost" => bad(format!(
                "unknown transport \"{t}\": use docker://REF, dir:PATH or oci:PATH[:TAG] (and it is no image reference either: {e})"
            )),
            _ => bad(e.to_string()),
        })
    }
}

pub use crate::commit::Compression;

#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    /// `--tls-verify`: `false` pushes over plain HTTP; unset, `registries.conf` decides.
    pub tls_verify: Option<bool>,
    /// `--creds`, over the auth files' entry for the registry.
    pub credentials: Option<Credentials>,
    pub format: Option<ImageFormat>,
    pub compression: Option<Compression>,
    /// `--remove-signatures`: Berth stores no signatures, so there are none to copy either way.
    pub remove_signatures: bool,
    pub progress: Option<mpsc::UnboundedSender<PushProgress>>,
}

/// What happened to a blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobPhase {
    Uploading,
    /// Written: uploaded, or copied into the directory.
    Done,
    /// The destination had it.
    Exists,
    /// The registry mounted it from another of its repositories.
    Mounted {
        from: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushProgress {
    /// The layers to copy (digest, size), in the manifest's order.
    Started {
        layers: Vec<(String, u64)>,
    },
    Layer {
        digest: String,
        phase: BlobPhase,
        current: u64,
        total: u64,
    },
    Config {
        digest: String,
        phase: BlobPhase,
    },
    /// The manifest is written: the push is complete.
    Manifest {
        digest: String,
        size: usize,
    },
}

/// A finished push.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub image_id: String,
    pub manifest_digest: String,
    /// The destination as given (what the `push` event names).
    pub destination: String,
    /// The tag a registry push wrote (Docker's stream reports it).
    pub tag: Option<String>,
}

#[derive(Clone)]
struct Progress(Option<mpsc::UnboundedSender<PushProgress>>);

impl Progress {
    fn send(&self, p: PushProgress) {
        if let Some(s) = &self.0 {
            let _ = s.send(p);
        }
    }
    fn layer(&self, b: &Blob, phase: BlobPhase, current: u64) {
        self.send(PushProgress::Layer { digest: b.digest.clone(), phase, current, total: b.size });
    }
}

/// A blob to copy: where it is on disk and how the manifest describes it.
#[derive(Clone, Debug)]
struct Blob {
    digest: String,
    size: u64,
    path: PathBuf,
}

/// What a push sends: the blobs and the manifest that names them.
struct Plan {
    manifest: Vec<u8>,
    media_type: String,
    digest: String,
    config: Blob,
    layers: Vec<Blob>,
    /// Recompressed layers, removed when the push ends.
    _temps: TempFiles,
}

struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Engine {
    /// `berth push IMAGE [DESTINATION]`: the destination defaults to the name the image was
    /// found by (so `push reg/x:1` pushes to `reg/x:1`).
    pub async fn push(&self, image: &str, destination: Option<&str>, opts: PushOptions) -> Result<Pushed> {
        let (img, found_by) = self.image_found(image)?;
        let destination = destination.map(str::to_string).or(found_by).unwrap_or_else(|| image.to_string());
        let dest = Destination::parse(&destination)?;
        // the name registry errors give the destination (a tag added)
        let normalized = match &dest {
            Destination::Registry(r) if r.digest().is_none() => {
                r.tagged_name().unwrap_or_else(|| format!("{}:latest", r.name()))
            }
            _ => destination.clone(),
        };
        let fail = |e: Error| -> Error {
            let hint = match &e {
                Error::Registry(RegistryError::Unreachable { .. }) => {
                    "; check the address, and that the registry is running and reachable"
                }
                _ => "",
            };
            let text = e.to_string();
            let named = [destination.clone(), normalized.clone()];
            let message = named.iter().find_map(|d| text.strip_prefix(&format!("{d}: "))).unwrap_or(&text).to_string();
            PushError::Failed {
                image: image.to_string(),
                destination: destination.clone(),
                cause: Box::new(e),
                message,
                hint,
            }
            .into()
        };
        let progress = Progress(opts.progress.clone());
        let oci_only = matches!(dest, Destination::Oci { .. });
        if oci_only && opts.format == Some(ImageFormat::Docker) {
            return Err(fail(Error::Invalid(
                "an OCI layout holds OCI manifests only: drop --format v2s2, or push to dir: or a registry".into(),
            )));
        }
        let format = if oci_only { Some(ImageFormat::Oci) } else { opts.format };
        let engine = self.clone();
        let compression = opts.compression;
        let plan_img = img.clone();
        let plan = tokio::task::spawn_blocking(move || engine.plan(&plan_img, format, compression))
            .await
            .map_err(|e| Error::Invalid(format!("push task: {e}")))?
            .map_err(fail)?;
        let plan = std::sync::Arc::new(plan);
        progress
            .send(PushProgress::Started { layers: plan.layers.iter().map(|b| (b.digest.clone(), b.size)).collect() });

        let mut tag = None;
        match &dest {
            Destination::Registry(reference) => {
                let reference = match (reference.tag(), reference.digest()) {
                    (_, Some(_)) => {
                        return Err(fail(Error::Invalid(
                            "a push names a tag, not a digest: give REPOSITORY[:TAG]".into(),
                        )))
                    }
                    (Some(_), None) => reference.clone(),
                    (None, None) => Reference::parse(&format!("{}:latest", reference.name()))?,
                };
                tag = reference.tag().map(str::to_string);
                self.push_registry(&img, &plan, &reference, &opts, &progress).await.map_err(fail)?;
            }
            Destination::Dir(path) => {
                let (path, plan, progress) = (path.clone(), plan.clone(), progress.clone());
                tokio::task::spawn_blocking(move || write_dir(&path, &plan, &progress))
                    .await
                    .map_err(|e| Error::Invalid(format!("push task: {e}")))?
                    .map_err(fail)?;
            }
            Destination::Oci { path, tag: t } => {
                let (path, t, plan, progress) = (path.clone(), t.clone(), plan.clone(), progress.clone());
                tokio::task::spawn_blocking(move || write_oci(&path, t.as_deref(), &plan, &progress))
                    .await
                    .map_err(|e| Error::Invalid(format!("push task: {e}")))?
                    .map_err(fail)?;
            }
        }
        progress.send(PushProgress::Manifest { digest: plan.digest.clone(), size: plan.manifest.len() });
        self.events().state("image", "push", &img.id, Some(&destination));
        Ok(Pushed { image_id: img.id.clone(), manifest_digest: plan.digest.clone(), destination, tag })
    }

    /// The manifest and blobs to send, in the format and compression asked for.
    fn plan(&self, img: &ImageRecord, format: Option<ImageFormat>, compression: Option<Compression>) -> Result<Plan> {
        let bad = |m: String| Error::Invalid(format!("image {}: {m}", short(&img.id)));
        let stored: ImageManifest = serde_json::from_slice(&img.manifest)
            .map_err(|e| bad(format!("its stored manifest is unreadable: {e}")))?;
        let stored_docker = img.manifest_media_type == DOCKER_MANIFEST;
        let mut docker = match format {
            Some(f) => f == ImageFormat::Docker,
            None => stored_docker,
        };
        if compression == Some(Compression::Zstd) && docker {
            if format == Some(ImageFormat::Docker) {
                return Err(Error::Invalid(
                    "zstd-compressed layers need the OCI format: drop --format v2s2 or use --compression-format gzip"
                        .into(),
                ));
            }
            docker = false;
        }
        let blob = |digest: &str, size: u64| -> Result<Blob> {
            let path = self.content().path(digest)?;
            if !path.is_file() {
                return Err(bad(format!(
                    "blob {digest} is missing from the store: run `berth system check --repair`, or pull the image again"
                )));
            }
            Ok(Blob { digest: digest.to_string(), size, path })
        };
        let config_desc = stored.config();
        let config = blob(config_desc.digest().as_ref(), config_desc.size())?;
        let mut temps = TempFiles(Vec::new());
        let mut changed = docker != stored_docker;
        let mut layers = Vec::new();
        let mut descs = Vec::new();
        for desc in stored.layers() {
            let mut b = blob(desc.digest().as_ref(), desc.size())?;
            let mut kind = detect(&b.path)?;
            // a plain tar (a build's or commit's layer kept as containers/storage keeps one)
            // goes out gzip-compressed unless another compression is asked for
            if let Some(want) = compression.or(if kind.is_none() { Some(Compression::Gzip) } else { None }) {
                if kind != Some(want) {
                    let (tmp, digest, size) = self.recompress(&b.path, want)?;
                    temps.0.push(tmp.clone());
                    b = Blob { digest, size, path: tmp };
                    kind = Some(want);
                    changed = true;
                }
            }
            let mut d = desc.clone();
            let media_type = layer_media_type(desc.media_type().as_ref(), kind, docker);
            d.set_media_type(MediaType::from(media_type.as_str()));
            d.set_digest(b.digest.parse::<Digest>().map_err(|e| bad(format!("digest {}: {e}", b.digest)))?);
            d.set_size(b.size);
            if docker {
                d.set_annotations(None);
            }
            descs.push(d);
            layers.push(b);
        }
        let (manifest, media_type) = if changed {
            let mut m = stored.clone();
            let (mt, ct) = if docker { (DOCKER_MANIFEST, DOCKER_CONFIG) } else { (OCI_MANIFEST, OCI_CONFIG) };
            m.set_media_type(Some(MediaType::from(mt)));
            let mut c: Descriptor = config_desc.clone();
            c.set_media_type(MediaType::from(ct));
            if docker {
                c.set_annotations(None);
                m.set_annotations(None);
                m.set_subject(None);
                m.set_artifact_type(None);
            }
            m.set_config(c);
            m.set_layers(descs);
            (serde_json::to_vec(&m).map_err(|e| bad(format!("writing its manifest: {e}")))?, mt.to_string())
        } else {
            (img.manifest.clone(), img.manifest_media_type.clone())
        };
        let digest = crate::content::sha256_digest(&manifest);
        Ok(Plan { manifest, media_type, digest, config, layers, _temps: temps })
    }

    /// A layer blob decompressed and compressed again as asked, into a temporary file of the
    /// content store's ingest directory: its path, digest and size.
    fn recompress(&self, path: &Path, want: Compression) -> Result<(PathBuf, String, u64)> {
        let io = |p: &Path| {
            let path = p.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let (tmp, file) = self.content().temp_file().map_err(io(path))?;
        let result = (|| -> Result<(String, u64)> {
            let src = std::fs::File::open(path).map_err(io(path))?;
            let mut plain = decompressed(src).map_err(io(path))?;
            let mut out = Hashing::new(std::io::BufWriter::new(file));
            match want {
                Compression::Gzip => {
                    let mut enc = flate2::write::GzEncoder::new(&mut out, flate2::Compression::default());
                    std::io::copy(&mut plain, &mut enc).map_err(io(path))?;
                    enc.finish().map_err(io(&tmp))?;
                }
                Compression::Zstd => {
                    let mut enc = zstd::stream::write::Encoder::new(&mut out, 3).map_err(io(&tmp))?;
                    std::io::copy(&mut plain, &mut enc).map_err(io(path))?;
                    enc.finish().map_err(io(&tmp))?;
                }
            }
            use std::io::Write;
            let (mut buf, digest, len) = out.finish();
            buf.flush().map_err(io(&tmp))?;
            Ok((digest, len))
        })();
        match result {
            Ok((digest, size)) => Ok((tmp, digest, size)),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    async fn push_registry(
        &self,
        img: &ImageRecord,
        plan: &Plan,
        reference: &Reference,
        opts: &PushOptions,
        progress: &Progress,
    ) -> Result<()> {
        let config = self.config();
        if config.registries.is_blocked(&reference.to_string()) {
            return Err(RegistryError::Blocked {
                host: reference.registry().to_string(),
                config: config.registries.suggested_path().display().to_string(),
            }
            .into());
        }
        let insecure = match opts.tls_verify {
            Some(verify) => !verify,
            None => config.registries.is_insecure(reference.registry()),
        };
        let registry =
            Registry::connect_push(reference, insecure, opts.credentials.as_ref(), &config.registries, &config.auth)?;
        registry.authorize_push().await?;
        let sources = self.mount_sources(img, reference)?;
        futures_util::stream::iter(plan.layers.iter())
            .map(|b| push_layer(&registry, b, sources.get(&b.digest).map(Vec::as_slice).unwrap_or(&[]), progress))
            // boxed, or the future is not `Send` for every lifetime (rust-lang/rust#104382)
            .boxed()
            .buffer_unordered(PARALLEL_UPLOADS)
            .try_collect::<Vec<()>>()
            .await?;
        let config_digest = &plan.config.digest;
        if registry.has_blob(config_digest).await? {
            progress.send(PushProgress::Config { digest: config_digest.clone(), phase: BlobPhase::Exists });
        } else {
            let bytes = std::fs::read(&plan.config.path)
                .map_err(|source| Error::Io { path: plan.config.path.clone(), source })?;
            registry.upload_bytes(config_digest, bytes).await?;
            progress.send(PushProgress::Config { digest: config_digest.clone(), phase: BlobPhase::Done });
        }
        registry.put_manifest(plan.manifest.clone(), &plan.media_type).await?;
        Ok(())
    }

    /// For each layer blob of `img`, the repositories of the destination's registry (other than
    /// the destination's) that images holding that blob came from: where a mount may find it.
    fn mount_sources(
        &self,
        img: &ImageRecord,
        dest: &Reference,
    ) -> Result<std::collections::HashMap<String, Vec<String>>> {
        let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
        let wanted: std::collections::HashSet<&str> = img.layers.iter().map(|l| l.blob_digest.as_str()).collect();
        for other in image::list(self.state().conn())? {
            let repos: Vec<String> = other
                .repo_digests
                .iter()
                .chain(other.names.iter())
                .filter_map(|n| Reference::parse(n).ok())
                .filter(|r| r.registry() == dest.registry() && r.repository() != dest.repository())
                .map(|r| r.repository().to_string())
                .collect();
            for l in other.layers.iter().filter(|l| wanted.contains(l.blob_digest.as_str())) {
                let list = out.entry(l.blob_digest.clone()).or_default();
                for r in &repos {
                    if !list.contains(r) && list.len() < 3 {
                        list.push(r.clone());
                    }
                }
            }
        }
        Ok(out)
    }
}

async fn push_layer(registry: &Registry, b: &Blob, sources: &[String], progress: &Progress) -> Result<()> {
    if registry.has_blob(&b.digest).await? {
        progress.layer(b, BlobPhase::Exists, b.size);
        return Ok(());
    }
    for from in sources {
        if registry.mount_blob(&b.digest, from).await {
            progress.layer(b, BlobPhase::Mounted { from: from.clone() }, b.size);
            return Ok(());
        }
    }
    progress.layer(b, BlobPhase::Uploading, 0);
    let file = tokio::fs::File::open(&b.path).await.map_err(|source| Error::Io { path: b.path.clone(), source })?;
    registry.upload_blob(&b.digest, b.size, file_stream(file, b.clone(), progress.clone())).await?;
    progress.layer(b, BlobPhase::Done, b.size);
    Ok(())
}

/// A file as a stream of 1 MiB chunks, reporting progress at most every 100 ms.
fn file_stream(
    file: tokio::fs::File,
    blob: Blob,
    progress: Progress,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold((Some(file), 0u64, Instant::now()), move |(file, sent, last)| {
        let (blob, progress) = (blob.clone(), progress.clone());
        async move {
            let mut f = file?;
            let mut buf = vec![0u8; 1 << 20];
            match f.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    let sent = sent + n as u64;
                    let last = if last.elapsed() >= Duration::from_millis(100) {
                        progress.layer(&blob, BlobPhase::Uploading, sent);
                        Instant::now()
                    } else {
                        last
                    };
                    Some((Ok(Bytes::from(buf)), (Some(f), sent, last)))
                }
                Err(e) => Some((Err(e), (None, sent, last))),
            }
        }
    })
}

fn open(b: &Blob) -> Result<std::fs::File> {
    std::fs::File::open(&b.path).map_err(|source| Error::Io { path: b.path.clone(), source })
}

fn layout_err(e: LayoutError) -> Error {
    Error::Invalid(e.to_string())
}

/// The layers and the config into `w`, reported as written or found there.
fn put_blobs(w: &mut dyn BlobSink, plan: &Plan, progress: &Progress) -> Result<()> {
    let phase = |written: bool| if written { BlobPhase::Done } else { BlobPhase::Exists };
    for b in &plan.layers {
        let written = w.put_blob(&b.digest, b.size, &mut open(b)?).map_err(layout_err)?;
        progress.layer(b, phase(written), b.size);
    }
    let c = &plan.config;
    let written = w.put_blob(&c.digest, c.size, &mut open(c)?).map_err(layout_err)?;
    progress.send(PushProgress::Config { digest: c.digest.clone(), phase: phase(written) });
    Ok(())
}

fn write_dir(path: &Path, plan: &Plan, progress: &Progress) -> Result<()> {
    let mut sink = layout::dir::open_dir(path).map_err(layout_err)?;
    let mut w = DirWriter::new(&mut sink);
    put_blobs(&mut w, plan, progress)?;
    w.finish(&plan.manifest).map_err(layout_err)?;
    sink.place().map_err(layout_err)
}

fn write_oci(path: &Path, tag: Option<&str>, plan: &Plan, progress: &Progress) -> Result<()> {
    // an existing layout: what this push added goes again unless it is placed
    let mut sink = layout::oci::open_dir(path).map_err(layout_err)?;
    let mut w = OciWriter::new(&mut sink);
    put_blobs(&mut w, plan, progress)?;
    let m = &plan.manifest;
    w.put_blob(&plan.digest, m.len() as u64, &mut &m[..]).map_err(layout_err)?;
    let entry = IndexEntry { media_type: &plan.media_type, digest: &plan.digest, size: m.len() as u64, name: tag };
    w.finish(&[entry]).map_err(layout_err)?;
    sink.place().map_err(layout_err)
}

/// A layer's compression by its magic bytes (`None`: a plain tar).
fn detect(path: &Path) -> Result<Option<Compression>> {
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let n = f.read(&mut magic).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    Ok(match layout::Compression::of(&magic[..n]) {
        layout::Compression::Gzip => Some(Compression::Gzip),
        layout::Compression::Zstd => Some(Compression::Zstd),
        layout::Compression::None => None,
    })
}

fn decompressed(file: std::fs::File) -> std::io::Result<Box<dyn Read>> {
    let mut input = std::io::BufReader::with_capacity(1 << 17, file);
    let magic = std::io::BufRead::fill_buf(&mut input)?.to_vec();
    layout::Compression::of(&magic).decoder(input)
}

/// The media type of a layer in the manifest format pushed; `kind` is its actual compression.
fn layer_media_type(stored: &str, kind: Option<Compression>, docker: bool) -> String {
    let foreign = stored.contains("foreign") || stored.contains("nondistributable");
    let t = match (docker, kind, foreign) {
        (true, _, true) => DOCKER_FOREIGN_GZIP,
        (false, _, true) => OCI_FOREIGN_GZIP,
        (true, None, _) => DOCKER_LAYER,
        (true, Some(_), _) => DOCKER_LAYER_GZIP,
        (false, None, _) => OCI_LAYER,
        (false, Some(Compression::Gzip), _) => OCI_LAYER_GZIP,
        (false, Some(Compression::Zstd), _) => OCI_LAYER_ZSTD,
    };
    // A foreign layer's type is kept as stored when the format does not change.
    if foreign && (stored.starts_with("application/vnd.docker") == docker) {
        return stored.to_string();
    }
    t.to_string()
}

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<Destination, &str>) {
        match (Destination::parse(input), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{input}"),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{input}: {e}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn destinations_parse_as_podman_reads_them() {
        let reg = |s: &str| Ok(Destination::Registry(Reference::parse(s).unwrap()));
        check("docker://127.0.0.1:5000/a/b:1", reg("127.0.0.1:5000/a/b:1"));
        check("127.0.0.1:5000/a/b:1", reg("127.0.0.1:5000/a/b:1"));
        check("localhost:5000/x", reg("localhost:5000/x"));
        check("quay.io/x/y", reg("quay.io/x/y"));
        check("dir:/tmp/d", Ok(Destination::Dir("/tmp/d".into())));
        check("oci:/tmp/o", Ok(Destination::Oci { path: "/tmp/o".into(), tag: None }));
        check("oci:/tmp/o:v1", Ok(Destination::Oci { path: "/tmp/o".into(), tag: Some("v1".into()) }));
        check("dir:", Err("dir: needs a path"));
        check("oci::x", Err("oci: needs a path"));
        check("oci:/tmp/o:", Err("not a valid image name"));
        check("docker-archive:/tmp/x.tar", Err("push does not write the docker-archive transport"));
        check("bogus:/tmp/x", Err("unknown transport \"bogus\""));
        check("docker://x:bad tag", Err("invalid destination \"docker://x:bad tag\""));
    }

    #[test]
    fn layer_media_types_follow_format_and_compression() {
        assert_eq!(layer_media_type(OCI_LAYER_GZIP, Some(Compression::Gzip), true), DOCKER_LAYER_GZIP);
        assert_eq!(layer_media_type(DOCKER_LAYER_GZIP, Some(Compression::Zstd), false), OCI_LAYER_ZSTD);
        assert_eq!(layer_media_type(DOCKER_LAYER, None, false), OCI_LAYER);
        assert_eq!(layer_media_type(DOCKER_FOREIGN_GZIP, Some(Compression::Gzip), true), DOCKER_FOREIGN_GZIP);
        assert_eq!(layer_media_type(DOCKER_FOREIGN_GZIP, Some(Compression::Gzip), false), OCI_FOREIGN_GZIP);
    }
}
