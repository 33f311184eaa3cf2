//! skopeo, run against a loopback registry.

use std::process::Command;

use serde_json::Value;

/// `skopeo inspect --tls-verify=false [--raw] [--creds C] docker://ADDR/REFERENCE`; panics with
/// skopeo's stderr on failure.
pub fn skopeo_inspect(addr: &str, reference: &str, raw: bool, creds: Option<&str>) -> Value {
    let out = skopeo_inspect_output(addr, reference, raw, creds);
    assert!(out.status.success(), "skopeo inspect {addr}/{reference} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("skopeo prints JSON")
}

/// The raw manifest bytes skopeo fetched.
pub fn skopeo_raw_bytes(addr: &str, reference: &str) -> Vec<u8> {
    let out = skopeo_inspect_output(addr, reference, true, None);
    assert!(
        out.status.success(),
        "skopeo inspect --raw {addr}/{reference} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn skopeo_inspect_output(addr: &str, reference: &str, raw: bool, creds: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--tls-verify=false"]);
    if raw {
        cmd.arg("--raw");
    }
    match creds {
        Some(c) => cmd.args(["--creds", c]),
        None => cmd.arg("--no-creds"),
    };
    cmd.arg(format!("docker://{addr}/{reference}"));
    cmd.output().expect("running skopeo (install Debian's skopeo package)")
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("an array").iter().map(|s| s.as_str().expect("a string").to_string()).collect()
}
