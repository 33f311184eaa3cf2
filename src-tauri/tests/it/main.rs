//! berth-desktop's integration tests: the Tauri commands through Tauri's mock runtime, the
//! HTTP mode in-process (token, static files, the event stream, pull progress and followed
//! logs on channels), what it lets in (Host, Origin, the token's cookie, TLS beyond loopback), the logs commands on generated logs, volumes, networks, pods and settings, and the real
//! `berth-desktop --serve` binary running real containers (root only): terminals, followed
//! output.
//!
//! Images come from Debian's busybox-static, pushed to Debian's docker-registry on loopback
//! (berth-testkit), then pulled into a temporary engine root.

mod archive;
mod containers;
mod files;
mod guard;
mod http;
mod ipc;
mod logs;
mod networks;
mod play;
mod pods;
mod rootless;
mod settings;

use std::sync::Arc;

use berth_desktop::commands::Backend;
use berth_engine::registry::config::RegistryEntry;
use berth_engine::{AuthFiles, Engine, EngineConfig, PullOptions};
use berth_testkit::Registry;

/// One test's world: a registry with busybox in it, and an engine in a temporary root.
pub struct World {
    pub registry: Registry,
    pub dir: tempfile::TempDir,
    pub engine: Engine,
}

impl World {
    pub async fn new() -> World {
        let registry = Registry::start().expect("starting docker-registry (scripts/deps installs it)");
        let dir = tempfile::Builder::new().prefix("berth-desktop-it-").tempdir().unwrap();
        let mut config = EngineConfig::new(dir.path().join("root"), dir.path().join("run")).unwrap();
        config.registries.registries =
            vec![RegistryEntry { location: registry.addr().into(), insecure: true, ..Default::default() }];
        config.auth = AuthFiles { explicit: Some(dir.path().join("auth.json")) };
        let engine = Engine::open(config).unwrap();
        let w = World { registry, dir, engine };
        berth_testkit::push_image(w.registry.addr(), None, "busybox:1", &berth_testkit::busybox_image().unwrap())
            .await
            .unwrap();
        w
    }

    pub fn busybox(&self) -> String {
        format!("{}/busybox:1", self.registry.addr())
    }

    /// Pulls busybox into the engine; returns its image id.
    pub async fn pull_busybox(&self) -> String {
        self.engine.pull(&self.busybox(), PullOptions::default()).await.unwrap().id
    }

    pub fn backend(&self) -> Arc<Backend> {
        Arc::new(Backend::new(self.engine.clone()))
    }
}
