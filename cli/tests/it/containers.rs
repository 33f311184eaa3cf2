//! Real containers, run as root: config honouring, isolation seen from inside, exit codes,
//! stop and kill, logs, --rm, supervision after the CLI is gone, and cleanup.

use std::time::{Duration, Instant};

use berth_testkit::{Compression, LayerBuilder};
use serde_json::json;

use crate::World;

/// A busybox image with a config to honour, pushed and pulled; returns its reference.
fn image(w: &World, tag: &str, config: serde_json::Value) -> String {
    let mut spec = berth_testkit::busybox_image().unwrap();
    let mut merged = spec.config.clone();
    for (k, v) in config.as_object().unwrap() {
        merged[k] = v.clone();
    }
    spec.config = merged;
    w.push(tag, &spec);
    let reference = w.image_ref(tag);
    w.ok(&["pull", "-q", &reference]);
    reference
}

fn busybox(w: &World) -> String {
    image(w, "busybox:latest", json!({}))
}

#[test]
fn honours_the_image_config_and_its_overrides() {
    let w = World::new();
    let img = image(
        &w,
        "configured:1",
        json!({
            "Env": ["PATH=/usr/bin:/bin", "FROM_IMAGE=yes", "OVERRIDE=image"],
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo cmd:$FROM_IMAGE:$OVERRIDE; pwd; id"],
            "WorkingDir": "/srv/app",
            "User": "app",
        }),
    );
    let out = w.ok(&["run", "--rm", &img]);
    assert_eq!(out, "cmd:yes:image\n/srv/app\nuid=1000(app) gid=1000(app) groups=50(staff)\n");

    let out =
        w.ok(&["run", "--rm", "-e", "OVERRIDE=user", "-w", "/tmp", "-u", "root", &img, "echo $OVERRIDE; pwd; id -u"]);
    assert_eq!(out, "user\n/tmp\n0\n");

    let out = w.ok(&["run", "--rm", "--entrypoint", "/bin/echo", &img, "plain", "args"]);
    assert_eq!(out, "plain args\n", "--entrypoint drops the image's Cmd");

    let out = w.ok(&["run", "--rm", "-u", "1000:50", "-h", "myhost", &img, "id; hostname; echo $HOME"]);
    assert_eq!(
        out, "uid=1000(app) gid=50(staff)\nmyhost\n/home/app\n",
        "a forced group replaces the supplementary ones"
    );

    let envfile = w.dir.path().join("env");
    std::fs::write(&envfile, "# comment\nFROM_FILE=1\n\nOVERRIDE=file\n").unwrap();
    let out = w.ok(&["run", "--rm", "--env-file", envfile.to_str().unwrap(), &img, "echo $FROM_FILE$OVERRIDE"]);
    assert_eq!(out, "1file\n");
}

#[test]
fn the_layer_tree_is_what_the_container_sees() {
    let w = World::new();
    let mut top = LayerBuilder::new();
    top.whiteout("etc/group")
        .opaque("home")
        .file("home/only", "new", 0o644)
        .file_owned("data/f", "x", 0o4750, 1000, 50)
        .hardlink("data/h", "data/f")
        .symlink("data/l", "/data/f")
        .fifo("data/p", 0o600)
        .char_device("data/c", 1, 3, 0o666);
    let mut spec = berth_testkit::busybox_image().unwrap();
    spec = spec.layer(top.build(), Compression::Gzip);
    w.push("tree:1", &spec);
    let img = w.image_ref("tree:1");
    let script = "ls /etc/group 2>&1; ls /home; stat -c '%a %u %g %h %F' /data/f /data/p /data/c; \
                  [ /data/f -ef /data/h ] && echo same; readlink /data/l; cat /data/l";
    let out = w.ok(&["run", "--rm", &img, "sh", "-c", script]);
    assert_eq!(
        out,
        "ls: /etc/group: No such file or directory\nonly\n4750 1000 50 2 regular file\n600 0 0 1 fifo\n\
         666 0 0 1 character special file\nsame\n/data/f\nx"
    );
}

