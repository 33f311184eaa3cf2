//! `berth cp`: files between the host and a container, as tar streams through a helper that
//! works inside the container's root. The helper (a single-threaded re-exec, [`COPY_ARG`])
//! joins a running container's mount namespace, or mounts a stopped container's overlay in a
//! private mount namespace of its own, and chroots there: every path and symlink is resolved
//! inside the container, never on the host. It writes a tar of a path to stdout (`out`), or
//! unpacks one from stdin at a path (`in`).

use std::path::{Path, PathBuf};

use crate::container::ContainerPaths;
use crate::{Engine, EngineConfig, Error, Result};

pub use berth_userns::reexec::COPY_ARG;

/// Which way the bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the container: the helper writes a tar to stdout.
    Out,
    /// Into the container: the helper reads a tar from stdin.
    In,
}

impl Engine {
    /// The helper command for one copy; the caller connects its stdin or stdout to a tar stream.
    pub fn copy_command(&self, query: &str, direction: Direction, path: &str) -> Result<std::process::Command> {
        let c = self.container(query)?;
        if !path.starts_with('/') {
            return Err(Error::Invalid(format!("\"{path}\": the path in the container must be absolute")));
        }
        let helper = berth_userns::reexec::helper_command()
            .map_err(|source| Error::Io { path: "/proc/self/exe".into(), source })?;
        let mut cmd = helper;
        cmd.arg(COPY_ARG)
            .args(["--root".as_ref(), self.config().root.as_os_str()])
            .args(["--run-root".as_ref(), self.config().run_root.as_os_str()])
            .args(["--id", &c.id, "--mode", if direction == Direction::Out { "out" } else { "in" }, "--path", path]);
        Ok(cmd)
    }
}

/// The copy helper (`__berth-cp`, started by [`crate::helpers::run_if_helper`]): its exit code.
pub(crate) fn helper_main(args: &[String]) -> i32 {
    let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let result = match (get("--root"), get("--run-root"), get("--id"), get("--mode"), get("--path")) {
        (Some(root), Some(run_root), Some(id), Some(mode), Some(path)) => {
            helper(PathBuf::from(root), PathBuf::from(run_root), &id, &mode, &path)
        }
        _ => Err(format!("{COPY_ARG}: usage: --root DIR --run-root DIR --id ID --mode in|out --path PATH")),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e}");
            125
        }
    }
}

fn helper(root: PathBuf, run_root: PathBuf, id: &str, mode: &str, path: &str) -> std::result::Result<(), String> {
    let engine =
        Engine::open(EngineConfig::new(root, run_root).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let c = engine.container(id).map_err(|e| e.to_string())?;
    enter_root(&engine, &c)?;
    let path = Path::new(path);
    match mode {
        "out" => write_tar(path, &c.name),
        "in" => read_tar(path, &c.name),
        other => Err(format!("unknown mode {other}")),
    }
}

/// Makes the container's root this process's root.
fn enter_root(engine: &Engine, c: &crate::ContainerRecord) -> std::result::Result<(), String> {
    use nix::mount::{mount, MsFlags};
    use nix::sched::{setns, unshare, CloneFlags};
    if let Some(pid) = c.pid.filter(|_| c.is_running()) {
        let ns = std::fs::File::open(format!("/proc/{pid}/ns/mnt"))
            .map_err(|e| format!("opening the container's mounts: {e}"))?;
        // Joining a mount namespace puts us at its root, which is the container's.
        setns(ns, CloneFlags::CLONE_NEWNS).map_err(|e| format!("joining the container's mounts: {e}"))?;
        return Ok(());
    }
    // A stopped container: its overlay, in a mount namespace nobody else sees.
    let img = crate::image::get(engine.state().conn(), &c.image_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the image of container {} is gone", c.name))?;
    let lower = img
        .layers
        .iter()
        .rev()
        .map(|l| engine.layers().short_link(&l.chain_id))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("creating a mount namespace: {e}"))?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("making the mounts private: {e}"))?;
    let paths = ContainerPaths::new(&engine.config().root, &c.id);
    std::env::set_current_dir(engine.layers().root()).map_err(|e| e.to_string())?;
    let mut data =
        format!("lowerdir={},upperdir={},workdir={}", lower.join(":"), paths.upper().display(), paths.work().display());
    if crate::rootless::is_rootless() {
        data.push_str(",userxattr");
    }
    mount(Some("overlay"), &paths.rootfs(), Some("overlay"), MsFlags::empty(), Some(data.as_str()))
        .map_err(|e| format!("mounting the container's files: {e}"))?;
    nix::unistd::chroot(&paths.rootfs()).map_err(|e| format!("entering the container's files: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| e.to_string())?;
    Ok(())
}

fn not_found(path: &Path, name: &str) -> String {
    format!("\"{}\" could not be found in container {name}: no such file or directory", path.display())
}

/// A tar of `path` (named by its last component) on stdout.
fn write_tar(path: &Path, name: &str) -> std::result::Result<(), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|_| not_found(path, name))?;
    let base = path.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let mut tar = tar::Builder::new(std::io::stdout().lock());
    tar.follow_symlinks(false);
    let r = if meta.is_dir() { tar.append_dir_all(&base, path) } else { tar.append_path_with_name(path, &base) };
    r.and_then(|_| tar.finish()).map_err(|e| format!("reading {} in container {name}: {e}", path.display()))
}

/// Unpacks the tar on stdin (one top-level entry) at `path`: into it when it is a directory,
/// else as it (its parent must exist).
fn read_tar(path: &Path, name: &str) -> std::result::Result<(), String> {
    let mut archive = tar::Archive::new(std::io::stdin().lock());
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return archive.unpack(path).map_err(|e| format!("copying into {} in container {name}: {e}", path.display()));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("/"));
    if !parent.is_dir() {
        return Err(not_found(parent, name));
    }
    let staging = parent.join(format!(".berth-cp-{}", std::process::id()));
    std::fs::create_dir(&staging).map_err(|e| format!("copying into container {name}: {e}"))?;
    let result = (|| -> std::io::Result<()> {
        archive.unpack(&staging)?;
        let mut entries = std::fs::read_dir(&staging)?;
        let first = entries.next().ok_or_else(|| std::io::Error::other("nothing to copy"))??;
        std::fs::rename(first.path(), path)
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result.map_err(|e| format!("copying to {} in container {name}: {e}", path.display()))
}
