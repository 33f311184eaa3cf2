//! The shapes the UI sees: serde structs in the UI's camelCase, each with a `From` (or a
//! named conversion) from the engine's own types, and TypeScript declarations generated from
//! them by ts-rs into `ui/src/lib/bindings/` (committed; `bindings_are_fresh` fails when they
//! are stale). Engine types never cross into the UI: this module is where they are translated,
//! so the engine can change without the UI noticing.
//!
//! 64-bit integers are declared `number` for TypeScript (ts-rs would say `bigint`): sizes and
//! times stay far below 2^53, and JSON.parse gives numbers.
//!
//! A file per area of the UI: `engine` (what the engine is, and its events), `containers`,
//! `health` (healthchecks: the rows' health, the Health tab, the form's check), `ports`,
//! `create` (the create form), `images` (and pulls), `build` (the build dialog),
//! `logs`, `terminal`, `volumes`, `files` (the Files tabs), `networks`, `pods`, `play` (the Play Kubernetes YAML and
//! compose dialogs), `settings`, `startup` (the first paint's report), and `errors`; `bindings` writes the
//! declarations. All is re-exported here, so a DTO is `dto::Name` whatever its file; the files
//! import each other, never this one.

mod bindings;
mod build;
mod containers;
mod create;
mod engine;
mod errors;
mod files;
mod health;
mod images;
mod logs;
mod networks;
mod play;
mod pods;
mod ports;
mod settings;
mod startup;
mod terminal;
mod volumes;

pub use bindings::*;
pub use build::*;
pub use containers::*;
pub use create::*;
pub use engine::*;
pub use errors::*;
pub use files::*;
pub use health::*;
pub use images::*;
pub use logs::*;
pub use networks::*;
pub use play::*;
pub use pods::*;
pub use ports::*;
pub use settings::*;
pub use startup::*;
pub use terminal::*;
pub use volumes::*;
