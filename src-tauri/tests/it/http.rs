//! `--serve` in-process: the token on every /api route, the static UI, commands over HTTP,
//! engine events (from this process and from the events file) and pull progress on the stream.

use std::time::Duration;

use berth_desktop::serve::{self, Assets, Server};
use serde_json::{json, Value};

use crate::World;

pub async fn start(w: &World, assets: Assets) -> Server {
    serve::start(w.backend(), "127.0.0.1:0".parse().unwrap(), assets).await.unwrap()
}

pub async fn post(s: &Server, command: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    post_once(s, command, token, None, body).await
}

/// `post` with an `Idempotency-Key`: the page's key for one call, which a resend repeats.
pub async fn post_once(s: &Server, command: &str, token: Option<&str>, key: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("http://{}/api/invoke/{command}", s.addr)).body(body.to_string());
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{command}: not JSON ({e}): {text}")))
}

/// Reads Server-Sent Events from `/api/stream`.
pub struct Events {
    resp: reqwest::Response,
    buf: String,
}

impl Events {
    pub async fn open(addr: std::net::SocketAddr, token: &str) -> Events {
        let resp = reqwest::get(format!("http://{addr}/api/stream?token={token}")).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Events { resp, buf: String::new() }
    }

    /// The next event (name, data), skipping keep-alive comments; panics after `within`.
    pub async fn next(&mut self, within: Duration) -> (String, Value) {
        self.try_next(within).await.expect("no event in time")
    }

