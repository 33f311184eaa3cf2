//! `berth cp` both ways, for running and stopped containers, and `berth top`.

use crate::World;

#[test]
fn files_and_directories_are_copied_both_ways_running_or_not() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "-d", "--name", "box", &img, "sleep", "1000"]);
    let host = w.dir.path().join("host");
    std::fs::create_dir_all(host.join("tree/sub")).unwrap();
    std::fs::write(host.join("tree/sub/leaf"), "leaf\n").unwrap();
    std::fs::write(host.join("note.txt"), "note\n").unwrap();

    // Into a directory, and to a new name.
    w.ok(&["cp", host.join("note.txt").to_str().unwrap(), "box:/tmp"]);
    w.ok(&["cp", host.join("tree").to_str().unwrap(), "box:/srv"]);
    assert_eq!(w.ok(&["exec", "box", "cat", "/tmp/note.txt", "/srv/sub/leaf"]), "note\nleaf\n");
    // Out of it.
    w.ok(&[
        "exec",
        "box",
        "sh",
        "-c",
        "mkdir -p /data/d && echo made inside > /data/d/f && ln -s /etc/shadow /data/d/link",
    ]);
    let out = host.join("out");
    w.ok(&["cp", "box:/data/d", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(out.join("f")).unwrap(), "made inside\n");
    // A symlink comes as a symlink: nothing is read through it on either side.
    assert_eq!(std::fs::read_link(out.join("link")).unwrap(), std::path::Path::new("/etc/shadow"));

    // A stopped container's files, both ways.
    w.ok(&["stop", "-t", "0", "box"]);
    w.ok(&["cp", host.join("note.txt").to_str().unwrap(), "box:/root/later.txt"]);
    w.ok(&["cp", "box:/root/later.txt", host.join("later").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(host.join("later")).unwrap(), "note\n");
    w.ok(&["start", "box"]);
    assert_eq!(w.ok(&["exec", "box", "cat", "/root/later.txt", "/data/d/f"]), "note\nmade inside\n");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&w.root().display().to_string()), "no mount left on the host");

    let err = w.fails(&["cp", "box:/no/such", host.to_str().unwrap()]);
    assert!(err.contains("\"/no/such\" could not be found in container box"), "{err}");
    let err = w.fails(&["cp", "/no/such/file", "box:/tmp"]);
    assert!(err.contains("\"/no/such/file\" could not be found on the host"), "{err}");
}

#[test]
fn top_lists_the_containers_processes() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "-d", "--name", "t", "-u", "nobody", &img, "sh", "-c", "sleep 1000 & exec sleep 999"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let out = loop {
        let out = w.ok(&["top", "t"]);
        if out.lines().count() == 3 {
            break out;
        }
        assert!(std::time::Instant::now() < deadline, "{out}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("USER") && lines[0].ends_with("COMMAND"), "{out}");
    let cols = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let init = lines.iter().map(|l| cols(l)).find(|c| c.last().map(String::as_str) == Some("999")).unwrap();
    assert_eq!((init[0].as_str(), init[1].as_str()), ("nobody", "1"), "the container's user and pid: {out}");
    let child = lines.iter().map(|l| cols(l)).find(|c| c.last().map(String::as_str) == Some("1000")).unwrap();
    assert_eq!(child[2], "1", "its parent is the init: {out}");
    let err = w.fails(&["top", "nosuch"]);
    assert!(err.contains("no container with name or ID \"nosuch\""), "{err}");
}
