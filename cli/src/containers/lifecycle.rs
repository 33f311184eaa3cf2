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
    /// Every running container
    #[arg(short, long)]
    pub all: bool,
    /// Ignore containers that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    #[arg(required_unless_present = "all")]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct StartArgs {
    /// Every container that is not running
    #[arg(long)]
    pub all: bool,
    /// With --all: only the containers that match (as `ps --filter`)
    #[arg(long)]
    pub filter: Vec<String>,
    #[arg(required_unless_present = "all")]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    /// Every running container
    #[arg(short, long)]
    pub all: bool,
    #[arg(required_unless_present = "all")]
    pub containers: Vec<String>,
}

pub fn start(engine: &Engine, args: &StartArgs) -> anyhow::Result<ExitCode> {
    if args.all && !args.containers.is_empty() {
        anyhow::bail!("--all and containers cannot be used together: name containers or use --all");
    }
    let names = if args.all {
        let mut list = engine.containers()?;
        list.retain(|c| !c.is_running());
        super::ps::filter(&mut list, &args.filter)?;
        list.into_iter().map(|c| c.id).collect()
    } else {
        if !args.filter.is_empty() {
            anyhow::bail!("--filter: use it with --all");
        }
        args.containers.clone()
    };
    for name in &names {
        if let Err(e) = engine.start_container(name) {
            return start_error(e);
        }
        println!("{name}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The containers a stop or restart names: `--all` the running ones (by id, as Podman prints
/// them); `--ignore` drops the names that match none.
fn targets(engine: &Engine, args: &StopArgs) -> anyhow::Result<Vec<String>> {
    if args.all && !args.containers.is_empty() {
        anyhow::bail!("--all and containers cannot be used together: name containers or use --all");
    }
    if args.all {
        return Ok(engine.containers()?.into_iter().filter(|c| c.is_running()).map(|c| c.id).collect());
    }
    let mut names = args.containers.clone();
    if args.ignore {
        names.retain(|n| !matches!(engine.container(n), Err(e) if e.is_not_found()));
    }
    Ok(names)
}

pub fn stop(engine: &Engine, args: &StopArgs) -> anyhow::Result<ExitCode> {
    each(&targets(engine, args)?, |n| {
        let id = engine.container(n)?.id;
        match engine.stop_container(&id, Duration::from_secs(args.time)) {
            // a --rm container is removed as it stops: stopped all the same
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(drop),
        }
    })
}

pub fn restart(engine: &Engine, args: &StopArgs) -> anyhow::Result<ExitCode> {
    each(&targets(engine, args)?, |n| {
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
    if args.all && !args.containers.is_empty() {
        anyhow::bail!("--all and containers cannot be used together: name containers or use --all");
    }
    let names = if args.all {
        engine.containers()?.into_iter().filter(|c| c.is_running()).map(|c| c.id).collect()
    } else {
        args.containers.clone()
    };
    each(&names, |n| engine.kill_container(n, &args.signal).map(drop))
}

pub fn wait(engine: &Engine, args: &NamesArgs) -> anyhow::Result<ExitCode> {
    for name in &args.containers {
        println!("{}", engine.wait_container(name)?);
    }
    Ok(ExitCode::SUCCESS)
}
