//! Kill -9 a pull at random moments, many times: the next pull completes the store, and every
//! stored blob matches its digest.

use std::time::Duration;

use berth_testkit::{Compression, ImageSpec, LayerBuilder};
use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::World;

fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A `berth pull` in the background, to be killed.
fn spawn_pull(w: &World, reference: &str) -> std::process::Child {
    w.cmd()
        .args(["pull", "-q", reference])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn assert_blobs_match_their_digests(w: &World) {
    for hex in w.blobs() {
        let data = std::fs::read(w.root().join("blobs/sha256").join(&hex)).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&data)), hex, "a stored blob does not match its digest");
    }
}

#[test]
fn killed_pulls_leave_a_store_the_next_pull_completes() {
    let w = World::new();
    let mut spec = ImageSpec::new();
    for i in 0..3u32 {
        let mut l = LayerBuilder::new();
        l.file(&format!("layer{i}/data"), noise(i + 1, 6_000_000), 0o644);
        for j in 0..300 {
            l.file(&format!("layer{i}/small/{j}"), format!("{i}-{j}"), 0o644);
        }
        spec = spec.layer(l.build(), Compression::Gzip);
    }
    let pushed = w.push("crashy:1", &spec);
    let reference = w.image_ref("crashy:1");

    let mut rng = rand::rng();
    let mut killed = 0;
    for _ in 0..20 {
        let mut child = spawn_pull(&w, &reference);
        std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        assert_blobs_match_their_digests(&w);
        // start over now and then, so kills land at every stage of a fresh pull too
        if rng.random_bool(0.3) {
            let _ = w.berth(&["rmi", "-f", &reference]);
        }
    }
    assert!(killed >= 5, "the test killed only {killed} pulls: make the image bigger");

    assert_eq!(w.ok(&["pull", "-q", &reference]).trim(), &pushed.config_digest[7..]);
    assert_blobs_match_their_digests(&w);
    for (i, diff) in crate::chain_ids(&pushed.diff_ids).iter().enumerate() {
        let data = std::fs::read(w.layer_dir(diff).join(format!("layer{i}/data"))).unwrap();
        assert_eq!(data, noise(i as u32 + 1, 6_000_000), "layer {i} content");
        assert_eq!(crate::list_dir(&w.layer_dir(diff).join(format!("layer{i}/small"))).len(), 300);
    }
    let leftovers: Vec<String> =
        crate::list_dir(&w.root().join("layers")).into_iter().filter(|n| n.starts_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "staging dirs left behind: {leftovers:?}");
}

