//! The API service attacked: bad create bodies, huge and slow requests, clients that go away,
//! exec sessions reused, times out of range, and every route fuzzed with malformed input. Each
//! answer is what Docker gives (4xx with a message, never a 5xx), and the service answers
//! `/_ping` after each attack.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::docker_api::{service, Service};
use crate::World;

struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or_else(|| panic!("no message in {}", self.body)).to_string()
    }
}

/// A chunked body's data.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let len = usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap_or("0").trim(), 16).unwrap_or(0);
        if len == 0 || b.len() < nl + 2 + len {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + len]);
        b = &b[(nl + 4 + len).min(b.len())..];
    }
    out
}

/// One request on a connection of its own; the whole answer.
fn call(sock: &Path, method: &str, path: &str, body: &[u8]) -> Answer {
    let mut s = UnixStream::connect(sock).expect("connecting to the service");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // A refused body may be cut off by the service: what it answered is what counts.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse(&raw).unwrap_or_else(|| panic!("{method} {path}: no HTTP answer: {:?}", String::from_utf8_lossy(&raw)))
}

fn parse(raw: &[u8]) -> Option<Answer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let rest = &raw[end + 4..];
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_vec() };
    Some(Answer { status, body: String::from_utf8_lossy(&body).into_owned() })
}

fn ping(s: &Service) {
    let a = call(&s.socket, "GET", "/_ping", b"");
    assert_eq!((a.status, a.body.as_str()), (200, "OK"), "the service stopped answering /_ping");
}

fn post(s: &Service, path: &str, body: &Value) -> Answer {
    call(&s.socket, "POST", path, body.to_string().as_bytes())
}

/// A world with busybox pulled, and its service.
fn world() -> (World, Service, String) {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let s = service(&w);
    (w, s, img)
}

fn bad(s: &Service, body: Value, says: &str) {
    let a = post(s, "/v1.41/containers/create", &body);
    assert_eq!(a.status, 400, "{body}: {}", a.body);
    let m = a.message();
    assert!(m.contains(says), "{body}: {m:?} does not say {says:?}");
}

