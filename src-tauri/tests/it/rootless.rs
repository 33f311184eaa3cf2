//! The desktop app run by a regular user: the real `berth-desktop --serve` binary started as the
//! user berth-test (scripts/deps makes it, with sub-ids), managing that user's own containers.
//! The test process is root only to set the user's world up and tear it down.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const USER: &str = "berth-test";

/// The user's world: its home and runtime directory, and a copy of the binary it can run (the
/// build's may be under a directory it can't enter).
struct UserWorld {
    dir: tempfile::TempDir,
    uid: u32,
    gid: u32,
}

impl UserWorld {
    fn new(registry: &str) -> UserWorld {
        assert!(nix::unistd::geteuid().is_root(), "these tests set up a user's world and need root");
        let user = nix::unistd::User::from_name(USER)
            .unwrap()
            .unwrap_or_else(|| panic!("the user {USER} is missing: run scripts/deps (it makes it, with sub-ids)"));
        let subuid = std::fs::read_to_string("/etc/subuid").unwrap_or_default();
        assert!(
            subuid.lines().any(|l| l.starts_with(&format!("{USER}:"))),
            "{USER} has no range in /etc/subuid: run scripts/deps"
        );
        let dir = tempfile::Builder::new().prefix("berth-desktop-rootless-").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let w = UserWorld { dir, uid: user.uid.as_raw(), gid: user.gid.as_raw() };
        for d in ["bin", "home/.config/containers", "run"] {
            std::fs::create_dir_all(w.path(d)).unwrap();
        }
        std::fs::copy(env!("CARGO_BIN_EXE_berth-desktop"), w.path("bin/berth-desktop")).unwrap();
        std::fs::write(
            w.path("home/.config/containers/registries.conf"),
            format!("[[registry]]\nlocation = \"{registry}\"\ninsecure = true\n"),
        )
        .unwrap();
        for d in ["bin", "home", "home/.config", "home/.config/containers", "run"] {
            std::os::unix::fs::chown(w.path(d), Some(w.uid), Some(w.gid)).unwrap();
        }
        std::os::unix::fs::chown(w.path("home/.config/containers/registries.conf"), Some(w.uid), Some(w.gid)).unwrap();
        std::fs::set_permissions(w.path("run"), std::fs::Permissions::from_mode(0o700)).unwrap();
        w
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `berth-desktop ARGS` as the user, with a clean environment of its own.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            &self.uid.to_string(),
            "--regid",
            &self.gid.to_string(),
            "--init-groups",
            "--",
            "env",
            "-i",
        ])
        .arg(format!("HOME={}", self.path("home").display()))
        .arg(format!("XDG_RUNTIME_DIR={}", self.path("run").display()))
        .arg("PATH=/usr/local/bin:/usr/bin:/bin")
        .arg(self.path("bin/berth-desktop"))
        .args(args);
        c
    }
}

impl Drop for UserWorld {
    fn drop(&mut self) {
        // Every process of this world: monitors, helpers, pasta, the pause process.
        let marker = self.dir.path().as_os_str().as_encoded_bytes().to_vec();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let owned = entry.metadata().is_ok_and(|m| m.uid() == self.uid);
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let ours = [cmdline, environ].iter().any(|t| t.windows(marker.len()).any(|w| w == marker.as_slice()));
            if owned && ours {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Served {
    child: Child,
    addr: String,
    token: String,
}

impl Served {
    fn start(w: &UserWorld) -> Served {
        let mut child = w.command(&["--serve"]).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("Berth is serving on http://").unwrap_or_else(|| panic!("{line:?}"));
        let (addr, token) = url.split_once("/?token=").unwrap();
        Served { child, addr: addr.to_string(), token: token.to_string() }
    }

    async fn ok(&self, command: &str, args: Value) -> Value {
        let resp = reqwest::Client::new()
            .post(format!("http://{}/api/invoke/{command}", self.addr))
            .header("Authorization", format!("Bearer {}", self.token))
            .body(args.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert_eq!(status, 200, "{command} {args}: {body}");
        body
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn owner(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().uid()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_run_by_a_user_manages_that_users_containers() {
    let registry = berth_testkit::Registry::start().expect("starting docker-registry (scripts/deps installs it)");
    berth_testkit::push_image(registry.addr(), None, "busybox:1", &berth_testkit::busybox_image().unwrap())
        .await
        .unwrap();
    let w = UserWorld::new(registry.addr());
    let s = Served::start(&w);

    // Its storage is the user's: under its XDG directories, owned by it.
    let info = s.ok("engine_info", json!({})).await;
    let root = w.path("home/.local/share/berth");
    assert_eq!(info["root"].as_str(), Some(root.to_str().unwrap()), "{info}");
    assert_eq!(info["runRoot"].as_str(), Some(w.path("run/berth").to_str().unwrap()), "{info}");

    let image = format!("{}/busybox:1", registry.addr());
    s.ok("pull_image", json!({"reference": image, "onProgress": "p"})).await;
    assert_eq!(owner(&root.join("state.db")), w.uid);

    let port =
        berth_engine::network::ports::free_port(None, berth_engine::network::ports::Protocol::Tcp, None, &[]).unwrap();
    let c = s
        .ok(
            "create_container",
            json!({"request": {
                "image": image, "name": "site", "entrypoint": null, "env": [], "envFile": null,
                "command": ["sh", "-c", "mkdir -p /www && id -u > /www/uid && exec httpd -f -p 8080 -h /www"],
                "ports": [{"hostIp": "127.0.0.1", "hostPort": port, "containerPort": 8080, "protocol": "tcp"}],
                "restart": "no", "remove": false, "start": true, "volumes": ["sitedata:/data"],
            }}),
        )
        .await;
    assert_eq!(c["status"], "running", "{c}");

    // Root in the container, served on the user's published port (through pasta).
    let url = format!("http://127.0.0.1:{port}/uid");
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        match reqwest::get(&url).await {
            Ok(r) if r.status() == 200 => break r.text().await.unwrap(),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("{url}: {other:?}"),
        }
    };
    assert_eq!(body.trim(), "0");
    // The container's root is the user on the host; its processes are the user's.
    let inspect = s.ok("inspect_container", json!({"id": "site"})).await;
    let pid = inspect["State"]["Pid"].as_i64().unwrap();
    assert_eq!(std::fs::metadata(format!("/proc/{pid}")).unwrap().uid(), w.uid);

    let stats = s.ok("container_stats", json!({})).await;
    assert_eq!(stats.as_array().unwrap().len(), 1, "{stats}");
    assert!(stats[0]["memUsage"].as_u64().unwrap() > 0, "without a cgroup, read from its processes: {stats}");

    let stopped = s.ok("stop_container", json!({"id": "site", "timeout": 1})).await;
    assert_eq!(stopped["status"], "exited", "{stopped}");
    assert_eq!(s.ok("remove_container", json!({"id": "site", "force": false})).await, Value::Null);
    assert_eq!(s.ok("list_containers", json!({})).await, json!([]));
    assert!(
        !root.join("containers").read_dir().is_ok_and(|mut d| d.next().is_some()),
        "the container's files, owned by the user's namespace, are gone"
    );
}
