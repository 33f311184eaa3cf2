//! Healthchecks: run every interval by the container's own helper, counted as Docker counts
//! them, shown in inspect, ps and events, run by hand with `healthcheck run`, acted on with
//! `--health-on-failure`, taken from the image's HEALTHCHECK, and through the Docker API and
//! docker-compose's `depends_on: condition: service_healthy`.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::World;

fn busybox(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let r = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

fn inspect(w: &World, name: &str) -> Value {
    let v: Value = serde_json::from_str(&w.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

fn health(w: &World, name: &str) -> Value {
    inspect(w, name)["State"]["Health"].clone()
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// The periodic checks' helper processes of a container (by its id on their command line).
fn health_helpers(id: &str) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains("__berth-health") && text.contains(id) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn a_check_turns_healthy_then_unhealthy_and_back_and_shows_in_ps_inspect_and_events() {
    let w = World::new();
    let img = busybox(&w);
    let started = Instant::now();
    let id = w
        .ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--health-cmd",
            "echo checked; test ! -e /down",
            "--health-interval",
            "2s",
            "--health-retries",
            "2",
            &img,
            "sleep",
            "300",
        ])
        .trim()
        .to_string();
    // the first check comes an interval after the start
    let h = health(&w, "web");
    assert_eq!(h["Status"], "starting", "{h}");
    assert_eq!(inspect(&w, "web")["State"]["Healthcheck"]["Status"], "starting", "Podman 4's name too");
    assert!(w.ok(&["ps"]).contains("(starting)"), "{}", w.ok(&["ps"]));
    wait_for("healthy", 20, || health(&w, "web")["Status"] == "healthy");
    assert!(started.elapsed() >= Duration::from_millis(1500), "the first check waits an interval");
    let h = health(&w, "web");
    assert_eq!((h["FailingStreak"].as_u64(), h["Log"][0]["ExitCode"].as_i64()), (Some(0), Some(0)), "{h}");
    assert_eq!(h["Log"][0]["Output"], "checked", "{h}");
    let c = inspect(&w, "web");
    assert_eq!(c["Config"]["Healthcheck"]["Test"], serde_json::json!(["CMD-SHELL", "echo checked; test ! -e /down"]));
    assert_eq!(c["Config"]["Healthcheck"]["Interval"], 2_000_000_000u64);
    assert_eq!(c["Config"]["Healthcheck"]["Retries"], 2);
    assert!(w.ok(&["ps"]).contains("(healthy)"), "{}", w.ok(&["ps"]));
    assert_eq!(w.ok(&["ps", "--filter", "health=healthy", "--format", "{{.Names}}"]), "web\n");
    assert_eq!(w.ok(&["ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"]), "");
    assert!(w.fails(&["ps", "--filter", "health=sick"]).contains("invalid health filter \"sick\""));

    // two failures in a row (retries 2) make it unhealthy; one success heals it
    w.ok(&["exec", "web", "touch", "/down"]);
    let took = wait_for("unhealthy", 20, || health(&w, "web")["Status"] == "unhealthy");
    assert!(took >= Duration::from_millis(1500), "two failed checks take two intervals, not {took:?}");
    let h = health(&w, "web");
    assert!(h["FailingStreak"].as_u64().unwrap() >= 2, "{h}");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["ExitCode"].as_i64(), last["Output"].as_str()), (Some(1), Some("checked")), "{h}");
    assert!(h["Log"].as_array().unwrap().len() <= 5, "five results kept: {h}");
    assert!(w.ok(&["ps"]).contains("(unhealthy)"));
    assert_eq!(w.ok(&["ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"]), "web\n");
    w.ok(&["exec", "web", "rm", "/down"]);
    wait_for("healthy again", 20, || health(&w, "web")["Status"] == "healthy");
    assert_eq!(health(&w, "web")["FailingStreak"], 0);

    let events = w.ok(&["events", "--stream=false", "--filter", "event=health_status"]);
    assert!(events.contains("health_status=unhealthy") && events.contains("health_status=healthy"), "{events}");
    assert!(events.contains("container health_status"), "{events}");

    // the checks' helper goes with the container's run
    assert_eq!(health_helpers(&id), 1);
    w.ok(&["stop", "-t", "0", "web"]);
    wait_for("the checks' helper to end", 5, || health_helpers(&id) == 0);
    let status = w.ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(status.starts_with("Exited"), "{status}");
    w.ok(&["rm", "web"]);
}

