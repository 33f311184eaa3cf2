//! The Files tabs: a container's or a volume's files (`FileSource`), a directory's entries
//! (`FileEntry`), a text file opened read-only (`FileContent`), a download (`FileDownload`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Whose files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum FileSourceKind {
    Container,
    Volume,
}

/// A container (by id or name) or a volume (by name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FileSource {
    pub kind: FileSourceKind,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Dir,
    File,
    Link,
    /// A device, a FIFO or a socket.
    Other,
}

/// One entry of a directory, as `ls -l` shows it (a link is a link: its own mode and size).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    pub size: u64,
    /// The mode as `ls -l` prints it: `drwxr-xr-x`.
    pub mode: String,
    pub uid: u32,
    pub gid: u32,
    /// The owner's and group's names in the container's /etc/passwd and /etc/group, if any.
    pub user: Option<String>,
    pub group: Option<String>,
    /// Unix seconds.
    pub mtime: i64,
    /// A link's target as written (never followed out of the root).
    pub link_target: Option<String>,
    /// A link that names a directory, resolved inside the root.
    pub link_to_dir: bool,
}

/// A file opened in the viewer: its text, or `binary` (then no text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FileContent {
    pub path: String,
    pub size: u64,
    pub binary: bool,
    pub text: Option<String>,
}

/// A tar of a file or directory, for the browser to save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FileDownload {
    /// `NAME.tar`.
    pub file_name: String,
    pub data_base64: String,
}
