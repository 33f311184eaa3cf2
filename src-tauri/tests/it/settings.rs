//! The volumes and settings commands against a real engine: volumes with the containers that
//! use them, the create form's volumes, registries.conf written without losing entries, and
//! login against a registry that wants a password.

use berth_desktop::commands::{self as c, Backend};
use berth_desktop::dto::{CreateRequest, RegistrySetting};

use crate::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_from_create_to_prune() {
    let w = World::new().await;
    w.pull_busybox().await;
    let b = w.backend();

    let data = c::create_volume(&b, c::CreateVolumeArgs { name: Some(" data ".into()) }).await.unwrap();
    assert_eq!((data.name.as_str(), data.driver.as_str(), data.anonymous), ("data", "local", false));
    assert_eq!(data.mountpoint, w.dir.path().join("root/volumes/data/_data").display().to_string());
    assert!(std::path::Path::new(&data.mountpoint).is_dir());
    assert!(data.created > 1_700_000_000 && data.used_by.is_empty());
    let random = c::create_volume(&b, c::CreateVolumeArgs { name: None }).await.unwrap();
    assert_eq!(random.name.len(), 64);

    // The create form's volumes: a named one, a new anonymous one.
    let request = CreateRequest {
        image: w.busybox(),
        name: Some("web".into()),
        command: Some(vec!["true".into()]),
        volumes: vec!["data:/data:ro".into(), "/cache".into()],
        ..Default::default()
    };
    c::create_container(&b, c::CreateArgs { request, base: None, replace: false }).await.unwrap();
    let volumes = c::list_volumes(&b).await.unwrap();
    assert_eq!(volumes.len(), 3, "{volumes:?}");
    let used: Vec<(&str, &[String])> =
        volumes.iter().filter(|v| !v.used_by.is_empty()).map(|v| (v.name.as_str(), &v.used_by[..])).collect();
    assert_eq!(used.len(), 2, "{volumes:?}");
    assert!(used.contains(&("data", &["web".to_string()][..])));
    assert!(volumes.iter().any(|v| v.anonymous && v.used_by == ["web"]));

    let e = c::remove_volume(&b, c::RemoveVolumeArgs { name: "data".into(), force: false }).await.unwrap_err();
    assert_eq!(e.code, "conflict");
    assert!(e.message.contains("web"), "{}", e.message);
    let e = c::create_volume(&b, c::CreateVolumeArgs { name: Some("data".into()) }).await.unwrap_err();
    assert_eq!(e.code, "conflict");
    let e = c::create_volume(&b, c::CreateVolumeArgs { name: Some("bad name".into()) }).await.unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("invalid", "invalid volume name \"bad name\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    );
    let e = c::remove_volume(&b, c::RemoveVolumeArgs { name: "nosuch".into(), force: false }).await.unwrap_err();
    assert_eq!(e.code, "not_found");

    // Prune takes only the unused one.
    assert_eq!(c::prune_volumes(&b).await.unwrap(), vec![random.name]);
    // Force removes the container that uses it first (and with it its anonymous volume).
    c::remove_volume(&b, c::RemoveVolumeArgs { name: "data".into(), force: true }).await.unwrap();
    assert_eq!(c::list_containers(&b).await.unwrap(), []);
    assert_eq!(c::list_volumes(&b).await.unwrap(), []);
}

fn entry<'a>(settings: &'a [RegistrySetting], host: &str) -> Option<&'a RegistrySetting> {
    settings.iter().find(|r| r.host == host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_settings_keep_other_entries_and_login_works() {
    let w = World::new().await;
    let conf = w.dir.path().join("config/containers/registries.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(
        &conf,
        "# written by hand\nunqualified-search-registries = [\"docker.io\"]\n\n[[registry]]\n\
         location = \"mirror.example\"\n\n[[registry]]\nprefix = \"quay.io/old\"\nlocation = \"quay.io\"\nblocked = true\n",
    )
    .unwrap();
    let b = Backend::new(w.engine.clone()).with_registries_conf(conf.clone());

    let s = c::get_settings(&b).await.unwrap();
    assert_eq!(s.storage_root, w.dir.path().join("root").display().to_string());
    assert_eq!(s.run_root, w.dir.path().join("run").display().to_string());
    assert_eq!(s.registries_conf, conf.display().to_string());
    assert_eq!(s.version, env!("CARGO_PKG_VERSION"));
    let socket = s.socket.expect("the socket setting");
    assert_eq!((socket.path, socket.enabled), (w.dir.path().join("run/berth.sock").display().to_string(), false));
    let hosts: Vec<&str> = s.registries.iter().map(|r| r.host.as_str()).collect();
    assert_eq!(hosts, ["mirror.example", "quay.io/old"]);

    // A registry that wants a password, on plain HTTP: insecure first, then log in.
    let locked = berth_testkit::Registry::start_with_basic_auth("alice", "s3cret").unwrap();
    let host = locked.addr().to_string();
    let s = c::set_registry(&b, c::SetRegistryArgs { host: format!("http://{host}/"), insecure: true }).await.unwrap();
    assert_eq!(
        entry(&s.registries, &host),
        Some(&RegistrySetting { host: host.clone(), insecure: true, logged_in: false })
    );
    let text = std::fs::read_to_string(&conf).unwrap();
    for kept in [
        "# written by hand",
        "unqualified-search-registries",
        "location = \"mirror.example\"",
        "prefix = \"quay.io/old\"",
    ] {
        assert!(text.contains(kept), "{kept} is gone:\n{text}");
    }
    let config = berth_engine::RegistriesConfig::load(&conf).unwrap();
    assert!(config.is_insecure(&host) && config.is_blocked("quay.io/old/x") && !config.is_insecure("mirror.example"));

    let login =
        |password: &str| c::LoginArgs { host: host.clone(), username: "alice".into(), password: password.into() };
    let e = c::registry_login(&b, login("wrong")).await.unwrap_err();
    assert_eq!(e.code, "invalid", "{e:?}");
    assert!(e.message.starts_with(&format!("logging in to {host}: ")), "{}", e.message);
    c::registry_login(&b, login("s3cret")).await.unwrap();
    let s = c::get_settings(&b).await.unwrap();
    assert_eq!(entry(&s.registries, &host).map(|r| r.logged_in), Some(true));
    assert!(std::fs::read_to_string(w.dir.path().join("auth.json")).unwrap().contains(&host));
    let e = c::registry_login(&b, c::LoginArgs { username: " ".into(), ..login("x") }).await.unwrap_err();
    assert_eq!(e.message, format!("logging in to {host}: the username is empty"));

    c::registry_logout(&b, c::HostArgs { host: host.clone() }).await.unwrap();
    let s = c::get_settings(&b).await.unwrap();
    assert_eq!(entry(&s.registries, &host).map(|r| r.logged_in), Some(false));
    let e = c::registry_logout(&b, c::HostArgs { host: host.clone() }).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.message), ("not_found", format!("not logged in to {host}")));

    // Back to secure: the entry changes in place.
    let s = c::set_registry(&b, c::SetRegistryArgs { host: host.clone(), insecure: false }).await.unwrap();
    assert_eq!(entry(&s.registries, &host).map(|r| r.insecure), Some(false));
    assert_eq!(berth_engine::RegistriesConfig::load(&conf).unwrap().registries.len(), 3);

    let e = c::set_registry(&b, c::SetRegistryArgs { host: "no such host".into(), insecure: true }).await.unwrap_err();
    assert_eq!(e.code, "invalid");
}

