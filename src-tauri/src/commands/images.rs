//! The images list and its verbs: details (for the create form), pull and push (their progress
//! on the call's channel), remove.

use berth_engine::{PullOptions, PushOptions};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::dto::{ApiError, ImageDetails, ImageSummary, PullEvent, PushEvent, Pushed};

use super::backend::{blocking, Backend};
use super::containers::RemoveArgs;

#[derive(Debug, Deserialize)]
pub struct ReferenceArgs {
    pub reference: String,
}

pub async fn list_images(b: &Backend) -> Result<Vec<ImageSummary>, ApiError> {
    blocking(&b.engine, |e| Ok(e.images()?.iter().map(ImageSummary::from).collect())).await
}

pub async fn image_details(b: &Backend, a: ReferenceArgs) -> Result<ImageDetails, ApiError> {
    blocking(&b.engine, move |e| Ok(ImageDetails::from(&e.image(&a.reference)?))).await
}

/// Pulls an image; every progress message reaches `progress` before this returns.
pub async fn pull_image<P>(b: &Backend, a: ReferenceArgs, progress: P) -> Result<ImageSummary, ApiError>
where
    P: Fn(PullEvent) + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let forward = tauri::async_runtime::spawn(async move {
        while let Some(p) = rx.recv().await {
            progress(PullEvent::from(p));
        }
    });
    let engine = b.registry_engine();
    let pulled = engine.pull(&a.reference, PullOptions { progress: Some(tx), ..Default::default() }).await;
    // The sender is gone with the options: the forwarder ends once it passed everything on.
    let _ = forward.await;
    Ok(ImageSummary::from(&pulled?))
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

pub async fn remove_image(b: &Backend, a: RemoveArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_image(&a.id, a.force)?;
        Ok(())
    })
    .await
}
