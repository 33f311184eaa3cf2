//! Re-executions of the running binary: the names of its helper modes, the environment they
//! start with, and the client side of `__berth-userns`.
//!
//! Every binary that links the engine calls `berth_engine::helpers::run_if_helper` first thing in
//! `main`; that one dispatcher turns the argument below into the helper. Here is only what a
//! caller needs to start one, so the low layers (layers, volumes) can ask for a helper without
//! knowing the modules that implement it.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::outside;

/// The per-container monitor.
pub const MONITOR_ARG: &str = "__berth-monitor";
/// A process run in a running container (`exec`).
pub const EXEC_ARG: &str = "__berth-exec";
/// A copy into or out of a container's root (`cp`).
pub const COPY_ARG: &str = "__berth-cp";
/// A running container's periodic healthchecks, started by its monitor.
pub const HEALTH_ARG: &str = "__berth-health";
/// A user-defined network's name server.
pub const DNS_ARG: &str = "__berth-dns";
/// The process that holds the user's namespace open.
pub const PAUSE_ARG: &str = "__berth-pause";
/// Work inside the user's namespace for the front ends: unpack, copy-up, rm.
pub const USERNS_ARG: &str = "__berth-userns";

static HELPER_ENV: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

/// Environment the re-executions of this binary (monitors and helpers) start with. For the
/// desktop app: a library of its binary starts a thread before `main` unless told otherwise, and
/// a helper must be single-threaded (to clone containers safely, and to enter a user namespace
/// at all). Set once, first thing.
pub fn set_helper_env(vars: Vec<(String, String)>) {
    let _ = HELPER_ENV.set(vars);
}

/// A re-execution of this binary, for a monitor or a helper.
pub fn helper_command() -> std::io::Result<Command> {
    Ok(helper_command_of(&std::env::current_exe()?))
}

/// A helper run from another binary that links the engine (a container's `--runtime`), with
/// the environment helpers start with.
pub fn helper_command_of(exe: &std::path::Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.envs(HELPER_ENV.get().into_iter().flatten().map(|(k, v)| (k, v)));
    cmd
}

/// `__berth-userns OP`, to be given its arguments.
pub fn userns_command(op: &str) -> std::io::Result<Command> {
    let mut c = helper_command()?;
    c.arg(USERNS_ARG).arg(op);
    Ok(c)
}

/// Runs a `__berth-userns` command to its end; Err is what it said.
pub fn run_userns(mut c: Command) -> std::io::Result<()> {
    let out = c.stdin(Stdio::null()).output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(std::io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_string()))
}

/// Runs a `__berth-userns` command whose stdout is a stream (a tar), copying it into `out`;
/// Err is what it said when it failed, else the copy's error.
pub fn stream_userns(mut c: Command, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut child = c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut stdout = child.stdout.take().expect("piped");
    let copied = std::io::copy(&mut stdout, out);
    drop(stdout);
    let done = child.wait_with_output()?;
    if !done.status.success() {
        return Err(std::io::Error::other(String::from_utf8_lossy(&done.stderr).trim().to_string()));
    }
    copied.map(drop)
}

/// `rm -rf path`, inside the user namespace when its files may belong to sub-ids.
pub fn remove_tree(path: &Path) -> std::io::Result<()> {
    if !outside() {
        return std::fs::remove_dir_all(path);
    }
    if std::fs::symlink_metadata(path).is_err() {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    let mut c = userns_command("rm")?;
    c.arg(path);
    run_userns(c)
}

/// `__berth-userns rm PATH...` inside the namespace: every tree removed; one already gone is fine.
pub fn remove_trees(paths: &[String]) -> Result<(), String> {
    for p in paths {
        match std::fs::remove_dir_all(p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(format!("{p}: {e}")),
            _ => {}
        }
    }
    Ok(())
}
