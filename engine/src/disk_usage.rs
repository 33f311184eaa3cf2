//! `Engine::disk_usage`: what images, containers and volumes take on disk and what removing the
//! unused ones would give back, as `berth system df` counts them (an image is active while a
//! container uses it, a container while it runs, a volume while a container mounts it).

use std::path::Path;

use crate::container::ContainerPaths;
use crate::{Engine, Result};

/// One line of `berth system df`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub total: u32,
    pub active: u32,
    /// Bytes on disk.
    pub size: u64,
    /// Bytes of the ones not active.
    pub reclaimable: u64,
}

impl Usage {
    fn add(&mut self, active: bool, size: u64) {
        self.total += 1;
        self.size += size;
        if active {
            self.active += 1;
        } else {
            self.reclaimable += size;
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    pub images: Usage,
    /// A container's size is its writable layer's.
    pub containers: Usage,
    pub volumes: Usage,
}

/// The bytes of the files under `dir` (0 when it does not exist); links are not followed.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

impl Engine {
    /// `berth system df`'s figures.
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let mut usage = DiskUsage::default();
        for i in self.images()? {
            usage.images.add(!i.containers.is_empty(), i.size);
        }
        let root = &self.config().root;
        for c in self.containers()? {
            usage.containers.add(c.is_running(), dir_size(&ContainerPaths::new(root, &c.id).upper()));
        }
        let users = self.volume_users()?;
        for v in self.volumes()? {
            usage.volumes.add(users.get(&v.name).is_some_and(|u| !u.is_empty()), dir_size(&v.mountpoint));
        }
        Ok(usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inactive_ones_are_reclaimable() {
        let mut u = Usage::default();
        u.add(true, 100);
        u.add(false, 30);
        u.add(false, 2);
        assert_eq!(u, Usage { total: 3, active: 1, size: 132, reclaimable: 32 });
    }

    #[test]
    fn dir_size_sums_files_below() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/b"), [0u8; 5]).unwrap();
        assert_eq!(dir_size(dir.path()), 15);
        assert_eq!(dir_size(&dir.path().join("missing")), 0);
    }
}
