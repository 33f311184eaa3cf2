//! start, stop, restart, kill, pause, unpause and wait: the verbs that move named containers
//! from one state to another, or wait for them to.

use std::process::ExitCode;
use std::time::Duration;

use berth_engine::Engine;
use clap::Args;

use super::{each, start_error};

#[derive(Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct StopArgs {
    /// Seconds to wait for the stop signal to work before killing
    #[arg(short = 't', long, default_value_t = 10)]
    pub time: u64,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn start(engine: &Engine, args: &NamesArgs) -> anyhow::Result<ExitCode> {
    for name in &args.containers {
        if let Err(e) = engine.start_container(name) {
            return start_error(e);
        }
        println!("{name}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn stop(engine: &Engine, args: &StopArgs) -> anyhow::Result<ExitCode> {
    each(&args.containers, |n| engine.stop_container(n, Duration::from_secs(args.time)).map(drop))
}

pub fn restart(engine: &Engine, args: &StopArgs) -> anyhow::Result<ExitCode> {
    each(&args.containers, |n| {
        engine.stop_container(n, Duration::from_secs(args.time))?;
        engine.start_container(n).map(drop)
    })
}

pub fn pause(engine: &Engine, args: &NamesArgs) -> anyhow::Result<ExitCode> {
    each(&args.containers, |n| engine.pause_container(n).map(drop))
}

pub fn unpause(engine: &Engine, args: &NamesArgs) -> anyhow::Result<ExitCode> {
    each(&args.containers, |n| engine.unpause_container(n).map(drop))
}

pub fn kill(engine: &Engine, args: &KillArgs) -> anyhow::Result<ExitCode> {
    each(&args.containers, |n| engine.kill_container(n, &args.signal).map(drop))
}

pub fn wait(engine: &Engine, args: &NamesArgs) -> anyhow::Result<ExitCode> {
    for name in &args.containers {
        println!("{}", engine.wait_container(name)?);
    }
    Ok(ExitCode::SUCCESS)
}
