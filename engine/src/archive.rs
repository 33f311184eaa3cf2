//! `save` and `load`: images to and from files (docker-archive, oci-archive, OCI and docker-dir
//! layouts), and the archive transports of `pull`/`create`/`run` (`docker-archive:PATH`, …).
//!
//! Save writes a layout through `layout`'s writers (the ones `push` writes `dir:` and `oci:`
//! with): docker-archive layers as the uncompressed tars their diff ids name (the stored blob
//! decompressed, checked against the diff id as it goes), OCI and docker-dir layers as the
//! stored blobs (gzip-compressed first when stored plain, unless asked not to). A file or
//! directory is written under a temporary name beside the target and renamed when complete: a
//! failure leaves nothing.
//!
//! Load indexes the archive once (a compressed one, or one on a pipe, is first spooled into an
//! unnamed file of the store's ingest directory) and stores each image as a pull does: per
//! layer, under the blob's ingest lock, the bytes go into the ingest file and the unpacker at
//! once; the blob is moved under its digest once it matches, the layer directory under its
//! chain id once its diff id matches the config's. The locks are held, and the layer rows
//! written with the image row in one transaction, at the end; whatever fails, the layers and
//! blobs this load made are removed again.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::ImageConfiguration;

use crate::content::IngestLock;
use crate::content::{sha256_digest, Hashing};
use crate::image::{self, LayerRecord, NewImage};
use crate::layers::{chain_ids, unpack_stream_as_owner, LayerError};
use crate::layout::docker_archive::WrittenImage;
use crate::layout::{
    self, ArchivedImage, BlobSink, Compression, DirSink, DirWriter, DockerArchiveWriter, Format, IndexEntry, Kind,
    LayoutError, OciWriter, Sink, Source, TarSink, Transport, TransportRef, WrittenLayer,
};
use crate::media_type::{
    DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_LAYER_ZSTD, DOCKER_MANIFEST, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
    OCI_MANIFEST,
};
use crate::reference::Reference;
use crate::{Engine, Error, ImageRecord, Result};

#[derive(Clone, Debug)]
pub struct SaveOptions {
    pub format: Format,
    /// docker-dir: gzip the layers stored uncompressed (`--compress`).
    pub compress: bool,
    /// OCI layouts: write the layers uncompressed (`--uncompressed`).
    pub uncompressed: bool,
}

/// One step of a save or a load, as containers/image reports its copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveStep {
    Blob(String),
    Config(String),
    Manifest,
}

pub type LoadStep = SaveStep;

