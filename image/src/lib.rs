//! The image side of Berth, below the containers that use it: `reference` parses and normalises
//! image names, `registry` talks to registries (oci-client) and reads the containers/docker
//! configuration (auth files, registries.conf), `content` keeps blobs by digest, `layers` keeps
//! them unpacked for overlayfs, `layout` writes images as directories (`dir:`, OCI layouts),
//! and `image` keeps the image records in SQLite (on a connection its caller owns, in the
//! caller's transactions).
//!
//! It knows nothing of containers, the runtime, or the engine that ties them together.

pub mod content;
pub mod image;
pub mod layers;
pub mod layout;
pub mod reference;
pub mod registry;

pub use image::{ImageRecord, LayerRecord};
pub use reference::Reference;
pub use registry::{AuthFiles, Credentials, Platform, RegistriesConfig};
