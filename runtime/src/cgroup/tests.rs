//! These tests need root and a cgroup filesystem; they create cgroups under `berth-test/`.

use super::*;
use std::process::{Child, Command};

const PARENT: &str = "berth-test";

fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).expect("valid OCI resources")
}

/// Reads `file` from whichever directory of the cgroup has it.
fn read_knob(cg: &ContainerCgroup, file: &str) -> Option<String> {
    cg.dirs().iter().find_map(|d| std::fs::read_to_string(d.join(file)).ok()).map(|s| s.trim().to_string())
}

/// Every directory named `<PARENT>/<id>` under any hierarchy mounted below /sys/fs/cgroup.
fn leftovers(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let rel = Path::new(PARENT).join(id);
    let root = Path::new("/sys/fs/cgroup");
    if root.join(&rel).exists() {
        found.push(root.join(&rel));
    }
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let dir = entry.path().join(&rel);
        if dir.exists() {
            found.push(dir);
        }
    }
    found
}

/// Best-effort removal of the shared test parent; fails quietly while other tests use it.
fn tidy_parent() {
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = std::fs::remove_dir(entry.path().join(PARENT));
    }
    let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(PARENT));
}

fn sleeper() -> Child {
    Command::new("sleep").arg("60").spawn().expect("spawn sleep")
}

#[test]
fn limits_tasks_freezer_kill_and_delete() {
    let id = unique("full");
    let res = resources(
        r#"{"memory": {"limit": 67108864}, "pids": {"limit": 32},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000}}"#,
    );
    let (cg, warnings) = ContainerCgroup::create(PARENT, &id, Some(&res)).expect("create");
    eprintln!("warnings: {warnings:?}, dirs: {:?}", cg.dirs());
    assert!(cg.exists());

    let v2 = cg.cg.v2();
    let (mem_file, want_mem) = if v2 { ("memory.max", "67108864") } else { ("memory.limit_in_bytes", "67108864") };
    assert_eq!(read_knob(&cg, mem_file).as_deref(), Some(want_mem));
    assert_eq!(read_knob(&cg, "pids.max").as_deref(), Some("32"));
    if v2 {
        assert_eq!(read_knob(&cg, "cpu.max").as_deref(), Some("50000 100000"));
        assert_eq!(read_knob(&cg, "cpu.weight").as_deref(), Some(&*shares_to_weight(512).to_string()));
    } else {
        assert_eq!(read_knob(&cg, "cpu.cfs_quota_us").as_deref(), Some("50000"));
        assert_eq!(read_knob(&cg, "cpu.shares").as_deref(), Some("512"));
    }

    let mut child = sleeper();
    cg.add_task(child.id()).expect("add_task");
    assert_eq!(cg.procs(), vec![child.id()]);
    let st = cg.stats();
    eprintln!("stats: {st:?}");
    assert!(st.pids_current.unwrap_or(0) >= 1, "{st:?}");
    assert_eq!(st.memory_limit, Some(64 << 20));
    assert!(st.cpu_usage_ns.is_some());

    // the cgroup is visible to the process itself
    let own = std::fs::read_to_string(format!("/proc/{}/cgroup", child.id())).unwrap();
    assert!(own.contains(&format!("/{PARENT}/{id}")), "{own}");

    cg.freeze().expect("freeze");
    assert!(cg.is_frozen());
    cg.thaw().expect("thaw");
    assert!(!cg.is_frozen());

    // delete refuses while processes remain
    assert!(matches!(cg.delete(), Err(CgroupError::Busy { .. })));

    cg.kill_all(Signal::SIGKILL).expect("kill_all");
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));

    cg.delete().expect("delete");
    assert!(!cg.exists());
    assert_eq!(leftovers(&id), Vec::<PathBuf>::new());
    tidy_parent();
}

#[test]
fn kill_all_reaches_children_of_children() {
    let id = unique("tree");
    let (cg, _) = ContainerCgroup::create(PARENT, &id, None).expect("create");
    // sh starts in the cgroup, then forks two sleeps that inherit it
    let mut sh = Command::new("sh")
        .arg("-c")
        .arg("read x; sleep 60 & sleep 60 & wait")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    cg.add_task(sh.id()).unwrap();
    drop(sh.stdin.take()); // EOF: let the script go on
    let start = Instant::now();
    while cg.procs().len() < 3 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(cg.procs().len(), 3, "{:?}", cg.procs());
    cg.kill_all(Signal::SIGKILL).unwrap();
    sh.wait().unwrap();
    cg.delete().expect("delete after the grandchildren are gone");
    assert_eq!(leftovers(&id), Vec::<PathBuf>::new());
    tidy_parent();
}

