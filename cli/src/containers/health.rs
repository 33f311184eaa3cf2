//! `berth healthcheck run CONTAINER`: the container's healthcheck, once, now.

use std::process::ExitCode;

use berth_engine::container::health::HealthStatus;
use berth_engine::Engine;

#[derive(clap::Subcommand)]
pub enum HealthcheckCommand {
    /// Run a container's healthcheck now: prints nothing and exits 0 when it is healthy,
    /// prints its state and exits 1 otherwise
    Run(HealthcheckRunArgs),
}

#[derive(clap::Args)]
pub struct HealthcheckRunArgs {
    /// The container (name or id)
    pub container: String,
}

pub fn healthcheck(engine: &Engine, cmd: &HealthcheckCommand) -> anyhow::Result<ExitCode> {
    let HealthcheckCommand::Run(args) = cmd;
    match engine.run_healthcheck(&args.container)? {
        HealthStatus::Healthy => Ok(ExitCode::SUCCESS),
        other => {
            println!("{}", other.as_str());
            Ok(ExitCode::from(1))
        }
    }
}
