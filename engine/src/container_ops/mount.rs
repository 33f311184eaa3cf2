//! `berth mount`/`umount` and `image mount`/`umount`: a container's root filesystem or an
//! image's layers mounted on the host, where the user can read them (Podman's verbs).

use std::path::PathBuf;

use crate::container::ContainerPaths;
use crate::host_mount;
use crate::image::ImageRecord;
use crate::layers::view::LayerView;
use crate::{Engine, Error, Result};

/// A mount refused to a rootless user: the host's mount table is root's.
pub(crate) fn refuse_rootless(verb: &str) -> Result<()> {
    if crate::rootless::is_rootless() {
        return Err(Error::Invalid(format!(
            "cannot run command \"berth {verb}\" in rootless mode: mounting on the host needs root"
        )));
    }
    Ok(())
}

fn list_dir(layers_top_first: &[PathBuf], path: &str) -> Result<Option<Vec<(String, bool)>>> {
    let entries = LayerView::new(layers_top_first).list_dir(path).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(entries.map(|v| v.into_iter().map(|(name, dir)| (name.to_string_lossy().into_owned(), dir)).collect()))
}

impl Engine {
    /// An image's layer directories, top first, by their short links (a lowerdir under a page).
    pub(crate) fn lower_dirs(&self, img: &ImageRecord) -> Result<Vec<PathBuf>> {
        img.layers.iter().rev().map(|l| Ok(self.layers().root().join(self.layers().short_link(&l.chain_id)?))).collect()
    }