#[test]
fn isolation_seen_from_inside() {
    let w = World::new();
    let img = busybox(&w);
    let out = w.ok(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        "grep -E '^(CapBnd|CapEff|Seccomp|NoNewPrivs):' /proc/self/status; echo pid=$$",
    ]);
    assert_eq!(out, "CapEff:\t00000000800405fb\nCapBnd:\t00000000800405fb\nNoNewPrivs:\t0\nSeccomp:\t2\npid=1\n");
    // (the host has /proc/keys and /proc/timer_list with content; /proc/kcore is not in every kernel)
    let out = w.ok(&["run", "--rm", &img, "sh", "-c", "cat /proc/keys | wc -c; cat /proc/timer_list | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname && echo writable; true"]);
    assert!(out.starts_with("0\n0\n0\n"), "masked paths read empty: {out}");
    assert!(!out.contains("writable"), "/proc/sys is read-only: {out}");
    let out = w.ok(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        "ls /dev | tr '\\n' ' '; echo; ls /sys/class/net | tr '\\n' ' '; echo; mount | grep -c ' / '",
    ]);
    let devs: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    for d in [
        "console", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty",
        "urandom", "zero", "fd",
    ] {
        if d != "console" {
            assert!(devs.contains(&d), "/dev/{d} in {devs:?}");
        }
    }
    assert_eq!(out.lines().nth(1), Some("eth0 lo "), "its own network namespace: loopback and its veth: {out}");
    let hostname = w.ok(&["run", "--rm", &img, "hostname"]);
    assert_eq!(hostname.trim().len(), 12, "hostname defaults to the short id");
    // nothing of the container is mounted on the host
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&w.root().display().to_string()), "container mounts leaked to the host");
}

