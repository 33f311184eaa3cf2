//! `commit`: a container's changes as a new image.
//!
//! The container's upper directory is written as one gzip-compressed OCI layer tar
//! (`layers::pack`), hashing both the compressed bytes (the blob digest) and the tar (the diff
//! id) as they are written, into a temporary file of the content store's ingest directory that
//! is moved under its digest only once complete. That blob is then unpacked by the same unpacker
//! a pull uses into a staging directory renamed under the new chain id. The config is the
//! image's with the container's settings (command, entrypoint, environment, working directory,
//! user, labels, ports), the `--change` instructions, one more diff id and history entry; it and
//! an OCI (or Docker schema 2) manifest are stored as blobs, and the layer row and the image row
//! go in one transaction. Whatever fails, what this call made is removed again.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::container::{ContainerPaths, Status};
use crate::content::{sha256_digest, Hashing};
use crate::image::{self, LayerRecord, NewImage};
use crate::layers::{chain_ids, unpack_stream_as_owner, LayerError};
use crate::media_type::{
    DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_LAYER_ZSTD, DOCKER_MANIFEST, OCI_CONFIG, OCI_LAYER,
    OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_MANIFEST,
};
use crate::reference::Reference;
use crate::{Engine, Error, ImageRecord, Result};

/// The manifest format of a committed image (`--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageFormat {
    #[default]
    Oci,
    Docker,
}

impl ImageFormat {
    pub fn parse(s: &str) -> Result<ImageFormat> {
        match s {
            "oci" => Ok(ImageFormat::Oci),
            "docker" | "v2s2" => Ok(ImageFormat::Docker),
            _ => Err(Error::Invalid(format!("unrecognized image type \"{s}\": use oci or docker"))),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct CommitOptions {
    /// The new image's name; None leaves it dangling (`<none>`).
    pub image: Option<String>,
    /// Dockerfile instructions applied to the config (`--change`).
    pub changes: Vec<String>,
    /// The history entry's comment (`--message`).
    pub message: Option<String>,
    pub author: Option<String>,
    /// Freeze a running container while its changes are read.
    pub pause: bool,
    pub format: ImageFormat,
}

/// Layer compression (`--compression-format` of push and build).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    pub fn parse(s: &str) -> Result<Compression> {
        match s {
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            _ => Err(Error::Invalid(format!("unsupported compression format \"{s}\": use gzip or zstd"))),
        }
    }
}

/// One step of a commit, as `copy` reports it ("Copying blob …").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitStep {
    /// A layer of the base image, already stored.
    BlobExists(String),
    /// The new layer, written.
    BlobWritten(String),
    Config(String),
    Manifest,
}