#[test]
fn create_refuses_what_it_cannot_do_and_maps_what_compose_sends() {
    let (w, s, img) = world();
    let with = |extra: Value| {
        let mut b = json!({"Image": img, "Cmd": ["true"]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    // Mounts: the engine's checks, which the CLI and the app share.
    bad(
        &s,
        with(json!({"HostConfig": {"Mounts": [{"Type": "volume", "Source": "v1", "Target": ""}]}})),
        "invalid mount destination \"\"",
    );
    bad(
        &s,
        with(json!({"HostConfig": {"Mounts": [{"Type": "bind", "Source": "/tmp", "Target": "/"}]}})),
        "can't be \"/\"",
    );
    bad(&s, with(json!({"HostConfig": {"Mounts": [{"Type": "volume", "Target": "relative"}]}})), "must be absolute");
    bad(
        &s,
        with(json!({"HostConfig": {"Mounts": [{"Type": "bind", "Source": "tmp", "Target": "/x"}]}})),
        "invalid bind mount source \"tmp\"",
    );
    bad(
        &s,
        with(json!({"HostConfig": {"Mounts": [{"Type": "cluster", "Target": "/x"}]}})),
        "invalid mount type \"cluster\"",
    );
    bad(&s, with(json!({"HostConfig": {"Mounts": [{"Target": "/x"}]}})), "invalid mount type (none)");
    bad(&s, with(json!({"HostConfig": {"Dns": ["1.1.1.1", "dns.example"]}})), "invalid DNS server \"dns.example\"");
    bad(&s, with(json!({"HostConfig": {"DnsSearch": ["bad domain"]}})), "invalid DNS search domain \"bad domain\"");
    // Kernel settings and the stop signal, checked as the command line checks them.
    bad(
        &s,
        with(json!({"HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": 20, "Hard": 10}]}})),
        "ulimit soft limit must be less than or equal to hard limit: 20 > 10",
    );
    bad(&s, with(json!({"HostConfig": {"Sysctls": {"vm.swappiness": "1"}}})), "\"vm.swappiness\" is not allowed");
    bad(&s, with(json!({"HostConfig": {"ShmSize": -1}})), "invalid HostConfig.ShmSize -1");
    bad(&s, with(json!({"StopSignal": "SIGNOPE"})), "StopSignal \"SIGNOPE\": invalid signal");
    // What Berth has no equivalent for, by name.
    bad(&s, with(json!({"HostConfig": {"VolumesFrom": ["other"]}})), "HostConfig.VolumesFrom is not supported");
    bad(&s, with(json!({"Healthcheck": {"Test": ["SHELL", "true"]}})), "Healthcheck.Test");
    bad(&s, with(json!({"Healthcheck": {"Test": ["CMD", "true"], "Interval": 5}})), "Healthcheck.Interval 5");
    bad(&s, with(json!({"NetworkingConfig": {"EndpointsConfig": {"a": {}, "b": {}}}})), "names 2 networks");
    bad(&s, with(json!({"Cmd": {"sh": 1}})), "invalid Cmd: expected an array of strings, got an object");
    // Nothing was made by any of them.
    assert_eq!(w.ok(&["ps", "-aq"]), "");
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "");

    // compose's body: the network in EndpointsConfig (with the service's alias), the volume's
    // path in Volumes and its name in Binds, zero values for the rest.
    w.ok(&["network", "create", "proj_default"]);
    let a = post(
        &s,
        "/v1.41/containers/create?name=proj_web_1",
        &with(json!({
            "Volumes": {"/data": {}, "/cache": {}},
            "HostConfig": {"Binds": ["proj_data:/data:rw"], "Links": [], "LogConfig": {"Type": "", "Config": {}},
                           "ShmSize": 0, "Init": null, "Ulimits": null, "MemorySwappiness": -1},
            "NetworkingConfig": {"EndpointsConfig": {"proj_default": {"Aliases": ["web"]}}},
        })),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["Warnings"], json!([]));
    let i = call(&s.socket, "GET", "/containers/proj_web_1/json", b"").json();
    let aliases = &i["NetworkSettings"]["Networks"]["proj_default"]["Aliases"];
    assert_eq!(aliases, &json!(["proj_web_1", "web"]), "the service's name is an alias: {}", i["NetworkSettings"]);
    let dests: Vec<&str> = i["Mounts"].as_array().unwrap().iter().filter_map(|m| m["Destination"].as_str()).collect();
    assert_eq!(dests, ["/data", "/cache"], "{}", i["Mounts"]);
    ping(&s);
    w.ok(&["rm", "-f", "proj_web_1"]);
    w.ok(&["network", "rm", "proj_default"]);
}

#[test]
fn bodies_past_the_limit_are_413_and_slow_clients_hold_nobody_up() {
    let (_w, s, _img) = world();
    // Declared too large: refused before reading.
    let mut c = UnixStream::connect(&s.socket).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(c, "POST /containers/create HTTP/1.1\r\nHost: b\r\nContent-Length: {}\r\n\r\n", 17 << 20).unwrap();
    let mut raw = Vec::new();
    let _ = c.read_to_end(&mut raw);
    let a = parse(&raw).expect("an answer");
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.message().contains("request body too large: at most 16 MiB"), "{}", a.body);
    // Sent too large, chunked (no length to refuse it by).
    let mut c = UnixStream::connect(&s.socket).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(c, "POST /containers/create HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..17 {
        if write!(c, "{:x}\r\n", chunk.len())
            .and_then(|_| c.write_all(&chunk))
            .and_then(|_| c.write_all(b"\r\n"))
            .is_err()
        {
            break;
        }
    }
    let mut raw = Vec::new();
    let _ = c.read_to_end(&mut raw);
    assert_eq!(parse(&raw).expect("an answer").status, 413);
    ping(&s);

    // A client that sends its headers a byte at a time and then stalls.
    let mut slow = UnixStream::connect(&s.socket).unwrap();
    for b in b"GET /_ping HTTP/1.1\r\nHost: sl" {
        slow.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut stalled: Vec<UnixStream> = (0..20).map(|_| UnixStream::connect(&s.socket).unwrap()).collect();
    for c in &mut stalled {
        c.write_all(b"POST /containers/create HTTP/1.1\r\nHost: b\r\nContent-Length: 100\r\n\r\n{\"Ima").unwrap();
    }
    let start = Instant::now();
    for _ in 0..10 {
        ping(&s);
    }
    assert!(start.elapsed() < Duration::from_secs(2), "pings took {:?} beside stalled clients", start.elapsed());
}

