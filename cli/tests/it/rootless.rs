//! Rootless mode, end to end: every `berth` command of these tests runs as the regular user
//! `berth-test` (made by `scripts/deps`, with a range in /etc/subuid and /etc/subgid), while the
//! test itself stays root to build the world, push images and look at the files on disk.
//!
//! Each test has a world of its own ([`RootlessWorld`]): a registry, and a home, data, runtime
//! and config directory owned by the user, so the user's default paths are the world's
//! (`$XDG_DATA_HOME/berth`, `$XDG_RUNTIME_DIR/berth`, `$XDG_CONFIG_HOME/containers/registries.conf`),
//! and each world has its own user namespace (its pause process's pid is kept in its runtime
//! directory). Worlds never share anything, so the tests run at once.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use berth_testkit::{Compression, ImageSpec, LayerBuilder, Registry};
use serde_json::json;

use crate::{block_on, chain_ids, BERTH};

/// The regular user the rootless tests run berth as.
pub const USER: &str = "berth-test";

/// How long one berth command may take (a loaded 2-core machine, pulls and first starts that
/// make a user namespace).
const TIMEOUT: Duration = Duration::from_secs(180);

/// The test user's ids and the start of its sub-id ranges.
#[derive(Debug, Clone, Copy)]
pub struct TestUser {
    pub uid: u32,
    pub gid: u32,
    pub subuid_start: u32,
    pub subgid_start: u32,
}

fn sub_start(file: &str) -> u32 {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with(&format!("{USER}:"))).unwrap_or_else(|| {
        panic!("{file} has no line for the user {USER}: run scripts/deps as root (it adds the user's sub-id ranges)")
    });
    let mut f = line.split(':').skip(1);
    let start = f.next().and_then(|s| s.trim().parse::<u32>().ok());
    let count = f.next().and_then(|s| s.trim().parse::<u32>().ok());
    match (start, count) {
        (Some(start), Some(count)) if count >= 65536 => start,
        _ => panic!("{file}: \"{line}\" is not a range of at least 65536 ids: run scripts/deps as root"),
    }
}

/// The user `berth-test`: the tests fail (never skip) when `scripts/deps` has not made it.
pub fn test_user() -> TestUser {
    let user = nix::unistd::User::from_name(USER).ok().flatten().unwrap_or_else(|| {
        panic!("the user {USER} does not exist: run scripts/deps as root (it creates the user the rootless tests run berth as)")
    });
    TestUser {
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        subuid_start: sub_start("/etc/subuid"),
        subgid_start: sub_start("/etc/subgid"),
    }
}

/// One test's world: a registry and a directory tree owned by the user, berth copied where the
/// user can run it.
pub struct RootlessWorld {
    pub registry: Registry,
    pub dir: tempfile::TempDir,
    pub user: TestUser,
}

