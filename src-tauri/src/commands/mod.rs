//! The commands of the contract as plain async functions: DTO in, engine call, DTO out.
//!
//! Both front doors call these and nothing else: the Tauri commands (`ipc`) and the HTTP
//! handler of `--serve` (`serve`), so the app and a browser see exactly the same behaviour.
//! The engine is synchronous (but for `pull`): its calls run on the blocking pool, so a slow
//! stop or remove never freezes the UI.
//!
//! A file per area of the UI, with the arguments of its commands: `engine`, `containers`,
//! `create` (the create form), `images`, `build` (the build dialog), `logs`, `terminal`,
//! `volumes`, `networks`, `pods`, `play` (Play Kubernetes YAML, run a compose file), `settings`, `files` (the Files tabs), `startup` (the UI's first paint); `backend` is what they all use (`Backend`, `blocking`). Every command
//! is re-exported here, so it is `commands::name` whatever its file; the files import `backend` (and `images` the
//! `RemoveArgs` of `containers`, `engine` its `listed`, `create` its `summary`), never this one.

mod backend;
mod build;
mod containers;
mod create;
mod engine;
mod files;
mod images;
mod logs;
mod networks;
mod play;
mod pods;
mod settings;
mod startup;
mod terminal;
mod volumes;

pub use backend::Backend;
pub use build::*;
pub use containers::*;
pub use create::*;
pub use engine::*;
pub use files::*;
pub use images::*;
pub use logs::*;
pub use networks::*;
pub use play::*;
pub use pods::*;
pub use settings::*;
pub use startup::*;
pub use terminal::*;
pub use volumes::*;