#[test]
fn exit_codes_as_podman_reports_them() {
    let w = World::new();
    let img = busybox(&w);
    assert_eq!(w.berth(&["run", "--rm", &img, "sh", "-c", "exit 3"]).status.code(), Some(3));
    let out = w.berth(&["run", "--rm", &img, "no-such-command"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-command"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = w.berth(&["run", "--rm", &img, "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(126));
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "--rm removed every one of them");
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn stop_kill_and_the_stop_signal() {
    let w = World::new();
    let img = busybox(&w);
    // pid 1 ignores SIGTERM without a handler: stop waits -t, then kills (137)
    let id = w.ok(&["run", "-d", "--name", "sleeper", &img, "sleep", "100"]).trim().to_string();
    assert_eq!(id.len(), 64);
    let started = Instant::now();
    assert_eq!(w.ok(&["stop", "-t", "1", "sleeper"]).trim(), "sleeper");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(8), "stop took {took:?}");
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.ExitCode}}", "sleeper"]).trim(), "137");

    // a handler makes SIGTERM work at once
    w.ok(&[
        "run",
        "-d",
        "--name",
        "trapper",
        &img,
        "sh",
        "-c",
        "trap 'exit 42' TERM; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_for("the trap to be set", || w.ok(&["logs", "trapper"]) == "ready\n");
    let started = Instant::now();
    w.ok(&["stop", "trapper"]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(w.ok(&["wait", "trapper"]).trim(), "42");

    // the image's StopSignal is used
    let custom = image(&w, "stopsig:1", json!({"StopSignal": "SIGUSR1"}));
    w.ok(&[
        "run",
        "-d",
        "--name",
        "usr1",
        &custom,
        "sh",
        "-c",
        "trap 'exit 7' USR1; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_for("the trap to be set", || w.ok(&["logs", "usr1"]) == "ready\n");
    w.ok(&["stop", "usr1"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.ExitCode}}", "usr1"]).trim(), "7");

    w.ok(&["run", "-d", "--name", "victim", &img, "sleep", "100"]);
    w.ok(&["kill", "victim"]);
    assert_eq!(w.ok(&["wait", "victim"]).trim(), "137");
    let err = w.fails(&["kill", "victim"]);
    assert!(err.contains("can only kill running containers"), "{err}");

    w.ok(&["restart", "victim"]);
    assert!(w.ok(&["ps"]).contains("victim"));
    w.ok(&["rm", "-f", "victim"]);
}

#[test]
fn logs_and_follow() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&[
        "run",
        "-d",
        "--name",
        "talker",
        &img,
        "sh",
        "-c",
        "echo one; echo err >&2; sleep 1; echo two; printf tail",
    ]);
    let out = w.berth(&["logs", "-f", "talker"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\ntwo\ntail");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    assert_eq!(w.ok(&["logs", "--tail", "1", "talker"]), "tail");
    let stamped = w.ok(&["logs", "-t", "talker"]);
    assert!(stamped.lines().next().unwrap().ends_with("Z one"), "{stamped}");
    let raw = std::fs::read_to_string(
        w.root().join("containers").join(w.ok(&["inspect", "--format", "{{.Id}}", "talker"]).trim()).join("ctr.log"),
    )
    .unwrap();
    let first = raw.lines().next().unwrap();
    assert!(first.contains(" stdout F one"), "k8s-file format: {first}");
    assert!(raw.contains(" stderr F err"), "{raw}");
    assert!(raw.contains(" stdout P tail"), "{raw}");
}

#[test]
fn names_ids_ps_and_bad_input() {
    let w = World::new();
    let img = busybox(&w);
    let id = w.ok(&["create", "--name", "web", &img, "sleep", "100"]).trim().to_string();
    let ps = w.ok(&["ps", "-a"]);
    let header: Vec<&str> = ps.lines().next().unwrap().split("  ").filter(|s| !s.is_empty()).map(str::trim).collect();
    assert_eq!(header, ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
    let row = ps.lines().nth(1).unwrap();
    assert!(row.starts_with(&id[..12]) && row.contains("Created") && row.ends_with("web"), "{row}");
    assert_eq!(w.ok(&["ps"]).lines().count(), 1, "not running: only the header without -a");

    let err = w.fails(&["create", "--name", "web", &img]);
    assert!(err.contains("the container name \"web\" is already in use"), "{err}");
    let err = w.fails(&["create", "-u", "nobody-here", &img]);
    assert!(err.contains("unable to find user nobody-here"), "{err}");
    let err = w.fails(&["create", "--entrypoint", "", &img]);
    assert!(err.contains("no command or entrypoint"), "{err}");
    let err = w.fails(&["create", "--name", "bad name", &img]);
    assert!(err.contains("invalid container name"), "{err}");
    let missing = w.image_ref("not-pushed:1");
    let err = w.fails(&["create", &missing]);
    assert!(err.contains(&format!("{missing}: manifest unknown")), "a missing image: {err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]).lines().count(), 1, "failed creates leave nothing");
    assert_eq!(crate::list_dir(&w.root().join("containers")).len(), 1);

    w.ok(&["start", "web"]);
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["ps", "--format", "json"])).unwrap();
    assert_eq!(json[0]["Names"][0], "web");
    assert_eq!(json[0]["State"], "running");
    assert!(w.ok(&["ps", "--filter", "status=running", "-q"]).contains(&id[..12]));
    let inspect: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "web"])).unwrap();
    assert_eq!(inspect[0]["OCISpec"]["process"]["args"], json!(["sleep", "100"]));
    assert_eq!(inspect[0]["State"]["Running"], true);

    let err = w.fails(&["rm", "web"]);
    assert!(err.contains("cannot remove container") && err.contains("without force"), "{err}");
    let err = w.fails(&["rmi", &img]);
    assert!(err.contains("in use by container"), "{err}");

    // `berth ps | head -0`: the reader is gone before the table is written; a shell's SIGPIPE
    // ends the command quietly, and so does berth
    let mut piped = w.cmd();
    piped.args(["ps", "-a"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = piped.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "a closed pipe is no error to print");

    // an unnamed container gets a podman-style name
    w.ok(&["create", &img]);
    let names = w.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(names.lines().any(|n| n != "web" && n.contains('_')), "{names}");
    w.ok(&["rm", "-f", "web"]);
    assert_eq!(w.ok(&["container", "prune", "-f"]).lines().count(), 1);
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
}

fn cgroup_dirs(id: &str) -> Vec<String> {
    let mut found = Vec::new();
    for base in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        if let Ok(rd) = std::fs::read_dir(base) {
            for e in rd.flatten() {
                let p = e.path().join("berth").join(id);
                if p.exists() {
                    found.push(p.display().to_string());
                }
            }
        }
        let p = std::path::Path::new(base).join("berth").join(id);
        if p.exists() {
            found.push(p.display().to_string());
        }
    }
    found
}

#[test]
fn outlives_the_cli_and_leaves_nothing_after_rm() {
    let w = World::new();
    let img = busybox(&w);
    let mut cli = w.cmd().args(["run", "--name", "survivor", &img, "sleep", "100"]).spawn().unwrap();
    wait_for("the container to run", || w.ok(&["ps", "-q", "--filter", "name=survivor"]).lines().count() == 1);
    cli.kill().unwrap(); // SIGKILL to the berth process that started it
    cli.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let inspect: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "survivor"])).unwrap();
    assert_eq!(inspect[0]["State"]["Status"], "running");
    let pid = inspect[0]["State"]["Pid"].as_i64().unwrap();
    let id = inspect[0]["Id"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!cgroup_dirs(&id).is_empty(), "the container has its cgroup");

    w.ok(&["rm", "-f", "survivor"]);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "no process left");
    assert!(cgroup_dirs(&id).is_empty(), "no cgroup left: {:?}", cgroup_dirs(&id));
    assert!(!w.root().join("containers").join(&id).exists(), "no files left");
    let run_root = berth_engine::EngineConfig::run_root_of(&w.root());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&id), "no mount left");
    // The exit code stays a while for whoever waits (a `run` in the foreground), then goes
    // with the next removal.
    let exit_file = run_root.join("exits").join(&id);
    assert_eq!(std::fs::read_to_string(&exit_file).unwrap(), "137");
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&exit_file).unwrap().set_modified(long_ago).unwrap();
    w.ok(&["create", "--name", "next", &img]);
    w.ok(&["rm", "next"]);
    assert!(!exit_file.exists(), "no exit file left");
}