impl Engine {
    /// `berth commit`: stores the container's changes as a new image and returns it.
    pub fn commit(
        &self,
        query: &str,
        opts: &CommitOptions,
        progress: &mut dyn FnMut(CommitStep),
    ) -> Result<ImageRecord> {
        let changes = opts.changes.iter().map(|c| Change::parse(c)).collect::<Result<Vec<_>>>()?;
        let name = match &opts.image {
            Some(n) => {
                let r = Reference::parse_local(n)?;
                if r.digest().is_some() {
                    return Err(Error::Invalid(format!("{n}: the name of a committed image cannot contain a digest")));
                }
                Some(r.tagged_name().expect("a reference without digest has a tag"))
            }
            None => None,
        };
        let c = self.container(query)?;
        if let Some(r) = &c.options.rootfs {
            return Err(Error::Invalid(format!(
                "container {} has no image to commit on: its root is the directory {} (--rootfs); copy its files with `cp` instead",
                c.name,
                r.path.display()
            )));
        }
        let base = image::get(self.state().conn(), &c.image_id)?.ok_or_else(|| {
            Error::Invalid(format!(
                "container {}: its image {} is gone",
                c.name,
                &c.image_id[..12.min(c.image_id.len())]
            ))
        })?;
        let paused = if opts.pause && c.status == Status::Running {
            self.pause_container(&c.id)?;
            true
        } else {
            false
        };
        let upper = ContainerPaths::new(&self.config().root, &c.id).upper();
        let written = self.write_layer(&upper);
        if paused {
            self.unpause_container(&c.id)?;
        }
        let layer = written?;
        let mut made = Made::new(self);
        if layer.new_blob {
            made.blob = Some(layer.digest.clone());
        }
        let result = self.commit_image(&c, &base, &changes, opts, name.as_deref(), &layer, &mut made, progress);
        if result.is_ok() {
            made.keep();
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn commit_image(
        &self,
        c: &crate::ContainerRecord,
        base: &ImageRecord,
        changes: &[Change],
        opts: &CommitOptions,
        name: Option<&str>,
        layer: &NewLayer,
        made: &mut Made<'_>,
        progress: &mut dyn FnMut(CommitStep),
    ) -> Result<ImageRecord> {
        for l in &base.layers {
            progress(CommitStep::BlobExists(l.blob_digest.clone()));
        }
        progress(CommitStep::BlobWritten(layer.digest.clone()));

        // the config
        let mut config: Value = serde_json::from_str(&base.config_json)
            .map_err(|e| Error::Invalid(format!("image {}: bad config: {e}", &base.id[..12])))?;
        let obj = object(&mut config);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        obj.insert("created".into(), json!(now));
        if let Some(a) = &opts.author {
            obj.insert("author".into(), json!(a));
        }
        let spec_env = oci_spec::runtime::Spec::load(ContainerPaths::new(&self.config().root, &c.id).spec())
            .ok()
            .and_then(|s| s.process().as_ref().and_then(|p| p.env().clone()))
            // but its HOSTNAME, which is the container's own: a container of the new image has its own
            .map(|env| env.into_iter().filter(|kv| !kv.starts_with("HOSTNAME=")).collect());
        container_settings(object(obj.entry("config").or_insert_with(|| json!({}))), c, spec_env);
        for change in changes {
            change.apply(object(obj.entry("config").or_insert_with(|| json!({}))));
        }
        let mut entry = Map::new();
        entry.insert("created".into(), json!(now));
        if let Some(a) = &opts.author {
            entry.insert("author".into(), json!(a));
        }
        if let Some(m) = &opts.message {
            entry.insert("comment".into(), json!(m));
        }
        push_history(obj, entry);
        if let (ImageFormat::Docker, Some(m)) = (opts.format, &opts.message) {
            obj.insert("comment".into(), json!(m));
        }
        let parts = ImageParts {
            base_layers: &base.layers,
            layer: Some(layer),
            config,
            format: opts.format,
            name,
            what: &format!("committing {}", c.name),
            action: "commit",
            upper: None,
        };
        let stored = self.store_image(parts, made)?;
        progress(CommitStep::Config(stored.config_digest));
        progress(CommitStep::Manifest);
        Ok(stored.image)
    }

    /// Stores an image made here (commit, build): `layer` (when there is one) unpacked under
    /// its chain id over `base_layers`, the config with its `rootfs` set, the manifest, and the
    /// rows, in one transaction. What it stores is recorded in `made`.
    pub(crate) fn store_image(&self, parts: ImageParts<'_>, made: &mut Made<'_>) -> Result<StoredImage> {
        let ImageParts { base_layers, layer, mut config, format, name, what, action, upper: parts_upper } = parts;
        let mut diff_ids: Vec<String> = base_layers.iter().map(|l| l.diff_id.clone()).collect();
        use Compression::{Gzip, Zstd};
        let compression = layer.map_or(Some(Gzip), |l| l.compression);
        let (layer_media, config_media, manifest_media) = match (format, compression) {
            (ImageFormat::Oci, None) => (OCI_LAYER, OCI_CONFIG, OCI_MANIFEST),
            (ImageFormat::Oci, Some(Gzip)) => (OCI_LAYER_GZIP, OCI_CONFIG, OCI_MANIFEST),
            (ImageFormat::Oci, Some(Zstd)) => (OCI_LAYER_ZSTD, OCI_CONFIG, OCI_MANIFEST),
            (ImageFormat::Docker, None) => (DOCKER_LAYER, DOCKER_CONFIG, DOCKER_MANIFEST),
            (ImageFormat::Docker, Some(Gzip)) => (DOCKER_LAYER_GZIP, DOCKER_CONFIG, DOCKER_MANIFEST),
            (ImageFormat::Docker, Some(Zstd)) => (DOCKER_LAYER_ZSTD, DOCKER_CONFIG, DOCKER_MANIFEST),
        };
        let mut new_record = None;
        // One store of a new layer at a time on this host: two builds making the same layer
        // (the same RUN in parallel) would stage and move in the same chain id at once.
        let _store_lock = match layer {
            Some(_) => Some(self.layer_store_lock()?),
            None => None,
        };
        if let Some(layer) = layer {
            diff_ids.push(layer.diff_id.clone());
            let chains = chain_ids(&diff_ids);
            let chain = chains.last().expect("one layer at least").clone();
            let present = image::layer(self.state().conn(), &chain)?.is_some() && self.layers().exists(&chain);
            if !present {
                let staged = self.layers().stage(&chain)?;
                // The directory the layer was written from is that layer already: a build's
                // own upper directory is moved in, not unpacked again from the blob.
                let adopted = parts_upper.is_some_and(|u| adopt_upper(u, &staged.join("diff")));
                if !adopted {
                    let blob = self.content().open_blob(&layer.digest)?;
                    let unpacked = match unpack_stream_as_owner(blob, &staged.join("diff")) {
                        Ok(u) => u,
                        Err(source) => {
                            self.layers().discard(&staged);
                            return Err(LayerError::Unpack {
                                image: what.to_string(),
                                layer: layer.digest.clone(),
                                source,
                            }
                            .into());
                        }
                    };
                    if unpacked.diff_id != layer.diff_id {
                        self.layers().discard(&staged);
                        return Err(Error::Invalid(format!(
                            "{what}: the layer unpacked as {} but was written as {}",
                            unpacked.diff_id, layer.diff_id
                        )));
                    }
                }
                self.layers().commit(&staged, &chain)?;
                made.layer = Some(chain.clone());
                new_record = Some(LayerRecord {
                    chain_id: chain,
                    diff_id: layer.diff_id.clone(),
                    parent: base_layers.last().map(|l| l.chain_id.clone()),
                    blob_digest: layer.digest.clone(),
                    blob_size: layer.size,
                    media_type: layer_media.into(),
                    size: layer.tar_size,
                });
            }
        }
        let chains = chain_ids(&diff_ids);
        let rootfs = object(object(&mut config).entry("rootfs").or_insert_with(|| json!({"type": "layers"})));
        rootfs.insert("type".into(), json!("layers"));
        rootfs.insert("diff_ids".into(), json!(diff_ids));
        let config_bytes = serde_json::to_vec(&config).expect("json");
        let config_digest = sha256_digest(&config_bytes);
        self.put_new_blob(&config_digest, &config_bytes, made)?;

        // the manifest
        let mut layers: Vec<Value> = base_layers
            .iter()
            .map(|l| json!({"mediaType": media_for(&l.media_type, format), "digest": l.blob_digest, "size": l.blob_size}))
            .collect();
        if let Some(layer) = layer {
            layers.push(json!({"mediaType": layer_media, "digest": layer.digest, "size": layer.size}));
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_media,
            "config": {"mediaType": config_media, "digest": config_digest, "size": config_bytes.len()},
            "layers": layers,
        });
        let manifest_bytes = serde_json::to_vec(&manifest).expect("json");
        let manifest_digest = sha256_digest(&manifest_bytes);
        self.put_new_blob(&manifest_digest, &manifest_bytes, made)?;

        let image_id = crate::content::digest_hex(&config_digest)?.to_string();
        let parsed: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::Invalid(format!("{what}: the new config does not parse: {e}")))?;
        let created = config.get("created").and_then(Value::as_str).map(str::to_string);
        let inserted = self.state().write(|tx| -> Result<bool> {
            if let Some(record) = &new_record {
                image::insert_layer(tx, record)?;
            }
            Ok(image::insert_image(
                tx,
                &NewImage {
                    id: &image_id,
                    config_json: std::str::from_utf8(&config_bytes).unwrap_or("{}"),
                    manifest_digest: &manifest_digest,
                    manifest_media_type: manifest_media,
                    manifest: &manifest_bytes,
                    created: created.as_deref(),
                    os: &parsed.os().to_string(),
                    architecture: &parsed.architecture().to_string(),
                    variant: parsed.variant().as_deref(),
                    chain_ids: &chains,
                    name,
                    repo_digests: &[],
                },
            )?)
        })?;
        if !inserted {
            return Err(Error::Invalid(format!("{what}: a layer of its base image was removed meanwhile; try again")));
        }
        self.events().state("image", action, &image_id, name);
        let image = image::get(self.state().conn(), &image_id)?
            .ok_or_else(|| Error::Invalid(format!("{what}: the new image vanished")))?;
        Ok(StoredImage { image, config_digest })
    }

