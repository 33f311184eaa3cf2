//! Mounts with real containers: bind mounts read-only and read-write, named volumes keeping data
//! across containers and filled once from the image, anonymous volumes, tmpfs, a read-only root,
//! and the volume verbs.

use serde_json::{json, Value};

use crate::World;

/// busybox with content at /data, to be copied into a new volume.
fn image_with_data(w: &World) -> String {
    let mut rootfs = berth_testkit::busybox_rootfs().unwrap();
    rootfs.dir("data", 0o755).file("data/seed.txt", b"from the image\n", 0o644).dir("data/sub", 0o750);
    let base = berth_testkit::busybox_image().unwrap();
    let spec = berth_testkit::ImageSpec::new()
        .layer(rootfs.build(), berth_testkit::Compression::Gzip)
        .with_config(base.config.clone());
    w.push("data:latest", &spec);
    let r = w.image_ref("data:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

#[test]
fn bind_mounts_read_write_and_read_only() {
    let w = World::new();
    let img = image_with_data(&w);
    let host = w.dir.path().join("shared");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in.txt"), "from the host\n").unwrap();
    let rw = format!("{}:/mnt", host.display());
    let out = w.ok(&["run", "--rm", "-v", &rw, &img, "sh", "-c", "cat /mnt/in.txt; echo written > /mnt/out.txt"]);
    assert_eq!(out, "from the host\n");
    assert_eq!(std::fs::read_to_string(host.join("out.txt")).unwrap(), "written\n", "the write reached the host");

    let ro = format!("{}:/mnt:ro", host.display());
    let out = w.berth(&["run", "--rm", "-v", &ro, &img, "sh", "-c", "cat /mnt/in.txt; echo no > /mnt/x"]);
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from the host\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"), "{out:?}");
    assert!(!host.join("x").exists());

    let err = w.fails(&["run", "--rm", "-v", "/no/such/dir:/mnt", &img, "true"]);
    assert!(err.contains("bind mount source /no/such/dir: no such file or directory"), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "nothing created");
    let err = w.fails(&["run", "--rm", "-v", "data:relative", &img, "true"]);
    assert!(err.contains("invalid volume \"data:relative\""), "{err}");
}

#[test]
fn named_volumes_keep_data_and_start_with_the_images_content() {
    let w = World::new();
    let img = image_with_data(&w);
    // Created on first use, with the image's /data copied in.
    let out = w.ok(&[
        "run",
        "--rm",
        "-v",
        "store:/data",
        &img,
        "sh",
        "-c",
        "cat /data/seed.txt; stat -c %a /data/sub; echo kept > /data/mine",
    ]);
    assert_eq!(out, "from the image\n750\n");
    // A second container sees what the first wrote; the image's content is not copied again.
    let out = w.ok(&["run", "--rm", "-v", "store:/data", &img, "sh", "-c", "rm /data/seed.txt; cat /data/mine"]);
    assert_eq!(out, "kept\n");
    let out = w.ok(&["run", "--rm", "-v", "store:/data:ro", &img, "ls", "/data"]);
    assert_eq!(out, "mine\nsub\n", "the deleted seed stays deleted");
    // Mounted elsewhere, the volume is the same data.
    assert_eq!(w.ok(&["run", "--rm", "-v", "store:/elsewhere", &img, "cat", "/elsewhere/mine"]), "kept\n");

    let ls = w.ok(&["volume", "ls"]);
    assert_eq!(ls, "DRIVER      VOLUME NAME\nlocal       store\n");
    // Made by its first container, it says so once, as `volume create` would (the app's
    // volumes list and count follow volume events).
    let events = w.ok(&["events", "--stream=false", "--filter", "type=volume", "--format", "{{.Status}} {{.Name}}"]);
    assert_eq!(events, "create store\n");
    let v: Value = serde_json::from_str(&w.ok(&["volume", "inspect", "store"])).unwrap();
    assert_eq!(v[0]["Name"], "store");
    assert!(v[0]["Mountpoint"].as_str().unwrap().ends_with("/volumes/store/_data"));
}

#[test]
fn volume_verbs_and_volumes_in_use() {
    let w = World::new();
    let img = image_with_data(&w);
    assert_eq!(w.ok(&["volume", "create", "--label", "app=web", "web-data"]), "web-data\n");
    let err = w.fails(&["volume", "create", "web-data"]);
    assert!(err.contains("volume with name web-data already exists"), "{err}");
    w.ok(&["volume", "create", "unused"]);
    let id = w.ok(&["run", "-d", "--name", "user", "-v", "web-data:/srv", &img, "sleep", "100"]);
    let v: Value = serde_json::from_str(&w.ok(&["volume", "inspect", "web-data"])).unwrap();
    assert_eq!(v[0]["Labels"], json!({"app": "web"}));
    assert_eq!(v[0]["UsedBy"], json!(["user"]));
    let err = w.fails(&["volume", "rm", "web-data"]);
    let expected = format!("volume web-data is being used by the following container(s): {}", id.trim());
    assert!(err.contains(&expected), "the container by its full id: {err}");
    assert_eq!(w.ok(&["volume", "prune", "-f"]), "unused\n");
    assert_eq!(w.ok(&["volume", "rm", "-f", "web-data"]), "web-data\n");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "its user went first");
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "");
    assert!(!w.root().join("volumes/web-data").exists());
    let err = w.fails(&["volume", "inspect", "web-data"]);
    assert_eq!(err, "Error: no volume with name \"web-data\" found: no such volume\n");

    // An anonymous volume lives and dies with its container.
    w.ok(&["run", "-d", "--name", "anon", "-v", "/cache", &img, "sleep", "100"]);
    let names = w.ok(&["volume", "ls", "-q"]);
    assert_eq!(names.lines().count(), 1);
    w.ok(&["rm", "-f", "anon"]);
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn tmpfs_and_a_read_only_root() {
    let w = World::new();
    let img = image_with_data(&w);
    let out = w.ok(&[
        "run",
        "--rm",
        "--tmpfs",
        "/scratch:size=1m",
        &img,
        "sh",
        "-c",
        "echo hi > /scratch/f && cat /scratch/f && grep ' /scratch ' /proc/mounts | cut -d' ' -f3",
    ]);
    assert_eq!(out, "hi\ntmpfs\n");
    let out = w.berth(&[
        "run",
        "--rm",
        "--read-only",
        &img,
        "sh",
        "-c",
        "echo ok > /tmp/t && cat /tmp/t && echo no > /data/x",
    ]);
    assert!(!out.status.success(), "the root is read-only");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n", "/tmp stays writable");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"), "{out:?}");
}

