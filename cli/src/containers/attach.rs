//! `attach`: this terminal to a running container's monitor.

use std::process::ExitCode;

use anyhow::bail;
use berth_engine::{ContainerStatus, Engine};
use clap::Args;

use super::wait_exit;

#[derive(Args)]
pub struct AttachArgs {
    pub container: String,
    /// Do not attach stdin
    #[arg(long)]
    pub no_stdin: bool,
}

/// `berth attach`: the container's output here, this terminal's input there (when it was
/// created with -i); Ctrl-P Ctrl-Q detaches and leaves it running.
pub async fn attach(engine: Engine, args: &AttachArgs) -> anyhow::Result<ExitCode> {
    let c = engine.container(&args.container)?;
    if c.status != ContainerStatus::Running {
        bail!("you can only attach to running containers: {} is {}", c.name, c.status.as_str());
    }
    let stdin = c.options.interactive && !args.no_stdin;
    match crate::tty::attach(&engine.config().run_root, &c.id, stdin, c.options.tty).await? {
        crate::tty::Ended::Detached => Ok(ExitCode::SUCCESS),
        // Ended as we attached: Podman's attach prints nothing then either.
        crate::tty::Ended::Exited | crate::tty::Ended::Missed => {
            let code = wait_exit(&engine, &c.id).await?;
            Ok(ExitCode::from(code.clamp(0, 255) as u8))
        }
    }
}
