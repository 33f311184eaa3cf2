//! The settings pane (`Settings`): the storage, the registries with their credentials, and the
//! Docker-compatible socket.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A registry the settings know: from registries.conf, or one with stored credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySetting {
    pub host: String,
    /// Reached over plain HTTP (or HTTPS without verifying its certificate).
    pub insecure: bool,
    pub logged_in: bool,
}

/// The Docker-compatible socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SocketSetting {
    pub path: String,
    pub enabled: bool,
}

/// The settings pane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub storage_root: String,
    pub run_root: String,
    /// The registries.conf that `set_registry` writes.
    pub registries_conf: String,
    /// Sorted by host.
    #[ts(inline)]
    pub registries: Vec<RegistrySetting>,
    /// The Docker-compatible socket (`berth system service`).
    #[ts(inline)]
    pub socket: Option<SocketSetting>,
    pub version: String,
}