#[test]
fn the_same_mount_twice_counts_once_and_two_at_one_path_are_refused() {
    let w = World::new();
    let img = image_with_data(&w);
    let a = w.dir.path().join("a");
    let b = w.dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let va = format!("{}:/m", a.display());
    let vb = format!("{}:/m", b.display());
    w.ok(&["run", "--rm", "-v", &va, "-v", &va, &img, "true"]);
    w.ok(&["run", "--rm", "-v", "v1:/m", "-v", "v1:/m", "--tmpfs", "/t", "--tmpfs", "/t", &img, "true"]);
    assert_eq!(
        w.fails(&["run", "--rm", "-v", &va, "-v", &vb, &img, "true"]),
        "Error: /m: duplicate mount destination\n"
    );
    assert_eq!(
        w.fails(&["run", "--rm", "-v", "v1:/t", "--tmpfs", "/t", &img, "true"]),
        "Error: /t: duplicate mount destination\n"
    );
}

#[test]
fn copy_up_waits_for_an_image_with_content_and_the_first_user_takes_the_chown() {
    let w = World::new();
    let img = image_with_data(&w);
    w.ok(&["volume", "create", "cv"]);
    let flags = |w: &World| -> (Value, Value) {
        let v: Value = serde_json::from_str(&w.ok(&["volume", "ls", "--format", "json"])).unwrap();
        (v[0]["NeedsCopyUp"].clone(), v[0]["NeedsChown"].clone())
    };
    assert_eq!(flags(&w), (json!(true), json!(true)));
    w.ok(&["run", "--rm", "-v", "cv:/nothing-here", &img, "true"]);
    assert_eq!(flags(&w), (json!(true), json!(false)), "nothing in the image there: still waiting for content");
    w.ok(&["run", "--rm", "-v", "cv:/data", &img, "true"]);
    assert_eq!(flags(&w), (json!(false), json!(false)));
    assert!(w.root().join("volumes/cv/_data/seed.txt").exists());
}

