//! The `berth-testkit` binary as the benchmark scripts use it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{skopeo_inspect, strings};

const BIN: &str = env!("CARGO_BIN_EXE_berth-testkit");

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "berth-testkit {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            return s;
        }
        assert!(Instant::now() < deadline, "no port file after 20s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn registry_push_busybox_and_push_rootfs() {
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let mut child =
        Command::new(BIN).args(["registry", "--port-file"]).arg(&port_file).stdout(Stdio::null()).spawn().unwrap();
    let addr = wait_for_file(&port_file);
    assert!(addr.starts_with("127.0.0.1:"), "{addr:?}");

    let digest = run(&["push-busybox", "--registry", &addr, "--reference", "bb:1"]);
    let inspect = skopeo_inspect(&addr, "bb:1", false, None);
    assert_eq!(inspect["Digest"], digest.as_str());

    // a small tree with three first-level entries, split into two layers
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::write(root.join("etc/hostname"), "x\n").unwrap();
    std::fs::write(root.join("usr/bin/tool"), "#!/bin/sh\n").unwrap();
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    let root = root.to_str().unwrap();
    let digest = run(&["push-rootfs", "--registry", &addr, "--reference", "tree:1", "--split", "2", root]);
    let inspect = skopeo_inspect(&addr, "tree:1", false, None);
    assert_eq!(inspect["Digest"], digest.as_str());
    assert_eq!(strings(&inspect["Layers"]).len(), 2);

    // SIGTERM stops the registry and the command exits cleanly
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(std::net::TcpStream::connect(&addr).is_err(), "registry still listening");
}
