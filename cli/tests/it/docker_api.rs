//! `berth system service`, driven by the real docker client and by bollard: every command
//! issue 8 lists, checked by what the client prints or returns.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::World;

/// A service for a world, stopped when dropped.
pub(crate) struct Service {
    pub child: Child,
    pub socket: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn service(w: &World) -> Service {
    let socket = w.dir.path().join("docker.sock");
    let child = w
        .cmd()
        .args(["system", "service", "--timeout", "0", "--socket"])
        .arg(&socket)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the service did not listen on {}", socket.display());
        std::thread::sleep(Duration::from_millis(20));
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o660);
    Service { child, socket }
}

fn docker_bin() -> &'static str {
    for p in ["/usr/local/bin/docker", "/usr/bin/docker"] {
        if std::path::Path::new(p).exists() {
            return p;
        }
    }
    panic!("the docker client is needed for these tests: install Debian's docker.io (scripts/deps does)");
}

pub(crate) fn docker_cmd(w: &World, s: &Service) -> Command {
    let mut c = Command::new(docker_bin());
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.dir.path().join("home"))
        .env("DOCKER_CONFIG", w.dir.path().join("docker-config"))
        .env("DOCKER_HOST", format!("unix://{}", s.socket.display()));
    c
}

/// Debian's docker-compose in `dir` against the service, project `proj`.
pub(crate) fn compose_cmd(w: &World, s: &Service, dir: &std::path::Path) -> Command {
    let compose = ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("docker-compose is needed for this test: install Debian's docker-compose (scripts/deps does)");
    let mut c = Command::new(compose);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.dir.path().join("home"))
        .env("DOCKER_HOST", format!("unix://{}", s.socket.display()))
        .env("COMPOSE_PROJECT_NAME", "proj");
    c
}

pub(crate) fn docker(w: &World, s: &Service, args: &[&str]) -> Output {
    docker_cmd(w, s).args(args).output().unwrap()
}

