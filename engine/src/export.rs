//! `export`: a container's files (its writable layer over its image's, or over its `--rootfs`
//! directory) as one tar, read the way overlay shows them (`layers::flatten`), running or not.
//! Volumes and bind mounts are not the container's files: they are not in it, as with Podman
//! and Docker. Rootless, the tar is made inside the user's namespace (the files' owners are
//! its ids), by the `merged-tar` operation of the userns helper.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::container::ContainerPaths;
use crate::{Engine, Error, Result};

impl Engine {
    /// Writes the tar of the container `query` names into the file `path`: under a temporary
    /// name beside it, renamed when complete, so a failure leaves no file.
    pub fn export_container_to(&self, query: &str, path: &Path) -> Result<()> {
        let name =
            path.file_name().ok_or_else(|| Error::Invalid(format!("{}: name a file to export to", path.display())))?;
        let tmp = path.with_file_name(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
        let written = (|| -> Result<()> {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(|e| Error::Invalid(format!("{}: can't write there: {e}", path.display())))?;
            let mut out = io::BufWriter::new(file);
            self.export_container(query, &mut out)?;
            let file = out.into_inner().map_err(|e| Error::Io { path: path.to_path_buf(), source: e.into_error() })?;
            file.sync_all().map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
            std::fs::rename(&tmp, path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// Writes the tar of the container `query` names to `out`.
    pub fn export_container(&self, query: &str, out: &mut dyn Write) -> Result<()> {
        let c = self.container(query)?;
        let mut layers: Vec<PathBuf> = Vec::new();
        match &c.options.rootfs {
            Some(r) if !r.overlay => layers.push(r.path.clone()),
            Some(r) => layers.extend([ContainerPaths::new(&self.config().root, &c.id).upper(), r.path.clone()]),
            None => {
                let img = self.image(&c.image_id)?;
                layers.push(ContainerPaths::new(&self.config().root, &c.id).upper());
                layers.extend(img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)));
            }
        }
        let fail = |e: io::Error| Error::Invalid(format!("exporting container {}: {e}", c.name));
        if !berth_userns::outside() {
            crate::layers::flatten::write_merged_tar(&layers, &mut *out).map_err(fail)?;
            return out.flush().map_err(fail);
        }
        let mut c = berth_userns::reexec::userns_command("merged-tar").map_err(fail)?;
        c.args(&layers);
        berth_userns::reexec::stream_userns(c, &mut *out).map_err(fail)?;
        out.flush().map_err(fail)
    }
}

/// The `merged-tar LAYER...` operation of the userns helper: the tar on stdout.
pub(crate) fn merged_tar_helper(layers: &[String]) -> std::result::Result<(), String> {
    let layers: Vec<PathBuf> = layers.iter().map(PathBuf::from).collect();
    let out = io::BufWriter::new(io::stdout().lock());
    let mut out = crate::layers::flatten::write_merged_tar(&layers, out).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}