#[test]
fn a_wait_whose_client_left_ends() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["create", "--name", "waited", &img, "true"]);
    // A service that exits after a second without requests, once nothing is left to do.
    let socket = w.dir.path().join("idle.sock");
    let mut child = w
        .cmd()
        .args(["system", "service", "--timeout", "1", "--socket"])
        .arg(&socket)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the service did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    {
        let mut c = UnixStream::connect(&socket).unwrap();
        c.write_all(b"POST /containers/waited/wait?condition=removed HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let mut head = [0u8; 12];
        c.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        // The client goes away without its answer.
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the service still waits for a client that left");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    w.ok(&["rm", "waited"]);
}

#[test]
fn exec_sessions_start_once_and_go_with_their_container() {
    let (w, s, img) = world();
    w.ok(&["run", "-d", "--name", "host", &img, "sleep", "300"]);
    let exec = |body: Value| {
        let a = post(&s, "/containers/host/exec", &body);
        assert_eq!(a.status, 201, "{}", a.body);
        a.json()["Id"].as_str().unwrap().to_string()
    };
    let id = exec(json!({"Cmd": ["true"]}));
    let a = post(&s, &format!("/exec/{id}/start"), &json!({"Detach": true}));
    assert_eq!(a.status, 200, "{}", a.body);
    let a = post(&s, &format!("/exec/{id}/start"), &json!({"Detach": true}));
    assert_eq!(a.status, 409, "a second start: {}", a.body);
    assert!(a.message().contains(&id), "{}", a.body);
    // Removed through the API: the sessions go with it.
    let other = exec(json!({"Cmd": ["true"]}));
    let a = call(&s.socket, "DELETE", "/containers/host?force=1", b"");
    assert_eq!(a.status, 204, "{}", a.body);
    for e in [&id, &other] {
        let a = call(&s.socket, "GET", &format!("/exec/{e}/json"), b"");
        assert_eq!(a.status, 404, "exec of a removed container: {}", a.body);
        assert!(a.message().contains("No such exec instance"), "{}", a.body);
    }
    // Removed by the CLI behind the service's back: found gone on the next lookup.
    w.ok(&["run", "-d", "--name", "host2", &img, "sleep", "300"]);
    let a = post(&s, "/containers/host2/exec", &json!({"Cmd": ["true"]}));
    let id = a.json()["Id"].as_str().unwrap().to_string();
    assert_eq!(call(&s.socket, "GET", &format!("/exec/{id}/json"), b"").status, 200);
    w.ok(&["rm", "-f", "host2"]);
    assert_eq!(call(&s.socket, "GET", &format!("/exec/{id}/json"), b"").status, 404);
    ping(&s);
}

#[test]
fn times_out_of_range_are_400() {
    let (w, s, img) = world();
    w.ok(&["create", "--name", "quiet", &img, "true"]);
    for path in [
        "/events?since=99999999999999999999",
        "/events?since=9999999999999999",
        "/events?until=-5",
        "/events?since=12abc",
        "/containers/quiet/logs?stdout=1&since=1e400",
        "/containers/quiet/logs?stdout=1&until=99999999999999999",
        "/containers/quiet/logs?stdout=1&tail=lots",
    ] {
        let a = call(&s.socket, "GET", path, b"");
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        let m = a.message();
        assert!(
            m.starts_with("invalid since") || m.starts_with("invalid until") || m.starts_with("invalid tail"),
            "{path}: {m}"
        );
        ping(&s);
    }
    // In range, fractions included, still answered.
    let a = call(&s.socket, "GET", "/events?since=1&until=2.5", b"");
    assert_eq!(a.status, 200, "{}", a.body);
}

/// A k8s-file log of `lines` lines, written straight into a created container's log.
fn big_log(path: &Path, lines: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let filler = "x".repeat(200);
    for i in 0..lines {
        writeln!(f, "2024-01-01T00:00:00.{:09}Z stdout F line {i} {filler}", i % 1_000_000_000).unwrap();
    }
    f.flush().unwrap();
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn logs_tail_reads_the_end_only() {
    let (w, s, img) = world();
    let id = w.ok(&["create", "--name", "chatty", &img, "true"]).trim().to_string();
    let log = w.root().join("containers").join(&id).join("ctr.log");
    let lines = 1_000_000; // about 250 MB
    big_log(&log, lines);
    let before = peak_rss_kib(s.child.id());
    let start = Instant::now();
    let a = call(&s.socket, "GET", "/containers/chatty/logs?stdout=1&tail=2", b"");
    let took = start.elapsed();
    assert_eq!(a.status, 200);
    // Multiplexed frames: 8 bytes of header, then the line.
    let text: Vec<String> = a.body.split('\n').filter(|l| !l.is_empty()).map(|l| l.chars().skip(8).collect()).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text[0].starts_with(&format!("line {} ", lines - 2)) && text[1].starts_with(&format!("line {} ", lines - 1))
    );
    let grew = peak_rss_kib(s.child.id()).saturating_sub(before);
    eprintln!(
        "tail=2 of a {} MB log: {took:?}, peak memory grew {grew} KiB",
        std::fs::metadata(&log).unwrap().len() >> 20
    );
    assert!(grew < 32 * 1024, "the service's peak memory grew {grew} KiB for two lines");
    assert!(took < Duration::from_secs(2), "tail=2 took {took:?}");
}

#[test]
fn info_reports_the_host_as_it_is() {
    let (w, s, _img) = world();
    // The storage root on a tmpfs, which the service must tell from ext4.
    let root = w.root();
    let mounted = std::process::Command::new("mount").args(["-t", "tmpfs", "tmpfs"]).arg(&root).status().unwrap();
    assert!(mounted.success());
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&root);
    let i = call(&s.socket, "GET", "/info", b"").json();
    assert_eq!(i["DriverStatus"][0], json!(["Backing Filesystem", "tmpfs"]), "{}", i["DriverStatus"]);
    assert!(
        i["NFd"].as_u64().unwrap() > 2 && i["NGoroutines"].as_u64().unwrap() > 1,
        "{} {}",
        i["NFd"],
        i["NGoroutines"]
    );
    let forwarding = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap().trim() == "1";
    assert_eq!(i["IPv4Forwarding"], json!(forwarding));
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").unwrap_or_default();
    if !controllers.is_empty() {
        assert_eq!(i["MemoryLimit"], json!(controllers.split_whitespace().any(|c| c == "memory")));
        assert_eq!(i["PidsLimit"], json!(controllers.split_whitespace().any(|c| c == "pids")));
    }
}

