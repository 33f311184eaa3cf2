//! Pulling: the image as stored, the layer tree on disk, compressions, platforms, sharing.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use berth_testkit::{Compression, Flavor, ImageSpec, LayerBuilder};
use serde_json::Value;

use crate::{chain_ids, World};

#[test]
fn pulls_busybox_and_lists_it_like_podman() {
    let w = World::new();
    let pushed = w.push_busybox("busybox:latest");
    let reference = w.image_ref("busybox");
    let out = w.berth(&["pull", &reference]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = pushed.config_digest.trim_start_matches("sha256:");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id, "pull prints the image id");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("Trying to pull {}/busybox:latest...", w.registry.addr())), "{stderr}");
    assert!(stderr.contains(&format!("Copying blob {} done", &pushed.layer_digests[0][7..19])), "{stderr}");

    let listing = w.ok(&["images"]);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    let header: Vec<&str> = lines[0].split("  ").filter(|s| !s.is_empty()).map(str::trim).collect();
    assert_eq!(header, ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]);
    let row = lines[1];
    assert!(row.starts_with(&format!("{}/busybox  ", w.registry.addr())), "{row}");
    assert!(row.contains("  latest  "), "{row}");
    assert!(row.contains(&id[..12]), "{row}");
    assert!(row.contains(" MB") || row.contains(" kB"), "size column: {row}");

    assert_eq!(w.ok(&["images", "-q"]).trim(), &id[..12]);
    assert!(w.ok(&["images", "--digests"]).contains(&pushed.manifest_digest));

    let json: Value = serde_json::from_str(&w.ok(&["images", "--format", "json"])).unwrap();
    assert_eq!(json[0]["Id"], id);
    assert_eq!(json[0]["Digest"], pushed.manifest_digest);
    assert_eq!(json[0]["RepoTags"][0], format!("{reference}:latest"));
    assert_eq!(json[0]["RepoDigests"][0], format!("{reference}@{}", pushed.manifest_digest));

    let inspect: Value = serde_json::from_str(&w.ok(&["image", "inspect", &reference])).unwrap();
    assert_eq!(inspect[0]["Id"], id);
    assert_eq!(inspect[0]["RootFS"]["Layers"][0], pushed.diff_ids[0]);
    assert_eq!(inspect[0]["Config"]["Cmd"][0], "sh");
    // short names match a local image on any registry, as in podman
    assert_eq!(w.ok(&["image", "inspect", "--format", "{{.Id}}", "busybox"]).trim(), id);
    assert_eq!(w.ok(&["image", "inspect", "--format", "{{.Id}}", &id[..8]]).trim(), id);

    // the layer really is the busybox root filesystem
    let layer = w.layer_dir(&pushed.diff_ids[0]);
    let sh = std::fs::read_link(layer.join("bin/sh")).unwrap();
    assert_eq!(sh.to_str(), Some("busybox"));
    assert_eq!(std::fs::read(layer.join("bin/busybox")).unwrap(), std::fs::read("/bin/busybox").unwrap());

    let history = w.ok(&["image", "history", &reference]);
    assert!(history.starts_with("ID            CREATED"), "{history}");
    assert!(history.lines().nth(1).unwrap().starts_with(&id[..12]), "{history}");

    // pulling again reuses everything and gives the same id
    let again = w.berth(&["pull", &reference]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("skipped: already exists"));
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), id);
    assert_eq!(w.ok(&["pull", "-q", &reference]).trim(), id, "-q prints only the id");
}

#[test]
fn pulls_by_digest() {
    let w = World::new();
    let pushed = w.push_busybox("busybox:1");
    let by_digest = format!("{}@{}", w.image_ref("busybox"), pushed.manifest_digest);
    let out = w.ok(&["pull", "-q", &by_digest]);
    assert_eq!(out.trim(), pushed.config_digest.trim_start_matches("sha256:"));
    // no tag was pulled, so the image is listed without one but can be found by its digest
    let inspect: Value = serde_json::from_str(&w.ok(&["image", "inspect", &by_digest])).unwrap();
    assert_eq!(inspect[0]["RepoTags"].as_array().unwrap().len(), 0);
    assert!(w.ok(&["images"]).contains("<none>"));
}

