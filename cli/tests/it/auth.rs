//! Registries with basic auth: login, pull with stored credentials, logout.

use berth_testkit::Registry;

use crate::World;

#[test]
fn login_pull_logout() {
    let w = World::with_registry(Registry::start_with_basic_auth("alice", "s3cret").unwrap());
    let pushed = w.push_busybox("private:1");
    let reference = w.image_ref("private:1");
    let host = w.registry.addr().to_string();

    let err = w.fails(&["pull", &reference]);
    assert!(err.contains(&format!("authentication required: log in with `berth login {host}`")), "{err}");

    let err = w.fails(&["login", "-u", "alice", "-p", "wrong", &host]);
    assert!(err.contains(&host) && err.contains("refused"), "{err}");
    let auth_file = w.dir.path().join("run/containers/auth.json");
    assert!(!auth_file.exists(), "a failed login stores nothing");

    let out = w
        .cmd()
        .args(["login", "-u", "alice", "--password-stdin", &host])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut child = out;
        child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Login Succeeded!");
    }
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&auth_file).unwrap()).unwrap();
    assert_eq!(stored["auths"][&host]["auth"], "YWxpY2U6czNjcmV0");

    assert_eq!(w.ok(&["pull", "-q", &reference]).trim(), &pushed.config_digest[7..]);

    assert_eq!(w.ok(&["logout", &host]).trim(), format!("Removed login credentials for {host}"));
    let err = w.fails(&["logout", &host]);
    assert!(err.contains(&format!("not logged into {host}")), "{err}");
    w.ok(&["rmi", &reference]);
    assert!(w.fails(&["pull", &reference]).contains("authentication required"));
}

#[test]
fn credentials_from_the_docker_config_file() {
    let w = World::with_registry(Registry::start_with_basic_auth("bob", "pw").unwrap());
    let pushed = w.push_busybox("private:1");
    let docker = w.dir.path().join("home/.docker");
    std::fs::create_dir_all(&docker).unwrap();
    let entry = format!(r#"{{"auths":{{"{}":{{"auth":"Ym9iOnB3"}}}}}}"#, w.registry.addr());
    std::fs::write(docker.join("config.json"), entry).unwrap();
    assert_eq!(w.ok(&["pull", "-q", &w.image_ref("private:1")]).trim(), &pushed.config_digest[7..]);
}

#[test]
fn bearer_token_registry() {
    let w = World::with_registry(Registry::start_with_token_auth("carol", "t0ken").unwrap());
    let pushed = w.push_busybox("private/app:1");
    let reference = w.image_ref("private/app:1");
    let host = w.registry.addr().to_string();

    let err = w.fails(&["pull", &reference]);
    assert!(err.contains("authentication required"), "{err}");
    let err = w.fails(&["login", "-u", "carol", "-p", "nope", &host]);
    assert!(err.contains("refused"), "{err}");

    let before = w.registry.tokens_issued();
    assert_eq!(w.ok(&["login", "-u", "carol", "-p", "t0ken", &host]).trim(), "Login Succeeded!");
    assert_eq!(w.ok(&["pull", "-q", &reference]).trim(), &pushed.config_digest[7..]);
    assert!(w.registry.tokens_issued() > before, "the pull went through the token server");
}
