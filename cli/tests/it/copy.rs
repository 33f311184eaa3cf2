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
    w.ok(&["cp", host.join("tree").to_str().unwrap(), "box:/data"]);
    assert_eq!(w.ok(&["exec", "box", "cat", "/tmp/note.txt", "/data/sub/leaf"]), "note\nleaf\n");
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
    assert!(err.contains("\"/no/such\" could not be found on container box"), "{err}");
    let err = w.fails(&["cp", "/no/such/file", "box:/tmp"]);
    assert!(err.contains("\"/no/such/file\" could not be found on the host"), "{err}");
}

fn cp_with_stdin(w: &World, args: &[&str], stdin: Vec<u8>) -> std::process::Output {
    use std::io::Write;
    let mut child = w
        .cmd()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(&stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

fn tar_with_owner(name: &str, uid: u64, gid: u64) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    h.set_uid(uid);
    h.set_gid(gid);
    b.append_data(&mut h, name, &b"hi\n"[..]).unwrap();
    b.into_inner().unwrap()
}

#[test]
fn cp_places_things_as_podman_does_owners_overwrite_links_and_stdin() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "-d", "--name", "box", "-u", "1234:1234", &img, "sleep", "1000"]);
    let host = w.dir.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("note"), "note\n").unwrap();

    // -a (the default) gives the container's user what is copied; -a=false keeps the tar's.
    w.ok(&["cp", host.join("note").to_str().unwrap(), "box:/tmp/"]);
    assert_eq!(w.ok(&["exec", "box", "stat", "-c", "%u:%g", "/tmp/note"]), "1234:1234\n");
    let out = cp_with_stdin(&w, &["cp", "-a=false", "-", "box:/tmp/"], tar_with_owner("a.txt", 1042, 1043));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.ok(&["exec", "box", "stat", "-c", "%u:%g", "/tmp/a.txt"]), "1042:1043\n");

    // stdin: a tar, gzipped or not, into a directory only.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar_with_owner("dir/b.txt", 0, 0)).unwrap();
    let out = cp_with_stdin(&w, &["cp", "-", "box:/tmp"], gz.finish().unwrap());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.ok(&["exec", "box", "cat", "/tmp/dir/b.txt"]), "hi\n");
    let out = cp_with_stdin(&w, &["cp", "-", "box:/tmp"], b"not a tar\n".to_vec());
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, "Error: source must be a (compressed) tar archive when copying from stdin\n");
    let out = cp_with_stdin(&w, &["cp", "-", "box:/tmp/note"], tar_with_owner("c.txt", 0, 0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, "Error: destination must be a directory when copying from stdin\n");

    // A file over a directory and a directory over a file need --overwrite, either way.
    std::fs::write(host.join("foo2"), "file\n").unwrap();
    w.ok(&["exec", "box", "mkdir", "/tmp/foo2"]);
    let err = w.fails(&["cp", host.join("foo2").to_str().unwrap(), "box:/tmp"]);
    assert!(err.contains("error creating \"/tmp/foo2\": a directory is in the way"), "{err}");
    w.ok(&["cp", "--overwrite", host.join("foo2").to_str().unwrap(), "box:/tmp"]);
    assert_eq!(w.ok(&["exec", "box", "cat", "/tmp/foo2"]), "file\n");
    std::fs::create_dir_all(host.join("dirsrc")).unwrap();
    w.ok(&["exec", "box", "touch", "/tmp/dirsrc"]);
    let err = w.fails(&["cp", host.join("dirsrc").to_str().unwrap(), "box:/tmp"]);
    assert!(err.contains("error creating \"/tmp/dirsrc\": a file is in the way"), "{err}");
    w.ok(&["cp", "--overwrite", host.join("dirsrc").to_str().unwrap(), "box:/tmp"]);
    w.ok(&["exec", "box", "test", "-d", "/tmp/dirsrc"]);
    let hostdir = w.dir.path().join("over");
    std::fs::create_dir_all(hostdir.join("foo2")).unwrap();
    let err = w.fails(&["cp", "box:/tmp/foo2", hostdir.to_str().unwrap()]);
    assert!(err.contains("error creating \"/foo2\": a directory is in the way"), "{err}");
    w.ok(&["cp", "--overwrite", "box:/tmp/foo2", hostdir.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(hostdir.join("foo2")).unwrap(), "file\n");

    // Links: a source link is followed inside the container; a dangling link as the
    // destination is written through; a trailing slash asks for a directory.
    w.ok(&["exec", "box", "sh", "-c", "mkdir -p /tmp/d/sub && echo in > /tmp/d/f && ln -s .. /tmp/d/sub/up && ln -s /tmp/nonesuch /tmp/d/x && ln -s /etc/shadow /tmp/star"]);
    let out = w.dir.path().join("viaLink");
    w.ok(&["cp", "box:/tmp/d/sub/up", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(out.join("f")).unwrap(), "in\n");
    w.ok(&["cp", host.join("note").to_str().unwrap(), "box:/tmp/d/x"]);
    assert_eq!(w.ok(&["exec", "box", "cat", "/tmp/nonesuch"]), "note\n");
    let err = w.fails(&["cp", host.join("note").to_str().unwrap(), "box:/tmp/d/nodir/"]);
    assert_eq!(err, "Error: \"/tmp/d/nodir/\" could not be found on container box: no such file or directory\n");
    // No wildcards: `*` is a name like any other.
    let err = w.fails(&["cp", "box:/tmp/*", host.to_str().unwrap()]);
    assert_eq!(err, "Error: \"/tmp/*\" could not be found on container box: no such file or directory\n");

    // Only `-` is stdout: another destination must be a directory or a regular file.
    let fifo = w.dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let err = w.fails(&["cp", "box:/tmp/note", fifo.to_str().unwrap()]);
    assert!(
        err.contains(&format!("invalid destination: \"{}\" must be a directory or a regular file", fifo.display())),
        "{err}"
    );
    // a link to a file, as /dev/stdout is to whatever holds the output, is refused the same way
    let file = w.dir.path().join("output");
    std::fs::write(&file, "").unwrap();
    let link = w.dir.path().join("stdout");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let err = w.fails(&["cp", "box:/tmp/note", link.to_str().unwrap()]);
    assert!(err.contains(&format!("\"{}\" must be a directory or a regular file", link.display())), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"", "nothing written through the link");
    let tar = w.berth(&["cp", "box:/tmp/d", "-"]).stdout;
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.contains(&"d/f".to_string()), "{names:?}");
    // --pause is accepted, as Podman's no-op.
    w.ok(&["cp", "--pause=false", host.join("note").to_str().unwrap(), "box:/tmp/paused"]);
}

#[test]
fn cp_reaches_a_stopped_containers_volumes_and_bind_mounts() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let host = w.dir.path().join("host");
    let bind = w.dir.path().join("bind");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::create_dir_all(&bind).unwrap();
    std::fs::write(host.join("f"), "f\n").unwrap();
    w.ok(&["volume", "create", "outer"]);
    w.ok(&["volume", "create", "inner"]);
    let mountpoint = |v: &str| w.ok(&["volume", "inspect", v, "--format", "{{.Mountpoint}}"]).trim().to_string();
    w.ok(&[
        "create",
        "--name",
        "c",
        "-v",
        "outer:/tmp/volume",
        "-v",
        "inner:/tmp/volume/sub",
        "-v",
        &format!("{}:/tmp/volume/mount", bind.display()),
        &img,
        "true",
    ]);
    w.ok(&["cp", host.join("f").to_str().unwrap(), "c:/tmp/volume/sub"]);
    w.ok(&["cp", host.join("f").to_str().unwrap(), "c:/tmp/volume/mount/g"]);
    assert_eq!(std::fs::read_to_string(std::path::Path::new(&mountpoint("inner")).join("f")).unwrap(), "f\n");
    assert_eq!(std::fs::read_to_string(bind.join("g")).unwrap(), "f\n");
    // The mount points made for the copy are gone again: the outer volume is as it was.
    assert_eq!(crate::list_dir(std::path::Path::new(&mountpoint("outer"))), Vec::<String>::new());
    // And out of a volume of the stopped container.
    let out = w.dir.path().join("out");
    w.ok(&["cp", "c:/tmp/volume/mount/g", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "f\n");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&w.root().display().to_string()), "no mount left on the host");
}

