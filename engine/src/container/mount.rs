//! A mount as a container records it (`-v`, `--tmpfs`, the API's binds and mounts): plain
//! data, parsed and prepared by `volume`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One mount a user asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MountRequest {
    /// A host directory or file.
    Bind { source: PathBuf, destination: String, read_only: bool },
    /// A named volume; an anonymous one (`-v /path`) gets a random name at create.
    Volume {
        name: String,
        destination: String,
        read_only: bool,
        #[serde(default)]
        anonymous: bool,
    },
    /// A tmpfs with mount options (`size=64m,mode=1777`).
    Tmpfs { destination: String, options: Vec<String> },
    /// An image's files (`--mount type=image,src=IMAGE,dst=PATH[,rw=true]`): its layers,
    /// read-only, or with a writable layer of the container's own. `source` is the image as
    /// the user named it; `image_id` is found at create.
    Image { source: String, image_id: String, destination: String, read_write: bool },
}

impl MountRequest {
    pub fn destination(&self) -> &str {
        match self {
            MountRequest::Bind { destination, .. }
            | MountRequest::Volume { destination, .. }
            | MountRequest::Tmpfs { destination, .. }
            | MountRequest::Image { destination, .. } => destination,
        }
    }
}
