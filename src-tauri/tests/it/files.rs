//! The Files tabs and Clone/Edit through the real `berth-desktop --serve` binary on real
//! containers (root only): a running container's files read through its root and a stopped
//! one's through its layers, links as links, a too-big file refused, a download and an upload
//! through the engine's copy helper; a clone laid over the recorded options, an edit that
//! replaces, and one whose create fails leaving the old container as it was.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::containers::Served;
use crate::World;

fn source(name: &str) -> Value {
    json!({"kind": "container", "name": name})
}

fn names(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["kind"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_containers_files_running_and_stopped() {
    assert!(nix::unistd::geteuid().is_root(), "these tests run real containers and need root");
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let script = "ln -s /etc/shadow-of-the-host /tmp/out; ln -s ../../../etc /tmp/up; \
                  dd if=/dev/zero of=/tmp/big bs=1024 count=1100 2>/dev/null; touch /tmp/ready; exec sleep 100";
    let req = json!({"request": {"image": w.busybox(), "name": "files", "command": ["sh", "-c", script],
        "entrypoint": null, "ports": [], "env": [], "envFile": null, "restart": "no", "remove": false, "start": true}});
    s.ok("create_container", req).await;
    let at = |path: &str| json!({"source": source("files"), "path": path});
    for _ in 0..100 {
        if s.call("read_file", at("/tmp/ready")).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let root = names(&s.ok("list_files", at("/")).await);
    let first_file = root.iter().position(|(_, k)| k != "dir").unwrap_or(root.len());
    assert!(root[..first_file].iter().any(|(n, _)| n == "etc"), "directories first: {root:?}");
    let etc = s.ok("list_files", at("/etc")).await;
    let passwd = etc.as_array().unwrap().iter().find(|e| e["name"] == "passwd").unwrap();
    assert_eq!((passwd["kind"].as_str(), passwd["user"].as_str()), (Some("file"), Some("root")), "{passwd}");
    let text = s.ok("read_file", at("/etc/passwd")).await;
    assert!(text["text"].as_str().unwrap().starts_with("root:x:0:0:"), "{text}");

    // links are links, and resolve inside the container
    let tmp = s.ok("list_files", at("/tmp")).await;
    let out = tmp.as_array().unwrap().iter().find(|e| e["name"] == "out").unwrap();
    assert_eq!((out["kind"].as_str(), out["linkTarget"].as_str()), (Some("link"), Some("/etc/shadow-of-the-host")));
    let (status, e) = s.call("read_file", at("/tmp/out")).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");
    assert!(names(&s.ok("list_files", at("/tmp/up")).await).contains(&("passwd".into(), "file".into())));
    let (status, e) = s.call("read_file", at("/tmp/big")).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (413, Some("too_large")), "{e}");
    let (status, _) = s.call("list_files", at("/no/such")).await.unwrap_err();
    assert_eq!(status, 404);

    // download through the copy helper; upload into /tmp, owned as `berth cp` would make it
    let d = s.ok("download_files", at("/etc/passwd")).await;
    assert_eq!(d["fileName"], "passwd.tar");
    let tar = base64::engine::general_purpose::STANDARD.decode(d["dataBase64"].as_str().unwrap()).unwrap();
    let mut archive = tar::Archive::new(&tar[..]);
    let entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.path().unwrap().to_str(), Some("passwd"));
    let up = json!({"source": source("files"), "path": "/tmp", "name": "hello.txt",
        "dataBase64": base64::engine::general_purpose::STANDARD.encode("uploaded\n")});
    s.ok("upload_file", up).await;
    assert_eq!(s.ok("read_file", at("/tmp/hello.txt")).await["text"], "uploaded\n");
    // beyond axum's default 2 MB body, within the 16 MiB cap; above the cap refused
    let upload = |name: &str, len: usize| {
        json!({"source": source("files"), "path": "/tmp", "name": name,
            "dataBase64": base64::engine::general_purpose::STANDARD.encode(vec![b'x'; len])})
    };
    s.ok("upload_file", upload("three-mib", 3 << 20)).await;
    let tmp = s.ok("list_files", at("/tmp")).await;
    assert_eq!(tmp.as_array().unwrap().iter().find(|e| e["name"] == "three-mib").unwrap()["size"], 3 << 20);
    let (status, e) = s.call("upload_file", upload("too-big", 17 << 20)).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (413, Some("too_large")), "{e}");

    // stopped: its writable layer over the image, the same files
    s.ok("stop_container", json!({"id": "files", "timeout": 0})).await;
    assert_eq!(s.ok("read_file", at("/tmp/hello.txt")).await["text"], "uploaded\n");
    let tmp = names(&s.ok("list_files", at("/tmp")).await);
    assert!(tmp.contains(&("out".into(), "link".into())), "{tmp:?}");
    let (_, e) = s.call("read_file", at("/tmp/out")).await.unwrap_err();
    assert_eq!(e["code"], "not_found", "never the host's file: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_and_edit_a_container() {
    assert!(nix::unistd::geteuid().is_root(), "these tests run real containers and need root");
    let w = World::new().await;
    w.pull_busybox().await;
    let s = Served::start(&w);
    let req = json!({"request": {"image": w.busybox(), "name": "src", "command": ["sleep", "100"],
        "entrypoint": null, "ports": [{"hostIp": "", "hostPort": 18094, "containerPort": 80, "protocol": "tcp"}],
        "env": ["GREETING=hi"], "envFile": null, "restart": "always", "remove": false, "start": false,
        "volumes": ["data:/data"], "labels": ["tier=web"]}});
    let src = s.ok("create_container", req).await;

    let form = s.ok("container_create_request", json!({"id": "src"})).await;
    assert_eq!(form["name"], "src-copy");
    assert_eq!(form["ports"][0]["hostPort"], 18094);
    assert_eq!((form["env"].clone(), form["volumes"].clone()), (json!(["GREETING=hi"]), json!(["data:/data"])));
    assert_eq!((form["restart"].as_str(), form["labels"].clone()), (Some("always"), json!(["tier=web"])));
    assert_eq!(form["command"], json!(["sleep", "100"]));
    let clone = s.ok("create_container", json!({"request": form, "base": src["id"]})).await;
    let inspect = s.ok("inspect_container", json!({"id": "src-copy"})).await;
    assert_eq!(inspect["Id"], clone["id"]);
    assert!(inspect["Config"]["Env"].as_array().unwrap().contains(&json!("GREETING=hi")), "{inspect}");
    assert_eq!(inspect["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "18094", "{}", inspect["HostConfig"]);

    // Edit: replaced under its name
    let mut form = s.ok("container_create_request", json!({"id": "src", "edit": true})).await;
    assert_eq!(form["name"], "src");
    form["env"] = json!(["GREETING=edited"]);
    let edited = s.ok("create_container", json!({"request": form, "base": "src", "replace": true})).await;
    assert_eq!(edited["name"], "src");
    assert_ne!(edited["id"], src["id"]);
    let inspect = s.ok("inspect_container", json!({"id": "src"})).await;
    assert!(inspect["Config"]["Env"].as_array().unwrap().contains(&json!("GREETING=edited")), "{inspect}");
    let list = s.ok("list_containers", json!({})).await;
    let mut all: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    all.sort();
    assert_eq!(all, ["src", "src-copy"]);

    // An edit whose create fails leaves the old container as it was
    form["image"] = json!("127.0.0.1:1/no/such:image");
    let (_, e) =
        s.call("create_container", json!({"request": form, "base": "src", "replace": true})).await.unwrap_err();
    assert_eq!(e["code"], "not_found", "{e}");
    assert_eq!(s.ok("inspect_container", json!({"id": "src"})).await["Id"], edited["id"]);
    assert_eq!(s.ok("list_containers", json!({})).await.as_array().unwrap().len(), 2);

    // A running container is not edited
    s.ok("start_container", json!({"id": "src"})).await;
    form["image"] = json!(w.busybox());
    let (status, e) =
        s.call("create_container", json!({"request": form, "base": "src", "replace": true})).await.unwrap_err();
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")), "{e}");
    s.ok("remove_container", json!({"id": "src", "force": true})).await;
}