#[test]
fn healthcheck_run_answers_at_once_and_on_failure_kills_restarts_or_stops() {
    let w = World::new();
    let img = busybox(&w);
    // no check, no action without one; nothing is created by the refusal
    w.ok(&["create", "--name", "plain", &img, "sleep", "300"]);
    w.ok(&["start", "plain"]);
    let out = w.berth(&["healthcheck", "run", "plain"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no defined healthcheck"));
    let e = w.fails(&["create", "--name", "x", "--health-on-failure=kill", &img]);
    assert!(e.contains("cannot set on-failure action to kill without a health check"), "{e}");
    let e = w.fails(&["create", "--name", "x", "--health-cmd", "true", "--health-on-failure=explode", &img]);
    assert!(e.contains("invalid on-failure action \"explode\""), "{e}");
    let e = w.fails(&["create", "--name", "x", "--health-cmd", "true", "--health-interval", "soon", &img]);
    assert!(e.contains("--health-interval soon"), "{e}");
    assert_eq!(w.ok(&["ps", "-a", "--format", "{{.Names}}"]), "plain\n");

    // a start that removes the mark, so a restarted container is healthy again
    let script = "rm -f /uh-oh; exec sleep 300";
    for action in ["none", "kill", "restart", "stop"] {
        let name = format!("hc-{action}");
        w.ok(&[
            "run",
            "-d",
            "--name",
            &name,
            "--health-cmd",
            "echo looked; test ! -e /uh-oh",
            "--health-interval",
            "disable",
            "--health-retries",
            "1",
            "--health-on-failure",
            action,
            &img,
            "sh",
            "-c",
            script,
        ]);
        assert_eq!(inspect(&w, &name)["Config"]["HealthcheckOnFailureAction"], action);
        assert_eq!(w.ok(&["healthcheck", "run", &name]), "", "healthy prints nothing");
        assert_eq!(health(&w, &name)["Status"], "healthy");
        w.ok(&["exec", &name, "touch", "/uh-oh"]);
        let out = w.berth(&["healthcheck", "run", &name]);
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned()),
            (Some(1), "unhealthy\n".into())
        );
        let status = inspect(&w, &name)["State"]["Status"].as_str().unwrap().to_string();
        match action {
            "none" => {
                assert_eq!(status, "running");
                assert_eq!(w.berth(&["healthcheck", "run", &name]).status.code(), Some(1), "still broken");
            }
            "restart" => {
                assert_eq!(status, "running", "restarted");
                assert_eq!(w.ok(&["healthcheck", "run", &name]), "", "healthy after the restart");
            }
            _ => assert_eq!(status, "exited", "{action} leaves it stopped"),
        }
        w.ok(&["rm", "-f", "-t", "0", &name]);
    }
    // a stopped container's check is not run
    w.ok(&["create", "--name", "idle", "--health-cmd", "true", &img, "sleep", "300"]);
    let e = w.fails(&["healthcheck", "run", "idle"]);
    assert!(e.contains("is not running"), "{e}");
}