#[test]
fn a_tmpfs_starts_with_the_files_below_it_so_a_copy_before_start_is_there() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let file = w.dir.path().join("file");
    std::fs::write(&file, "copied\n").unwrap();
    w.ok(&["create", "--name", "t", "--mount", "type=tmpfs,dst=/tmp", &img, "sleep", "1000"]);
    w.ok(&["cp", file.to_str().unwrap(), "t:/tmp"]);
    w.ok(&["start", "t"]);
    assert_eq!(w.ok(&["exec", "t", "cat", "/tmp/file"]), "copied\n");
    assert!(w.ok(&["exec", "t", "cat", "/proc/mounts"]).contains("tmpfs /tmp tmpfs"), "a tmpfs at /tmp");
    // notmpcopyup: an empty tmpfs.
    w.ok(&["run", "-d", "--name", "e", "--tmpfs", "/etc:notmpcopyup", &img, "sleep", "1000"]);
    assert_eq!(w.ok(&["exec", "e", "ls", "-A", "/etc"]), "");
    w.ok(&["rm", "-f", "-t", "0", "t", "e"]);
}

#[test]
fn directories_and_dot_suffixes_land_where_podman_puts_them() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "-d", "--name", "b", "--workdir", "/srv", &img, "sh", "-c", "mkdir -p /srv/subdir /usr; sleep 1000"]);
    let host = w.dir.path().join("h");
    std::fs::create_dir_all(host.join("dir/sub")).unwrap();
    std::fs::write(host.join("dir/sub/f"), "f\n").unwrap();
    std::fs::create_dir_all(host.join("dir./sub")).unwrap();
    std::fs::write(host.join("dir./sub/f"), "f\n").unwrap();
    std::fs::write(host.join("file"), "file\n").unwrap();
    // (source on the host, destination in the container, where f must be)
    for (src, dest, expect) in [
        ("dir", "/", "/dir/sub/f"),
        ("dir.", "/", "/dir./sub/f"),
        ("dir/", "/tmp", "/tmp/dir/sub/f"),
        ("dir/.", "/usr/", "/usr/sub/f"),
        ("dir/sub", ".", "/srv/sub/f"),
        ("dir/sub/.", "subdir/.", "/srv/subdir/f"),
        ("dir", "/newdir1", "/newdir1/sub/f"),
        ("dir/.", "/newdir3", "/newdir3/sub/f"),
        ("file", "/tmp/.", "/tmp/file"),
        ("file", "./", "/srv/file"),
        ("file", "anotherbase.txt", "/srv/anotherbase.txt"),
    ] {
        w.ok(&["cp", &format!("{}/{src}", host.display()), &format!("b:{dest}")]);
        let out = w.berth(&["exec", "b", "cat", expect]);
        assert!(out.status.success(), "cp {src} b:{dest} should give {expect}");
    }
    let err = w.fails(&["cp", host.join("dir").to_str().unwrap(), "b:/etc/passwd"]);
    assert_eq!(err, "Error: destination must be a directory when copying a directory\n");

    // And out of the container: (source in it, destination under the host dir, where f lands).
    w.ok(&["exec", "b", "sh", "-c", "echo f > /srv/subdir/f; mkdir /tmp/subdir.; cp /srv/subdir/f /tmp/subdir./"]);
    for (src, dest, expect) in [
        ("/srv", "", "srv/subdir/f"),
        ("/srv", "/newdir", "newdir/subdir/f"),
        ("/srv/", "", "srv/subdir/f"),
        ("/srv/.", "", "subdir/f"),
        ("/srv/.", "/newdir", "newdir/subdir/f"),
        ("/srv/subdir/.", "", "f"),
        ("/tmp/subdir.", "", "subdir./f"),
        ("subdir/f", "/", "f"),
    ] {
        let out = w.dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        w.ok(&["cp", &format!("b:{src}"), &format!("{}{dest}", out.display())]);
        assert_eq!(std::fs::read_to_string(out.join(expect)).unwrap(), "f\n", "cp b:{src} out{dest}");
        std::fs::remove_dir_all(&out).unwrap();
    }
    std::fs::write(w.dir.path().join("testfile"), "").unwrap();
    let err = w.fails(&["cp", "b:/etc/", w.dir.path().join("testfile").to_str().unwrap()]);
    assert_eq!(err, "Error: destination must be a directory when copying a directory\n");
}