impl RootlessWorld {
    #[allow(clippy::new_without_default)]
    pub fn new() -> RootlessWorld {
        // SAFETY: geteuid has no preconditions.
        assert!(
            unsafe { libc::geteuid() } == 0,
            "the rootless tests run as root (they run berth as {USER}): run them as root"
        );
        let user = test_user();
        let registry = Registry::start().expect("starting docker-registry");
        let dir = tempfile::Builder::new().prefix("berth-rootless-").tempdir().unwrap();
        // The user must reach its own directories: the top is 0755 (tempfile makes it 0700),
        // and every directory above it must be searchable by others.
        set_mode(dir.path(), 0o755);
        for a in dir.path().ancestors().skip(1) {
            let mode = std::fs::metadata(a).unwrap().mode();
            assert!(
                mode & 0o001 != 0,
                "{} is not searchable by {USER}: set TMPDIR to a directory it can reach",
                a.display()
            );
        }
        let w = RootlessWorld { registry, dir, user };
        for d in ["home", "data", "run", "config", "config/containers"] {
            let p = w.dir.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            set_mode(&p, 0o700);
            w.chown(&p);
        }
        // The registries.conf a user has: this world's registry speaks plain HTTP.
        let conf = w.dir.path().join("config/containers/registries.conf");
        std::fs::write(&conf, format!("[[registry]]\nlocation = \"{}\"\ninsecure = true\n", w.registry.addr()))
            .unwrap();
        w.chown(&conf);
        // The test binary may be under /root (which the user cannot traverse): a copy of its own.
        let bin = w.dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        set_mode(&bin, 0o755);
        std::fs::copy(BERTH, w.berth_bin()).unwrap();
        set_mode(&w.berth_bin(), 0o755);

        // The harness itself: the user runs the copy and reaches its directories.
        let out = w.berth(&["--version"]);
        assert!(
            out.status.success(),
            "harness: {USER} cannot run {}: {}",
            w.berth_bin().display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = w.as_user(&["/bin/sh", "-c", "touch \"$HOME/.probe\" \"$XDG_DATA_HOME/.probe\" \"$XDG_RUNTIME_DIR/.probe\" && cat \"$XDG_CONFIG_HOME/containers/registries.conf\" >/dev/null"]);
        assert!(
            out.status.success(),
            "harness: {USER} cannot use its directories: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        w
    }

    fn chown(&self, p: &Path) {
        std::os::unix::fs::chown(p, Some(self.user.uid), Some(self.user.gid)).unwrap();
    }

    pub fn berth_bin(&self) -> PathBuf {
        self.dir.path().join("bin/berth")
    }

    /// The user's storage root: `$XDG_DATA_HOME/berth`.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("data/berth")
    }

    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// `PROGRAM ARGS` as the user, with the environment of a login of the user whose home,
    /// XDG directories are this world's.
    pub fn user_cmd(&self, program_and_args: &[&str]) -> Command {
        let d = self.dir.path();
        let mut c = Command::new("/usr/bin/setpriv");
        c.env_clear()
            .current_dir(d.join("home"))
            .arg(format!("--reuid={}", self.user.uid))
            .arg(format!("--regid={}", self.user.gid))
            .arg("--init-groups")
            .args(["--", "/usr/bin/env", "-i"])
            .arg(format!("HOME={}", d.join("home").display()))
            .arg(format!("USER={USER}"))
            .arg(format!("LOGNAME={USER}"))
            .arg(format!("XDG_DATA_HOME={}", d.join("data").display()))
            .arg(format!("XDG_RUNTIME_DIR={}", d.join("run").display()))
            .arg(format!("XDG_CONFIG_HOME={}", d.join("config").display()))
            .arg("PATH=/usr/local/bin:/usr/bin:/bin")
            .args(program_and_args);
        c
    }

    pub fn as_user(&self, program_and_args: &[&str]) -> Output {
        run_with_timeout(self.user_cmd(program_and_args), TIMEOUT)
            .unwrap_or_else(|e| panic!("{program_and_args:?} as {USER}: {e}"))
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let bin = self.berth_bin();
        let mut all = vec![bin.to_str().unwrap()];
        all.extend_from_slice(args);
        self.user_cmd(&all)
    }

    /// berth ARGS as the user.
    pub fn berth(&self, args: &[&str]) -> Output {
        run_with_timeout(self.cmd(args), TIMEOUT).unwrap_or_else(|e| panic!("berth {args:?} as {USER}: {e}"))
    }

    /// Runs berth as the user and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        assert!(
            out.status.success(),
            "berth {args:?} as {USER} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn image_ref(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.registry.addr())
    }

    pub fn push(&self, repo_tag: &str, spec: &ImageSpec) -> berth_testkit::PushedImage {
        block_on(berth_testkit::push_image(self.registry.addr(), self.registry.credentials(), repo_tag, spec))
            .expect("pushing a test image")
    }

    /// Pushes `spec` as `repo_tag`, pulls it as the user; returns its reference.
    pub fn pulled(&self, repo_tag: &str, spec: &ImageSpec) -> String {
        self.push(repo_tag, spec);
        let r = self.image_ref(repo_tag);
        self.ok(&["pull", "-q", &r]);
        r
    }

