//! The images list and its verbs: details (for the create form), inspect and history (the
//! details view), pull and push (their progress on the call's channel), save to a file, load
//! and import from one, remove.

use berth_engine::{ImportOptions, LoadInput, PullCancel, PullOptions, PushOptions, SaveOptions, SaveTarget};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::dto::{
    ApiError, HistoryRow, ImageDetails, ImageSummary, LoadedImage, PullEvent, PushEvent, Pushed, SaveFormat,
};

use super::backend::{blocking, user_path, Backend};
use super::containers::RemoveArgs;

#[derive(Debug, Deserialize)]
pub struct ReferenceArgs {
    pub reference: String,
}

/// The images `berth images` lists: without the intermediate ones of builds (nameless images
/// a cached build step was made on).
pub async fn list_images(b: &Backend) -> Result<Vec<ImageSummary>, ApiError> {
    blocking(&b.engine, |e| {
        let intermediate = e.intermediate_images()?;
        Ok(e.images()?.iter().filter(|i| !intermediate.contains(&i.id)).map(ImageSummary::from).collect())
    })
    .await
}

pub async fn image_details(b: &Backend, a: ReferenceArgs) -> Result<ImageDetails, ApiError> {
    blocking(&b.engine, move |e| Ok(ImageDetails::from(&e.image(&a.reference)?))).await
}

/// The object `berth image inspect` prints for the image.
pub async fn inspect_image(b: &Backend, a: ReferenceArgs) -> Result<serde_json::Value, ApiError> {
    blocking(&b.engine, move |e| Ok(berth_engine::image_inspect(&e.image(&a.reference)?))).await
}

/// The image's history, newest first, as `berth history` lists it.
pub async fn image_history(b: &Backend, a: ReferenceArgs) -> Result<Vec<HistoryRow>, ApiError> {
    blocking(&b.engine, move |e| {
        Ok(berth_engine::image_history(&e.image(&a.reference)?).into_iter().rev().map(HistoryRow::from).collect())
    })
    .await
}

/// Pulls an image; `progress` gets `started` (the id `cancel_pull` takes) first, then every
/// progress message, all before this returns. A cancelled pull fails with the code `cancelled`
/// and leaves no partial download behind.
pub async fn pull_image<P>(b: &Backend, a: ReferenceArgs, progress: P) -> Result<ImageSummary, ApiError>
where
    P: Fn(PullEvent) + Send + 'static,
{
    let id = crate::id::new_id();
    let cancel = PullCancel::default();
    b.pulls.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), cancel.clone());
    let _registered = RegisteredPull { backend: b, id: id.clone() };
    progress(PullEvent::Started { pull: id });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let forward = tauri::async_runtime::spawn(async move {
        while let Some(p) = rx.recv().await {
            progress(PullEvent::from(p));
        }
    });
    let engine = b.registry_engine();
    let opts = PullOptions { progress: Some(tx), cancel: Some(cancel.clone()), ..Default::default() };
    let pulled = engine.pull(&a.reference, opts).await;
    // The sender is gone with the options: the forwarder ends once it passed everything on.
    let _ = forward.await;
    match pulled {
        Ok(image) => Ok(ImageSummary::from(&image)),
        Err(_) if cancel.is_cancelled() => Err(ApiError::new("cancelled", "the pull was cancelled")),
        Err(e) => Err(e.into()),
    }
}

/// A running pull's cancel, in the backend's table until the pull returns.
struct RegisteredPull<'a> {
    backend: &'a Backend,
    id: String,
}

