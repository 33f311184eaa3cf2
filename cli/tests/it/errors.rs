//! Bad input and broken registries: clear errors that name the input, and nothing stored.

use berth_testkit::Registry;

use crate::World;

fn check_error(w: &World, args: &[&str], expected: &[&str]) {
    let err = w.fails(args);
    for e in expected {
        assert!(err.contains(e), "berth {args:?}: expected {e:?} in:\n{err}");
    }
    assert!(w.ok(&["images", "-q"]).is_empty(), "nothing stored after {args:?}");
}

#[test]
fn bad_references_name_the_input_and_the_rule() {
    let w = World::new();
    check_error(
        &w,
        &["pull", "Alpine:latest"],
        &["error parsing image reference \"Alpine:latest\": repository name must be lowercase"],
    );
    check_error(&w, &["pull", "alpine:bad tag"], &["\"alpine:bad tag\"", "must not contain ' '"]);
    check_error(&w, &["pull", "alpine@sha256:123"], &["\"alpine@sha256:123\"", "digest has the wrong length"]);
    check_error(&w, &["pull", "--platform", "linux", "alpine"], &["invalid platform \"linux\""]);
}

#[test]
fn unknown_repository_or_tag() {
    let w = World::new();
    w.push_busybox("busybox:1");
    let missing_tag = w.image_ref("busybox:2");
    check_error(&w, &["pull", &missing_tag], &[&format!("{missing_tag}: manifest unknown")]);
    let missing_repo = w.image_ref("nothing-here");
    check_error(&w, &["pull", &missing_repo], &[&format!("{missing_repo}:latest: manifest unknown")]);
    check_error(&w, &["image", "inspect", "nothing-here"], &["nothing-here: image not known"]);
    let out = w.berth(&["rmi", "nothing-here"]);
    assert_eq!(out.status.code(), Some(1), "podman's exit code for an unknown image");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing-here: image not known"));
}

#[test]
fn unreachable_registry_names_the_host_and_cause() {
    let w = World::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let host = format!("127.0.0.1:{port}");
    w.set_insecure(&[&host]);
    check_error(
        &w,
        &["pull", &format!("{host}/x")],
        &[&format!("registry {host} is unreachable"), "onnection refused"],
    );
}

#[test]
fn http_only_registry_says_how_to_allow_it() {
    let w = World::new();
    w.push_busybox("busybox:1");
    w.set_insecure(&[]);
    let reference = w.image_ref("busybox:1");
    let conf = w.registries_conf().display().to_string();
    check_error(
        &w,
        &["pull", &reference],
        &[&format!("registry {} answers over plain HTTP only", w.registry.addr()), &conf, "insecure = true"],
    );
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_never_stored() {
    let w = World::new();
    let pushed = w.push_busybox("busybox:1");
    let path = w.registry.blob_path(&pushed.layer_digests[0]);
    let mut data = std::fs::read(&path).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    std::fs::write(&path, data).unwrap();
    check_error(&w, &["pull", &w.image_ref("busybox:1")], &[&pushed.layer_digests[0], "does not match"]);
    assert!(!w.blobs().contains(&pushed.layer_digests[0][7..].to_string()));
    assert!(w.layer_dirs().is_empty(), "{:?}", w.layer_dirs());
}

#[test]
fn registry_going_away_mid_pull_then_resume() {
    let mut w = World::with_registry(Registry::start().unwrap());
    let pushed = w.push_busybox("busybox:1");
    w.registry.stop();
    check_error(&w, &["pull", &w.image_ref("busybox:1")], &["unreachable"]);
    w.registry.restart().unwrap();
    assert_eq!(w.ok(&["pull", "-q", &w.image_ref("busybox:1")]).trim(), &pushed.config_digest[7..]);
}