    /// The lock that serialises storing new layers (held until dropped).
    fn layer_store_lock(&self) -> Result<nix::fcntl::Flock<std::fs::File>> {
        let dir = self.config().run_root.join("locks");
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let path = dir.join("layer-store");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| io_err(&path, std::io::Error::from(e)))
    }

    /// Writes the tar of `upper`, gzip-compressed, into the content store.
    pub(crate) fn write_layer(&self, upper: &Path) -> Result<NewLayer> {
        self.write_layer_at(upper, None)
    }

    /// [`Engine::write_layer`] with every entry's mtime `mtime` when given (root only: the
    /// rootless helper writes the files' own).
    pub(crate) fn write_layer_at(&self, upper: &Path, mtime: Option<u64>) -> Result<NewLayer> {
        self.write_layer_with(upper, mtime, Some(Compression::Gzip))
    }

    /// [`Engine::write_layer_at`], compressed with `compression` (None: a plain tar, as
    /// containers/storage keeps a build's layers; a push compresses it).
    pub(crate) fn write_layer_with(
        &self,
        upper: &Path,
        mtime: Option<u64>,
        compression: Option<Compression>,
    ) -> Result<NewLayer> {
        let (tmp, file) = self.content().temp_file().map_err(|e| io_err(&self.config().root.join("ingest"), e))?;
        let written = (|| -> io::Result<(String, u64, String, u64)> {
            let compressed = Hashing::new(io::BufWriter::new(file));
            let gz = Encoder::new(compressed, compression)?;
            let tar = Hashing::new(gz);
            let tar = if berth_userns::outside() {
                // rootless: the owners are the namespace's, so the tar is made inside it
                let mut c = berth_userns::reexec::userns_command("layer-tar")?;
                c.arg(upper);
                let mut tar = tar;
                berth_userns::reexec::stream_userns(c, &mut tar)?;
                tar
            } else {
                crate::layers::pack::write_layer_tar_at(upper, tar, mtime)?
            };
            let (gz, diff_id, tar_size) = tar.finish();
            let compressed = gz.finish()?;
            let (buf, digest, size) = compressed.finish();
            buf.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok((digest, size, diff_id, tar_size))
        })();
        let (digest, size, diff_id, tar_size) = match written {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::Invalid(format!("reading the container's changes in {}: {e}", upper.display())));
            }
        };
        let new_blob = match self.content().store_file(&digest, &tmp) {
            Ok(n) => n,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.into());
            }
        };
        Ok(NewLayer { digest, size, diff_id, tar_size, new_blob, compression })
    }

    pub(crate) fn put_new_blob(&self, digest: &str, bytes: &[u8], made: &mut Made<'_>) -> Result<()> {
        if !self.content().has(digest) {
            self.content().put(digest, bytes)?;
            made.blobs.push(digest.to_string());
        }
        Ok(())
    }
}

