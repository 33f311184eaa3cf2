//! The volumes list and its verbs: create, remove, prune.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::dto::{ApiError, VolumeSummary};

use super::backend::{blocking, Backend};

#[derive(Debug, Deserialize)]
pub struct CreateVolumeArgs {
    /// None (or blank) for a random name.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RemoveVolumeArgs {
    pub name: String,
    #[serde(default)]
    pub force: bool,
}

pub async fn list_volumes(b: &Backend) -> Result<Vec<VolumeSummary>, ApiError> {
    blocking(&b.engine, |e| {
        let mut users = e.volume_users()?;
        Ok(e.volumes()?.iter().map(|v| VolumeSummary::new(v, users.remove(&v.name).unwrap_or_default())).collect())
    })
    .await
}

pub async fn create_volume(b: &Backend, a: CreateVolumeArgs) -> Result<VolumeSummary, ApiError> {
    blocking(&b.engine, move |e| {
        let name = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        Ok(VolumeSummary::new(&e.create_volume(name, BTreeMap::new())?, Vec::new()))
    })
    .await
}

/// Refused while containers use it, unless `force` (which removes them first).
pub async fn remove_volume(b: &Backend, a: RemoveVolumeArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_volume(&a.name, a.force)?;
        Ok(())
    })
    .await
}

/// Removes every volume no container uses; returns their names.
pub async fn prune_volumes(b: &Backend) -> Result<Vec<String>, ApiError> {
    blocking(&b.engine, |e| Ok(e.prune_volumes()?)).await
}
