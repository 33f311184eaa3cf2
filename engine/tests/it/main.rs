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

/// A TCP proxy to `target` whose answers come at about 1 MB a second: a pull through it is
/// still downloading a large layer when a test looks.
fn slow_proxy(target: &str) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let target = target.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(upstream) = TcpStream::connect(&target) else { continue };
            let (mut c_in, mut u_out) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut u_out);
            });
            let (mut u_in, mut c_out) = (upstream, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 64 * 1024];
                while let Ok(n) = u_in.read(&mut buf) {
                    if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(60));
                }
                let _ = c_out.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_pull_stops_at_once_and_leaves_no_partial_download() {
    let registry = Registry::start().unwrap();
    // 8 MB that do not compress, in one layer.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..8_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut layer = LayerBuilder::new();
    layer.file("noise", noise, 0o644);
    let spec = ImageSpec::new().layer(layer.build(), Compression::Gzip);
    berth_testkit::push_image(registry.addr(), None, "big:1", &spec).await.unwrap();
    let proxy = slow_proxy(registry.addr());
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        root: dir.path().join("root"),
        run_root: dir.path().join("run"),
        registries: RegistriesConfig {
            registries: vec![RegistryEntry { location: proxy.clone(), insecure: true, ..Default::default() }],
            ..Default::default()
        },
        auth: AuthFiles { explicit: Some(dir.path().join("auth.json")) },
        network: Default::default(),
        record_events: true,
    };
    let engine = Engine::open(config).unwrap();
    let ingest = dir.path().join("root/ingest");
    let partial = move || -> Vec<(String, u64)> {
        std::fs::read_dir(&ingest)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".data"))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().len()))
            .collect()
    };

    let cancel = berth_engine::PullCancel::default();
    let pull = tokio::spawn({
        let (engine, cancel) = (engine.clone(), cancel.clone());
        let reference = format!("{proxy}/big:1");
        async move { engine.pull(&reference, PullOptions { cancel: Some(cancel), ..Default::default() }).await }
    });
    let started = std::time::Instant::now();
    while !partial().iter().any(|(_, len)| *len > 0) {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the download never began");
        assert!(!pull.is_finished(), "the pull ended before it was cancelled");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let cancelled_at = std::time::Instant::now();
    cancel.cancel();
    let err = pull.await.unwrap().unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    // At once: not after the rest of the 8 MB came through the proxy.
    assert!(cancelled_at.elapsed() < std::time::Duration::from_secs(3), "{:?}", cancelled_at.elapsed());
    assert_eq!(partial(), vec![], "no partial download to resume");
    let staged: Vec<_> = std::fs::read_dir(dir.path().join("root/layers"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .map(|e| e.file_name())
        .collect();
    assert_eq!(staged, Vec::<std::ffi::OsString>::new(), "no staged layer");
    assert!(engine.images().unwrap().is_empty());
}
