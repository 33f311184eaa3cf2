//! The networks commands against a real engine (root: the engine makes no bridge network for a
//! regular user): create with the form's fields, the list's members and DNS, a network's
//! members by address and its inspect object, the refusals (in use, the default network).

use std::collections::BTreeMap;

use berth_desktop::commands::{self as c};
use berth_engine::CreateOptions;

use crate::World;

fn on(network: &str, name: &str, compose_service: &str) -> CreateOptions {
    let labels = BTreeMap::from([
        ("com.docker.compose.project".to_string(), "demo".to_string()),
        ("com.docker.compose.service".to_string(), compose_service.to_string()),
    ]);
    CreateOptions {
        name: Some(name.into()),
        command: vec!["true".into()],
        network: Some(network.into()),
        labels,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn networks_from_create_to_remove() {
    assert!(nix::unistd::geteuid().is_root(), "bridge networks need root: run these tests as root");
    let w = World::new().await;
    w.pull_busybox().await;
    let b = w.backend();

    let args = |name: &str, subnet: &str, gateway: &str| c::CreateNetworkArgs {
        name: name.into(),
        subnet: Some(subnet.into()),
        gateway: Some(gateway.into()),
        labels: vec!["team=web".into(), " ".into()],
        internal: false,
        ipv6: false,
    };
    let backend = c::create_network(&b, args(" backend ", "10.251.7.0/24", "10.251.7.254")).await.unwrap();
    assert_eq!(
        (backend.name.as_str(), backend.subnet.as_str(), backend.gateway.as_str(), backend.dns, backend.is_default),
        ("backend", "10.251.7.0/24", "10.251.7.254", true, false)
    );
    assert_eq!(backend.labels, BTreeMap::from([("team".to_string(), "web".to_string())]));
    assert_eq!(backend.members, 0);

    // The engine's refusals reach the form as they are.
    let e = c::create_network(&b, args("backend", "10.251.8.0/24", "")).await.unwrap_err();
    assert_eq!(e.code, "conflict");
    assert!(e.message.contains("backend"), "{e}");
    let e = c::create_network(&b, args("other", "10.251.7.128/25", "")).await.unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("invalid", "subnet 10.251.7.128/25 overlaps network backend's 10.251.7.0/24: choose another --subnet")
    );
    let e = c::create_network(&b, args("other", "10.251.9.0/24", "10.251.10.1")).await.unwrap_err();
    assert_eq!(e.message, "gateway 10.251.10.1 is not a host address of 10.251.9.0/24");
    let e = c::create_network(&b, args("bad name", "", "")).await.unwrap_err();
    assert_eq!(e.code, "invalid");

    // Two containers on it (created, not started: the address is theirs from create on).
    let web = w.engine.create_container(&w.busybox(), on("backend", "demo_web_1", "web")).unwrap();
    w.engine.create_container(&w.busybox(), on("backend", "demo_db_1", "db")).unwrap();
    w.engine
        .create_container(
            &w.busybox(),
            CreateOptions { name: Some("plain".into()), command: vec!["true".into()], ..Default::default() },
        )
        .unwrap();

    let list = c::list_networks(&b).await.unwrap();
    let row = |name: &str| list.iter().find(|n| n.name == name).unwrap_or_else(|| panic!("{name} in {list:?}"));
    assert_eq!((row("backend").members, row("backend").dns), (2, true));
    assert_eq!((row("berth").members, row("berth").dns, row("berth").is_default), (1, false, true));

    let d = c::network_details(&b, c::NetworkArgs { name: "backend".into() }).await.unwrap();
    let members: Vec<(&str, &str)> = d.members.iter().map(|m| (m.name.as_str(), m.address.as_str())).collect();
    assert_eq!(members, [("demo_web_1", "10.251.7.1"), ("demo_db_1", "10.251.7.2")]);
    assert_eq!(d.members[0].id, web.id);
    let by_id = c::network_details(&b, c::NetworkArgs { name: backend.id.clone() }).await.unwrap();
    assert_eq!(by_id, d);

    let inspect = c::inspect_network(&b, c::NetworkArgs { name: "backend".into() }).await.unwrap();
    assert_eq!(inspect["dns_enabled"], true);
    assert_eq!(inspect["containers"][&web.id]["name"], "demo_web_1");
    assert_eq!(inspect["containers"][&web.id]["interfaces"]["eth0"]["subnets"][0]["ipnet"], "10.251.7.1/24");

    // The list's rows carry the compose project and service.
    let rows = c::list_containers(&b).await.unwrap();
    let mut composed: Vec<(&str, Option<&str>, Option<&str>)> =
        rows.iter().map(|r| (r.name.as_str(), r.compose_project.as_deref(), r.compose_service.as_deref())).collect();
    composed.sort();
    assert_eq!(
        composed,
        [("demo_db_1", Some("demo"), Some("db")), ("demo_web_1", Some("demo"), Some("web")), ("plain", None, None)]
    );

    let e = c::remove_network(&b, c::NetworkArgs { name: "backend".into() }).await.unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("conflict", "network backend is used by container(s) demo_web_1, demo_db_1: remove them first")
    );
    let e = c::remove_network(&b, c::NetworkArgs { name: "berth".into() }).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.message.as_str()), ("invalid", "default network berth cannot be removed"));
    let e = c::remove_network(&b, c::NetworkArgs { name: "nosuch".into() }).await.unwrap_err();
    assert_eq!(e.code, "not_found");

    // Pruned only once its containers are gone; the default network stays.
    let spare = c::create_network(&b, c::CreateNetworkArgs { name: "spare".into(), ipv6: true, ..Default::default() })
        .await
        .unwrap();
    assert!(spare.subnet.ends_with("/24"), "{spare:?}");
    assert!(spare.subnet6.starts_with("fd") && spare.subnet6.ends_with("::/64"), "the IPv6 box: {spare:?}");
    assert_eq!(c::prune_networks(&b).await.unwrap(), ["spare"]);
    for name in ["demo_web_1", "demo_db_1"] {
        w.engine.remove_container(name, true).unwrap();
    }
    c::remove_network(&b, c::NetworkArgs { name: "backend".into() }).await.unwrap();
    let names: Vec<String> = c::list_networks(&b).await.unwrap().into_iter().map(|n| n.name).collect();
    assert_eq!(names, ["berth"]);
}
