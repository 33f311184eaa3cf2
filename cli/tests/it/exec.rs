//! `exec` into running containers: output and exit codes, the container's user, environment,
//! namespaces and cgroup, stdin with -i, and a terminal session driven through a real
//! pseudo-terminal (its size, a resize, Ctrl-C, the exit code).

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::{terminal, World};

fn running(w: &World, name: &str) -> String {
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "-d", "--name", name, &img, "sleep", "1000"]);
    img
}

#[test]
fn exec_runs_inside_with_the_containers_identity_and_passes_the_exit_code_back() {
    let w = World::new();
    let img = running(&w, "box");
    let out = w.ok(&[
        "exec",
        "box",
        "sh",
        "-c",
        "echo pid=$$; cat /proc/1/cmdline | tr '\\0' ' '; echo; grep CapEff /proc/self/status; hostname",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_ne!(lines[0], "pid=1", "not the init");
    assert_eq!(lines[1], "sleep 1000 ", "the container's pid namespace: {out}");
    assert_eq!(lines[2], "CapEff:\t00000000800405fb", "the container's capabilities");
    let inspect: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "box"])).unwrap();
    assert_eq!(lines[3], &inspect[0]["Id"].as_str().unwrap()[..12], "the container's hostname");
    // the same cgroup as the container's init
    let init_cg = w.ok(&["exec", "box", "cat", "/proc/1/cgroup"]);
    let own_cg = w.ok(&["exec", "box", "cat", "/proc/self/cgroup"]);
    assert_eq!(init_cg, own_cg);

    let out = w.berth(&["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    assert_eq!(w.berth(&["exec", "box", "nosuch"]).status.code(), Some(127));
    assert_eq!(w.berth(&["exec", "box", "/etc/passwd"]).status.code(), Some(126));

    assert_eq!(w.ok(&["exec", "-u", "nobody", "box", "id", "-u"]), "65534\n");
    assert_eq!(
        w.ok(&["exec", "-e", "GREETING=hi", "-w", "/tmp", "box", "sh", "-c", "echo $GREETING $(pwd)"]),
        "hi /tmp\n"
    );
    let mut child = w
        .cmd()
        .args(["exec", "-i", "box", "sh", "-c", "read a; echo got $a"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"line\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got line\n");

    w.ok(&["stop", "-t", "0", "box"]);
    let err = w.fails(&["exec", "box", "true"]);
    assert!(err.contains("can only create exec sessions on running containers"), "{err}");
    drop(img);
}

#[test]
fn a_terminal_session_has_the_callers_size_follows_resizes_and_takes_ctrl_c() {
    let w = World::new();
    running(&w, "tty");
    let mut cmd = w.cmd();
    cmd.args(["exec", "-it", "tty", "sh"]);
    let (mut child, mut master) = terminal::spawn(cmd, 40, 120);
    let mut seen = String::new();

    master.write_all(b"stty size; tty\n").unwrap();
    terminal::expect(&mut master, &mut seen, "40 120");
    // The terminal is the container's own (its devpts), as `tty` and /dev/pts see it.
    terminal::expect(&mut master, &mut seen, "/dev/pts/0");
    // The caller's window changes: so does the container's terminal.
    terminal::set_size(&std::os::fd::OwnedFd::from(master.try_clone().unwrap()), 30, 100);
    std::thread::sleep(Duration::from_millis(300));
    master.write_all(b"stty size\n").unwrap();
    terminal::expect(&mut master, &mut seen, "30 100");
    // Ctrl-C reaches the container's foreground process, not berth.
    master.write_all(b"sleep 100; echo not-interrupted\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    master.write_all(b"\x03").unwrap();
    master.write_all(b"echo alive-$((40+2))\n").unwrap();
    terminal::expect(&mut master, &mut seen, "alive-42");
    assert!(!seen.contains("\nnot-interrupted"), "the sleep was interrupted: {seen:?}");
    master.write_all(b"exit 3\n").unwrap();
    assert_eq!(terminal::exit_code(&mut child, &mut master), 3);
}

#[test]
fn run_it_is_an_interactive_shell_that_detaches_and_attaches_again() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let (mut child, mut master) = on_a_terminal(&w, &["run", "-it", "--name", "shell", &img, "sh"]);
    let mut seen = String::new();
    terminal::expect(&mut master, &mut seen, "/ # ");
    master.write_all(b"stty size; tty; echo in-$((1+1))\n").unwrap();
    terminal::expect(&mut master, &mut seen, "in-2");
    assert!(seen.contains("/dev/pts/0"), "the container's own terminal: {seen:?}");
    assert!(seen.contains("25 90"), "the terminal has the caller's size: {seen:?}");
    // Ctrl-P Ctrl-Q: berth returns, the container runs on.
    master.write_all(b"\x10\x11").unwrap();
    assert_eq!(terminal::exit_code(&mut child, &mut master), 0);
    let state: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "shell"])).unwrap();
    assert_eq!(state[0]["State"]["Status"], "running");

    let (mut child, mut master) = on_a_terminal(&w, &["attach", "shell"]);
    let mut seen = String::new();
    master.write_all(b"echo back-$((2+3))\n").unwrap();
    terminal::expect(&mut master, &mut seen, "back-5");
    master.write_all(b"exit 5\n").unwrap();
    assert_eq!(terminal::exit_code(&mut child, &mut master), 5, "attach returns the container's exit code");
    let state: serde_json::Value = serde_json::from_str(&w.ok(&["inspect", "shell"])).unwrap();
    assert_eq!(
        (state[0]["State"]["Status"].as_str(), state[0]["State"]["ExitCode"].as_i64()),
        (Some("exited"), Some(5))
    );
    assert!(w.ok(&["logs", "shell"]).contains("back-5"), "a terminal's output is logged too");

    // -i without a terminal: stdin is a pipe to the container, closed at end of input.
    let mut c = w
        .cmd()
        .args(["run", "-i", "--rm", &img, "sh", "-c", "cat; echo done; exit 4"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b"piped in\n").unwrap();
    let out = c.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "piped in\ndone\n");
    assert_eq!(out.status.code(), Some(4));
    // What a quick container writes before any attach could connect is shown all the same.
    for _ in 0..5 {
        let out = w.cmd().args(["run", "-i", "--rm", &img, "echo", "early"]).stdin(Stdio::null()).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "early\n", "{out:?}");
    }
    w.ok(&["create", "-i", "--name", "later", &img, "sh", "-c", "echo first; cat"]);
    let mut c =
        w.cmd().args(["start", "-a", "-i", "later"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(b"second\n").unwrap();
    let out = c.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "first\nsecond\n");
}

fn on_a_terminal(w: &World, args: &[&str]) -> (std::process::Child, std::fs::File) {
    let mut cmd = w.cmd();
    cmd.args(args);
    terminal::spawn(cmd, 25, 90)
}
