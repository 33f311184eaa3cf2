//! `pull`: resolve a reference, fetch the config, then fetch every layer in parallel while
//! unpacking it as the bytes arrive.
//!
//! Per layer: take the blob's ingest lock (another process pulling the same blob makes us
//! wait, then we find it done); replay a partial download left by an interrupted pull and ask
//! the registry for the rest; tee each chunk into the ingest file and into an unpacker thread
//! (decompress, hash the diff id, unpack into a staging dir). Only when the compressed digest
//! and the diff id both match is the blob renamed under its digest, the staging dir renamed
//! under the chain id, and the layer recorded. The image row is written last, in one
//! transaction, so an image is either fully present or absent.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use oci_spec::image::{Descriptor, ImageConfiguration};
use tokio::sync::mpsc;

use crate::content::{ContentError, Ingest, IngestLock};
use crate::events::{LayerPhase, PullProgress};
use crate::image::{self, LayerRecord, NewImage};
use crate::layers::unpack_stream_as_owner as unpack_stream;
use crate::layers::{chain_ids, LayerError, Unpacked};
use crate::reference::Reference;
use crate::registry::{Platform, Registry, RegistryError};
use crate::{Engine, Error, ImageRecord, Result};

#[derive(Clone, Debug, Default)]
pub struct PullOptions {
    /// Overrides the host platform when the reference names an index.
    pub platform: Option<Platform>,
    /// Where this call's progress goes (it is also broadcast on the engine's event bus).
    pub progress: Option<mpsc::UnboundedSender<PullProgress>>,
    /// Stops the pull when cancelled (from another task or thread).
    pub cancel: Option<PullCancel>,
}

/// Cancels a pull: it stops at once (its downloads and their unpackers are dropped), then
/// removes what its layers' downloads wrote and their staging directories, so nothing of it is
/// left (an interrupted pull's partial blobs would be resumed; a cancelled one's are not).
#[derive(Clone, Debug, Default)]
pub struct PullCancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    cancelled: AtomicBool,
    notify: tokio::sync::Notify,
    /// The layers (blob digest, chain id) whose download this pull began.
    begun: Mutex<Vec<(String, String)>>,
}

impl PullCancel {
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    async fn cancelled(&self) {
        let notified = self.0.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.is_cancelled() {
            notified.await;
        }
    }

    fn begin(&self, digest: &str, chain_id: &str) {
        self.0.begun.lock().unwrap_or_else(|e| e.into_inner()).push((digest.into(), chain_id.into()));
    }
}

struct Progress<'a> {
    engine: &'a Engine,
    reference: String,
    sink: Option<mpsc::UnboundedSender<PullProgress>>,
    cancel: Option<PullCancel>,
}

impl Progress<'_> {
    fn send(&self, p: PullProgress) {
        if let Some(s) = &self.sink {
            let _ = s.send(p.clone());
        }
        self.engine.events().progress(p);
    }

    fn layer(&self, digest: &str, phase: LayerPhase, current: u64, total: u64) {
        self.send(PullProgress::Layer {
            reference: self.reference.clone(),
            digest: digest.into(),
            phase,
            current,
            total,
        });
    }
}

impl Engine {
    /// Pulls `reference` and returns the stored image. A short name is looked for as
    /// `registries.conf` says (its alias, else each of the search registries in turn), and
    /// otherwise on Docker Hub.
    pub async fn pull(&self, reference: &str, opts: PullOptions) -> Result<ImageRecord> {
        let Some(cancel) = opts.cancel.clone() else {
            return self.pull_candidates(reference, &opts).await;
        };
        if cancel.is_cancelled() {
            return Err(Error::Invalid("the pull was cancelled".into()));
        }
        tokio::select! {
            pulled = self.pull_candidates(reference, &opts) => pulled,
            _ = cancel.cancelled() => {
                // The pull's futures are gone; an unpacker thread still holds its blob's ingest
                // lock until its stream's end reaches it, which `discard_partial` waits for.
                let begun = std::mem::take(&mut *cancel.0.begun.lock().unwrap_or_else(|e| e.into_inner()));
                let engine = self.clone();
                tokio::task::spawn_blocking(move || {
                    for (digest, chain_id) in begun {
                        if let Err(e) = engine.content().discard_partial(&digest) {
                            log::warn!("removing the cancelled download of {digest}: {e}");
                        }
                        if !engine.layer_present(&chain_id).unwrap_or(false) {
                            engine.layers().discard(&engine.layers().staging(&chain_id));
                        }
                    }
                })
                .await
                .map_err(|e| Error::Invalid(format!("cleanup task: {e}")))?;
                Err(Error::Invalid("the pull was cancelled".into()))
            }
        }
    }