/// Where a save goes.
pub enum SaveTarget<'a> {
    Path(&'a Path),
    /// A stream (stdout, an API response): archives only.
    Writer(&'a mut dyn Write),
}

/// Where a load comes from.
pub enum LoadInput<'a> {
    Path(&'a Path),
    Reader(&'a mut dyn Read),
}

/// An image a load stored, and the names it was given (none: loaded by id).
#[derive(Clone, Debug)]
pub struct Loaded {
    pub image: ImageRecord,
    pub names: Vec<String>,
}

/// An image picked for a save, with the names it goes under.
struct Picked {
    image: ImageRecord,
    names: Vec<String>,
}

impl Engine {
    /// `berth save`: writes `names` as one layout.
    pub fn save(
        &self,
        names: &[String],
        target: SaveTarget<'_>,
        opts: &SaveOptions,
        progress: &mut dyn FnMut(SaveStep),
    ) -> Result<()> {
        if names.is_empty() {
            return Err(Error::Invalid("no image specified for saving images".into()));
        }
        let mut picked: Vec<Picked> = Vec::new();
        for n in names {
            let (image, found_as) = self.image_found(n)?;
            // an image named by id is saved without a name, as Podman does
            let name = found_as.filter(|_| !image.id.starts_with(n.trim_start_matches("sha256:")));
            // docker-archive: one entry per image, with every name asked for
            match picked.iter_mut().find(|p| p.image.id == image.id && opts.format == Format::DockerArchive) {
                Some(p) => p.names.extend(name.filter(|n| !p.names.contains(n))),
                None => picked.push(Picked { image, names: name.into_iter().collect() }),
            }
        }
        if opts.format == Format::DockerDir && picked.len() > 1 {
            return Err(Error::Invalid(
                "unsupported format \"docker-dir\" for saving multiple images (only docker-archive and the OCI formats)".into(),
            ));
        }
        let label = match &target {
            SaveTarget::Path(p) => p.display().to_string(),
            SaveTarget::Writer(_) => "/dev/stdout".to_string(),
        };
        match target {
            SaveTarget::Writer(w) => {
                if opts.format.is_dir() {
                    return Err(Error::Invalid(format!(
                        "{} is a directory layout: name the directory with -o",
                        opts.format.name()
                    )));
                }
                let mut sink = TarSink::new(w);
                self.write_layout(&mut sink, &picked, opts, progress)?;
                sink.finish().and_then(|w| w.flush()).map_err(|e| io_err("writing the archive", e))?;
            }
            SaveTarget::Path(path) => self.save_to_path(path, &picked, opts, progress)?,
        }
        for p in &picked {
            self.events().state("image", "save", &p.image.id, Some(&label));
        }
        Ok(())
    }

    fn save_to_path(
        &self,
        path: &Path,
        picked: &[Picked],
        opts: &SaveOptions,
        progress: &mut dyn FnMut(SaveStep),
    ) -> Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file name to save to", path.display())))?
            .to_string_lossy()
            .into_owned();
        if !dir.is_dir() {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: io::Error::new(io::ErrorKind::NotFound, "its directory does not exist"),
            });
        }
        if opts.format.is_dir() {
            if path.is_dir() && std::fs::read_dir(path).map(|mut d| d.next().is_some()).unwrap_or(true) {
                return Err(Error::Invalid(format!(
                    "{}: the directory exists and is not empty: name a new one to save {} into",
                    path.display(),
                    opts.format.name()
                )));
            }
            let mut sink = DirSink::beside(path)?;
            self.write_layout(&mut sink, picked, opts, progress)?;
            return Ok(sink.place()?);
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}.tmp-"))
            .tempfile_in(&dir)
            .map_err(|e| Error::Io { path: dir.clone(), source: e })?;
        let file = tmp.as_file().try_clone().map_err(|e| Error::Io { path: tmp.path().to_path_buf(), source: e })?;
        let mut sink = TarSink::new(io::BufWriter::with_capacity(1 << 20, file));
        self.write_layout(&mut sink, picked, opts, progress)?;
        let written = sink.finish().and_then(|w| w.into_inner().map_err(|e| e.into_error())).and_then(|f| f.sync_all());
        written.map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        // 0644, as a file the user writes
        let _ = std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o644));
        tmp.persist(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e.error })?;
        Ok(())
    }

    fn write_layout(
        &self,
        sink: &mut dyn Sink,
        picked: &[Picked],
        opts: &SaveOptions,
        progress: &mut dyn FnMut(SaveStep),
    ) -> Result<()> {
        let mut writer = match opts.format {
            Format::DockerArchive => Writer::DockerArchive(DockerArchiveWriter::new(sink)),
            Format::OciArchive | Format::OciDir => Writer::Oci(OciWriter::new(sink)),
            Format::DockerDir => Writer::Dir(DirWriter::new(sink)),
        };
        let mut images = Vec::new();
        // per image: the manifest's bytes and digest (OCI and docker-dir)
        let mut manifests: Vec<(Vec<u8>, String)> = Vec::new();
        for p in picked {
            let img = &p.image;
            let config = self.config_bytes(img)?;
            let config_digest = img.digest();
            let mut layers = Vec::new();
            for l in &img.layers {
                let written = self.save_layer(writer.blobs(), l, opts, &img.id)?;
                progress(SaveStep::Blob(written.digest.clone()));
                layers.push(written);
            }
            progress(SaveStep::Config(config_digest.clone()));
            if opts.format != Format::DockerArchive {
                let media = if opts.format == Format::DockerDir { DOCKER_MANIFEST } else { OCI_MANIFEST };
                // the stored manifest when it says exactly this, so the digest stays the image's
                let same = img.manifest_media_type == media
                    && serde_json::from_slice::<serde_json::Value>(&img.manifest).ok().is_some_and(|m| {
                        m.pointer("/config/digest").and_then(|d| d.as_str()) == Some(config_digest.as_str())
                            && m.get("layers").and_then(|l| l.as_array()).is_some_and(|ls| {
                                ls.len() == layers.len()
                                    && ls.iter().zip(&layers).all(|(a, b)| {
                                        a.get("digest").and_then(|d| d.as_str()) == Some(b.digest.as_str())
                                    })
                            })
                    });
                let bytes = if same {
                    img.manifest.clone()
                } else {
                    layout::manifest_json(media, &config_digest, config.len(), &layers)
                };
                writer
                    .blobs()
                    .put_blob(&config_digest, config.len() as u64, &mut &config[..])
                    .map_err(|e| layout_err("writing the config", e))?;
                let digest = sha256_digest(&bytes);
                if let Writer::Oci(w) = &mut writer {
                    w.put_blob(&digest, bytes.len() as u64, &mut &bytes[..])
                        .map_err(|e| layout_err("writing the manifest", e))?;
                }
                manifests.push((bytes, digest));
            }
            progress(SaveStep::Manifest);
            images.push(WrittenImage { names: p.names.clone(), config_digest, config, layers });
        }
        let finished = match writer {
            Writer::DockerArchive(w) => w.finish(&images),
            Writer::Oci(w) => {
                let entries: Vec<IndexEntry<'_>> = images
                    .iter()
                    .zip(&manifests)
                    .flat_map(|(img, (bytes, digest))| {
                        let names: Vec<Option<&str>> = match img.names.as_slice() {
                            [] => vec![None],
                            names => names.iter().map(|n| Some(n.as_str())).collect(),
                        };
                        names.into_iter().map(|name| IndexEntry {
                            media_type: OCI_MANIFEST,
                            digest,
                            size: bytes.len() as u64,
                            name,
                        })
                    })
                    .collect();
                w.finish(&entries)
            }
            Writer::Dir(w) => w.finish(&manifests[0].0),
        };
        finished.map_err(|e| layout_err("writing the archive", e))
    }

    /// The config blob's bytes, which the image id is the digest of.
    fn config_bytes(&self, img: &ImageRecord) -> Result<Vec<u8>> {
        if sha256_digest(img.config_json.as_bytes()) == img.digest() {
            return Ok(img.config_json.clone().into_bytes());
        }
        Ok(self.content().read(&img.digest())?)
    }

    /// Writes one layer in the form the format wants; a layer already written is not again.
    fn save_layer(
        &self,
        blobs: &mut dyn BlobSink,
        l: &LayerRecord,
        opts: &SaveOptions,
        image_id: &str,
    ) -> Result<WrittenLayer> {
        let corrupt = |what: String| {
            Error::Invalid(format!(
                "image {}: layer {}: {what}: run `berth system check --repair`, then pull the image again",
                &image_id[..12.min(image_id.len())],
                l.blob_digest
            ))
        };
        let mut blob = io::BufReader::with_capacity(1 << 17, self.content().open_blob(&l.blob_digest)?);
        let magic = io::BufRead::fill_buf(&mut blob).map_err(|e| io_err("reading a layer", e))?.to_vec();
        let stored = Compression::of(&magic);
        let plain = opts.format == Format::DockerArchive
            || (opts.uncompressed && matches!(opts.format, Format::OciArchive | Format::OciDir));
        if plain {
            // the uncompressed tar (its digest is the diff id), checked against it as it goes
            let layer = WrittenLayer {
                diff_id: l.diff_id.clone(),
                digest: l.diff_id.clone(),
                size: l.size,
                media_type: OCI_LAYER.to_string(),
            };
            if blobs.has_blob(&l.diff_id)? {
                return Ok(layer);
            }
            let decoded = stored.decoder(blob).map_err(|e| io_err("reading a layer", e))?;
            let mut hashing = Hashing::new(decoded);
            blobs
                .put_blob(&l.diff_id, l.size, &mut hashing)
                .map_err(|e| corrupt(format!("its content does not fit: {e}")))?;
            let (_, digest, len) = hashing.finish();
            if digest != l.diff_id || len != l.size {
                return Err(corrupt(format!("its content is {digest} ({len} bytes), not its diff id")));
            }
            return Ok(layer);
        }
        let docker = opts.format == Format::DockerDir;
        let gzip_it = stored == Compression::None && (!docker || opts.compress);
        if gzip_it {
            // compressed into a temporary file first: the digest goes before the bytes
            let (tmp, file) = self.content().temp_file().map_err(|e| io_err("a temporary file", e))?;
            let _gone = RemoveOnDrop(tmp.clone());
            let mut hashing_in = Hashing::new(blob);
            let out = Hashing::new(io::BufWriter::new(file));
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
            io::copy(&mut hashing_in, &mut gz).map_err(|e| io_err("compressing a layer", e))?;
            let out = gz.finish().map_err(|e| io_err("compressing a layer", e))?;
            let (mut out, digest, size) = out.finish();
            out.flush().map_err(|e| io_err("compressing a layer", e))?;
            let (_, diff, _) = hashing_in.finish();
            if diff != l.diff_id {
                return Err(corrupt(format!("its content is {diff}, not its diff id")));
            }
            let media = if docker { DOCKER_LAYER_GZIP } else { OCI_LAYER_GZIP };
            let layer =
                WrittenLayer { diff_id: l.diff_id.clone(), digest: digest.clone(), size, media_type: media.into() };
            if !blobs.has_blob(&digest)? {
                let mut f = File::open(&tmp).map_err(|e| io_err("reading a compressed layer", e))?;
                blobs.put_blob(&digest, size, &mut f).map_err(|e| layout_err("writing a layer", e))?;
            }
            return Ok(layer);
        }
        let media = if docker { stored.docker_layer() } else { stored.oci_layer() };
        let layer = WrittenLayer {
            diff_id: l.diff_id.clone(),
            digest: l.blob_digest.clone(),
            size: l.blob_size,
            media_type: media.into(),
        };
        if !blobs.has_blob(&l.blob_digest)? {
            let mut hashing = Hashing::new(blob);
            blobs
                .put_blob(&l.blob_digest, l.blob_size, &mut hashing)
                .map_err(|e| corrupt(format!("the blob does not fit: {e}")))?;
            let (_, digest, _) = hashing.finish();
            if digest != l.blob_digest {
                return Err(corrupt(format!("the blob's content is {digest}")));
            }
        }
        Ok(layer)
    }

    /// `berth load`: stores every image of an archive or layout; one `loadfromarchive` event.
    pub fn load(&self, input: LoadInput<'_>, progress: &mut dyn FnMut(LoadStep)) -> Result<Vec<Loaded>> {
        let label = match &input {
            LoadInput::Path(p) => p.display().to_string(),
            LoadInput::Reader(_) => "/dev/stdin".to_string(),
        };
        let src = self.open_source(input).map_err(unsupported)?;
        let (_, images) = layout::read_images(&src).map_err(|e| unsupported(e.into()))?;
        let mut out = Vec::new();
        for img in &images {
            let names = img.names.iter().map(|n| normalise(n)).collect::<Result<Vec<_>>>()?;
            let image = self.store_archived(&src, img, &names, progress)?;
            out.push(Loaded { image, names });
        }
        self.events().state("image", "loadfromarchive", "", Some(&label));
        Ok(out)
    }

    /// `pull`, `create`, `run` of `docker-archive:PATH[:REF]`, `oci-archive:…`, `oci:DIR[:REF]`,
    /// `dir:DIR`: the one image it names, stored; a `pull` event names `given`.
    pub fn pull_transport(&self, given: &str, progress: &mut dyn FnMut(LoadStep)) -> Result<Loaded> {
        let t = TransportRef::parse(given)
            .ok_or_else(|| Error::Invalid(format!("{given}: not an archive transport")))??;
        let src = match self.open_source(LoadInput::Path(&t.path)) {
            Err(Error::Io { path, source }) if source.kind() == io::ErrorKind::NotFound => {
                return Err(Error::Invalid(format!("opening {}: no such file or directory", path.display())))
            }
            other => other?,
        };
        let (kind, images) = layout::read_images(&src)?;
        let expected = match t.transport {
            Transport::DockerArchive => kind == Kind::DockerArchive,
            Transport::OciArchive | Transport::Oci => kind == Kind::Oci,
            Transport::Dir => kind == Kind::DockerDir,
        };
        if !expected {
            return Err(Error::Invalid(format!("{given}: {} holds another kind of layout", t.path.display())));
        }
        let (img, names) = pick(&t, &images, given)?;
        let image = self.store_archived(&src, img, &names, progress)?;
        self.events().state("image", "pull", "", Some(given));
        Ok(Loaded { image, names })
    }

    /// The layout at `input`: a directory, a plain tar read in place, or a compressed tar or a
    /// stream spooled into an unnamed file first.
    fn open_source(&self, input: LoadInput<'_>) -> Result<Source> {
        let spool_dir = self.config().root.join("ingest");
        let spool = |r: &mut dyn Read, label: &Path| -> Result<Source> {
            let mut tmp =
                tempfile::tempfile_in(&spool_dir).map_err(|e| Error::Io { path: spool_dir.clone(), source: e })?;
            layout::spool(r, &mut tmp).map_err(|e| Error::Io { path: label.to_path_buf(), source: e })?;
            Ok(Source::tar(label, tmp)?)
        };
        match input {
            LoadInput::Path(p) if p.is_dir() => Ok(Source::Dir(p.to_path_buf())),
            LoadInput::Path(p) => {
                let mut f = File::open(p).map_err(|e| Error::Io { path: p.to_path_buf(), source: e })?;
                let mut magic = [0u8; 4];
                let n = f.read(&mut magic).map_err(|e| Error::Io { path: p.to_path_buf(), source: e })?;
                if Compression::of(&magic[..n]) == Compression::None {
                    return Ok(Source::tar(p, f)?);
                }
                let mut f = File::open(p).map_err(|e| Error::Io { path: p.to_path_buf(), source: e })?;
                spool(&mut f, p)
            }
            LoadInput::Reader(r) => spool(r, Path::new("/dev/stdin")),
        }
    }

    /// Stores one image of a layout (see the module's doc): the image row is written last.
    pub(crate) fn store_archived(
        &self,
        src: &Source,
        img: &ArchivedImage,
        names: &[String],
        progress: &mut dyn FnMut(LoadStep),
    ) -> Result<ImageRecord> {
        let at = src.path().display().to_string();
        let bad = |what: String| Error::Invalid(format!("{at}: {what}"));
        let config: ImageConfiguration = serde_json::from_slice(&img.config)
            .map_err(|e| bad(format!("the config {} does not parse: {e}", img.config_digest)))?;
        let diff_ids: Vec<String> = config.rootfs().diff_ids().clone();
        if diff_ids.len() != img.layers.len() {
            return Err(bad(format!(
                "image {} has {} layers but its config lists {} diff ids",
                img.config_digest,
                img.layers.len(),
                diff_ids.len()
            )));
        }
        let chains = chain_ids(&diff_ids);
        let docker = img.manifest.as_ref().is_none_or(|(_, media, _)| media == DOCKER_MANIFEST);
        let mut made = Made { engine: self, layers: Vec::new(), blobs: Vec::new() };
        let mut held: std::collections::HashMap<String, IngestLock> = Default::default();
        let mut new_layers: Vec<LayerRecord> = Vec::new();
        let mut descriptors: Vec<WrittenLayer> = Vec::new();
        for (i, l) in img.layers.iter().enumerate() {
            let chain = &chains[i];
            let parent = if i == 0 { None } else { Some(chains[i - 1].clone()) };
            if let Some(existing) = image::layer(self.state().conn(), chain)?.filter(|_| self.layers().exists(chain)) {
                progress(LoadStep::Blob(l.digest.clone().unwrap_or_else(|| existing.blob_digest.clone())));
                descriptors.push(WrittenLayer {
                    diff_id: existing.diff_id.clone(),
                    digest: existing.blob_digest.clone(),
                    size: existing.blob_size,
                    media_type: existing.media_type.clone(),
                });
                continue;
            }
            let digest = match &l.digest {
                Some(d) => d.clone(),
                None => {
                    let (r, _) = src.open(&l.file)?;
                    let mut h = Hashing::new(r);
                    io::copy(&mut h, &mut io::sink()).map_err(|e| bad(format!("reading {}: {e}", l.file)))?;
                    h.finish().1
                }
            };
            progress(LoadStep::Blob(digest.clone()));
            // a blob at two places of the stack is locked (and written) once
            let ingest = if held.contains_key(&digest) {
                None
            } else {
                let ingest = self.content().ingest_locked(&digest)?;
                held.insert(digest.clone(), ingest.lock());
                Some(ingest)
            };
            let record = self.store_layer(src, l, &digest, &diff_ids[i], chain, parent, docker, ingest, &mut made)?;
            descriptors.push(WrittenLayer {
                diff_id: record.diff_id.clone(),
                digest: record.blob_digest.clone(),
                size: record.blob_size,
                media_type: record.media_type.clone(),
            });
            if !new_layers.iter().any(|n| n.chain_id == record.chain_id) {
                new_layers.push(record);
            }
        }
        if !self.content().has(&img.config_digest) {
            self.content().put(&img.config_digest, &img.config)?;
            made.blobs.push(img.config_digest.clone());
        }
        progress(LoadStep::Config(img.config_digest.clone()));
        // the layout's manifest, unless a layer already here is stored as another blob: then
        // one that names the blobs this store has
        let stored_as_listed = img.layers.iter().zip(&descriptors).all(|(l, d)| l.digest.as_ref() == Some(&d.digest));
        let (manifest, media, manifest_digest) = match &img.manifest {
            Some((b, m, d)) if stored_as_listed => (b.clone(), m.clone(), d.clone()),
            _ => {
                let media = if docker { DOCKER_MANIFEST } else { OCI_MANIFEST };
                let layers: Vec<WrittenLayer> = descriptors
                    .iter()
                    .map(|d| WrittenLayer {
                        media_type: if docker { docker_media(&d.media_type) } else { oci_media(&d.media_type) },
                        ..d.clone()
                    })
                    .collect();
                let b = layout::manifest_json(media, &img.config_digest, img.config.len(), &layers);
                let d = sha256_digest(&b);
                (b, media.to_string(), d)
            }
        };
        if !self.content().has(&manifest_digest) {
            self.content().put(&manifest_digest, &manifest)?;
            made.blobs.push(manifest_digest.clone());
        }
        progress(LoadStep::Manifest);
        let image_id = crate::content::digest_hex(&img.config_digest)?.to_string();
        let config_text = std::str::from_utf8(&img.config).map_err(|_| bad("the config is not UTF-8".into()))?;
        let inserted = self.state().write(|tx| -> Result<bool> {
            for l in &new_layers {
                image::insert_layer(tx, l)?;
            }
            let ok = image::insert_image(
                tx,
                &NewImage {
                    id: &image_id,
                    config_json: config_text,
                    manifest_digest: &manifest_digest,
                    manifest_media_type: &media,
                    manifest: &manifest,
                    created: config.created().as_deref(),
                    os: &config.os().to_string(),
                    architecture: &config.architecture().to_string(),
                    variant: config.variant().as_deref(),
                    chain_ids: &chains,
                    name: names.first().map(String::as_str),
                    repo_digests: &[],
                },
            )?;
            if ok {
                for n in names.iter().skip(1) {
                    image::set_name(tx, n, &image_id)?;
                }
            }
            Ok(ok)
        })?;
        if !inserted {
            return Err(bad("a layer of the image was removed while it loaded: load it again".into()));
        }
        made.layers.clear();
        made.blobs.clear();
        drop(held);
        image::get(self.state().conn(), &image_id)?
            .ok_or_else(|| bad(format!("image {image_id} vanished after the load")))
    }

    /// Stores one layer from the layout: blob and unpacked directory, both verified.
    #[allow(clippy::too_many_arguments)]
    fn store_layer(
        &self,
        src: &Source,
        l: &layout::ArchivedLayer,
        digest: &str,
        diff_id: &str,
        chain: &str,
        parent: Option<String>,
        docker: bool,
        ingest: Option<crate::content::Ingest>,
        made: &mut Made<'_>,
    ) -> Result<LayerRecord> {
        let at = src.path().display().to_string();
        let staged = self.layers().stage(chain)?;
        let (unpacked, media, size) = if let Some(mut ingest) = ingest.filter(|i| !i.is_committed()) {
            ingest.restart()?;
            let (r, _) = src.open(&l.file)?;
            let mut tee = Tee { inner: r, ingest: &mut ingest, magic: Vec::new(), failed: None };
            let unpacked = unpack_stream_as_owner(&mut tee, &staged.join("diff"));
            // the whole file goes into the blob, whatever the unpacker left after the tar's end
            let drained = unpacked.is_ok() && io::copy(&mut tee, &mut io::sink()).is_ok();
            let failed = tee.failed.take();
            let compression = Compression::of(&tee.magic);
            let unpacked = match (unpacked, failed) {
                (Ok(u), None) if drained => u,
                (Err(source), _) => {
                    self.layers().discard(&staged);
                    ingest.discard();
                    return Err(LayerError::Unpack { image: at, layer: digest.into(), source }.into());
                }
                (_, e) => {
                    self.layers().discard(&staged);
                    ingest.discard();
                    return Err(Error::Invalid(format!(
                        "{at}: layer {digest}: {}",
                        e.map_or_else(|| "could not be read to its end".to_string(), |e| e.to_string())
                    )));
                }
            };
            let size = ingest.offset();
            if let Err(e) = ingest.verify() {
                self.layers().discard(&staged);
                ingest.discard();
                return Err(Error::Invalid(format!("{at}: layer {}: {e}", l.file)));
            }
            ingest.commit()?;
            made.blobs.push(digest.to_string());
            let media = if docker { compression.docker_layer() } else { compression.oci_layer() };
            (unpacked, media, size)
        } else {
            let blob = self.content().open_blob(digest)?;
            let size = blob.metadata().map(|m| m.len()).unwrap_or(0);
            let mut magic = [0u8; 4];
            let n = self.content().open_blob(digest)?.read(&mut magic).unwrap_or(0);
            let compression = Compression::of(&magic[..n]);
            let unpacked = match unpack_stream_as_owner(blob, &staged.join("diff")) {
                Ok(u) => u,
                Err(source) => {
                    self.layers().discard(&staged);
                    return Err(LayerError::Unpack { image: at, layer: digest.into(), source }.into());
                }
            };
            let media = if docker { compression.docker_layer() } else { compression.oci_layer() };
            (unpacked, media, size)
        };
        if unpacked.diff_id != diff_id {
            self.layers().discard(&staged);
            return Err(LayerError::Corrupt {
                image: at,
                layer: digest.into(),
                message: format!(
                    "uncompressed content has digest {} but the image config says {diff_id}",
                    unpacked.diff_id
                ),
            }
            .into());
        }
        self.layers().commit(&staged, chain)?;
        made.layers.push(chain.to_string());
        let record = LayerRecord {
            chain_id: chain.into(),
            diff_id: diff_id.into(),
            parent,
            blob_digest: digest.into(),
            blob_size: size,
            media_type: media.into(),
            size: unpacked.size,
        };
        Ok(record)
    }
}

