//! `save` and `load`, the archive transports (`docker-archive:`, `oci-archive:`, `oci:`), and
//! `docker save | docker load` through the socket; Podman and skopeo read what Berth writes and
//! Berth reads what Podman writes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use berth_testkit::{Compression, LayerBuilder};
use serde_json::Value;

use crate::World;

/// busybox with a second layer, pulled: (reference, image id, pushed image).
fn two_layer_image(w: &World, repo_tag: &str) -> (String, String, berth_testkit::PushedImage) {
    let mut l = LayerBuilder::new();
    l.dir("srv", 0o755).file("srv/greeting", "hello from the archive\n", 0o644);
    let spec = berth_testkit::busybox_image().unwrap().layer(l.build(), Compression::Gzip);
    let pushed = w.push(repo_tag, &spec);
    let reference = w.image_ref(repo_tag);
    let id = w.ok(&["pull", "-q", &reference]).trim().to_string();
    (reference, id, pushed)
}

/// A second storage root in the world's directory, for loading into a fresh store.
fn other_root(w: &World, name: &str) -> PathBuf {
    let root = w.dir.path().join(name);
    std::fs::create_dir_all(&root).unwrap();
    root
}

fn berth_at(w: &World, root: &Path, args: &[&str]) -> Output {
    w.cmd().env("BERTH_ROOT", root).args(args).output().unwrap()
}

fn ok_at(w: &World, root: &Path, args: &[&str]) -> (String, String) {
    let out = berth_at(w, root, args);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "berth {args:?} failed ({}):\n{stderr}", out.status);
    (stdout, stderr)
}

/// The files of a tar, with their contents (links as `-> target`).
fn tar_files(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut ar = tar::Archive::new(std::fs::File::open(path).unwrap());
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            if let Some(l) = e.link_name().unwrap() {
                data = format!("-> {}", l.display()).into_bytes();
            } else {
                e.read_to_end(&mut data).unwrap();
            }
            (name, data)
        })
        .collect()
}

fn sha256(b: &[u8]) -> String {
    berth_testkit::sha256_digest(b)
}

/// Podman with a storage of its own in the world (vfs, runc, limits this machine allows).
fn podman(w: &World, args: &[&str]) -> Output {
    let dir = w.dir.path().join("podman");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("containers.conf");
    if !conf.exists() {
        let nofile = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap().1;
        std::fs::write(
            &conf,
            format!(
                "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc=32768:32768\"]\n[engine]\nruntime = \"runc\"\n"
            ),
        )
        .unwrap();
    }
    Command::new("podman")
        .env("CONTAINERS_CONF", &conf)
        .env("CONTAINERS_REGISTRIES_CONF", w.registries_conf())
        .args(["--root", dir.join("root").to_str().unwrap(), "--runroot", dir.join("run").to_str().unwrap()])
        .args(["--storage-driver", "vfs"])
        .args(args)
        .output()
        .expect("podman is needed for these tests (scripts/deps installs it)")
}

