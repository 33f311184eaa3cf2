//! Four clients at once over one store, each taking `BERTH_SOAK_N` containers (default 200)
//! through create, start, exec, logs, stop and rm: two `berth` processes, the API service
//! over its socket (bollard), and the desktop app's backend (`berth-desktop --serve`, the same
//! `commands` the window calls; its exec is a terminal). Then nothing may be left: mounts under
//! the storage root, veths on the world's bridge, cgroups, nft rules, processes (monitors,
//! containers' and exec'd), threads of the two long-lived processes beyond what they had after
//! warming up, and exec sessions the service still answers for after their container is gone;
//! the counts are printed.
//!
//! Needs the `berth-desktop` binary beside `berth` (`cargo build -p berth-desktop`; `cargo test
//! --workspace` builds it). On 2 cores shared with other builds (load 6-7), the default 800
//! containers took 100-108 s (126-135 ms a container) and the whole test 134-141 s, so N stays
//! at 200.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::World;

fn count() -> usize {
    match std::env::var("BERTH_SOAK_N") {
        Ok(n) => n.parse().unwrap_or_else(|_| panic!("BERTH_SOAK_N={n}: give a number of containers per client")),
        Err(_) => 200,
    }
}

/// The command every container runs; its processes carry the marker in their environment.
fn command() -> Vec<String> {
    vec!["sh".into(), "-c".into(), "echo ready; exec sleep 3600".into()]
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn threads_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
}

