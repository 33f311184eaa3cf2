//! `cp`: files between the host and a container, as tar streams through the engine's copy
//! helper; the rules of where things land are the engine's (`copy::archive`), on either side.

use std::process::{Child, ExitCode, Stdio};

use anyhow::bail;
use berth_engine::copy::{archive, Owner, Place, Receive, Request};
use berth_engine::Engine;
use clap::Args;

#[derive(Args)]
pub struct CpArgs {
    /// Chown copied files to the primary uid/gid of the destination container (false: keep the
    /// archive's owners)
    #[arg(short = 'a', long, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub archive: bool,
    /// Allow to overwrite directories with non-directories and vice versa
    #[arg(long, default_value_t = false, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub overwrite: bool,
    /// Accepted and without effect, as in Podman 4 (where it is a hidden no-op): berth copies
    /// inside the container's own root, so links resolve there whether it runs or not
    #[arg(long, hide = true, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub pause: bool,
    /// Accepted and without effect, as in Podman 4
    #[arg(long, hide = true, default_value_t = false, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub extract: bool,
    /// SOURCE: a host path, CONTAINER:PATH, or - (a tar archive on stdin)
    #[arg(value_name = "[CONTAINER:]SRC_PATH")]
    pub source: String,
    /// DESTINATION: a host path, CONTAINER:PATH, or - (a tar archive on stdout)
    #[arg(value_name = "[CONTAINER:]DEST_PATH")]
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
    let path = if path.is_empty() { "." } else { path };
    Ok(format!("{}/{path}", workdir.trim_end_matches('/')))
}

/// Waits for a helper; false when it failed (it said why).
fn succeeded(child: &mut Child) -> anyhow::Result<bool> {
    Ok(child.wait()?.success())
}

/// `berth cp`: a file or directory between the host and a container (running or not), in
/// either direction, or from one container to another, as `podman cp` does. `-` is a tar
/// stream on stdin (into a container, plain or compressed) or stdout (out of one).
pub fn cp(engine: &Engine, args: &CpArgs) -> anyhow::Result<ExitCode> {
    let failed = Ok(ExitCode::from(125)); // the helper said why
    match (container_side(&args.source), container_side(&args.destination)) {
        (Some((name, given)), None) if args.destination == "-" => {
            let path = in_container(engine, name, given)?;
            let request = Request::Out { path: &path, shown: given, follow: true };
            if !engine.copy_command(name, request)?.stdout(Stdio::inherit()).status()?.success() {
                return failed;
            }
        }
        (Some((name, given)), None) => {
            let path = in_container(engine, name, given)?;
            let dest = args.destination.as_str();
            let request = Request::Out { path: &path, shown: given, follow: true };
            let mut child = engine.copy_command(name, request)?.stdout(Stdio::piped()).spawn()?;
            let stream = child.stdout.take().expect("piped");
            let how = Receive {
                contents: archive::wants_contents(&path),
                overwrite: args.overwrite,
                owner: Owner::Writer,
                host: true,
                place: Place::Host,
            };
            // When the receiving end fails, the helper stops quietly (its reader went away):
            // this side's error is the one to show.
            let received = archive::receive(stream, dest, false, &how);
            let sent = succeeded(&mut child)?;
            received?;
            if !sent {
                return failed;
            }
        }
        (None, Some((name, given))) if args.source == "-" => {
            let path = in_container(engine, name, given)?;
            let stream = archive::open_stdin_archive(std::io::stdin())?;
            let request = Request::Archive { path: &path, overwrite: args.overwrite, chown: args.archive };
            let mut child = engine.copy_command(name, request)?.stdin(Stdio::piped()).spawn()?;
            let mut stdin = child.stdin.take().expect("piped");
            let sent = std::io::copy(&mut { stream }, &mut stdin);
            drop(stdin);
            if !succeeded(&mut child)? {
                return failed;
            }
            sent?;
        }
        (None, Some((name, given))) => {
            let path = in_container(engine, name, given)?;
            let src = args.source.as_str();
            if std::fs::canonicalize(src).is_err() {
                bail!("\"{src}\" could not be found on the host: no such file or directory");
            }
            let request = Request::In {
                path: &path,
                contents: archive::wants_contents(src),
                overwrite: args.overwrite,
                chown: args.archive,
            };
            let mut child = engine.copy_command(name, request)?.stdin(Stdio::piped()).spawn()?;
            let stdin = child.stdin.take().expect("piped");
            let sent = archive::send(src, src, &Place::Host, true, stdin);
            if !succeeded(&mut child)? {
                return failed;
            }
            sent?;
        }
        (Some((from, from_given)), Some((to, to_given))) => {
            // One helper's tar straight into the other's.
            let from_path = in_container(engine, from, from_given)?;
            let to_path = in_container(engine, to, to_given)?;
            let out = Request::Out { path: &from_path, shown: from_given, follow: true };
            let mut sender = engine.copy_command(from, out)?.stdout(Stdio::piped()).spawn()?;
            let tar = sender.stdout.take().expect("piped");
            let contents = archive::wants_contents(&from_path);
            let request = Request::In { path: &to_path, contents, overwrite: args.overwrite, chown: args.archive };
            let received = engine.copy_command(to, request)?.stdin(Stdio::from(tar)).status()?.success();
            if !succeeded(&mut sender)? || !received {
                return failed;
            }
        }
        (None, None) => bail!("one of the paths must be CONTAINER:PATH"),
    }
    Ok(ExitCode::SUCCESS)
}