/// A name from an archive, normalised as a pull's (`busybox:latest` is Docker Hub's).
fn normalise(n: &str) -> Result<String> {
    let r = Reference::parse(n)?;
    r.tagged_name().ok_or_else(|| Error::Invalid(format!("{n}: an image name in an archive needs a tag")))
}

/// The image a transport reference names, and the names it is stored under.
fn pick<'a>(t: &TransportRef, images: &'a [ArchivedImage], given: &str) -> Result<(&'a ArchivedImage, Vec<String>)> {
    let several = || {
        Error::Invalid(format!(
            "{given}: the archive holds {} images: name one, as {given}:NAME (or, for docker-archive, :@INDEX)",
            images.len()
        ))
    };
    match (&t.reference, t.transport) {
        (Some(r), Transport::DockerArchive) if r.starts_with('@') => {
            let i: usize = r[1..].parse().map_err(|_| Error::Invalid(format!("{given}: bad index {r}")))?;
            let img = images.get(i).ok_or_else(|| {
                Error::Invalid(format!("{given}: no image at index {i} ({} in the archive)", images.len()))
            })?;
            Ok((img, img.names.iter().map(|n| normalise(n)).collect::<Result<_>>()?))
        }
        (Some(r), Transport::DockerArchive) => {
            let want = normalise(r)?;
            let img = images
                .iter()
                .find(|img| img.names.iter().any(|n| normalise(n).ok().as_deref() == Some(&want)))
                .ok_or_else(|| Error::Invalid(format!("Tag \"{want}\" not found")))?;
            Ok((img, vec![want]))
        }
        (Some(r), _) => {
            let img = images
                .iter()
                .find(|img| img.names.iter().any(|n| n == r || normalise(n).ok() == normalise(r).ok()))
                .ok_or_else(|| Error::Invalid(format!("loading index: no descriptor found for reference \"{r}\"")))?;
            Ok((img, vec![Reference::parse_local(r)?.tagged_name().unwrap_or_else(|| r.clone())]))
        }
        (None, _) if images.len() > 1 => Err(several()),
        (None, transport) => {
            let img = &images[0];
            let names = match transport {
                // an OCI directory without a name is named after the directory, as Podman does
                Transport::Oci => {
                    let base = t.path.file_name().map(|b| b.to_string_lossy().to_lowercase()).unwrap_or_default();
                    Reference::parse_local(&base).ok().and_then(|r| r.tagged_name()).into_iter().collect()
                }
                _ => img.names.iter().map(|n| normalise(n)).collect::<Result<_>>()?,
            };
            Ok((img, names))
        }
    }
}