#[test]
fn a_download_killed_midway_resumes_from_its_partial_file() {
    let w = World::new();
    let mut l = LayerBuilder::new();
    l.file("data", noise(7, 30_000_000), 0o644);
    let pushed = w.push("partial:1", &ImageSpec::new().layer(l.build(), Compression::None));
    let reference = w.image_ref("partial:1");
    let ingest = w.root().join("ingest").join(format!("{}.data", &pushed.layer_digests[0][7..]));

    let mut child = spawn_pull(&w, &reference);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let partial = loop {
        let len = std::fs::metadata(&ingest).map(|m| m.len()).unwrap_or(0);
        if len > 0 || std::time::Instant::now() > deadline {
            break len;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(partial > 0, "the pull never started writing {}", ingest.display());
    let left = std::fs::metadata(&ingest).map(|m| m.len()).unwrap_or(0);
    assert!(left > 0 && left < 30_000_000, "a partial download is left to resume ({left} bytes)");

    assert_eq!(w.ok(&["pull", "-q", &reference]).trim(), &pushed.config_digest[7..]);
    let data = std::fs::read(w.layer_dir(&pushed.diff_ids[0]).join("data")).unwrap();
    assert!(data == noise(7, 30_000_000), "resumed content is intact");
    assert!(!ingest.exists(), "the partial file became the blob");
}

/// How long `berth ARGS` takes, run once to the end (it must succeed).
fn timed(w: &World, args: &[&str]) -> Duration {
    let began = std::time::Instant::now();
    w.ok(args);
    began.elapsed()
}

/// Starts `berth ARGS` and kills it (SIGKILL) after a random part of `duration`; true when the
/// kill landed before it finished.
fn kill_during(w: &World, args: &[&str], duration: Duration) -> bool {
    let mut child =
        w.cmd().args(args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let delay = rand::rng().random_range(0..duration.as_micros().max(1) as u64);
    std::thread::sleep(Duration::from_micros(delay));
    let killed = child.try_wait().unwrap().is_none();
    if killed {
        child.kill().unwrap(); // SIGKILL
    }
    child.wait().unwrap();
    killed
}

/// What a user sees after a kill: the listings work and the store is consistent (leftovers of
/// the kill are young, so they may belong to a command still running and are not problems).
fn still_consistent(w: &World, after: &str) {
    w.ok(&["ps", "-a"]);
    w.ok(&["images"]);
    let (code, out) = crate::check::check(w, &[]);
    assert_eq!((code, out.as_str()), (0, "the store is consistent\n"), "after a kill during {after}");
}

/// The leftovers of all the kills (partial downloads, staging and orphan directories): named by
/// `--repair`, and gone after it.
fn leftovers_repaired(w: &World, after: &str) -> usize {
    let (code, out) = crate::check::check(w, &["--max", "0", "--repair"]);
    assert_eq!(code, 0, "after kills during {after}:\n{out}");
    let repaired = out.lines().filter(|l| l.starts_with("repaired: ")).count();
    let others: Vec<&str> =
        out.lines().filter(|l| !l.starts_with("repaired: ") && !l.starts_with("the store is consistent")).collect();
    assert!(others.is_empty(), "after kills during {after}, not repaired: {others:?}");
    assert_eq!(crate::check::check(w, &["--max", "0"]), (0, "the store is consistent\n".to_string()), "{after}");
    repaired
}

fn names(w: &World) -> Vec<String> {
    w.ok(&["ps", "-a", "--format", "{{.Names}}"]).lines().map(str::to_string).collect()
}

/// Kill -9 at random points of pull, create, start and rm, 20 times each: the listings still
/// work, the store is consistent after every kill, the same command succeeds next (or the
/// object is cleanly there or absent), and what the kills left behind is only what
/// `system check --repair` names and removes.
#[test]
fn kill_nine_during_pull_create_start_and_rm_leaves_a_consistent_store() {
    let w = World::new();
    let mut spec = berth_testkit::busybox_image().unwrap();
    for i in 0..2u32 {
        let mut l = LayerBuilder::new();
        l.file(&format!("extra{i}/data"), noise(i + 11, 3_000_000), 0o644);
        spec = spec.layer(l.build(), Compression::Gzip);
    }
    w.push("victim:1", &spec);
    let image = w.image_ref("victim:1");
    let mut report = Vec::new();

    // pull, from an empty store each time
    let took = timed(&w, &["pull", "-q", &image]);
    let mut killed = 0;
    for _ in 0..20 {
        w.ok(&["rmi", "-f", &image]);
        killed += kill_during(&w, &["pull", "-q", &image], took) as usize;
        still_consistent(&w, "pull");
        w.ok(&["pull", "-q", &image]);
        still_consistent(&w, "the pull after a killed one");
    }
    report.push(format!("pull {took:?}: {killed} killed, {} leftovers repaired", leftovers_repaired(&w, "pull")));
    assert!(killed >= 5, "only {killed} pulls were killed before they finished");

    // create
    let took = timed(&w, &["create", "--name", "probe", &image, "sleep", "1000"]);
    let mut killed = 0;
    for i in 0..20 {
        let name = format!("c{i}");
        killed += kill_during(&w, &["create", "--name", &name, &image, "sleep", "1000"], took) as usize;
        still_consistent(&w, "create");
        if names(&w).contains(&name) {
            let err = w.fails(&["create", "--name", &name, &image, "sleep", "1000"]);
            assert!(err.contains("already in use"), "{err}");
        } else {
            w.ok(&["create", "--name", &name, &image, "sleep", "1000"]);
        }
        w.ok(&["start", &name]);
        w.ok(&["rm", "-f", &name]);
    }
    report.push(format!("create {took:?}: {killed} killed, {} leftovers repaired", leftovers_repaired(&w, "create")));

    // start
    w.ok(&["rm", "-f", "probe"]);
    w.ok(&["create", "--name", "probe", &image, "sleep", "1000"]);
    let took = timed(&w, &["start", "probe"]);
    let mut killed = 0;
    for i in 0..20 {
        let name = format!("s{i}");
        w.ok(&["create", "--name", &name, &image, "sleep", "1000"]);
        killed += kill_during(&w, &["start", &name], took) as usize;
        still_consistent(&w, "start");
        w.ok(&["start", &name]);
        let state = w.ok(&["inspect", "--format", "{{.State.Status}}", &name]);
        assert_eq!(state.trim(), "running", "{name} after a killed start and a start");
        w.ok(&["rm", "-f", &name]);
    }
    report.push(format!("start {took:?}: {killed} killed, {} leftovers repaired", leftovers_repaired(&w, "start")));

    // rm -f of a running container
    let took = timed(&w, &["rm", "-f", "probe"]);
    let mut killed = 0;
    for i in 0..20 {
        let name = format!("r{i}");
        w.ok(&["run", "-d", "--name", &name, &image, "sleep", "1000"]);
        killed += kill_during(&w, &["rm", "-f", &name], took) as usize;
        still_consistent(&w, "rm");
        if names(&w).contains(&name) {
            w.ok(&["rm", "-f", &name]);
        } else {
            let err = w.fails(&["rm", &name]);
            assert!(err.contains("no such container"), "{err}");
        }
        assert!(!names(&w).contains(&name));
    }
    report.push(format!("rm {took:?}: {killed} killed, {} leftovers repaired", leftovers_repaired(&w, "rm")));
    eprintln!("kill -9: {}", report.join("; "));
    assert!(names(&w).is_empty(), "{:?}", names(&w));
}