/// The `layer-tar UPPER` operation of the userns helper: the tar on stdout.
pub(crate) fn layer_tar_helper(upper: &str) -> std::result::Result<(), String> {
    let out = io::BufWriter::new(io::stdout().lock());
    let mut out = crate::layers::pack::write_layer_tar(Path::new(upper), out).map_err(|e| format!("{upper}: {e}"))?;
    out.flush().map_err(|e| e.to_string())
}

pub(crate) struct NewLayer {
    pub(crate) digest: String,
    pub(crate) size: u64,
    pub(crate) diff_id: String,
    pub(crate) tar_size: u64,
    pub(crate) new_blob: bool,
    /// How the blob is compressed (None: a plain tar).
    pub(crate) compression: Option<Compression>,
}

/// A layer's compressor: gzip, zstd, or none.
enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    fn new(out: W, compression: Option<Compression>) -> io::Result<Encoder<W>> {
        Ok(match compression {
            None => Encoder::Plain(out),
            Some(Compression::Gzip) => {
                Encoder::Gzip(flate2::write::GzEncoder::new(out, flate2::Compression::default()))
            }
            Some(Compression::Zstd) => Encoder::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
        })
    }

    fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

/// What [`Engine::store_image`] is given.
pub(crate) struct ImageParts<'a> {
    pub(crate) base_layers: &'a [LayerRecord],
    /// The new layer on top, if any (an image that only changes settings has none).
    pub(crate) layer: Option<&'a NewLayer>,
    /// The whole config; its `rootfs` is set here.
    pub(crate) config: Value,
    pub(crate) format: ImageFormat,
    pub(crate) name: Option<&'a str>,
    /// What is being done, for errors ("committing web").
    pub(crate) what: &'a str,
    /// The image event's action ("commit", "build").
    pub(crate) action: &'a str,
    /// The directory `layer` was written from, when nothing else uses it any more: moved in
    /// as the layer's directory instead of unpacking the blob again.
    pub(crate) upper: Option<&'a Path>,
}

