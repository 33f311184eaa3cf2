//! Hostile image content at run time: account files that are devices, FIFOs or links out of
//! the image, and volume mount points under an absolute link. Berth reads a container's files
//! through the container's own root (or the image's layers as one tree), so every call ends
//! in bounded time with the container's answer or a clear error, and the host is never read.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use berth_testkit::{Compression, LayerBuilder};

use crate::World;

/// busybox with `top` over it, pushed and pulled; its reference.
fn image_with(w: &World, tag: &str, top: LayerBuilder) -> String {
    let spec = berth_testkit::busybox_image().unwrap().layer(top.build(), Compression::Gzip);
    w.push(tag, &spec);
    let reference = w.image_ref(tag);
    w.ok(&["pull", "-q", &reference]);
    reference
}

/// Runs berth, failing the test if it takes more than 20 seconds (a hang, today's bug).
fn bounded(w: &World, args: &[&str]) -> Output {
    let mut child = w.cmd().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("berth {args:?} still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ok(w: &World, args: &[&str]) -> String {
    let out = bounded(w, args);
    assert!(out.status.success(), "berth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn fails(w: &World, args: &[&str]) -> String {
    let out = bounded(w, args);
    assert!(!out.status.success(), "berth {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

/// The USER column of `top` for the container's first process.
fn top_user(w: &World, id: &str) -> String {
    let out = ok(w, &["top", id]);
    out.lines().nth(1).and_then(|l| l.split_whitespace().next()).unwrap_or_default().to_string()
}

#[test]
fn account_files_that_are_devices_or_fifos_never_hang() {
    let w = World::new();
    let mut zero = LayerBuilder::new();
    zero.symlink("etc/passwd", "/dev/zero");
    let zero = image_with(&w, "zero:1", zero);
    let mut fifo = LayerBuilder::new();
    fifo.fifo("etc/passwd", 0o644);
    let fifo = image_with(&w, "fifo:1", fifo);

    // Root needs no lookup: the container runs (its own programs must not read the file:
    // busybox's `id` would read /dev/zero for ever, as it would under Podman).
    assert_eq!(ok(&w, &["run", "--rm", &zero, "echo", "ran"]), "ran\n");
    assert_eq!(ok(&w, &["run", "--rm", &fifo, "echo", "ran"]), "ran\n");
    // The image has no /dev/zero (the runtime makes /dev): there is no such user.
    let err = fails(&w, &["run", "--rm", "-u", "app", &zero, "true"]);
    assert!(err.contains("unable to find user app"), "{err}");
    let err = fails(&w, &["run", "--rm", "-u", "app", &fifo, "true"]);
    assert!(err.contains("the image's /etc/passwd is a FIFO, not a regular file"), "{err}");

    // Running, the container's /etc/passwd is its /dev/zero: top shows ids, exec says why.
    let id = ok(&w, &["run", "-d", &zero, "sleep", "60"]);
    let id = id.trim();
    assert_eq!(top_user(&w, id), "0");
    let err = fails(&w, &["exec", "-u", "app", id, "true"]);
    assert!(err.contains("/etc/passwd is a character device, not a regular file"), "{err}");
    let id2 = ok(&w, &["run", "-d", &fifo, "sleep", "60"]);
    assert_eq!(top_user(&w, id2.trim()), "0");
    ok(&w, &["rm", "-f", "-t", "0", id, id2.trim()]);
}

#[test]
fn links_in_the_image_name_its_files_not_the_hosts() {
    let w = World::new();
    // /etc/passwd is an absolute link; from the host's side it would name the host's file.
    let mut top = LayerBuilder::new();
    top.file("etc/accounts", "captain:x:0:0:captain:/root:/bin/sh\ncrew:x:1000:1000::/home/app:/bin/sh\n", 0o644)
        .symlink("etc/passwd", "/etc/accounts")
        .file("etc/shadow", "decoy:x:0:0::/:/bin/sh\n", 0o644)
        .symlink("etc/users", "/etc/shadow");
    let img = image_with(&w, "links:1", top);
    assert_eq!(ok(&w, &["run", "--rm", "-u", "crew", &img, "id", "-u"]), "1000\n");
    let id = ok(&w, &["run", "-d", &img, "sleep", "60"]);
    let id = id.trim();
    assert_eq!(top_user(&w, id), "captain");
    assert_eq!(ok(&w, &["exec", "-u", "crew", id, "id", "-u"]), "1000\n");
    ok(&w, &["rm", "-f", "-t", "0", id]);
}

#[test]
fn a_volume_under_an_absolute_link_copies_the_images_files_only() {
    let w = World::new();
    // /data -> /usr: a volume at /data/share gets the image's /usr/share, never the host's.
    let mut top = LayerBuilder::new();
    top.symlink("data", "/usr").file("usr/share/from-image", "image", 0o644);
    let img = image_with(&w, "volume-link:1", top);
    assert_eq!(ok(&w, &["run", "--rm", "-v", "shared:/data/share", &img, "ls", "/usr/share"]), "from-image\n");
    let dir = w.root().join("volumes/shared/_data");
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["from-image"], "{}", dir.display());
}