fn podman_ok(w: &World, args: &[&str]) -> String {
    let out = podman(w, args);
    assert!(out.status.success(), "podman {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn save_writes_docker_save_layout_and_a_fresh_root_loads_and_runs_it() {
    let w = World::new();
    let (reference, id, pushed) = two_layer_image(&w, "arch/two:1");
    let archive = w.dir.path().join("two.tar");
    let out = w.berth(&["save", "-o", archive.to_str().unwrap(), &reference]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let progress = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = progress.lines().collect();
    assert_eq!(lines[0], format!("Copying blob {}", pushed.diff_ids[0]), "{progress}");
    assert_eq!(
        lines[2..],
        [format!("Copying config sha256:{id}").as_str(), "Writing manifest to image destination", "Storing signatures"]
    );

    // manifest.json, repositories, the config as <hex>.json, layers as uncompressed tars
    let files = tar_files(&archive);
    let file = |n: &str| {
        files
            .iter()
            .find(|(f, _)| f == n)
            .unwrap_or_else(|| panic!("no {n} in {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>()))
            .1
            .clone()
    };
    let manifest: Value = serde_json::from_slice(&file("manifest.json")).unwrap();
    assert_eq!(manifest[0]["Config"], format!("{id}.json"));
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!([reference]));
    assert_eq!(sha256(&file(&format!("{id}.json"))), format!("sha256:{id}"), "the config as stored");
    let layers: Vec<String> =
        manifest[0]["Layers"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
    assert_eq!(layers.len(), 2);
    for (name, diff_id) in layers.iter().zip(&pushed.diff_ids) {
        let bytes = file(name);
        assert_eq!(&sha256(&bytes), diff_id, "{name} is the uncompressed layer");
    }
    let repositories: Value = serde_json::from_slice(&file("repositories")).unwrap();
    let (repo, tag) = reference.rsplit_once(':').unwrap();
    assert!(repositories[repo][tag].is_string(), "{repositories}");
    assert!(files.iter().any(|(f, d)| f.ends_with("/layer.tar") && d.starts_with(b"-> ../")), "legacy layer links");

    // into a fresh root: the same id, the name, and it runs
    let fresh = other_root(&w, "fresh");
    let (stdout, stderr) = ok_at(&w, &fresh, &["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(stdout, format!("Loaded image: {reference}\n"));
    assert!(stderr.starts_with("Getting image source signatures\nCopying blob sha256:"), "{stderr}");
    let (images, _) = ok_at(&w, &fresh, &["images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]);
    assert_eq!(images.trim(), format!("sha256:{id} {reference}"));
    let (ran, _) = ok_at(&w, &fresh, &["run", "--rm", &reference, "cat", "/srv/greeting"]);
    assert_eq!(ran, "hello from the archive\n");
    // the store is whole: every blob and layer where its record says
    ok_at(&w, &fresh, &["system", "check"]);

    // loading again: nothing new, the same answer
    let (again, _) = ok_at(&w, &fresh, &["load", "-q", "-i", archive.to_str().unwrap()]);
    assert_eq!(again, format!("Loaded image: {reference}\n"));

    // saved by id: no name, and loaded as its id
    let byid = w.dir.path().join("byid.tar");
    w.ok(&["save", "-q", "-o", byid.to_str().unwrap(), &id[..12]]);
    let manifest: Value =
        serde_json::from_slice(&tar_files(&byid).into_iter().find(|f| f.0 == "manifest.json").unwrap().1).unwrap();
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!([]));
    let bare = other_root(&w, "bare");
    let (stdout, _) = ok_at(&w, &bare, &["load", "-i", byid.to_str().unwrap()]);
    assert_eq!(stdout, format!("Loaded image: sha256:{id}\n"));
}

#[test]
fn oci_layouts_and_stdin_round_trip_and_skopeo_reads_them() {
    let w = World::new();
    let (reference, id, pushed) = two_layer_image(&w, "arch/oci:2");
    let dir = w.dir.path();
    let oci = dir.join("img.oci.tar");
    w.ok(&["save", "--format", "oci-archive", "-o", oci.to_str().unwrap(), &reference]);
    // an OCI layout in a tar, named by the ref.name annotation, the pushed blobs as they are
    let files = tar_files(&oci);
    let index: Value = serde_json::from_slice(&files.iter().find(|f| f.0 == "index.json").unwrap().1).unwrap();
    assert_eq!(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], reference.as_str());
    assert_eq!(index["manifests"][0]["digest"], pushed.manifest_digest.as_str(), "the pulled manifest, unchanged");
    assert!(files.iter().any(|f| f.0 == "oci-layout"));
    for d in &pushed.layer_digests {
        assert!(files.iter().any(|f| f.0 == format!("blobs/sha256/{}", &d[7..])), "{d}");
    }
    let inspect = |arg: String| -> Value {
        let out = Command::new("skopeo").args(["inspect", &arg]).output().expect("skopeo is needed for these tests");
        assert!(out.status.success(), "skopeo inspect {arg}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let seen = inspect(format!("oci-archive:{}", oci.display()));
    assert_eq!(seen["Digest"], pushed.manifest_digest.as_str());
    assert_eq!(seen["Layers"], serde_json::json!(pushed.layer_digests));
    let docker = dir.join("img.docker.tar");
    w.ok(&["save", "-o", docker.to_str().unwrap(), &reference]);
    let seen = inspect(format!("docker-archive:{}", docker.display()));
    assert_eq!(seen["Layers"], serde_json::json!(pushed.diff_ids), "docker-archive layers are the uncompressed tars");
    let ocidir = dir.join("ocidir");
    let dockerdir = dir.join("dockerdir");
    w.ok(&["save", "--format", "oci-dir", "-o", ocidir.to_str().unwrap(), &reference]);
    w.ok(&["save", "--format", "docker-dir", "-o", dockerdir.to_str().unwrap(), &reference]);
    assert_eq!(inspect(format!("oci:{}", ocidir.display()))["Layers"], serde_json::json!(pushed.layer_digests));
    assert_eq!(inspect(format!("dir:{}", dockerdir.display()))["Layers"], serde_json::json!(pushed.layer_digests));
    // a directory is not written over
    let err = w.fails(&["save", "--format", "oci-dir", "-o", ocidir.to_str().unwrap(), &reference]);
    assert!(err.contains("exists and is not empty"), "{err}");

    // stdin: the oci-archive, and a gzip-compressed docker-archive
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&docker).unwrap()).unwrap();
    let gz = gz.finish().unwrap();
    for (what, bytes) in [("oci-archive", std::fs::read(&oci).unwrap()), ("gzip docker-archive", gz)] {
        let root = other_root(&w, &what.replace(' ', "-"));
        let mut child = w
            .cmd()
            .env("BERTH_ROOT", &root)
            .args(["load"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("Loaded image: {reference}\n"), "{what}");
        let (ran, _) = ok_at(&w, &root, &["run", "--rm", &reference, "cat", "/srv/greeting"]);
        assert_eq!(ran, "hello from the archive\n", "{what}");
        let (got, _) = ok_at(&w, &root, &["image", "inspect", "--format", "{{.ID}}", &reference]);
        assert_eq!(got.trim(), id, "{what}");
    }

    // uncompressed layers: plain tars; loaded where the gzip blobs are, the image keeps naming those
    let plain = dir.join("plain.oci.tar");
    w.ok(&["save", "--format", "oci-archive", "--uncompressed", "-o", plain.to_str().unwrap(), &reference]);
    let files = tar_files(&plain);
    for d in &pushed.diff_ids {
        let (_, bytes) = files.iter().find(|f| f.0 == format!("blobs/sha256/{}", &d[7..])).expect("the plain layer");
        assert_eq!(&sha256(bytes), d);
    }
    w.ok(&["load", "-i", plain.to_str().unwrap()]);
    w.ok(&["system", "check"]);
    let again = dir.join("again-dir");
    w.ok(&["save", "--format", "oci-dir", "-o", again.to_str().unwrap(), &reference]);
    assert_eq!(inspect(format!("oci:{}", again.display()))["Layers"], serde_json::json!(pushed.layer_digests));

    // save to stdout (a pipe) is the same archive as -o
    let out = w.cmd().args(["save", &reference]).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, std::fs::read(&docker).unwrap());
}

#[test]
fn podman_loads_berths_archives_and_berth_loads_podmans() {
    let w = World::new();
    let (reference, id, _) = two_layer_image(&w, "arch/pod:3");
    for format in ["docker-archive", "oci-archive"] {
        let archive = w.dir.path().join(format!("{format}.tar"));
        w.ok(&["save", "--format", format, "-o", archive.to_str().unwrap(), &reference]);
        let loaded = podman_ok(&w, &["load", "-i", archive.to_str().unwrap()]);
        assert_eq!(loaded, format!("Loaded image: {reference}\n"), "{format}");
        let got = podman_ok(&w, &["image", "inspect", "--format", "{{.ID}}", &reference]);
        assert_eq!(got.trim(), id, "{format}: podman sees the same image id");
        let ran = podman_ok(&w, &["run", "--rm", "--network", "none", &reference, "cat", "/srv/greeting"]);
        assert_eq!(ran, "hello from the archive\n", "{format}");
        podman_ok(&w, &["rmi", &reference]);
    }

    // the other way: Podman's own save, loaded and run by Berth
    podman_ok(&w, &["pull", "-q", "--tls-verify=false", &reference]);
    for format in ["docker-archive", "oci-archive"] {
        let archive = w.dir.path().join(format!("podman-{format}.tar"));
        podman_ok(&w, &["save", "--format", format, "-o", archive.to_str().unwrap(), &reference]);
        let root = other_root(&w, &format!("from-podman-{format}"));
        let (stdout, _) = ok_at(&w, &root, &["load", "-i", archive.to_str().unwrap()]);
        assert_eq!(stdout, format!("Loaded image: {reference}\n"), "{format}");
        let (got, _) = ok_at(&w, &root, &["image", "inspect", "--format", "{{.ID}}", &reference]);
        assert_eq!(got.trim(), id, "{format}");
        let (ran, _) = ok_at(&w, &root, &["run", "--rm", &reference, "cat", "/srv/greeting"]);
        assert_eq!(ran, "hello from the archive\n", "{format}");
    }
}

#[test]
fn run_and_pull_take_archive_transports_with_podmans_progress_and_events() {
    let w = World::new();
    let (reference, id, pushed) = two_layer_image(&w, "arch/run:4");
    let archive = w.dir.path().join("run.tar");
    let oci = w.dir.path().join("run.oci.tar");
    w.ok(&["save", "-q", "-o", archive.to_str().unwrap(), &reference]);
    w.ok(&["save", "-q", "--format", "oci-archive", "-o", oci.to_str().unwrap(), &reference]);
    let fresh = other_root(&w, "fresh");
    let transport = format!("docker-archive:{}", archive.display());
    let out = berth_at(&w, &fresh, &["run", "--rm", &transport, "cat", "/srv/greeting"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from the archive\n");
    let progress = String::from_utf8(out.stderr).unwrap();
    let expected: Vec<String> = ["Getting image source signatures".to_string()]
        .into_iter()
        .chain(pushed.diff_ids.iter().map(|d| format!("Copying blob {d}")))
        .chain([
            format!("Copying config sha256:{id}"),
            "Writing manifest to image destination".into(),
            "Storing signatures".into(),
        ])
        .collect();
    assert_eq!(progress.lines().collect::<Vec<_>>(), expected);
    // the image is stored under the archive's name
    let (names, _) = ok_at(&w, &fresh, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(names.trim(), reference);

    // pull: the id on stdout; by name in the archive, by index; an OCI archive by its ref name
    let (pulled, _) = ok_at(&w, &fresh, &["pull", &format!("{transport}:{reference}")]);
    assert_eq!(pulled.trim(), id);
    let (pulled, _) = ok_at(&w, &fresh, &["pull", "-q", &format!("{transport}:@0")]);
    assert_eq!(pulled.trim(), id);
    let err =
        String::from_utf8(berth_at(&w, &fresh, &["pull", &format!("{transport}:localhost/other:1")]).stderr).unwrap();
    assert!(err.contains("Tag \"localhost/other:1\" not found"), "{err}");
    let (pulled, _) = ok_at(&w, &fresh, &["pull", &format!("oci-archive:{}", oci.display())]);
    assert_eq!(pulled.trim(), id);
    let missing = w.dir.path().join("missing.tar");
    let err =
        String::from_utf8(berth_at(&w, &fresh, &["pull", &format!("docker-archive:{}", missing.display())]).stderr)
            .unwrap();
    assert!(err.contains(&format!("opening {}: no such file or directory", missing.display())), "{err}");

    // create, then start: the same image
    let (cid, _) = ok_at(&w, &fresh, &["create", &transport, "cat", "/srv/greeting"]);
    let (started, _) = ok_at(&w, &fresh, &["start", "--attach", cid.lines().last().unwrap()]);
    assert_eq!(started, "hello from the archive\n");

    // events: save (id, path), loadfromarchive (path), pull (the transport reference)
    let (_, _) = ok_at(&w, &fresh, &["save", "-o", w.dir.path().join("again.tar").to_str().unwrap(), &reference]);
    ok_at(&w, &fresh, &["load", "-i", archive.to_str().unwrap()]);
    let (events, _) = ok_at(
        &w,
        &fresh,
        &["events", "--stream=false", "--filter", "type=image", "--format", "{{.Status}}--{{.ID}}--{{.Name}}"],
    );
    let lines: Vec<&str> = events.lines().collect();
    assert_eq!(lines[0], format!("pull----{transport}"), "{events}");
    let again = w.dir.path().join("again.tar");
    assert!(lines.contains(&format!("save--{id}--{}", again.display()).as_str()), "{events}");
    assert_eq!(*lines.last().unwrap(), format!("loadfromarchive----{}", archive.display()), "{events}");
    let (line, _) =
        ok_at(&w, &fresh, &["events", "--stream=false", "--filter", "type=image", "--filter", "event=save"]);
    assert!(line.trim_end().ends_with(&format!("image save {id} {}", again.display())), "{line}");
}

/// Nothing of a failed load stays: no image, blob, layer or partial download.
fn assert_store_empty(root: &Path) {
    let listed = |p: &str| crate::list_dir(&root.join(p));
    assert_eq!(listed("blobs/sha256"), Vec::<String>::new(), "blobs left behind");
    assert!(listed("layers").iter().all(|l| l == "l"), "layers left behind: {:?}", listed("layers"));
    assert!(listed("ingest").iter().all(|f| f.ends_with(".lock")), "partial files left behind: {:?}", listed("ingest"));
}

#[test]
fn a_bad_archive_is_refused_clearly_and_leaves_nothing_behind() {
    let w = World::new();
    let (reference, _, pushed) = two_layer_image(&w, "arch/bad:5");
    let archive = w.dir.path().join("good.tar");
    w.ok(&["save", "-o", archive.to_str().unwrap(), &reference]);
    let good = std::fs::read(&archive).unwrap();
    let fresh = other_root(&w, "fresh");
    ok_at(&w, &fresh, &["images"]);

    // garbage, and an archive cut short
    let garbage = w.dir.path().join("garbage");
    std::fs::write(&garbage, "I am an invalid file and should cause a load error\n").unwrap();
    let cut = w.dir.path().join("cut.tar");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    for (bad, why) in [(&garbage, "not a complete tar archive"), (&cut, "unexpected EOF")] {
        let out = berth_at(&w, &fresh, &["load", "-i", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(125));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("payload does not match any of the supported image formats:"), "{err}");
        assert!(err.contains(bad.to_str().unwrap()) && err.contains(why), "{err}");
        assert_store_empty(&fresh);
    }

    // the second layer's content altered (the tar still whole): the first layer goes again too
    let mut broken = good.clone();
    let second = format!("{}.tar", &pushed.diff_ids[1][7..]);
    let mut ar = tar::Archive::new(&good[..]);
    let at = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path().unwrap().to_str() == Some(second.as_str()))
        .unwrap()
        .raw_file_position() as usize;
    // inside the greeting file's bytes: the 512-byte header of srv/, then srv/greeting's
    let needle = b"hello from the archive";
    let off = at + broken[at..].windows(needle.len()).position(|w| w == needle).unwrap();
    broken[off] = b'J';
    let altered = w.dir.path().join("altered.tar");
    std::fs::write(&altered, &broken).unwrap();
    let out = berth_at(&w, &fresh, &["load", "-i", altered.to_str().unwrap()]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success());
    assert!(err.contains(&format!("but the image config says {}", pushed.diff_ids[1])), "{err}");
    assert_store_empty(&fresh);
    let (images, _) = ok_at(&w, &fresh, &["images", "-q"]);
    assert_eq!(images, "");
    // and the good archive still loads
    ok_at(&w, &fresh, &["load", "-i", archive.to_str().unwrap()]);
}

#[test]
fn multi_image_archives_hold_every_image_once() {
    let w = World::new();
    let (one, id1, _) = two_layer_image(&w, "arch/multi:1");
    w.push_busybox("arch/plain:1");
    let two = w.image_ref("arch/plain:1");
    let id2 = w.ok(&["pull", "-q", &two]).trim().to_string();
    w.ok(&["tag", &one, "localhost/alias:1"]);
    let archive = w.dir.path().join("multi.tar");
    w.ok(&["save", "-m", "-o", archive.to_str().unwrap(), &one, &two, "localhost/alias:1"]);
    let manifest: Value =
        serde_json::from_slice(&tar_files(&archive).into_iter().find(|f| f.0 == "manifest.json").unwrap().1).unwrap();
    assert_eq!(manifest.as_array().unwrap().len(), 2, "{manifest}");
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!([one, "localhost/alias:1"]));
    let fresh = other_root(&w, "fresh");
    let (stdout, _) = ok_at(&w, &fresh, &["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(stdout, format!("Loaded image: {one}\nLoaded image: localhost/alias:1\nLoaded image: {two}\n"));
    let (ids, _) = ok_at(&w, &fresh, &["images", "-q", "--no-trunc"]);
    let mut ids: Vec<&str> = ids.lines().collect();
    ids.sort();
    ids.dedup();
    let mut want = vec![format!("sha256:{id1}"), format!("sha256:{id2}")];
    want.sort();
    assert_eq!(ids, want);
    // the busybox layer both share is stored once
    ok_at(&w, &fresh, &["system", "check"]);
    let err =
        String::from_utf8(berth_at(&w, &fresh, &["pull", &format!("docker-archive:{}", archive.display())]).stderr)
            .unwrap();
    assert!(err.contains("holds 2 images: name one"), "{err}");
}

#[test]
fn docker_save_and_docker_load_through_the_socket() {
    let w = World::new();
    let (reference, id, _) = two_layer_image(&w, "arch/docker:6");
    let s = crate::docker_api::service(&w);
    let archive = w.dir.path().join("docker.tar");
    let docker = |args: &[&str]| -> Output { crate::docker_api::docker_cmd(&w, &s).args(args).output().unwrap() };
    let out = docker(&["save", "-o", archive.to_str().unwrap(), &reference]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: Value =
        serde_json::from_slice(&tar_files(&archive).into_iter().find(|f| f.0 == "manifest.json").unwrap().1).unwrap();
    assert_eq!(manifest[0]["Config"], format!("{id}.json"));
    assert!(docker(&["rmi", &reference]).status.success());
    let out = docker(&["load", "-i", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("Loaded image: {reference}"));

    // docker save IMG | docker load, as a user types it (the save streams while it is written)
    let bin = crate::docker_api::docker_cmd(&w, &s).get_program().to_owned();
    let out = crate::docker_api::docker_cmd(&w, &s)
        .args(["save", &reference])
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|save| {
            let load = crate::docker_api::docker_cmd(&w, &s).arg("load").stdin(save.stdout.unwrap()).output();
            load
        })
        .unwrap();
    assert!(out.status.success(), "{bin:?} load: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("Loaded image: {reference}")));
    let out = docker(&["run", "--rm", &reference, "cat", "/srv/greeting"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from the archive\n");

    // two names in one request (names=…&names=…): one image with both tags
    assert!(docker(&["tag", &reference, "localhost/other:2"]).status.success());
    let both = w.dir.path().join("both.tar");
    let out = docker(&["save", "-o", both.to_str().unwrap(), &reference, "localhost/other:2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: Value =
        serde_json::from_slice(&tar_files(&both).into_iter().find(|f| f.0 == "manifest.json").unwrap().1).unwrap();
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!([reference, "localhost/other:2"]));

    // errors are Docker's: a missing image, a body that is no archive
    let out = docker(&["save", "nosuch:1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such image: nosuch:1"));
    let out = crate::docker_api::docker_cmd(&w, &s).args(["load", "-i", "/etc/hostname"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("payload does not match any of the supported image formats"));
}

/// Serves `body` once to whoever asks, over plain HTTP on loopback; returns the URL.
fn serve_once(body: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/image.tar", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut req = [0u8; 4096];
        let _ = conn.read(&mut req);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
        let _ = conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(&body));
    });
    url
}

#[test]
fn load_takes_a_url() {
    let w = World::new();
    let (reference, id, _) = two_layer_image(&w, "arch/url:7");
    let archive = w.dir.path().join("url.tar");
    w.ok(&["save", "-o", archive.to_str().unwrap(), &reference]);
    let url = serve_once(std::fs::read(&archive).unwrap());
    let fresh = other_root(&w, "fresh");
    let (stdout, _) = ok_at(&w, &fresh, &["load", "-i", &url]);
    assert_eq!(stdout, format!("Loaded image: {reference}\n"));
    let (got, _) = ok_at(&w, &fresh, &["image", "inspect", "--format", "{{.ID}}", &reference]);
    assert_eq!(got.trim(), id);
    // nothing of the download stays in the store
    assert!(crate::list_dir(&fresh.join("ingest")).iter().all(|f| f.ends_with(".lock")));
}

#[test]
fn save_refuses_a_terminal_and_names_what_it_cannot_find() {
    let w = World::new();
    let pushed = w.push_busybox("arch/tty:1");
    let reference = w.image_ref("arch/tty:1");
    w.ok(&["pull", "-q", &reference]);
    // stdout a terminal (script's pseudo-terminal): Podman's refusal, and nothing written
    let mut script = Command::new("script");
    script.env_clear();
    for (k, v) in w.cmd().get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    let out = script.args(["-qec", &format!("{} save {reference}", crate::BERTH), "/dev/null"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("Error: refusing to save to terminal. Use -o flag or redirect"), "{text}");
    let err = w.fails(&["save", "-o", w.dir.path().join("x.tar").to_str().unwrap(), "nosuch:1"]);
    assert!(err.contains("nosuch:1: image not known"), "{err}");
    let err = w.fails(&["save", "--format", "tar", "-o", "x.tar", &reference]);
    assert!(err.contains("format value must be one of oci-dir oci-archive docker-dir docker-archive"), "{err}");
    let err = w.fails(&["save", "--compress", "-o", "x.tar", &reference]);
    assert!(err.contains("--compress can only be set when --format is 'docker-dir'"), "{err}");
    let missing_dir = w.dir.path().join("no/such/dir/x.tar");
    let err = w.fails(&["save", "-o", missing_dir.to_str().unwrap(), &reference]);
    assert!(err.contains(missing_dir.to_str().unwrap()) && err.contains("its directory does not exist"), "{err}");
    // a stored layer gone bad: the save fails naming it, and leaves no file, whole or half
    let blob = w.root().join("blobs/sha256").join(&pushed.layer_digests[0][7..]);
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    for format in ["docker-archive", "oci-archive", "oci-dir"] {
        let target = w.dir.path().join(format!("bad-{format}"));
        let err = w.fails(&["save", "--format", format, "-o", target.to_str().unwrap(), &reference]);
        assert!(err.contains(&pushed.layer_digests[0]) && err.contains("system check --repair"), "{format}: {err}");
        assert!(!target.exists(), "{format}");
    }
    // nothing half-written beside a target whose save failed
    assert!(crate::list_dir(w.dir.path()).iter().all(|f| !f.contains(".tmp-")), "{:?}", crate::list_dir(w.dir.path()));
}
