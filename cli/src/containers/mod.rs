//! Container commands: run, create, start, stop, restart, kill, rm, ps, logs, inspect, wait, prune.
//!
//! A verb (or a few small ones that go together) a file; here only what several of them share.

mod attach;
mod cp;
mod create;
mod exec;
mod follow;
mod health;
mod inspect;
mod lifecycle;
mod logs;
mod port;
mod ps;
mod rename;
mod rm;
mod run;
mod stats;
mod top;

use std::process::ExitCode;
use std::time::Duration;

use berth_engine::Engine;

pub use attach::{attach, AttachArgs};
pub use cp::{cp, CpArgs};
pub(crate) use create::decimal_size;
pub use create::{create_cmd, CreateOnlyArgs};
pub use exec::{exec, ExecArgs};
pub(crate) use follow::Follower;
pub use health::{healthcheck, HealthcheckCommand};
pub use inspect::{inspect, InspectArgs};
pub use lifecycle::{
    kill, pause, restart, start, stop, unpause, wait, KillArgs, PauseArgs, StartArgs, StopArgs, WaitArgs,
};
pub(crate) use logs::parse_time_arg;
pub use logs::{logs, logs_prefixed, LogsArgs};
pub use port::{port, PortArgs};
pub(crate) use ps::status_text;
pub use ps::{ps, PsArgs};
pub use rename::{rename, RenameArgs};
pub use rm::{prune, rm, PruneArgs, RmArgs};
pub use run::{run, RunArgs};
pub use stats::{stats, StatsArgs};
pub use top::{top, top_of, TopArgs};

/// Turns a failed start into Podman's message and exit code.
fn start_error(e: berth_engine::Error) -> anyhow::Result<ExitCode> {
    match e {
        berth_engine::Error::StartFailed { code, message } => {
            eprintln!("Error: {message}");
            Ok(ExitCode::from(code as u8))
        }
        // as Podman: the container can't be started, so its command can't be invoked
        berth_engine::Error::Network(berth_engine::network::NetworkError::PortInUse(p)) => {
            eprintln!("Error: {p}");
            Ok(ExitCode::from(126))
        }
        other => Err(other.into()),
    }
}

fn each(names: &[String], mut f: impl FnMut(&str) -> berth_engine::Result<()>) -> anyhow::Result<ExitCode> {
    let mut failed = None;
    for name in names {
        match f(name) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                if let Some(prev) = failed.replace(e) {
                    eprintln!("Error: {prev}");
                }
            }
        }
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// A `-t` container's terminal, attached through its monitor, until it exits (its exit code)
/// or the user detaches (None). A container that ended before the attach got any of its
/// output (a quick one: its monitor's socket gone, or closed without a byte) has that output
/// printed from its log instead, read by `follower`, opened before the start: with `--rm`
/// the log itself is gone by then.
async fn attach_or_follow(
    engine: &Engine,
    c: &berth_engine::ContainerRecord,
    follower: follow::Follower,
    interactive: bool,
) -> anyhow::Result<Option<i32>> {
    let run_root = engine.config().run_root.clone();
    match crate::tty::attach(&run_root, &c.id, interactive, true).await {
        Ok(crate::tty::Ended::Detached) => Ok(None),
        Ok(crate::tty::Ended::Exited) => Ok(Some(wait_exit(engine, &c.id).await?)),
        Ok(crate::tty::Ended::Missed) | Err(_) => Ok(Some(follow::follow_until_exit(engine, c, follower, true).await?)),
    }
}

/// The exit code of a container, once it has one (also after a `--rm` removal).
async fn wait_exit(engine: &Engine, id: &str) -> anyhow::Result<i32> {
    loop {
        if let Some(code) = engine.exit_code(id)? {
            return Ok(code);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