/// Moves `upper` (an overlay upper directory no mount uses) to `diff` (a staged layer's),
/// overlay's bookkeeping xattrs taken off but the opaque marks; false (and nothing moved)
/// when it can't be, so the blob is unpacked instead.
fn adopt_upper(upper: &Path, diff: &Path) -> bool {
    let mode = std::fs::metadata(diff).map(|m| m.permissions());
    if std::fs::remove_dir(diff).is_err() {
        return false;
    }
    if std::fs::rename(upper, diff).is_err() {
        let _ = std::fs::create_dir(diff);
        if let Ok(mode) = &mode {
            let _ = std::fs::set_permissions(diff, mode.clone());
        }
        return false;
    }
    // the root's mode as an unpacked layer without a root entry has it
    if let Ok(mode) = mode {
        let _ = std::fs::set_permissions(diff, mode);
    }
    strip_overlay_xattrs(diff);
    true
}

fn strip_overlay_xattrs(path: &Path) {
    if let Ok(names) = xattr::list(path) {
        for name in names {
            let n = name.to_string_lossy();
            if n.starts_with("trusted.overlay.") && n != "trusted.overlay.opaque" {
                let _ = xattr::remove(path, &name);
            }
        }
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten() {
                strip_overlay_xattrs(&e.path());
            }
        }
    }
}

pub(crate) struct StoredImage {
    pub(crate) image: ImageRecord,
    pub(crate) config_digest: String,
}

/// What a commit or a build step made so far, removed again unless it succeeded.
pub(crate) struct Made<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) blob: Option<String>,
    pub(crate) layer: Option<String>,
    pub(crate) blobs: Vec<String>,
}

impl<'a> Made<'a> {
    pub(crate) fn new(engine: &'a Engine) -> Made<'a> {
        Made { engine, blob: None, layer: None, blobs: Vec::new() }
    }

    /// Keeps what was made.
    pub(crate) fn keep(&mut self) {
        self.blob = None;
        self.layer = None;
        self.blobs.clear();
    }
}

/// Appends a history entry.
pub(crate) fn push_history(config: &mut Map<String, Value>, entry: Map<String, Value>) {
    if let Value::Array(h) = config.entry("history").or_insert_with(|| json!([])) {
        h.push(Value::Object(entry));
    }
}

impl Drop for Made<'_> {
    fn drop(&mut self) {
        if let Some(chain) = &self.layer {
            let _ = self.engine.layers().remove(chain);
        }
        for d in self.blob.iter().chain(&self.blobs) {
            let _ = self.engine.content().delete(d);
        }
    }
}

fn io_err(path: &Path, source: io::Error) -> Error {
    Error::Io { path: PathBuf::from(path), source }
}

fn media_for(media: &str, format: ImageFormat) -> String {
    match (format, media) {
        (ImageFormat::Docker, OCI_LAYER_GZIP) => DOCKER_LAYER_GZIP.into(),
        (ImageFormat::Oci, DOCKER_LAYER_GZIP) => OCI_LAYER_GZIP.into(),
        _ => media.into(),
    }
}

pub(crate) fn object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("an object")
}