#[test]
fn prune_lists_what_it_would_remove_and_asks() {
    let w = World::new();
    let img = image_with_data(&w);
    w.ok(&["volume", "create", "kept"]);
    w.ok(&["volume", "create", "--label", "tier=cache", "cache1"]);
    w.ok(&["volume", "create", "plain"]);
    w.ok(&["create", "--name", "user", "-v", "kept:/data", &img, "true"]);
    let mut cmd = w.cmd();
    cmd.args(["volume", "prune", "--filter", "label=tier"]).stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"N\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("The following volumes will be removed:\ncache1\nAre you sure"), "{err}");
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "cache1\nkept\nplain\n", "N keeps them");
    let mut pruned: Vec<String> = w.ok(&["volume", "prune", "-f"]).lines().map(String::from).collect();
    pruned.sort();
    assert_eq!(pruned, ["cache1", "plain"]);
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "kept\n");
}

#[test]
fn export_import_and_mount() {
    let w = World::new();
    let img = image_with_data(&w);
    w.ok(&["run", "--rm", "-v", "src:/data", &img, "sh", "-c", "echo hello > /data/test"]);
    w.ok(&["volume", "create", "dst"]);
    let tar = w.dir.path().join("v.tar");
    w.ok(&["volume", "export", "src", "--output", tar.to_str().unwrap()]);
    w.ok(&["volume", "import", "dst", tar.to_str().unwrap()]);
    assert_eq!(
        w.ok(&["run", "--rm", "-v", "dst:/data", &img, "cat", "/data/test", "/data/seed.txt"]),
        "hello\nfrom the image\n"
    );
    let path = w.ok(&["volume", "mount", "dst"]);
    assert_eq!(path.trim(), w.root().join("volumes/dst/_data").to_str().unwrap());
    assert_eq!(w.ok(&["volume", "unmount", "dst"]), "dst\n");
    let err = w.fails(&["volume", "export", "nope", "--output", tar.to_str().unwrap()]);
    assert!(err.contains("no volume with name \"nope\" found"), "{err}");
}

#[test]
fn volumes_with_the_local_drivers_options_are_mounted_for_their_containers() {
    let w = World::new();
    let img = image_with_data(&w);
    let err = w.fails(&["volume", "create", "-o", "type=bind", "-o", "device=/bogus", "b"]);
    assert_eq!(err, "Error: invalid volume option device for driver 'local': stat /bogus: no such file or directory\n");
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "", "nothing made");
    let host = w.dir.path().join("bound");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "on the host\n").unwrap();
    let device = format!("device={}", host.display());
    w.ok(&["volume", "create", "-o", "type=bind", "-o", &device, "b"]);
    assert_eq!(w.ok(&["run", "--rm", "-v", "b:/vol", &img, "cat", "/vol/f"]), "on the host\n");
    w.ok(&["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m", "t"]);
    let out = w.ok(&["run", "--rm", "-v", "t:/vol", &img, "sh", "-c", "stat -f -c %T /vol; echo x > /vol/y"]);
    assert_eq!(out, "tmpfs\n");
    let v: Value = serde_json::from_str(&w.ok(&["volume", "inspect", "t"])).unwrap();
    assert_eq!(v[0]["Options"], json!({"type": "tmpfs", "device": "tmpfs", "o": "size=2m"}));
    let data = w.root().join("volumes/t/_data");
    let mounted =
        |p: &std::path::Path| std::fs::read_to_string("/proc/self/mountinfo").unwrap().contains(p.to_str().unwrap());
    assert!(mounted(&data), "mounted on the host while the volume lives");
    w.ok(&["volume", "rm", "t", "b"]);
    assert!(!mounted(&data), "released with the volume");
    assert!(host.join("f").exists(), "a bound directory is left alone");
}

#[test]
fn rm_volumes_takes_the_anonymous_ones() {
    let w = World::new();
    let img = image_with_data(&w);
    w.ok(&["run", "-v", "/anon", "-v", "named:/named", &img, "true"]);
    assert_eq!(w.ok(&["volume", "ls", "-q"]).lines().count(), 2);
    w.ok(&["rm", "-a", "--volumes"]);
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "named\n");
}