#[test]
fn load_reattaches_by_name() {
    let id = unique("load");
    let (cg, _) = ContainerCgroup::create(PARENT, &id, Some(&resources(r#"{"pids": {"limit": 7}}"#))).unwrap();
    let again = ContainerCgroup::load(PARENT, &id).expect("load");
    assert_eq!(again.path(), cg.path());
    assert_eq!(again.dirs(), cg.dirs());
    assert_eq!(read_knob(&again, "pids.max").as_deref(), Some("7"));
    again.delete().unwrap();
    let err = ContainerCgroup::load(PARENT, &id).err().expect("gone");
    assert_eq!(err.to_string(), format!("cgroup {PARENT}/{id} does not exist"));
    assert_eq!(leftovers(&id), Vec::<PathBuf>::new());
    tidy_parent();
}

#[test]
fn swap_limit_is_applied_or_refused_clearly() {
    let id = unique("swap");
    let res = resources(r#"{"memory": {"limit": 33554432, "swap": 67108864}}"#);
    match ContainerCgroup::create(PARENT, &id, Some(&res)) {
        Ok((cg, _)) => {
            if cg.cg.v2() {
                assert_eq!(read_knob(&cg, "memory.swap.max").as_deref(), Some("33554432"));
            } else {
                assert_eq!(read_knob(&cg, "memory.memsw.limit_in_bytes").as_deref(), Some("67108864"));
            }
            cg.delete().unwrap();
        }
        // hosts without swap accounting: the error names the limit, nothing is left behind
        Err(e) => assert!(e.to_string().contains("memory+swap limit"), "{e}"),
    }
    assert_eq!(leftovers(&id), Vec::<PathBuf>::new());
    tidy_parent();
}

#[test]
fn no_limits_means_no_errors() {
    let id = unique("plain");
    let (cg, warnings) = ContainerCgroup::create(PARENT, &id, None).unwrap();
    for w in &warnings {
        assert!(w.contains("controller is not available"), "{w}");
    }
    cg.delete().unwrap();
    assert_eq!(leftovers(&id), Vec::<PathBuf>::new());
    tidy_parent();
}

#[test]
fn missing_controller_is_a_clear_error() {
    let res = resources(r#"{"memory": {"limit": 1048576}, "pids": {"limit": 10}}"#);
    let (limits, _) = limits_of("berth/c1", &res).unwrap();
    let no_pids = |c: &str| c != "pids";
    let err = check_controllers("berth/c1", &limits, &no_pids, "").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot apply the pids limit to cgroup berth/c1: the pids controller is not available on this host"
    );
    let none = |_: &str| false;
    let err = check_controllers("berth/c1", &limits, &none, " (not delegated: x)").unwrap_err();
    assert!(err.to_string().contains("memory limit") && err.to_string().ends_with("(not delegated: x)"));
    assert!(check_controllers("berth/c1", &limits, &|_: &str| true, "").is_ok());
    assert!(check_controllers("berth/c1", &[], &none, "").is_ok());
}

#[test]
fn limits_map_to_controllers() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (r#"{}"#, &[]),
        (r#"{"memory": {"limit": 10}}"#, &[("memory limit", "memory")]),
        (r#"{"memory": {"limit": -1}}"#, &[]),
        (
            r#"{"memory": {"reservation": 5, "swappiness": 0}}"#,
            &[("memory reservation", "memory"), ("memory swappiness", "memory")],
        ),
        (r#"{"cpu": {"shares": 1024}}"#, &[("cpu shares", "cpu")]),
        (r#"{"cpu": {"quota": 1000}}"#, &[("cpu quota", "cpu")]),
        (r#"{"cpu": {"cpus": "0", "mems": "0"}}"#, &[("cpuset cpus", "cpuset"), ("cpuset mems", "cpuset")]),
        (r#"{"pids": {"limit": 0}}"#, &[]),
        (r#"{"pids": {"limit": 5}}"#, &[("pids limit", "pids")]),
    ];
    for (json, want) in cases {
        let (limits, _) = limits_of("p/i", &resources(json)).unwrap();
        let got: Vec<_> = limits.iter().map(|l| (l.name(), l.controller())).collect();
        assert_eq!(&got, want, "{json}");
    }
    let refused = [
        (r#"{"blockIO": {"weight": 10}}"#, "blockIO"),
        (r#"{"memory": {"kernel": 10}}"#, "memory.kernel"),
        (r#"{"unified": {"memory.high": "1"}}"#, "unified"),
        (r#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]}"#, "hugepageLimits"),
    ];
    for (json, field) in refused {
        let err = limits_of("p/i", &resources(json)).unwrap_err().to_string();
        assert_eq!(err, format!("cannot apply {field} to cgroup p/i: berth does not support this resource limit yet"));
    }
    let (_, warnings) = limits_of("p/i", &resources(r#"{"devices": [{"allow": false, "access": "rwm"}]}"#)).unwrap();
    assert_eq!(warnings.len(), 1);
}

#[test]
fn bad_names_are_refused() {
    for (parent, id) in [("berth", ""), ("berth", "a/b"), ("berth", ".."), ("", "x"), ("a/../b", "x")] {
        let err = ContainerCgroup::load(parent, id).err().expect("invalid");
        assert!(err.to_string().starts_with("invalid cgroup name"), "{err}");
    }
}

#[test]
fn cpu_shares_convert_to_weight_like_runc() {
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(1024), 39);
    assert_eq!(shares_to_weight(262144), 10000);
    assert_eq!(shares_to_weight(0), 1);
}