#[test]
fn concurrent_starts_start_once() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&["create", "--name", "once", &img, "sleep", "100"]);
    let starts: Vec<_> = (0..4)
        .map(|_| {
            w.cmd()
                .args(["start", "once"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in starts {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let pid = w.ok(&["inspect", "--format", "{{.State.Pid}}", "once"]).trim().to_string();
    let monitors = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c).contains("__berth-monitor")
                    && String::from_utf8_lossy(&c).contains(&w.root().display().to_string())
            })
        })
        .count();
    assert_eq!(monitors, 1, "one monitor for container pid {pid}");
    w.ok(&["rm", "-f", "once"]);
}

#[test]
fn a_dead_monitor_and_process_show_as_exited() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&["run", "-d", "--name", "orphan", &img, "sleep", "100"]);
    let pid = w.ok(&["inspect", "--format", "{{.State.Pid}}", "orphan"]).trim().parse::<i32>().unwrap();
    let monitor = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: i32 = monitor[monitor.rfind(')').unwrap() + 2..].split(' ').nth(1).unwrap().parse().unwrap();
    // kill -9 the monitor, then the container: nobody records the exit
    unsafe {
        libc::kill(ppid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
    wait_for("the process to go", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
    });
    std::thread::sleep(Duration::from_millis(200));
    let status = w.ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(status.starts_with("Exited"), "{status}");
    w.ok(&["rm", "orphan"]);
}

/// The value of a cgroup file of a container, in whichever hierarchy has it (v1 or v2).
fn cgroup_value(id: &str, v1: &str, v2: &str) -> Option<String> {
    let v1_path =
        std::path::Path::new("/sys/fs/cgroup").join(v1.split('.').next().unwrap()).join("berth").join(id).join(v1);
    let v2_path = std::path::Path::new("/sys/fs/cgroup/berth").join(id).join(v2);
    std::fs::read_to_string(v1_path).or_else(|_| std::fs::read_to_string(v2_path)).ok().map(|s| s.trim().to_string())
}

