//! The Files tabs: a container's or a volume's files listed, a text file read, a file or
//! directory downloaded as a tar, a file uploaded into a directory. The reading is `files`'
//! (`Tree`); a container's tar goes out and in through the engine's copy helper, as `berth cp`
//! and the API service's `docker cp` do.

use base64::Engine as _;
use berth_engine::copy::Request;
use berth_engine::Engine;
use serde::Deserialize;

use crate::dto::{ApiError, FileContent, FileDownload, FileEntry, FileSource, FileSourceKind};
use crate::files::{self, CappedWriter, Tree};

use super::backend::{blocking, Backend};

#[derive(Debug, Deserialize)]
pub struct FilesArgs {
    pub source: FileSource,
    pub path: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadArgs {
    pub source: FileSource,
    /// The directory it goes into.
    pub path: String,
    pub name: String,
    pub data_base64: String,
}

/// A running container's files through its own root; a stopped one's layers; a volume's
/// `_data`.
fn tree(e: &Engine, s: &FileSource) -> Result<Tree, ApiError> {
    match s.kind {
        FileSourceKind::Container => {
            let c = e.container(&s.name)?;
            if let Some(pid) = c.pid.filter(|_| c.is_running()) {
                if let Ok(root) = berth_engine::container::in_root::open_root(pid) {
                    return Ok(Tree::InRoot(root));
                }
            }
            Ok(Tree::Layers(e.container_layer_dirs(&c)?))
        }
        FileSourceKind::Volume => {
            let v = e.volume(&s.name)?;
            berth_engine::container::in_root::open_dir(&v.mountpoint)
                .map(Tree::InRoot)
                .map_err(|err| ApiError::engine(format!("volume {}: {}: {err}", v.name, v.mountpoint.display())))
        }
    }
}

/// The entries of a directory, directories first, with their owners' names for a container.
pub async fn list_files(b: &Backend, a: FilesArgs) -> Result<Vec<FileEntry>, ApiError> {
    blocking(&b.engine, move |e| {
        let t = tree(e, &a.source)?;
        let mut entries = t.list(&a.path)?;
        if a.source.kind == FileSourceKind::Container {
            let (users, groups) = t.owner_names();
            for entry in &mut entries {
                entry.user = users.get(&entry.uid).cloned();
                entry.group = groups.get(&entry.gid).cloned();
            }
        }
        Ok(entries)
    })
    .await
}

/// A regular file for the viewer: at most 1 MiB, its text or `binary`.
pub async fn read_file(b: &Backend, a: FilesArgs) -> Result<FileContent, ApiError> {
    blocking(&b.engine, move |e| tree(e, &a.source)?.read(&a.path, files::VIEW_CAP)).await
}

/// A tar of a file or directory (links stored as links), at most 64 MiB.
pub async fn download_files(b: &Backend, a: FilesArgs) -> Result<FileDownload, ApiError> {
    blocking(&b.engine, move |e| {
        let path = files::clean(&a.path);
        let tar = match a.source.kind {
            FileSourceKind::Volume => tree(e, &a.source)?.tar(&path, files::DOWNLOAD_CAP)?,
            FileSourceKind::Container => {
                let mut out = CappedWriter { buf: Vec::new(), cap: files::DOWNLOAD_CAP };
                let request = Request::Out { path: &path, shown: &path, follow: false };
                match e.copy_out(&a.source.name, request, &mut out) {
                    Ok(()) => out.buf,
                    Err(_) if out.buf.len() as u64 > files::DOWNLOAD_CAP => {
                        return Err(files::too_big_download(&path, files::DOWNLOAD_CAP))
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        };
        let base = path.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("root");
        Ok(FileDownload {
            file_name: format!("{base}.tar"),
            data_base64: base64::engine::general_purpose::STANDARD.encode(tar),
        })
    })
    .await
}

/// Writes a file into a directory (a container's as `berth cp` would: its user owns it).
pub async fn upload_file(b: &Backend, a: UploadArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        files::check_name(&a.name)?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(a.data_base64.as_bytes())
            .map_err(|err| ApiError::invalid(format!("the upload of {} is not base64: {err}", a.name)))?;
        if data.len() as u64 > files::UPLOAD_CAP {
            return Err(ApiError::new(
                "too_large",
                format!("{} is larger than {} MiB: too big to upload here", a.name, files::UPLOAD_CAP >> 20),
            ));
        }
        let dir = files::clean(&a.path);
        match a.source.kind {
            FileSourceKind::Volume => tree(e, &a.source)?.write_file(&dir, &a.name, &data),
            FileSourceKind::Container => {
                let mut tar = tar::Builder::new(Vec::new());
                let mut header = tar::Header::new_gnu();
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                header.set_mtime(chrono::Utc::now().timestamp().max(0) as u64);
                header.set_entry_type(tar::EntryType::Regular);
                tar.append_data(&mut header, &a.name, &data[..])
                    .and_then(|_| tar.into_inner())
                    .map_err(|err| ApiError::engine(format!("packing {}: {err}", a.name)))
                    .and_then(|bytes| {
                        let request = Request::Archive { path: &dir, overwrite: false, chown: true };
                        Ok(e.copy_in(&a.source.name, request, &mut &bytes[..])?)
                    })
            }
        }
    })
    .await
}
