//! Image verbs over the store: list, find, tag, untag, remove, prune.

use crate::image::{self, Lookup};
use crate::reference::Reference;
use crate::{Engine, Error, ImageRecord, Result};

/// One image's fate in a removal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemovedImage {
    pub untagged: Vec<String>,
    /// Set when the image itself was deleted.
    pub deleted: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct RemoveReport {
    pub images: Vec<RemovedImage>,
    /// Layers freed on disk, in bytes.
    pub reclaimed: u64,
}

impl Engine {
    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        Ok(image::list(self.state().conn())?)
    }

    /// Finds an image by name, short name, id, id prefix or digest.
    pub fn image(&self, query: &str) -> Result<ImageRecord> {
        self.image_found(query).map(|(img, _)| img)
    }

    /// [`image`](Self::image), and the name it was found by (None when by id or digest).
    /// A short name not found as it is is looked for as what `registries.conf` says it stands
    /// for (its alias, the search registries), as Podman looks for it locally.
    pub(crate) fn image_found(&self, query: &str) -> Result<(ImageRecord, Option<String>)> {
        let state = self.state();
        let found = match image::find(state.conn(), query) {
            Err(image::LookupError::NotFound(n)) => self
                .config()
                .registries
                .short_name_candidates(query)
                .iter()
                .find_map(|name| image::find(state.conn(), name).ok())
                .ok_or(image::LookupError::NotFound(n)),
            other => other,
        };
        let (id, how) = found?;
        let img = image::get(state.conn(), &id)?.ok_or_else(|| image::LookupError::NotFound(query.into()))?;
        Ok((
            img,
            match how {
                image::Lookup::Name(name) => Some(name),
                image::Lookup::Id => None,
            },
        ))
    }

    /// Adds `target` as a name of the image `source` names (`berth tag`).
    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        let given = target;
        let target = Reference::parse_local(target)?;
        if target.digest().is_some() {
            return Err(Error::Invalid(format!("tag {target}: a tag cannot contain a digest")));
        }
        let name = target.tagged_name().expect("a reference without digest has a tag");
        let id = self.state().write(|tx| -> Result<String> {
            let (id, _) = image::find(tx, source)?;
            image::set_name(tx, &name, &id)?;
            Ok(id)
        })?;
        // the name as given, as Podman's tag event has it (its untag names the full one)
        self.events().state("image", "tag", &id, Some(given));
        Ok(())
    }

    /// Removes a name from an image (`berth untag`).
    pub fn untag(&self, name: &str) -> Result<String> {
        let full = Reference::parse(name)?.tagged_name().unwrap_or_else(|| name.to_string());
        let id = self.state().write(|tx| -> Result<String> {
            let (id, how) = image::find(tx, name)?;
            let name = match how {
                Lookup::Name(n) => n,
                Lookup::Id => full.clone(),
            };
            if !image::remove_name(tx, &name)? {
                return Err(image::LookupError::NotFound(name).into());
            }
            Ok(id)
        })?;
        self.events().state("image", "untag", &id, Some(&full));
        Ok(id)
    }

    /// `berth rmi`: by name, untags (and deletes the image when that was its last name);
    /// by id, deletes it with all its names (more than one name needs `force`). An image used
    /// by a container is refused unless `force`, which removes those containers too.
    pub fn remove_image(&self, query: &str, force: bool) -> Result<RemoveReport> {
        if force {
            // Removing an image by force removes its containers first, as Podman does.
            let (id, _) = image::find(self.state().conn(), query)?;
            let mut users = image::get(self.state().conn(), &id)?.map(|i| i.containers).unwrap_or_default();
            users.extend(self.containers()?.into_iter().filter(|c| mounts_image(c, &id)).map(|c| c.id));
            for c in users {
                self.remove_container(&c, true)?;
            }
        }
        let (report, freed) = self.state().write(|tx| -> Result<_> {
            let (id, how) = image::find(tx, query)?;
            let record = image::get(tx, &id)?.ok_or_else(|| image::LookupError::NotFound(query.into()))?;
            let mut removed = RemovedImage::default();
            // By `repo@digest` while it still has tags: that name goes, the image stays, as
            // Podman's rmi does after a pull by digest (the digest is the manifest's, kept).
            if matches!(how, Lookup::Id) && query.contains('@') && !record.names.is_empty() {
                removed.untagged.push(query.to_string());
                return Ok((RemoveReport { images: vec![removed], reclaimed: 0 }, None));
            }
            if let Lookup::Name(name) = &how {
                if record.names.len() > 1 {
                    image::remove_name(tx, name)?;
                    removed.untagged.push(name.clone());
                    return Ok((RemoveReport { images: vec![removed], reclaimed: 0 }, None));
                }
            } else if record.names.len() > 1 && !force {
                return Err(Error::ImageHasNames { image: query.into(), names: record.names.join(", ") });
            }
            // With force, the containers were removed above; one created since still blocks, and
            // so does one that mounts the image (`--mount type=image`).
            let mut users = record.containers.clone();
            users.extend(crate::container::list(tx)?.into_iter().filter(|c| mounts_image(c, &id)).map(|c| c.id));
            if !users.is_empty() {
                return Err(Error::ImageInUse {
                    image: query.into(),
                    containers: users.iter().map(|c| &c[..12.min(c.len())]).collect::<Vec<_>>().join(", "),
                });
            }
            removed.untagged = record.names.clone();
            let released = image::delete_image(tx, &id)?;
            removed.deleted = Some(id);
            let reclaimed =
                record.layers.iter().filter(|l| released.chain_ids.contains(&l.chain_id)).map(|l| l.size).sum();
            Ok((RemoveReport { images: vec![removed], reclaimed }, Some(released)))
        })?;
        // Files go after the transaction committed: a crash in between leaves unreferenced
        // files (harmless, reclaimed by a later removal), never a record without its files.
        if let Some(released) = freed {
            // An image mount of the deleted image goes before its layers.
            for id in report.images.iter().filter_map(|i| i.deleted.as_deref()) {
                self.release_image_mount(id)?;
            }
            let errors = released.remove_files(self.layers(), self.content());
            if !errors.is_empty() {
                return Err(Error::Invalid(format!(
                    "image removed, but cleaning up its files failed: {}",
                    errors.join("; ")
                )));
            }
        }
        for img in &report.images {
            // oldest name first, as Podman untags them
            for name in img.untagged.iter().rev() {
                self.events().state("image", "untag", img.deleted.as_deref().unwrap_or(""), Some(name));
            }
            if let Some(id) = &img.deleted {
                // named by its id, as Podman's remove event is
                self.events().state("image", "remove", id, Some(id));
            }
        }
        Ok(report)
    }

    /// `berth image prune`: removes dangling images (`all`: every image no container uses).
    pub fn prune_images(&self, all: bool) -> Result<RemoveReport> {
        let mut report = RemoveReport::default();
        // Removing one image can leave another dangling only through names, which removal
        // does not move, so one pass is enough.
        let containers = self.containers()?;
        for img in self.images()? {
            let mounted = containers.iter().any(|c| mounts_image(c, &img.id));
            if !img.containers.is_empty() || mounted || (!all && !img.is_dangling()) {
                continue;
            }
            match self.remove_image(&img.id, true) {
                Ok(r) => {
                    report.reclaimed += r.reclaimed;
                    report.images.extend(r.images);
                }
                Err(Error::Lookup(image::LookupError::NotFound(_))) => {} // removed meanwhile
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}

/// Whether the container mounts the image with `--mount type=image`.
fn mounts_image(c: &crate::ContainerRecord, image_id: &str) -> bool {
    c.options
        .mounts
        .iter()
        .any(|m| matches!(m, crate::volume::MountRequest::Image { image_id: i, .. } if i == image_id))
}