    pub fn busybox(&self) -> String {
        self.pulled("busybox:1", &berth_testkit::busybox_image().unwrap())
    }

    /// The unpacked directory of a layer, by chain id.
    pub fn layer_dir(&self, chain_id: &str) -> PathBuf {
        self.root().join("layers").join(chain_id.trim_start_matches("sha256:")).join("diff")
    }

    /// The processes this world started: those in its user namespace (the pause process's), or
    /// whose environment or command line names its directory, and all their descendants.
    fn processes(&self) -> BTreeSet<i32> {
        let needle = format!("{}/", self.dir.path().display()).into_bytes();
        let userns = std::fs::read_to_string(self.run_dir().join("berth/pause.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            .filter(|p| proc_uid(*p) == Some(self.user.uid))
            .and_then(userns_of)
            .filter(|ns| Some(*ns) != userns_of(std::process::id() as i32));
        let me = std::process::id() as i32;
        let mut parents: HashMap<i32, i32> = HashMap::new();
        let mut found = BTreeSet::new();
        for pid in all_pids() {
            if pid == me || pid == 1 || proc_uid(pid).is_none_or(|u| u == 0) {
                continue;
            }
            if let Some(pp) = ppid_of(pid) {
                parents.insert(pid, pp);
            }
            let in_ns = userns.is_some() && userns_of(pid) == userns;
            let named = [format!("/proc/{pid}/environ"), format!("/proc/{pid}/cmdline")]
                .iter()
                .any(|f| std::fs::read(f).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)));
            if in_ns || named {
                found.insert(pid);
            }
        }
        // Descendants (a container's processes run as sub-ids, with the container's environment).
        loop {
            let more: Vec<i32> =
                parents.iter().filter(|(p, pp)| found.contains(pp) && !found.contains(p)).map(|(p, _)| *p).collect();
            if more.is_empty() {
                break;
            }
            found.extend(more);
        }
        found
    }
}

