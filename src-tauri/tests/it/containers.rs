//! The real `berth-desktop --serve` binary running real containers (so the containers'
//! monitors are re-executions of berth-desktop, as in the app). Needs root.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::Events;
use crate::World;

/// `berth-desktop --serve` on a free loopback port, over the world's engine root.
pub(crate) struct Served {
    child: Child,
    addr: std::net::SocketAddr,
    token: String,
}

impl Served {
    pub(crate) fn start(w: &World) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_berth-desktop"))
            .arg("--serve")
            .env("BERTH_ROOT", w.dir.path().join("root"))
            .env("BERTH_RUNROOT", w.dir.path().join("run"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("Berth is serving on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let (addr, token) = url.split_once("/?token=").unwrap();
        assert_eq!(token.len(), 32);
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        assert!(addr.ip().is_loopback(), "loopback unless asked otherwise: {addr}");
        Served { child, addr, token: token.to_string() }
    }

    pub(crate) async fn call(&self, command: &str, args: Value) -> Result<Value, (u16, Value)> {
        let resp = reqwest::Client::new()
            .post(format!("http://{}/api/invoke/{command}", self.addr))
            .header("Authorization", format!("Bearer {}", self.token))
            .body(args.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        if status == 200 {
            Ok(body)
        } else {
            Err((status, body))
        }
    }

    pub(crate) async fn ok(&self, command: &str, args: Value) -> Value {
        self.call(command, args.clone()).await.unwrap_or_else(|e| panic!("{command} {args}: {e:?}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn request(w: &World, name: &str, command: &[&str]) -> Value {
    json!({ "request": {
        "image": w.busybox(), "name": name, "command": command, "entrypoint": null, "ports": [],
        "env": ["GREETING=hi"], "envFile": "# from a file\nFROM_FILE=1\n", "restart": "no",
        "remove": false, "start": true,
    }})
}

fn need_root() {
    assert!(nix::unistd::geteuid().is_root(), "these tests run real containers and need root: run them as root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_from_create_to_remove() {
    need_root();
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let mut events = Events::open(s.addr, &s.token).await;

    let c =
        s.ok("create_container", request(&w, "web", &["sh", "-c", "echo hello; echo oops >&2; exec sleep 100"])).await;
    assert_eq!((c["name"].as_str(), c["status"].as_str()), (Some("web"), Some("running")), "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    // create from this process, start from the container's monitor (through the events file)
    let mut actions = Vec::new();
    while actions.len() < 2 {
        let e = events.next_engine(Duration::from_secs(5)).await;
        assert_eq!((e["kind"].as_str(), e["id"].as_str()), (Some("container"), Some(id.as_str())));
        actions.push(e["action"].as_str().unwrap().to_string());
    }
    assert_eq!(actions, ["create", "start"]);

    let info = s.ok("engine_info", json!({})).await;
    assert_eq!((info["containersRunning"].as_u64(), info["containersTotal"].as_u64()), (Some(1), Some(1)));

    let first = s.ok("container_stats", json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = s.ok("container_stats", json!({})).await;
    for st in [&first, &stats] {
        let st = st.as_array().unwrap();
        assert_eq!(st.len(), 1, "{st:?}");
        assert_eq!(st[0]["id"], id.as_str());
        assert!(st[0]["pids"].as_u64().unwrap() >= 1, "{st:?}");
        assert!(st[0]["memUsage"].as_u64().unwrap() > 0, "{st:?}");
        assert!(st[0]["cpuPercent"].as_f64().unwrap() >= 0.0, "{st:?}");
    }

    let deadline = Instant::now() + Duration::from_secs(5);
    let logs = loop {
        let logs = s.ok("container_logs", json!({"id": "web"})).await;
        if logs.as_array().unwrap().len() >= 2 || Instant::now() > deadline {
            break logs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let lines: Vec<(&str, &str)> =
        logs.as_array().unwrap().iter().map(|l| (l["stream"].as_str().unwrap(), l["line"].as_str().unwrap())).collect();
    assert!(lines.contains(&("stdout", "hello")) && lines.contains(&("stderr", "oops")), "{lines:?}");
    let tail = s.ok("container_logs", json!({"id": "web", "tail": 1})).await;
    assert_eq!(tail.as_array().unwrap().len(), 1);

    let inspect = s.ok("inspect_container", json!({"id": "web"})).await;
    assert_eq!(inspect["Id"], id.as_str());
    assert_eq!(inspect["State"]["Running"], true);
    let env = inspect["Config"]["Env"].as_array().unwrap();
    assert!(env.contains(&json!("GREETING=hi")) && env.contains(&json!("FROM_FILE=1")), "{env:?}");

    // A running container cannot go without force.
    let (status, e) = s.call("remove_container", json!({"id": "web", "force": false})).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")));

    let restarted = s.ok("restart_container", json!({"id": "web"})).await;
    assert_eq!(restarted["status"], "running");
    // sleep as pid 1 ignores SIGTERM: killed after the timeout
    let stopped = s.ok("stop_container", json!({"id": "web", "timeout": 1})).await;
    assert_eq!((stopped["status"].as_str(), stopped["exitCode"].as_i64()), (Some("exited"), Some(137)));
    assert_eq!(s.ok("container_stats", json!({})).await, json!([]));

    assert_eq!(s.ok("remove_container", json!({"id": "web", "force": false})).await, Value::Null);
    assert_eq!(s.ok("list_containers", json!({})).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_that_cannot_start_is_not_left_behind() {
    need_root();
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let (status, e) = s.call("create_container", request(&w, "broken", &["/no/such/program"])).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (500, Some("engine")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("/no/such/program"), "{e}");
    assert_eq!(s.ok("list_containers", json!({})).await, json!([]));
    assert!(!w.dir.path().join("root/containers").read_dir().is_ok_and(|mut d| d.next().is_some()), "nothing on disk");

    // Created without starting, it stays.
    let mut req = request(&w, "later", &["true"]);
    req["request"]["start"] = json!(false);
    let c = s.ok("create_container", req).await;
    assert_eq!(c["status"], "created");
    let (status, e) = s.call("create_container", request(&w, "later", &["true"])).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_ports_show_and_answer() {
    need_root();
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let mut req = request(&w, "site", &["httpd", "-f", "-p", "8080", "-h", "/etc"]);
    req["request"]["ports"] = json!([{"hostIp": "127.0.0.1", "hostPort": 0, "containerPort": 8080, "protocol": "tcp"}]);
    let c = s.ok("create_container", req).await;
    let ports = c["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1, "{c}");
    assert_eq!((ports[0]["hostIp"].as_str(), ports[0]["containerPort"].as_u64()), (Some("127.0.0.1"), Some(8080)));
    let host_port = ports[0]["hostPort"].as_u64().unwrap();
    assert_ne!(host_port, 0, "the engine chose a real port");
    assert_eq!(s.ok("list_containers", json!({})).await[0]["ports"], c["ports"]);

    let url = format!("http://127.0.0.1:{host_port}/hostname");
    let deadline = Instant::now() + Duration::from_secs(5);
    let body = loop {
        match reqwest::get(&url).await {
            Ok(r) if r.status() == 200 => break r.text().await.unwrap(),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("{url}: {other:?}"),
        }
    };
    assert_eq!(body.trim(), &c["id"].as_str().unwrap()[..12], "the container's hostname");

    // The port is taken now: asking for it again is a conflict, and nothing is left behind.
    let mut again = request(&w, "copy", &["httpd", "-f", "-p", "8080"]);
    again["request"]["ports"] =
        json!([{"hostIp": "127.0.0.1", "hostPort": host_port, "containerPort": 8080, "protocol": "tcp"}]);
    let (status, e) = s.call("create_container", again).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")), "{e}");
    assert!(e["message"].as_str().unwrap().contains(&format!("{host_port}")), "{e}");
    assert_eq!(s.ok("list_containers", json!({})).await.as_array().unwrap().len(), 1);
    s.ok("remove_container", json!({"id": "site", "force": true})).await;
}

/// A terminal session's output, read from the stream: text so far, and the exit code once the
/// shell is gone.
struct TerminalOutput<'a> {
    events: &'a mut Events,
    channel: String,
    text: String,
    exited: Option<i64>,
}

impl TerminalOutput<'_> {
    /// Reads until the output contains `needle` (after what was read before).
    async fn until(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let start = self.text.len();
        while !self.text[start..].contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, self.next()).await.is_err() || self.exited.is_some() {
                panic!("no {needle:?} in {:?} (exited: {:?})", &self.text[start..], self.exited);
            }
        }
    }

    async fn until_exit(&mut self) -> i64 {
        while self.exited.is_none() {
            self.next().await;
        }
        self.exited.unwrap()
    }

    async fn next(&mut self) {
        use base64::Engine as _;
        let (name, data) = self.events.next(Duration::from_secs(20)).await;
        if name != "channel" || data["channel"] != self.channel.as_str() {
            return;
        }
        let m = &data["message"];
        if let Some(b64) = m["data"].as_str() {
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
            self.text.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            self.exited = Some(m["exited"].as_i64().unwrap_or_else(|| panic!("{m}")));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_in_a_running_container() {
    need_root();
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let mut events = Events::open(s.addr, &s.token).await;
    s.ok("create_container", request(&w, "shell", &["sleep", "1000"])).await;

    let session = s.ok("open_terminal", json!({"id": "shell", "cols": 80, "rows": 24, "onOutput": "term-1"})).await;
    let session = session.as_str().unwrap().to_string();
    let mut out = TerminalOutput { events: &mut events, channel: "term-1".into(), text: String::new(), exited: None };
    s.ok("terminal_input", json!({"session": session, "data": "echo hi\n"})).await;
    out.until("\nhi\r\n").await;
    // The container's environment, and a terminal of its own.
    s.ok("terminal_input", json!({"session": session, "data": "echo $GREETING-$TERM; tty\n"})).await;
    out.until("hi-xterm-256color\r\n/dev/pts/0\r\n").await;
    s.ok("terminal_input", json!({"session": session, "data": "stty size\n"})).await;
    out.until("24 80\r\n").await;
    s.ok("terminal_resize", json!({"session": session, "cols": 100, "rows": 30})).await;
    s.ok("terminal_input", json!({"session": session, "data": "stty size\n"})).await;
    out.until("30 100\r\n").await;
    s.ok("terminal_input", json!({"session": session, "data": "exit 3\n"})).await;
    assert_eq!(out.until_exit().await, 3);
    let (status, e) = s.call("terminal_input", json!({"session": session, "data": "x"})).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");

    // Closing a session hangs its terminal up: the shell goes, and says so.
    let session = s.ok("open_terminal", json!({"id": "shell", "cols": 80, "rows": 24, "onOutput": "term-2"})).await;
    let mut out = TerminalOutput { events: &mut events, channel: "term-2".into(), text: String::new(), exited: None };
    s.ok("terminal_input", json!({"session": session, "data": "echo ready\n"})).await;
    out.until("\nready\r\n").await;
    assert_eq!(s.ok("close_terminal", json!({"session": session})).await, Value::Null);
    assert_eq!(out.until_exit().await, 128 + 1, "SIGHUP");
    assert_eq!(s.ok("close_terminal", json!({"session": session})).await, Value::Null, "closing twice is fine");
    // Only `sleep` is left in the container.
    let pid = s.ok("inspect_container", json!({"id": "shell"})).await["State"]["Pid"].as_i64().unwrap();
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let inside = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(|n| n.parse::<u32>().is_ok()))
            .filter(|e| std::fs::read_link(e.path().join("ns/pid")).is_ok_and(|l| l == ns))
            .count();
        if inside == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{inside} processes in the container");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, e) =
        s.call("open_terminal", json!({"id": "shell", "cols": 0, "rows": 24, "onOutput": "x-1"})).await.unwrap_err();
    assert_eq!((status, e["message"].as_str()), (400, Some("terminal size 0x24: columns and rows must be at least 1")));
    s.ok("stop_container", json!({"id": "shell", "timeout": 0})).await;
    let (status, e) =
        s.call("open_terminal", json!({"id": "shell", "cols": 80, "rows": 24, "onOutput": "x-2"})).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")), "{e}");
    s.ok("remove_container", json!({"id": "shell", "force": true})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_that_died_says_how() {
    need_root();
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let mut events = Events::open(s.addr, &s.token).await;
    let c = s.ok("create_container", request(&w, "failing", &["sh", "-c", "echo bye; exit 3"])).await;
    loop {
        let e = events.next_engine(Duration::from_secs(10)).await;
        if e["action"] == "died" {
            assert_eq!((e["id"].as_str(), e["exitCode"].as_i64()), (c["id"].as_str(), Some(3)), "{e}");
            break;
        }
        assert!(e.get("exitCode").is_none(), "only died carries an exit code: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthcheck_from_the_form_shows_in_the_row_and_the_health_tab() {
    need_root();
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let mut events = Events::open(s.addr, &s.token).await;

    // The check fails until the file exists: starting, then healthy once the container made it.
    let mut req = request(&w, "checked", &["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 100"]);
    req["request"]["healthcheck"] = json!({"command": "cat /tmp/ready && echo ready-$((40+2))", "interval": "500ms",
        "timeout": "5s", "startPeriod": null, "retries": 30});
    req["request"]["healthOnFailure"] = json!("stop");
    let c = s.ok("create_container", req).await;
    assert_eq!((c["status"].as_str(), c["health"].as_str()), (Some("running"), Some("starting")), "{c}");
    let id = c["id"].as_str().unwrap().to_string();

    // The periodic checks run in the container's own helper: their events reach the stream
    // through the events file, as the app's watcher forwards them.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let e = events.next_engine(deadline.saturating_duration_since(Instant::now())).await;
        if e["action"] == "health_status" && e["id"] == id.as_str() {
            let row = s.ok("list_containers", json!({})).await;
            if row[0]["health"] == "healthy" {
                break;
            }
        }
    }

    let h = s.ok("container_health", json!({"id": "checked"})).await;
    assert_eq!((h["status"].as_str(), h["failingStreak"].as_u64()), (Some("healthy"), Some(0)), "{h}");
    assert_eq!(
        h["check"],
        json!({"command": {"form": "shell", "line": "cat /tmp/ready && echo ready-$((40+2))"},
            "intervalMs": 500, "timeoutMs": 5000, "startPeriodMs": 0, "retries": 30})
    );
    assert_eq!(h["onFailure"], "stop");
    let newest = &h["log"][0];
    assert_eq!((newest["exitCode"].as_i64(), newest["output"].as_str()), (Some(0), Some("ready-42")), "{h}");
    let failed = h["log"].as_array().unwrap().iter().find(|r| r["exitCode"] != 0);
    if let Some(f) = failed {
        assert!(f["output"].as_str().unwrap().contains("/tmp/ready"), "the failure's output: {f}");
    }
    assert!(newest["startedAt"].as_i64().unwrap() > 1_700_000_000_000, "unix milliseconds: {newest}");

    let before = newest["startedAt"].as_i64().unwrap();
    let now = s.ok("run_healthcheck", json!({"id": "checked"})).await;
    assert_eq!(now["status"], "healthy");
    assert!(now["log"][0]["startedAt"].as_i64().unwrap() >= before, "a new result first: {now}");

    // No check: no health in the row, null for the tab, and "run now" says why it cannot.
    let plain = s.ok("create_container", request(&w, "plain", &["sleep", "100"])).await;
    assert_eq!(plain["health"], Value::Null);
    assert_eq!(s.ok("container_health", json!({"id": "plain"})).await, Value::Null);
    let (status, e) = s.call("run_healthcheck", json!({"id": "plain"})).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("no defined healthcheck"), "{e}");

    // Stopped: the row has no health, the tab keeps the last results.
    let stopped = s.ok("stop_container", json!({"id": "checked", "timeout": 1})).await;
    assert_eq!((stopped["status"].as_str(), &stopped["health"]), (Some("exited"), &Value::Null));
    let kept = s.ok("container_health", json!({"id": "checked"})).await;
    assert!(!kept["log"].as_array().unwrap().is_empty(), "{kept}");
    let (status, e) = s.call("run_healthcheck", json!({"id": "checked"})).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")), "{e}");

    // A bad duration is the form's error, before anything exists.
    let mut bad = request(&w, "bad", &["true"]);
    bad["request"]["healthcheck"] = json!({"command": "true", "interval": "5x", "timeout": null,
        "startPeriod": null, "retries": null});
    let (status, e) = s.call("create_container", bad).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    assert!(e["message"].as_str().unwrap().starts_with("health interval 5x: not a duration"), "{e}");
    s.ok("remove_container", json!({"id": "checked", "force": true})).await;
    s.ok("remove_container", json!({"id": "plain", "force": true})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_keeps_up_with_a_container_printing_as_fast_as_it_can() {
    need_root();
    const LINES: u64 = 200_000;
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let mut events = Events::open(s.addr, &s.token).await;
    let mut req = request(&w, "fast", &["seq", "1", &LINES.to_string()]);
    req["request"]["start"] = json!(false);
    s.ok("create_container", req).await;
    // Followed before it has a log: the lines come once it writes one.
    let sub = s.ok("follow_logs", json!({"id": "fast", "from": null, "onLines": "fast-1"})).await;
    let started = Instant::now();
    s.ok("start_container", json!({"id": "fast"})).await;
    let mut next = 1u64;
    let mut batches = 0;
    while next <= LINES {
        let (name, data) = events.next(Duration::from_secs(30)).await;
        if name != "channel" {
            continue;
        }
        assert_eq!(data["channel"], "fast-1");
        let entries = data["message"]["entries"].as_array().unwrap();
        assert!(entries.len() <= 2000);
        batches += 1;
        for e in entries {
            assert_eq!(e["line"].as_str().unwrap(), next.to_string(), "in order, none lost");
            next += 1;
        }
    }
    let elapsed = started.elapsed();
    let rate = LINES as f64 / elapsed.as_secs_f64();
    eprintln!("follow_logs: {LINES} lines in {elapsed:?} ({rate:.0} lines/s end to end, {batches} batches)");
    assert!(rate > 10_000.0, "{rate:.0} lines/s");
    s.ok("stop_follow", json!({"subscription": sub})).await;
}

/// Kilobytes of `field` (`VmRSS`, `VmHWM`) in /proc/PID/status.
fn memory_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Pages back through a big log over HTTP and searches it, measuring the backend's memory.
/// 32 MB by default, to keep the suite quick; `BERTH_BIG_LOG_MB=200` for the size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_through_a_big_log_keeps_memory_flat() {
    need_root();
    let megabytes: usize = std::env::var("BERTH_BIG_LOG_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let w = World::new().await;
    w.pull_busybox().await;
    let mut req = request(&w, "big", &["true"]);
    req["request"]["start"] = json!(false);
    let s = Served::start(&w);
    let c = s.ok("create_container", req).await;
    let log = w.dir.path().join("root/containers").join(c["id"].as_str().unwrap()).join("ctr.log");
    let mut lines = 0u64;
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&log).unwrap());
        let mut size = 0;
        while size < megabytes << 20 {
            let record = format!(
                "2026-11-27T22:00:{:02}.{:09}Z stdout F line {lines} lorem ipsum dolor sit amet, consectetur adipiscing elit\n",
                lines / 1_000_000_000 % 60,
                lines % 1_000_000_000
            );
            f.write_all(record.as_bytes()).unwrap();
            size += record.len();
            lines += 1;
        }
    }
    let pid = s.child.id();
    let rss_before = memory_kb(pid, "VmRSS");
    // The peak from here on.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();

    let started = Instant::now();
    let tail = s.ok("log_window", json!({"id": "big", "before": null, "limit": 1000, "timestamps": true})).await;
    let open = started.elapsed();
    let mut before = tail["entries"][0]["cursor"].clone();
    let mut next = lines - 1000; // the number of the first line of the page
    let mut pages = 1;
    loop {
        let page = s.ok("log_window", json!({"id": "big", "before": before, "limit": 5000, "timestamps": true})).await;
        let entries = page["entries"].as_array().unwrap();
        let first: u64 = entries[0]["line"].as_str().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(first + entries.len() as u64, next, "pages fit together");
        next = first;
        before = entries[0]["cursor"].clone();
        pages += 1;
        if page["atStart"] == true {
            break;
        }
    }
    assert_eq!(next, 0, "paged back to the first line");
    let paging = started.elapsed();
    let searched = Instant::now();
    let found = s
        .ok(
            "search_logs",
            json!({"id": "big", "query": format!("line {} lorem", lines / 3), "regex": false, "caseSensitive": true, "limit": 10}),
        )
        .await;
    let search = searched.elapsed();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let peak = memory_kb(pid, "VmHWM");
    eprintln!(
        "log of {} MB, {lines} lines: tail in {open:?}; paged back to the start in {paging:?} ({pages} pages); \
         searched in {search:?}; backend RSS {} MB before, peak {} MB while paging and searching",
        std::fs::metadata(&log).unwrap().len() >> 20,
        rss_before >> 10,
        peak >> 10
    );
    assert!(peak < rss_before + 64 * 1024, "the log is not loaded: {rss_before} kB before, {peak} kB peak");
}

/// The build messages on `channel`, read from the stream until one of type `until`. The RUN
/// steps' containers are not the user's: no event of theirs comes.
async fn build_messages(events: &mut Events, channel: &str, until: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let (name, data) = events.next(Duration::from_secs(60)).await;
        assert!(!(name == "engine" && data["kind"] == "container"), "a RUN container's event: {data}");
        if name != "channel" || data["channel"] != channel {
            continue;
        }
        let m = data["message"].clone();
        let last = m["type"] == until;
        out.push(m);
        if last {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_built_from_a_containerfile_and_a_build_cancelled() {
    need_root();
    let w = World::new().await;
    // (The served binary reads the host's registries.conf, which does not know the test's.)
    w.pull_busybox().await;
    let s = Served::start(&w);
    let mut events = Events::open(s.addr, &s.token).await;
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("greeting.txt"), "hello from the context\n").unwrap();
    let file = src.path().join("Containerfile");
    std::fs::write(
        &file,
        format!(
            "FROM {}\nARG WHO=nobody\nCOPY greeting.txt /greeting.txt\nRUN cat /greeting.txt && echo \"built-by-$WHO\"\n",
            w.busybox()
        ),
    )
    .unwrap();

    // The base is here (pulled only when missing), the RUN prints, the image is named.
    let request = json!({"request": {"containerfile": file.to_str().unwrap(), "context": null, "name": "built:1",
        "buildArgs": [{"key": "WHO", "value": "the-app"}], "target": null, "noCache": false, "pull": "missing"},
        "onProgress": "build-1"});
    let image = s.ok("build_image", request.clone()).await;
    assert_eq!((image["repository"].as_str(), image["tag"].as_str()), (Some("localhost/built"), Some("1")), "{image}");
    let messages = build_messages(&mut events, "build-1", "tagged").await;
    assert_eq!(messages[0]["type"], "started", "{messages:?}");
    let lines: Vec<&str> = messages[1..].iter().map(|m| m["line"].as_str().unwrap()).collect();
    assert_eq!(lines[0], format!("STEP 1/4: FROM {}", w.busybox()), "{lines:?}");
    for expected in [
        "STEP 4/4: RUN cat /greeting.txt && echo \"built-by-$WHO\"",
        "hello from the context",
        "built-by-the-app",
        "COMMIT built:1",
        "Successfully tagged localhost/built:1",
    ] {
        assert!(lines.contains(&expected), "{expected:?} in {lines:?}");
    }
    // Listed as `berth images` lists: the base and the result, not the COPY step's image.
    let listed = s.ok("list_images", json!({})).await;
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert!(ids.contains(&image["id"].as_str().unwrap()), "{listed}");
    assert_eq!(s.ok("engine_info", json!({})).await["images"], 2);
    assert!(w.engine.images().unwrap().len() > 2, "the intermediate image is there");

    // Built again: every step from the cache.
    let mut again = request.clone();
    again["onProgress"] = json!("build-2");
    assert_eq!(s.ok("build_image", again).await["id"], image["id"]);
    let cached = build_messages(&mut events, "build-2", "tagged").await;
    assert!(cached.iter().any(|m| m["type"] == "cache_hit"), "{cached:?}");
    assert!(!cached.iter().any(|m| m["line"] == "built-by-the-app"), "nothing ran: {cached:?}");

    // A RUN that would sleep for a minute, cancelled by the id of its `started` message.
    std::fs::write(&file, format!("FROM {}\nRUN echo sleeping && sleep 60\n", w.busybox())).unwrap();
    let slow = json!({"request": {"containerfile": file.to_str().unwrap(), "context": src.path().to_str().unwrap(),
        "name": "slow", "buildArgs": [], "target": null, "noCache": true, "pull": "never"}, "onProgress": "build-3"});
    let started = Instant::now();
    let building = {
        let (addr, token) = (s.addr, s.token.clone());
        tokio::spawn(async move {
            let resp = reqwest::Client::new()
                .post(format!("http://{addr}/api/invoke/build_image"))
                .header("Authorization", format!("Bearer {token}"))
                .body(slow.to_string())
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        })
    };
    let running = build_messages(&mut events, "build-3", "output").await;
    assert_eq!(running.last().unwrap()["line"], "sleeping", "{running:?}");
    let id = running[0]["build"].as_str().unwrap();
    // The RUN's container runs, and is not listed.
    assert_eq!(w.engine.containers().unwrap().len(), 1);
    assert_eq!(s.ok("list_containers", json!({})).await, json!([]));
    assert_eq!(s.ok("engine_info", json!({})).await["containersTotal"], 0);
    assert_eq!(s.ok("cancel_build", json!({"build": id})).await, Value::Null);
    let (status, e) = building.await.unwrap();
    assert_eq!(
        (status, e["code"].as_str(), e["message"].as_str()),
        (500, Some("cancelled"), Some("the build was cancelled"))
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the RUN was stopped, not waited for: {:?}",
        started.elapsed()
    );
    let names: Vec<Value> =
        s.ok("list_images", json!({})).await.as_array().unwrap().iter().map(|i| i["repository"].clone()).collect();
    assert!(!names.contains(&json!("localhost/slow")), "{names:?}");
    assert_eq!(s.ok("list_containers", json!({})).await, json!([]), "no RUN container left");
    // A build that ended is not an error to cancel.
    assert_eq!(s.ok("cancel_build", json!({"build": id})).await, Value::Null);
}
