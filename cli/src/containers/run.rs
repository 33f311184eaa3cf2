//! `run`: create, start, then follow the output (or attach) until the container exits.

use std::process::ExitCode;

use berth_engine::Engine;
use clap::Args;

use super::create::{create, CreateArgs};
use super::follow::{follow_until_exit, Follower};
use super::{start_error, wait_exit};

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
    #[command(flatten)]
    pub create: CreateArgs,
}

pub async fn run(engine: Engine, args: &RunArgs) -> anyhow::Result<ExitCode> {
    if args.rmi && args.detach {
        anyhow::bail!("--rmi removes the image once the container exits: use it without --detach");
    }
    let c = create(&engine, &args.create).await?;
    // Opened before the start: a `--rm` container may be gone before a later open.
    let follower = Follower::open(&engine.container_paths(&c.id).log(), 0)?;
    if let Err(e) = engine.start_container(&c.id) {
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
        return Ok(ExitCode::from(code.clamp(0, 255) as u8));
    }
    if args.create.tty || args.create.interactive {
        drop(follower);
        let run_root = engine.config().run_root.clone();
        return match crate::tty::attach(&run_root, &c.id, args.create.interactive, args.create.tty).await {
            Ok(crate::tty::Ended::Detached) => Ok(ExitCode::SUCCESS),
            // A quick container may be gone before the attach: its output is in the log.
            Ok(crate::tty::Ended::Exited) | Err(_) => {
                let code = wait_exit(&engine, &c.id).await?;
                Ok(ExitCode::from(code.clamp(0, 255) as u8))
            }
        };
    }
    let code = follow_until_exit(&engine, &c, follower, true).await?;
    if args.rmi {
        remove_image(&engine, &c).await;
    }
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// `--rmi`: once the container is gone (a `--rm` one is removed by its monitor; any other
/// is removed here), the image goes too, unless another container still uses it.
async fn remove_image(engine: &Engine, c: &berth_engine::ContainerRecord) {
    if !c.options.remove {
        let _ = engine.remove_container(&c.id, true);
    }
    for _ in 0..200 {
        if matches!(engine.container(&c.id), Err(e) if e.is_not_found()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    match engine.remove_image(&c.image_id, false) {
        Ok(_) => {}
        Err(berth_engine::Error::ImageInUse { .. }) => {}
        Err(e) => eprintln!("Error: removing image {}: {e}", c.image_name),
    }
}