/// A failed test still leaves nothing: its containers removed by the user if the engine can,
/// then every process of this world killed, then its directory removed as root.
impl Drop for RootlessWorld {
    fn drop(&mut self) {
        if self.root().join("state.db").exists() {
            let _ = run_with_timeout(self.cmd(&["rm", "--all", "--force"]), Duration::from_secs(90));
        }
        for _ in 0..50 {
            let pids = self.processes();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Err(e) = std::fs::remove_dir_all(self.dir.path()) {
            eprintln!("removing {}: {e}", self.dir.path().display());
        }
    }
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|rd| rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default()
}

fn proc_uid(pid: i32) -> Option<u32> {
    std::fs::metadata(format!("/proc/{pid}")).ok().map(|m| m.uid())
}

fn ppid_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

fn userns_of(pid: i32) -> Option<u64> {
    std::fs::metadata(format!("/proc/{pid}/ns/user")).ok().map(|m| m.ino())
}

/// Runs `c` with its output captured, killed after `timeout`. A process left holding the output
/// open after `c` exits is an error too (a detached container must not keep the CLI's pipes).
fn run_with_timeout(mut c: Command, timeout: Duration) -> Result<Output, String> {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning {c:?}: {e}"))?;
    let (tx_out, rx_out) = mpsc::channel();
    let (tx_err, rx_err) = mpsc::channel();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        let _ = tx_out.send(b);
    });
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        let _ = tx_err.send(b);
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = rx_err.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
            return Err(format!(
                "timed out after {}s; stderr so far: {}",
                timeout.as_secs(),
                String::from_utf8_lossy(&stderr)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let grace = Duration::from_secs(10);
    let stdout = rx_out
        .recv_timeout(grace)
        .map_err(|_| format!("exited ({status}) but its stdout stayed open: a process it left holds it"))?;
    let stderr = rx_err
        .recv_timeout(grace)
        .map_err(|_| format!("exited ({status}) but its stderr stayed open: a process it left holds it"))?;
    Ok(Output { status, stdout, stderr })
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {}s waiting for {what}", timeout.as_secs());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A busybox image whose config has the given fields on top of busybox's.
fn configured(config: serde_json::Value) -> ImageSpec {
    let mut spec = berth_testkit::busybox_image().unwrap();
    for (k, v) in config.as_object().unwrap() {
        spec.config[k] = v.clone();
    }
    spec
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// GET `path` from `addr`; the body, or None when nothing answers.
fn http_get(addr: &str, path: &str) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status_ok = resp.starts_with(b"HTTP/1.0 200 ") || resp.starts_with(b"HTTP/1.1 200 ");
    status_ok.then(|| resp[split + 4..].to_vec())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The harness alone: the user runs its copy of berth, with its own empty storage.
#[test]
fn rootless_harness_runs_berth_as_the_user() {
    let w = RootlessWorld::new();
    let out = w.as_user(&["/usr/bin/id", "-u"]);
    assert_eq!(stdout_of(&out).trim(), w.user.uid.to_string());
    assert!(w.ok(&["--version"]).starts_with("berth "));
    let images = w.ok(&["images"]);
    assert_eq!(images.lines().count(), 1, "only the header: {images}");
    assert!(images.starts_with("REPOSITORY"), "{images}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
    assert!(w.root().join("state.db").exists(), "the user's storage root is $XDG_DATA_HOME/berth");
    assert_eq!(std::fs::metadata(w.root()).unwrap().uid(), w.user.uid, "and the user owns it");
}

/// a. A pull as the user: the layers' owners are the image's, mapped to the user's ids.
#[test]
fn rootless_pull_maps_the_owners_of_the_layers() {
    let w = RootlessWorld::new();
    let mut top = LayerBuilder::new();
    top.dir_owned("home/app/own", 0o750, 1000, 1000).file_owned("home/app/own/file", "mine\n", 0o640, 1000, 1000);
    let spec = berth_testkit::busybox_image().unwrap().layer(top.build(), Compression::Gzip);
    let pushed = w.push("busybox:1", &spec);
    let r = w.image_ref("busybox:1");
    w.ok(&["pull", &r]);

    let images = w.ok(&["images"]);
    let row = images.lines().find(|l| l.split_whitespace().next() == Some(&format!("{}/busybox", w.registry.addr())));
    let row = row.unwrap_or_else(|| panic!("the pulled image is listed: {images}"));
    assert_eq!(row.split_whitespace().nth(1), Some("1"), "{row}");

    let chains = chain_ids(&pushed.diff_ids);
    let (base, top) = (w.layer_dir(&chains[0]), w.layer_dir(&chains[1]));
    let (uid, gid) = (w.user.uid, w.user.gid);
    for p in [base.join("etc/passwd"), base.join("bin/busybox"), base.join("etc")] {
        let m = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!((m.uid(), m.gid()), (uid, gid), "{}: the image's 0:0 is the user", p.display());
    }
    let app = (w.user.subuid_start + 999, w.user.subgid_start + 999);
    for p in [base.join("home/app"), top.join("home/app/own"), top.join("home/app/own/file")] {
        let m = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!((m.uid(), m.gid()), app, "{}: the image's 1000:1000 is sub-id start + 999", p.display());
    }
    let m = std::fs::metadata(top.join("home/app/own/file")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o640);
    assert_eq!(std::fs::read_to_string(top.join("home/app/own/file")).unwrap(), "mine\n");
}

/// b. Containers run as the user, root inside.
#[test]
fn rootless_run_prints_and_maps_users() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    assert_eq!(w.ok(&["run", "--rm", &img, "echo", "hello"]), "hello\n");
    assert_eq!(w.ok(&["run", "--rm", &img, "id", "-u"]), "0\n");
    assert_eq!(w.ok(&["run", "--rm", "-u", "1000", &img, "id", "-u"]), "1000\n");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "--rm removed them");
}

/// c. The image's config: Env, WorkingDir, Entrypoint and Cmd, User.
#[test]
fn rootless_run_honours_the_image_config() {
    let w = RootlessWorld::new();
    let img = w.pulled(
        "configured:1",
        &configured(json!({
            "Env": ["PATH=/usr/bin:/bin", "FROM_IMAGE=yes", "OVERRIDE=image"],
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo cmd:$FROM_IMAGE:$OVERRIDE; pwd; id -u; id -g"],
            "WorkingDir": "/srv/app",
            "User": "app",
        })),
    );
    assert_eq!(w.ok(&["run", "--rm", &img]), "cmd:yes:image\n/srv/app\n1000\n1000\n");
    let env = w.ok(&["run", "--rm", &img, "env"]);
    for var in ["FROM_IMAGE=yes", "OVERRIDE=image", "PATH=/usr/bin:/bin", "HOME=/home/app"] {
        assert!(env.lines().any(|l| l == var), "{var} in {env}");
    }
    let out =
        w.ok(&["run", "--rm", "-e", "OVERRIDE=user", "-w", "/tmp", "-u", "root", &img, "echo $OVERRIDE; pwd; id -u"]);
    assert_eq!(out, "user\n/tmp\n0\n");
}

/// d. Whiteouts and opaque directories, made by an unprivileged unpack, as a container sees them.
#[test]
fn rootless_the_layer_tree_is_what_the_container_sees() {
    let w = RootlessWorld::new();
    let mut middle = LayerBuilder::new();
    middle
        .dir("etc", 0o755)
        .file("etc/gone", "deleted above\n", 0o644)
        .dir("opaque", 0o755)
        .file("opaque/old", "hidden by the opaque dir above\n", 0o644)
        .dir("opaque/olddir", 0o755)
        .file("kept", "kept\n", 0o644);
    let mut top = LayerBuilder::new();
    top.whiteout("etc/gone").opaque("opaque").file("opaque/new", "new\n", 0o644);
    let spec = berth_testkit::busybox_image()
        .unwrap()
        .layer(middle.build(), Compression::Gzip)
        .layer(top.build(), Compression::Gzip);
    let img = w.pulled("tree:1", &spec);
    let out = w.berth(&["run", "--rm", &img, "sh", "-c", "ls /etc/gone; ls -A /opaque; cat /opaque/new /kept"]);
    assert_eq!(stdout_of(&out), "new\nnew\nkept\n", "stderr: {}", stderr_of(&out));
    assert!(stderr_of(&out).contains("/etc/gone: No such file or directory"), "{}", stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "ls's failure is not the last command");
    // What a container writes over the deleted file lives in its own upper layer.
    let out = w.ok(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        "echo again > /etc/gone; cat /etc/gone; rm /opaque/new; ls -A /opaque | wc -l",
    ]);
    assert_eq!(out, "again\n0\n");
}

/// e. A published port (pasta forwards it from the host) and a connection out to the host.
#[test]
fn rootless_published_port_and_outbound_connection() {
    let w = RootlessWorld::new();
    let mut rootfs = berth_testkit::busybox_rootfs().unwrap();
    rootfs.dir("www", 0o755).file("www/index.html", b"hello from rootless berth\n", 0o644);
    let spec = ImageSpec::new()
        .layer(rootfs.build(), Compression::Gzip)
        .with_config(berth_testkit::busybox_image().unwrap().config);
    let img = w.pulled("web:1", &spec);
    let port = free_port();
    w.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &format!("{port}:8080"),
        &img,
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/www",
    ]);
    let addr = format!("127.0.0.1:{port}");
    wait_for("httpd to answer on the published port", Duration::from_secs(60), || {
        http_get(&addr, "/index.html").is_some()
    });
    assert_eq!(http_get(&addr, "/index.html").unwrap(), b"hello from rootless berth\n");

    // Outbound: pasta (Debian 12's passt 2023-03) maps the default gateway's address to the
    // host's loopback ("--map-gw", its default then): a server on the host's 127.0.0.1 is reached
    // at the gateway the container's `ip route` shows (on this host 192.0.2.1, the host's own
    // gateway, which pasta copies; the connection arrives from 127.0.0.1). The container's own
    // address is a copy of the host's (192.0.2.2 here), so the host's address would be the
    // container itself. `host.containers.internal` in /etc/hosts names the gateway, as Podman's.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host_port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(240);
        let mut got = Vec::new();
        while got.len() < 2 && Instant::now() < deadline {
            match listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    let mut line = String::new();
                    let _ = BufReader::new(&s).read_line(&mut line);
                    let _ = (&s).write_all(b"pong from the host\n");
                    got.push(line);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        got
    });
    let routes = w.ok(&["exec", "web", "ip", "route"]);
    let gateway = routes
        .lines()
        .find_map(|l| l.strip_prefix("default via ").and_then(|r| r.split_whitespace().next()))
        .unwrap_or_else(|| panic!("a default route in the container: {routes}"))
        .to_string();
    let addrs = w.ok(&["exec", "web", "ip", "-4", "addr"]);
    // The container's nc keeps its side open until the host has answered: Debian 12's pasta
    // never passes on the host's FIN to a container side that closed first (an `echo | nc`
    // then waits forever in FIN-WAIT-2), a bug of that passt, not of the engine.
    let talk = |line: &str, to: &str| format!("(echo {line}; sleep 3) | nc -w 10 {to} {host_port}");
    let out = w.berth(&["exec", "web", "sh", "-c", &talk("ping", &gateway)]);
    assert_eq!(
        stdout_of(&out),
        "pong from the host\n",
        "the host's 127.0.0.1:{host_port} through the gateway {gateway}: {}\nroutes:\n{routes}addresses:\n{addrs}",
        stderr_of(&out)
    );
    let hosts = w.ok(&["exec", "web", "cat", "/etc/hosts"]);
    let out = w.berth(&["exec", "web", "sh", "-c", &talk("by-name", "host.containers.internal")]);
    assert_eq!(
        stdout_of(&out),
        "pong from the host\n",
        "host.containers.internal: {}\n/etc/hosts:\n{hosts}",
        stderr_of(&out)
    );
    assert_eq!(server.join().unwrap(), ["ping\n", "by-name\n"], "what the host's server received");
    w.ok(&["rm", "-f", "web"]);
    wait_for("the published port to be closed", Duration::from_secs(30), || {
        TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)).is_err()
    });
}

