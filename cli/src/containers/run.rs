//! `run`: create, start, then follow the output (or attach) until the container exits.

use std::process::ExitCode;

use berth_engine::Engine;
use clap::Args;

use super::create::{create, CreateArgs};
use super::follow::{follow_streams, follow_until_exit, Follower, Streams};
use super::start_error;

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Run in the background and print the container id
    #[arg(short, long)]
    pub detach: bool,
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Remove the image after the container exits, unless another container uses it
    #[arg(long)]
    pub rmi: bool,
    /// Attach to these of the container's streams only: stdin, stdout, stderr (given more
    /// than once; with neither stdout nor stderr, the container's id is printed)
    #[arg(short, long, value_parser = parse_stream)]
    pub attach: Vec<Stream>,
    /// Pass this many more open fds on to the container: 3 to 3+N-1, as this command got them
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
    #[command(flatten)]
    pub create: CreateArgs,
}

/// A stream `--attach` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

fn parse_stream(s: &str) -> Result<Stream, String> {
    match s.to_ascii_lowercase().as_str() {
        "stdin" => Ok(Stream::Stdin),
        "stdout" => Ok(Stream::Stdout),
        "stderr" => Ok(Stream::Stderr),
        _ => Err(format!("invalid stream \"{s}\" for --attach: use stdin, stdout or stderr")),
    }
}

pub async fn run(engine: Engine, args: &RunArgs) -> anyhow::Result<ExitCode> {
    if args.rmi && args.detach {
        anyhow::bail!("--rmi removes the image once the container exits: use it without --detach");
    }
    if args.detach && !args.attach.is_empty() {
        anyhow::bail!("--attach and --detach cannot be used together: a detached container has nothing attached");
    }
    check_preserved_fds(args.preserve_fds)?;
    if !args.attach.is_empty() && !args.create.tty {
        return run_attached(engine, args).await;
    }
    let c = create(&engine, &args.create).await?;
    // Opened before the start: a `--rm` container may be gone before a later open.
    let follower = Follower::open(&engine.container_paths(&c.id).log(), 0)?;
    if let Err(e) = engine.start_container_with(&c.id, args.preserve_fds) {
        return start_error(e);
    }
    if args.detach {
        println!("{}", c.id);
        return Ok(ExitCode::SUCCESS);
    }
    if args.create.interactive && !args.create.tty {
        // input through the attach socket, output from the log: nothing written before the
        // attach is lost
        let _ = crate::tty::send_stdin(engine.config().run_root.as_path(), &c.id);
        let code = follow_until_exit(&engine, &c, follower, true).await?;
        return Ok(finish(&engine, &c, args, code).await);
    }
    if args.create.tty {
        return match super::attach_or_follow(&engine, &c, follower, args.create.interactive).await? {
            None => Ok(ExitCode::SUCCESS),
            Some(code) => Ok(finish(&engine, &c, args, code).await),
        };
    }
    let code = follow_until_exit(&engine, &c, follower, true).await?;
    Ok(finish(&engine, &c, args, code).await)
}

/// A foreground run ends once its container is gone when it was asked to go (`--rm`, and the
/// image with `--rmi`), as Podman's does: the monitor records the exit before it removes it.
async fn finish(engine: &Engine, c: &berth_engine::ContainerRecord, args: &RunArgs, code: i32) -> ExitCode {
    if args.rmi {
        remove_image(engine, c).await;
    } else if c.options.remove {
        wait_removed(engine, c).await;
    }
    exit_status(code)
}

/// `run --attach`: the streams asked for only; input with `-i` only when stdin is one of them.
/// With neither stdout nor stderr, the container's id is printed, as Podman (and Docker) do,
/// and the run still ends with the container's exit code.
async fn run_attached(engine: Engine, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let streams =
        Streams { stdout: args.attach.contains(&Stream::Stdout), stderr: args.attach.contains(&Stream::Stderr) };
    let c = create(&engine, &args.create).await?;
    let follower = Follower::open(&engine.container_paths(&c.id).log(), 0)?;
    if let Err(e) = engine.start_container_with(&c.id, args.preserve_fds) {
        return start_error(e);
    }
    if !streams.stdout && !streams.stderr {
        println!("{}", c.id);
    }
    if args.create.interactive && args.attach.contains(&Stream::Stdin) {
        let _ = crate::tty::send_stdin(engine.config().run_root.as_path(), &c.id);
    }
    let code = follow_streams(&engine, &c, follower, true, streams).await?;
    Ok(finish(&engine, &c, args, code).await)
}

/// `--preserve-fds N`: fds 3 to 3+N-1 must have come with this command (open, and not
/// close-on-exec: every fd berth opens itself is), or the container would get nothing there.
fn check_preserved_fds(n: u32) -> anyhow::Result<()> {
    for fd in 3..3i32.saturating_add(i32::try_from(n).unwrap_or(i32::MAX)) {
        // SAFETY: F_GETFD only reads the fd's flags (or fails with EBADF when it is not open).
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        let inherited = flags >= 0 && flags & libc::FD_CLOEXEC == 0;
        if !inherited {
            anyhow::bail!(
                "file descriptor {fd} is not available: --preserve-fds {n} passes fds 3 to {}, and each must be open when berth starts (e.g. {fd}<FILE)",
                2 + n
            );
        }
    }
    Ok(())
}

/// A container's exit code as this command's status: -1 (killed by its `--timeout`, or no
/// code at all) is 255, as in Podman.
fn exit_status(code: i32) -> ExitCode {
    ExitCode::from(code as u8)
}

/// Waits (up to 10 s) until the container's record is gone.
async fn wait_removed(engine: &Engine, c: &berth_engine::ContainerRecord) {
    for _ in 0..1000 {
        if matches!(engine.container(&c.id), Err(e) if e.is_not_found()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// `--rmi`: once the container is gone (a `--rm` one is removed by its monitor; any other
/// is removed here), the image goes too, unless another container still uses it.
async fn remove_image(engine: &Engine, c: &berth_engine::ContainerRecord) {
    if !c.options.remove {
        let _ = engine.remove_container(&c.id, true);
    }
    wait_removed(engine, c).await;
    if c.options.rootfs.is_some() {
        return; // no image
    }
    match engine.remove_image(&c.image_id, false) {
        Ok(_) => {}
        Err(berth_engine::Error::ImageInUse { .. }) => {}
        Err(e) => eprintln!("Error: removing image {}: {e}", c.image_name),
    }
}
