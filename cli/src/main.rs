#![recursion_limit = "256"]
//! `berth`: a podman-like command over Berth's engine.

mod archive;
mod build;
mod check;
mod completion;
mod compose;
mod containers;
mod diff;
mod events;
mod export;
mod format;
mod images;
mod import;
mod kube;
mod logging;
mod login;
mod mounts;
mod networks;
mod pods;
mod pull;
mod push;
mod service;
mod system;
mod template;
mod tty;
mod usage;
mod volumes;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::LazyLock;

use berth_engine::{Engine, EngineConfig};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "berth",
    about = "Manage pods, containers and images",
    disable_version_flag = true,
    subcommand_required = false
)]
struct Cli {
    /// Print the version
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// Docker's client configuration directory: accepted for Docker compatibility, and ignored
    #[arg(long, global = true, value_name = "DIR", hide = true)]
    config: Option<PathBuf>,
    /// Storage root (default: /var/lib/berth as root, $XDG_DATA_HOME/berth otherwise)
    #[arg(long, global = true, env = "BERTH_ROOT", value_name = "DIR")]
    root: Option<PathBuf>,
    /// Runtime state directory (default: /run/berth as root, $XDG_RUNTIME_DIR/berth otherwise;
    /// for another --root, a directory of its own under it: roots/HASH)
    #[arg(long, global = true, env = "BERTH_RUNROOT", value_name = "DIR")]
    runroot: Option<PathBuf>,
    /// Log messages at and above this level: debug and trace also print the command's timeline
    /// (as BERTH_TRACE=1 does)
    #[arg(long, global = true, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Docker's way to ask for debug messages: --log-level debug
    #[arg(short = 'D', long, global = true, hide = true)]
    debug: bool,
    /// Send nothing to standard output
    #[arg(long, global = true)]
    noout: bool,
    /// Storage driver: Berth stores layers with overlay
    #[arg(long, global = true, hide = true, value_name = "DRIVER", value_parser = ["overlay"])]
    storage_driver: Option<String>,
    /// Storage options: Berth's overlay storage takes none (an empty one is accepted)
    #[arg(long, global = true, hide = true, value_name = "OPTION")]
    storage_opt: Vec<String>,
    /// Cgroup manager: Berth manages cgroups itself, as cgroupfs does
    #[arg(long, global = true, hide = true, value_name = "MANAGER", value_parser = ["cgroupfs", "systemd"])]
    cgroup_manager: Option<String>,
    /// Where events are written: file (events.jsonl under the storage root) or none; journald is
    /// refused
    #[arg(long, global = true, hide = true, value_name = "BACKEND", value_parser = ["file", "journald", "none"])]
    events_backend: Option<String>,
    /// A flag for the OCI runtime: berth's runtime takes none, so a command that runs a
    /// container refuses it
    #[arg(long, global = true, hide = true, value_name = "FLAG")]
    runtime_flag: Vec<String>,
    /// Not available: berth runs containers on this host only
    #[arg(long, global = true, hide = true)]
    remote: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Pull an image from a registry
    Pull(pull::PullArgs),
    /// Push an image to a registry, a dir: directory or an OCI layout
    Push(push::PushArgs),
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
    /// Show an image's history
    History(images::HistoryArgs),
    /// Build an image from a Containerfile (Dockerfile)
    Build(Box<build::BuildArgs>),
    /// Build images (buildx's commands: build)
    #[command(subcommand)]
    Buildx(build::BuildxCommand),
    /// Create a new image from a container's changes
    Commit(images::CommitArgs),
    /// Show the changes of a container over its image, or of an image's top layer
    Diff(diff::DiffArgs),
    /// Export a container's files as a tar archive
    Export(export::ExportArgs),
    /// Import a tarball of a root filesystem as an image
    Import(import::ImportArgs),
    /// Save image(s) to an archive
    Save(archive::SaveArgs),
    /// Load image(s) from a tar archive
    Load(archive::LoadArgs),
    /// Mount a container's root filesystem on the host and print the path; none lists the mounted
    Mount(mounts::MountArgs),
    /// Undo `berth mount`
    #[command(alias = "unmount")]
    Umount(mounts::UmountArgs),
    /// Log in to a container registry
    Login(login::LoginArgs),
    /// Log out of a container registry
    Logout(login::LogoutArgs),
    /// Run a command in a new container
    Run(containers::RunArgs),
    /// Create a container without starting it
    Create(containers::CreateOnlyArgs),
    /// Start one or more containers
    Start(containers::StartArgs),
    /// Stop one or more running containers
    Stop(containers::StopArgs),
    /// Restart one or more containers
    Restart(containers::StopArgs),
    /// Send a signal to one or more running containers
    Kill(containers::KillArgs),
    /// Remove one or more containers
    Rm(containers::RmArgs),
    /// List containers
    #[command(alias = "list")]
    Ps(containers::PsArgs),
    /// Show a container's output
    Logs(containers::LogsArgs),
    /// Show the configuration and state of containers or images
    Inspect(containers::InspectArgs),
    /// Wait for containers to exit and print their exit codes
    Wait(containers::WaitArgs),
    /// Pause all processes of one or more containers
    Pause(containers::PauseArgs),
    /// Unpause one or more containers
    Unpause(containers::PauseArgs),
    /// Rename a container
    Rename(containers::RenameArgs),
    /// List a container's published ports
    Port(containers::PortArgs),
    /// Run a command in a running container
    Exec(containers::ExecArgs),
    /// Attach to a running container's input and output
    Attach(containers::AttachArgs),
    /// Show containers' resource usage
    Stats(containers::StatsArgs),
    /// Show the processes of a running container
    Top(containers::TopArgs),
    /// Copy files between the host and a container
    Cp(containers::CpArgs),
    /// Run a container's healthcheck
    #[command(subcommand)]
    Healthcheck(containers::HealthcheckCommand),
    /// Run compose files with a compose provider (docker-compose) against Berth's socket
    Compose(compose::ComposeArgs),
    /// Show what this host and Berth are: storage, cgroups, runtime, versions
    Info(system::InfoArgs),
    /// Show Berth's version
    Version(system::VersionArgs),
    /// Show what happened to containers, images, volumes and networks
    Events(events::EventsArgs),
    /// Manage networks
    #[command(subcommand)]
    Network(networks::NetworkCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volumes::VolumeCommand),
    /// Manage pods: containers that share namespaces
    #[command(subcommand)]
    Pod(pods::PodCommand),
    /// Play, take down and generate Kubernetes YAML
    #[command(subcommand)]
    Kube(kube::KubeCommand),
    /// Play Kubernetes YAML (as kube play)
    #[command(subcommand)]
    Play(kube::PlayCommand),
    /// Generate Kubernetes YAML (as kube generate)
    #[command(subcommand)]
    Generate(kube::GenerateCommand),
    /// The Docker-compatible API service, and the store's check
    #[command(subcommand)]
    System(SystemCommand),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Print a script that completes berth's command lines in bash, zsh or fish
    Completion(completion::CompletionArgs),
    /// Run a command in the user namespace of the rootless containers (default: $SHELL)
    Unshare(system::UnshareArgs),
    /// Help about any command
    Help(HelpArgs),
    /// The shell completion scripts' request: the candidates for the command line's last word
    #[command(name = "__complete", hide = true)]
    Complete,
    /// As __complete, without descriptions
    #[command(name = "__completeNoDesc", hide = true)]
    CompleteNoDesc,
}