/// The Docker-compatible socket switched on from the settings serves the API (`/_ping`), and
/// off again stops it. Uses the workspace's `berth` binary (built by `cargo test --workspace`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docker_socket_switches_on_and_off() {
    // target/debug, beside deps/ where this test binary is (whatever CARGO_TARGET_DIR is).
    let berth_dir = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
    assert!(berth_dir.join("berth").is_file(), "build the berth command first (cargo build -p berth-cli)");
    let path = format!("{}:{}", berth_dir.display(), std::env::var("PATH").unwrap_or_default());
    // SAFETY: the tests of this binary do not read PATH concurrently with this write.
    unsafe { std::env::set_var("PATH", path) };
    let w = World::new().await;
    let b = w.backend();
    let before = c::get_settings(&b).await.unwrap().socket.unwrap();
    assert!(!before.enabled);
    assert!(before.path.ends_with("berth.sock"), "{}", before.path);
    let on = c::set_socket(&b, c::SocketArgs { enabled: true }).await.unwrap().socket.unwrap();
    assert!(on.enabled);
    let ping = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::os::unix::net::UnixStream::connect(&on.path).unwrap();
        s.write_all(b"GET /_ping HTTP/1.0\r\n\r\n").unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        r
    })
    .await
    .unwrap();
    assert!(ping.starts_with("HTTP/1.0 200") && ping.ends_with("OK") && ping.contains("api-version: 1.41"), "{ping}");
    let off = c::set_socket(&b, c::SocketArgs { enabled: false }).await.unwrap().socket.unwrap();
    assert!(!off.enabled);
}

/// A pid file that names a process which is not the service (the service died and its pid went
/// to another program) is removed and said so; that process is never signalled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_pid_file_leaves_its_process_alone() {
    let w = World::new().await;
    let b = w.backend();
    let socket = std::path::PathBuf::from(c::get_settings(&b).await.unwrap().socket.unwrap().path);
    let pid_file = socket.with_extension("pid");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    // Something serves the socket, and the pid file names an unrelated process.
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let mut stranger = std::process::Command::new("sleep").arg("1000").spawn().unwrap();
    let pid = stranger.id();
    std::fs::write(&pid_file, format!("{pid}\n")).unwrap();

    let e = c::set_socket(&b, c::SocketArgs { enabled: false }).await.unwrap_err();
    assert_eq!(e.code, "conflict", "{e:?}");
    assert_eq!(
        e.message,
        format!(
            "{} named process {pid}, which is not the service this app started (it runs /usr/bin/sleep): removed \
             that stale file; {} is served by a process this app did not start: stop that `berth system service`",
            pid_file.display(),
            socket.display()
        )
    );
    assert!(!pid_file.exists(), "the stale pid file is removed");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(stranger.try_wait().unwrap(), None, "the unrelated process survives");
    assert!(c::get_settings(&b).await.unwrap().socket.unwrap().enabled, "the socket is still served");

    // The same pid with another start time recorded: the pid was reused.
    let started = berth_engine::container::process_start_time(pid as i32).unwrap();
    std::fs::write(&pid_file, format!("{pid} {}\n", started + 1)).unwrap();
    let e = c::set_socket(&b, c::SocketArgs { enabled: false }).await.unwrap_err();
    assert!(e.message.contains("(that pid is now another process)"), "{}", e.message);
    assert!(!pid_file.exists());
    assert_eq!(stranger.try_wait().unwrap(), None, "the unrelated process survives");
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}
