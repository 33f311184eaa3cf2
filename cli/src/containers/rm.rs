//! `rm` and `container prune`: removing containers, named or every one that is not running.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use berth_engine::container::LookupError;
use berth_engine::{Engine, Error};
use clap::Args;

use super::each;

#[derive(Args)]
pub struct RmArgs {
    /// Stop running containers first
    #[arg(short, long)]
    pub force: bool,
    /// With --force: seconds to wait for the stop signal before killing (default: kill at once)
    #[arg(short = 't', long)]
    pub time: Option<u64>,
    /// Remove every container
    #[arg(short, long)]
    pub all: bool,
    /// Ignore containers that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    /// Remove the containers' anonymous volumes too (Berth always does: they belong to their
    /// container; named volumes stay)
    #[arg(short, long)]
    pub volumes: bool,
    /// The container created last
    #[arg(short, long)]
    pub latest: bool,
    /// Remove the containers that use these ones' network first
    #[arg(long)]
    pub depend: bool,
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

pub fn rm(engine: &Engine, args: &RmArgs) -> anyhow::Result<ExitCode> {
    if args.latest && (args.all || !args.containers.is_empty()) {
        bail!("--all, --latest and containers cannot be used together: use one of them");
    }
    let names: Vec<String> = if args.all {
        engine.containers()?.into_iter().map(|c| c.id).collect()
    } else if args.latest {
        let newest = engine.containers()?.into_iter().max_by_key(|c| c.created_at);
        vec![newest.map(|c| c.id).ok_or_else(|| anyhow::anyhow!("no containers to remove: --latest needs one"))?]
    } else if args.containers.is_empty() {
        bail!("specify one or more containers to remove");
    } else {
        args.containers.clone()
    };
    // Containers on another's network go before it: with --depend, those of the named ones;
    // with --all, every one, dependents first.
    let names = if args.depend || args.all {
        let mut ordered: Vec<String> = Vec::new();
        for n in &names {
            let id = match engine.container(n) {
                Ok(c) => c.id,
                Err(_) => {
                    ordered.push(n.clone()); // reported (or ignored) below
                    continue;
                }
            };
            for d in engine.container_dependents(&id)? {
                if !ordered.contains(&d) {
                    ordered.push(d);
                }
            }
            if !ordered.contains(&id) && !ordered.contains(n) {
                ordered.push(if args.all { id } else { n.clone() });
            }
        }
        ordered
    } else {
        names
    };
    let force = args.force || args.all;
    let removed = |n: &str| {
        if let (true, Some(t)) = (force, args.time) {
            engine.stop_container(n, Duration::from_secs(t))?;
        }
        // an infra container goes with its pod, after the pod's other containers (its
        // dependents, listed before it)
        if (args.depend || args.all) && engine.container(n).is_ok_and(|c| c.options.pod_infra) {
            return engine.remove_infra_container(n, force).map(drop);
        }
        engine.remove_container(n, force).map(drop)
    };
    if !args.ignore && !args.force {
        return match each(&names, removed) {
            // Podman's status for a container that is not there
            Err(e) if e.downcast_ref::<Error>().is_some_and(Error::is_not_found) => {
                eprintln!("Error: {e}");
                Ok(ExitCode::from(1))
            }
            // running, and no --force: Podman's status for a container in the wrong state
            Err(e) if matches!(e.downcast_ref::<Error>(), Some(Error::StateImproper(_))) => {
                eprintln!("Error: {e}");
                Ok(ExitCode::from(2))
            }
            other => other,
        };
    }
    // --ignore (and --force, as in Podman): a name that is gone (or never was) is not an error,
    // nor printed
    let gone = |r: &berth_engine::Result<()>| matches!(r, Err(Error::ContainerLookup(LookupError::NotFound(_))));
    let present: Vec<String> = names.into_iter().filter(|n| !gone(&engine.container(n).map(drop))).collect();
    each(&present, |n| match removed(n) {
        r if gone(&r) => Ok(()),
        other => other,
    })
}

pub fn prune(engine: &Engine, args: &PruneArgs) -> anyhow::Result<ExitCode> {
    if !args.force && !crate::format::confirm("This will remove all non running containers.")? {
        return Ok(ExitCode::SUCCESS);
    }
    for id in engine.prune_containers()? {
        println!("{id}");
    }
    Ok(ExitCode::SUCCESS)
}