pub(crate) fn ok(w: &World, s: &Service, args: &[&str]) -> String {
    let out = docker(w, s, args);
    assert!(out.status.success(), "docker {args:?} failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn fails(w: &World, s: &Service, args: &[&str]) -> String {
    let out = docker(w, s, args);
    assert!(!out.status.success(), "docker {args:?} should have failed: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
    let mut r = String::new();
    s.read_to_string(&mut r).ok()?;
    r.contains(" 200 ").then(|| r.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn the_docker_client_manages_images_and_containers() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    let s = service(&w);

    assert_eq!(ok(&w, &s, &["version", "--format", "{{.Server.APIVersion}}"]), "1.41\n");
    let pulled = ok(&w, &s, &["pull", &img]);
    assert!(
        pulled.contains("Pull complete") && pulled.contains(&format!("Status: Downloaded newer image for {img}")),
        "{pulled}"
    );
    let images = ok(&w, &s, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images, format!("{img}\n"));
    ok(&w, &s, &["tag", &img, "mine:v1"]);
    assert!(ok(&w, &s, &["images"]).contains("mine "), "tagged");

    // run -d -p -e --name -v: reachable through the port, the env var and the volume inside.
    let port = free_port();
    let id = ok(
        &w,
        &s,
        &[
            "run",
            "-d",
            "--name",
            "web",
            "-p",
            &format!("{port}:80"),
            "-e",
            "GREETING=hello-from-docker",
            "-v",
            "site:/www",
            &img,
            "sh",
            "-c",
            "echo $GREETING > /www/index.html; echo started; exec httpd -f -p 80 -h /www",
        ],
    );
    assert_eq!(id.trim().len(), 64);
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Some(b) = http_get(port, "/index.html") {
            break b;
        }
        assert!(Instant::now() < deadline, "the published port never answered");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(body, "hello-from-docker\n");
    let ps = ok(&w, &s, &["ps", "-a", "--format", "{{.Names}}|{{.Status}}|{{.Ports}}"]);
    assert!(ps.starts_with("web|Up ") && ps.contains(&format!("0.0.0.0:{port}->80/tcp")), "{ps}");
    assert_eq!(ok(&w, &s, &["logs", "web"]), "started\n");
    assert_eq!(
        ok(&w, &s, &["inspect", "-f", "{{.State.Status}} {{.Name}} {{.Config.Image}}", "web"]),
        format!("running /web {img}\n")
    );
    let out = docker(&w, &s, &["exec", "web", "sh", "-c", "cat /www/index.html; echo err >&2; exit 4"]);
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string()),
        (Some(4), "hello-from-docker\n".to_string())
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    let stats = ok(&w, &s, &["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}"]);
    assert_eq!(stats, "web 1\n");

    // The verbs.
    assert_eq!(ok(&w, &s, &["stop", "-t", "1", "web"]), "web\n");
    let status = ok(&w, &s, &["ps", "-a", "--format", "{{.Status}}"]);
    assert!(status.starts_with("Exited ("), "stopped: {status}");
    ok(&w, &s, &["start", "web"]);
    ok(&w, &s, &["restart", "-t", "0", "web"]);
    assert_eq!(ok(&w, &s, &["inspect", "-f", "{{.State.Running}}", "web"]), "true\n");
    let err = fails(&w, &s, &["rm", "web"]);
    assert!(err.contains("You cannot remove a running container"), "{err}");
    ok(&w, &s, &["kill", "web"]);
    assert_eq!(ok(&w, &s, &["wait", "web"]), "137\n");
    ok(&w, &s, &["rm", "-f", "web"]);
    assert_eq!(ok(&w, &s, &["ps", "-aq"]), "");

    // Foreground runs: output, stderr apart, the exit code, --rm.
    let out = docker(&w, &s, &["run", "--rm", &img, "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    assert_eq!(ok(&w, &s, &["ps", "-aq"]), "", "--rm removed it");

    // logs -f follows until the container exits.
    ok(
        &w,
        &s,
        &["run", "-d", "--name", "counter", &img, "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"],
    );
    assert_eq!(ok(&w, &s, &["logs", "-f", "counter"]), "line1\nline2\nline3\n");

    // docker diff: the container's changes, not the runtime's files.
    ok(&w, &s, &["run", "--name", "changer", &img, "sh", "-c", "touch /made; rm /etc/passwd"]);
    assert_eq!(ok(&w, &s, &["diff", "changer"]), "C /etc\nD /etc/passwd\nA /made\n");
    // docker export: its files as a tar
    let tar = w.root().parent().unwrap().join("changer.tar");
    ok(&w, &s, &["export", "-o", tar.to_str().unwrap(), "changer"]);
    let names: Vec<String> = tar::Archive::new(std::fs::File::open(&tar).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "made") && !names.iter().any(|n| n == "etc/passwd"), "{names:?}");
    // docker import: the tarball back as an image, with a change
    let imported = ok(&w, &s, &["import", "--change", "CMD [\"ls\", \"/made\"]", tar.to_str().unwrap(), "imported:v1"]);
    assert!(imported.starts_with("sha256:") && imported.trim().len() == 71, "{imported}");
    assert_eq!(ok(&w, &s, &["run", "--rm", "imported:v1"]), "/made\n");
    ok(&w, &s, &["rmi", "imported:v1"]);
    ok(&w, &s, &["rm", "changer"]);

    // Errors as Docker's.
    assert!(fails(&w, &s, &["rm", "nosuch"]).contains("Error response from daemon: No such container: nosuch"));
    assert!(fails(&w, &s, &["rmi", "nosuch"]).contains("No such image: nosuch"));
    let err = fails(&w, &s, &["run", "-d", "--name", "counter", &img, "true"]);
    assert!(err.contains("Error response from daemon") && err.contains("already in use"), "{err}");
    assert!(ok(&w, &s, &["rmi", "mine:v1"]).contains("Untagged: mine:v1"));
}

#[test]
fn volumes_networks_system_and_events() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let s = service(&w);
    assert_eq!(ok(&w, &s, &["volume", "create", "data"]), "data\n");
    assert_eq!(ok(&w, &s, &["volume", "ls", "--format", "{{.Driver}} {{.Name}}"]), "local data\n");
    assert_eq!(ok(&w, &s, &["volume", "rm", "data"]), "data\n");
    assert_eq!(ok(&w, &s, &["volume", "ls", "-q"]), "");
    let net = ok(&w, &s, &["network", "create", "backend"]);
    assert_eq!(net.trim().len(), 64);
    let nets = ok(&w, &s, &["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    for n in ["bridge bridge", "backend bridge", "host host", "none null"] {
        assert!(nets.lines().any(|l| l == n), "{n} in {nets}");
    }
    // Containers on it find each other by name.
    ok(&w, &s, &["run", "-d", "--name", "db", "--network", "backend", &img, "httpd", "-f", "-p", "80", "-h", "/etc"]);
    let got = ok(
        &w,
        &s,
        &[
            "run",
            "--rm",
            "--network",
            "backend",
            &img,
            "sh",
            "-c",
            "for i in 1 2 3 4 5; do wget -q -O - http://db/hostname && exit 0; sleep 0.2; done; exit 1",
        ],
    );
    assert_eq!(got.trim().len(), 12, "the db's hostname: {got}");
    ok(&w, &s, &["rm", "-f", "db"]);
    assert_eq!(ok(&w, &s, &["network", "rm", "backend"]), "backend\n");
    let df = ok(&w, &s, &["system", "df"]);
    assert!(df.starts_with("TYPE") && df.contains("Images          1"), "{df}");
    let info = ok(&w, &s, &["info", "--format", "{{.Images}} {{.Driver}} {{.OSType}}"]);
    assert_eq!(info, "1 overlay linux\n");
    // Events: what happened since a moment ago.
    let since = (chrono::Utc::now().timestamp() - 1).to_string();
    ok(&w, &s, &["run", "--rm", "--name", "evt", &img, "true"]);
    let until = (chrono::Utc::now().timestamp() + 1).to_string();
    let events = ok(&w, &s, &["events", "--since", &since, "--until", &until, "--format", "{{.Type}} {{.Action}}"]);
    for e in ["container create", "container start", "container die"] {
        assert!(events.lines().any(|l| l == e), "{e} in {events}");
    }
}

fn on_a_terminal(w: &World, s: &Service, args: &[&str]) -> (Child, std::fs::File) {
    let mut cmd = docker_cmd(w, s);
    cmd.args(args);
    crate::terminal::spawn(cmd, 30, 100)
}

#[test]
fn docker_run_it_and_exec_it_are_terminal_sessions() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let s = service(&w);
    let (mut child, mut master) = on_a_terminal(&w, &s, &["run", "-it", "--name", "shell", &img, "sh"]);
    let mut seen = String::new();
    crate::terminal::expect(&mut master, &mut seen, "/ # ");
    master.write_all(b"tty; stty size; echo in-$((6*7))\n").unwrap();
    crate::terminal::expect(&mut master, &mut seen, "in-42");
    assert!(seen.contains("/dev/pts/0") && seen.contains("30 100"), "a terminal of the caller's size: {seen:?}");
    // exec -it into it meanwhile
    let (mut ex, mut ex_master) = on_a_terminal(&w, &s, &["exec", "-it", "shell", "sh"]);
    let mut ex_seen = String::new();
    ex_master.write_all(b"echo exec-$((2+2)); exit 9\n").unwrap();
    crate::terminal::expect(&mut ex_master, &mut ex_seen, "exec-4");
    assert_eq!(crate::terminal::exit_code(&mut ex, &mut ex_master), 9, "docker exec returns the process's code");
    master.write_all(b"exit 5\n").unwrap();
    assert_eq!(crate::terminal::exit_code(&mut child, &mut master), 5);
}

#[test]
fn bollard_drives_the_same_flows() {
    use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
    use bollard::query_parameters::{
        CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
        RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
    };
    use futures_util::StreamExt;
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    let s = service(&w);
    crate::block_on(async {
        let d =
            bollard::Docker::connect_with_unix(s.socket.to_str().unwrap(), 30, bollard::API_DEFAULT_VERSION).unwrap();
        let d = d.negotiate_version().await.unwrap();
        assert_eq!(d.version().await.unwrap().api_version.as_deref(), Some("1.41"));
        let (repo, tag) = img.rsplit_once(':').unwrap();
        let mut pull =
            d.create_image(Some(CreateImageOptionsBuilder::default().from_image(repo).tag(tag).build()), None, None);
        let mut statuses = Vec::new();
        while let Some(p) = pull.next().await {
            statuses.push(p.unwrap().status.unwrap_or_default());
        }
        assert!(statuses.iter().any(|s| s == "Pull complete"), "{statuses:?}");
        let images = d.list_images(None::<bollard::query_parameters::ListImagesOptions>).await.unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].repo_tags, vec![img.clone()]);

        let port = free_port();
        let body = ContainerCreateBody {
            image: Some(img.clone()),
            cmd: Some(vec![
                "sh".into(),
                "-c".into(),
                "echo $WHO > /tmp/i; echo ready; exec httpd -f -p 80 -h /tmp".into(),
            ]),
            env: Some(vec!["WHO=bollard".into()]),
            host_config: Some(HostConfig {
                port_bindings: Some(
                    [(
                        "80/tcp".to_string(),
                        Some(vec![PortBinding { host_ip: None, host_port: Some(port.to_string()) }]),
                    )]
                    .into(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = d
            .create_container(Some(CreateContainerOptionsBuilder::default().name("viabollard").build()), body)
            .await
            .unwrap();
        d.start_container(&created.id, None::<bollard::query_parameters::StartContainerOptions>).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while http_get(port, "/i").is_none() {
            assert!(Instant::now() < deadline, "not reachable");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(http_get(port, "/i").unwrap(), "bollard\n");
        let list = d.list_containers(Some(ListContainersOptionsBuilder::default().all(true).build())).await.unwrap();
        assert_eq!(list[0].names, Some(vec!["/viabollard".to_string()]));
        assert_eq!(list[0].state, Some(bollard::models::ContainerSummaryStateEnum::RUNNING));
        let mut logs = d.logs(&created.id, Some(LogsOptionsBuilder::default().stdout(true).stderr(true).build()));
        let mut text = String::new();
        while let Some(l) = logs.next().await {
            text.push_str(&l.unwrap().to_string());
        }
        assert_eq!(text, "ready\n");
        let inspect =
            d.inspect_container(&created.id, None::<bollard::query_parameters::InspectContainerOptions>).await.unwrap();
        assert_eq!(inspect.name.as_deref(), Some("/viabollard"));
        assert!(inspect.config.unwrap().env.unwrap().contains(&"WHO=bollard".to_string()));

        // An exec with its output and exit code.
        let exec = d
            .create_exec(
                &created.id,
                bollard::exec::CreateExecOptions {
                    cmd: Some(vec!["sh", "-c", "echo from-exec; exit 2"]),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if let bollard::exec::StartExecResults::Attached { mut output, .. } =
            d.start_exec(&exec.id, None).await.unwrap()
        {
            let mut out = String::new();
            while let Some(o) = output.next().await {
                out.push_str(&o.unwrap().to_string());
            }
            assert_eq!(out, "from-exec\n");
        } else {
            panic!("the exec did not attach");
        }
        assert_eq!(d.inspect_exec(&exec.id).await.unwrap().exit_code, Some(2));

        d.kill_container(&created.id, None::<bollard::query_parameters::KillContainerOptions>).await.unwrap();
        let mut waited = d
            .wait_container(&created.id, Some(WaitContainerOptionsBuilder::default().condition("not-running").build()));
        let code = waited.next().await.unwrap().map(|r| r.status_code).unwrap_or_else(|e| match e {
            bollard::errors::Error::DockerContainerWaitError { code, .. } => code,
            other => panic!("{other}"),
        });
        assert_eq!(code, 137);
        d.remove_container(&created.id, Some(RemoveContainerOptionsBuilder::default().force(true).build()))
            .await
            .unwrap();
        let err = d
            .inspect_container("viabollard", None::<bollard::query_parameters::InspectContainerOptions>)
            .await
            .unwrap_err();
        assert!(matches!(err, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }), "{err}");

        let v = d
            .create_volume(bollard::models::VolumeCreateOptions { name: Some("bv".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(v.name, "bv");
        let vols = d.list_volumes(None::<bollard::query_parameters::ListVolumesOptions>).await.unwrap();
        assert_eq!(vols.volumes.unwrap().len(), 1);
        d.remove_volume("bv", None::<bollard::query_parameters::RemoveVolumeOptions>).await.unwrap();
        // The local driver's options, as `volume create -o`; a bad one is the client's error.
        let opts = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let v = d
            .create_volume(bollard::models::VolumeCreateOptions {
                name: Some("tv".into()),
                driver_opts: Some(opts(&[("type", "tmpfs"), ("device", "tmpfs")])),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(v.options.get("type").map(String::as_str), Some("tmpfs"));
        d.remove_volume("tv", None::<bollard::query_parameters::RemoveVolumeOptions>).await.unwrap();
        let err = d
            .create_volume(bollard::models::VolumeCreateOptions {
                name: Some("bad".into()),
                driver_opts: Some(opts(&[("type", "bind"), ("device", "/bogus")])),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(err, bollard::errors::Error::DockerResponseServerError { status_code: 400, .. }), "{err}");
        let nets = d.list_networks(None::<bollard::query_parameters::ListNetworksOptions>).await.unwrap();
        assert!(nets.iter().any(|n| n.name.as_deref() == Some("bridge")));
    });
}

/// One HTTP/1.0 request on a connection of its own (so the body comes back unchunked): the
/// status, the head and the body.
fn raw_call(s: &Service, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut c = std::os::unix::net::UnixStream::connect(&s.socket).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(c, "{method} {path} HTTP/1.0\r\nHost: berth\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    c.write_all(body).unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("{raw:?}"));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    (status, head, raw[end + 4..].to_vec())
}

/// `HEAD /containers/{id}/archive?path=…`: the status and the decoded
/// `X-Docker-Container-Path-Stat` header.
fn head_stat(s: &Service, id: &str, path: &str) -> (u16, Option<serde_json::Value>) {
    use base64::Engine as _;
    let (status, head, _) = raw_call(s, "HEAD", &format!("/v1.41/containers/{id}/archive?path={path}"), b"");
    let stat = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("X-Docker-Container-Path-Stat").then(|| {
            let json = base64::engine::general_purpose::STANDARD.decode(v.trim()).unwrap();
            serde_json::from_slice(&json).unwrap()
        })
    });
    (status, stat)
}

/// A raw call's `{"message"}`.
fn message(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    v["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn docker_cp_copies_both_ways_into_running_and_stopped_containers() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let s = service(&w);
    let host = w.dir.path().join("host");
    std::fs::create_dir(&host).unwrap();
    let at = |p: &str| host.join(p).to_str().unwrap().to_string();
    ok(&w, &s, &["run", "-d", "--name", "box", &img, "sleep", "1000"]);
    let setup = "mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && ln -s one /data/link";
    ok(&w, &s, &["exec", "box", "sh", "-c", setup]);

    // HEAD: the path's stat, as Go's os.FileMode and with the link's target.
    let (status, stat) = head_stat(&s, "box", "/data/one");
    let stat = stat.unwrap_or_else(|| panic!("no stat header ({status})"));
    assert_eq!((status, &stat["name"], &stat["size"], &stat["mode"]), (200, &json!("one"), &json!(4), &json!(0o644)));
    assert!(stat["mtime"].as_str().unwrap().starts_with("20"), "{stat}");
    let (_, stat) = head_stat(&s, "box", "/data");
    assert_eq!(stat.unwrap()["mode"], json!((1u64 << 31) | 0o755));
    let (_, stat) = head_stat(&s, "box", "/data/link");
    let stat = stat.unwrap();
    assert_eq!((&stat["mode"], &stat["linkTarget"]), (&json!((1u64 << 27) | 0o777), &json!("/data/one")));
    assert_eq!(head_stat(&s, "box", "/nonesuch"), (404, None));
    // GET: a directory's tar has the directory's name at its top, `dir/.` has `./`.
    let names = |path: &str| {
        let (status, _, tar) = raw_call(&s, "GET", &format!("/containers/box/archive?path={path}"), b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&tar));
        let mut names: Vec<Vec<u8>> =
            tar::Archive::new(&tar[..]).entries().unwrap().map(|e| e.unwrap().path_bytes().into_owned()).collect();
        names.sort();
        names.into_iter().map(|n| String::from_utf8(n).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(names("/data"), ["data/", "data/link", "data/one", "data/sub/", "data/sub/two"]);
    assert_eq!(names("/data/."), ["./", "./link", "./one", "./sub/", "./sub/two"]);
    // PUT: into a directory only, a tar only; bad input is a 4xx naming what was wrong.
    let (status, _, body) = raw_call(&s, "PUT", "/containers/box/archive?path=/data/one", b"");
    assert_eq!(status, 400);
    assert!(message(&body).contains("\"/data/one\" on container box is not a directory"), "{}", message(&body));
    let (status, _, body) = raw_call(&s, "PUT", "/containers/box/archive?path=/data", b"not a tar");
    assert_eq!((status, message(&body)), (400, "the request body must be a tar archive (plain, gzip or zstd)".into()));
    let (status, _, body) = raw_call(&s, "GET", "/containers/box/archive", b"");
    assert_eq!(status, 400);
    assert!(message(&body).contains("\"path\" parameter is missing"), "{}", message(&body));

    // Out of a running container: a file, a directory (under its own name), a directory's
    // contents, a link as itself and, with -L, what it names.
    ok(&w, &s, &["cp", "box:/data/one", &at("one.txt")]);
    assert_eq!(std::fs::read_to_string(at("one.txt")).unwrap(), "one\n");
    ok(&w, &s, &["cp", "box:/data", &at("")]);
    assert_eq!(std::fs::read_to_string(at("data/sub/two")).unwrap(), "two\n");
    assert_eq!(std::fs::read_link(at("data/link")).unwrap(), PathBuf::from("one"));
    ok(&w, &s, &["cp", "box:/data/.", &at("contents")]);
    assert_eq!(std::fs::read_to_string(at("contents/sub/two")).unwrap(), "two\n");
    ok(&w, &s, &["cp", "box:/data/link", &at("link")]);
    assert!(std::fs::symlink_metadata(at("link")).unwrap().is_symlink());
    ok(&w, &s, &["cp", "-L", "box:/data/link", &at("followed")]);
    assert_eq!(std::fs::read_to_string(at("followed")).unwrap(), "one\n");
    let err = fails(&w, &s, &["cp", "box:/nonesuch/file", &at("x")]);
    assert!(err.contains("/nonesuch/file"), "the message names the path: {err}");

    // Into a running container: a file into a directory, a directory under a new name.
    std::fs::write(at("in.txt"), "from the host\n").unwrap();
    std::fs::create_dir_all(at("tree/deep")).unwrap();
    std::fs::write(at("tree/deep/b"), "bee\n").unwrap();
    ok(&w, &s, &["cp", &at("in.txt"), "box:/tmp/"]);
    assert_eq!(ok(&w, &s, &["exec", "box", "cat", "/tmp/in.txt"]), "from the host\n");
    ok(&w, &s, &["cp", &at("tree"), "box:/tmp/tree2"]);
    assert_eq!(ok(&w, &s, &["exec", "box", "cat", "/tmp/tree2/deep/b"]), "bee\n");
    // `docker cp - CTR:DIR`: the client sends stdin's archive as it is, here gzip'd.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut t = tar::Builder::new(&mut gz);
        t.append_path_with_name(at("in.txt"), "streamed.txt").unwrap();
        t.finish().unwrap();
    }
    let mut child = docker_cmd(&w, &s).args(["cp", "-", "box:/tmp"]).stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(&gz.finish().unwrap()).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(ok(&w, &s, &["exec", "box", "cat", "/tmp/streamed.txt"]), "from the host\n");
    let err = fails(&w, &s, &["cp", &at("in.txt"), "box:/nonesuch/x"]);
    assert!(err.contains("/nonesuch"), "the message names the path: {err}");

    // A stopped container: out of it and into it, seen once it runs again.
    ok(&w, &s, &["stop", "-t", "0", "box"]);
    assert_eq!(ok(&w, &s, &["inspect", "-f", "{{.State.Running}}", "box"]), "false\n");
    ok(&w, &s, &["cp", "box:/tmp/in.txt", &at("back.txt")]);
    assert_eq!(std::fs::read_to_string(at("back.txt")).unwrap(), "from the host\n");
    ok(&w, &s, &["cp", "box:/data", &at("stopped")]);
    assert_eq!(std::fs::read_to_string(at("stopped/sub/two")).unwrap(), "two\n");
    std::fs::write(at("late.txt"), "while stopped\n").unwrap();
    ok(&w, &s, &["cp", &at("late.txt"), "box:/data/"]);
    ok(&w, &s, &["cp", &at("tree"), "box:/data/"]);
    let err = fails(&w, &s, &["cp", "box:/data/nonesuch", &at("y")]);
    assert!(err.contains("/data/nonesuch"), "the message names the path: {err}");
    ok(&w, &s, &["start", "box"]);
    assert_eq!(ok(&w, &s, &["exec", "box", "cat", "/data/late.txt", "/data/tree/deep/b"]), "while stopped\nbee\n");
    ok(&w, &s, &["rm", "-f", "box"]);
}
