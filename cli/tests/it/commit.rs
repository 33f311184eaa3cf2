//! `commit`: a container's changes as a new image.

use berth_testkit::{Compression, LayerBuilder};
use serde_json::Value;

use crate::World;

/// busybox with a layer of files for the container to change.
fn base(w: &World) -> String {
    let mut l = LayerBuilder::new();
    l.dir("data", 0o755)
        .file("data/keep", "old\n", 0o644)
        .file("data/gone", "gone\n", 0o644)
        .dir("olddir", 0o755)
        .file("olddir/a", "a\n", 0o644)
        .dir("replaced", 0o755)
        .file("replaced/x", "x\n", 0o644);
    let spec = berth_testkit::busybox_image().unwrap().layer(l.build(), Compression::Gzip);
    w.push("base:1", &spec);
    let reference = w.image_ref("base:1");
    w.ok(&["pull", "-q", &reference]);
    reference
}

#[test]
fn commit_keeps_added_changed_and_deleted_files() {
    let w = World::new();
    let img = base(&w);
    w.ok(&[
        "run",
        "--name",
        "c",
        "-e",
        "FROMRUN=yes",
        &img,
        "sh",
        "-c",
        "echo new > /data/new && echo changed > /data/keep && rm /data/gone && rm -rf /olddir \
         && rm -rf /replaced && mkdir /replaced && echo fresh > /replaced/y && ln /data/new /data/hard \
         && chown 12:34 /data/new && chmod 600 /data/new",
    ]);
    let out = w.berth(&["commit", "-m", "my changes", "c", "snap"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let progress = String::from_utf8(out.stderr).unwrap();
    assert!(progress.starts_with("Getting image source signatures\n"), "{progress}");
    assert!(progress.contains("skipped: already exists") && progress.contains("Copying config"), "{progress}");
    assert!(progress.contains("Writing manifest to image destination"), "{progress}");

    let seen = w.ok(&[
        "run",
        "--rm",
        "localhost/snap:latest",
        "sh",
        "-c",
        "cat /data/new /data/keep; ls /data; ls -d /olddir 2>&1; ls /replaced; stat -c '%u:%g %a %h' /data/new; echo $FROMRUN",
    ]);
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines[0..2], ["new", "changed"], "{seen}");
    assert_eq!(lines[2..5], ["hard", "keep", "new"], "{seen}");
    assert!(lines[5].contains("No such file"), "{seen}");
    assert_eq!(lines[6..], ["y", "12:34 600 2", "yes"], "{seen}");
    // the environment is the container's, but for its HOSTNAME
    let env = w.ok(&["image", "inspect", "--format", "{{.Config.Env}}", &id]);
    assert!(env.contains("FROMRUN=yes") && !env.contains("HOSTNAME"), "{env}");

    // the history has the new layer, with the message; `images` lists the image
    let history = w.ok(&["history", "--format", "{{.ID}} {{.Comment}}", "snap"]);
    assert!(history.lines().next().unwrap().starts_with(&format!("{} my changes", &id[..12])), "{history}");
    assert_eq!(history.lines().count(), 3, "{history}");
    let images = w.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    assert!(images.contains(&format!("localhost/snap:latest {}", &id[..12])), "{images}");
    let inspect: Value = serde_json::from_str(&w.ok(&["image", "inspect", &id])).unwrap();
    assert_eq!(inspect[0]["RootFS"]["Layers"].as_array().unwrap().len(), 3, "{inspect}");

    // every name it had: the names it has first, then the earlier ones, newest first
    let history = |w: &World| w.ok(&["images", "snap", "--format", "{{.History}}"]).trim().to_string();
    assert_eq!(history(&w), "localhost/snap:latest");
    for t in ["t1", "t2"] {
        w.ok(&["tag", "snap", t]);
        w.ok(&["rmi", t]);
    }
    assert_eq!(history(&w), "localhost/snap:latest, localhost/t2:latest, localhost/t1:latest");

    // twice: another image; without a name it is dangling, and quiet prints only the id
    let out = w.berth(&["commit", "-q", "c"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let second = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_ne!(second, id);
    let images = w.ok(&["images", "--format", "{{.Repository}} {{.ID}}"]);
    assert!(images.contains(&format!("<none> {}", &second[..12])), "{images}");
}

#[test]
fn commit_applies_changes_and_refuses_bad_input() {
    let w = World::new();
    let img = base(&w);
    w.ok(&["create", "--name", "c", &img, "true"]);
    w.ok(&[
        "commit",
        "-q",
        "-c",
        r#"CMD ["cat", "/data/keep"]"#,
        "--change",
        "ENV FOO=bar BAZ=\"two words\"",
        "c",
        "chg",
    ]);
    assert_eq!(w.ok(&["run", "--rm", "chg"]), "old\n");
    assert_eq!(w.ok(&["run", "--rm", "chg", "sh", "-c", "echo $FOO/$BAZ"]), "bar/two words\n");
    w.ok(&["commit", "-q", "-c", "CMD=echo shell form", "-c", "WORKDIR /data", "c", "chg2"]);
    assert_eq!(w.ok(&["run", "--rm", "chg2"]), "shell form\n");
    assert_eq!(w.ok(&["run", "--rm", "chg2", "pwd"]), "/data\n");

    // an empty upper dir still gives a layer
    let inspect: Value = serde_json::from_str(&w.ok(&["image", "inspect", "chg2"])).unwrap();
    assert_eq!(inspect[0]["RootFS"]["Layers"].as_array().unwrap().len(), 3, "{inspect}");

    // the Docker format, with an author
    w.ok(&["commit", "-q", "-f", "docker", "-a", "Jane <j@example.com>", "c", "dock"]);
    let t = "{{.ManifestType}} {{.Author}}";
    assert_eq!(
        w.ok(&["image", "inspect", "--format", t, "dock"]),
        "application/vnd.docker.distribution.manifest.v2+json Jane <j@example.com>\n"
    );
    assert_eq!(w.ok(&["run", "--rm", "dock", "cat", "/data/keep"]), "old\n");
    let err = w.fails(&["commit", "-f", "v1", "c"]);
    assert!(err.contains("\"v1\""), "{err}");

    let blobs = w.blobs().len();
    let layers = w.layer_dirs().len();
    let err = w.fails(&["commit", "-c", "RUN true", "c", "bad"]);
    assert!(err.contains("invalid instruction RUN"), "{err}");
    let out = w.berth(&["commit", "nosuch", "bad"]);
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no container with name or ID \"nosuch\" found: no such container"), "{err}");
    assert_eq!((w.blobs().len(), w.layer_dirs().len()), (blobs, layers), "nothing left behind");
    w.ok(&["container", "commit", "-q", "c"]);
    let (code, out) = crate::check::check(&w, &[]);
    assert_eq!(code, 0, "the store is consistent after commits and failed ones: {out}");
}
