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
    #[command(flatten)]
    pub create: CreateArgs,
}

pub async fn run(engine: Engine, args: &RunArgs) -> anyhow::Result<ExitCode> {
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
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
