//! The Tauri commands as the window calls them, through Tauri's mock runtime: argument names
//! in camelCase, answers in the contract's JSON, errors as `{code, message}`.

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

use crate::World;

fn app(w: &World) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = mock_builder()
        .manage(berth_desktop::commands::Backend::new(w.engine.clone()))
        .invoke_handler(berth_desktop::ipc::handler())
        .build(mock_context(noop_assets()))
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (app, window)
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_info_and_images_through_tauri() {
    let w = World::new().await;
    let image_id = w.pull_busybox().await;
    let (app, window) = app(&w);
    assert!(app.try_state::<berth_desktop::commands::Backend>().is_some());

    let info = tokio::task::spawn_blocking({
        let window = window.clone();
        move || invoke(&window, "engine_info", json!({}))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(info["images"], 1);
    assert_eq!(info["containersTotal"], 0);
    assert_eq!(info["root"], w.dir.path().join("root").display().to_string());
    assert_eq!(info["runRoot"], w.dir.path().join("run").display().to_string());

    let images = tokio::task::spawn_blocking({
        let window = window.clone();
        move || invoke(&window, "list_images", json!({}))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(images.as_array().unwrap().len(), 1);
    let img = &images[0];
    assert_eq!(img["id"], image_id.as_str());
    assert_eq!(img["shortId"], &image_id[..12]);
    assert_eq!(img["repository"], format!("{}/busybox", w.registry.addr()));
    assert_eq!(img["tag"], "1");
    assert_eq!(img["inUse"], false);

    let details = tokio::task::spawn_blocking({
        let window = window.clone();
        let reference = w.busybox();
        move || invoke(&window, "image_details", json!({ "reference": reference }))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(details["id"], image_id.as_str());
    assert_eq!(details["cmd"], json!(["sh"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_cross_as_code_and_message() {
    let w = World::new().await;
    let (_app, window) = app(&w);
    let call = |cmd: &'static str, args: Value| {
        let window = window.clone();
        tokio::task::spawn_blocking(move || invoke(&window, cmd, args))
    };
    let e = call("inspect_container", json!({ "id": "nosuch" })).await.unwrap().unwrap_err();
    assert_eq!(
        e,
        json!({"code": "not_found", "message": "no container with name or ID \"nosuch\" found: no such container"})
    );
    let e = call("remove_image", json!({ "id": "nosuch:1", "force": false })).await.unwrap().unwrap_err();
    assert_eq!(e["code"], "not_found");
    let e = call(
        "create_container",
        json!({ "request": { "image": "nosuch", "name": null, "command": null, "entrypoint": null, "ports": [],
                             "env": ["NOVALUE"], "envFile": null, "restart": "no", "remove": false, "start": false } }),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(e, json!({"code": "invalid", "message": "environment variable \"NOVALUE\": use KEY=VALUE"}));
    // The UI names arguments in camelCase; a missing one is Tauri's own error, not a panic.
    assert!(call("stop_container", json!({})).await.unwrap().is_err());
    // A build with its progress channel: the Containerfile named when it is not there.
    let e = call(
        "build_image",
        json!({ "request": { "containerfile": "/nonexistent/Containerfile", "context": null, "name": null,
                             "buildArgs": [], "target": null, "noCache": false, "pull": "missing" },
                "onProgress": "__CHANNEL__:7" }),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(
        e,
        json!({"code": "invalid", "message": "Containerfile /nonexistent/Containerfile: no such file: give the path of the Containerfile (or Dockerfile) to build"})
    );
    assert_eq!(call("cancel_build", json!({ "build": "ended-long-ago" })).await.unwrap(), Ok(Value::Null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_v2_commands_through_tauri() {
    let w = World::new().await;
    w.pull_busybox().await;
    let opts =
        berth_engine::CreateOptions { name: Some("web".into()), command: vec!["true".into()], ..Default::default() };
    let c = w.engine.create_container(&w.busybox(), opts).unwrap();
    let mut log = berth_engine::container::logs::LogWriter::open(&w.engine.container_paths(&c.id).log(), 0).unwrap();
    for i in 0..10 {
        log.write(berth_engine::container::logs::Stream::Stdout, format!("Line {i}\n").as_bytes()).unwrap();
    }
    let (_app, window) = app(&w);
    let call = |cmd: &'static str, args: Value| {
        let window = window.clone();
        tokio::task::spawn_blocking(move || invoke(&window, cmd, args))
    };

    let page = call("log_window", json!({"id": "web", "before": null, "limit": 3, "timestamps": false}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page["atStart"], false);
    assert_eq!(page["entries"][2]["line"], "Line 9");
    assert_eq!(page["entries"][2]["time"], "");
    let found = call(
        "search_logs",
        json!({"id": "web", "query": "line 4", "regex": false, "caseSensitive": false, "limit": 5}),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(found[0]["line"], "Line 4");
    assert_eq!(found[0]["cursor"]["file"], 1);

    let v = call("create_volume", json!({"name": "v1"})).await.unwrap().unwrap();
    assert_eq!((v["name"].as_str(), v["usedBy"].as_array().map(Vec::len)), (Some("v1"), Some(0)));
    let all = call("list_volumes", json!({})).await.unwrap().unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(call("prune_volumes", json!({})).await.unwrap().unwrap(), json!(["v1"]));

    // The networks' commands, with the form's argument names (root only: bridge networks).
    if !nix::unistd::geteuid().is_root() {
        eprintln!("NOT CHECKED: the networks' commands through Tauri need root (bridge networks)");
    } else {
        let n = call(
            "create_network",
            json!({"name": "n1", "subnet": "10.251.20.0/24", "gateway": null, "labels": ["a=b"]}),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            (n["name"].as_str(), n["gateway"].as_str(), n["isDefault"].as_bool()),
            (Some("n1"), Some("10.251.20.1"), Some(false))
        );
        let d = call("network_details", json!({"name": "n1"})).await.unwrap().unwrap();
        assert_eq!(d["members"], json!([]));
        assert_eq!(call("inspect_network", json!({"name": "n1"})).await.unwrap().unwrap()["labels"], json!({"a": "b"}));
        let all = call("list_networks", json!({})).await.unwrap().unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2, "n1 and the default: {all}");
        assert_eq!(call("remove_network", json!({"name": "n1"})).await.unwrap().unwrap(), Value::Null);
        assert_eq!(call("prune_networks", json!({})).await.unwrap().unwrap(), json!([]));
    }

    let settings = call("get_settings", json!({})).await.unwrap().unwrap();
    assert_eq!(settings["storageRoot"], w.dir.path().join("root").display().to_string());
    assert!(settings["registries"].is_array(), "{settings}");
    let e = call("terminal_input", json!({"session": "nosuch", "data": "x"})).await.unwrap().unwrap_err();
    assert_eq!(e["code"], "not_found");
    assert_eq!(call("close_terminal", json!({"session": "nosuch"})).await.unwrap().unwrap(), Value::Null);
    assert_eq!(call("stop_follow", json!({"subscription": "nosuch"})).await.unwrap().unwrap(), Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthchecks_through_tauri() {
    let w = World::new().await;
    w.pull_busybox().await;
    let check = berth_engine::container::health::HealthConfig {
        test: vec!["CMD".into(), "test".into(), "-f".into(), "/ready".into()],
        interval: Some(0),
        ..Default::default()
    };
    let opts = berth_engine::CreateOptions {
        name: Some("checked".into()),
        command: vec!["true".into()],
        healthcheck: Some(check),
        health_on_failure: berth_engine::container::health::OnFailure::Kill,
        ..Default::default()
    };
    w.engine.create_container(&w.busybox(), opts).unwrap();
    let plain =
        berth_engine::CreateOptions { name: Some("plain".into()), command: vec!["true".into()], ..Default::default() };
    w.engine.create_container(&w.busybox(), plain).unwrap();
    let (_app, window) = app(&w);
    let call = |cmd: &'static str, args: Value| {
        let window = window.clone();
        tokio::task::spawn_blocking(move || invoke(&window, cmd, args))
    };

    let h = call("container_health", json!({"id": "checked"})).await.unwrap().unwrap();
    assert_eq!(
        h,
        json!({"status": "starting", "failingStreak": 0,
            "check": {"command": {"form": "exec", "args": ["test", "-f", "/ready"]}, "intervalMs": null,
                "timeoutMs": 30000, "startPeriodMs": 0, "retries": 3},
            "onFailure": "kill", "log": []})
    );
    assert_eq!(call("container_health", json!({"id": "plain"})).await.unwrap().unwrap(), Value::Null);
    // Not running: no health in the row, and no check to run now.
    let rows = call("list_containers", json!({})).await.unwrap().unwrap();
    assert!(rows.as_array().unwrap().iter().all(|r| r["health"].is_null()), "{rows}");
    // Rows by id, what an event changed: the same row as the list's. A prefix, a name or an
    // id that is gone gives none.
    let plain = rows.as_array().unwrap().iter().find(|r| r["name"] == "plain").unwrap().clone();
    let id = plain["id"].as_str().unwrap().to_string();
    let some = call("container_rows", json!({"ids": [id, &id[..12], "plain", "0".repeat(64)]})).await.unwrap().unwrap();
    assert_eq!(some, json!([plain]));
    let e = call("run_healthcheck", json!({"id": "checked"})).await.unwrap().unwrap_err();
    assert_eq!(e["code"], "conflict", "{e}");
    let e = call("container_health", json!({"id": "nosuch"})).await.unwrap().unwrap_err();
    assert_eq!(e["code"], "not_found", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_images_and_containers_through_tauri() {
    let w = World::new().await;
    let id = w.pull_busybox().await;
    let (_app, window) = app(&w);
    let call = |cmd: &'static str, args: Value| {
        let window = window.clone();
        tokio::task::spawn_blocking(move || invoke(&window, cmd, args))
    };
    let out = w.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let archive = out.join("b.tar").display().to_string();
    let tarball = out.join("src.tar").display().to_string();

    let saved = call("save_image", json!({"id": id, "path": archive, "format": "oci-archive"})).await.unwrap();
    assert_eq!(saved, Ok(Value::Null));
    w.engine.remove_image(&id, false).unwrap();
    let loaded = call("load_image", json!({"path": archive})).await.unwrap().unwrap();
    // saved by id: loaded without a name, as Podman does
    assert_eq!(loaded, json!([{"id": id, "names": []}]));
    let opts =
        berth_engine::CreateOptions { name: Some("src".into()), command: vec!["true".into()], ..Default::default() };
    w.engine.create_container(&id, opts).unwrap();
    assert_eq!(call("export_container", json!({"id": "src", "path": tarball})).await.unwrap(), Ok(Value::Null));
    let img = call("import_image", json!({"path": tarball, "reference": "mine", "changes": ["CMD [\"sh\"]"]}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(img["names"], json!(["localhost/mine:latest"]));
    // optional arguments may be left out
    let nameless = call("import_image", json!({"path": tarball})).await.unwrap().unwrap();
    assert_eq!(nameless["names"], json!([]));
    let history = call("image_history", json!({"reference": "mine"})).await.unwrap().unwrap();
    assert_eq!(history[0]["emptyLayer"], false);
    let inspect = call("inspect_image", json!({"reference": "mine"})).await.unwrap().unwrap();
    assert_eq!(inspect["Config"]["Cmd"], json!(["sh"]));
    let e = call("save_image", json!({"id": id, "path": "rel.tar", "format": "docker-archive"})).await.unwrap();
    assert_eq!(e.unwrap_err()["code"], "invalid");
}