    /// The entries of the directory `path` in the image `query` names, read from its layers
    /// without mounting them (links resolve inside the image, `..` stops at its root), sorted,
    /// each with whether it is a directory; `None` when the image has no directory there.
    pub fn image_dir_entries(&self, query: &str, path: &str) -> Result<Option<Vec<(String, bool)>>> {
        let img = self.image(query)?;
        let layers: Vec<PathBuf> = img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)).collect();
        list_dir(&layers, path)
    }

    /// As [`Engine::image_dir_entries`] for a container's files, running or not: a running
    /// one's through its own root (`in_root`: its mounts included), else (or when that can't
    /// be read) its writable layer over its image's.
    pub fn container_dir_entries(&self, query: &str, path: &str) -> Result<Option<Vec<(String, bool)>>> {
        let c = self.container(query)?;
        if let Some(pid) = c.pid.filter(|_| c.is_running()) {
            if let Ok(entries) = crate::container::in_root::list_dir(pid, path) {
                return Ok(entries);
            }
        }
        list_dir(&self.container_layer_dirs(&c)?, path)
    }

    /// A container's files as directories on the host, top first: its writable layer over its
    /// image's layers (or its `--rootfs`), for [`LayerView`]: what a stopped container holds.
    pub fn container_layer_dirs(&self, c: &crate::ContainerRecord) -> Result<Vec<PathBuf>> {
        let mut layers = vec![ContainerPaths::new(&self.config().root, &c.id).upper()];
        match &c.options.rootfs {
            Some(r) => layers.push(r.path.clone()),
            None => {
                let img = self.image(&c.image_id)?;
                layers.extend(img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)));
            }
        }
        Ok(layers)
    }

    fn container_mount_point(&self, id: &str) -> PathBuf {
        ContainerPaths::new(&self.config().root, id).dir.join("merged")
    }

    fn image_mount_point(&self, id: &str) -> PathBuf {
        crate::spec::ImageMounts { storage_root: self.config().root.clone(), container_dir: PathBuf::new() }
            .mount_point(id)
    }

    /// A container's hold on the images it mounts (`--mount type=image`), taken when it starts:
    /// the image is mounted on the host (counted as an `image mount`) unless this container
    /// holds it already and it still is.
    pub(crate) fn hold_image_mounts(&self, c: &crate::ContainerRecord) -> Result<()> {
        for m in &c.options.mounts {
            if let crate::volume::MountRequest::Image { image_id, .. } = m {
                let marker = self.image_hold_marker(&c.id, image_id);
                if marker.exists() && host_mount::is_mount_point(&self.image_mount_point(image_id)) {
                    continue;
                }
                self.mount_image(image_id)?;
                std::fs::write(&marker, "").map_err(|source| Error::Io { path: marker, source })?;
            }
        }
        Ok(())
    }

    /// Lets go of what [`Self::hold_image_mounts`] took (`rm`): the last user unmounts.
    pub(crate) fn release_image_mounts(&self, c: &crate::ContainerRecord) -> Result<()> {
        for m in &c.options.mounts {
            if let crate::volume::MountRequest::Image { image_id, .. } = m {
                let marker = self.image_hold_marker(&c.id, image_id);
                if marker.exists() {
                    let target = self.image_mount_point(image_id);
                    host_mount::release(&self.config().run_root, image_id, &target, false)
                        .map_err(|source| Error::Io { path: target.clone(), source })?;
                    if !host_mount::is_mount_point(&target) {
                        let _ = std::fs::remove_dir(&target);
                    }
                    let _ = std::fs::remove_file(&marker);
                }
            }
        }
        Ok(())
    }

    fn image_hold_marker(&self, container_id: &str, image_id: &str) -> PathBuf {
        ContainerPaths::new(&self.config().root, container_id).dir.join(format!("holds-image-{image_id}"))
    }

    /// `berth mount CTR`: the container's root filesystem (image layers and its writable
    /// layer) mounted on the host; its path.
    pub fn mount_container(&self, query: &str) -> Result<PathBuf> {
        refuse_rootless("mount")?;
        let c = self.container(query)?;
        let lower = match &c.options.rootfs {
            Some(r) => vec![r.path.clone()],
            None => self.lower_dirs(&self.image(&c.image_id)?)?,
        };
        let bind = c.options.rootfs.as_ref().filter(|r| !r.overlay).map(|r| r.path.clone());
        let paths = ContainerPaths::new(&self.config().root, &c.id);
        let target = self.container_mount_point(&c.id);
        host_mount::acquire(&self.config().run_root, &c.id, &target, || match &bind {
            Some(dir) => host_mount::bind_dir(&target, dir),
            None => host_mount::mount_layers(&target, &lower, Some((&paths.upper(), &paths.work()))),
        })
        .map_err(|source| Error::Io { path: target.clone(), source })?;
        Ok(target)
    }

    /// `berth umount CTR`: one mount less (`force`: all); the container's id, and whether it
    /// was mounted.
    pub fn unmount_container(&self, query: &str, force: bool) -> Result<(String, bool)> {
        let c = self.container(query)?;
        let target = self.container_mount_point(&c.id);
        let was = host_mount::release(&self.config().run_root, &c.id, &target, force)
            .map_err(|source| Error::Io { path: target, source })?;
        Ok((c.id, was))
    }

    /// The mounted containers: (id, mount point).
    pub fn mounted_containers(&self) -> Result<Vec<(String, PathBuf)>> {
        Ok(self
            .containers()?
            .into_iter()
            .map(|c| {
                let p = self.container_mount_point(&c.id);
                (c.id, p)
            })
            .filter(|(_, p)| host_mount::is_mount_point(p))
            .collect())
    }

    /// `berth image mount IMAGE`: the image's layers, read-only, on the host; its path.
    pub fn mount_image(&self, query: &str) -> Result<PathBuf> {
        refuse_rootless("image mount")?;
        let img = self.image(query)?;
        let lower = self.lower_dirs(&img)?;
        let target = self.image_mount_point(&img.id);
        host_mount::acquire(&self.config().run_root, &img.id, &target, || {
            host_mount::mount_layers(&target, &lower, None)
        })
        .map_err(|source| Error::Io { path: target.clone(), source })?;
        Ok(target)
    }

    /// `berth image umount IMAGE`: one mount less (`force`: all); the image's id when it was
    /// mounted. The mount point goes with the last.
    pub fn unmount_image(&self, query: &str, force: bool) -> Result<Option<String>> {
        let img = self.image(query)?;
        let target = self.image_mount_point(&img.id);
        let was = host_mount::release(&self.config().run_root, &img.id, &target, force)
            .map_err(|source| Error::Io { path: target.clone(), source })?;
        if !host_mount::is_mount_point(&target) {
            let _ = std::fs::remove_dir(&target);
        }
        Ok(was.then_some(img.id))
    }

    /// The mounted images with their mount points.
    pub fn mounted_images(&self) -> Result<Vec<(ImageRecord, PathBuf)>> {
        Ok(self
            .images()?
            .into_iter()
            .map(|i| {
                let p = self.image_mount_point(&i.id);
                (i, p)
            })
            .filter(|(_, p)| host_mount::is_mount_point(p))
            .collect())
    }

    /// Releases a container's host mount whatever its count (`rm`).
    pub(crate) fn release_container_mount(&self, id: &str) -> Result<()> {
        let target = self.container_mount_point(id);
        host_mount::release(&self.config().run_root, id, &target, true)
            .map(drop)
            .map_err(|source| Error::Io { path: target, source })
    }

    /// Releases an image's host mount whatever its count (`rmi`).
    pub(crate) fn release_image_mount(&self, id: &str) -> Result<()> {
        let target = self.image_mount_point(id);
        host_mount::release(&self.config().run_root, id, &target, true)
            .map_err(|source| Error::Io { path: target.clone(), source })?;
        let _ = std::fs::remove_dir(&target);
        Ok(())
    }
}