/// f. A container's output in `berth logs`.
#[test]
fn rootless_logs() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    w.ok(&["run", "-d", "--name", "talker", &img, "sh", "-c", "echo one; echo err >&2; echo two"]);
    assert_eq!(w.ok(&["wait", "talker"]), "0\n");
    let out = w.berth(&["logs", "talker"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "one\ntwo\n");
    assert_eq!(stderr_of(&out), "err\n");
}

/// g. exec into a running container, as root and as another user.
#[test]
fn rootless_exec() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    w.ok(&["run", "-d", "--name", "box", &img, "sleep", "1000"]);
    let id = w.ok(&["inspect", "--format", "{{.Id}}", "box"]).trim().to_string();
    assert_eq!(w.ok(&["exec", "box", "cat", "/etc/hostname"]), format!("{}\n", &id[..12]));
    assert_eq!(w.ok(&["exec", "box", "echo", "hi"]), "hi\n");
    assert_eq!(w.ok(&["exec", "box", "id", "-u"]), "0\n");
    assert_eq!(w.ok(&["exec", "-u", "1000", "box", "id", "-u"]), "1000\n");
    assert_eq!(w.berth(&["exec", "box", "sh", "-c", "exit 7"]).status.code(), Some(7));
}

/// h. stop, then rm, which removes files owned by sub-ids.
#[test]
fn rootless_stop_and_rm() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    w.ok(&[
        "run",
        "-d",
        "--name",
        "stopper",
        &img,
        "sh",
        "-c",
        "mkdir /home/app/made && echo x > /home/app/made/f && chown -R 1000:1000 /home/app/made && echo ready && exec sleep 1000",
    ]);
    wait_for("the container to be ready", Duration::from_secs(60), || w.ok(&["logs", "stopper"]) == "ready\n");
    let id = w.ok(&["inspect", "--format", "{{.Id}}", "stopper"]).trim().to_string();
    let dir = w.root().join("containers").join(&id);
    assert!(dir.is_dir(), "{} exists", dir.display());
    w.ok(&["stop", "-t", "2", "stopper"]);
    let ps = w.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.starts_with("stopper Exited"), "{ps}");
    assert_eq!(w.ok(&["ps", "-q"]), "", "not running");
    assert_eq!(w.ok(&["rm", "stopper"]), "stopper\n");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
    assert!(!dir.exists(), "{} is removed, files of sub-ids included", dir.display());
}

