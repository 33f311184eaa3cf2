//! `engine_info`: what the engine is and holds, for the status bar and the tray.

use crate::dto::{ApiError, EngineInfo};

use super::backend::{blocking, Backend};

pub async fn engine_info(b: &Backend) -> Result<EngineInfo, ApiError> {
    blocking(&b.engine, |e| {
        // As the list counts them: without pods' infra containers.
        let containers: Vec<_> = super::containers::listed(e)?.into_iter().filter(|c| !c.options.pod_infra).collect();
        // As the images list counts them: without builds' intermediate images.
        let intermediate = e.intermediate_images()?;
        let images: Vec<_> = e.images()?.into_iter().filter(|i| !intermediate.contains(&i.id)).collect();
        Ok(EngineInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            root: e.config().root.display().to_string(),
            run_root: e.config().run_root.display().to_string(),
            containers_running: containers.iter().filter(|c| c.is_running()).count() as u32,
            containers_total: containers.len() as u32,
            images: images.len() as u32,
            rootless: berth_engine::rootless::is_rootless(),
        })
    })
    .await
}
