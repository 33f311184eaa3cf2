//! `berth cp`: files between the host and a container, as tar streams through a helper that
//! works inside the container's root. The helper (a single-threaded re-exec, [`COPY_ARG`])
//! joins a running container's mount namespace, or mounts a stopped container's overlay in a
//! private mount namespace of its own, and chroots there: every path and symlink is resolved
//! inside the container, never on the host. It writes a tar of a path to stdout (`out`),
//! unpacks one from stdin at a path (`in`, `archive`), or tells what is at a path (`stat`).
//!
//! `berth cp` connects the helper's stdin or stdout itself; [`Engine::copy_out`],
//! [`Engine::copy_in`] and [`Engine::stat_path`] run it to the end for a caller that has a
//! reader or a writer (the API service's `docker cp`), the helper's error as [`Error::Copy`].

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;

use crate::container::ContainerPaths;
use crate::{Engine, EngineConfig, Error, Result};

pub mod archive;
mod mounts;

pub use archive::{CopyError, Owner, PathStat, Place, Receive};
pub use berth_userns::reexec::COPY_ARG;

/// One end of a copy inside a container, for [`Engine::copy_command`].
#[derive(Clone, Debug)]
pub enum Request<'a> {
    /// A tar of `path` on the helper's stdout ([`archive::send`]); `shown` is the path as the
    /// user gave it, for messages. `follow`: a link at `path` sends what it names (`berth cp`),
    /// else the link itself (Docker's API).
    Out { path: &'a str, shown: &'a str, follow: bool },
    /// A tar on the helper's stdin placed at `path` ([`archive::receive`]).
    In { path: &'a str, contents: bool, overwrite: bool, chown: bool },
    /// A user's tar on the helper's stdin unpacked into the directory `path`.
    Archive { path: &'a str, overwrite: bool, chown: bool },
    /// What is at `path` ([`archive::stat`]) as JSON on the helper's stdout: a [`PathStat`], or
    /// `null` when nothing is there.
    Stat { path: &'a str, follow: bool },
}

impl Engine {
    /// The helper command for one end of a copy; the caller connects its stdin or stdout to a
    /// tar stream. With `chown` (`--archive`, Podman's default) what it writes becomes the
    /// container's user's, else the archive's owners are kept.
    pub fn copy_command(&self, query: &str, request: Request<'_>) -> Result<std::process::Command> {
        let c = self.container(query)?;
        let (mode, path) = match &request {
            Request::Out { path, .. } => ("out", *path),
            Request::In { path, .. } => ("in", *path),
            Request::Archive { path, .. } => ("archive", *path),
            Request::Stat { path, .. } => ("stat", *path),
        };
        if !path.starts_with('/') {
            return Err(Error::Invalid(format!("\"{path}\": the path in the container must be absolute")));
        }
        let mut cmd = berth_userns::reexec::helper_command()
            .map_err(|source| Error::Io { path: "/proc/self/exe".into(), source })?;
        cmd.arg(COPY_ARG)
            .args(["--root".as_ref(), self.config().root.as_os_str()])
            .args(["--run-root".as_ref(), self.config().run_root.as_os_str()])
            .args(["--id", &c.id, "--mode", mode, "--path", path]);
        match request {
            Request::Out { shown, follow, .. } => {
                cmd.args(["--shown", shown]).args(follow.then_some("--follow"));
            }
            Request::In { contents, overwrite, chown, .. } => {
                cmd.args(contents.then_some("--contents")).args(overwrite.then_some("--overwrite"));
                cmd.args((!chown).then_some("--no-chown"));
            }
            Request::Archive { overwrite, chown, .. } => {
                cmd.args(overwrite.then_some("--overwrite")).args((!chown).then_some("--no-chown"));
            }
            Request::Stat { follow, .. } => {
                // nothing is written: the container's user is not needed
                cmd.arg("--no-chown").args(follow.then_some("--follow"));
            }
        }
        Ok(cmd)
    }

    /// What is at `path` in the container (running or not); `None` when nothing is there.
    pub fn stat_path(&self, query: &str, path: &str, follow: bool) -> Result<Option<PathStat>> {
        let out = self
            .copy_command(query, Request::Stat { path, follow })?
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(spawn_failed)?;
        if !out.status.success() {
            return Err(helper_failed(&out.stderr));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| Error::Copy(format!("reading what the copy helper found at {path}: {e}")))
    }

    /// Writes the tar a [`Request::Out`] asks for to `out`. When `out` fails (its reader went
    /// away) the helper is stopped by its broken pipe and that error is returned.
    pub fn copy_out(&self, query: &str, request: Request<'_>, out: &mut dyn Write) -> Result<()> {
        let mut child = self
            .copy_command(query, request)?
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_failed)?;
        let mut tar = child.stdout.take().expect("piped");
        let copied = std::io::copy(&mut tar, out).and_then(|_| out.flush());
        drop(tar);
        finish(child, copied)
    }

    /// Feeds `input` to the helper of a [`Request::In`] or [`Request::Archive`]. When the
    /// helper stops early (a bad archive, a file in the way) its error is the one returned.
    pub fn copy_in(&self, query: &str, request: Request<'_>, input: &mut dyn Read) -> Result<()> {
        let mut child = self
            .copy_command(query, request)?
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_failed)?;
        let mut stdin = child.stdin.take().expect("piped");
        let copied = match std::io::copy(input, &mut stdin) {
            // the helper stopped reading: at the archive's end (what follows is padding), or
            // on an error it reports
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r.map(drop),
        };
        drop(stdin);
        finish(child, copied)
    }
}

