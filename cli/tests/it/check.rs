//! `berth system check`: a store damaged in every way the check knows, each problem named in a
//! line, repaired in steps (`--repair`, then `--force` for what takes containers with it), and
//! clean at the end.

use berth_testkit::{Compression, ImageSpec, LayerBuilder};

use crate::World;

/// Runs `berth system check ARGS`; returns (exit code, stdout).
pub fn check(w: &World, args: &[&str]) -> (i32, String) {
    let mut all = vec!["system", "check"];
    all.extend_from_slice(args);
    let out = w.berth(&all);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.stderr.is_empty(), "berth {all:?} wrote to stderr: {}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), stdout)
}

fn line_with<'a>(out: &'a str, needles: &[&str]) -> &'a str {
    out.lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{out}"))
}

#[test]
fn a_damaged_store_is_named_line_by_line_and_repaired() {
    let w = World::new();
    let busybox = w.push_busybox("busybox:1");
    let busybox_ref = w.image_ref("busybox:1");
    w.ok(&["pull", "-q", &busybox_ref]);
    let mut l = LayerBuilder::new();
    l.file("data/a", "some data", 0o644);
    let data = w.push("data:1", &ImageSpec::new().layer(l.build(), Compression::Gzip));
    let data_ref = w.image_ref("data:1");
    w.ok(&["pull", "-q", &data_ref]);
    let kept = w.ok(&["create", "--name", "kept", &data_ref, "true"]).trim().to_string();
    let lost = w.ok(&["create", "--name", "lost", &busybox_ref, "true"]).trim().to_string();
    w.ok(&["create", "--name", "fine", &busybox_ref, "true"]);

    assert_eq!(check(&w, &[]), (0, "the store is consistent\n".to_string()));

    let root = w.root();
    // A layer blob flipped on disk: data:1 can't be re-unpacked.
    let data_blob = root.join("blobs/sha256").join(&data.layer_digests[0][7..]);
    std::fs::write(&data_blob, b"not the layer").unwrap();
    // busybox's config blob gone: the image record still has it.
    std::fs::remove_file(root.join("blobs/sha256").join(&busybox.config_digest[7..])).unwrap();
    // A container's directory gone.
    std::fs::remove_dir_all(root.join("containers").join(&lost)).unwrap();
    // Leftovers of interrupted commands.
    let orphan = root.join("containers").join("0".repeat(64));
    std::fs::create_dir_all(orphan.join("upper")).unwrap();
    let partial = root.join("ingest").join(format!("{}.data", "ab".repeat(32)));
    std::fs::write(&partial, b"half a blob").unwrap();
    let staging = root.join("layers").join(format!(".tmp-{}", "cd".repeat(32)));
    std::fs::create_dir_all(staging.join("diff")).unwrap();
    let temporary = root.join("ingest").join("new-4242-00000000000000ab.tmp");
    std::fs::write(&temporary, b"half a layer").unwrap();
    let import_dir = root.join("ingest").join("import-Ab12Cd");
    std::fs::create_dir_all(&import_dir).unwrap();
    std::fs::write(import_dir.join("layer"), b"half a tarball").unwrap();
    // a build killed in a COPY step: its scratch directory with the step's root still mounted
    let build_dir = root.join("build").join("b-0123456789ab");
    let step_root = build_dir.join("step-3").join("merged");
    std::fs::create_dir_all(&step_root).unwrap();
    nix::mount::mount(Some("tmpfs"), &step_root, Some("tmpfs"), nix::mount::MsFlags::empty(), None::<&str>).unwrap();
    let stray = berth_testkit::sha256_digest(b"nobody's blob");
    std::fs::write(root.join("blobs/sha256").join(&stray[7..]), b"nobody's blob").unwrap();

    // Young leftovers may belong to a command still running: only what is broken shows.
    let (code, out) = check(&w, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains(&partial.display().to_string()) && !out.contains(&temporary.display().to_string()), "{out}");
    let corrupt = line_with(&out, &["blob", &data.layer_digests[0], "is corrupt", "--repair` would remove it"]);
    assert!(corrupt.contains("hashes to sha256:"), "{corrupt}");
    line_with(&out, &["image", "data:1", "blob of layer", "is corrupt", "used by container kept", "--repair --force"]);
    line_with(
        &out,
        &["busybox:1", "config blob", &busybox.config_digest, "missing", "restore it from the image record"],
    );
    line_with(&out, &["container lost", &lost[..12], "is missing; it can't start", "remove the container"]);
    assert!(out.ends_with("4 problem(s) remain\n"), "{out}");

    // `--quick` does not hash blobs, so the corrupt blob itself goes unseen.
    let (code, quick) = check(&w, &["--quick"]);
    assert_eq!(code, 1);
    assert!(!quick.contains("is corrupt: its content"), "{quick}");

    // --max 0: the leftovers too.
    let (code, out) = check(&w, &["--max", "0"]);
    assert_eq!(code, 1, "{out}");
    line_with(&out, &[&partial.display().to_string(), "partial download", "no pull is writing"]);
    line_with(&out, &[&staging.display().to_string(), "staging directory of an interrupted pull"]);
    line_with(&out, &[&temporary.display().to_string(), "left by an interrupted commit, push, load or import"]);
    line_with(&out, &[&import_dir.display().to_string(), "left by an interrupted commit, push, load or import"]);
    line_with(&out, &[&build_dir.display().to_string(), "left by an interrupted build"]);
    line_with(&out, &[&orphan.display().to_string(), "container directory without a record"]);
    line_with(&out, &["blob", &stray, "not used by any image"]);

    // Repair without force: everything but the image that takes a container with it.
    let (code, out) = check(&w, &["--repair", "--max", "0"]);
    assert_eq!(code, 1, "{out}");
    line_with(&out, &["repaired:", &data.layer_digests[0], "remove it"]);
    line_with(&out, &["repaired:", "container lost", "remove the container"]);
    line_with(&out, &["repaired:", "config blob", "restore it from the image record"]);
    line_with(&out, &["repaired:", &partial.display().to_string()]);
    line_with(&out, &["repaired:", &staging.display().to_string()]);
    line_with(&out, &["repaired:", &orphan.display().to_string()]);
    line_with(&out, &["repaired:", &stray]);
    line_with(&out, &["data:1", "used by container kept", "--repair --force` would remove the image"]);
    assert!(out.ends_with("1 problem(s) remain\n"), "{out}");
    line_with(&out, &["repaired:", &build_dir.display().to_string(), "unmount what is mounted in it"]);
    for gone in [&partial, &staging, &orphan, &temporary, &import_dir, &build_dir] {
        assert!(!gone.exists(), "{} is still there", gone.display());
    }
    assert!(root.join("blobs/sha256").join(&busybox.config_digest[7..]).is_file(), "config restored");
    assert!(!w.ok(&["ps", "-a", "--format", "{{.Names}}"]).contains("lost"));

    let (code, out) = check(&w, &["--repair", "--force"]);
    assert_eq!(code, 0, "{out}");
    line_with(&out, &["repaired:", "data:1", "remove the image (pull it again to have it back), and its containers"]);
    assert!(out.ends_with("the store is consistent now (1 problem(s) repaired)\n"), "{out}");
    let ps = w.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert_eq!(ps.trim(), "fine", "{ps}");
    assert!(!w.ok(&["images"]).contains("data"), "data:1 went");
    assert!(!root.join("containers").join(&kept).exists());

    assert_eq!(check(&w, &["--max", "0"]), (0, "the store is consistent\n".to_string()));
    // What is left works: the image pulls again, the containers start.
    w.ok(&["pull", "-q", &data_ref]);
    w.ok(&["start", "fine"]);
    assert_eq!(check(&w, &["--max", "0"]), (0, "the store is consistent\n".to_string()));

    let err = w.fails(&["system", "check", "--max", "5d"]);
    assert!(err.contains("invalid duration \"5d\": use a number with a unit, e.g. 24h"), "{err}");
}
