//! End-to-end tests of the `berth` command against a real registry (Debian's docker-registry on
//! loopback) with images built from Debian's busybox-static and from generated layers.
//!
//! Most tests need root (device nodes, owners, trusted.* xattrs): they fail loudly without it.

mod api_harden;
mod archive;
mod auth;
mod build;
mod check;
mod commit;
mod completion;
mod containers;
mod copy;
mod crash;
mod dns;
mod docker_api;
mod errors;
mod exec;
mod health;
mod hostile;
mod hostile_files;
mod images;
mod kube;
mod multinet;
mod network;
mod podman_cli;
mod pods;
mod pull;
mod push;
mod restart;
mod rootless;
mod security;
mod soak;
mod stack;
mod stats;
mod terminal;
mod volumes;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use berth_testkit::Registry;

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

static WORLDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One test's world: a registry, a storage root, a home with its own auth and config files.
pub struct World {
    pub registry: Registry,
    pub dir: tempfile::TempDir,
}

impl World {
    #[allow(clippy::new_without_default)]
    pub fn new() -> World {
        Self::with_registry(Registry::start().expect("starting docker-registry"))
    }

    pub fn with_registry(registry: Registry) -> World {
        assert!(nix_is_root(), "these tests need root (device nodes, owners, trusted xattrs): run them as root");
        let dir = tempfile::Builder::new().prefix("berth-it-").tempdir().unwrap();
        for d in ["home", "run", "root"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let w = World { registry, dir };
        w.set_insecure(&[w.registry.addr()]);
        // A default network of its own (bridge and subnet), so worlds running at once never
        // share addresses.
        let n = WORLDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // And user networks of its own: a network removed in one world takes its bridge with
        // it, which must not be another world's.
        let config = format!(
            "[network]\ndefault_bridge = \"{}\"\ndefault_subnet = \"10.{}.{}.0/24\"\nbridge_prefix = \"bt{}n{}b\"\nsubnet_pool = \"10.{}.{}.0/21\"\n",
            w.bridge_name(n),
            200 + std::process::id() % 50,
            n % 256,
            std::process::id() % 10000,
            n % 100,
            150 + std::process::id() % 50,
            (n % 32) * 8,
        );
        std::fs::write(w.dir.path().join("berth.toml"), config).unwrap();
        std::fs::write(w.dir.path().join("bridge"), w.bridge_name(n)).unwrap();
        w
    }

    fn bridge_name(&self, n: usize) -> String {
        format!("bt{}x{n}", std::process::id() % 10000)
    }

    /// The bridge of this world's default network.
    pub fn bridge(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bridge")).unwrap()
    }

    pub fn set_insecure(&self, hosts: &[&str]) {
        let conf: String =
            hosts.iter().map(|h| format!("[[registry]]\nlocation = \"{h}\"\ninsecure = true\n")).collect();
        std::fs::write(self.registries_conf(), conf).unwrap();
    }

    pub fn registries_conf(&self) -> PathBuf {
        self.dir.path().join("registries.conf")
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn image_ref(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.registry.addr())
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BERTH);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .env("CONTAINERS_REGISTRIES_CONF", self.registries_conf())
            .env("BERTH_ROOT", self.root())
            .env("BERTH_CONFIG", self.dir.path().join("berth.toml"));
        c
    }

    pub fn berth(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("running berth")
    }

    /// Runs berth and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        assert!(
            out.status.success(),
            "berth {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs berth and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        assert!(!out.status.success(), "berth {args:?} should have failed:\n{}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stderr).unwrap()
    }

    pub fn push(&self, repo_tag: &str, spec: &berth_testkit::ImageSpec) -> berth_testkit::PushedImage {
        block_on(berth_testkit::push_image(self.registry.addr(), self.registry.credentials(), repo_tag, spec))
            .expect("pushing a test image")
    }

    pub fn push_busybox(&self, repo_tag: &str) -> berth_testkit::PushedImage {
        self.push(repo_tag, &berth_testkit::busybox_image().unwrap())
    }

    /// The unpacked directory of a layer, by chain id.
    pub fn layer_dir(&self, chain_id: &str) -> PathBuf {
        self.root().join("layers").join(chain_id.trim_start_matches("sha256:")).join("diff")
    }

    pub fn layer_dirs(&self) -> Vec<String> {
        list_dir(&self.root().join("layers")).into_iter().filter(|n| !n.starts_with('.')).collect()
    }

    pub fn blobs(&self) -> Vec<String> {
        list_dir(&self.root().join("blobs/sha256"))
    }
}

/// A failed test still stops and removes its containers (processes, cgroups, monitors).
impl Drop for World {
    fn drop(&mut self) {
        if self.root().join("state.db").exists() {
            let _ = self.berth(&["rm", "--all", "--force"]);
            let networks = self.berth(&["network", "ls", "-q"]);
            for name in String::from_utf8_lossy(&networks.stdout).lines().filter(|n| *n != "berth") {
                let _ = self.berth(&["network", "rm", "-f", name]);
            }
            let _ =
                Command::new("ip").args(["link", "del", &self.bridge()]).stderr(std::process::Stdio::null()).status();
        }
        // The root's run state, beneath /run/berth (the directory itself goes with `dir`).
        let _ = std::fs::remove_dir_all(berth_engine::EngineConfig::run_root_of(&self.root()));
    }
}

pub fn list_dir(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(p) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Chain ids of a stack of diff ids, computed independently of the engine.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(p) => berth_testkit::sha256_digest(format!("{p} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}