#[derive(clap::Args)]
struct HelpArgs {
    /// The command to show the help of: `help image ls`
    #[arg(value_name = "command")]
    command: Vec<String>,
}

/// `berth system`: here, above both the service and the store's verbs it names.
#[derive(Subcommand)]
enum SystemCommand {
    /// Serve the Docker-compatible API on a unix socket
    Service(service::ServiceArgs),
    /// Check the store's blobs, images, layers and containers against each other; --repair fixes
    Check(check::CheckArgs),
    /// Show how much space images, containers and volumes take, and how much a prune frees
    Df(system::DfArgs),
    /// Remove stopped containers, unused networks, dangling images (and with --volumes, unused
    /// volumes)
    Prune(system::PruneArgs),
}

#[derive(Subcommand)]
enum ContainerCommand {
    /// Run a command in a new container
    Run(containers::RunArgs),
    /// Create a container without starting it
    Create(containers::CreateOnlyArgs),
    /// Start one or more containers
    Start(containers::StartArgs),
    /// Stop one or more running containers
    Stop(containers::StopArgs),
    /// Restart one or more containers
    Restart(containers::StopArgs),
    /// Send a signal to one or more running containers
    Kill(containers::KillArgs),
    /// Remove one or more containers
    Rm(containers::RmArgs),
    /// Mount a container's root filesystem on the host and print the path
    Mount(mounts::MountArgs),
    /// Undo `container mount`
    #[command(alias = "unmount")]
    Umount(mounts::UmountArgs),
    /// List containers
    #[command(alias = "ls", alias = "ps")]
    List(containers::PsArgs),
    /// Show a container's output
    Logs(containers::LogsArgs),
    /// Show the configuration and state of containers
    Inspect(containers::InspectArgs),
    /// Wait for containers to exit and print their exit codes
    Wait(containers::WaitArgs),
    /// Remove every container that is not running
    Prune(containers::PruneArgs),
    /// Pause all processes of one or more containers
    Pause(containers::PauseArgs),
    /// Unpause one or more containers
    Unpause(containers::PauseArgs),
    /// Rename a container
    Rename(containers::RenameArgs),
    /// List a container's published ports
    Port(containers::PortArgs),
    /// Run a command in a running container
    Exec(containers::ExecArgs),
    /// Attach to a running container's input and output
    Attach(containers::AttachArgs),
    /// Show containers' resource usage
    Stats(containers::StatsArgs),
    /// Show the processes of a running container
    Top(containers::TopArgs),
    /// Copy files between the host and a container
    Cp(containers::CpArgs),
    /// Whether a container exists (status 0) or not (1)
    Exists(format::ExistsArgs),
    /// Create a new image from a container's changes
    Commit(images::CommitArgs),
    /// Show the changes of a container over its image
    Diff(crate::diff::DiffArgs),
    /// Export a container's files as a tar archive
    Export(crate::export::ExportArgs),
}