/// The container's own settings over the image's, as Podman commits them.
fn container_settings(cfg: &mut Map<String, Value>, c: &crate::ContainerRecord, spec_env: Option<Vec<String>>) {
    let o = &c.options;
    if let Some(e) = &o.entrypoint {
        cfg.insert("Entrypoint".into(), json!(e));
        cfg.insert("Cmd".into(), json!(o.command));
    } else if !o.command.is_empty() {
        cfg.insert("Cmd".into(), json!(o.command));
    }
    // the environment the container's process has (its spec's), as Podman commits it
    if let Some(env) = spec_env {
        cfg.insert("Env".into(), json!(env));
    } else if !o.env.is_empty() {
        let mut env: Vec<String> =
            cfg.get("Env").and_then(|e| serde_json::from_value(e.clone()).ok()).unwrap_or_default();
        for kv in &o.env {
            set_env(&mut env, kv);
        }
        cfg.insert("Env".into(), json!(env));
    }
    if let Some(w) = &o.workdir {
        cfg.insert("WorkingDir".into(), json!(w));
    }
    if let Some(u) = &o.user {
        cfg.insert("User".into(), json!(u));
    }
    if !o.labels.is_empty() {
        let labels = object(cfg.entry("Labels").or_insert_with(|| json!({})));
        for (k, v) in &o.labels {
            labels.insert(k.clone(), json!(v));
        }
    }
    if !o.ports.is_empty() {
        let ports = object(cfg.entry("ExposedPorts").or_insert_with(|| json!({})));
        for p in &o.ports {
            ports.insert(format!("{}/{}", p.container_port, p.protocol), json!({}));
        }
    }
}

pub(crate) fn set_env(env: &mut Vec<String>, kv: &str) {
    let key = kv.split_once('=').map_or(kv, |(k, _)| k);
    match env.iter_mut().find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key) {
        Some(slot) => *slot = kv.to_string(),
        None => env.push(kv.to_string()),
    }
}

/// One `--change` instruction, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Cmd(Vec<String>),
    Entrypoint(Vec<String>),
    Env(Vec<(String, String)>),
    Expose(Vec<String>),
    Label(Vec<(String, String)>),
    OnBuild(String),
    User(String),
    Volume(Vec<String>),
    Workdir(String),
    StopSignal(String),
}

impl Change {
    /// `INSTRUCTION ARGS` or `INSTRUCTION=ARGS`, as Podman's `--change` takes them.
    pub fn parse(s: &str) -> Result<Change> {
        let t = s.trim_start();
        let end = t.find(|ch: char| ch.is_whitespace() || ch == '=').unwrap_or(t.len());
        let (word, rest) = t.split_at(end);
        let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
        let bad = |why: &str| Error::Invalid(format!("invalid change \"{s}\": {why}"));
        let need = |v: &str| if v.is_empty() { Err(bad("it needs an argument")) } else { Ok(v.to_string()) };
        Ok(match word.to_ascii_uppercase().as_str() {
            "CMD" => Change::Cmd(command_form(rest)),
            "ENTRYPOINT" => Change::Entrypoint(command_form(rest)),
            "ENV" => Change::Env(pairs(rest, true).map_err(|e| bad(&e))?),
            "LABEL" => Change::Label(pairs(rest, false).map_err(|e| bad(&e))?),
            "EXPOSE" => Change::Expose(
                words(&need(rest)?)
                    .into_iter()
                    .map(|p| if p.contains('/') { p.to_ascii_lowercase() } else { format!("{p}/tcp") })
                    .collect(),
            ),
            "ONBUILD" => Change::OnBuild(need(rest)?),
            "USER" => Change::User(need(rest)?),
            "VOLUME" => Change::Volume(match json_array(rest) {
                Some(v) => v,
                None => words(&need(rest)?),
            }),
            "WORKDIR" => Change::Workdir(need(rest)?),
            "STOPSIGNAL" => Change::StopSignal(need(rest)?),
            "" => return Err(bad("no instruction")),
            other => return Err(bad(&format!(
                "invalid instruction {other}: use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR"
            ))),
        })
    }

