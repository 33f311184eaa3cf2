//! `berth export` and `container export`: a container's files as a tar, to a file or stdout.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::bail;
use berth_engine::Engine;
use clap::Args;

#[derive(Args)]
pub struct ExportArgs {
    /// The container
    pub container: String,
    /// Write to this file instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

pub fn export(engine: &Engine, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let Some(path) = &args.output else {
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            bail!("refusing to export to terminal. Use -o flag or redirect");
        }
        let mut out = std::io::BufWriter::new(stdout.lock());
        engine.export_container(&args.container, &mut out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    };
    // beside the target, renamed when complete: a failure leaves no half-written archive
    engine.export_container_to(&args.container, path)?;
    Ok(ExitCode::SUCCESS)
}