#[test]
fn the_cli_refuses_huge_durations_and_infinite_sizes() {
    let (w, _s, img) = world();
    w.ok(&["create", "--name", "c", &img, "true"]);
    let out = w.berth(&["logs", "--since", "99999999999999h", "c"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() != Some(101) && !err.contains("panicked"), "a panic: {err}");
    assert!(!out.status.success() && err.contains("\"99999999999999h\""), "{err}");
    for size in ["inf", "nan", "-3m", "99999999999t"] {
        let out = w.berth(&["create", "--memory", size, &img, "true"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(&format!("\"{size}\"")), "--memory {size}: {err}");
    }
    assert_eq!(w.ok(&["ps", "-aq"]).lines().count(), 1);
}

/// Every route, fuzzed: malformed JSON, wrong types, odd paths and queries. Never a 5xx, always
/// a message, and `/_ping` answers after each case.
#[test]
fn every_route_takes_malformed_input_with_a_4xx() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let (w, s, img) = world();
    w.ok(&["create", "--name", "fz", &img, "true"]);
    let routes: &[(&str, &str)] = &[
        ("POST", "/containers/create"),
        ("POST", "/containers/create?name=fz2"),
        ("GET", "/containers/json?filters="),
        ("POST", "/containers/fz/start"),
        ("POST", "/containers/fz/stop?t="),
        ("POST", "/containers/fz/restart?t="),
        ("POST", "/containers/fz/kill?signal="),
        ("POST", "/containers/fz/wait?condition="),
        ("POST", "/containers/fz/rename?name="),
        ("GET", "/containers/fz/logs?stdout=1&tail="),
        ("GET", "/containers/fz/logs?stdout=1&since="),
        ("GET", "/containers/fz/json"),
        ("POST", "/containers/fz/resize?h="),
        ("POST", "/containers/fz/exec"),
        ("GET", "/containers/fz/archive?path="),
        ("PUT", "/containers/fz/archive?path=/tmp"),
        ("POST", "/exec/nosuch/start"),
        ("GET", "/exec/nosuch/json"),
        ("POST", "/images/create?fromImage=Bad%20Name"),
        ("GET", "/images/json?filters="),
        ("POST", "/images/nosuch/tag?repo="),
        ("DELETE", "/images/"),
        ("POST", "/volumes/create"),
        ("GET", "/volumes/"),
        ("DELETE", "/volumes/"),
        ("POST", "/networks/create"),
        ("GET", "/networks/"),
        ("DELETE", "/networks/"),
        ("GET", "/events?until=1&since="),
        ("GET", "/nosuch/route"),
    ];
    let json_value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(json!([1, "a", null])),
        Just(json!({"a": {"b": []}})),
    ];
    let keys = prop::sample::select(vec![
        "Image",
        "Cmd",
        "Env",
        "Entrypoint",
        "HostConfig",
        "Labels",
        "Volumes",
        "Name",
        "Driver",
        "Tty",
        "Detach",
        "NetworkingConfig",
        "Healthcheck",
        "WorkingDir",
        "User",
        "Subnet",
        "IPAM",
    ]);
    let host_keys = prop::sample::select(vec![
        "Binds",
        "Mounts",
        "PortBindings",
        "Memory",
        "Dns",
        "RestartPolicy",
        "Devices",
        "Tmpfs",
        "SecurityOpt",
        "ExtraHosts",
        "NetworkMode",
        "CapAdd",
        "NanoCpus",
        "Ulimits",
        "LogConfig",
    ]);
    let body = prop_oneof![
        // Past the limit.
        1 => Just(vec![b'['; 17 << 20]),
        // Not JSON, or cut off.
        8 => "[ -~]{0,40}".prop_map(|s| s.into_bytes()),
        8 => Just(b"{\"Image\": ".to_vec()),
        8 => Just(b"\xff\xfe{}".to_vec()),
        // JSON of the wrong shape.
        8 => json_value.clone().prop_map(|v| v.to_string().into_bytes()),
        // Objects with fields of any type.
        8 => prop::collection::vec((keys, json_value.clone()), 0..4).prop_map(|kv| {
            let m: serde_json::Map<String, Value> = kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            Value::Object(m).to_string().into_bytes()
        }),
        8 => prop::collection::vec((host_keys, json_value.clone()), 1..4).prop_map(|kv| {
            let m: serde_json::Map<String, Value> = kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            json!({"Image": "nosuch-image-fz", "HostConfig": m}).to_string().into_bytes()
        }),
    ];
    let tail = "[a-zA-Z0-9._~=-]{0,16}";
    let stalled = std::cell::RefCell::new(Vec::new());
    let mut runner = TestRunner::new(Config { cases: 300, failure_persistence: None, ..Config::default() });
    let start = Instant::now();
    runner
        .run(
            &(prop::sample::select(routes.to_vec()), tail, body, any::<bool>()),
            |((method, path), extra, body, stall)| {
                // A client that sent part of its headers and stalls stays beside the others.
                if stall {
                    let mut c = UnixStream::connect(&s.socket).unwrap();
                    c.write_all(format!("{method} {path}").as_bytes()).unwrap();
                    stalled.borrow_mut().push(c);
                }
                let path = format!("{path}{extra}");
                let a = call(&s.socket, method, &path, &body);
                prop_assert!(
                    a.status < 500,
                    "{method} {path} {:?} -> {} {}",
                    String::from_utf8_lossy(&body),
                    a.status,
                    a.body
                );
                if a.status >= 400 {
                    let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
                    prop_assert!(
                        v["message"].as_str().is_some_and(|m| !m.is_empty()),
                        "{method} {path}: {} without a message: {}",
                        a.status,
                        a.body
                    );
                }
                ping(&s);
                Ok(())
            },
        )
        .unwrap();
    eprintln!("300 fuzz cases in {:?}, {} clients stalled beside them", start.elapsed(), stalled.borrow().len());
}

