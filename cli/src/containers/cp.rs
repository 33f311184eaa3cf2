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

/// `berth cp`: a file or directory between the host and a container (running or not), in
/// either direction, as `docker cp` and `podman cp` do.
pub fn cp(engine: &Engine, args: &CpArgs) -> anyhow::Result<ExitCode> {
    use berth_engine::copy::Direction;
    use std::process::Stdio;
    match (container_side(&args.source), container_side(&args.destination)) {
        (Some((name, path)), None) => {
            let mut child = engine.copy_command(name, Direction::Out, path)?.stdout(Stdio::piped()).spawn()?;
            let dest = Path::new(&args.destination);
            let stdout = child.stdout.take().expect("piped");
            let result = unpack_on_host(stdout, dest);
            let status = child.wait()?;
            if !status.success() {
                return Ok(ExitCode::from(125)); // the helper said why
            }
            result?;
        }
        (None, Some((name, path))) => {
            let src = Path::new(&args.source);
            let meta = std::fs::symlink_metadata(src).with_context(|| {
                format!("\"{}\" could not be found on the host: no such file or directory", src.display())
            })?;
            let mut child = engine.copy_command(name, Direction::In, path)?.stdin(Stdio::piped()).spawn()?;
            let stdin = child.stdin.take().expect("piped");
            let base = src.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            let mut tar = tar::Builder::new(stdin);
            tar.follow_symlinks(false);
            let written =
                if meta.is_dir() { tar.append_dir_all(&base, src) } else { tar.append_path_with_name(src, &base) };
            let written = written.and_then(|_| tar.into_inner().map(drop));
            let status = child.wait()?;
            if !status.success() {
                return Ok(ExitCode::from(125));
            }
            written.with_context(|| format!("sending {}", src.display()))?;
        }
        (Some(_), Some(_)) => bail!("copying between containers is not supported: copy to the host first"),
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
