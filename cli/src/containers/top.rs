//! `top`: a container's processes, with times as Podman (Go) prints them.

use std::process::ExitCode;

use berth_engine::Engine;
use clap::Args;

use crate::format::Table;

#[derive(Args)]
pub struct TopArgs {
    pub container: String,
}

/// A duration as Go prints one (`1h2m3.5s`), which is how Podman's top shows times.
fn go_duration(secs: f64) -> String {
    let (h, rest) = ((secs / 3600.0).floor(), secs % 3600.0);
    let (m, s) = ((rest / 60.0).floor(), rest % 60.0);
    let s = format!("{s:.3}").trim_end_matches('0').trim_end_matches('.').to_string() + "s";
    match (h as u64, m as u64) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

/// `berth top`: the container's processes.
pub fn top(engine: &Engine, args: &TopArgs) -> anyhow::Result<ExitCode> {
    let rows = engine.container_top(&args.container)?;
    let mut table = Table::new(&["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]);
    for r in rows {
        table.row(vec![
            r.user,
            r.pid.to_string(),
            r.ppid.to_string(),
            format!("{:.3}", r.cpu_percent),
            go_duration(r.elapsed),
            r.tty,
            go_duration(r.cpu_time.floor()),
            r.command,
        ]);
    }
    table.print(&mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
