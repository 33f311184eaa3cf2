//! The image side of Berth, below the containers that use it: `reference` parses and normalises
//! image names, `layout` reads and writes images as files and directories (docker-archive, OCI
//! layouts, `dir:`), `media_type` names manifests, configs and layers, `registry` talks to
//! registries (oci-client) and reads the containers/docker configuration (auth files,
//! registries.conf), `content` keeps blobs by digest, `layers` keeps them unpacked for
//! overlayfs, and `image` keeps the image records in SQLite (on a connection its caller owns,
//! in the caller's transactions).
//!
//! It knows nothing of containers, the runtime, or the engine that ties them together.

pub mod content;
pub mod image;
pub mod layers;
pub mod layout;
pub mod media_type;
pub mod reference;
pub mod registry;

pub use image::{ImageRecord, LayerRecord};
pub use reference::Reference;
pub use registry::{AuthFiles, Credentials, Platform, RegistriesConfig};
