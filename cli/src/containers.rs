//! Container commands: run, create, start, stop, restart, kill, rm, ps, logs, inspect, wait, prune.

use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use berth_engine::container::logs::{self, Record, Stream};
use berth_engine::{ContainerRecord, ContainerStatus, CreateOptions, Engine};
use clap::Args;
use serde_json::{json, Value};

use crate::format::{ago, human_duration, render_template, Table};

#[derive(Args)]
pub struct CreateArgs {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to take it from this environment)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Read environment variables from a file of KEY=VALUE lines
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Override the image's entrypoint (a string, or a JSON array)
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// User (name or uid, optionally :group) the command runs as
    #[arg(short, long)]
    pub user: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Add metadata (KEY=VALUE)
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Memory limit, e.g. 512m or 2g
    #[arg(short, long, value_parser = parse_size)]
    pub memory: Option<i64>,
    /// Memory plus swap limit, or -1 for unlimited swap (default: twice --memory)
    #[arg(long, value_parser = parse_size, allow_hyphen_values = true)]
    pub memory_swap: Option<i64>,
    /// Number of CPUs' worth of time, e.g. 1.5
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Relative CPU weight (default 1024)
    #[arg(short, long)]
    pub cpu_shares: Option<u64>,
    /// Most processes at once, or -1 for no limit
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Publish a container's port on the host: [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Publish every port the image exposes on a free host port
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// Network: bridge (the default), host, none, or a network's name
    #[arg(long, alias = "net")]
    pub network: Option<String>,
    /// Name server to use instead of the host's
    #[arg(long)]
    pub dns: Vec<std::net::IpAddr>,
    /// DNS search domain
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// Mount a host path or a named volume: HOST-DIR:CONTAINER-DIR[:ro] or NAME:CONTAINER-DIR[:ro]
    #[arg(short, long)]
    pub volume: Vec<String>,
    /// Mount a tmpfs: CONTAINER-DIR[:OPTIONS]
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Make the root filesystem read-only
    #[arg(long)]
    pub read_only: bool,
    /// Add a capability (NET_ADMIN, ALL, ...)
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop a capability (NET_RAW, ALL, ...)
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Every capability, no seccomp filter, nothing masked, the host's devices
    #[arg(long)]
    pub privileged: bool,
    /// seccomp=unconfined, seccomp=PROFILE.json or no-new-privileges
    #[arg(long)]
    pub security_opt: Vec<String>,
    /// Add a host device: HOST[:CONTAINER][:PERMISSIONS]
    #[arg(long)]
    pub device: Vec<String>,
    /// Keep stdin open (attach to give the container input)
    #[arg(short, long)]
    pub interactive: bool,
    /// Give the container a pseudo-terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Restart policy: no, on-failure[:MAX_RETRIES], always or unless-stopped
    #[arg(long, default_value = "no", value_parser = berth_engine::container::RestartPolicy::parse)]
    pub restart: berth_engine::container::RestartPolicy,
    /// Add a line to /etc/hosts (NAME:IP)
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Image, then the command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "IMAGE [COMMAND [ARG...]]"
    )]
    pub args: Vec<String>,
}

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Run in the background and print the container id
    #[arg(short, long)]
    pub detach: bool,
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    #[command(flatten)]
    pub create: CreateArgs,
}

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct CreateOnlyArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    #[command(flatten)]
    pub create: CreateArgs,
}

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
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct PsArgs {
    /// Show all containers, not only running ones
    #[arg(short, long)]
    pub all: bool,
    /// Show only ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format: json, or a template such as "{{.Names}}"
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: status=created|running|exited, name=TEXT, id=PREFIX
    #[arg(short, long)]
    pub filter: Vec<String>,
}

#[derive(Args)]
pub struct LogsArgs {
    pub container: String,
    /// Follow the output
    #[arg(short, long)]
    pub follow: bool,
    /// Show only the last N lines
    #[arg(long)]
    pub tail: Option<usize>,
    /// Show lines since a time (RFC 3339, or a duration such as 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show lines until a time (RFC 3339, or a duration such as 10m)
    #[arg(long)]
    pub until: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
}

#[derive(Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Output format: json (default) or a template such as "{{.State.Status}}"
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// `512m`, `2g`, `1024` (bytes), `-1`, as Podman reads sizes (binary units).
fn parse_size(s: &str) -> Result<i64, String> {
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.parse().map_err(|_| format!("invalid size {s:?}: use a number with b, k, m or g"))?;
    if n < 0.0 {
        return Err(format!("invalid size {s:?}: it must not be negative"));
    }
    Ok((n * mult as f64) as i64)
}