/// A copy into a stopped container's volume (its mounts attached in the user's namespace),
/// owned by the container's user (a sub-id on disk), and out again to the user's files.
#[test]
fn rootless_cp_into_a_stopped_containers_volume() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    w.ok(&["create", "--name", "c", "-u", "1000", "-v", "data:/data", &img, "true"]);
    let src = w.dir.path().join("home/src.txt");
    std::fs::write(&src, "from the host\n").unwrap();
    w.chown(&src);
    w.ok(&["cp", src.to_str().unwrap(), "c:/data/in.txt"]);
    let data = w.root().join("volumes/data/_data");
    assert_eq!(std::fs::read_to_string(data.join("in.txt")).unwrap(), "from the host\n");
    assert_eq!(std::fs::metadata(data.join("in.txt")).unwrap().uid(), w.user.subuid_start + 999);
    let out = w.dir.path().join("home/out.txt");
    w.ok(&["cp", "c:/data/in.txt", out.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&out).unwrap().uid(), w.user.uid, "the user's own file on the host");
}

/// i. A named volume across containers, files of sub-ids in it, and `volume rm`.
#[test]
fn rootless_volume() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    w.ok(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        &img,
        "sh",
        "-c",
        "echo x > /data/f && mkdir /data/d && echo y > /data/d/g && chown -R 1000:1000 /data/d",
    ]);
    assert_eq!(
        w.ok(&["run", "--rm", "-v", "data:/data", &img, "sh", "-c", "cat /data/f /data/d/g; stat -c %u /data/d/g"]),
        "x\ny\n1000\n"
    );
    assert_eq!(
        w.ok(&[
            "run",
            "--rm",
            "-u",
            "1000",
            "-v",
            "data:/data",
            &img,
            "sh",
            "-c",
            "echo z >> /data/d/g && cat /data/d/g"
        ]),
        "y\nz\n"
    );
    let data = w.root().join("volumes/data/_data");
    assert_eq!(std::fs::metadata(data.join("f")).unwrap().uid(), w.user.uid, "root's file is the user's");
    assert_eq!(std::fs::metadata(data.join("d/g")).unwrap().uid(), w.user.subuid_start + 999);
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "data\n");
    assert_eq!(w.ok(&["volume", "rm", "data"]), "data\n");
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "");
    assert!(!w.root().join("volumes/data").exists());
}

