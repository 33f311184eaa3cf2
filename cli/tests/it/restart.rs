//! Restart policies, applied by the monitor: on-failure with and without a limit, always, and a
//! stop or kill by the user that the policy never undoes.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::World;

fn busybox(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let r = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

fn state(w: &World, name: &str) -> Value {
    let v: Value = serde_json::from_str(&w.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Counts its runs in its own writable layer (which restarts keep), fails until the 4th.
const CRASH_THREE_TIMES: &str =
    "n=$(cat /runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > /runs; echo run $n; [ $n -ge 4 ] && exec sleep 300; exit 1";

#[test]
fn a_container_that_crashes_three_times_is_restarted_until_it_runs() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&["run", "-d", "--name", "flaky", "--restart", "on-failure", &img, "sh", "-c", CRASH_THREE_TIMES]);
    wait_for("the fourth run", || w.ok(&["logs", "flaky"]).contains("run 4"));
    wait_for("it to be running", || state(&w, "flaky")["State"]["Status"] == "running");
    let s = state(&w, "flaky");
    assert_eq!(s["RestartCount"], 3);
    assert_eq!(s["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(w.ok(&["logs", "flaky"]), "run 1\nrun 2\nrun 3\nrun 4\n");
}

#[test]
fn on_failure_stops_after_its_maximum_and_not_after_success() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&["run", "-d", "--name", "limited", "--restart", "on-failure:2", &img, "sh", "-c", "echo try; exit 3"]);
    wait_for("three tries", || w.ok(&["logs", "limited"]).lines().count() == 3);
    wait_for("the monitor to give up", || {
        let s = state(&w, "limited");
        s["State"]["Status"] == "exited" && s["RestartCount"] == 2
    });
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(w.ok(&["logs", "limited"]), "try\ntry\ntry\n", "no fourth try");
    assert_eq!(state(&w, "limited")["State"]["ExitCode"], 3);

    w.ok(&["run", "-d", "--name", "fine", "--restart", "on-failure", &img, "true"]);
    wait_for("it to exit", || state(&w, "fine")["State"]["Status"] == "exited");
    std::thread::sleep(Duration::from_millis(500));
    let s = state(&w, "fine");
    assert_eq!((s["State"]["Status"].as_str(), s["RestartCount"].as_u64()), (Some("exited"), Some(0)));
}

#[test]
fn always_restarts_but_never_undoes_a_stop_or_kill_by_the_user() {
    let w = World::new();
    let img = busybox(&w);
    w.ok(&["run", "-d", "--name", "keeper", "--restart", "always", &img, "sh", "-c", "echo up; sleep 0.2"]);
    wait_for("a few restarts", || w.ok(&["logs", "keeper"]).lines().count() >= 3);
    w.ok(&["stop", "-t", "1", "keeper"]);
    let logged = w.ok(&["logs", "keeper"]).lines().count();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(state(&w, "keeper")["State"]["Status"], "exited");
    assert_eq!(w.ok(&["logs", "keeper"]).lines().count(), logged, "stopped means stopped");

    // A start by the user brings the policy back; a kill ends it again.
    w.ok(&["run", "-d", "--name", "sleeper", "--restart", "unless-stopped", &img, "sleep", "300"]);
    let pid = state(&w, "sleeper")["State"]["Pid"].as_i64().unwrap();
    // The process dying on its own: restarted.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_for("a restart", || {
        let s = state(&w, "sleeper");
        s["State"]["Status"] == "running" && s["State"]["Pid"].as_i64() != Some(pid)
    });
    w.ok(&["kill", "sleeper"]);
    wait_for("it to exit", || state(&w, "sleeper")["State"]["Status"] == "exited");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(state(&w, "sleeper")["State"]["Status"], "exited", "a kill by the user is not undone");
    w.ok(&["start", "sleeper"]);
    assert_eq!(state(&w, "sleeper")["RestartCount"], 0);
}

#[test]
fn bad_restart_policies_are_refused() {
    let w = World::new();
    let img = busybox(&w);
    let err = w.fails(&["run", "--restart", "sometimes", &img, "true"]);
    assert!(err.contains("invalid restart policy \"sometimes\""), "{err}");
    let err = w.fails(&["run", "--rm", "--restart", "always", &img, "true"]);
    assert!(err.contains("the --rm option conflicts with --restart always"), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
}
