//! Layers read as one tree and written as one tar (`export`): what overlay would show, without
//! mounting it, so a running container's files can be read beside its own mount.
//!
//! Each directory's entries are the union of the layers' that overlay merges there (the top
//! one wins a name; a whiteout hides it; an opaque directory, or anything that is not a
//! directory, hides what is below). Entries are written in name order, a directory before its
//! content, with their owners, modes and times; links stay links. Overlay's own marks (its
//! whiteouts and xattrs) never appear.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::view::{is_whiteout, LayerView};

/// Writes the merged tree of `layers_top_first` to `out` as a tar; returns `out`.
pub fn write_merged_tar<W: Write>(layers_top_first: &[PathBuf], out: W) -> io::Result<W> {
    let view = LayerView::new(layers_top_first);
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    walk(&view, Path::new(""), &mut tar)?;
    tar.into_inner()
}

fn walk<W: Write>(view: &LayerView, rel: &Path, tar: &mut tar::Builder<W>) -> io::Result<()> {
    // name -> whether it is shown (a whiteout hides it from the layers below)
    let mut names = BTreeMap::new();
    for dir in view.dirs_at(rel) {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries {
            let e = e?;
            if names.contains_key(&e.file_name()) {
                continue;
            }
            let meta = std::fs::symlink_metadata(e.path())?;
            names.insert(e.file_name(), !is_whiteout(&meta));
        }
    }
    for (name, shown) in names {
        if !shown {
            continue;
        }
        let child = rel.join(&name);
        let Some(entry) = view.lookup(&child) else { continue };
        tar.append_path_with_name(&entry.host_path, &child)
            .map_err(|e| io::Error::new(e.kind(), format!("/{}: {e}", child.display())))?;
        if entry.meta.is_dir() {
            walk(view, &child, tar)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn the_tar_is_the_tree_overlay_would_show() {
        let t = tempfile::tempdir().unwrap();
        let (lower, top) = (t.path().join("lower"), t.path().join("top"));
        for d in ["etc", "opt/old", "usr"] {
            std::fs::create_dir_all(lower.join(d)).unwrap();
        }
        std::fs::write(lower.join("etc/gone"), "x").unwrap();
        std::fs::write(lower.join("etc/kept"), "lower").unwrap();
        std::fs::write(lower.join("etc/over"), "lower").unwrap();
        std::fs::write(lower.join("opt/old/f"), "x").unwrap();
        std::fs::create_dir_all(top.join("etc")).unwrap();
        std::fs::create_dir_all(top.join("opt/old")).unwrap();
        std::fs::write(top.join("etc/over"), "top").unwrap();
        nix::sys::stat::mknod(&top.join("etc/gone"), nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0)
            .expect("mknod (the tests run as root)");
        xattr::set(top.join("opt/old"), "trusted.overlay.opaque", b"y").unwrap();
        std::fs::write(top.join("opt/old/new"), "n").unwrap();
        std::fs::create_dir_all(top.join("usr")).unwrap();
        symlink("../etc/kept", top.join("usr/link")).unwrap();

        let bytes = write_merged_tar(&[top, lower], Vec::new()).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut seen = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().display().to_string();
            let mut body = String::new();
            if e.header().entry_type().is_file() {
                std::io::Read::read_to_string(&mut e, &mut body).unwrap();
            } else if let Some(l) = e.link_name().unwrap() {
                body = format!("-> {}", l.display());
            }
            seen.push(format!("{path} {body}").trim_end().to_string());
        }
        assert_eq!(
            seen,
            [
                "etc",
                "etc/kept lower",
                "etc/over top",
                "opt",
                "opt/old",
                "opt/old/new n",
                "usr",
                "usr/link -> ../etc/kept"
            ]
        );
    }
}
