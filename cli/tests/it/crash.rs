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