#[test]
fn resource_limits_are_enforced() {
    let w = World::new();
    let img = busybox(&w);
    let out = w.berth(&["run", "--rm", "-m", "32m", &img, "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"]);
    assert_eq!(
        out.status.code(),
        Some(137),
        "a process over --memory is killed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.ok(&["run", "--rm", "-m", "64m", &img, "dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=1"]);

    let out = w.berth(&[
        "run",
        "--rm",
        "--pids-limit",
        "8",
        &img,
        "sh",
        "-c",
        "for i in $(seq 20); do sleep 2 & done; wait; echo finished",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("can't fork"),
        "a fork bomb stops at --pids-limit: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let id = w.ok(&[
        "run",
        "-d",
        "--name",
        "limited",
        "-m",
        "48m",
        "--pids-limit",
        "20",
        "--cpus",
        "0.5",
        "-c",
        "512",
        &img,
        "sleep",
        "100",
    ]);
    let id = id.trim();
    assert_eq!(cgroup_value(id, "memory.limit_in_bytes", "memory.max").as_deref(), Some("50331648"));
    assert_eq!(cgroup_value(id, "pids.max", "pids.max").as_deref(), Some("20"));
    let quota = cgroup_value(id, "cpu.cfs_quota_us", "cpu.max").unwrap();
    assert!(quota == "50000" || quota == "50000 100000", "{quota}");
    let host: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "limited"])).unwrap();
    assert_eq!(host[0]["HostConfig"]["Memory"], 50331648);
    assert_eq!(host[0]["HostConfig"]["NanoCpus"], 500000000);
    w.ok(&["rm", "-f", "limited"]);

    let err = w.fails(&["create", "-m", "1m", &img]);
    assert!(err.contains("minimum memory limit allowed is 6MB"), "{err}");
    let err = w.fails(&["create", "--cpus", "99", &img]);
    assert!(err.contains("range of CPUs"), "{err}");
    let err = w.fails(&["create", "-m", "64m", "--memory-swap", "32m", &img]);
    assert!(err.contains("must be larger than --memory"), "{err}");
    let err = w.fails(&["create", "-m", "lots", &img]);
    assert!(err.contains("invalid size \"lots\""), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "refused limits create nothing");
}

#[test]
fn pause_unpause_and_rename() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&["run", "-d", "--name", "ticker", &img, "sh", "-c", "while true; do echo tick; sleep 0.05; done"]);
    wait_for("ticks", || w.ok(&["logs", "ticker"]).lines().count() > 2);
    w.ok(&["pause", "ticker"]);
    assert_eq!(w.ok(&["ps", "--format", "{{.Status}}"]).trim(), "Paused");
    let frozen = w.ok(&["logs", "ticker"]).lines().count();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(w.ok(&["logs", "ticker"]).lines().count(), frozen, "a paused container does nothing");
    let err = w.fails(&["pause", "ticker"]);
    assert!(err.contains("is not running, can't pause"), "{err}");
    w.ok(&["unpause", "ticker"]);
    wait_for("ticks again", || w.ok(&["logs", "ticker"]).lines().count() > frozen + 2);

    w.ok(&["rename", "ticker", "metronome"]);
    assert_eq!(w.ok(&["ps", "--format", "{{.Names}}"]).trim(), "metronome");
    w.ok(&["create", "--name", "other", &img]);
    let err = w.fails(&["rename", "metronome", "other"]);
    assert!(err.contains("the container name \"other\" is already in use"), "{err}");
    let err = w.fails(&["rename", "metronome", "bad name"]);
    assert!(err.contains("invalid container name"), "{err}");

    // a paused container still stops (thawed first) and is removed with -f
    w.ok(&["pause", "metronome"]);
    let started = Instant::now();
    w.ok(&["stop", "-t", "1", "metronome"]);
    assert!(started.elapsed() < Duration::from_secs(8));
    w.ok(&["run", "-d", "--name", "frozen", &img, "sleep", "100"]);
    w.ok(&["pause", "frozen"]);
    w.ok(&["rm", "-f", "frozen"]);
    assert!(!w.ok(&["ps", "-a", "--format", "{{.Names}}"]).contains("frozen"));
}

#[test]
fn an_interrupted_stop_leaves_a_running_container_running() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&["run", "-d", "--name", "stubborn", &img, "sleep", "1000"]); // pid 1 ignores SIGTERM
    let mut stop = w.cmd().args(["stop", "-t", "30", "stubborn"]).spawn().unwrap();
    wait_for("the stop to begin", || {
        let v: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "stubborn"])).unwrap();
        v[0]["State"]["Status"] == "stopping"
    });
    stop.kill().unwrap(); // the user gave up on it (or the app quit)
    stop.wait().unwrap();
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "stubborn"])).unwrap();
    assert_eq!(v[0]["State"]["Status"], "running", "not stopping forever");
    w.ok(&["stop", "-t", "0", "stubborn"]);
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "stubborn"])).unwrap();
    assert_eq!(v[0]["State"]["Status"], "exited");
}