    async fn pull_candidates(&self, reference: &str, opts: &PullOptions) -> Result<ImageRecord> {
        let candidates = self.config().registries.short_name_candidates(reference);
        if candidates.is_empty() {
            return self.pull_name(reference, opts).await;
        }
        let mut failures = Vec::new();
        for name in &candidates {
            log::debug!("Trying short name {reference:?} as {name:?}");
            match self.pull_name(name, opts).await {
                Ok(image) => return Ok(image),
                Err(e) if candidates.len() == 1 => return Err(e),
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        Err(Error::Invalid(format!(
            "short name {reference:?} was not found on any of the search registries (unqualified-search-registries in registries.conf): {}",
            failures.join("; ")
        )))
    }

    /// Pulls a full name, from the first of its mirrors (then its registry) that has it.
    async fn pull_name(&self, reference: &str, opts: &PullOptions) -> Result<ImageRecord> {
        let reference = Reference::parse(reference)?;
        let platform = opts.platform.clone().unwrap_or_else(Platform::host);
        let progress = Progress {
            engine: self,
            reference: reference.to_string(),
            sink: opts.progress.clone(),
            cancel: opts.cancel.clone(),
        };
        let config = self.config();
        let endpoints = config.registries.endpoints(&reference.to_string()).ok_or_else(|| RegistryError::Blocked {
            host: reference.registry().to_string(),
            config: config.registries.suggested_path().display().to_string(),
        })?;
        let mut found = None;
        for (i, at) in endpoints.iter().enumerate() {
            let last = i + 1 == endpoints.len();
            let endpoint = Reference::parse(&at.name)?;
            let registry = Registry::connect_endpoint(&endpoint, at.insecure, &config.registries, &config.auth)?;
            match registry.resolve(&platform).await {
                Ok(resolved) => {
                    found = Some((registry, resolved));
                    break;
                }
                Err(e) if last => return Err(e.into()),
                // a mirror that fails is passed over, as containers/image does
                Err(e) => log::debug!("Pulling {reference} from the mirror {}: {e}", at.name),
            }
        }
        let (registry, resolved) =
            found.ok_or_else(|| Error::Invalid(format!("{reference}: nowhere to pull it from")))?;
        let manifest = &resolved.manifest;

        let config_desc = manifest.config();
        let config_digest = config_desc.digest().to_string();
        let config_bytes = match self.content().read(&config_digest) {
            Ok(b) => b,
            Err(_) => {
                let b = registry.blob_bytes(config_desc).await?;
                self.content().put(&config_digest, &b)?;
                b
            }
        };
        let image_config: ImageConfiguration =
            serde_json::from_slice(&config_bytes).map_err(|e| RegistryError::Protocol {
                reference: reference.to_string(),
                message: format!("bad image config {config_digest}: {e}"),
            })?;
        let diff_ids: Vec<String> = image_config.rootfs().diff_ids().clone();
        if diff_ids.len() != manifest.layers().len() {
            return Err(RegistryError::Protocol {
                reference: reference.to_string(),
                message: format!(
                    "manifest has {} layers but its config lists {} diff ids",
                    manifest.layers().len(),
                    diff_ids.len()
                ),
            }
            .into());
        }
        let chains = chain_ids(&diff_ids);
        progress.send(PullProgress::Resolved {
            reference: reference.to_string(),
            manifest_digest: resolved.manifest_digest.clone(),
            layers: manifest.layers().iter().map(|l| (l.digest().to_string(), l.size())).collect(),
        });

        let image_id = crate::content::digest_hex(&config_digest)?.to_string();
        let name = reference.tagged_name();
        let mut repo_digests = vec![reference.with_digest_name(&resolved.manifest_digest)];
        if let Some((index_digest, _)) = &resolved.index {
            repo_digests.push(reference.with_digest_name(index_digest));
        }
        self.content().put(&resolved.manifest_digest, &resolved.manifest_bytes)?;

        // A concurrent `rmi` may remove a layer we found present; then fetch again, once.
        for attempt in 0..2 {
            let jobs = manifest.layers().iter().enumerate().map(|(i, desc)| {
                let parent = if i == 0 { None } else { Some(chains[i - 1].clone()) };
                self.fetch_layer(&registry, &progress, &reference, desc, &diff_ids[i], &chains[i], parent)
            });
            futures_util::future::try_join_all(jobs).await?;

            let inserted = self.state().write(|tx| {
                image::insert_image(
                    tx,
                    &NewImage {
                        id: &image_id,
                        config_json: std::str::from_utf8(&config_bytes).unwrap_or("{}"),
                        manifest_digest: &resolved.manifest_digest,
                        manifest_media_type: &resolved.manifest_media_type,
                        manifest: &resolved.manifest_bytes,
                        created: image_config.created().as_deref(),
                        os: &image_config.os().to_string(),
                        architecture: &image_config.architecture().to_string(),
                        variant: image_config.variant().as_deref(),
                        chain_ids: &chains,
                        name: name.as_deref(),
                        repo_digests: &repo_digests,
                    },
                )
            })?;
            if inserted {
                break;
            }
            if attempt == 1 {
                return Err(Error::Invalid(format!("{reference}: layers were removed while pulling; pull again")));
            }
        }
        self.events().state("image", "pull", &image_id, name.as_deref());
        progress.send(PullProgress::Done { reference: reference.to_string(), image_id: image_id.clone() });
        let conn_image = image::get(self.state().conn(), &image_id)?;
        conn_image.ok_or_else(|| Error::Invalid(format!("{reference}: image vanished after pull")))
    }

    #[allow(clippy::too_many_arguments)]
    async fn fetch_layer(
        &self,
        registry: &Registry,
        progress: &Progress<'_>,
        reference: &Reference,
        desc: &Descriptor,
        diff_id: &str,
        chain_id: &str,
        parent: Option<String>,
    ) -> Result<()> {
        let digest = desc.digest().to_string();
        let total = desc.size();
        if self.layer_present(chain_id)? {
            progress.layer(&digest, LayerPhase::AlreadyExists, total, total);
            return Ok(());
        }
        progress.layer(&digest, LayerPhase::Waiting, 0, total);
        if let Some(cancel) = &progress.cancel {
            cancel.begin(&digest, chain_id);
        }
        let content = self.content().clone();
        let d = digest.clone();
        let mut ingest = tokio::task::spawn_blocking(move || content.ingest_locked(&d))
            .await
            .map_err(|e| Error::Invalid(format!("ingest task: {e}")))??;
        // Held until the layer is recorded: another puller of this blob must not stage over ours.
        let _held = ingest.lock();
        // Whoever held the lock before us may have finished this very layer.
        if self.layer_present(chain_id)? {
            progress.layer(&digest, LayerPhase::AlreadyExists, total, total);
            return Ok(());
        }
        let image = reference.to_string();
        let staged = self.layers().stage(chain_id)?;
        let result = if ingest.is_committed() {
            progress.layer(&digest, LayerPhase::Extracting, total, total);
            let blob = self.content().open_blob(&digest)?;
            let diff = staged.join("diff");
            let lock = ingest.lock();
            drop(ingest);
            let layer = digest.clone();
            let image = image.clone();
            tokio::task::spawn_blocking(move || {
                let _lock = lock;
                unpack_stream(blob, &diff)
            })
            .await
            .map_err(|e| Error::Invalid(format!("unpack task: {e}")))?
            .map_err(|source| LayerError::Unpack { image, layer, source }.into())
        } else {
            self.download_and_unpack(registry, progress, &mut ingest, desc, staged.join("diff"))
                .await
                .and_then(|unpacked| Ok(ingest.commit().map(|_| unpacked)?))
        };
        let unpacked = match result {
            Ok(u) => u,
            Err(e) => {
                self.layers().discard(&staged);
                return Err(e);
            }
        };
        if unpacked.diff_id != diff_id {
            self.layers().discard(&staged);
            let _ = self.content().delete(&digest);
            return Err(LayerError::Corrupt {
                image,
                layer: digest,
                message: format!(
                    "uncompressed content has digest {} but the image config says {diff_id}",
                    unpacked.diff_id
                ),
            }
            .into());
        }
        self.layers().commit(&staged, chain_id)?;
        let record = LayerRecord {
            chain_id: chain_id.into(),
            diff_id: diff_id.into(),
            parent,
            blob_digest: digest.clone(),
            blob_size: total,
            media_type: desc.media_type().to_string(),
            size: unpacked.size,
        };
        self.state().write(|tx| image::insert_layer(tx, &record))?;
        progress.layer(&digest, LayerPhase::Done, total, total);
        Ok(())
    }

    fn layer_present(&self, chain_id: &str) -> Result<bool> {
        Ok(image::layer(self.state().conn(), chain_id)?.is_some() && self.layers().exists(chain_id))
    }

    /// Streams the layer from the registry into the ingest file and an unpacker thread at once.
    async fn download_and_unpack(
        &self,
        registry: &Registry,
        progress: &Progress<'_>,
        ingest: &mut Ingest,
        desc: &Descriptor,
        diff_dir: PathBuf,
    ) -> Result<Unpacked> {
        let digest = desc.digest().to_string();
        let total = desc.size();
        let mut blob = registry.blob_stream(desc, ingest.offset()).await?;
        if !blob.resumed {
            ingest.restart()?;
        }
        // The partial file keeps growing as new chunks arrive: replay only what was there.
        let replay = if ingest.offset() > 0 { Some(ingest.partial()?.take(ingest.offset())) } else { None };
        let (tx, rx) = mpsc::channel::<Bytes>(32);
        let lock: IngestLock = ingest.lock();
        let unpacker = tokio::task::spawn_blocking(move || {
            let _lock = lock;
            let live = ChannelReader { rx, chunk: Bytes::new() };
            match replay {
                Some(partial) => unpack_stream(partial.chain(live), &diff_dir),
                None => unpack_stream(live, &diff_dir),
            }
        });
        let mut last = Instant::now();
        progress.layer(&digest, LayerPhase::Downloading, ingest.offset(), total);
        let mut download_error = None;
        while let Some(chunk) = blob.stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                // oci-client checks the digest itself and fails the stream's end on a mismatch;
                // with every byte here, our own check below reports it with the reference.
                Err(_) if ingest.offset() == total => break,
                Err(e) => {
                    download_error =
                        Some(RegistryError::Unreachable { host: registry.host().into(), cause: e.to_string() });
                    break;
                }
            };
            ingest.write(&chunk)?;
            if tx.send(chunk).await.is_err() {
                break; // the unpacker stopped early: its error says why
            }
            if last.elapsed() >= Duration::from_millis(100) {
                last = Instant::now();
                progress.layer(&digest, LayerPhase::Downloading, ingest.offset(), total);
            }
        }
        drop(tx);
        progress.layer(&digest, LayerPhase::Extracting, ingest.offset(), total);
        let unpacked = unpacker.await.map_err(|e| Error::Invalid(format!("unpack task: {e}")))?;
        if let Some(e) = download_error {
            return Err(e.into());
        }
        // A corrupt blob usually breaks the archive too: the digest is the root cause to report.
        progress.layer(&digest, LayerPhase::Verifying, ingest.offset(), total);
        ingest.verify().map_err(|e| match e {
            ContentError::Mismatch { expected, actual } => Error::from(RegistryError::DigestMismatch {
                reference: progress.reference.clone(),
                digest: expected,
                actual,
            }),
            other => other.into(),
        })?;
        unpacked
            .map_err(|source| LayerError::Unpack { image: progress.reference.clone(), layer: digest, source }.into())
    }
}

/// Blocking `Read` over the chunks a download task sends.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    chunk: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(c) => self.chunk = c,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}
