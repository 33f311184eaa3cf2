//! `rename`: a container's new name.

use std::process::ExitCode;

use berth_engine::Engine;
use clap::Args;

#[derive(Args)]
pub struct RenameArgs {
    pub container: String,
    pub name: String,
}

pub fn rename(engine: &Engine, args: &RenameArgs) -> anyhow::Result<ExitCode> {
    engine.rename_container(&args.container, &args.name)?;
    Ok(ExitCode::SUCCESS)
}