/// `/system/df` walks every container's upper directory: on the async threads, a few at once
/// would stop the service answering anything else while they walk.
#[test]
fn disk_usage_walks_off_the_async_threads() {
    let (w, s, img) = world();
    let id = w.ok(&["create", "--name", "full", &img, "true"]).trim().to_string();
    let upper = w.root().join("containers").join(&id).join("upper");
    for d in 0..40 {
        let dir = upper.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..4000 {
            std::fs::File::create(dir.join(f.to_string())).unwrap();
        }
    }
    let socket = s.socket.clone();
    let start = Instant::now();
    let walks: Vec<_> = (0..4)
        .map(|_| {
            let socket = socket.clone();
            std::thread::spawn(move || call(&socket, "GET", "/system/df", b"").status)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        ping(&s);
        slowest = slowest.max(t.elapsed());
    }
    for walk in walks {
        assert_eq!(walk.join().unwrap(), 200);
    }
    let walked = start.elapsed();
    eprintln!("4 walks of 160 000 files took {walked:?}; the slowest ping meanwhile {slowest:?}");
    assert!(slowest < Duration::from_millis(300), "a ping waited {slowest:?} while df walked ({walked:?})");
}

/// Stats fill what the cgroup tells: user and kernel CPU time, memory.stat, throttling, the
/// pids limit, per device I/O.
#[test]
fn stats_report_what_the_cgroup_counts() {
    let (w, s, img) = world();
    w.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "--pids-limit",
        "50",
        &img,
        "sh",
        "-c",
        "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo done; exec sleep 300",
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.ok(&["logs", "busy"]) != "done\n" {
        assert!(Instant::now() < deadline, "the loop never ended");
        std::thread::sleep(Duration::from_millis(100));
    }
    let a = call(&s.socket, "GET", "/containers/busy/stats?stream=0", b"");
    assert_eq!(a.status, 200, "{}", a.body);
    let v: Value = serde_json::from_str(a.body.trim()).unwrap();
    let usage = &v["cpu_stats"]["cpu_usage"];
    let (user, kernel) = (usage["usage_in_usermode"].as_u64().unwrap(), usage["usage_in_kernelmode"].as_u64().unwrap());
    assert!(user > 0 && user + kernel <= usage["total_usage"].as_u64().unwrap() + 20_000_000, "{usage}");
    let stat = v["memory_stats"]["stats"].as_object().unwrap();
    assert!(!stat.is_empty() && stat.values().all(Value::is_u64), "{}", v["memory_stats"]);
    assert_eq!(v["pids_stats"]["limit"], json!(50), "{}", v["pids_stats"]);
    assert!(v["cpu_stats"]["throttling_data"]["periods"].is_u64(), "{}", v["cpu_stats"]);
    assert!(v["blkio_stats"]["io_serviced_recursive"].is_array(), "{}", v["blkio_stats"]);
    if let Some(eth0) = v["networks"].get("eth0") {
        assert!(eth0["rx_packets"].is_u64() && eth0["tx_dropped"].is_u64(), "{eth0}");
    }
    w.ok(&["rm", "-f", "busy"]);
}

/// Debian's docker-compose (python) brings a project up against the service, with its network,
/// a named and an anonymous volume, an exec, and takes it down again.
#[test]
fn compose_brings_a_project_up_and_down() {
    let (w, s, img) = world();
    let dir = w.dir.path().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("docker-compose.yml"),
        format!(
            "version: \"3\"\nservices:\n  web:\n    image: {img}\n    command: sh -c \"echo hi > /data/f; exec sleep 300\"\n    volumes:\n      - data:/data\n      - /cache\nvolumes:\n  data:\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = crate::docker_api::compose_cmd(&w, &s, &dir).args(args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "docker-compose {args:?} failed:\n{text}");
        text
    };
    run(&["up", "-d"]);
    assert_eq!(w.ok(&["ps", "--format", "{{.Names}}"]), "proj_web_1\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = crate::docker_api::compose_cmd(&w, &s, &dir)
            .args(["exec", "-T", "web", "cat", "/data/f"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout) == "hi\n" {
            break;
        }
        assert!(Instant::now() < deadline, "exec never read the volume: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(200));
    }
    run(&["down", "-v"]);
    assert_eq!(w.ok(&["ps", "-aq"]), "");
    ping(&s);
}

/// A created container taken off its network is not started until it is connected again (as
/// compose does it); another network is joined, at once while it runs, and both are left again.
#[test]
fn a_disconnected_container_waits_for_its_network() {
    let (w, s, img) = world();
    w.ok(&["network", "create", "pair"]);
    w.ok(&["create", "--name", "n1", "--network", "pair", &img, "sleep", "300"]);
    let a = post(&s, "/networks/pair/disconnect", &json!({"Container": "n1"}));
    assert_eq!(a.status, 200, "{}", a.body);
    let a = post(&s, "/containers/n1/start", &json!({}));
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(a.message().contains("was disconnected from network pair"), "{}", a.body);
    let a = post(&s, "/networks/pair/connect", &json!({"Container": "n1", "EndpointConfig": {"Aliases": ["x"]}}));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(post(&s, "/containers/n1/start", &json!({})).status, 204);
    let a = post(&s, "/networks/bridge/connect", &json!({"Container": "n1"}));
    assert_eq!(a.status, 200, "another network, while it runs: {}", a.body);
    let a = post(&s, "/networks/bridge/connect", &json!({"Container": "n1"}));
    assert_eq!(a.status, 403, "twice: {}", a.body);
    let ifaces = w.ok(&["exec", "n1", "ip", "-o", "-4", "addr"]);
    assert!(ifaces.contains(" eth1 "), "{ifaces}");
    // its first network left while it runs (as Docker allows): the other one stays
    let a = post(&s, "/networks/pair/disconnect", &json!({"Container": "n1"}));
    assert_eq!(a.status, 200, "the first network of a running container: {}", a.body);
    let ifaces = w.ok(&["exec", "n1", "ip", "-o", "-4", "addr"]);
    assert!(!ifaces.contains(" eth0 ") && ifaces.contains(" eth1 "), "{ifaces}");
    let a = post(&s, "/networks/bridge/disconnect", &json!({"Container": "n1"}));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(!w.ok(&["exec", "n1", "ip", "-o", "-4", "addr"]).contains(" eth1 "));
    w.ok(&["rm", "-f", "n1"]);
    w.ok(&["network", "rm", "pair"]);
}
