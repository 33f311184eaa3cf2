//! Test and benchmark harness for Berth: a real registry on loopback, layer tarballs built
//! entry by entry (hostile ones included), images pushed with `oci-client`, and a busybox root
//! filesystem from Debian's busybox-static.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use berth_testkit::{busybox, image, registry::Registry};
//! let registry = Registry::start()?;
//! let pushed = image::push_image(registry.addr(), None, "busybox:latest", &busybox::busybox_image()?).await?;
//! // pull format!("{}/busybox:latest", registry.addr()) with the engine, compare pushed.manifest_digest
//! # Ok(()) }
//! ```

pub mod busybox;
pub mod image;
pub mod layer;
pub mod registry;
pub mod testimage;

pub use busybox::{busybox_image, busybox_rootfs};
pub use image::{
    push_image, push_index, sha256_digest, BuiltImage, BuiltLayer, Compression, Flavor, ImageSpec, PushedImage, Pusher,
};
pub use layer::LayerBuilder;
pub use registry::Registry;