fn env_from(args: &CreateArgs) -> anyhow::Result<Vec<String>> {
    let mut env = Vec::new();
    let mut add = |kv: &str| {
        if kv.contains('=') {
            env.push(kv.to_string());
        } else if let Ok(v) = std::env::var(kv) {
            env.push(format!("{kv}={v}"));
        }
    };
    for file in &args.env_file {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading env file {}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('=') {
                bail!("env file {} line {}: {line:?} has no variable name", file.display(), n + 1);
            }
            add(line);
        }
    }
    for kv in &args.env {
        add(kv);
    }
    Ok(env)
}

fn options(args: &CreateArgs) -> anyhow::Result<CreateOptions> {
    let entrypoint = match args.entrypoint.as_deref() {
        None => None,
        Some("") => Some(Vec::new()),
        Some(e) if e.trim_start().starts_with('[') => Some(
            serde_json::from_str::<Vec<String>>(e)
                .with_context(|| format!("--entrypoint {e:?} is not a JSON array of strings"))?,
        ),
        Some(e) => Some(vec![e.to_string()]),
    };
    let labels = crate::format::labels(&args.label);
    Ok(CreateOptions {
        name: args.name.clone(),
        command: args.args[1..].to_vec(),
        entrypoint,
        env: env_from(args)?,
        workdir: args.workdir.clone(),
        user: args.user.clone(),
        hostname: args.hostname.clone(),
        remove: args.rm,
        labels,
        limits: berth_engine::container::Limits {
            memory: args.memory,
            memory_swap: args.memory_swap,
            cpus: args.cpus,
            cpu_shares: args.cpu_shares,
            pids: args.pids_limit,
        },
        ports: args
            .publish
            .iter()
            .map(|p| berth_engine::network::parse_publish(p))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
        publish_all: args.publish_all,
        restart: args.restart,
        mounts: {
            let cwd = std::env::current_dir()?;
            let mut m = Vec::new();
            for v in &args.volume {
                m.push(berth_engine::volume::parse_volume_flag(v, &cwd)?);
            }
            for t in &args.tmpfs {
                m.push(berth_engine::volume::parse_tmpfs_flag(t)?);
            }
            m
        },
        read_only: args.read_only,
        tty: args.tty,
        interactive: args.interactive,
        security: {
            use berth_engine::container::security;
            let mut sec = security::Security {
                cap_add: args.cap_add.clone(),
                cap_drop: args.cap_drop.clone(),
                privileged: args.privileged,
                ..Default::default()
            };
            for o in &args.security_opt {
                security::apply_security_opt(&mut sec, o)?;
            }
            for d in &args.device {
                sec.devices.push(security::parse_device(d)?);
            }
            sec
        },
        network: args.network.clone(),
        dns: args.dns.clone(),
        dns_search: args.dns_search.clone(),
        add_hosts: args
            .add_host
            .iter()
            .map(|h| berth_engine::network::parse_add_host(h))
            .collect::<Result<Vec<_>, _>>()?,
    })
}

/// Creates, pulling the image first when it is not here yet, as Podman does.
async fn create(engine: &Engine, args: &CreateArgs) -> anyhow::Result<ContainerRecord> {
    let image = &args.args[0];
    let opts = options(args)?;
    if let Err(berth_engine::Error::Lookup(berth_engine::image::LookupError::NotFound(_))) = engine.image(image) {
        crate::pull::pull_with_progress(engine, image, None, false).await?;
    }
    for w in berth_engine::rootless::create_warnings(&opts) {
        eprintln!("WARN[0000] {w}");
    }
    Ok(engine.create_container(image, opts)?)
}

pub async fn create_cmd(engine: Engine, args: &CreateOnlyArgs) -> anyhow::Result<ExitCode> {
    let c = create(&engine, &args.create).await?;
    println!("{}", c.id);
    Ok(ExitCode::SUCCESS)
}

/// Turns a failed start into Podman's message and exit code.
fn start_error(e: berth_engine::Error) -> anyhow::Result<ExitCode> {
    match e {
        berth_engine::Error::StartFailed { code, message } => {
            eprintln!("Error: {message}");
            Ok(ExitCode::from(code as u8))
        }
        other => Err(other.into()),
    }
}