/// A base layer and a layer on top exercising every kind of entry.
fn layered_image(compression: Compression, flavor: Flavor) -> ImageSpec {
    let mut base = LayerBuilder::new();
    base.mtime(1_600_000_000)
        .dir("etc", 0o755)
        .file("etc/gone", "deleted above", 0o644)
        .dir("opaque", 0o755)
        .file("opaque/old", "hidden by the opaque dir above", 0o644)
        .file("keep", "kept", 0o644);
    let mut top = LayerBuilder::new();
    top.mtime(1_700_000_000)
        .whiteout("etc/gone")
        .opaque("opaque")
        .file("opaque/new", "new", 0o644)
        .file_owned("data/owned", "owned", 0o640, 1234, 5678)
        .hardlink("data/hardlink", "data/owned")
        .symlink("data/rel", "owned")
        .symlink("data/abs", "/etc/passwd")
        .symlink("data/dangling", "../nowhere")
        .fifo("data/fifo", 0o600)
        .char_device("data/null", 1, 3, 0o666)
        .block_device("data/block", 7, 0, 0o660)
        .file("data/suid", "x", 0o4755)
        .file("data/sgid", "x", 0o2755)
        .dir("data/sticky", 0o1777)
        .file_with_xattrs("data/xattrs", "x", 0o644, &[("user.berth", b"hello"), ("trusted.berth", b"root-only")]);
    ImageSpec::new().flavor(flavor).layer(base.build(), compression).layer(top.build(), compression)
}

