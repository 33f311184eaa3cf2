//! Layers as GNU tar extracts them: the archives are ordinary tar, not just what the `tar`
//! crate accepts.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::process::Command;

use berth_testkit::{busybox_rootfs, LayerBuilder};

fn gnu_extract(tar: &[u8], into: &std::path::Path) {
    let file = into.with_extension("tar");
    std::fs::write(&file, tar).unwrap();
    let out = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf"])
        .arg(&file)
        .arg("-C")
        .arg(into)
        .output()
        .expect("running GNU tar");
    assert!(out.status.success(), "tar -x: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gnu_tar_extracts_every_kind_of_entry() {
    // devices and owners can only be made by root
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("SKIPPED gnu_tar_extracts_every_kind_of_entry: needs root to mknod and chown");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let long = format!("{}/file", "d".repeat(150));
    let mut b = LayerBuilder::new();
    b.dir("etc", 0o755)
        .file("etc/hosts", "127.0.0.1 localhost\n", 0o640)
        .file_owned("owned", "x", 0o600, 1000, 50)
        .symlink("etc/link", "hosts")
        .hardlink("etc/hard", "etc/hosts")
        .fifo("fifo", 0o600)
        .char_device("null", 1, 3, 0o666)
        .file_with_xattrs("xa", "", 0o644, &[("user.berth", b"yes")])
        .file(&long, "long", 0o644);
    gnu_extract(&b.build(), &root);

    let meta = std::fs::metadata(root.join("etc/hosts")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_eq!(meta.nlink(), 2);
    assert_eq!(std::fs::read_link(root.join("etc/link")).unwrap().to_str(), Some("hosts"));
    let owned = std::fs::metadata(root.join("owned")).unwrap();
    assert_eq!((owned.uid(), owned.gid()), (1000, 50));
    assert!(std::fs::metadata(root.join("fifo")).unwrap().file_type().is_fifo());
    let null = std::fs::metadata(root.join("null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), libc_makedev(1, 3));
    assert_eq!(std::fs::read_to_string(root.join(&long)).unwrap(), "long");
    assert_eq!(meta.mtime() as u64, berth_testkit::layer::DEFAULT_MTIME);
    match xattr::get(root.join("xa"), "user.berth") {
        Ok(value) => assert_eq!(value.as_deref(), Some(&b"yes"[..])),
        Err(e) => eprintln!("skipping the xattr check: {e}"),
    }
}

fn libc_makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

#[test]
fn busybox_rootfs_runs_after_gnu_tar() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    gnu_extract(&busybox_rootfs().unwrap().build(), &root);
    let out = Command::new(root.join("bin/sh")).args(["-c", "echo hello from busybox"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from busybox\n");
    let tmp = std::fs::metadata(root.join("tmp")).unwrap();
    assert_eq!(tmp.permissions().mode() & 0o7777, 0o1777);
}