pub async fn run(engine: Engine, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let c = create(&engine, &args.create).await?;
    // Opened before the start: a `--rm` container may be gone before a later open.
    let follower = Follower::open(&engine.container_paths(&c.id).log(), 0)?;
    if let Err(e) = engine.start_container(&c.id) {
        return start_error(e);
    }
    if args.detach {
        println!("{}", c.id);
        return Ok(ExitCode::SUCCESS);
    }
    if args.create.tty || args.create.interactive {
        drop(follower);
        let run_root = engine.config().run_root.clone();
        return match crate::tty::attach(&run_root, &c.id, args.create.interactive, args.create.tty).await {
            Ok(crate::tty::Ended::Detached) => Ok(ExitCode::SUCCESS),
            // A quick container may be gone before the attach: its output is in the log.
            Ok(crate::tty::Ended::Exited) | Err(_) => {
                let code = wait_exit(&engine, &c.id).await?;
                Ok(ExitCode::from(code.clamp(0, 255) as u8))
            }
        };
    }
    let code = follow_until_exit(&engine, &c, follower, true).await?;
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
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

#[derive(Args)]
pub struct RenameArgs {
    pub container: String,
    pub name: String,
}

pub fn rename(engine: &Engine, args: &RenameArgs) -> anyhow::Result<ExitCode> {
    engine.rename_container(&args.container, &args.name)?;
    Ok(ExitCode::SUCCESS)
}

pub fn kill(engine: &Engine, args: &KillArgs) -> anyhow::Result<ExitCode> {
    each(&args.containers, |n| engine.kill_container(n, &args.signal).map(drop))
}

pub fn rm(engine: &Engine, args: &RmArgs) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = if args.all {
        engine.containers()?.into_iter().map(|c| c.id).collect()
    } else if args.containers.is_empty() {
        bail!("specify one or more containers to remove");
    } else {
        args.containers.clone()
    };
    let force = args.force || args.all;
    each(&names, |n| {
        if let (true, Some(t)) = (force, args.time) {
            engine.stop_container(n, Duration::from_secs(t))?;
        }
        engine.remove_container(n, force).map(drop)
    })
}

