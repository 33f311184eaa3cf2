//! Hostile layers: no entry may write or link outside its layer directory. Each is refused
//! with an error naming the image, the layer digest and the entry, or contained.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use berth_testkit::{Compression, ImageSpec, LayerBuilder};
use tar::EntryType;

use crate::World;

fn find_named(dir: &Path, name: &str, hits: &mut Vec<String>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_name() == name {
                hits.push(p.display().to_string());
            }
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                find_named(&p, name, hits);
            }
        }
    }
}

/// Pushes a one-layer image and expects the pull to be refused naming the entry.
fn refused(w: &World, tag: &str, layer: LayerBuilder, entry: &str) {
    let pushed = w.push(tag, &ImageSpec::new().layer(layer.build(), Compression::Gzip));
    let reference = w.image_ref(tag);
    let err = w.fails(&["pull", &reference]);
    for part in [reference.as_str(), pushed.layer_digests[0].as_str(), &format!("\"{entry}\"")] {
        assert!(err.contains(part), "{tag}: expected {part:?} in:\n{err}");
    }
    assert!(w.layer_dirs().is_empty(), "{tag}: no layer kept: {:?}", w.layer_dirs());
    assert!(!w.ok(&["images", "-q"]).contains(&pushed.config_digest[7..19]), "{tag}: no image recorded");
}

#[test]
fn escaping_entries_are_refused_and_touch_nothing_outside() {
    let w = World::new();
    let outside = tempfile::tempdir().unwrap();
    let outside_path = outside.path().display().to_string();

    let mut l = LayerBuilder::new();
    l.raw(EntryType::Regular, b"../evil", b"", b"pwned");
    refused(&w, "dotdot:1", l, "../evil");

    let mut l = LayerBuilder::new();
    l.raw(EntryType::Regular, b"a/../../evil", b"", b"pwned");
    refused(&w, "dotdot:2", l, "a/../../evil");

    let mut l = LayerBuilder::new();
    l.symlink("link", &outside_path).raw(EntryType::Regular, b"link/evil", b"", b"pwned");
    refused(&w, "symlink:1", l, "link/evil");

    let mut l = LayerBuilder::new();
    l.symlink("up", "..").raw(EntryType::Regular, b"up/evil", b"", b"pwned");
    refused(&w, "symlink:2", l, "up/evil");

    let mut l = LayerBuilder::new();
    l.raw(EntryType::Link, b"passwd", b"../../../../../../etc/passwd", b"");
    refused(&w, "hardlink:1", l, "passwd");

    let mut l = LayerBuilder::new();
    l.symlink("etc", "/etc").raw(EntryType::Link, b"passwd", b"etc/passwd", b"");
    refused(&w, "hardlink:2", l, "passwd");

    let mut hits = Vec::new();
    find_named(w.dir.path(), "evil", &mut hits);
    find_named(outside.path(), "evil", &mut hits);
    assert!(hits.is_empty(), "written outside a layer: {hits:?}");
    assert_eq!(std::fs::metadata("/etc/passwd").unwrap().nlink(), 1, "the host's /etc/passwd gained no link");
}

#[test]
fn absolute_names_are_contained_in_the_layer() {
    let w = World::new();
    let mut l = LayerBuilder::new();
    l.raw(EntryType::Regular, b"/berth-abs-test/file", b"", b"contained").raw(
        EntryType::Link,
        b"hard",
        b"/berth-abs-test/file",
        b"",
    );
    let pushed = w.push("abs:1", &ImageSpec::new().layer(l.build(), Compression::Gzip));
    w.ok(&["pull", &w.image_ref("abs:1")]);
    let layer = w.layer_dir(&pushed.diff_ids[0]);
    assert_eq!(std::fs::read_to_string(layer.join("berth-abs-test/file")).unwrap(), "contained");
    assert_eq!(
        std::fs::metadata(layer.join("hard")).unwrap().ino(),
        std::fs::metadata(layer.join("berth-abs-test/file")).unwrap().ino()
    );
    assert!(!Path::new("/berth-abs-test").exists(), "the host root was not touched");
}