#[test]
fn berth_trace_prints_the_start_paths_timeline_across_the_monitor() {
    let w = World::new();
    let img = busybox(&w);
    let trace_file = w.dir.path().join("trace");
    let out = w
        .cmd()
        .env("BERTH_TRACE", "1")
        .env("BERTH_TRACE_FILE", &trace_file)
        .args(["run", "--rm", &img, "echo", "hi"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n", "the container's output is untouched");
    let err = String::from_utf8_lossy(&out.stderr);
    // The marks of the command and of its monitor, in the order they happen.
    let order = [
        "berth[",
        "main",
        "created",
        "monitor spawned",
        "launched: the container's process runs",
        "container exited (0)",
        "exit seen",
        "exit",
    ];
    let mut from = 0;
    for mark in order {
        let at = err[from..].find(mark).unwrap_or_else(|| panic!("no {mark:?} after byte {from} in:\n{err}"));
        from += at + mark.len();
    }
    // The monitor writes the exit file before it records the row (and marks that), and the
    // command reads the file: the two marks come in either order, both after the exit.
    let exited = err.find("container exited (0)").expect("the exit");
    assert!(err[exited..].contains("exit recorded"), "{err}");
    assert!(err.contains("monitor started"), "{err}");
    assert!(err.contains(&trace_file.display().to_string()), "{err}");
    // Without it, nothing is printed and no file is written.
    let quiet = w.berth(&["run", "--rm", &img, "true"]);
    assert!(quiet.stderr.is_empty(), "{}", String::from_utf8_lossy(&quiet.stderr));
}

/// A second storage root in a world: its containers removed and its run root too at the end.
struct OtherRoot<'a> {
    w: &'a World,
    root: std::path::PathBuf,
}

impl OtherRoot<'_> {
    fn ok(&self, args: &[&str]) -> String {
        let out = self.w.cmd().env("BERTH_ROOT", &self.root).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "berth {args:?} in {}: {}",
            self.root.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for OtherRoot<'_> {
    fn drop(&mut self) {
        let _ = self.w.cmd().env("BERTH_ROOT", &self.root).args(["rm", "-af"]).output();
        let _ = std::fs::remove_dir_all(berth_engine::EngineConfig::run_root_of(&self.root));
    }
}

#[test]
fn two_roots_keep_their_run_state_apart() {
    let w = World::new();
    let img = busybox(&w);
    let other = OtherRoot { w: &w, root: w.dir.path().join("other-root") };
    other.ok(&["pull", "-q", &img]);
    // The same name in both: each root has its own containers.
    let run = ["run", "-d", "--network", "none", "--name", "same", &img, "sleep", "1000"];
    let a = w.ok(&run).trim().to_string();
    let b = other.ok(&run).trim().to_string();
    assert_ne!(a, b);

    let (ra, rb) =
        (berth_engine::EngineConfig::run_root_of(&w.root()), berth_engine::EngineConfig::run_root_of(&other.root));
    assert_ne!(ra, rb);
    for r in [&ra, &rb] {
        assert_eq!(r.parent(), Some(std::path::Path::new("/run/berth/roots")), "{}", r.display());
    }
    assert!(!w.root().join("run").exists(), "no run state on the storage root's disk");
    for (mine, theirs, r) in [(&a, &b, &ra), (&b, &a, &rb)] {
        assert!(r.join("attach").join(&mine[..12]).exists(), "{} has its container's attach socket", r.display());
        assert!(!r.join("attach").join(&theirs[..12]).exists(), "{} has not the other's", r.display());
        assert!(r.join("locks").join(mine).exists(), "{} has its container's lock", r.display());
        assert!(!r.join("locks").join(theirs).exists(), "{} has not the other's lock", r.display());
    }

    // ps of one root sees its own container only, and leaves the other's running.
    assert_eq!(w.ok(&["ps", "-aq"]).trim(), &a[..12]);
    assert_eq!(other.ok(&["ps", "-aq"]).trim(), &b[..12]);
    w.ok(&["stop", "-t", "0", "same"]);
    wait_for("the exit file of the stopped container", || ra.join("exits").join(&a).exists());
    assert!(!rb.join("exits").join(&a).exists(), "the other root has no exit file of it");
    assert_eq!(w.ok(&["ps", "-q"]).trim(), "", "stopped in its root");
    assert_eq!(other.ok(&["ps", "-q"]).trim(), &b[..12], "still running in the other root");
    let inspect: serde_json::Value = serde_json::from_str(&other.ok(&["inspect", "same"])).unwrap();
    assert_eq!(inspect[0]["State"]["Status"], "running", "{inspect}");
}
