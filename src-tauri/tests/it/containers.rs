//! The real `berth-desktop --serve` binary running real containers (so the containers'
//! monitors are re-executions of berth-desktop, as in the app). Needs root.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::Events;
use crate::World;

/// `berth-desktop --serve` on a free loopback port, over the world's engine root.
struct Served {
    child: Child,
    addr: std::net::SocketAddr,
    token: String,
}

impl Served {
    fn start(w: &World) -> Served {
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

    async fn call(&self, command: &str, args: Value) -> Result<Value, (u16, Value)> {
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

    async fn ok(&self, command: &str, args: Value) -> Value {
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
