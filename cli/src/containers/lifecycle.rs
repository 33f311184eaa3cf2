//! start, stop, restart, kill, pause, unpause and wait: the verbs that move named containers
//! from one state to another, or wait for them to.

use std::process::ExitCode;
use std::time::Duration;

use berth_engine::Engine;
use clap::Args;

use super::{each, start_error};

#[derive(Args)]
pub struct PauseArgs {
    /// Every running container (for unpause: every paused one)
    #[arg(short, long)]
    pub all: bool,
    #[arg(required_unless_present = "all")]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct StopArgs {
    /// Seconds to wait for the stop signal to work before killing (default: the container's
    /// --stop-timeout, 10 unless set)
    #[arg(short = 't', long, alias = "timeout")]
    pub time: Option<u64>,
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
    /// Only the containers that match (as `ps --filter`)
    #[arg(long)]
    pub filter: Vec<String>,
    /// Attach to the container's output (and, with -i, its input) until it exits
    #[arg(short, long)]
    pub attach: bool,
    /// With --attach: keep the container's input open and give it this terminal's
    #[arg(short, long)]
    pub interactive: bool,
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct KillArgs {
    /// Signal to send: a name (TERM, SIGTERM, -TERM) or a number from 1 to 64
    #[arg(short, long, default_value = "KILL", allow_hyphen_values = true)]
    pub signal: String,
    /// Every running container
    #[arg(short, long)]
    pub all: bool,
    #[arg(required_unless_present = "all")]
    pub containers: Vec<String>,
}

pub async fn start(engine: Engine, args: &StartArgs) -> anyhow::Result<ExitCode> {
    if args.all && !args.containers.is_empty() {
        anyhow::bail!("either start all containers or the container(s) provided in the arguments");
    }
    if !args.all && args.containers.is_empty() {
        anyhow::bail!("start: specify one or more containers, or --all");
    }
    let mut list = if args.all {
        engine.containers()?.into_iter().filter(|c| !c.is_running()).collect()
    } else {
        let mut named = Vec::new();
        for name in &args.containers {
            named.push(engine.container(name)?);
        }
        named
    };
    super::ps::filter(&engine, &mut list, &args.filter)?;
    let picked: std::collections::HashSet<String> = list.iter().map(|c| c.id.clone()).collect();
    // what to print for each: the id with --all, the name as given otherwise
    let names: Vec<(String, String)> = if args.all {
        list.into_iter().map(|c| (c.id.clone(), c.id)).collect()
    } else {
        let mut out = Vec::new();
        for name in &args.containers {
            let id = engine.container(name)?.id;
            if picked.contains(&id) {
                out.push((id, name.clone()));
            }
        }
        out
    };
    if args.attach || args.interactive {
        let [(id, _)] = names.as_slice() else {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        };
        return start_attached(&engine, id, args.interactive).await;
    }
    for (id, shown) in &names {
        if let Err(e) = engine.start_container(id) {
            // `start` says 125 whatever went wrong; only `run` tells 126 and 127 apart
            return match e {
                berth_engine::Error::StartFailed { message, .. } => {
                    eprintln!("Error: {message}");
                    Ok(ExitCode::from(125))
                }
                other => Err(other.into()),
            };
        }
        println!("{shown}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `start -a [-i]`: the output from now on (and the input with -i) until the container exits,
/// then its exit code, as `run` without `-d`.
async fn start_attached(engine: &Engine, id: &str, interactive: bool) -> anyhow::Result<ExitCode> {
    let log = engine.container_paths(id).log();
    let from = std::fs::metadata(&log).map_or(0, |m| m.len());
    let follower = super::Follower::open(&log, from)?;
    let c = engine.container(id)?;
    if let Err(e) = engine.start_container(id) {
        return start_error(e);
    }
    if interactive && !c.options.tty {
        // input through the attach socket, output from the log (see `run`)
        let _ = crate::tty::send_stdin(engine.config().run_root.as_path(), id);
        let code = super::follow::follow_until_exit(engine, &c, follower, true).await?;
        return Ok(ExitCode::from(code.clamp(0, 255) as u8));
    }
    if c.options.tty {
        return match super::attach_or_follow(engine, &c, follower, interactive).await? {
            None => Ok(ExitCode::SUCCESS),
            Some(code) => Ok(ExitCode::from(code.clamp(0, 255) as u8)),
        };
    }
    let code = super::follow::follow_until_exit(engine, &c, follower, true).await?;
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
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
        match engine.stop_container_reporting(&id, args.time.map(Duration::from_secs)) {
            // a --rm container is removed as it stops: stopped all the same
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
            Ok(stopped) => {
                if let Some(w) = stopped.warning {
                    crate::format::warn(w);
                }
                Ok(())
            }
        }
    })
}

pub fn restart(engine: &Engine, args: &StopArgs) -> anyhow::Result<ExitCode> {
    each(&targets(engine, args)?, |n| {
        engine.stop_container_reporting(n, args.time.map(Duration::from_secs))?;
        engine.start_container(n).map(drop)
    })
}

/// The containers a pause or unpause names: `--all` every one in `state` (by id, as Podman
/// prints them).
fn all_or_named(
    engine: &Engine,
    args: &PauseArgs,
    state: berth_engine::ContainerStatus,
) -> anyhow::Result<Vec<String>> {
    if args.all && !args.containers.is_empty() {
        anyhow::bail!("--all and containers cannot be used together: name containers or use --all");
    }
    if args.all {
        return Ok(engine.containers()?.into_iter().filter(|c| c.status == state).map(|c| c.id).collect());
    }
    Ok(args.containers.clone())
}

pub fn pause(engine: &Engine, args: &PauseArgs) -> anyhow::Result<ExitCode> {
    let names = all_or_named(engine, args, berth_engine::ContainerStatus::Running)?;
    each(&names, |n| engine.pause_container(n).map(drop))
}

pub fn unpause(engine: &Engine, args: &PauseArgs) -> anyhow::Result<ExitCode> {
    let names = all_or_named(engine, args, berth_engine::ContainerStatus::Paused)?;
    each(&names, |n| engine.unpause_container(n).map(drop))
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

#[derive(Args)]
pub struct WaitArgs {
    /// Wait for this state: stopped or exited (the default), running, created or paused; given
    /// more than once, for the first of them
    #[arg(long, value_parser = ["stopped", "exited", "running", "created", "paused"])]
    pub condition: Vec<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn wait(engine: &Engine, args: &WaitArgs) -> anyhow::Result<ExitCode> {
    let exits = args.condition.is_empty() || args.condition.iter().any(|c| c == "stopped" || c == "exited");
    for name in &args.containers {
        if exits {
            println!("{}", engine.wait_container(name)?);
            continue;
        }
        // a state to reach: printed as Podman prints it, the exit code so far (-1 for none)
        loop {
            let c = engine.container(name)?;
            if args.condition.iter().any(|want| want == c.status.as_str() || (want == "running" && c.is_running())) {
                println!("{}", c.exit_code.unwrap_or(-1));
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(ExitCode::SUCCESS)
}
