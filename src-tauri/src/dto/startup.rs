//! The UI's report of its first painted Containers pane (`report_first_paint`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// When the Containers pane first showed a row (or its empty state), on the page's clock:
/// milliseconds since the page's navigation began (`performance.now()`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FirstPaint {
    /// The frame after the first row (or the empty state) was rendered.
    pub painted_ms: f64,
    /// When the UI's script began to run (the page and its assets loaded, parsed).
    pub script_ms: f64,
    /// When the first list of containers was asked for, and how long the engine took to answer.
    pub list_started_ms: Option<f64>,
    pub list_ms: Option<f64>,
    /// The rows the pane shows.
    pub rows: u32,
}
