//! A three-service stack through `berth compose` (Debian's docker-compose against Berth's own
//! socket, served for the command): a web server with a healthcheck and an alias, a client
//! that finds it by service name and by alias over the network's DNS, and a service that
//! starts only once the web server reports healthy; `down -v` leaves nothing behind.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::World;

fn inspect(w: &World, name: &str) -> Value {
    let v: Value = serde_json::from_str(&w.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

fn compose(w: &World, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    w.cmd().current_dir(dir).arg("compose").args(["-p", "stack"]).args(args).output().unwrap()
}

fn compose_ok(w: &World, dir: &std::path::Path, args: &[&str]) -> String {
    let out = compose(w, dir, args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "berth compose {args:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Processes whose command line has all of `words` (helpers of this world's root).
fn processes_with(words: &[&str]) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if words.iter().all(|w| text.contains(w)) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn a_three_service_stack_finds_itself_by_name_waits_for_health_and_goes_away() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let dir = w.dir.path().join("stack");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("docker-compose.yml"),
        format!(
            r#"version: "2.4"
services:
  web:
    image: {img}
    command: sh -c "mkdir -p /www && echo hello from the stack > /www/index.html && sleep 1 && exec httpd -f -p 80 -h /www"
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost/"]
      interval: 500ms
      retries: 20
    networks:
      default:
        aliases: [frontend]
    volumes:
      - data:/data
  client:
    image: {img}
    command: sleep 300
  worker:
    image: {img}
    command: sh -c "wget -q -O - http://web/ > /got; exec sleep 300"
    depends_on:
      web:
        condition: service_healthy
volumes:
  data:
"#
        ),
    )
    .unwrap();
    compose_ok(&w, &dir, &["up", "-d"]);
    let names = w.ok(&["ps", "--format", "{{.Names}}"]);
    let mut names: Vec<&str> = names.lines().collect();
    names.sort();
    assert_eq!(names, ["stack_client_1", "stack_web_1", "stack_worker_1"]);
    // the worker started after web was healthy, and got the page by the service's name
    let web = inspect(&w, "stack_web_1");
    assert_eq!(web["State"]["Health"]["Status"], "healthy", "{}", web["State"]);
    let passed = web["State"]["Health"]["Log"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ExitCode"] == 0)
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["End"].as_str().unwrap()).unwrap())
        .expect("a passing check");
    let worker_started =
        chrono::DateTime::parse_from_rfc3339(inspect(&w, "stack_worker_1")["State"]["StartedAt"].as_str().unwrap())
            .unwrap();
    assert!(worker_started >= passed, "worker started {worker_started}, web first healthy {passed}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = w.berth(&["exec", "stack_worker_1", "cat", "/got"]);
        if String::from_utf8_lossy(&got.stdout) == "hello from the stack\n" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never fetched http://web/: {}\nlogs: {}\nhosts:\n{}\nresolv.conf:\n{}\nweb's log: {}",
            String::from_utf8_lossy(&got.stderr),
            String::from_utf8_lossy(&w.berth(&["logs", "stack_worker_1"]).stderr),
            w.ok(&["exec", "stack_worker_1", "cat", "/etc/hosts"]),
            w.ok(&["exec", "stack_worker_1", "cat", "/etc/resolv.conf"]),
            w.ok(&["logs", "stack_web_1"]),
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // the client finds web by service name and by alias, over the network's name server
    let ip = web["NetworkSettings"]["Networks"]["stack_default"]["IPAddress"].as_str().unwrap().to_string();
    for name in ["web", "frontend", "stack_web_1"] {
        let out = compose_ok(&w, &dir, &["exec", "-T", "client", "nslookup", name]);
        let answer = out.split_once("Name:").map(|(_, a)| a).unwrap_or("");
        assert!(answer.contains(&format!("Address: {ip}")), "nslookup {name}:\n{out}");
    }
    let out = compose(&w, &dir, &["exec", "-T", "client", "nslookup", "nosuch"]);
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // compose's labels survive into ps and inspect
    let labels = &web["Config"]["Labels"];
    assert_eq!(
        (labels["com.docker.compose.project"].as_str(), labels["com.docker.compose.service"].as_str()),
        (Some("stack"), Some("web"))
    );
    assert_eq!(
        w.ok(&["ps", "--filter", "label=com.docker.compose.service=web", "--format", "{{.Names}}"]),
        "stack_web_1\n"
    );
    let ps = compose_ok(&w, &dir, &["ps"]);
    assert!(ps.contains("stack_web_1") && ps.contains("healthy"), "{ps}");
    assert_eq!(processes_with(&["__berth-dns", "stack_default"]), 1, "one name server for the network");

    compose_ok(&w, &dir, &["down", "-v"]);
    assert_eq!(w.ok(&["ps", "-aq"]), "");
    assert!(!w.ok(&["network", "ls", "--format", "{{.Name}}"]).contains("stack_default"));
    assert!(!w.ok(&["volume", "ls", "-q"]).contains("stack_data"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with(&["__berth-dns", "stack_default"])
        + processes_with(&["__berth-health", &w.root().display().to_string()])
        > 0
    {
        assert!(Instant::now() < deadline, "a name server or healthcheck helper stayed after down");
        std::thread::sleep(Duration::from_millis(200));
    }
    // the command's own socket is gone with it
    let leftover: Vec<String> = std::fs::read_dir(berth_engine::EngineConfig::run_root_of(&w.root()))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("compose-"))
        .collect();
    assert!(leftover.is_empty(), "{leftover:?}");
}

#[test]
fn compose_with_a_missing_image_says_which_and_no_provider_is_a_clear_error() {
    let w = World::new();
    let dir = w.dir.path().join("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let missing = w.image_ref("nosuch:latest");
    std::fs::write(
        dir.join("docker-compose.yml"),
        format!("version: \"2.4\"\nservices:\n  app:\n    image: {missing}\n"),
    )
    .unwrap();
    let out = compose(&w, &dir, &["up", "-d"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("nosuch"), "names the image: {text}");
    assert_eq!(w.ok(&["ps", "-aq"]), "", "no container was made");
    compose_ok(&w, &dir, &["down"]);
    assert!(!w.ok(&["network", "ls", "--format", "{{.Name}}"]).contains("stack_default"));

    let out = w.cmd().env("BERTH_COMPOSE_PROVIDER", "/nonexistent/compose").args(["compose", "up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("BERTH_COMPOSE_PROVIDER=/nonexistent/compose"), "{e}");
}
