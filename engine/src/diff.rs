//! `diff`: what a container changed in its root over its image (its upper directory), or what
//! an image's top layer changes over the layers below it (`layers::changes` reads them).

use std::path::PathBuf;

use crate::container::ContainerPaths;
use crate::layers::changes::{self, Change};
use crate::{Engine, Error, Result};

/// Paths the runtime makes in every container (mount points of its own files and filesystems):
/// not the user's changes, so not reported, as Podman leaves them out.
const RUNTIME_PATHS: &[&str] = &[
    "/dev",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/localtime",
    "/etc/mtab",
    "/proc",
    "/run",
    "/run/.containerenv",
    "/run/secrets",
    "/sys",
];

/// What `diff` was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffOf {
    Container,
    Image,
}

impl Engine {
    /// The changes of the container `query` names (else of the image it names), sorted by path.
    pub fn diff(&self, query: &str) -> Result<(DiffOf, Vec<Change>)> {
        match self.container(query) {
            Ok(c) => return self.container_changes(&c).map(|ch| (DiffOf::Container, ch)),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        match self.image(query) {
            Ok(img) => self.image_changes(&img).map(|ch| (DiffOf::Image, ch)),
            Err(e) if e.is_not_found() => {
                Err(Error::Invalid(format!("{query}: no such container or image: name one from `ps -a` or `images`")))
            }
            Err(e) => Err(e),
        }
    }

    /// A container's changes: its upper directory over its image's layers (or over its
    /// `--rootfs PATH:O` directory); the runtime's own mount points and the container's mount
    /// destinations left out.
    pub fn container_changes(&self, c: &crate::ContainerRecord) -> Result<Vec<Change>> {
        let lower: Vec<PathBuf> = match &c.options.rootfs {
            Some(r) if r.overlay => vec![r.path.clone()],
            Some(r) => {
                return Err(Error::Invalid(format!(
                    "container {} writes straight into its root directory {} (--rootfs without :O): it has no layer of changes to show",
                    c.name,
                    r.path.display()
                )))
            }
            None => {
                let img = self.image(&c.image_id)?;
                img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)).collect()
            }
        };
        let upper = ContainerPaths::new(&self.config().root, &c.id).upper();
        let all = changes::changes(&upper, &lower).map_err(|source| Error::Io { path: upper.clone(), source })?;
        let mounts: Vec<&str> = c.options.mounts.iter().map(|m| m.destination()).collect();
        Ok(all
            .into_iter()
            .filter(|ch| !RUNTIME_PATHS.contains(&ch.path.as_str()) && !mounts.contains(&ch.path.as_str()))
            .collect())
    }

    /// An image's changes: its top layer over the ones below (all added for a one-layer image).
    pub fn image_changes(&self, img: &crate::ImageRecord) -> Result<Vec<Change>> {
        let mut dirs: Vec<PathBuf> = img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)).collect();
        if dirs.is_empty() {
            return Ok(Vec::new());
        }
        let top = dirs.remove(0);
        changes::changes(&top, &dirs).map_err(|source| Error::Io { path: top.clone(), source })
    }
}
