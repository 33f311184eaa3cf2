//! `push`: to the loopback registry, to `dir:` and `oci:`, read back by skopeo, pulled and run
//! by Podman and by a fresh Berth root; blobs the registry has are not sent again; bad input
//! fails clearly and leaves nothing.

use std::path::Path;
use std::process::Command;

use berth_testkit::Registry;
use serde_json::Value;

use crate::{list_dir, World};

fn skopeo(args: &[&str]) -> Value {
    let out = Command::new("skopeo").args(args).output().expect("skopeo is installed (scripts/deps)");
    assert!(out.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn inspect_registry(reference: &str) -> Value {
    skopeo(&["inspect", "--tls-verify=false", &format!("docker://{reference}")])
}

fn raw_registry(reference: &str) -> Value {
    skopeo(&["inspect", "--raw", "--tls-verify=false", &format!("docker://{reference}")])
}

/// Pushes, expecting success; returns the progress printed on stderr.
fn push(w: &World, args: &[&str]) -> String {
    let out = w.berth(&[&["push"], args].concat());
    assert!(out.status.success(), "berth push {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

fn blob_lines(progress: &str) -> Vec<&str> {
    progress.lines().filter(|l| l.starts_with("Copying blob")).collect()
}

fn pulled_busybox(w: &World) -> String {
    w.push_busybox("busybox:1");
    let reference = w.image_ref("busybox:1");
    w.ok(&["pull", "-q", &reference]);
    reference
}

/// Podman, with a storage of its own, pulls the image and runs it.
fn podman_runs(dir: &Path, reference: &str) -> String {
    let root = dir.join("podman-root");
    let run = dir.join("podman-run");
    let podman = |args: &[&str]| {
        let out = Command::new("podman")
            .args(["--root", root.to_str().unwrap(), "--runroot", run.to_str().unwrap()])
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "none",
                "--runtime",
                "runc",
            ])
            .args(args)
            .output()
            .expect("podman is installed");
        assert!(out.status.success(), "podman {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    podman(&["pull", "-q", "--tls-verify=false", reference]);
    let said = podman(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        reference,
        "echo",
        "hello from podman",
    ]);
    let _ = Command::new("podman")
        .args(["--root", root.to_str().unwrap(), "--runroot", run.to_str().unwrap(), "--storage-driver", "vfs"])
        .args(["system", "reset", "--force"])
        .output();
    said
}

#[test]
fn a_pushed_image_is_read_by_skopeo_and_runs_under_podman_and_a_fresh_berth() {
    let w = World::new();
    let source = pulled_busybox(&w);
    let id = w.ok(&["image", "inspect", "--format", "{{.ID}}", &source]).trim().to_string();
    let digest = w.ok(&["image", "inspect", "--format", "{{.Digest}}", &source]).trim().to_string();
    let layers: Vec<Value> = raw_registry(&source)["layers"].as_array().unwrap().clone();

    // another registry: every blob is uploaded
    let other = Registry::start().unwrap();
    w.set_insecure(&[w.registry.addr(), other.addr()]);
    let dest = format!("{}/copies/busybox:v1", other.addr());
    let digestfile = w.dir.path().join("digest");
    let progress = push(&w, &[&source, &dest, "--digestfile", digestfile.to_str().unwrap()]);
    let lines: Vec<&str> = progress.lines().collect();
    assert_eq!(lines[0], "Getting image source signatures", "{progress}");
    assert_eq!(
        &lines[lines.len() - 2..],
        ["Writing manifest to image destination", "Storing signatures"],
        "{progress}"
    );
    assert_eq!(blob_lines(&progress).len(), layers.len(), "{progress}");
    assert!(blob_lines(&progress).iter().all(|l| l.ends_with(" done")), "{progress}");
    let config_hex = raw_registry(&source)["config"]["digest"].as_str().unwrap()[7..].to_string();
    assert!(progress.contains(&format!("Copying config {} done", &config_hex[..12])), "{progress}");

    // what skopeo reads: the same manifest (digest), layers and config as the image pulled
    let seen = inspect_registry(&dest);
    assert_eq!(seen["Digest"], digest, "{seen}");
    assert_eq!(std::fs::read_to_string(&digestfile).unwrap(), digest);
    let want: Vec<&str> = layers.iter().map(|l| l["digest"].as_str().unwrap()).collect();
    let got: Vec<&str> = seen["Layers"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(got, want);
    assert_eq!(raw_registry(&dest)["config"]["digest"], format!("sha256:{config_hex}"));
    assert_eq!(seen["Digest"].as_str().unwrap(), format!("sha256:{}", sha256_hex(&skopeo_raw_bytes(&dest))));

    // again: nothing is uploaded
    let again = push(&w, &["--tls-verify=false", &source, &dest]);
    assert!(!blob_lines(&again).is_empty(), "{again}");
    assert!(blob_lines(&again).iter().all(|l| l.ends_with(" skipped: already exists")), "{again}");

    // -q prints nothing
    let out = w.berth(&["push", "-q", &source, &dest]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    // Podman pulls and runs it
    assert_eq!(podman_runs(w.dir.path(), &dest), "hello from podman\n");

    // and a fresh Berth root
    let fresh = World::with_registry(Registry::start().unwrap());
    fresh.set_insecure(&[other.addr()]);
    fresh.ok(&["pull", "-q", &dest]);
    assert_eq!(fresh.ok(&["run", "--rm", &dest, "echo", "hello from berth"]), "hello from berth\n");
    assert_eq!(fresh.ok(&["image", "inspect", "--format", "{{.ID}}", &dest]).trim(), id);

    // the event names the destination as given
    let events =
        w.ok(&["events", "--stream=false", "--filter", "type=image", "--format", "{{.Status}}--{{.Name}}--{{.ID}}"]);
    assert!(events.contains(&format!("push--{dest}--{id}")), "{events}");
}

fn skopeo_raw_bytes(reference: &str) -> Vec<u8> {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &format!("docker://{reference}")])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn sha256_hex(b: &[u8]) -> String {
    berth_testkit::sha256_digest(b).trim_start_matches("sha256:").to_string()
}

#[test]
fn within_one_registry_layers_are_mounted_and_a_new_layer_uploaded() {
    let w = World::new();
    let source = pulled_busybox(&w);
    let base_layers = raw_registry(&source)["layers"].as_array().unwrap().len();
    w.ok(&["create", "--name", "c", &source, "true"]);
    w.ok(&["commit", "-q", "c", "snap"]);
    let dest = w.image_ref("team/snap:1");
    let progress = push(&w, &["localhost/snap", &dest]);
    let lines = blob_lines(&progress);
    assert_eq!(lines.len(), base_layers + 1, "{progress}");
    assert_eq!(lines.iter().filter(|l| l.ends_with(" done")).count(), 1, "the new layer: {progress}");
    assert_eq!(lines.iter().filter(|l| l.ends_with("skipped: already exists")).count(), base_layers, "{progress}");
    // the base layers came by a cross-repository mount: the new repository did not have them
    // (the registry answered the check with "blob unknown"), and no bytes were sent
    let log = w.registry.log();
    for l in raw_registry(&source)["layers"].as_array().unwrap() {
        let digest = l["digest"].as_str().unwrap();
        let unknown = log
            .lines()
            .any(|line| line.contains("blob unknown") && line.contains(&format!("/v2/team/snap/blobs/{digest}")));
        assert!(unknown, "the registry was asked for {digest} in team/snap first:\n{log}");
    }
    let seen = inspect_registry(&dest);
    assert_eq!(seen["Layers"].as_array().unwrap().len(), base_layers + 1);
    w.ok(&["rmi", "-f", "localhost/snap", &source]);
    w.ok(&["pull", "-q", &dest]);
    w.ok(&["run", "--rm", &dest, "true"]);
}

#[test]
fn push_to_dir_and_oci_layouts_read_by_skopeo() {
    let w = World::new();
    let source = pulled_busybox(&w);
    let digest = w.ok(&["image", "inspect", "--format", "{{.Digest}}", &source]).trim().to_string();

    // dir: into an existing empty directory, as Podman's system test does
    let dir = w.dir.path().join("out/dir");
    std::fs::create_dir_all(&dir).unwrap();
    let dest = format!("dir:{}", dir.display());
    let digestfile = w.dir.path().join("digest");
    let progress = push(&w, &["--digestfile", digestfile.to_str().unwrap(), &source, &dest]);
    assert!(progress.contains("Writing manifest to image destination"), "{progress}");
    assert_eq!(std::fs::read_to_string(dir.join("version")).unwrap(), "Directory Transport Version: 1.1\n");
    let seen = skopeo(&["inspect", &dest]);
    assert_eq!(seen["Digest"], digest, "{seen}");
    assert_eq!(std::fs::read_to_string(&digestfile).unwrap(), digest);
    for l in seen["Layers"].as_array().unwrap() {
        assert!(dir.join(&l.as_str().unwrap()[7..]).is_file(), "{l}");
    }
    assert_eq!(list_dir(&w.dir.path().join("out")), ["dir"], "nothing staged is left beside it");
    // again, over the former image
    push(&w, &["-q", &source, &dest]);
    assert_eq!(skopeo(&["inspect", &dest])["Digest"], digest);

    // oci: two tags in one layout
    let oci = w.dir.path().join("out/oci");
    push(&w, &[&source, &format!("oci:{}:one", oci.display())]);
    push(&w, &["--compression-format", "zstd", &source, &format!("oci:{}:two", oci.display())]);
    let one = skopeo(&["inspect", &format!("oci:{}:one", oci.display())]);
    assert_eq!(one["Layers"], seen["Layers"]);
    let two_raw = skopeo(&["inspect", "--raw", &format!("oci:{}:two", oci.display())]);
    assert!(
        two_raw["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"),
        "{two_raw}"
    );
    let index: Value = serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "{index}");

    // --format v2s2 to dir: Docker media types, the same blobs
    let v2 = w.dir.path().join("out/v2");
    push(&w, &["--format", "v2s2", &source, &format!("dir:{}", v2.display())]);
    let raw: Value = serde_json::from_slice(&std::fs::read(v2.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(raw["config"]["mediaType"], "application/vnd.docker.container.image.v1+json");

    // a zstd image through the registry runs under Berth
    let zdest = w.image_ref("z/busybox:zstd");
    push(&w, &["--compression-format=zstd", &source, &zdest]);
    w.ok(&["rmi", &source]);
    w.ok(&["pull", "-q", &zdest]);
    assert_eq!(w.ok(&["run", "--rm", &zdest, "echo", "zstd"]), "zstd\n");

    let events = w.ok(&["events", "--stream=false", "--filter", "type=image", "--format", "{{.Status}}--{{.Name}}"]);
    assert!(events.contains(&format!("push--{dest}\n")), "{events}");
    assert!(events.contains(&format!("push--oci:{}:one\n", oci.display())), "{events}");
    assert!(list_dir(&w.root().join("ingest")).iter().all(|f| !f.ends_with(".tmp")), "recompressed layers are removed");
}

#[test]
fn bad_input_fails_clearly_and_leaves_nothing() {
    let w = World::new();
    let source = pulled_busybox(&w);
    let out = w.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();

    let err = w.fails(&["push", "nothing-here", &format!("dir:{}/x", out.display())]);
    assert!(err.contains("nothing-here: image not known"), "{err}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = format!("127.0.0.1:{port}/x:1");
    let err = w.fails(&["push", "--tls-verify=false", &source, &dead]);
    assert!(err.contains(&format!("pushing {source} to {dead}")), "{err}");
    assert!(err.contains("unreachable") && err.contains("check the address"), "{err}");

    let err = w.fails(&["push", &source, "bogus:/tmp/x"]);
    assert!(err.contains("invalid destination \"bogus:/tmp/x\": unknown transport \"bogus\""), "{err}");
    let err = w.fails(&["push", &source, &format!("docker-archive:{}/a.tar", out.display())]);
    assert!(err.contains("push does not write the docker-archive transport"), "{err}");

    // a directory that holds something else is not overwritten
    let precious = out.join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("notes"), "mine").unwrap();
    let err = w.fails(&["push", &source, &format!("dir:{}", precious.display())]);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(list_dir(&precious), ["notes"]);
    let err = w.fails(&["push", &source, &format!("oci:{}", precious.display())]);
    assert!(err.contains("refusing to overwrite"), "{err}");
    let err = w.fails(&["push", &source, &format!("dir:{}/missing/parent", out.display())]);
    assert!(err.contains("does not exist"), "{err}");

    // a manifest type a layout cannot hold; zstd with v2s2
    let err = w.fails(&["push", "--format", "v2s2", &source, &format!("oci:{}/o", out.display())]);
    assert!(err.contains("OCI manifests only"), "{err}");
    let err = w.fails(&[
        "push",
        "--format",
        "v2s2",
        "--compression-format",
        "zstd",
        &source,
        &format!("dir:{}/d", out.display()),
    ]);
    assert!(err.contains("need the OCI format"), "{err}");
    let err = w.fails(&["push", "--compression-format", "lz4", &source, &format!("dir:{}/d", out.display())]);
    assert!(err.contains("unsupported compression format \"lz4\""), "{err}");

    assert_eq!(list_dir(&out), ["precious"], "nothing half-made beside the destinations");
    assert!(list_dir(&w.root().join("ingest")).iter().all(|f| !f.ends_with(".tmp")));
    // no push event for a push that failed
    let events = w.ok(&["events", "--stream=false", "--filter", "type=image", "--format", "{{.Status}}"]);
    assert!(!events.contains("push"), "{events}");
}

#[test]
fn credentials_are_asked_for_and_refused_clearly() {
    let w = World::with_registry(Registry::start_with_basic_auth("alice", "s3cret").unwrap());
    w.push_busybox("busybox:1");
    let source = w.image_ref("busybox:1");
    w.ok(&["login", "-u", "alice", "-p", "s3cret", w.registry.addr()]);
    w.ok(&["pull", "-q", &source]);
    w.ok(&["logout", w.registry.addr()]);
    let dest = w.image_ref("mine/busybox:1");

    let err = w.fails(&["push", &source, &dest]);
    assert!(err.contains(&format!("pushing {source} to {dest}")) && err.contains("berth login"), "{err}");
    let err = w.fails(&["push", "--creds", "alice:wrong", &source, &dest]);
    assert!(err.contains("refused"), "{err}");
    let err = w.fails(&["push", "--creds", "alice", &source, &dest]);
    assert!(err.contains("USERNAME:PASSWORD"), "{err}");

    push(&w, &["--creds", "alice:s3cret", &source, &dest]);
    let seen = skopeo(&["inspect", "--tls-verify=false", "--creds", "alice:s3cret", &format!("docker://{dest}")]);
    assert_eq!(
        seen["Digest"].as_str().unwrap(),
        w.ok(&["image", "inspect", "--format", "{{.Digest}}", &source]).trim()
    );
}

#[test]
fn docker_push_through_the_socket() {
    use crate::docker_api::{docker, ok, service};
    let w = World::new();
    let source = pulled_busybox(&w);
    let dest = w.image_ref("docker/busybox:pushed");
    w.ok(&["tag", &source, &dest]);
    let s = service(&w);
    let out = ok(&w, &s, &["push", &dest]);
    let repo = w.image_ref("docker/busybox");
    assert!(out.contains(&format!("The push refers to repository [{repo}]")), "{out}");
    assert!(out.contains("Mounted from busybox"), "the layer came from the busybox repository: {out}");
    let digest = inspect_registry(&dest)["Digest"].as_str().unwrap().to_string();
    assert!(out.contains(&format!("pushed: digest: {digest} size: ")), "{out}");
    assert_eq!(digest, w.ok(&["image", "inspect", "--format", "{{.Digest}}", &source]).trim());

    let again = ok(&w, &s, &["push", &dest]);
    assert!(again.contains("Layer already exists") && !again.contains("Pushed"), "{again}");

    // every tag of a repository with --all-tags
    w.ok(&["tag", &source, &w.image_ref("docker/busybox:second")]);
    let all = ok(&w, &s, &["push", "--all-tags", &repo]);
    assert!(all.contains("second: digest:") && all.contains("pushed: digest:"), "{all}");
    assert_eq!(inspect_registry(&w.image_ref("docker/busybox:second"))["Digest"], digest);

    let missing = docker(&w, &s, &["push", &w.image_ref("nothing:here")]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains(&format!("No such image: {}", w.image_ref("nothing:here"))), "{err}");
}

#[test]
fn docker_push_sends_the_credentials_of_its_config() {
    use crate::docker_api::{docker, ok, service};
    use base64::Engine as _;
    let w = World::with_registry(Registry::start_with_basic_auth("alice", "s3cret").unwrap());
    w.push_busybox("busybox:1");
    let source = w.image_ref("busybox:1");
    w.ok(&["login", "-u", "alice", "-p", "s3cret", w.registry.addr()]);
    w.ok(&["pull", "-q", &source]);
    w.ok(&["logout", w.registry.addr()]);
    let dest = w.image_ref("viadocker/busybox:1");
    w.ok(&["tag", &source, &dest]);
    let s = service(&w);

    // no credentials anywhere: the registry's refusal, in the stream
    let out = docker(&w, &s, &["push", &dest]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("authentication required"), "{err}");

    let config = w.dir.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::write(
        config.join("config.json"),
        format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}", w.registry.addr()),
    )
    .unwrap();
    let out = ok(&w, &s, &["push", &dest]);
    assert!(out.contains("1: digest: sha256:"), "{out}");
    let seen = skopeo(&["inspect", "--tls-verify=false", "--creds", "alice:s3cret", &format!("docker://{dest}")]);
    assert_eq!(
        seen["Digest"].as_str().unwrap(),
        w.ok(&["image", "inspect", "--format", "{{.Digest}}", &source]).trim()
    );
}

#[test]
fn a_registry_with_bearer_tokens_gets_a_push_token() {
    let w = World::with_registry(Registry::start_with_token_auth("carol", "t0ken").unwrap());
    w.push_busybox("busybox:1");
    let source = w.image_ref("busybox:1");
    w.ok(&["login", "-u", "carol", "-p", "t0ken", w.registry.addr()]);
    w.ok(&["pull", "-q", &source]);
    let before = w.registry.tokens_issued();
    let dest = w.image_ref("tokens/busybox:1");
    let progress = push(&w, &[&source, &dest]);
    assert!(progress.contains("Writing manifest to image destination"), "{progress}");
    assert!(w.registry.tokens_issued() > before, "the push asked the token server");
    let seen = skopeo(&["inspect", "--tls-verify=false", "--creds", "carol:t0ken", &format!("docker://{dest}")]);
    assert_eq!(
        seen["Digest"].as_str().unwrap(),
        w.ok(&["image", "inspect", "--format", "{{.Digest}}", &source]).trim()
    );

    w.ok(&["logout", w.registry.addr()]);
    let err = w.fails(&["push", &source, &w.image_ref("tokens/other:1")]);
    let host = w.registry.addr();
    assert!(
        err.contains(&format!("tokens/other:1: authentication required: log in with `berth login {host}`")),
        "{err}"
    );
    let err = w.fails(&["push", "--creds", "carol:nope", &source, &w.image_ref("tokens/other:1")]);
    assert!(err.contains(&format!("credentials for {host} were refused")), "{err}");
}