impl Drop for RegisteredPull<'_> {
    fn drop(&mut self) {
        self.backend.pulls.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

#[derive(Debug, Deserialize)]
pub struct CancelPullArgs {
    pub pull: String,
}

/// Stops a pull at once; what its downloads wrote is removed. A pull that ended already is not
/// an error.
pub async fn cancel_pull(b: &Backend, a: CancelPullArgs) -> Result<(), ApiError> {
    if let Some(cancel) = b.pulls.lock().unwrap_or_else(|e| e.into_inner()).get(&a.pull) {
        cancel.cancel();
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushArgs {
    /// The image: id or name.
    pub id: String,
    /// `docker://REF` or a bare reference, `dir:PATH`, `oci:PATH[:TAG]`; none: the image's name.
    #[serde(default)]
    pub destination: Option<String>,
    /// `false` pushes over plain HTTP; none: as registries.conf says.
    #[serde(default)]
    pub tls_verify: Option<bool>,
}

/// Pushes an image with the registries' credentials of Settings (the auth files); every
/// progress message reaches `progress` before this returns.
pub async fn push_image<P>(b: &Backend, a: PushArgs, progress: P) -> Result<Pushed, ApiError>
where
    P: Fn(PushEvent) + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let forward = tauri::async_runtime::spawn(async move {
        while let Some(p) = rx.recv().await {
            progress(PushEvent::from(p));
        }
    });
    let engine = b.registry_engine();
    let destination = a.destination.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    let opts = PushOptions { tls_verify: a.tls_verify, progress: Some(tx), ..Default::default() };
    let pushed = engine.push(&a.id, destination.as_deref(), opts).await;
    let _ = forward.await;
    let pushed = pushed?;
    Ok(Pushed { destination: pushed.destination, manifest_digest: pushed.manifest_digest })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveArgs {
    /// The image: id or name (a name is kept in the archive, an id is not).
    pub id: String,
    /// The file to write; absolute, or `~/…`.
    pub path: String,
    pub format: SaveFormat,
}

/// Writes the image into a file as `berth save -o PATH --format FORMAT` does: whole or not at all.
pub async fn save_image(b: &Backend, a: SaveArgs) -> Result<(), ApiError> {
    let path = user_path("archive", &a.path)?;
    let opts = SaveOptions { format: a.format.into(), compress: false, uncompressed: false };
    blocking(&b.engine, move |e| Ok(e.save(&[a.id], SaveTarget::Path(&path), &opts, &mut |_| {})?)).await
}

#[derive(Debug, Deserialize)]
pub struct PathArgs {
    /// Absolute, or `~/…`.
    pub path: String,
}

/// Stores every image of an archive (docker-archive, oci-archive, plain or compressed) or
/// layout directory, as `berth load -i PATH` does.
pub async fn load_image(b: &Backend, a: PathArgs) -> Result<Vec<LoadedImage>, ApiError> {
    let path = user_path("archive", &a.path)?;
    blocking(&b.engine, move |e| {
        if !path.exists() {
            return Err(ApiError::not_found(format!("{}: no such file or directory", path.display())));
        }
        Ok(e.load(LoadInput::Path(&path), &mut |_| {})?.iter().map(LoadedImage::from).collect())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportArgs {
    /// The tarball of a root filesystem (plain, gzip or zstd): absolute, or `~/…`.
    pub path: String,
    /// The new image's name; none (or blank): nameless.
    #[serde(default)]
    pub reference: Option<String>,
    /// Dockerfile instructions applied to the config (`CMD ["sh"]`, `ENV A=b`, ...).
    #[serde(default)]
    pub changes: Vec<String>,
    /// The history entry's comment.
    #[serde(default)]
    pub message: Option<String>,
}

/// Makes a one-layer image of a tarball, as `berth import PATH [NAME]` does.
pub async fn import_image(b: &Backend, a: ImportArgs) -> Result<ImageSummary, ApiError> {
    let path = user_path("tarball", &a.path)?;
    let blank = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let opts = ImportOptions {
        changes: a.changes.into_iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
        message: blank(a.message),
        reference: blank(a.reference),
        ..Default::default()
    };
    blocking(&b.engine, move |e| {
        let mut file = std::fs::File::open(&path)
            .map_err(|err| ApiError::not_found(format!("{}: can't open the tarball: {err}", path.display())))?;
        let image = e.import(&mut file, &path.to_string_lossy(), &opts, &mut |_| {})?;
        Ok(ImageSummary::from(&image))
    })
    .await
}

pub async fn remove_image(b: &Backend, a: RemoveArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_image(&a.id, a.force)?;
        Ok(())
    })
    .await
}
