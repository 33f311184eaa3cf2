//! The images list and its verbs: details (for the create form), pull (its progress on the
//! call's channel), remove.

use berth_engine::PullOptions;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::dto::{ApiError, ImageDetails, ImageSummary, PullEvent};

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

pub async fn remove_image(b: &Backend, a: RemoveArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_image(&a.id, a.force)?;
        Ok(())
    })
    .await
}