/// j. Limits without a delegated cgroup (this host: hybrid cgroup v1): the container runs, and
/// the user is told the limit is not applied.
#[test]
fn rootless_limits_without_cgroups_warn() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    let out = w.berth(&["run", "--rm", "--memory", "64m", &img, "echo", "ran"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "ran\n");
    assert!(stderr_of(&out).to_lowercase().contains("cgroup"), "a warning about cgroups: {}", stderr_of(&out));
}

#[test]
fn rootless_host_network_devices_and_what_needs_root() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    // The host's network: sysfs can't be mounted for it, so the host's /sys is bound.
    let host_name = nix::unistd::gethostname().unwrap().into_string().unwrap();
    let out =
        w.ok(&["run", "--rm", "--network", "host", &img, "sh", "-c", "hostname; test -d /sys/class/net && echo sys"]);
    assert_eq!(out, format!("{host_name}\nsys\n"));
    // Devices can't be made in a user namespace: the host's are bound, under any name.
    let out = w.ok(&[
        "run",
        "--rm",
        "--device",
        "/dev/full:/dev/myfull",
        &img,
        "sh",
        "-c",
        "head -c 2 /dev/myfull | od -An -tx1",
    ]);
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["00", "00"]);
    let out = w.ok(&["run", "--rm", "--privileged", &img, "sh", "-c", "test -c /dev/full && echo devices"]);
    assert_eq!(out, "devices\n");
    // What only root can do says so, and leaves nothing behind.
    let out = w.berth(&["network", "create", "backend"]);
    assert!(!out.status.success() && stderr_of(&out).contains("rootless"), "{}", stderr_of(&out));
    let out = w.berth(&["run", "--rm", "-p", "80:8080", &img, "true"]);
    assert!(!out.status.success(), "a privileged host port");
    assert!(stderr_of(&out).contains("ip_unprivileged_port_start"), "{}", stderr_of(&out));
    assert_eq!(w.ok(&["ps", "-aq"]), "");
    w.ok(&["run", "-d", "--name", "sleeper", &img, "sleep", "60"]);
    let out = w.berth(&["pause", "sleeper"]);
    assert!(!out.status.success() && stderr_of(&out).contains("cgroup"), "{}", stderr_of(&out));
}

