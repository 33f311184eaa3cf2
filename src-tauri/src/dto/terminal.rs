//! What a terminal session sends on its channel (`TerminalOutput`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a terminal session sends: output (base64 of the bytes), then how the shell exited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum TerminalOutput {
    Data { data: String },
    Exited { exited: i32 },
}
