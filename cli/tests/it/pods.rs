//! Pods: containers sharing the network, IPC and UTS namespaces (and the pid one with
//! `--share +pid`) their infra container holds; the pod's verbs and what `ps` shows of them;
//! bad input refused with nothing left half made; nothing left (mounts, infra containers)
//! once the pod is gone.

use serde_json::Value;

use crate::World;

/// Berth's output, its last newline dropped.
fn ok(w: &World, args: &[&str]) -> String {
    w.ok(args).trim_end().to_string()
}

fn busybox(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let r = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

fn mounts_under(root: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root = root.to_string_lossy().to_string();
    text.lines().filter_map(|l| l.split(' ').nth(4)).filter(|m| m.starts_with(&root)).map(String::from).collect()
}

#[test]
fn a_pods_containers_share_localhost_shm_and_host_name() {
    let w = World::new();
    let img = busybox(&w);
    let id = ok(&w, &["pod", "create", "--name", "web", "--hostname", "podhost", "--label", "tier=front"]);
    assert_eq!(id.len(), 64, "pod create prints the pod's id: {id}");
    assert_eq!(ok(&w, &["pod", "ps", "--format", "{{.Name}} {{.Status}} {{.Labels}}"]), "web Created map[tier:front]");

    // a listener and a talker over the pod's localhost
    // -i: with stdin at its end, busybox's `nc -l` half-closes the connection as it accepts
    // it, and the talker may take that end for the answer and go before it sent anything
    let listener = ok(&w, &["run", "-di", "--pod", "web", &img, "nc", "-l", "-p", "7777"]);
    // the listener may not listen yet when `run -d` returns: the talker tries again
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !w
        .berth(&["run", "--rm", "--pod", "web", &img, "sh", "-c", "echo over-localhost | nc 127.0.0.1 7777"])
        .status
        .success()
    {
        assert!(std::time::Instant::now() < deadline, "the talker never reached the listener over the pod's localhost");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    ok(&w, &["wait", &listener]);
    let logs = w.berth(&["logs", &listener]);
    assert_eq!(
        String::from_utf8_lossy(&logs.stdout).trim_end(),
        "over-localhost",
        "the listener's output (its errors: {})",
        String::from_utf8_lossy(&logs.stderr)
    );

    // one /dev/shm, one host name
    ok(&w, &["run", "--rm", "--pod", "web", &img, "touch", "/dev/shm/left-by-one"]);
    assert_eq!(ok(&w, &["run", "--rm", "--pod", "web", &img, "ls", "/dev/shm"]), "left-by-one");
    assert_eq!(ok(&w, &["run", "--rm", "--pod", "web", &img, "hostname"]), "podhost");
    let err = w.fails(&["run", "--rm", "--pod", "web", "--hostname", "x", &img, "true"]);
    assert!(err.contains("cannot set hostname when joining the pod UTS namespace"), "{err}");

    // the pod in ps and inspect
    let infra = ok(&w, &["pod", "inspect", "--format", "{{.InfraContainerID}}", "web"]);
    let ps = ok(&w, &["ps", "-a", "--filter", "pod=web", "--format", "{{.ID}} {{.Pod}} {{.PodName}}"]);
    assert!(ps.contains(&format!("{} {} web", &infra[..12], &id[..12])), "{ps}");
    assert!(ps.contains(&format!("{} {} web", &listener[..12], &id[..12])), "{ps}");
    let v: Value = serde_json::from_str(&ok(&w, &["pod", "inspect", "web"])).unwrap();
    assert_eq!(v["Name"], "web");
    assert_eq!(v["SharedNamespaces"], serde_json::json!(["ipc", "net", "uts"]));
    assert_eq!(v["NumContainers"], 2);
    assert_eq!(v["State"], "Degraded", "the infra runs, the listener exited");

    // the infra goes only with its pod
    let err = w.fails(&["rm", "-f", &infra]);
    assert!(err.contains("cannot be removed without removing the pod"), "{err}");
    let err = w.fails(&["pod", "create", "--name", "web"]);
    assert!(err.contains("already in use"), "{err}");

    ok(&w, &["pod", "stop", "web"]);
    assert_eq!(ok(&w, &["pod", "ps", "--format", "{{.Status}}"]), "Exited");
    ok(&w, &["pod", "rm", "web"]);
    assert_eq!(ok(&w, &["ps", "-aq"]), "", "the pod's containers went with it");
    assert_eq!(w.berth(&["pod", "exists", "web"]).status.code(), Some(1));
    assert!(mounts_under(&w.root()).is_empty(), "nothing stays mounted: {:?}", mounts_under(&w.root()));
}

#[test]
fn a_shared_pid_namespace_and_the_stop_exit_policy() {
    let w = World::new();
    let img = busybox(&w);
    ok(&w, &["pod", "create", "--name", "pids", "--share", "+pid", "--exit-policy", "stop"]);
    let top = ok(&w, &["run", "-d", "--pod", "pids", &img, "sleep", "1000"]);
    // the infra's pause process is pid 1 of every member
    let ps = ok(&w, &["run", "--rm", "--pod", "pids", &img, "ps", "-o", "pid,comm"]);
    assert!(ps.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "berth-pause"]), "{ps}");
    assert!(ps.contains("sleep"), "the other member's process is seen: {ps}");
    let pod_top = ok(&w, &["pod", "top", "pids"]);
    assert!(pod_top.contains("sleep 1000") && pod_top.contains("berth-pause"), "{pod_top}");
    // the last member stops: so does the pod (exit policy stop)
    ok(&w, &["stop", "-t", "0", &top]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ok(&w, &["pod", "inspect", "--format", "{{.State}}", "pids"]) != "Exited" {
        assert!(std::time::Instant::now() < deadline, "the pod did not stop with its last container");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    ok(&w, &["pod", "rm", "pids"]);
}

#[test]
fn bad_pod_input_is_refused_and_leaves_nothing() {
    let w = World::new();
    let img = busybox(&w);
    let err = w.fails(&["pod", "create", "--share", "bogus"]);
    assert!(err.contains("invalid kernel namespace to share: bogus"), "{err}");
    let err = w.fails(&["pod", "create", "--exit-policy", "sometimes"]);
    assert!(err.contains("invalid pod exit policy: \"sometimes\""), "{err}");
    // an infra name in use: no pod, no second infra
    ok(&w, &["create", "--name", "taken", &img, "true"]);
    let err = w.fails(&["pod", "create", "--name", "p", "--infra-name", "taken"]);
    assert!(err.contains("the container name \"taken\" is already in use"), "{err}");
    assert_eq!(ok(&w, &["pod", "ps", "-q"]), "", "no pod was left");
    // a new pod for a container that can't be made goes again
    let err = w.fails(&["run", "--pod", "new:short-lived", "--user", "nobody-here", &img, "true"]);
    assert!(err.contains("nobody-here"), "{err}");
    assert_eq!(ok(&w, &["pod", "ps", "-q"]), "", "the new pod went with the container");
    assert_eq!(ok(&w, &["ps", "-a", "--format", "{{.Names}}"]), "taken");
    // ports of a pod's network are the pod's
    ok(&w, &["pod", "create", "--name", "p"]);
    let err = w.fails(&["create", "--pod", "p", "-p", "8080:80", &img, "true"]);
    assert!(err.contains("published or exposed ports must be defined when the pod is created"), "{err}");
    let err = w.fails(&["pod", "rm", "nope"]);
    assert!(err.contains("no pod with name or ID nope found"), "{err}");
    ok(&w, &["pod", "rm", "-f", "p"]);
    ok(&w, &["rm", "taken"]);
    assert_eq!(ok(&w, &["ps", "-aq"]), "");
}

#[test]
fn a_pods_published_port_reaches_its_member() {
    let w = World::new();
    let img = busybox(&w);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    ok(&w, &["pod", "create", "--name", "pub", "-p", &format!("{port}:8000")]);
    let c = ok(&w, &["run", "-di", "--pod", "pub", &img, "nc", "-l", "-p", "8000"]);
    let ps = ok(&w, &["ps", "--filter", &format!("id={c}"), "--format", "{{.Ports}}"]);
    assert_eq!(ps, format!("0.0.0.0:{port}->8000/tcp"), "a member shows its pod's ports");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write;
            if s.write_all(b"through-the-pod\n").is_ok() {
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "the pod's port never answered");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    ok(&w, &["wait", &c]);
    assert_eq!(ok(&w, &["logs", &c]), "through-the-pod");
    ok(&w, &["pod", "rm", "-f", "pub"]);
}