/// A long-lived process's threads: they may linger a while after work (idle pool threads go
/// after 10 s), so wait until they are back to `baseline`, or return what is left.
fn settled_threads(pid: u32, baseline: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = threads_of(pid);
        if n <= baseline || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `berth system service` on a socket of the world's.
fn service(w: &World) -> (Killed, PathBuf) {
    let socket = w.dir.path().join("soak.sock");
    let child =
        w.cmd().args(["system", "service", "--timeout", "0", "--socket"]).arg(&socket).stderr(Stdio::null()).spawn();
    let child = Killed(child.unwrap());
    wait_for("the service's socket", Duration::from_secs(10), || {
        std::os::unix::net::UnixStream::connect(&socket).is_ok()
    });
    (child, socket)
}

/// The desktop app's backend: `berth-desktop --serve` over the world's storage.
struct Desktop {
    child: Killed,
    addr: String,
    token: String,
}

impl Desktop {
    fn start(w: &World) -> Desktop {
        let exe = Path::new(crate::BERTH).with_file_name("berth-desktop");
        assert!(exe.is_file(), "{} is missing: build it first (cargo build -p berth-desktop)", exe.display());
        let mut c = Command::new(&exe);
        c.arg("--serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", w.dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", w.dir.path().join("run"))
            .env("CONTAINERS_REGISTRIES_CONF", w.registries_conf())
            .env("BERTH_ROOT", w.root())
            .env("BERTH_CONFIG", w.dir.path().join("berth.toml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("Berth is serving on http://").unwrap_or_else(|| panic!("{line:?}"));
        let (addr, token) = url.split_once("/?token=").unwrap();
        Desktop { child: Killed(child), addr: addr.to_string(), token: token.to_string() }
    }

    fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// One command, as the UI's web backend sends it: (status, JSON answer).
    fn call(&self, command: &str, args: Value) -> (u16, Value) {
        let body = args.to_string();
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "POST /api/invoke/{command} HTTP/1.0\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{command}: {reply:?}"));
        let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn ok(&self, command: &str, args: Value) -> Value {
        let (status, v) = self.call(command, args.clone());
        assert_eq!(status, 200, "{command} {args}: {v}");
        v
    }
}

/// Client 1 and 2: the `berth` command.
fn cli_client(w: &World, who: &str, image: &str, marker: &str, n: usize, ids: &Mutex<Vec<String>>) {
    for i in 0..n {
        let name = format!("{who}-{i}");
        let env = format!("BERTH_SOAK={marker}");
        let mut args = vec!["create", "--name", &name, "-e", &env, "-p", "8080", image];
        let cmd = command();
        args.extend(cmd.iter().map(String::as_str));
        ids.lock().unwrap().push(w.ok(&args).trim().to_string());
        w.ok(&["start", &name]);
        assert_eq!(w.ok(&["exec", &name, "sh", "-c", "echo exec-$BERTH_SOAK"]), format!("exec-{marker}\n"));
        wait_for("the log", Duration::from_secs(10), || w.ok(&["logs", &name]) == "ready\n");
        w.ok(&["stop", "-t", "0", &name]);
        w.ok(&["rm", &name]);
    }
}

/// Client 3: the API service, through bollard.
fn api_client(socket: &Path, image: &str, marker: &str, n: usize, ids: &Mutex<Vec<String>>) -> Vec<String> {
    use bollard::query_parameters::{
        CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
    };
    use futures_util::StreamExt;
    let mut execs = Vec::new();
    crate::block_on(async {
        let d = bollard::Docker::connect_with_unix(socket.to_str().unwrap(), 60, bollard::API_DEFAULT_VERSION).unwrap();
        for i in 0..n {
            let body = bollard::models::ContainerCreateBody {
                image: Some(image.to_string()),
                cmd: Some(command()),
                env: Some(vec![format!("BERTH_SOAK={marker}")]),
                ..Default::default()
            };
            let name = format!("api-{i}");
            let created = d
                .create_container(Some(CreateContainerOptionsBuilder::default().name(&name).build()), body)
                .await
                .unwrap();
            ids.lock().unwrap().push(created.id.clone());
            d.start_container(&created.id, None::<bollard::query_parameters::StartContainerOptions>).await.unwrap();
            let exec = d
                .create_exec(
                    &created.id,
                    bollard::exec::CreateExecOptions {
                        cmd: Some(vec!["sh", "-c", "echo exec-$BERTH_SOAK"]),
                        attach_stdout: Some(true),
                        attach_stderr: Some(true),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            execs.push(exec.id.clone());
            let bollard::exec::StartExecResults::Attached { mut output, .. } =
                d.start_exec(&exec.id, None).await.unwrap()
            else {
                panic!("the exec did not attach");
            };
            let mut out = String::new();
            while let Some(o) = output.next().await {
                out.push_str(&o.unwrap().to_string());
            }
            assert_eq!(out, format!("exec-{marker}\n"));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let mut logs =
                    d.logs(&created.id, Some(LogsOptionsBuilder::default().stdout(true).stderr(true).build()));
                let mut text = String::new();
                while let Some(l) = logs.next().await {
                    text.push_str(&l.unwrap().to_string());
                }
                if text == "ready\n" {
                    break;
                }
                assert!(Instant::now() < deadline, "{name}'s log: {text:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            d.stop_container(&created.id, Some(StopContainerOptionsBuilder::default().t(0).build())).await.unwrap();
            d.remove_container(&created.id, Some(RemoveContainerOptionsBuilder::default().build())).await.unwrap();
        }
    });
    execs
}

/// Client 4: the desktop app's backend; its exec is a terminal session.
fn app_client(w: &World, app: &Desktop, image: &str, marker: &str, n: usize, ids: &Mutex<Vec<String>>) {
    for i in 0..n {
        let name = format!("app-{i}");
        let c = app.ok(
            "create_container",
            json!({ "request": {
                "image": image, "name": name, "command": command(), "entrypoint": null, "ports": [],
                "env": [format!("BERTH_SOAK={marker}")], "envFile": null, "restart": "no",
                "remove": false, "start": true,
            }}),
        );
        assert_eq!(c["status"], "running", "{c}");
        let id = c["id"].as_str().unwrap().to_string();
        ids.lock().unwrap().push(id.clone());
        let session =
            app.ok("open_terminal", json!({"id": name, "cols": 80, "rows": 24, "onOutput": format!("t-{marker}-{i}")}));
        let done = w.root().join("containers").join(&id).join("upper/exec-done");
        app.ok("terminal_input", json!({"session": session, "data": "echo $BERTH_SOAK > /exec-done; exit\n"}));
        wait_for("the terminal's command", Duration::from_secs(10), || {
            std::fs::read_to_string(&done).is_ok_and(|t| t == format!("{marker}\n"))
        });
        app.ok("close_terminal", json!({"session": session}));
        wait_for("the log", Duration::from_secs(10), || {
            let logs = app.ok("container_logs", json!({"id": name}));
            logs.as_array().is_some_and(|l| l.len() == 1 && l[0]["line"] == "ready")
        });
        let stopped = app.ok("stop_container", json!({"id": name, "timeout": 0}));
        assert_eq!(stopped["status"], "exited", "{stopped}");
        app.ok("remove_container", json!({"id": name, "force": false}));
    }
}

fn cgroup_dirs(id: &str) -> usize {
    let mut found = 0;
    for base in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        if let Ok(rd) = std::fs::read_dir(base) {
            found += rd.flatten().filter(|e| e.path().join("berth").join(id).exists()).count();
        }
        found += Path::new(base).join("berth").join(id).exists() as usize;
    }
    found
}

/// Processes whose environment has the marker (containers' and exec'd), and monitors of this
/// world's root.
fn processes(marker: &str, root: &Path) -> Vec<String> {
    let env = format!("BERTH_SOAK={marker}");
    let root = root.display().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let read = |f: &str| std::fs::read(format!("/proc/{pid}/{f}")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&read("cmdline")).replace('\0', " ");
        let environ = read("environ");
        let marked = environ.split(|b| *b == 0).any(|v| v == env.as_bytes());
        if marked || (cmdline.contains("__berth-monitor") && cmdline.contains(&root)) {
            out.push(format!("{pid} {cmdline}"));
        }
    }
    out
}

/// What containers leave on the host: mounts under the storage root, veths on the world's
/// bridge or named after them, cgroups, nft rules, processes.
#[derive(Debug)]
struct Left {
    mounts: usize,
    veths: usize,
    cgroups: usize,
    rules: usize,
    procs: Vec<String>,
}

impl Left {
    fn count(w: &World, ids: &[String], marker: &str) -> Left {
        let root = w.root().display().to_string();
        let mounts =
            std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().filter(|l| l.contains(&root)).count();
        let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
        let links = String::from_utf8_lossy(&links.stdout).into_owned();
        let bridge = format!("master {} ", w.bridge());
        let veths = links
            .lines()
            .filter(|l| l.contains(&bridge) || ids.iter().any(|id| l.contains(&format!("veth{}", &id[..8]))))
            .count();
        let cgroups: usize = ids.iter().map(|id| cgroup_dirs(id)).sum();
        let nft = Command::new("nft").args(["list", "table", "ip", "berth"]).output().unwrap();
        let nft = String::from_utf8_lossy(&nft.stdout).into_owned();
        let rules = nft.lines().filter(|l| ids.iter().any(|id| l.contains(&format!("berth:{id}")))).count();
        Left { mounts, veths, cgroups, rules, procs: processes(marker, &w.root()) }
    }
}

#[test]
fn four_clients_at_once_leave_nothing_behind() {
    let n = count();
    let w = World::new();
    w.push_busybox("busybox:1");
    let image = w.image_ref("busybox:1");
    w.ok(&["pull", "-q", &image]);
    let marker = format!("soak{}", std::process::id());
    // The counters see what a running container has: its monitor and process, veth, cgroup
    // and published port's rule.
    let env = format!("BERTH_SOAK={marker}");
    let probe = w.ok(&["run", "-d", "--name", "probe", "-p", "8080", "-e", &env, &image, "sleep", "3600"]);
    let seen = Left::count(&w, &[probe.trim().to_string()], &marker);
    assert!(seen.procs.len() >= 2 && seen.veths == 1 && seen.cgroups >= 1 && seen.rules >= 1, "{seen:?}");
    w.ok(&["rm", "-f", "probe"]);
    let (svc, socket) = service(&w);
    let app = Desktop::start(&w);

    // Warm both long-lived processes up (a container each way), then take their baselines.
    let warm = Mutex::new(Vec::new());
    api_client(&socket, &image, &marker, 1, &warm);
    app_client(&w, &app, &image, &format!("{marker}-warm"), 1, &warm);
    std::thread::sleep(Duration::from_secs(11));
    let svc_threads = threads_of(svc.0.id());
    let app_threads = threads_of(app.pid());

    let ids = Arc::new(Mutex::new(Vec::new()));
    let began = Instant::now();
    let execs = std::thread::scope(|s| {
        for who in ["cli1", "cli2"] {
            let (w, image, marker, ids) = (&w, &image, &marker, &ids);
            s.spawn(move || cli_client(w, who, image, marker, n, ids));
        }
        let (w, image, marker, ids, app) = (&w, &image, &marker, &ids, &app);
        s.spawn(move || app_client(w, app, image, marker, n, ids));
        let socket = &socket;
        let api = s.spawn(move || api_client(socket, image, marker, n, ids));
        api.join().unwrap()
    });
    let took = began.elapsed();

    let ids: Vec<String> = ids.lock().unwrap().iter().chain(warm.lock().unwrap().iter()).cloned().collect();
    assert_eq!(ids.len(), 4 * n + 2);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "every container had an id of its own");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "every container was removed");

    let left = Left::count(&w, &ids, &marker);
    let svc_left = settled_threads(svc.0.id(), svc_threads);
    let app_left = settled_threads(app.pid(), app_threads);
    let open_execs = crate::block_on(async {
        let d = bollard::Docker::connect_with_unix(socket.to_str().unwrap(), 60, bollard::API_DEFAULT_VERSION).unwrap();
        let mut open = 0;
        for e in &execs {
            if d.inspect_exec(e).await.is_ok() {
                open += 1;
            }
        }
        open
    });
    let (code, check) = crate::check::check(&w, &["--max", "0"]);
    eprintln!(
        "soak: {} containers ({n} per client, 4 clients) in {took:?} ({:?} a container); left: {mounts} mounts, \
         {veths} veths, {cgroups} cgroups, {rules} nft rules, {} processes; service threads {svc_threads} -> \
         {svc_left}, app threads {app_threads} -> {app_left}; exec sessions the service still keeps: \
         {open_execs} of {}",
        4 * n,
        took / (4 * n as u32).max(1),
        left.procs.len(),
        execs.len(),
        mounts = left.mounts,
        veths = left.veths,
        cgroups = left.cgroups,
        rules = left.rules,
    );
    assert_eq!(
        (left.mounts, left.veths, left.cgroups, left.rules),
        (0, 0, 0, 0),
        "mounts, veths, cgroups, nft rules left"
    );
    assert!(left.procs.is_empty(), "processes left: {:#?}", left.procs);
    assert!(svc_left <= svc_threads, "the service had {svc_threads} threads, now {svc_left}");
    assert!(app_left <= app_threads, "the app had {app_threads} threads, now {app_left}");
    assert_eq!(open_execs, 0, "exec sessions kept after their containers were removed");
    assert_eq!((code, check.as_str()), (0, "the store is consistent\n"));
}