/// A layer's media type in a Docker schema 2 manifest (a layer pulled as OCI's is the same tar).
fn docker_media(media: &str) -> String {
    match media {
        OCI_LAYER => DOCKER_LAYER,
        OCI_LAYER_GZIP => DOCKER_LAYER_GZIP,
        OCI_LAYER_ZSTD => DOCKER_LAYER_ZSTD,
        other => other,
    }
    .to_string()
}

/// A layer's media type in an OCI manifest.
fn oci_media(media: &str) -> String {
    match media {
        DOCKER_LAYER => OCI_LAYER,
        DOCKER_LAYER_GZIP => OCI_LAYER_GZIP,
        DOCKER_LAYER_ZSTD => OCI_LAYER_ZSTD,
        other => other,
    }
    .to_string()
}

/// Podman's words for input that is no image layout at all.
fn unsupported(e: Error) -> Error {
    match e {
        Error::Io { ref source, .. } if source.kind() == io::ErrorKind::NotFound => e,
        e => Error::Invalid(format!("payload does not match any of the supported image formats: {e}")),
    }
}

fn io_err(what: &str, e: io::Error) -> Error {
    Error::Invalid(format!("{what}: {e}"))
}

fn layout_err(what: &str, e: LayoutError) -> Error {
    Error::Invalid(format!("{what}: {e}"))
}

