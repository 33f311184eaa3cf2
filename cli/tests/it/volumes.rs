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
    w.ok(&["run", "-d", "--name", "user", "-v", "web-data:/srv", &img, "sleep", "100"]);
    let v: Value = serde_json::from_str(&w.ok(&["volume", "inspect", "web-data"])).unwrap();
    assert_eq!(v[0]["Labels"], json!({"app": "web"}));
    assert_eq!(v[0]["UsedBy"], json!(["user"]));
    let err = w.fails(&["volume", "rm", "web-data"]);
    assert!(err.contains("volume web-data is being used by the following container(s): user"), "{err}");
    assert_eq!(w.ok(&["volume", "prune", "-f"]), "unused\n");
    assert_eq!(w.ok(&["volume", "rm", "-f", "web-data"]), "web-data\n");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "its user went first");
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "");
    assert!(!w.root().join("volumes/web-data").exists());
    let err = w.fails(&["volume", "inspect", "web-data"]);
    assert!(err.contains("no volume with name \"web-data\" found: no such volume"), "{err}");

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
