//! The pods commands against a real engine (root: a pod's infra container runs): create with
//! the form's fields, the list's state and containers, a member's row with its pod's name and
//! ports, the infra container marked, the engine's refusals, remove; start and stop through the
//! real `berth-desktop --serve` (a container's monitor re-executes the running binary).

use berth_desktop::commands::{self as c};
use berth_desktop::dto::PodSummary;
use berth_engine::CreateOptions;
use serde_json::json;

use crate::containers::Served;
use crate::World;

fn member(pod: &str, name: &str) -> CreateOptions {
    CreateOptions {
        name: Some(name.into()),
        // pid 1 ignores SIGTERM without a handler: this one ends on it at once.
        command: vec!["sh".into(), "-c".into(), "trap 'exit 0' TERM; sleep 600 & wait".into()],
        pod: Some(pod.into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_from_create_to_remove() {
    assert!(nix::unistd::geteuid().is_root(), "a pod's infra container runs as root here: run these tests as root");
    let w = World::new().await;
    let port = std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port();
    w.pull_busybox().await;
    let b = w.backend();

    let args = c::CreatePodArgs {
        name: " shop ".into(),
        labels: vec!["team=web".into()],
        ports: vec![format!("{port}:80")],
        share: "".into(),
        hostname: "box".into(),
    };
    let shop = c::create_pod(&b, args).await.unwrap();
    assert_eq!((shop.name.as_str(), shop.state.as_str(), shop.containers), ("shop", "Created", 1));
    assert_eq!(shop.labels.get("team").map(String::as_str), Some("web"));
    let infra_id = shop.infra_id.clone().expect("an infra container");
    assert_eq!((shop.members[0].id.as_str(), shop.members[0].infra), (infra_id.as_str(), true));

    // The engine's refusals reach the form as they are.
    let e = c::create_pod(&b, c::CreatePodArgs { name: "shop".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code, "conflict");
    assert!(e.message.contains("\"shop\" is already in use"), "{e}");
    let e = c::create_pod(&b, c::CreatePodArgs { share: "mnt".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code, "invalid");
    let e = c::inspect_pod(&b, c::PodArgs { name: "nope".into() }).await.unwrap_err();
    assert_eq!(e.code, "not_found");

    let app = w.engine.create_container(&w.busybox(), member("shop", "app")).unwrap();
    w.engine.create_container(&w.busybox(), member(&shop.id, "job")).unwrap();

    // The rows: a member carries its pod's name, the infra container is marked.
    let rows = c::list_containers(&b).await.unwrap();
    let row = |id: &str| rows.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("{id} in {rows:?}"));
    assert_eq!(
        (row(&app.id).pod_name.as_deref(), row(&app.id).pod.as_deref(), row(&app.id).pod_infra),
        (Some("shop"), Some(shop.id.as_str()), false)
    );
    assert_eq!((row(&infra_id).pod_name.as_deref(), row(&infra_id).pod_infra), (Some("shop"), true));
    // A member shows the pod's ports, which its infra container publishes.
    let ports: Vec<(u16, u16)> = row(&app.id).ports.iter().map(|p| (p.host_port, p.container_port)).collect();
    assert_eq!(ports, [(port, 80)]);

    let served = Served::start(&w);
    let started: PodSummary = serde_json::from_value(served.ok("start_pod", json!({"name": "shop"})).await).unwrap();
    assert_eq!((started.state.as_str(), started.containers), ("Running", 3));
    let listed = c::list_pods(&b).await.unwrap();
    assert_eq!(listed.len(), 1);
    let names: Vec<(&str, bool)> = listed[0].members.iter().map(|m| (m.name.as_str(), m.infra)).collect();
    assert!(names[0].1, "the infra container first: {names:?}");
    assert_eq!(names.iter().filter(|(_, infra)| !infra).count(), 2);
    let inspected = c::inspect_pod(&b, c::PodArgs { name: shop.id[..12].into() }).await.unwrap();
    assert_eq!((inspected["Name"].as_str(), inspected["Hostname"].as_str()), (Some("shop"), Some("box")));
    assert_eq!(inspected["NumContainers"], 3);
    let info = c::engine_info(&b).await.unwrap();
    assert_eq!((info.containers_total, info.containers_running), (2, 2), "infra containers are not counted");

    // Removing a running pod needs force; prune leaves a running one.
    let e = c::remove_pod(&b, c::RemovePodArgs { name: "shop".into(), force: false }).await.unwrap_err();
    assert_eq!(e.code, "conflict");
    assert!(c::prune_pods(&b).await.unwrap().is_empty());
    let stopped: PodSummary = serde_json::from_value(served.ok("stop_pod", json!({"name": "shop"})).await).unwrap();
    assert_eq!(stopped.state.as_str(), "Exited");
    c::remove_pod(&b, c::RemovePodArgs { name: "shop".into(), force: false }).await.unwrap();
    assert!(c::list_pods(&b).await.unwrap().is_empty());
    assert!(c::list_containers(&b).await.unwrap().is_empty(), "its containers went with it");
}
