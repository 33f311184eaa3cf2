//! `cp`: files between the host and a container, as tar streams through the engine's copy
//! helper.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::Engine;
use clap::Args;

#[derive(Args)]
pub struct CpArgs {
    /// SOURCE: a host path, or CONTAINER:PATH
    pub source: String,
    /// DESTINATION: a host path, or CONTAINER:PATH
    pub destination: String,
}

/// `NAME:PATH` when the part before the colon names something other than a host path.
fn container_side(arg: &str) -> Option<(&str, &str)> {
    let (name, path) = arg.split_once(':')?;
    (!name.is_empty() && !name.starts_with('/') && !name.starts_with('.')).then_some((name, path))
}

/// A container path as given, or, when relative, under the container's working directory (as
/// Podman takes `ctr:file`).
fn in_container(engine: &Engine, name: &str, path: &str) -> anyhow::Result<String> {
    if path.starts_with('/') {
        return Ok(path.to_string());
    }
    let c = engine.container(name)?;
    let record = engine.inspect_record(&c);
    let workdir = record["Config"]["WorkingDir"].as_str().filter(|w| !w.is_empty()).unwrap_or("/");
    let joined = Path::new(workdir).join(if path.is_empty() { "." } else { path });
    Ok(joined.display().to_string())
}

/// `berth cp`: a file or directory between the host and a container (running or not), in
/// either direction, or from one container to another, as `docker cp` and `podman cp` do.
/// `-` is a tar stream on stdin (into a container) or stdout (out of one).
pub fn cp(engine: &Engine, args: &CpArgs) -> anyhow::Result<ExitCode> {
    use berth_engine::copy::Direction;
    use std::process::Stdio;
    let helper_failed = |status: std::process::ExitStatus| !status.success();
    match (container_side(&args.source), container_side(&args.destination)) {
        (Some((name, path)), None) if args.destination == "-" => {
            let path = in_container(engine, name, path)?;
            let status = engine.copy_command(name, Direction::Out, &path)?.stdout(Stdio::inherit()).status()?;
            if helper_failed(status) {
                return Ok(ExitCode::from(125)); // the helper said why
            }
        }
        (Some((name, path)), None) => {
            let path = in_container(engine, name, path)?;
            let mut child = engine.copy_command(name, Direction::Out, &path)?.stdout(Stdio::piped()).spawn()?;
            let dest = Path::new(&args.destination);
            let stdout = child.stdout.take().expect("piped");
            let result = unpack_on_host(stdout, dest);
            let status = child.wait()?;
            if helper_failed(status) {
                return Ok(ExitCode::from(125));
            }
            result?;
        }
        (None, Some((name, path))) if args.source == "-" => {
            let path = in_container(engine, name, path)?;
            let status = engine.copy_command(name, Direction::In, &path)?.stdin(Stdio::inherit()).status()?;
            if helper_failed(status) {
                return Ok(ExitCode::from(125));
            }
        }
        (None, Some((name, path))) => {
            let path = in_container(engine, name, path)?;
            let src = Path::new(&args.source);
            let meta = std::fs::symlink_metadata(src).with_context(|| {
                format!("\"{}\" could not be found on the host: no such file or directory", src.display())
            })?;
            let mut child = engine.copy_command(name, Direction::In, &path)?.stdin(Stdio::piped()).spawn()?;
            let stdin = child.stdin.take().expect("piped");
            let base = src.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            let mut tar = tar::Builder::new(stdin);
            tar.follow_symlinks(false);
            let written =
                if meta.is_dir() { tar.append_dir_all(&base, src) } else { tar.append_path_with_name(src, &base) };
            let written = written.and_then(|_| tar.into_inner().map(drop));
            let status = child.wait()?;
            if helper_failed(status) {
                return Ok(ExitCode::from(125));
            }
            written.with_context(|| format!("sending {}", src.display()))?;
        }
        (Some((from, from_path)), Some((to, to_path))) => {
            // One helper's tar straight into the other's.
            let (from_path, to_path) = (in_container(engine, from, from_path)?, in_container(engine, to, to_path)?);
            let mut out = engine.copy_command(from, Direction::Out, &from_path)?.stdout(Stdio::piped()).spawn()?;
            let tar = out.stdout.take().expect("piped");
            let status_in = engine.copy_command(to, Direction::In, &to_path)?.stdin(Stdio::from(tar)).status()?;
            let status_out = out.wait()?;
            if helper_failed(status_out) || helper_failed(status_in) {
                return Ok(ExitCode::from(125));
            }
        }
        (None, None) => bail!("one of the paths must be CONTAINER:PATH"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Unpacks a tar whose single top-level entry is the copied file or directory: into `dest`
/// when it is a directory, else as `dest`.
fn unpack_on_host(stream: impl std::io::Read, dest: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(stream);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    if dest.is_dir() {
        archive.unpack(dest).with_context(|| format!("copying into {}", dest.display()))?;
        return Ok(());
    }
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!("\"{}\" could not be found on the host: no such file or directory", parent.display());
    }
    let staging = tempfile_dir(parent)?;
    let result = (|| -> anyhow::Result<()> {
        archive.unpack(&staging)?;
        let first = std::fs::read_dir(&staging)?.next().context("the container sent nothing")??;
        std::fs::rename(first.path(), dest)?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result.with_context(|| format!("copying to {}", dest.display()))
}

fn tempfile_dir(parent: &Path) -> anyhow::Result<PathBuf> {
    let dir = parent.join(format!(".berth-cp-{}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
