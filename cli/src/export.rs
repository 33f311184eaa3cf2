//! `berth export` and `container export`: a container's files as a tar, to a file or stdout.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
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
    // Beside the target, renamed when complete: a failure leaves no half-written archive.
    let name = path.file_name().with_context(|| format!("-o {}: name a file", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let written = (|| -> anyhow::Result<()> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("-o {}: can't write there", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        engine.export_container(&args.container, &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    Ok(ExitCode::SUCCESS)
}
