//! `berth`: a podman-like command over Berth's engine.

mod format;
mod images;
mod login;
mod pull;

use std::path::PathBuf;
use std::process::ExitCode;

use berth_engine::{Engine, EngineConfig};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "berth", version, about = "Manage images and containers with Berth's daemonless engine")]
struct Cli {
    /// Storage root (default: /var/lib/berth as root, $XDG_DATA_HOME/berth otherwise)
    #[arg(long, global = true, env = "BERTH_ROOT", value_name = "DIR")]
    root: Option<PathBuf>,
    /// Runtime state directory (default: /run/berth as root, $XDG_RUNTIME_DIR/berth otherwise)
    #[arg(long, global = true, env = "BERTH_RUNROOT", value_name = "DIR")]
    runroot: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pull an image from a registry
    Pull(pull::PullArgs),
    /// List images in local storage
    Images(images::ListArgs),
    /// Manage images
    #[command(subcommand)]
    Image(images::ImageCommand),
    /// Add an additional name to a local image
    Tag(images::TagArgs),
    /// Remove a name from a local image
    Untag(images::UntagArgs),
    /// Remove one or more images from local storage
    Rmi(images::RmArgs),
    /// Log in to a container registry
    Login(login::LoginArgs),
    /// Log out of a container registry
    Logout(login::LogoutArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {}", error_text(e.as_ref()));
            ExitCode::from(125)
        }
    }
}

/// The error and its causes, each cause added only when the text so far does not say it already
/// (engine errors name their cause in their own message).
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

fn engine(cli: &Cli) -> anyhow::Result<Engine> {
    let (root, run_root) = EngineConfig::default_paths();
    let root = cli.root.clone().unwrap_or(root);
    let run_root = cli.runroot.clone().unwrap_or_else(|| if cli.root.is_some() { root.join("run") } else { run_root });
    let config = EngineConfig::new(root, run_root)?;
    Ok(Engine::open(config)?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match &cli.command {
        Command::Pull(args) => rt.block_on(pull::run(engine(&cli)?, args)),
        Command::Images(args) => images::list(&engine(&cli)?, args),
        Command::Image(cmd) => rt.block_on(images::run(engine(&cli)?, cmd)),
        Command::Tag(args) => images::tag(&engine(&cli)?, args),
        Command::Untag(args) => images::untag(&engine(&cli)?, args),
        Command::Rmi(args) => images::remove(&engine(&cli)?, args),
        Command::Login(args) => rt.block_on(login::login(engine(&cli)?, args)),
        Command::Logout(args) => login::logout(&engine(&cli)?, args),
    }
}
