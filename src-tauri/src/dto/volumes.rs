//! The volumes list (`VolumeSummary`, with the containers that mount each).

use berth_engine::volume::VolumeRecord;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A row of the volumes list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSummary {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    /// Unix seconds.
    pub created: i64,
    pub anonymous: bool,
    /// The names of the containers that mount it.
    pub used_by: Vec<String>,
}

impl VolumeSummary {
    pub fn new(v: &VolumeRecord, used_by: Vec<String>) -> VolumeSummary {
        VolumeSummary {
            name: v.name.clone(),
            driver: v.driver.clone(),
            mountpoint: v.mountpoint.display().to_string(),
            created: v.created.timestamp(),
            anonymous: v.anonymous,
            used_by,
        }
    }
}
