//! What a layer changes over the layers below it (`diff`): a writable container's upper
//! directory over its image, or an image's top layer over its parent.
//!
//! Read the overlay way, as `pack` reads it: a whiteout (a 0:0 character device) deletes what
//! the lower layers have at its path; an opaque directory hides everything they have under it.
//! Anything else present in the top layer is added when the layers below have nothing at its
//! path, else changed (a directory copied up because something under it changed is changed, as
//! Podman reports `C /etc` when a file in /etc went). An added directory's content is added
//! too. Paths are absolute as the container sees them, in name order.

use std::io;
use std::path::{Path, PathBuf};

use super::view::{is_opaque, is_whiteout, LayerView};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    Changed,
    Added,
    Deleted,
}

impl ChangeKind {
    /// Podman's letter: C, A or D.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Changed => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Absolute, as seen in the container: `/etc/services`.
    pub path: String,
    pub kind: ChangeKind,
}

/// The changes of `top` (a layer directory) over `lower` (the layers below, top first).
pub fn changes(top: &Path, lower: &[PathBuf]) -> io::Result<Vec<Change>> {
    let view = LayerView::new(lower);
    let mut out = Vec::new();
    walk(top, Path::new(""), &view, false, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// `rel`: the directory's path from the root; `added`: it is new, so all under it is.
fn walk(top: &Path, rel: &Path, view: &LayerView, added: bool, out: &mut Vec<Change>) -> io::Result<()> {
    let dir = top.join(rel);
    let mut names: Vec<_> = std::fs::read_dir(&dir)?.map(|e| e.map(|e| e.file_name())).collect::<io::Result<_>>()?;
    names.sort();
    // An opaque directory (not new) hides what the layers below had in it: each is deleted,
    // unless this layer has it again.
    if !added && !rel.as_os_str().is_empty() && is_opaque(&dir) {
        for name in view.list_dir(&shown(rel)).ok().flatten().unwrap_or_default().into_iter().map(|(n, _)| n) {
            if !names.contains(&name) {
                out.push(Change { path: shown(&rel.join(&name)), kind: ChangeKind::Deleted });
            }
        }
    }
    for name in names {
        let rel = rel.join(&name);
        let meta = std::fs::symlink_metadata(top.join(&rel))?;
        let below = !added && view.lookup(&rel).is_some();
        if is_whiteout(&meta) {
            if below {
                out.push(Change { path: shown(&rel), kind: ChangeKind::Deleted });
            }
            continue;
        }
        let kind = if below { ChangeKind::Changed } else { ChangeKind::Added };
        out.push(Change { path: shown(&rel), kind });
        if meta.is_dir() {
            walk(top, &rel, view, kind == ChangeKind::Added, out)?;
        }
    }
    Ok(())
}

fn shown(rel: &Path) -> String {
    format!("/{}", rel.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn whiteout(path: &Path) {
        nix::sys::stat::mknod(path, nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0)
            .expect("mknod (the tests run as root)");
    }

    #[test]
    fn added_changed_and_deleted_as_podman_reports_them() {
        let t = tempfile::tempdir().unwrap();
        let (lower, top) = (t.path().join("lower"), t.path().join("top"));
        for d in ["etc/ssl", "usr/bin", "var/old/deep"] {
            std::fs::create_dir_all(lower.join(d)).unwrap();
        }
        std::fs::write(lower.join("etc/services"), "x").unwrap();
        std::fs::write(lower.join("etc/ssl/cert"), "x").unwrap();
        std::fs::write(lower.join("var/old/deep/f"), "x").unwrap();
        std::fs::write(lower.join("var/old/g"), "x").unwrap();
        // the container: a new file at /, a deleted /etc/services, a new dir with content,
        // a changed binary, /var/old made opaque with one file written again
        for d in ["etc", "usr/bin", "new/sub", "var/old"] {
            std::fs::create_dir_all(top.join(d)).unwrap();
        }
        std::fs::write(top.join("touched"), "").unwrap();
        whiteout(&top.join("etc/services"));
        whiteout(&top.join("etc/never-was"));
        std::fs::write(top.join("usr/bin/tool"), "new").unwrap();
        std::fs::write(top.join("new/sub/f"), "").unwrap();
        symlink("/nowhere", top.join("new/link")).unwrap();
        xattr::set(top.join("var/old"), "trusted.overlay.opaque", b"y").unwrap();
        std::fs::write(top.join("var/old/g"), "again").unwrap();

        let got: Vec<String> =
            changes(&top, &[lower]).unwrap().into_iter().map(|c| format!("{} {}", c.kind.letter(), c.path)).collect();
        assert_eq!(
            got,
            [
                "C /etc",
                "D /etc/services",
                "A /new",
                "A /new/link",
                "A /new/sub",
                "A /new/sub/f",
                "A /touched",
                "C /usr",
                "C /usr/bin",
                "A /usr/bin/tool",
                "C /var",
                "C /var/old",
                "D /var/old/deep",
                "C /var/old/g",
            ]
        );
    }
}