fn spawn_failed(source: std::io::Error) -> Error {
    Error::Io { path: "/proc/self/exe".into(), source }
}

/// The helper's message (it prints `Error: …` once, on stderr).
fn helper_failed(stderr: &[u8]) -> Error {
    let text = String::from_utf8_lossy(stderr);
    let message = text.trim().strip_prefix("Error: ").unwrap_or(text.trim());
    Error::Copy(if message.is_empty() { "the copy helper failed".to_string() } else { message.to_string() })
}

/// Waits for a helper whose stdin or stdout was `copied`: its error first, then the copy's.
fn finish(mut child: std::process::Child, copied: std::io::Result<()>) -> Result<()> {
    let mut stderr = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_end(&mut stderr);
    }
    let status = child.wait().map_err(spawn_failed)?;
    let said = !stderr.iter().all(u8::is_ascii_whitespace);
    match (status.success(), copied) {
        (false, _) if said => Err(helper_failed(&stderr)),
        (_, Err(source)) => Err(Error::Io { path: "the copy's stream".into(), source }),
        (false, Ok(_)) => Err(helper_failed(&stderr)),
        (true, Ok(_)) => Ok(()),
    }
}

/// The copy helper (`__berth-cp`, started by [`crate::helpers::run_if_helper`]): its exit code.
/// An error is printed once, by the end that failed: a sender whose reader went away (it
/// failed and said why) exits quietly.
pub(crate) fn helper_main(args: &[String]) -> i32 {
    let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let flag = |k: &str| args.iter().any(|a| a == k);
    let result = match (get("--root"), get("--run-root"), get("--id"), get("--mode"), get("--path")) {
        (Some(root), Some(run_root), Some(id), Some(mode), Some(path)) => {
            let opts = HelperOptions {
                shown: get("--shown").unwrap_or_else(|| path.clone()),
                follow: flag("--follow"),
                contents: flag("--contents"),
                overwrite: flag("--overwrite"),
                chown: !flag("--no-chown"),
            };
            helper(PathBuf::from(root), PathBuf::from(run_root), &id, &mode, &path, &opts)
        }
        _ => Err(format!(
            "{COPY_ARG}: usage: --root DIR --run-root DIR --id ID --mode in|out|archive|stat --path PATH \
             [--shown PATH] [--follow] [--contents] [--overwrite] [--no-chown]"
        )),
    };
    match result {
        Ok(()) => 0,
        Err(e) if e.is_empty() => 125,
        Err(e) => {
            eprintln!("Error: {e}");
            125
        }
    }
}

/// How long a copy waits for a container whose process just went to be recorded as stopped.
const EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

struct HelperOptions {
    shown: String,
    follow: bool,
    contents: bool,
    overwrite: bool,
    chown: bool,
}

