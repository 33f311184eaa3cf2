//! Tags, removal and pruning.

use serde_json::Value;

use crate::World;

#[test]
fn tag_untag_rmi_and_prune() {
    let w = World::new();
    let pushed = w.push_busybox("busybox:1");
    let id = &pushed.config_digest[7..];
    w.ok(&["pull", &w.image_ref("busybox:1")]);

    w.ok(&["tag", &w.image_ref("busybox:1"), "localhost/mine:v1", "other"]);
    let names: Value = serde_json::from_str(&w.ok(&["image", "inspect", id])).unwrap();
    let tags = names[0]["RepoTags"].to_string();
    for n in ["localhost/mine:v1", "docker.io/library/other:latest", &w.image_ref("busybox:1")] {
        assert!(tags.contains(n), "{n} in {tags}");
    }
    assert_eq!(w.ok(&["images"]).lines().count(), 4, "one row per name");

    let err = w.fails(&["rmi", &id[..12]]);
    assert!(err.contains("more than one name") && err.contains("--force"), "{err}");

    assert_eq!(w.ok(&["rmi", "localhost/mine:v1"]), "Untagged: localhost/mine:v1\n");
    w.ok(&["untag", id, "other"]);
    assert_eq!(w.ok(&["images"]).lines().count(), 2);
    // a digested name is a repo digest, not a tag: untagging it leaves the tag (Podman #11557)
    let name = w.image_ref("busybox:1");
    let digest = w.ok(&["inspect", "--format", "{{.Digest}}", &name]).trim().to_string();
    w.ok(&["untag", &name, &format!("{name}@{digest}")]);
    assert_eq!(w.berth(&["image", "exists", &name]).status.code(), Some(0));
    let err = w.fails(&["untag", &name, &format!("{name}@sha256:{}", "0".repeat(64))]);
    assert!(err.contains("tag not known"), "{err}");

    let err = w.fails(&["tag", id, "Bad:Name"]);
    assert!(err.contains("\"Bad:Name\""), "{err}");

    // a dangling image: its last name moves to another image
    let mut l = berth_testkit::LayerBuilder::new();
    l.file("v2", "v2", 0o644);
    let v2 = w.push("busybox:1", &berth_testkit::ImageSpec::new().layer(l.build(), berth_testkit::Compression::Gzip));
    w.ok(&["pull", &w.image_ref("busybox:1")]);
    let listing = w.ok(&["images"]);
    assert!(listing.lines().any(|l| l.starts_with("<none>") && l.contains(&id[..12])), "{listing}");

    assert_eq!(w.ok(&["image", "prune", "-f"]), format!("{id}\n"));
    assert_eq!(w.ok(&["images", "-q", "--no-trunc"]).trim(), format!("sha256:{}", &v2.config_digest[7..]));
    assert_eq!(w.ok(&["image", "prune", "-f"]), "", "nothing left dangling");
    assert_eq!(w.ok(&["image", "prune", "-a", "-f"]), format!("{}\n", &v2.config_digest[7..]));
    assert!(w.layer_dirs().is_empty());
}
