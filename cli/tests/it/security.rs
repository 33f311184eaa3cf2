//! Capabilities added and dropped, --privileged, seccomp and no_new_privs options, and host
//! devices, as seen from inside real containers.

use crate::World;

fn image(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    img
}

fn status_line(w: &World, args: &[&str], key: &str) -> String {
    let mut all = vec!["run", "--rm"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["grep", key, "/proc/self/status"]);
    w.ok(&all).trim().split('\t').nth(1).unwrap_or_default().to_string()
}

#[test]
fn capabilities_are_added_and_dropped_as_seen_from_inside() {
    let w = World::new();
    let img = image(&w);
    assert_eq!(status_line(&w, &[&img], "CapEff"), "00000000800405fb");
    // + NET_ADMIN (12), NET_RAW (13); - CHOWN (0), KILL (5)
    let eff = status_line(
        &w,
        &["--cap-add", "NET_ADMIN", "--cap-add", "cap_net_raw", "--cap-drop", "CHOWN", "--cap-drop", "kill", &img],
        "CapEff",
    );
    let want = (0x800405fbu64 | (1 << 12) | (1 << 13)) & !((1 << 0) | (1 << 5));
    assert_eq!(eff, format!("{want:016x}"));
    assert_eq!(
        status_line(&w, &["--cap-drop", "ALL", "--cap-add", "SYS_TIME", &img], "CapEff"),
        format!("{:016x}", 1u64 << 25)
    );
    // What a dropped capability was for fails; what an added one is for works.
    let out = w.berth(&["run", "--rm", "--cap-drop", "CHOWN", &img, "chown", "1:1", "/tmp"]);
    assert!(!out.status.success(), "chown without CAP_CHOWN");
    w.ok(&["run", "--rm", "--cap-add", "NET_ADMIN", &img, "ip", "link", "set", "lo", "mtu", "1400"]);
    let out = w.berth(&["run", "--rm", &img, "ip", "link", "set", "lo", "mtu", "1400"]);
    assert!(!out.status.success(), "no NET_ADMIN by default");
    let err = w.fails(&["run", "--rm", "--cap-add", "FLY", &img, "true"]);
    assert!(err.contains("unknown capability \"FLY\""), "{err}");
}

#[test]
fn privileged_seccomp_and_no_new_privileges() {
    let w = World::new();
    let img = image(&w);
    // Every capability berth itself has (a sandboxed host may lack some).
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let all = status.lines().find_map(|l| l.strip_prefix("CapBnd:")).unwrap().trim().to_string();
    assert_eq!(status_line(&w, &["--privileged", &img], "CapEff"), all);
    assert_eq!(status_line(&w, &["--privileged", &img], "Seccomp:"), "0");
    let out = w.ok(&[
        "run",
        "--rm",
        "--privileged",
        &img,
        "sh",
        "-c",
        "cat /proc/keys >/dev/null && echo readable; ls /dev | grep -c .",
    ]);
    assert!(out.starts_with("readable\n"), "nothing masked: {out}");
    let devices: usize = out.lines().nth(1).unwrap().parse().unwrap();
    assert!(devices > 16, "the host's devices: {out}");
    assert_eq!(status_line(&w, &["--security-opt", "seccomp=unconfined", &img], "Seccomp:"), "0");
    assert_eq!(status_line(&w, &[&img], "Seccomp:"), "2");
    assert_eq!(status_line(&w, &["--security-opt", "no-new-privileges", &img], "NoNewPrivs"), "1");
    assert_eq!(status_line(&w, &[&img], "NoNewPrivs"), "0");
    // A profile file: everything allowed but mkdir, which fails with EPERM.
    let profile = w.dir.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = w.berth(&["run", "--rm", "--security-opt", &opt, &img, "mkdir", "/x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"), "{out:?}");
    let err = w.fails(&["run", "--rm", "--security-opt", "seccomp=/no/profile.json", &img, "true"]);
    assert!(err.contains("seccomp=/no/profile.json"), "{err}");
}

#[test]
fn host_devices_are_added_with_their_permissions() {
    let w = World::new();
    let img = image(&w);
    let out = w.ok(&[
        "run",
        "--rm",
        "--device",
        "/dev/null:/dev/mynull",
        &img,
        "sh",
        "-c",
        "echo x > /dev/mynull && stat -c '%t,%T %F' /dev/mynull",
    ]);
    assert_eq!(out, "1,3 character special file\n");
    let out = w.berth(&[
        "run",
        "--rm",
        "--device",
        "/dev/zero:/dev/z:r",
        &img,
        "sh",
        "-c",
        "head -c 3 /dev/z | wc -c; echo x > /dev/z",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("3\n"), "{out:?}");
    let err = w.fails(&["run", "--rm", "--device", "/dev/nope", &img, "true"]);
    assert!(err.contains("error gathering device information while adding custom device \"/dev/nope\""), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
}