fn check_layer_tree(w: &World, diff_ids: &[String]) {
    let chains = chain_ids(diff_ids);
    let base = w.layer_dir(&chains[0]);
    let top = w.layer_dir(&chains[1]);
    assert_eq!(std::fs::read_to_string(base.join("keep")).unwrap(), "kept");
    assert_eq!(std::fs::metadata(base.join("keep")).unwrap().mtime(), 1_600_000_000);

    // whiteout: a 0:0 character device, the .wh. name itself absent
    let wh = std::fs::symlink_metadata(top.join("etc/gone")).unwrap();
    assert!(wh.file_type().is_char_device(), "whiteout is a char device");
    assert_eq!(wh.rdev(), 0);
    assert!(!top.join("etc/.wh.gone").exists());
    // opaque dir: the overlay xattr, the marker absent
    assert_eq!(xattr::get(top.join("opaque"), "trusted.overlay.opaque").unwrap().as_deref(), Some(&b"y"[..]));
    assert!(!top.join("opaque/.wh..wh..opq").exists());
    assert!(top.join("opaque/new").exists());

    let owned = std::fs::metadata(top.join("data/owned")).unwrap();
    assert_eq!((owned.uid(), owned.gid(), owned.mode() & 0o7777), (1234, 5678, 0o640));
    assert_eq!(owned.mtime(), 1_700_000_000);
    let hard = std::fs::metadata(top.join("data/hardlink")).unwrap();
    assert_eq!(hard.ino(), owned.ino(), "hardlink shares the inode");
    assert_eq!(owned.nlink(), 2);
    assert_eq!(std::fs::read_link(top.join("data/rel")).unwrap().to_str(), Some("owned"));
    assert_eq!(std::fs::read_link(top.join("data/abs")).unwrap().to_str(), Some("/etc/passwd"));
    assert_eq!(std::fs::read_link(top.join("data/dangling")).unwrap().to_str(), Some("../nowhere"));
    assert!(std::fs::symlink_metadata(top.join("data/fifo")).unwrap().file_type().is_fifo());
    let null = std::fs::symlink_metadata(top.join("data/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!((libc::major(null.rdev()), libc::minor(null.rdev())), (1, 3));
    let block = std::fs::symlink_metadata(top.join("data/block")).unwrap();
    assert!(block.file_type().is_block_device());
    assert_eq!((libc::major(block.rdev()), libc::minor(block.rdev())), (7, 0));
    assert_eq!(std::fs::metadata(top.join("data/suid")).unwrap().permissions().mode() & 0o7777, 0o4755);
    assert_eq!(std::fs::metadata(top.join("data/sgid")).unwrap().permissions().mode() & 0o7777, 0o2755);
    assert_eq!(std::fs::metadata(top.join("data/sticky")).unwrap().permissions().mode() & 0o7777, 0o1777);
    assert_eq!(xattr::get(top.join("data/xattrs"), "user.berth").unwrap().as_deref(), Some(&b"hello"[..]));
    assert_eq!(xattr::get(top.join("data/xattrs"), "trusted.berth").unwrap().as_deref(), Some(&b"root-only"[..]));
}

#[test]
fn unpacks_every_kind_of_entry_for_each_compression_and_media_type() {
    let w = World::new();
    for (i, (compression, flavor)) in [
        (Compression::Gzip, Flavor::Oci),
        (Compression::Zstd, Flavor::Oci),
        (Compression::None, Flavor::Oci),
        (Compression::Gzip, Flavor::Docker),
        (Compression::None, Flavor::Docker),
    ]
    .into_iter()
    .enumerate()
    {
        let tag = format!("layered:{i}");
        let pushed = w.push(&tag, &layered_image(compression, flavor));
        let id = w.ok(&["pull", "-q", &w.image_ref(&tag)]);
        assert_eq!(id.trim(), &pushed.config_digest[7..], "{compression:?} {flavor:?}");
        check_layer_tree(&w, &pushed.diff_ids);
    }
    // same content, same diff ids: every variant shares the two unpacked layers
    assert_eq!(w.layer_dirs().len(), 2, "{:?}", w.layer_dirs());
}

#[test]
fn picks_the_platform_from_an_index() {
    let w = World::new();
    let (host_arch, host_variant) = berth_testkit::image::host_platform();
    let other = if host_arch == "arm64" { ("s390x", None) } else { ("arm64", Some("v8")) };
    let mut host_layer = LayerBuilder::new();
    host_layer.file("which", "host", 0o644);
    let mut other_layer = LayerBuilder::new();
    other_layer.file("which", "other", 0o644);
    let specs = [
        ImageSpec::new().platform("linux", other.0, other.1).layer(other_layer.build(), Compression::Gzip),
        ImageSpec::new().platform("linux", host_arch, host_variant).layer(host_layer.build(), Compression::Gzip),
    ];
    let (index_digest, pushed) =
        crate::block_on(berth_testkit::push_index(w.registry.addr(), None, "multi:1", &specs)).unwrap();
    let reference = w.image_ref("multi:1");

    let id = w.ok(&["pull", "-q", &reference]);
    assert_eq!(id.trim(), &pushed[1].config_digest[7..], "the host's platform is chosen");
    let inspect: Value = serde_json::from_str(&w.ok(&["image", "inspect", &reference])).unwrap();
    let digests = inspect[0]["RepoDigests"].to_string();
    assert!(digests.contains(&index_digest) && digests.contains(&pushed[1].manifest_digest), "{digests}");

    let platform = match other.1 {
        Some(v) => format!("linux/{}/{v}", other.0),
        None => format!("linux/{}", other.0),
    };
    let id = w.ok(&["pull", "-q", "--platform", &platform, &reference]);
    assert_eq!(id.trim(), &pushed[0].config_digest[7..], "--platform overrides");
    let layer = w.layer_dir(&pushed[0].diff_ids[0]);
    assert_eq!(std::fs::read_to_string(layer.join("which")).unwrap(), "other");

    let err = w.fails(&["pull", "--platform", "linux/riscv64", &reference]);
    assert!(err.contains("no image for platform linux/riscv64"), "{err}");
    assert!(err.contains(&format!("linux/{}", other.0)) && err.contains(&format!("linux/{host_arch}")), "{err}");
}

#[test]
fn layers_are_shared_and_freed_with_their_last_image() {
    let w = World::new();
    let base = berth_testkit::busybox_rootfs().unwrap().build();
    let mut extra = LayerBuilder::new();
    extra.file("app", "app", 0o755);
    let a = w.push("a:1", &ImageSpec::new().layer(base.clone(), Compression::Gzip));
    let b = w.push("b:1", &ImageSpec::new().layer(base, Compression::Gzip).layer(extra.build(), Compression::Gzip));
    w.ok(&["pull", &w.image_ref("a:1")]);
    let out = w.berth(&["pull", &w.image_ref("b:1")]);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains(&format!("Copying blob {} skipped: already exists", &a.layer_digests[0][7..19])));
    assert_eq!(w.layer_dirs().len(), 2);

    let removed = w.ok(&["rmi", &w.image_ref("b:1")]);
    assert_eq!(removed, format!("Untagged: {}\nDeleted: {}\n", w.image_ref("b:1"), &b.config_digest[7..]));
    assert_eq!(w.layer_dirs(), vec![a.diff_ids[0][7..].to_string()], "the shared base stays");
    assert!(w.layer_dir(&a.diff_ids[0]).join("bin/busybox").exists());
    assert!(!w.blobs().contains(&b.layer_digests[1][7..].to_string()));

    w.ok(&["rmi", &w.image_ref("a:1")]);
    assert!(w.layer_dirs().is_empty());
    assert!(w.blobs().is_empty(), "{:?}", w.blobs());
    assert_eq!(w.ok(&["images", "-q"]), "");
}

#[test]
fn concurrent_pulls_of_the_same_image_agree() {
    let w = World::new();
    let mut big = LayerBuilder::new();
    let noise: Vec<u8> = (0..8_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    big.file("noise", &noise, 0o644);
    let pushed = w.push(
        "big:1",
        &ImageSpec::new()
            .layer(big.build(), Compression::Gzip)
            .layer(berth_testkit::busybox_rootfs().unwrap().build(), Compression::Gzip),
    );
    let reference = w.image_ref("big:1");
    let children: Vec<_> = (0..4)
        .map(|_| {
            w.cmd()
                .args(["pull", "-q", &reference])
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), &pushed.config_digest[7..]);
    }
    assert_eq!(w.layer_dirs().len(), 2);
    assert_eq!(w.ok(&["images", "-q"]).lines().count(), 1);
    assert_eq!(std::fs::read(w.layer_dir(&pushed.diff_ids[0]).join("noise")).unwrap(), noise);
}

#[test]
fn short_names_aliases_search_registries_and_mirrors_from_drop_ins() {
    let w = World::new();
    let addr = w.registry.addr().to_string();
    w.push_busybox("library/busybox:latest");
    w.push_busybox("team/tools:1");
    // a machine set up as for Podman: the user's registries.conf and a drop-in beside it
    let conf = w.dir.path().join("home/.config/containers");
    std::fs::create_dir_all(conf.join("registries.conf.d")).unwrap();
    std::fs::write(conf.join("registries.conf"), "unqualified-search-registries = [\"nothing.invalid\"]\n").unwrap();
    std::fs::write(
        conf.join("registries.conf.d/50-offline.conf"),
        format!(
            "unqualified-search-registries = [\"{addr}\"]\n[aliases]\n\"bb\" = \"docker.io/library/busybox\"\n\
             [[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n\
             [[registry.mirror]]\nlocation = \"{addr}\"\ninsecure = true\n\
             [[registry]]\nlocation = \"{addr}\"\ninsecure = true\n"
        ),
    )
    .unwrap();
    let berth = |args: &[&str]| {
        let out = w.cmd().env_remove("CONTAINERS_REGISTRIES_CONF").args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // an alias, pulled from Docker Hub's mirror: the name stays Docker Hub's
    berth(&["pull", "-q", "bb"]);
    // a short name found on the search registry the drop-in names (it replaced the main file's)
    berth(&["pull", "-q", "team/tools:1"]);
    let names = berth(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut names: Vec<&str> = names.lines().collect();
    names.sort();
    assert_eq!(names, [format!("{addr}/team/tools:1"), "docker.io/library/busybox:latest".to_string()]);
    assert_eq!(berth(&["run", "--rm", "bb", "echo", "from the mirror"]), "from the mirror\n");
}