/// A commit as the user: the new layer has the container's owners, not the host's sub-ids.
#[test]
fn rootless_commit_keeps_the_containers_owners() {
    let w = RootlessWorld::new();
    let img = w.busybox();
    w.ok(&["run", "--name", "c", &img, "sh", "-c", "echo hi > /made && chown 1000:1000 /made && rm /etc/group"]);
    let id = w.ok(&["commit", "-q", "c", "snap"]).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let seen = w.ok(&["run", "--rm", "snap", "sh", "-c", "stat -c '%u:%g' /made; cat /made; ls /etc/group 2>&1; true"]);
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines[..2], ["1000:1000", "hi"], "{seen}");
    assert!(lines[2].contains("No such file"), "{seen}");
}

#[test]
fn rootless_unshare_runs_the_command_as_root_of_the_users_namespace() {
    let w = RootlessWorld::new();
    // root inside, the user's sub-ids mapped, and where the store is, as Podman says it
    let out = w.ok(&["unshare", "sh", "-c", "id -u; cat /proc/self/uid_map; echo $CONTAINERS_GRAPHROOT"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    assert!(out.contains(&w.user.subuid_start.to_string()), "the sub-ids are mapped: {out}");
    assert_eq!(lines.last().copied(), Some(w.root().to_str().unwrap()), "{out}");
    let runroot = w.ok(&["unshare", "printenv", "CONTAINERS_RUNROOT"]);
    assert_eq!(runroot.trim(), w.run_dir().join("berth").to_str().unwrap());
    // the command's status is unshare's
    assert_eq!(w.berth(&["unshare", "sh", "-c", "exit 3"]).status.code(), Some(3));
    // with no command, the user's shell
    let out = w.user_cmd(&[
        "/bin/sh",
        "-c",
        &format!("echo 'echo in-shell' | SHELL=/bin/sh {} unshare", w.berth_bin().display()),
    ]);
    let out = run_with_timeout(out, TIMEOUT).unwrap();
    assert_eq!(stdout_of(&out), "in-shell\n");
    let err = w.berth(&["unshare", "--rootless-netns", "true"]);
    assert_eq!(err.status.code(), Some(125));
    assert!(
        stderr_of(&err).contains("--rootless-netns: berth has no rootless network namespace"),
        "{}",
        stderr_of(&err)
    );
    assert_eq!(w.berth(&["unshare", "/no/such/program"]).status.code(), Some(127));
}
