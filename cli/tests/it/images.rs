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
    for n in ["localhost/mine:v1", "localhost/other:latest", &w.image_ref("busybox:1")] {
        assert!(tags.contains(n), "{n} in {tags}");
    }
    w.ok(&["image", "exists", "localhost/other:latest"]);
    w.ok(&["image", "exists", "other"]);
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

#[test]
fn history_formats_as_podman() {
    let w = World::new();
    let pushed = w.push_busybox("busybox:1");
    let id = &pushed.config_digest[7..];
    let img = w.image_ref("busybox:1");
    w.ok(&["pull", "-q", &img]);
    let rows = w.ok(&["history", "--format", "{{.ID}}\\t{{.ID}}", &img]);
    assert!(rows.lines().all(|r| r.contains('\t')), "tabs stay tabs without `table`: {rows:?}");
    assert!(rows.starts_with(&format!("{}\t{}\n", &id[..12], &id[..12])), "{rows}");
    let json: Value = serde_json::from_str(&w.ok(&["history", "--format", "json", &img])).unwrap();
    assert_eq!(json[0]["id"], id, "the full id");
    let listed = w.ok(&["images", "--format", "{{.CreatedSince}}--{{.CreatedAt}}", &img]);
    let history = w.ok(&["image", "history", "--format", "{{.CreatedSince}}--{{.CreatedAt}}", &img]);
    assert_eq!(history.lines().next(), listed.lines().next(), "the same times as `images`");
    let raw = w.ok(&["history", "--human=false", &img]);
    assert!(raw.lines().nth(1).is_some_and(|l| l.contains("Z ")), "RFC 3339 in UTC: {raw}");
}

#[test]
fn system_df_verbose_lists_each_image_container_and_volume() {
    let w = World::new();
    let img = w.image_ref("busybox:1");
    w.push_busybox("busybox:1");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["create", "--name", "c1", "-v", "/anon", "-v", "named:/n", &img, "true"]);
    let out = w.ok(&["system", "df", "-v"]);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "Images space usage:");
    assert!(lines[1].starts_with("REPOSITORY") && lines[1].ends_with("CONTAINERS"), "{out}");
    assert!(lines[2].starts_with(img.rsplit_once(':').unwrap().0) && lines[2].ends_with(" 1"), "{out}");
    assert_eq!(lines[3], "Containers space usage:");
    assert!(lines[5].contains(" 2 ") && lines[5].ends_with("c1"), "two volumes: {out}");
    assert_eq!(lines[6], "Local Volumes space usage:");
    assert!(lines[7].starts_with("VOLUME NAME"), "{out}");
    assert!(lines[8..].iter().any(|l| l.starts_with("named ") && l.ends_with(" 1           0B")), "{out}");
}

#[test]
fn rmi_by_digest_after_a_pull_by_digest_keeps_the_tagged_image() {
    let w = World::new();
    let pushed = w.push_busybox("busybox:1");
    let img = w.image_ref("busybox:1");
    w.ok(&["pull", "-q", &img]);
    let by_digest = format!("{}@{}", img.rsplit_once(':').unwrap().0, pushed.manifest_digest);
    let before = w.ok(&["images", "-a"]);
    w.ok(&["pull", "-q", &by_digest]);
    assert_eq!(w.ok(&["images", "-a"]), before, "the same image, no new row");
    let tag_and_digest = format!("{img}@{}", pushed.manifest_digest);
    w.ok(&["untag", &img, &tag_and_digest]);
    w.ok(&["image", "exists", &img]);
    assert_eq!(w.ok(&["rmi", &by_digest]), format!("Untagged: {by_digest}\n"));
    assert_eq!(w.ok(&["images", "-a"]), before, "still there under its tag");
    let json: Value = serde_json::from_str(&w.ok(&["images", "--format", "json"])).unwrap();
    assert!(json[0]["CreatedAt"].as_str().unwrap().ends_with('Z'), "{json}");
}

fn mounted(path: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().any(|l| l.split(' ').nth(4) == Some(path))
}