    pub(crate) fn apply(&self, cfg: &mut Map<String, Value>) {
        match self {
            Change::Cmd(c) => {
                cfg.insert("Cmd".into(), json!(c));
            }
            Change::Entrypoint(e) => {
                cfg.insert("Entrypoint".into(), json!(e));
            }
            Change::Env(kvs) => {
                let mut env: Vec<String> =
                    cfg.get("Env").and_then(|e| serde_json::from_value(e.clone()).ok()).unwrap_or_default();
                for (k, v) in kvs {
                    set_env(&mut env, &format!("{k}={v}"));
                }
                cfg.insert("Env".into(), json!(env));
            }
            Change::Label(kvs) => {
                let labels = object(cfg.entry("Labels").or_insert_with(|| json!({})));
                for (k, v) in kvs {
                    labels.insert(k.clone(), json!(v));
                }
            }
            Change::Expose(ports) => {
                let map = object(cfg.entry("ExposedPorts").or_insert_with(|| json!({})));
                for p in ports {
                    map.insert(p.clone(), json!({}));
                }
            }
            Change::OnBuild(i) => {
                if let Value::Array(a) = cfg.entry("OnBuild").or_insert_with(|| json!([])) {
                    a.push(json!(i));
                }
            }
            Change::User(u) => {
                cfg.insert("User".into(), json!(u));
            }
            Change::Volume(vs) => {
                let map = object(cfg.entry("Volumes").or_insert_with(|| json!({})));
                for v in vs {
                    map.insert(v.clone(), json!({}));
                }
            }
            Change::Workdir(w) => {
                // a relative one is taken from the current one, as a Dockerfile's WORKDIR is
                let dir = if w.starts_with('/') {
                    w.clone()
                } else {
                    let cur = cfg.get("WorkingDir").and_then(Value::as_str).unwrap_or("/");
                    format!("{}/{w}", cur.trim_end_matches('/'))
                };
                cfg.insert("WorkingDir".into(), json!(dir));
            }
            Change::StopSignal(s) => {
                cfg.insert("StopSignal".into(), json!(s));
            }
        }
    }
}

/// The JSON (exec) form `["a", "b"]`, else the shell form `/bin/sh -c ARGS`.
fn command_form(rest: &str) -> Vec<String> {
    match json_array(rest) {
        Some(v) => v,
        None if rest.is_empty() => Vec::new(),
        None => vec!["/bin/sh".into(), "-c".into(), rest.into()],
    }
}

fn json_array(rest: &str) -> Option<Vec<String>> {
    if rest.starts_with('[') {
        serde_json::from_str(rest).ok()
    } else {
        None
    }
}

/// Words split on blanks, with double or single quotes and backslash escapes.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        match (quote, ch) {
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(ch);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                any = true;
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// `K=V K2="V 2"`, or (for ENV) the old `K V V` form.
fn pairs(rest: &str, old_form: bool) -> std::result::Result<Vec<(String, String)>, String> {
    let ws = words(rest);
    let first = ws.first().ok_or("it needs KEY=VALUE")?;
    if !first.contains('=') {
        if old_form {
            let value = rest.trim_start()[first.len()..].trim().to_string();
            return Ok(vec![(first.clone(), value)]);
        }
        return Err(format!("\"{first}\" is not KEY=VALUE"));
    }
    let mut out = BTreeMap::new();
    let mut ordered = Vec::new();
    for w in ws {
        let (k, v) = w.split_once('=').ok_or_else(|| format!("\"{w}\" is not KEY=VALUE"))?;
        if k.is_empty() {
            return Err(format!("\"{w}\" has no key"));
        }
        if out.insert(k.to_string(), v.to_string()).is_none() {
            ordered.push(k.to_string());
        }
    }
    Ok(ordered.into_iter().map(|k| (k.clone(), out[&k].clone())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_parse_as_a_dockerfile_reads_them() {
        assert_eq!(
            Change::parse("CMD=/bin/bash").unwrap(),
            Change::Cmd(vec!["/bin/sh".into(), "-c".into(), "/bin/bash".into()])
        );
        assert_eq!(Change::parse(r#"cmd ["a", "b c"]"#).unwrap(), Change::Cmd(vec!["a".into(), "b c".into()]));
        assert_eq!(
            Change::parse(r#"ENV A=1 B="two words""#).unwrap(),
            Change::Env(vec![("A".into(), "1".into()), ("B".into(), "two words".into())])
        );
        assert_eq!(Change::parse("ENV A one two").unwrap(), Change::Env(vec![("A".into(), "one two".into())]));
        assert_eq!(Change::parse("EXPOSE 80 53/UDP").unwrap(), Change::Expose(vec!["80/tcp".into(), "53/udp".into()]));
        assert!(Change::parse("RUN true").unwrap_err().to_string().contains("invalid instruction RUN"));
        assert!(Change::parse("LABEL x").is_err());
        assert!(Change::parse("USER").is_err());
    }

    #[test]
    fn a_relative_workdir_follows_the_current_one() {
        let mut cfg = Map::new();
        cfg.insert("WorkingDir".into(), json!("/app"));
        Change::parse("WORKDIR sub").unwrap().apply(&mut cfg);
        assert_eq!(cfg["WorkingDir"], json!("/app/sub"));
    }
}