#[test]
fn top_lists_the_containers_processes() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "-d", "--name", "t", "-u", "nobody", &img, "sh", "-c", "sleep 1000 & exec sleep 999"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // both processes, the shell's exec done (until then pid 1 is `sh -c ...`)
    let out = loop {
        let out = w.ok(&["top", "t"]);
        if out.lines().count() == 3
            && out.lines().any(|l| l.trim_end().ends_with(" sleep 999"))
            && out.lines().any(|l| l.trim_end().ends_with(" sleep 1000"))
        {
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
    // format descriptors, as Podman's: the host's view beside the container's
    let out = w.ok(&["top", "t", "huser,user", "pid", "hpid,comm,group"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(cols(lines[0]), ["HUSER", "USER", "PID", "HPID", "COMMAND", "GROUP"], "{out}");
    let init = lines.iter().map(|l| cols(l)).find(|c| c[2] == "1").unwrap();
    assert_eq!((init[0].as_str(), init[1].as_str(), init[4].as_str()), ("nobody", "nobody", "sleep"), "{out}");
    assert!(init[3].parse::<u32>().unwrap() > 1, "the host's pid: {out}");
    let err = w.fails(&["top", "t", "bogus"]);
    assert!(err.contains("unknown top descriptor \"bogus\""), "{err}");
    let err = w.fails(&["top", "nosuch"]);
    assert!(err.contains("no container with name or ID \"nosuch\""), "{err}");
}