/// The writer of the format a save asked for.
enum Writer<'a> {
    DockerArchive(DockerArchiveWriter<'a>),
    Oci(OciWriter<'a>),
    Dir(DirWriter<'a>),
}

impl Writer<'_> {
    fn blobs(&mut self) -> &mut dyn BlobSink {
        match self {
            Writer::DockerArchive(w) => w,
            Writer::Oci(w) => w,
            Writer::Dir(w) => w,
        }
    }
}

/// What a load made so far, removed again unless it succeeded.
struct Made<'a> {
    engine: &'a Engine,
    layers: Vec<String>,
    blobs: Vec<String>,
}

impl Drop for Made<'_> {
    fn drop(&mut self) {
        for chain in &self.layers {
            let _ = self.engine.layers().remove(chain);
        }
        for d in &self.blobs {
            let _ = self.engine.content().delete(d);
        }
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads the layout's file into the unpacker while writing every byte into the blob's ingest.
struct Tee<'a, R> {
    inner: R,
    ingest: &'a mut crate::content::Ingest,
    magic: Vec<u8>,
    failed: Option<crate::content::ContentError>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.magic.len() < 4 {
            let take = (4 - self.magic.len()).min(n);
            self.magic.extend_from_slice(&buf[..take]);
        }
        if let Err(e) = self.ingest.write(&buf[..n]) {
            let msg = e.to_string();
            self.failed = Some(e);
            return Err(io::Error::other(msg));
        }
        Ok(n)
    }
}