#[test]
fn mount_and_umount_a_containers_files_on_the_host() {
    let w = World::new();
    let img = w.image_ref("busybox:1");
    w.push_busybox("busybox:1");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "--name", "c", &img, "sh", "-c", "echo written > /tmp/f"]);
    let path = w.ok(&["mount", "c"]).trim().to_string();
    assert_eq!(std::fs::read_to_string(format!("{path}/tmp/f")).unwrap(), "written\n");
    assert!(std::path::Path::new(&path).join("bin/busybox").exists(), "the image's layers under it");
    let id = w.ok(&["inspect", "--format", "{{.Id}}", "c"]).trim().to_string();
    assert_eq!(w.ok(&["mount", "--notruncate"]), format!("{id} {path}\n"));
    w.ok(&["mount", "c"]);
    assert_eq!(w.ok(&["umount", "c"]), format!("{id}\n"));
    assert!(mounted(&path), "mounted twice, unmounted once");
    w.ok(&["umount", "c"]);
    assert!(!mounted(&path) && !std::path::Path::new(&path).join("tmp/f").exists());
    assert_eq!(w.ok(&["mount"]), "");
    w.ok(&["mount", "c"]);
    w.ok(&["rm", "c"]);
    assert!(!mounted(&path), "rm releases the mount");

    // a running container's files too, what it writes included
    w.ok(&["run", "-d", "--name", "r", &img, "sh", "-c", "echo live > /tmp/g; sleep 100"]);
    let path = w.ok(&["mount", "r"]).trim().to_string();
    let seen = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::read_to_string(format!("{path}/tmp/g")).is_ok_and(|t| t == "live\n")
    });
    assert!(seen, "the running container's write is visible");
    w.ok(&["rm", "-f", "-t", "0", "r"]);
    assert!(!mounted(&path), "rm -f releases the mount");
}

#[test]
fn image_mount_and_mount_type_image() {
    let w = World::new();
    let pushed = w.push_busybox("busybox:1");
    let id = &pushed.config_digest[7..];
    let img = w.image_ref("busybox:1");
    w.ok(&["pull", "-q", &img]);
    let path = w.ok(&["image", "mount", &img]).trim().to_string();
    assert!(std::path::Path::new(&path).join("bin/busybox").exists());
    assert_eq!(w.ok(&["image", "mount"]), format!("{img} {path}\n"));
    let err = w.fails(&["run", "--rm", "-v", &format!("{path}:/x"), &img, "touch", "/x/new"]);
    assert!(err.contains("Read-only file system"), "read-only: {err}");
    w.ok(&["image", "mount", &img]);
    assert_eq!(w.ok(&["image", "umount", "-f", &img]), format!("{id}\n"), "-f: at once");
    assert_eq!(w.ok(&["image", "umount", &img]), "", "not mounted any more");
    assert!(!mounted(&path));
    assert_eq!(w.fails(&["image", "umount", "nope"]), "Error: nope: image not known\n");

    // --mount type=image: read-only unless rw=true; released when the container goes
    let m = format!("type=image,src={img},dst=/image-mount");
    w.ok(&["run", "--rm", "--mount", &m, &img, "test", "-x", "/image-mount/bin/busybox"]);
    let out = w.berth(&["run", "--rm", "--mount", &m, &img, "touch", "/image-mount/x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"), "{out:?}");
    assert_eq!(w.ok(&["image", "umount", &img]), "", "the container's hold went with it");
    let rw = format!("{m},rw=true");
    let cid = w.ok(&["run", "-d", "--mount", &rw, &img, "sleep", "100"]).trim().to_string();
    assert_eq!(
        w.ok(&[
            "inspect",
            "--format",
            "{{(index .Mounts 0).Type}} {{(index .Mounts 0).Source}} {{(index .Mounts 0).RW}}",
            &cid
        ]),
        format!("image {img} true\n")
    );
    w.ok(&["exec", &cid, "touch", "/image-mount/written"]);
    // an image a container only mounts is in use too
    let mut l = berth_testkit::LayerBuilder::new();
    l.file("extra", "extra\n", 0o644);
    w.push("extra:1", &berth_testkit::ImageSpec::new().layer(l.build(), berth_testkit::Compression::Gzip));
    let extra = w.image_ref("extra:1");
    w.ok(&["pull", "-q", &extra]);
    let mount_extra = format!("type=image,src={extra},dst=/extra");
    let user = w.ok(&["create", "--mount", &mount_extra, &img, "cat", "/extra/extra"]).trim().to_string();
    assert_eq!(w.ok(&["start", "-a", &user]), "extra\n");
    let err = w.fails(&["rmi", &extra]);
    assert!(err.contains(&user[..12]), "{err}");
    w.ok(&["image", "prune", "-a", "-f"]);
    w.ok(&["image", "exists", &extra]);
    w.ok(&["container", "exists", &user]);
    w.ok(&["rm", &user]);
    assert_eq!(w.ok(&["image", "umount", &img]), format!("{id}\n"));
    w.ok(&["exec", &cid, "test", "-e", "/image-mount/bin/busybox"]);
    w.ok(&["rm", "-f", "-t", "0", &cid]);
    assert!(!mounted(&path));
    let layers_clean = w.layer_dirs().iter().all(|d| !w.root().join("layers").join(d).join("diff/written").exists());
    assert!(layers_clean, "the writes went to the container's own layer");
}