fn main() -> ExitCode {
    // Containers are supervised by re-executions of this binary: become one if asked to.
    berth_engine::helpers::run_if_helper();
    LazyLock::force(&format::STARTED);
    // `[GLOBAL FLAGS] __complete WORD...`: the words to complete are not berth's to parse.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parse = |args: Vec<std::ffi::OsString>| {
        command().try_get_matches_from(args).and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
    };
    let mut complete_words = None;
    let mut parsed = None;
    if raw.iter().any(|a| a == completion::COMPLETE || a == completion::COMPLETE_NO_DESC) {
        let (head, words) = completion::split(raw.iter().map(|a| a.to_string_lossy().into_owned()).collect());
        // only as the command itself: `exec ctr echo __complete` is an exec
        if let Ok(cli) = parse(head.into_iter().map(Into::into).collect()) {
            if matches!(cli.command, Some(Command::Complete | Command::CompleteNoDesc)) {
                complete_words = words;
                parsed = Some(cli);
            }
        }
    }
    let cli = match parsed.map(Ok).unwrap_or_else(|| parse(raw)) {
        Ok(cli) => cli,
        Err(e) => return usage::error(&command(), e),
    };
    if let Some(level) = cli.log_level.as_deref().filter(|l| !logging::LEVELS.contains(l)) {
        // Podman's words and status
        eprintln!("Log Level \"{level}\" is not supported, choose from: {}", logging::LEVELS.join(", "));
        return ExitCode::from(1);
    }
    if cli.debug && cli.log_level.is_some() {
        eprintln!("Setting --log-level and --debug is not allowed");
        return ExitCode::from(1);
    }
    logging::init(cli.log_level.as_deref().unwrap_or(if cli.debug { "debug" } else { "warn" }));
    log::debug!("Called berth ({})", std::env::args().collect::<Vec<_>>().join(" "));
    if let Err(e) = global_flags(&cli) {
        eprintln!("Error: {e}");
        return ExitCode::from(125);
    }
    // BERTH_TRACE=1: a timeline of this command and the monitors it starts, on stderr at the end.
    berth_engine::trace::start();
    let code = match run(cli, complete_words) {
        Ok(code) => code,
        // `berth ps | head`: the reader left, as a shell's SIGPIPE would end the command (Rust
        // ignores the signal, so it comes back as this error); nothing to tell the user
        Err(e) if closed_stdout(&e) => ExitCode::from(141),
        Err(e) => {
            eprintln!("Error: {}", error_text(e.as_ref()));
            ExitCode::from(125)
        }
    };
    if let Some(timeline) = berth_engine::trace::report() {
        eprint!("{timeline}");
    }
    log::debug!("Shutting down engines");
    code
}

