//! The Play dialogs: Kubernetes YAML (`KubeRequest`, what it made: `KubePlayed`) and a compose
//! file run by the compose provider (`ComposeRequest`, its output on the call's channel:
//! `ComposeEvent`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Kubernetes YAML to play or take down: pasted text, else a file's path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KubeRequest {
    /// The YAML file: absolute, or `~/…` (used when `yaml` is blank).
    #[serde(default)]
    pub path: String,
    /// The YAML itself, pasted.
    #[serde(default)]
    pub yaml: String,
    /// `--replace`: pods of the same names are removed first.
    #[serde(default)]
    pub replace: bool,
    /// `--start=false` is `false`.
    #[serde(default = "yes")]
    pub start: bool,
}

fn yes() -> bool {
    true
}

/// A container `kube play` made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlayedContainer {
    pub id: String,
    pub name: String,
}

/// A pod `kube play` made, with its containers (its infra container left out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlayedPod {
    pub id: String,
    pub name: String,
    pub containers: Vec<PlayedContainer>,
}

/// What `kube play` made: the pods, and the volumes made for claims (those already there are
/// not listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KubePlayed {
    pub pods: Vec<PlayedPod>,
    pub volumes: Vec<String>,
}

/// `up -d` or `down`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ComposeAction {
    Up,
    Down,
}

/// A compose file to bring up or down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ComposeRequest {
    /// The compose file: absolute, or `~/…`.
    pub file: String,
    pub action: ComposeAction,
}

/// The provider's run, on the call's channel: `started` first (the id `cancel_compose` takes,
/// and the command line), then each line it prints, stdout and stderr as they come.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ComposeEvent {
    Started { run: String, command: String },
    Output { line: String },
}
