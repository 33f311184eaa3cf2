//! The engine as a library, against a real registry on loopback: what the desktop app relies on
//! (progress on a per-call channel and on the event bus, the events file, concurrent pulls in
//! one process).

mod layering;

use berth_engine::registry::config::RegistryEntry;
use berth_engine::{AuthFiles, Engine, EngineConfig, Event, LayerPhase, PullOptions, PullProgress, RegistriesConfig};
use berth_testkit::{Compression, ImageSpec, LayerBuilder, Registry};

fn engine(registry: &Registry, dir: &std::path::Path) -> Engine {
    let registries = RegistriesConfig {
        registries: vec![RegistryEntry { location: registry.addr().into(), insecure: true, ..Default::default() }],
        ..Default::default()
    };
    let config = EngineConfig {
        root: dir.join("root"),
        run_root: dir.join("run"),
        registries,
        auth: AuthFiles { explicit: Some(dir.join("auth.json")) },
        network: Default::default(),
        record_events: true,
    };
    Engine::open(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_reports_progress_and_records_events() {
    let registry = Registry::start().unwrap();
    let spec = berth_testkit::busybox_image().unwrap();
    let pushed = berth_testkit::push_image(registry.addr(), None, "busybox:1", &spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&registry, dir.path());
    let mut bus = engine.events().subscribe();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reference = format!("{}/busybox:1", registry.addr());

    let image =
        engine.pull(&reference, PullOptions { platform: None, progress: Some(tx), cancel: None }).await.unwrap();
    assert_eq!(image.id, &pushed.config_digest[7..]);
    assert_eq!(image.names, vec![reference.clone()]);

    let mut seen = Vec::new();
    while let Ok(p) = rx.try_recv() {
        seen.push(p);
    }
    assert!(matches!(&seen[0], PullProgress::Resolved { layers, .. } if layers.len() == 1), "{seen:?}");
    assert!(matches!(seen.last().unwrap(), PullProgress::Done { image_id, .. } if *image_id == image.id));
    let phases: Vec<LayerPhase> = seen
        .iter()
        .filter_map(|p| match p {
            PullProgress::Layer { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect();
    for phase in [LayerPhase::Waiting, LayerPhase::Downloading, LayerPhase::Verifying, LayerPhase::Done] {
        assert!(phases.contains(&phase), "{phase:?} in {phases:?}");
    }
    let mut on_bus = 0;
    let mut pulled = false;
    while let Ok(ev) = bus.try_recv() {
        match ev {
            Event::Pull(_) => on_bus += 1,
            Event::State(s) => pulled |= s.kind == "image" && s.action == "pull" && s.id == image.id,
        }
    }
    assert_eq!(on_bus, seen.len(), "the bus carries the same progress");
    assert!(pulled, "a state event for the pull");

    // another process (the app) reads what happened from the events file
    let (events, _) = engine.events().read_since(0).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].action.as_str(), events[0].name.as_deref()), ("pull", Some(reference.as_str())));
    engine.remove_image(&reference, false).unwrap();
    let (events, _) = engine.events().read_since(0).unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["pull", "untag", "remove"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pulls_in_one_process_share_layers() {
    let registry = Registry::start().unwrap();
    let base = berth_testkit::busybox_rootfs().unwrap().build();
    let mut specs = Vec::new();
    for i in 0..4 {
        let mut top = LayerBuilder::new();
        top.file("which", format!("{i}"), 0o644);
        specs.push(ImageSpec::new().layer(base.clone(), Compression::Gzip).layer(top.build(), Compression::Zstd));
    }
    for (i, spec) in specs.iter().enumerate() {
        berth_testkit::push_image(registry.addr(), None, &format!("app:{i}"), spec).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&registry, dir.path());
    let pulls = (0..4).map(|i| {
        let engine = engine.clone();
        let reference = format!("{}/app:{i}", registry.addr());
        tokio::spawn(async move { engine.pull(&reference, PullOptions::default()).await })
    });
    for p in futures_util::future::join_all(pulls).await {
        p.unwrap().unwrap();
    }
    let images = engine.images().unwrap();
    assert_eq!(images.len(), 4);
    let layers: std::collections::BTreeSet<String> =
        images.iter().flat_map(|i| i.layers.iter().map(|l| l.chain_id.clone())).collect();
    assert_eq!(layers.len(), 5, "one shared base and four tops");
    let dirs = std::fs::read_dir(dir.path().join("root/layers")).unwrap().count();
    assert_eq!(dirs, 5);
}