/// Whether the command runs a container's process through the runtime (which `--runtime-flag`
/// would go to).
fn runs_containers(command: &Command) -> bool {
    matches!(
        command,
        Command::Run(_)
            | Command::Start(_)
            | Command::Restart(_)
            | Command::Exec(_)
            | Command::Container(
                ContainerCommand::Run(_)
                    | ContainerCommand::Start(_)
                    | ContainerCommand::Restart(_)
                    | ContainerCommand::Exec(_)
            )
    )
}

/// The command line as Podman's parser takes it (an option given twice keeps its last value),
/// with Podman's help.
fn command() -> clap::Command {
    usage::podmanize(<Cli as clap::CommandFactory>::command())
}

/// The global flags Podman has that change how this process runs, before any thread starts.
fn global_flags(cli: &Cli) -> anyhow::Result<()> {
    if cli.remote {
        anyhow::bail!(
            "--remote: berth has no remote mode; run berth on the host, or use the docker client against `berth system service`"
        );
    }
    if let Some(o) = cli.storage_opt.iter().find(|o| !o.is_empty()) {
        anyhow::bail!("--storage-opt {o}: berth's overlay storage takes no options");
    }
    if cli.debug || matches!(cli.log_level.as_deref(), Some("debug" | "trace")) {
        // Safe here: no thread has started yet.
        std::env::set_var(berth_engine::trace::ENABLE_VAR, "1");
    }
    if cli.events_backend.as_deref() == Some("journald") {
        anyhow::bail!("--events-backend journald: berth keeps its events in a file of its own; use --events-backend file (or none)");
    }
    if cli.cgroup_manager.as_deref() == Some("systemd") {
        eprintln!("Warning: --cgroup-manager systemd: berth manages the containers' cgroups itself (cgroupfs)");
    }
    if cli.config.is_some() {
        eprintln!("Warning: the --config flag is ignored by berth; it exists for Docker compatibility");
    }
    if cli.noout {
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
        nix::unistd::dup2_stdout(null)?;
    }
    Ok(())
}

/// Whether the command failed writing to a standard output whose reader is gone (a broken
/// pipe to a registry or a socket is an error to show).
fn closed_stdout(e: &anyhow::Error) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let broken_pipe = e
        .chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
    let stdout = std::io::stdout();
    let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(&stdout), PollFlags::POLLOUT)];
    // a pipe without readers polls as an error
    broken_pipe
        && poll(&mut fds, PollTimeout::ZERO).is_ok()
        && fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLERR))
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
    let (root, run_root) = EngineConfig::paths(cli.root.clone(), cli.runroot.clone());
    let mut config = EngineConfig::new(root, run_root)?;
    config.record_events = cli.events_backend.as_deref() != Some("none");
    Ok(Engine::open(config)?)
}