#[test]
fn a_check_that_hangs_or_names_a_missing_command_fails_with_what_happened() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 31",
        "--health-timeout",
        "1s",
        "--health-interval",
        "disable",
        &img,
        "sleep",
        "300",
    ]);
    let t = Instant::now();
    let out = w.berth(&["healthcheck", "run", "slow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(t.elapsed() < Duration::from_secs(10), "the check is cut at its timeout, took {:?}", t.elapsed());
    let last = health(&w, "slow")["Log"][0].clone();
    assert_eq!(last["ExitCode"], -1, "{last}");
    assert!(last["Output"].as_str().unwrap().contains("exceeded timeout of 1s"), "{last}");
    // the check's process does not stay behind in the container
    wait_for("the check's sleep to be gone", 5, || !w.ok(&["top", "slow"]).contains("sleep 31"));

    w.ok(&[
        "run",
        "-d",
        "--name",
        "typo",
        "--health-cmd",
        r#"["/no/such/check"]"#,
        "--health-interval",
        "disable",
        &img,
        "sleep",
        "300",
    ]);
    assert_eq!(w.berth(&["healthcheck", "run", "typo"]).status.code(), Some(1));
    let last = health(&w, "typo")["Log"][0].clone();
    assert_eq!(last["ExitCode"], 127, "{last}");
    assert!(last["Output"].as_str().unwrap().contains("/no/such/check"), "names the command: {last}");
    assert_eq!(inspect(&w, "typo")["Config"]["Healthcheck"]["Test"], serde_json::json!(["CMD", "/no/such/check"]));
}

#[test]
fn the_images_healthcheck_runs_unless_turned_off_and_the_flags_lay_over_it() {
    let w = World::new();
    let img = busybox(&w);
    let ctx = w.dir.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Containerfile"),
        format!("FROM {img}\nHEALTHCHECK --interval=1s --retries=5 CMD test -e /ready\nCMD [\"sh\", \"-c\", \"touch /ready; exec sleep 300\"]\n"),
    )
    .unwrap();
    w.ok(&["build", "-q", "-t", "checked", ctx.to_str().unwrap()]);
    w.ok(&["run", "-d", "--name", "a", "checked"]);
    wait_for("the image's check to pass", 20, || health(&w, "a")["Status"] == "healthy");
    let c = inspect(&w, "a");
    // the shell form, as Docker stores it
    assert_eq!(c["Config"]["Healthcheck"]["Test"], serde_json::json!(["CMD-SHELL", "test -e /ready"]));
    assert_eq!(c["Config"]["Healthcheck"]["Retries"], 5);

    w.ok(&["run", "-d", "--name", "b", "--health-retries", "1", "--health-interval", "disable", "checked"]);
    let c = inspect(&w, "b");
    assert_eq!(
        c["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "test -e /ready"]),
        "the image's test"
    );
    assert_eq!(c["Config"]["Healthcheck"]["Retries"], 1, "the flag's retries");

    w.ok(&["run", "-d", "--name", "c", "--no-healthcheck", "checked"]);
    let c = inspect(&w, "c");
    assert!(c["State"]["Health"].is_null() && c["Config"]["Healthcheck"].is_null(), "{}", c["State"]);
    let ps = w.ok(&["ps", "--filter", "name=c", "--format", "{{.Status}}"]);
    assert!(ps.starts_with("Up") && !ps.contains('('), "{ps}");
    assert_eq!(w.ok(&["ps", "--filter", "health=none", "--format", "{{.Names}}"]), "c\n");
    let e = w.fails(&["run", "-d", "--name", "d", "--no-healthcheck", "--health-cmd", "true", "checked"]);
    assert!(e.contains("--no-healthcheck conflicts with --health-cmd"), "{e}");
}

/// docker-compose (Debian's 1.29) starts a service only once the one it depends on reports
/// healthy, with the check given in the compose file (Docker's `Healthcheck` in the API).
#[test]
fn compose_waits_for_service_healthy_and_docker_sees_the_health() {
    let w = World::new();
    let img = busybox(&w);
    let s = crate::docker_api::service(&w);
    let dir = w.dir.path().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("docker-compose.yml"),
        format!(
            r#"version: "2.4"
services:
  db:
    image: {img}
    command: sh -c "sleep 2; touch /ready; exec sleep 300"
    healthcheck:
      test: ["CMD", "test", "-e", "/ready"]
      interval: 500ms
      retries: 30
  app:
    image: {img}
    command: sh -c "date +%s.%N > /started; exec sleep 300"
    depends_on:
      db:
        condition: service_healthy
"#
        ),
    )
    .unwrap();
    let out = crate::docker_api::compose_cmd(&w, &s, &dir).args(["up", "-d"]).output().unwrap();
    assert!(out.status.success(), "compose up: {}", String::from_utf8_lossy(&out.stderr));
    let db = inspect(&w, "proj_db_1");
    assert_eq!(db["State"]["Health"]["Status"], "healthy", "app started only once db was healthy");
    let first_pass = db["State"]["Health"]["Log"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ExitCode"] == 0)
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["End"].as_str().unwrap()).unwrap())
        .unwrap();
    let app_started =
        chrono::DateTime::parse_from_rfc3339(inspect(&w, "proj_app_1")["State"]["StartedAt"].as_str().unwrap())
            .unwrap();
    assert!(app_started >= first_pass, "app started {app_started} before db's first passing check {first_pass}");
    let status = crate::docker_api::ok(&w, &s, &["inspect", "--format", "{{.State.Health.Status}}", "proj_db_1"]);
    assert_eq!(status.trim(), "healthy");
    let ps = crate::docker_api::ok(&w, &s, &["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.lines().any(|l| l.starts_with("proj_db_1 Up") && l.ends_with("(healthy)")), "{ps}");
    let hc = crate::docker_api::ok(&w, &s, &["inspect", "--format", "{{json .Config.Healthcheck}}", "proj_db_1"]);
    let hc: Value = serde_json::from_str(&hc).unwrap();
    assert_eq!((hc["Interval"].as_u64(), hc["Retries"].as_u64()), (Some(500_000_000), Some(30)), "{hc}");
    let out = crate::docker_api::compose_cmd(&w, &s, &dir).args(["down"]).output().unwrap();
    assert!(out.status.success(), "compose down: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.ok(&["ps", "-aq"]), "");
}