pub fn wait(engine: &Engine, args: &NamesArgs) -> anyhow::Result<ExitCode> {
    for name in &args.containers {
        println!("{}", engine.wait_container(name)?);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn prune(engine: &Engine, args: &PruneArgs) -> anyhow::Result<ExitCode> {
    if !args.force {
        eprint!("WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(ExitCode::SUCCESS);
        }
    }
    for id in engine.prune_containers()? {
        println!("{id}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn status_text(c: &ContainerRecord) -> String {
    match c.status {
        ContainerStatus::Created => "Created".into(),
        ContainerStatus::Paused => "Paused".into(),
        ContainerStatus::Running | ContainerStatus::Stopping => {
            let since = c.started_at.unwrap_or(c.created_at);
            format!("Up {}", human_duration(chrono::Utc::now() - since))
        }
        ContainerStatus::Exited => format!("Exited ({}) {}", c.exit_code.unwrap_or(0), ago(c.finished_at)),
    }
}

/// The PORTS column: `0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp`.
fn ports_text(c: &ContainerRecord) -> String {
    c.options.ports.iter().map(|p| p.display()).collect::<Vec<_>>().join(", ")
}

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct ExecArgs {
    /// Keep stdin open
    #[arg(short, long)]
    pub interactive: bool,
    /// Give the process a pseudo-terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Run in the background
    #[arg(short, long)]
    pub detach: bool,
    /// User (name or uid, optionally :group)
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to take it from this environment)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// The container, then the command and its arguments
    #[arg(required = true, num_args = 2.., trailing_var_arg = true, allow_hyphen_values = true, value_name = "CONTAINER COMMAND [ARG...]")]
    pub args: Vec<String>,
}

/// `berth exec`: the exit code is the process's.
pub async fn exec(engine: Engine, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    use std::process::Stdio;
    let env = args
        .env
        .iter()
        .map(|e| match e.split_once('=') {
            Some(_) => e.clone(),
            None => format!("{e}={}", std::env::var(e).unwrap_or_default()),
        })
        .collect();
    let opts = berth_engine::exec::ExecOptions {
        command: args.args[1..].to_vec(),
        env,
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        tty: args.tty,
    };
    let mut cmd = engine.exec_command(&args.args[0], &opts)?;
    let code_of = |s: std::process::ExitStatus| {
        use std::os::unix::process::ExitStatusExt;
        s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
    };
    if args.detach {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        return Ok(ExitCode::SUCCESS);
    }
    let code = if args.tty {
        let (mut child, master) = match engine.exec_tty(&args.args[0], &opts) {
            Ok(x) => x,
            Err(berth_engine::Error::StartFailed { code, message }) => {
                eprintln!("Error: {message}");
                return Ok(ExitCode::from(code.clamp(0, 255) as u8));
            }
            Err(e) => return Err(e.into()),
        };
        drop(cmd);
        if let Some(ws) = crate::tty::window_size() {
            crate::tty::set_window_size(&master, &ws);
        }
        let raw = crate::tty::RawMode::enable();
        crate::tty::relay(master, args.interactive).await?;
        let status = tokio::task::spawn_blocking(move || child.wait()).await??;
        drop(raw);
        code_of(status)
    } else {
        if !args.interactive {
            cmd.stdin(Stdio::null());
        }
        let mut child = cmd.spawn()?;
        code_of(tokio::task::spawn_blocking(move || child.wait()).await??)
    };
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
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

#[derive(Args)]
pub struct AttachArgs {
    pub container: String,
    /// Do not attach stdin
    #[arg(long)]
    pub no_stdin: bool,
}

/// `berth attach`: the container's output here, this terminal's input there (when it was
/// created with -i); Ctrl-P Ctrl-Q detaches and leaves it running.
pub async fn attach(engine: Engine, args: &AttachArgs) -> anyhow::Result<ExitCode> {
    let c = engine.container(&args.container)?;
    if c.status != ContainerStatus::Running {
        bail!("you can only attach to running containers: {} is {}", c.name, c.status.as_str());
    }
    let stdin = c.options.interactive && !args.no_stdin;
    match crate::tty::attach(&engine.config().run_root, &c.id, stdin, c.options.tty).await? {
        crate::tty::Ended::Detached => Ok(ExitCode::SUCCESS),
        crate::tty::Ended::Exited => {
            let code = wait_exit(&engine, &c.id).await?;
            Ok(ExitCode::from(code.clamp(0, 255) as u8))
        }
    }
}

#[derive(Args)]
pub struct PortArgs {
    pub container: String,
    /// Only this container port (PORT[/PROTOCOL])
    pub port: Option<String>,
}

/// `berth port`: the container's published ports, as Podman prints them.
pub fn port(engine: &Engine, args: &PortArgs) -> anyhow::Result<ExitCode> {
    let c = engine.container(&args.container)?;
    let wanted = match &args.port {
        Some(p) => {
            let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            let port: u16 = port.parse().with_context(|| format!("invalid port {p:?}: use PORT or PORT/PROTOCOL"))?;
            Some((port, proto.to_ascii_lowercase()))
        }
        None => None,
    };
    let mut found = false;
    for p in &c.options.ports {
        let host = format!("{}:{}", p.host_ip.map_or_else(|| "0.0.0.0".into(), |i| i.to_string()), p.host_port);
        match &wanted {
            Some((port, proto)) if p.container_port == *port && p.protocol.as_str() == proto => {
                println!("{host}");
                found = true;
            }
            Some(_) => {}
            None => println!("{}/{} -> {host}", p.container_port, p.protocol),
        }
    }
    if let (Some(p), false) = (&args.port, found) {
        bail!("failed to find published port {p:?} of container {}", c.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn ps_json(c: &ContainerRecord) -> Value {
    json!({
        "Id": c.id,
        "Names": [c.name],
        "Image": c.image_name,
        "ImageID": c.image_id,
        "Command": c.command,
        "Created": c.created_at.timestamp(),
        "CreatedAt": c.created_at.to_rfc3339(),
        "StartedAt": c.started_at.map(|t| t.timestamp()).unwrap_or(0),
        "State": c.status.as_str(),
        "Status": status_text(c),
        "Exited": c.status == ContainerStatus::Exited,
        "ExitCode": c.exit_code.unwrap_or(0),
        "Pid": c.pid.unwrap_or(0),
        "Labels": c.options.labels,
        "AutoRemove": c.options.remove,
        "Ports": c.options.ports.iter().map(|p| json!({
            "host_ip": p.host_ip.map(|i| i.to_string()).unwrap_or_default(),
            "host_port": p.host_port,
            "container_port": p.container_port,
            "protocol": p.protocol.as_str(),
            "range": 1,
        })).collect::<Vec<_>>(),
    })
}

pub fn ps(engine: &Engine, args: &PsArgs) -> anyhow::Result<ExitCode> {
    let mut list = engine.containers()?;
    if !args.all {
        list.retain(|c| c.is_running());
    }
    for f in &args.filter {
        let (k, v) = f.split_once('=').with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
        match k {
            "status" => list.retain(|c| c.status.as_str() == v || (v == "running" && c.is_running())),
            "name" => list.retain(|c| c.name.contains(v)),
            "id" => list.retain(|c| c.id.starts_with(v)),
            other => bail!("invalid filter {other:?}: use status, name or id"),
        }
    }
    let out = std::io::stdout();
    let mut out = out.lock();
    if args.quiet {
        for c in &list {
            writeln!(out, "{}", if args.no_trunc { &c.id } else { c.short_id() })?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    match args.format.as_deref() {
        Some("json") => {
            let v: Vec<Value> = list.iter().map(ps_json).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Some(t) => {
            let t = t.strip_prefix("table ").unwrap_or(t);
            for c in &list {
                let line = render_template(t, &|k| {
                    Some(match k {
                        "ID" => {
                            if args.no_trunc {
                                c.id.clone()
                            } else {
                                c.short_id().to_string()
                            }
                        }
                        "Names" => c.name.clone(),
                        "Image" => c.image_name.clone(),
                        "Command" => c.command.join(" "),
                        "Status" => status_text(c),
                        "State" => c.status.as_str().to_string(),
                        "Created" | "CreatedHuman" => ago(Some(c.created_at)),
                        "Ports" => ports_text(c),
                        _ => return None,
                    })
                })
                .map_err(anyhow::Error::msg)?;
                writeln!(out, "{line}")?;
            }
        }
        None => {
            let mut table = Table::new(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
            for c in &list {
                let mut cmd = c.command.join(" ");
                if !args.no_trunc && cmd.chars().count() > 20 {
                    cmd = format!("{}...", cmd.chars().take(17).collect::<String>());
                }
                let id = if args.no_trunc { c.id.clone() } else { c.short_id().to_string() };
                table.row(vec![
                    id,
                    c.image_name.clone(),
                    cmd,
                    ago(Some(c.created_at)),
                    status_text(c),
                    ports_text(c),
                    c.name.clone(),
                ]);
            }
            table.print(&mut out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn template_value(v: &Value, key: &str) -> Option<String> {
    let mut cur = v;
    for part in key.split('.') {
        cur = cur.get(part)?;
    }
    Some(match cur {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// `berth inspect` and `container inspect`: containers first, then images, as Podman does.
pub fn inspect(engine: &Engine, args: &InspectArgs, images_too: bool) -> anyhow::Result<ExitCode> {
    let mut found = Vec::new();
    for n in &args.names {
        match engine.container(n) {
            Ok(c) => found.push(engine.inspect_record(&c)),
            Err(e) if !images_too => return Err(e.into()),
            Err(_) => match engine.image(n) {
                Ok(_) => {
                    return crate::images::inspect(
                        engine,
                        &crate::images::InspectArgs { images: args.names.clone(), format: args.format.clone() },
                    )
                }
                Err(_) => bail!("no such object: \"{n}\""),
            },
        }
    }
    match args.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&found)?),
        Some(t) => {
            for v in &found {
                println!("{}", render_template(t, &|k| template_value(v, k)).map_err(anyhow::Error::msg)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// RFC 3339, or a duration back from now ("10m", "2h", "30s").
fn parse_time_arg(s: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().with_context(|| format!("invalid time {s:?}: use RFC 3339 or a duration like 10m"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => bail!("invalid time {s:?}: use RFC 3339 or a duration like 10m"),
    };
    Ok(chrono::Utc::now() - chrono::Duration::seconds(secs))
}

fn print_record(r: &Record, timestamps: bool) -> std::io::Result<()> {
    let mut line = Vec::with_capacity(r.message.len() + 40);
    if timestamps {
        line.extend_from_slice(r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).as_bytes());
        line.push(b' ');
    }
    line.extend_from_slice(&r.message);
    if !r.partial {
        line.push(b'\n');
    }
    match r.stream {
        Stream::Stdout => {
            let mut o = std::io::stdout().lock();
            o.write_all(&line)?;
            o.flush()
        }
        Stream::Stderr => std::io::stderr().lock().write_all(&line),
    }
}

pub async fn logs(engine: Engine, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let c = engine.container(&args.container)?;
    let since = args.since.as_deref().map(parse_time_arg).transpose()?;
    let until = args.until.as_deref().map(parse_time_arg).transpose()?;
    let path = engine.container_paths(&c.id).log();
    let (mut records, end) = logs::read_all(&path).with_context(|| format!("reading {}", path.display()))?;
    records.retain(|r| since.is_none_or(|s| r.time >= s) && until.is_none_or(|u| r.time <= u));
    if let Some(n) = args.tail {
        // whole lines: a line is its partial records plus the full one that ends it
        let mut lines = 0;
        let mut start = records.len();
        while start > 0 && lines < n {
            start -= 1;
            if !records[start].partial || start + 1 == records.len() {
                lines += 1;
            }
            while start > 0 && records[start - 1].partial {
                start -= 1;
            }
        }
        records.drain(..start);
    }
    for r in &records {
        print_record(r, args.timestamps)?;
    }
    if args.follow && c.is_running() {
        follow_until_exit(&engine, &c, Follower::open(&path, end)?, false).await.map(drop)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Follows a log file across rotation, through an open descriptor (so a `--rm` removal after
/// the exit loses nothing).
pub(crate) struct Follower {
    path: PathBuf,
    file: std::fs::File,
    pending: Vec<u8>,
}

impl Follower {
    /// Opens (creating it if the monitor has not yet) the log and starts at `offset`.
    pub(crate) fn open(path: &Path, offset: u64) -> anyhow::Result<Follower> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.seek(std::io::SeekFrom::Start(offset))?;
        Ok(Follower { path: path.to_path_buf(), file, pending: Vec::new() })
    }

    pub(crate) fn poll(&mut self) -> std::io::Result<Vec<Record>> {
        // Rotated when the name points at another file: this one is then complete, so read it
        // to its end before switching.
        let current = self.file.metadata()?.ino();
        let rotated = std::fs::metadata(&self.path).is_ok_and(|m| m.ino() != current);
        self.file.read_to_end(&mut self.pending)?;
        let end = self.pending.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let out = self.pending[..end].split(|b| *b == b'\n').filter_map(logs::parse_line).collect();
        self.pending.drain(..end);
        if rotated {
            if let Ok(f) = std::fs::File::open(&self.path) {
                self.file = f;
            }
        }
        Ok(out)
    }
}

/// Prints the container's output as it comes until it exits; returns its exit code. Ctrl-C and
/// SIGTERM are passed on to the container when `proxy_signals`, as Podman's sig-proxy does.
async fn follow_until_exit(
    engine: &Engine,
    c: &ContainerRecord,
    mut follower: Follower,
    proxy_signals: bool,
) -> anyhow::Result<i32> {
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let exit_file = engine.exit_file(&c.id);
    let mut tick = 0u32;
    loop {
        // The monitor writes the exit file after recording the exit; the database is asked
        // only now and then (to notice a monitor that died without writing it).
        tick += 1;
        let exited = if exit_file.exists() || tick.is_multiple_of(100) { engine.exit_code(&c.id)? } else { None };
        for r in follower.poll()? {
            print_record(&r, false)?;
        }
        if let Some(code) = exited {
            // everything was written before the exit was recorded: one last read
            for r in follower.poll()? {
                print_record(&r, false)?;
            }
            return Ok(code);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(2)) => {}
            _ = sigint.recv() => {
                if proxy_signals { let _ = engine.kill_container(&c.id, "INT"); } else { return Ok(0); }
            }
            _ = sigterm.recv() => {
                if proxy_signals { let _ = engine.kill_container(&c.id, "TERM"); } else { return Ok(0); }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_podmans() {
        for (input, want) in [
            ("1024", Ok(1024)),
            ("512m", Ok(512 << 20)),
            ("2g", Ok(2 << 30)),
            ("1.5k", Ok(1536)),
            ("64MB", Ok(64 << 20)),
            ("-1", Ok(-1)),
        ] {
            assert_eq!(super::parse_size(input), want, "{input}");
        }
        assert!(super::parse_size("lots").unwrap_err().contains("invalid size \"lots\""));
        assert!(super::parse_size("-5m").is_err());
    }
}

#[derive(Args)]
pub struct StatsArgs {
    /// Containers (default: every running one)
    pub containers: Vec<String>,
    /// Show one sample and exit
    #[arg(long)]
    pub no_stream: bool,
    /// Output format: json, or a template such as "{{.CPUPerc}}"
    #[arg(long)]
    pub format: Option<String>,
    /// Seconds between samples
    #[arg(short, long, default_value_t = 2)]
    pub interval: u64,
}

/// One row of `berth stats`: a container's usage between two samples.
struct StatsRow {
    id: String,
    name: String,
    cpu_percent: f64,
    mem_usage: u64,
    mem_limit: u64,
    net: Option<(u64, u64)>,
    block: Option<(u64, u64)>,
    pids: u64,
}

impl StatsRow {
    fn mem_percent(&self) -> f64 {
        if self.mem_limit == 0 {
            0.0
        } else {
            self.mem_usage as f64 * 100.0 / self.mem_limit as f64
        }
    }

    fn json(&self) -> Value {
        let pair = |p: Option<(u64, u64)>| {
            p.map_or_else(
                || "-- / --".to_string(),
                |(a, b)| format!("{} / {}", crate::format::human_size(a), crate::format::human_size(b)),
            )
        };
        json!({
            "id": &self.id[..12],
            "name": self.name,
            "cpu_percent": format!("{:.2}%", self.cpu_percent),
            "mem_usage": format!("{} / {}", crate::format::human_size(self.mem_usage), crate::format::human_size(self.mem_limit)),
            "mem_percent": format!("{:.2}%", self.mem_percent()),
            "net_io": pair(self.net),
            "block_io": pair(self.block),
            "pids": self.pids.to_string(),
            "cpu": self.cpu_percent,
            "mem": self.mem_usage,
            "mem_limit": self.mem_limit,
        })
    }
}

/// `berth stats`: CPU %, memory, network and block I/O and pids of running containers, sampled
/// every `--interval` (CPU % is the share of one CPU used between two samples).
pub async fn stats(engine: Engine, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    use std::collections::HashMap;
    let targets = || -> anyhow::Result<Vec<ContainerRecord>> {
        if args.containers.is_empty() {
            Ok(engine.containers()?.into_iter().filter(|c| c.status == ContainerStatus::Running).collect())
        } else {
            args.containers.iter().map(|n| Ok(engine.container(n)?)).collect()
        }
    };
    let sample =
        |list: &[ContainerRecord]| -> anyhow::Result<HashMap<String, (Instant, berth_engine::stats::ContainerStats)>> {
            let mut m = HashMap::new();
            for c in list {
                match engine.container_stats(&c.id) {
                    Ok(s) => {
                        m.insert(c.id.clone(), (Instant::now(), s));
                    }
                    Err(e) if !args.containers.is_empty() => return Err(e.into()),
                    Err(_) => {} // it stopped meanwhile
                }
            }
            Ok(m)
        };
    let mut previous = sample(&targets()?)?;
    let interval = if args.no_stream { Duration::from_millis(500) } else { Duration::from_secs(args.interval.max(1)) };
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    loop {
        tokio::time::sleep(interval).await;
        let list = targets()?;
        let now = sample(&list)?;
        let mut rows = Vec::new();
        for c in &list {
            let Some((t1, s1)) = now.get(&c.id) else { continue };
            let cpu_percent = match (previous.get(&c.id), s1.cpu_usage_ns) {
                (Some((t0, s0)), Some(u1)) => {
                    let used = u1.saturating_sub(s0.cpu_usage_ns.unwrap_or(0)) as f64;
                    used * 100.0 / t1.duration_since(*t0).as_nanos().max(1) as f64
                }
                _ => 0.0,
            };
            rows.push(StatsRow {
                id: c.id.clone(),
                name: c.name.clone(),
                cpu_percent,
                mem_usage: s1.memory_usage.unwrap_or(0),
                mem_limit: s1.memory_limit.or(s1.host_memory).unwrap_or(0),
                net: s1.net_rx.zip(s1.net_tx),
                block: s1.block_read.zip(s1.block_write),
                pids: s1.pids.unwrap_or(0),
            });
        }
        previous = now;
        let out = std::io::stdout();
        let mut out = out.lock();
        if tty && !args.no_stream {
            write!(out, "\x1b[2J\x1b[H")?;
        }
        match args.format.as_deref() {
            Some("json") => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&rows.iter().map(StatsRow::json).collect::<Vec<_>>())?
            )?,
            Some(t) => {
                for r in &rows {
                    let v = r.json();
                    let line = render_template(t.strip_prefix("table ").unwrap_or(t), &|k| {
                        let key = match k {
                            "ID" => "id",
                            "Name" => "name",
                            "CPUPerc" | "CPU" => "cpu_percent",
                            "MemUsage" => "mem_usage",
                            "MemPerc" => "mem_percent",
                            "NetIO" => "net_io",
                            "BlockIO" => "block_io",
                            "PIDs" | "PIDS" => "pids",
                            _ => return None,
                        };
                        v[key].as_str().map(str::to_string)
                    })
                    .map_err(anyhow::Error::msg)?;
                    writeln!(out, "{line}")?;
                }
            }
            None => {
                let mut table =
                    Table::new(&["ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET IO", "BLOCK IO", "PIDS"]);
                for r in &rows {
                    let v = r.json();
                    let cell = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                    table.row(vec![
                        cell("id"),
                        cell("name"),
                        cell("cpu_percent"),
                        cell("mem_usage"),
                        cell("mem_percent"),
                        cell("net_io"),
                        cell("block_io"),
                        cell("pids"),
                    ]);
                }
                table.print(&mut out)?;
            }
        }
        out.flush()?;
        if args.no_stream {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

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

#[derive(Args)]
pub struct CpArgs {
    /// SOURCE: a host path, or CONTAINER:PATH
    pub source: String,
    /// DESTINATION: a host path, or CONTAINER:PATH
    pub destination: String,
}

/// `NAME:PATH` when the part before the colon names something other than a host path.
fn container_side(arg: &str) -> Option<(&str, &str)> {
    let (name, path) = arg.split_once(':')?;
    (!name.is_empty() && !name.starts_with('/') && !name.starts_with('.')).then_some((name, path))
}

/// `berth cp`: a file or directory between the host and a container (running or not), in
/// either direction, as `docker cp` and `podman cp` do.
pub fn cp(engine: &Engine, args: &CpArgs) -> anyhow::Result<ExitCode> {
    use berth_engine::copy::Direction;
    use std::process::Stdio;
    match (container_side(&args.source), container_side(&args.destination)) {
        (Some((name, path)), None) => {
            let mut child = engine.copy_command(name, Direction::Out, path)?.stdout(Stdio::piped()).spawn()?;
            let dest = Path::new(&args.destination);
            let stdout = child.stdout.take().expect("piped");
            let result = unpack_on_host(stdout, dest);
            let status = child.wait()?;
            if !status.success() {
                return Ok(ExitCode::from(125)); // the helper said why
            }
            result?;
        }
        (None, Some((name, path))) => {
            let src = Path::new(&args.source);
            let meta = std::fs::symlink_metadata(src).with_context(|| {
                format!("\"{}\" could not be found on the host: no such file or directory", src.display())
            })?;
            let mut child = engine.copy_command(name, Direction::In, path)?.stdin(Stdio::piped()).spawn()?;
            let stdin = child.stdin.take().expect("piped");
            let base = src.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            let mut tar = tar::Builder::new(stdin);
            tar.follow_symlinks(false);
            let written =
                if meta.is_dir() { tar.append_dir_all(&base, src) } else { tar.append_path_with_name(src, &base) };
            let written = written.and_then(|_| tar.into_inner().map(drop));
            let status = child.wait()?;
            if !status.success() {
                return Ok(ExitCode::from(125));
            }
            written.with_context(|| format!("sending {}", src.display()))?;
        }
        (Some(_), Some(_)) => bail!("copying between containers is not supported: copy to the host first"),
        (None, None) => bail!("one of the paths must be CONTAINER:PATH"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Unpacks a tar whose single top-level entry is the copied file or directory: into `dest`
/// when it is a directory, else as `dest`.
fn unpack_on_host(stream: impl std::io::Read, dest: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(stream);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    if dest.is_dir() {
        archive.unpack(dest).with_context(|| format!("copying into {}", dest.display()))?;
        return Ok(());
    }
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!("\"{}\" could not be found on the host: no such file or directory", parent.display());
    }
    let staging = tempfile_dir(parent)?;
    let result = (|| -> anyhow::Result<()> {
        archive.unpack(&staging)?;
        let first = std::fs::read_dir(&staging)?.next().context("the container sent nothing")??;
        std::fs::rename(first.path(), dest)?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result.with_context(|| format!("copying to {}", dest.display()))
}

fn tempfile_dir(parent: &Path) -> anyhow::Result<PathBuf> {
    let dir = parent.join(format!(".berth-cp-{}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