fn run(cli: Cli, complete_words: Option<Vec<String>>) -> anyhow::Result<ExitCode> {
    let Some(command) = &cli.command else {
        if cli.version {
            println!("berth version {}", env!("CARGO_PKG_VERSION"));
            return Ok(ExitCode::SUCCESS);
        }
        let _ = command().print_help();
        anyhow::bail!("missing command 'berth COMMAND'");
    };
    match command {
        Command::Help(args) => return help(&args.command),
        Command::Complete | Command::CompleteNoDesc => {
            let words = complete_words.unwrap_or_default();
            let descriptions = matches!(command, Command::Complete);
            return Ok(completion::run(crate::command(), &words, descriptions, &|| engine(&cli)));
        }
        Command::Completion(args) => return completion::script(args),
        // before any thread starts: joining a user namespace needs a single-threaded process
        Command::Unshare(args) => {
            let (root, run_root) = EngineConfig::paths(cli.root.clone(), cli.runroot.clone());
            return system::unshare(args, &root, &run_root);
        }
        _ => {}
    }
    if let (Some(flag), true) = (cli.runtime_flag.first(), runs_containers(command)) {
        // as Podman, whose runtime refuses a flag it does not know when it runs the container
        eprintln!(
            "Error: --runtime-flag {flag}: berth's runtime takes no flags (it is built into berth, not crun or runc): leave --runtime-flag out"
        );
        return Ok(ExitCode::from(126));
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match command {
        Command::Pull(args) => rt.block_on(pull::run(engine(&cli)?, args)),
        Command::Push(args) => rt.block_on(push::run(engine(&cli)?, args)),
        Command::Images(args) => images::list(&engine(&cli)?, args),
        Command::Save(a) | Command::Image(images::ImageCommand::Save(a)) => archive::save(&engine(&cli)?, a),
        Command::Load(a) | Command::Image(images::ImageCommand::Load(a)) => archive::load(&engine(&cli)?, a),
        Command::Import(a) | Command::Image(images::ImageCommand::Import(a)) => import::import(&engine(&cli)?, a),
        Command::Build(a)
        | Command::Image(images::ImageCommand::Build(a))
        | Command::Buildx(build::BuildxCommand::Build(a)) => {
            rt.block_on(build::run(engine(&cli)?, a, &cli.runtime_flag))
        }
        Command::Image(cmd) => rt.block_on(images::run(engine(&cli)?, cmd)),
        Command::Tag(args) => images::tag(&engine(&cli)?, args),
        Command::Untag(args) => images::untag(&engine(&cli)?, args),
        Command::Rmi(args) => images::remove(&engine(&cli)?, args),
        Command::History(args) => images::history(&engine(&cli)?, args),
        Command::Commit(a) | Command::Container(ContainerCommand::Commit(a)) => images::commit(&engine(&cli)?, a),
        Command::Diff(a) => diff::diff(&engine(&cli)?, a, diff::Only::Any),
        Command::Export(a) | Command::Container(ContainerCommand::Export(a)) => export::export(&engine(&cli)?, a),
        Command::Container(ContainerCommand::Diff(a)) => diff::diff(&engine(&cli)?, a, diff::Only::Containers),
        Command::Mount(a) | Command::Container(ContainerCommand::Mount(a)) => mounts::mount(&engine(&cli)?, a),
        Command::Umount(a) | Command::Container(ContainerCommand::Umount(a)) => mounts::umount(&engine(&cli)?, a),
        Command::Login(args) => rt.block_on(login::login(engine(&cli)?, args)),
        Command::Logout(args) => login::logout(&engine(&cli)?, args),
        Command::Run(a) | Command::Container(ContainerCommand::Run(a)) => {
            rt.block_on(containers::run(engine(&cli)?, a))
        }
        Command::Create(a) | Command::Container(ContainerCommand::Create(a)) => {
            rt.block_on(containers::create_cmd(engine(&cli)?, a))
        }
        Command::Start(a) | Command::Container(ContainerCommand::Start(a)) => {
            rt.block_on(containers::start(engine(&cli)?, a))
        }
        Command::Stop(a) | Command::Container(ContainerCommand::Stop(a)) => containers::stop(&engine(&cli)?, a),
        Command::Restart(a) | Command::Container(ContainerCommand::Restart(a)) => {
            containers::restart(&engine(&cli)?, a)
        }
        Command::Kill(a) | Command::Container(ContainerCommand::Kill(a)) => containers::kill(&engine(&cli)?, a),
        Command::Rm(a) | Command::Container(ContainerCommand::Rm(a)) => containers::rm(&engine(&cli)?, a),
        Command::Ps(a) | Command::Container(ContainerCommand::List(a)) => containers::ps(&engine(&cli)?, a),
        Command::Logs(a) | Command::Container(ContainerCommand::Logs(a)) => {
            rt.block_on(containers::logs(engine(&cli)?, a))
        }
        Command::Inspect(a) => containers::inspect(&engine(&cli)?, a, true),
        Command::Container(ContainerCommand::Inspect(a)) => containers::inspect(&engine(&cli)?, a, false),
        Command::Wait(a) | Command::Container(ContainerCommand::Wait(a)) => containers::wait(&engine(&cli)?, a),
        Command::Container(ContainerCommand::Prune(a)) => containers::prune(&engine(&cli)?, a),
        Command::Pause(a) | Command::Container(ContainerCommand::Pause(a)) => containers::pause(&engine(&cli)?, a),
        Command::Unpause(a) | Command::Container(ContainerCommand::Unpause(a)) => {
            containers::unpause(&engine(&cli)?, a)
        }
        Command::Rename(a) | Command::Container(ContainerCommand::Rename(a)) => containers::rename(&engine(&cli)?, a),
        Command::Port(a) | Command::Container(ContainerCommand::Port(a)) => containers::port(&engine(&cli)?, a),
        Command::Exec(a) | Command::Container(ContainerCommand::Exec(a)) => {
            rt.block_on(containers::exec(engine(&cli)?, a))
        }
        Command::Attach(a) | Command::Container(ContainerCommand::Attach(a)) => {
            rt.block_on(containers::attach(engine(&cli)?, a))
        }
        Command::Stats(a) | Command::Container(ContainerCommand::Stats(a)) => {
            rt.block_on(containers::stats(engine(&cli)?, a))
        }
        Command::Top(a) | Command::Container(ContainerCommand::Top(a)) => containers::top(&engine(&cli)?, a),
        Command::Healthcheck(cmd) => containers::healthcheck(&engine(&cli)?, cmd),
        // Berth's own help (the provider's: `berth compose help`)
        Command::Compose(a) if matches!(a.args.first().map(String::as_str), Some("--help" | "-h")) => {
            help(&["compose".to_string()])?;
            println!("\nThe compose provider's own commands and options: berth compose help");
            Ok(ExitCode::SUCCESS)
        }
        Command::Compose(a) => rt.block_on(compose::run(engine(&cli)?, a)),
        Command::Cp(a) | Command::Container(ContainerCommand::Cp(a)) => containers::cp(&engine(&cli)?, a),
        Command::Network(cmd) => networks::run(&engine(&cli)?, cmd),
        Command::Volume(cmd) => volumes::run(&engine(&cli)?, cmd),
        Command::Pod(cmd) => rt.block_on(pods::run(engine(&cli)?, cmd)),
        Command::Kube(cmd) => rt.block_on(kube::run(engine(&cli)?, cmd)),
        Command::Play(cmd) => rt.block_on(kube::run_play(engine(&cli)?, cmd)),
        Command::Generate(cmd) => kube::run_generate(&engine(&cli)?, cmd),
        Command::System(SystemCommand::Service(a)) => rt.block_on(service::run(engine(&cli)?, a)),
        Command::System(SystemCommand::Check(a)) => check::run(&engine(&cli)?, a),
        Command::System(SystemCommand::Df(a)) => system::df(&engine(&cli)?, a),
        Command::System(SystemCommand::Prune(a)) => system::prune(&engine(&cli)?, a),
        Command::Info(a) => system::info(&engine(&cli)?, a),
        Command::Version(a) => system::version(a),
        Command::Events(_) if cli.events_backend.as_deref() == Some("none") => {
            anyhow::bail!("cannot read events with the \"none\" backend")
        }
        Command::Events(a) => events::events(&engine(&cli)?, a),
        Command::Container(ContainerCommand::Exists(a)) => format::exists(engine(&cli)?.container(&a.name)),
        Command::Help(_)
        | Command::Complete
        | Command::CompleteNoDesc
        | Command::Completion(_)
        | Command::Unshare(_) => unreachable!("answered above"),
    }
}

/// `berth help [COMMAND...]`: the help of that command, as `COMMAND --help` prints it.
fn help(path: &[String]) -> anyhow::Result<ExitCode> {
    let mut cmd = command();
    for word in path {
        cmd = match cmd.find_subcommand(word) {
            Some(sub) => sub.clone(),
            None => anyhow::bail!("unknown help topic `{}`: see '{} --help'", path.join(" "), usage::program()),
        };
    }
    cmd.print_help()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    /// clap checks every subcommand's flags against the global ones only when it parses that
    /// subcommand: check them all here (a global short flag may clash with a subcommand's).
    #[test]
    fn every_command_line_is_well_formed() {
        super::command().debug_assert();
    }
}
