//! `berth system check`: the engine's check of the store, one line per problem, and what
//! `--repair` did about it. Exits 1 when problems remain.

use std::process::ExitCode;
use std::time::Duration;

use berth_engine::{CheckOptions, CheckOutcome, Engine};
use clap::Args;

#[derive(Args)]
pub struct CheckArgs {
    /// Remove what can't be used (corrupt blobs, leftovers, images whose layers are gone) and
    /// restore what the records still hold
    #[arg(short, long)]
    pub repair: bool,
    /// With --repair, also remove containers whose image is gone or can't be used
    #[arg(short, long)]
    pub force: bool,
    /// Skip the slow part: hashing every blob
    #[arg(short, long)]
    pub quick: bool,
    /// Leftovers younger than this (of a pull or create maybe still running) are not reported:
    /// 24h, 30m, 1h30m, 45s or 0
    #[arg(short, long, default_value = "24h", value_parser = berth_engine::check::parse_duration)]
    pub max: Duration,
}

pub fn run(engine: &Engine, a: &CheckArgs) -> anyhow::Result<ExitCode> {
    let opts = CheckOptions { repair: a.repair, force: a.force, quick: a.quick, max_age: a.max };
    let report = engine.check(&opts)?;
    for note in &report.skipped {
        println!("skipped: {note}");
    }
    for p in &report.problems {
        let line = match &p.outcome {
            CheckOutcome::Repaired(done) => format!("repaired: {}: {done}", p.what),
            CheckOutcome::Repairable(fix) => format!("{}: `berth system check --repair` would {fix}", p.what),
            CheckOutcome::NeedsForce(fix) => format!("{}: `berth system check --repair --force` would {fix}", p.what),
            CheckOutcome::Manual(why) => format!("{}: {why}", p.what),
        };
        println!("{line}");
    }
    let remaining = report.remaining();
    if remaining == 0 {
        let repaired = report.problems.len();
        if repaired > 0 {
            println!("the store is consistent now ({repaired} problem(s) repaired)");
        } else {
            println!("the store is consistent");
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("{remaining} problem(s) remain");
    Ok(ExitCode::from(1))
}