fn helper(
    root: PathBuf,
    run_root: PathBuf,
    id: &str,
    mode: &str,
    path: &str,
    opts: &HelperOptions,
) -> std::result::Result<(), String> {
    let engine =
        Engine::open(EngineConfig::new(root, run_root).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let c = engine.container(id).map_err(|e| e.to_string())?;
    let owner = if !opts.chown {
        Owner::FromArchive
    } else {
        // The container's user as its spec has it, resolved at create.
        let spec = oci_spec::runtime::Spec::load(ContainerPaths::new(&engine.config().root, &c.id).spec())
            .map_err(|e| format!("reading the spec of container {}: {e}", c.name))?;
        let user = spec.process().as_ref().map(|p| p.user().clone()).unwrap_or_default();
        Owner::Fixed { uid: user.uid(), gid: user.gid() }
    };
    let attached = enter_root(&engine, &c)?;
    let place = Place::Container(c.name.clone());
    let receive = |contents| Receive { contents, overwrite: opts.overwrite, owner, host: false, place: place.clone() };
    let result = match mode {
        "out" => match archive::send(path, &opts.shown, &place, opts.follow, std::io::stdout().lock()) {
            Err(CopyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => Err(String::new()),
            r => r.map_err(|e| e.to_string()),
        },
        "in" => {
            archive::receive(std::io::stdin().lock(), path, false, &receive(opts.contents)).map_err(|e| e.to_string())
        }
        "archive" => archive::receive(std::io::stdin().lock(), path, true, &receive(false)).map_err(|e| e.to_string()),
        "stat" => {
            let found = serde_json::to_vec(&archive::stat(path, opts.follow)).expect("a stat serialises");
            let mut out = std::io::stdout().lock();
            out.write_all(&found).and_then(|()| out.flush()).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown mode {other}")),
    };
    // The mount points made for a stopped container's volumes go again.
    let cleaned = attached.detach();
    match (result, cleaned) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// Makes the container's root this process's root. A running container's mounts are there
/// already; a stopped one's volumes and bind mounts are attached to its files (see [`mounts`]).
/// A container that exits meanwhile (its process gone before its monitor recorded it) is
/// looked at again until it is recorded as stopped, for at most [`EXIT_WAIT`].
fn enter_root(engine: &Engine, c: &crate::ContainerRecord) -> std::result::Result<mounts::Attached, String> {
    use nix::mount::{mount, MsFlags};
    use nix::sched::{setns, unshare, CloneFlags};
    let deadline = std::time::Instant::now() + EXIT_WAIT;
    let mut c = c.clone();
    while let Some(pid) = c.pid.filter(|_| c.is_running()) {
        match std::fs::File::open(format!("/proc/{pid}/ns/mnt")) {
            Ok(ns) => {
                // Joining a mount namespace puts us at its root, which is the container's.
                setns(ns, CloneFlags::CLONE_NEWNS).map_err(|e| format!("joining the container's mounts: {e}"))?;
                return Ok(mounts::Attached::default());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                c = engine.container(&c.id).map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(format!("opening the mounts of container {}: {e}", c.name)),
        }
    }
    let c = &c;
    // A stopped container: its overlay (or its --rootfs directory), in a mount namespace
    // nobody else sees.
    let lower = match &c.options.rootfs {
        Some(r) => vec![r.path.display().to_string()],
        None => {
            let img = crate::image::get(engine.state().conn(), &c.image_id)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("the image of container {} is gone", c.name))?;
            img.layers
                .iter()
                .rev()
                .map(|l| engine.layers().short_link(&l.chain_id))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?
        }
    };
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("creating a mount namespace: {e}"))?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("making the mounts private: {e}"))?;
    let paths = ContainerPaths::new(&engine.config().root, &c.id);
    match c.options.rootfs.as_ref().filter(|r| !r.overlay) {
        Some(r) => {
            mount(Some(&r.path), &paths.rootfs(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
                .map_err(|e| format!("binding the container's root {}: {e}", r.path.display()))?
        }
        None => {
            std::env::set_current_dir(engine.layers().root()).map_err(|e| e.to_string())?;
            let mut data = format!(
                "lowerdir={},upperdir={},workdir={}",
                lower.join(":"),
                paths.upper().display(),
                paths.work().display()
            );
            if crate::rootless::is_rootless() {
                data.push_str(",userxattr");
            }
            mount(Some("overlay"), &paths.rootfs(), Some("overlay"), MsFlags::empty(), Some(data.as_str()))
                .map_err(|e| format!("mounting the container's files: {e}"))?;
        }
    }
    let detached = mounts::Detached::open(&engine.config().root, &c.options.mounts)?;
    nix::unistd::chroot(&paths.rootfs()).map_err(|e| format!("entering the container's files: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| e.to_string())?;
    detached.attach()
}