    /// The next event, or None when none comes within `within`.
    pub async fn try_next(&mut self, within: Duration) -> Option<(String, Value)> {
        tokio::time::timeout(within, async {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let frame: String = self.buf.drain(..end + 2).collect();
                    let mut name = String::new();
                    let mut data = String::new();
                    for line in frame.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            name = v.trim().to_string();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    if !name.is_empty() {
                        return (name, serde_json::from_str(&data).unwrap());
                    }
                    continue;
                }
                let chunk = self.resp.chunk().await.unwrap().expect("the stream ended");
                self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .ok()
    }

    /// The next `engine` event, skipping others.
    pub async fn next_engine(&mut self, within: Duration) -> Value {
        loop {
            let (name, data) = self.next(within).await;
            if name == "engine" {
                return data;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_needs_the_token() {
    let w = World::new().await;
    let s = start(&w, Assets::Embedded).await;
    assert_eq!(s.url(), format!("http://127.0.0.1:{}/?token={}", s.addr.port(), s.token));

    let unauthorized = json!({"code": "unauthorized",
        "message": "unauthorized: open the address with the token that `berth-desktop --serve` printed"});
    assert_eq!(post(&s, "engine_info", None, json!({})).await, (401, unauthorized.clone()));
    assert_eq!(post(&s, "engine_info", Some("0123456789abcdef0123456789abcdef"), json!({})).await, (401, unauthorized));
    let stream = reqwest::get(format!("http://{}/api/stream", s.addr)).await.unwrap();
    assert_eq!(stream.status(), 401);
    let stream = reqwest::get(format!("http://{}/api/stream?token=nope", s.addr)).await.unwrap();
    assert_eq!(stream.status(), 401);

    let (status, info) = post(&s, "engine_info", Some(&s.token), json!({})).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["images"], 0);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    // The query parameter works too (what EventSource can send).
    let resp = reqwest::Client::new()
        .post(format!("http://{}/api/invoke/list_containers?token={}", s.addr, s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));

    let (status, e) = post(&s, "no_such_command", Some(&s.token), json!({})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")));
    let (status, e) = post(&s, "inspect_container", Some(&s.token), json!({"id": "nosuch"})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")));
    let (status, e) = post(&s, "inspect_container", Some(&s.token), json!({})).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_is_served_without_a_token() {
    let w = World::new().await;
    let ui = tempfile::tempdir().unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(ui.path().join("index.html"), "<!doctype html><title>Berth</title>").unwrap();
    std::fs::write(ui.path().join("assets/app.js"), "console.log('berth')").unwrap();
    let s = start(&w, Assets::Dir(ui.path().to_path_buf())).await;
    let get = |path: &str| reqwest::get(format!("http://{}{path}", s.addr));

    let index = get("/").await.unwrap();
    assert_eq!(
        (index.status().as_u16(), index.headers()["content-type"].to_str().unwrap()),
        (200, "text/html; charset=utf-8")
    );
    assert_eq!(index.text().await.unwrap(), "<!doctype html><title>Berth</title>");
    let js = get("/assets/app.js").await.unwrap();
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(js.text().await.unwrap(), "console.log('berth')");
    // A route of the page is the page; a missing file is not.
    assert_eq!(get("/images").await.unwrap().text().await.unwrap(), "<!doctype html><title>Berth</title>");
    assert_eq!(get("/assets/missing.js").await.unwrap().status(), 404);
    s.stop();

    // Without a built UI, the page says so.
    let empty = tempfile::tempdir().unwrap();
    let s = start(&w, Assets::Dir(empty.path().to_path_buf())).await;
    let page = reqwest::get(format!("http://{}/", s.addr)).await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("UI was not built"));
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_carries_engine_events_from_this_and_other_processes() {
    let w = World::new().await;
    let image_id = w.pull_busybox().await;
    let s = start(&w, Assets::Embedded).await;
    let mut events = Events::open(s.addr, &s.token).await;

    // A change made by this process's engine.
    w.engine.tag(&w.busybox(), "berth.test/renamed:2").unwrap();
    let e = events.next_engine(Duration::from_secs(5)).await;
    assert_eq!(e, json!({"kind": "image", "action": "tag", "id": image_id, "name": "berth.test/renamed:2"}));

    // A change made by another process: it only appends to the events file.
    let other = berth_engine::EventBus::new(&w.dir.path().join("root/events.jsonl"));
    other.state("container", "died", "c0ffee", Some("elsewhere"));
    let e = events.next_engine(Duration::from_secs(5)).await;
    assert_eq!(e, json!({"kind": "container", "action": "died", "id": "c0ffee", "name": "elsewhere"}));

    // Each event once: the tag reached both the bus and the file, and only one copy came.
    w.engine.untag("berth.test/renamed:2").unwrap();
    let e = events.next_engine(Duration::from_secs(5)).await;
    assert_eq!(e["action"], "untag");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_progress_travels_on_the_callers_channel() {
    let w = World::new().await;
    let image_id = w.pull_busybox().await;
    let s = start(&w, Assets::Embedded).await;
    let mut events = Events::open(s.addr, &s.token).await;

    let dest = format!("{}/pushed/busybox:2", w.registry.addr());
    let (status, pushed) =
        post(&s, "push_image", Some(&s.token), json!({"id": image_id, "destination": dest, "onProgress": "push-7"}))
            .await;
    assert_eq!(status, 200, "{pushed}");
    assert_eq!(pushed["destination"], dest.as_str());
    let digest = pushed["manifestDigest"].as_str().unwrap().to_string();

    let mut kinds = Vec::new();
    loop {
        let (name, data) = events.next(Duration::from_secs(5)).await;
        if name != "channel" {
            continue;
        }
        assert_eq!(data["channel"], "push-7");
        let kind = data["message"]["type"].as_str().unwrap().to_string();
        kinds.push(kind.clone());
        if kind == "layer" {
            // the layer came from the busybox repository of the same registry
            assert!(["mounted", "done"].contains(&data["message"]["phase"].as_str().unwrap()), "{data}");
        }
        if kind == "manifest" {
            assert_eq!(data["message"]["digest"], digest.as_str());
            break;
        }
    }
    assert_eq!(kinds.first().map(String::as_str), Some("started"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "layer") && kinds.iter().any(|k| k == "config"), "{kinds:?}");
    // what a pull of it finds
    let again = w.engine.pull(&dest, berth_engine::PullOptions::default()).await.unwrap();
    assert_eq!((again.id.as_str(), again.manifest_digest.as_str()), (image_id.as_str(), digest.as_str()));

    let (status, e) =
        post(&s, "push_image", Some(&s.token), json!({"id": image_id, "destination": "bogus:/x", "onProgress": "x"}))
            .await;
    assert_eq!(status, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("unknown transport"), "{e}");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_progress_travels_on_the_callers_channel() {
    let w = World::new().await;
    let s = start(&w, Assets::Embedded).await;
    let mut events = Events::open(s.addr, &s.token).await;

    let (status, image) =
        post(&s, "pull_image", Some(&s.token), json!({"reference": w.busybox(), "onProgress": "pull-42"})).await;
    assert_eq!(status, 200, "{image}");
    assert_eq!(image["tag"], "1");
    let image_id = image["id"].as_str().unwrap().to_string();

    let mut kinds = Vec::new();
    let mut pulled_event = false;
    loop {
        let (name, data) = events.next(Duration::from_secs(5)).await;
        match name.as_str() {
            "channel" => {
                assert_eq!(data["channel"], "pull-42");
                let kind = data["message"]["type"].as_str().unwrap().to_string();
                kinds.push(kind.clone());
                if kind == "done" {
                    assert_eq!(data["message"]["imageId"], image_id.as_str());
                    break;
                }
            }
            "engine" => pulled_event |= data["action"] == "pull",
            other => panic!("unexpected event {other}"),
        }
    }
    // `started` first, with the id `cancel_pull` takes; then the engine's progress.
    assert_eq!(kinds.get(..2), Some(&["started".to_string(), "resolved".to_string()][..]), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "layer"), "{kinds:?}");
    if !pulled_event {
        assert_eq!(events.next_engine(Duration::from_secs(5)).await["action"], "pull");
    }

    let (status, e) = post(&s, "pull_image", Some(&s.token), json!({"reference": "Bad:Ref", "onProgress": "x"})).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_names_the_missing_containerfile_or_context() {
    let w = World::new().await;
    let s = start(&w, Assets::Embedded).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Containerfile");
    let build = |containerfile: &str, context: Option<&str>| {
        json!({"request": {"containerfile": containerfile, "context": context, "name": null, "buildArgs": [],
            "target": null, "noCache": false, "pull": "never"}, "onProgress": "b"})
    };
    let (status, e) = post(&s, "build_image", Some(&s.token), build(file.to_str().unwrap(), None)).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    assert_eq!(
        e["message"],
        format!(
            "Containerfile {}: no such file: give the path of the Containerfile (or Dockerfile) to build",
            file.display()
        )
    );
    std::fs::write(&file, "FROM scratch\n").unwrap();
    let nowhere = dir.path().join("nowhere");
    let (status, e) =
        post(&s, "build_image", Some(&s.token), build(file.to_str().unwrap(), Some(nowhere.to_str().unwrap()))).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    assert_eq!(
        e["message"],
        format!(
            "build context {}: no such directory: give the directory whose files the Containerfile copies",
            nowhere.display()
        )
    );
    let (status, e) = post(&s, "build_image", Some(&s.token), build("Containerfile", None)).await;
    assert_eq!(status, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("give an absolute path for the Containerfile"), "{e}");
    // A Containerfile the engine cannot read is its error, by line.
    std::fs::write(&file, "FROM scratch\nFROBNICATE x\n").unwrap();
    let (status, e) = post(&s, "build_image", Some(&s.token), build(file.to_str().unwrap(), None)).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    assert!(e["message"].as_str().unwrap().starts_with("Containerfile:2:"), "{e}");
    s.stop();
}
