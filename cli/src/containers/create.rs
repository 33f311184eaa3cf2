//! `create` (and what `run` creates with): the flags, their translation to `CreateOptions`, and
//! the pull of a missing image.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::{ContainerRecord, CreateOptions, Engine};
use clap::Args;

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
    /// Network: bridge (the default), host, none, or a network's name; given again, the
    /// container is on each of those bridge networks
    #[arg(long, alias = "net")]
    pub network: Vec<String>,
    /// Another name for the container on its network, which the others can look up
    #[arg(long, value_name = "ALIAS")]
    pub network_alias: Vec<String>,
    /// The MAC address of the container's interface on its (first) bridge network
    #[arg(long, value_name = "MAC")]
    pub mac_address: Option<String>,
    /// Name server to use instead of the host's
    #[arg(long, value_parser = |s: &str| berth_engine::network::parse_dns(s).map_err(|e| e.to_string()))]
    pub dns: Vec<std::net::IpAddr>,
    /// DNS search domain
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// Mount a host path or a named volume: HOST-DIR:CONTAINER-DIR[:ro] or NAME:CONTAINER-DIR[:ro]
    #[arg(short, long)]
    pub volume: Vec<String>,
    /// Mount: type=bind|volume|tmpfs,source=...,destination=...[,ro][,tmpfs-size=64m]
    #[arg(long)]
    pub mount: Vec<String>,
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
    /// Mount the volumes of another container (CONTAINER[:ro|rw])
    #[arg(long = "volumes-from", value_name = "CONTAINER[:OPTIONS]")]
    pub volumes_from: Vec<String>,
    /// Add a host device: HOST[:CONTAINER][:PERMISSIONS]
    #[arg(long)]
    pub device: Vec<String>,
    /// Let the container use these devices: "TYPE MAJOR:MINOR ACCESS" (c 1:3 rwm, b 7:* rw).
    /// Berth puts no device cgroup on containers, so every device node in one is usable: the
    /// rule is checked and kept in the container's spec
    #[arg(long, value_name = "RULE")]
    pub device_cgroup_rule: Vec<String>,
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
    /// Where the output goes: k8s-file (the default), json-file (the same file) or none
    #[arg(long, value_parser = berth_engine::container::LogDriver::parse)]
    pub log_driver: Option<berth_engine::container::LogDriver>,
    /// A log option: max-size=SIZE (the file rotates past it, e.g. 10m)
    #[arg(long)]
    pub log_opt: Vec<String>,
    /// No longer supported (the kernel dropped kernel memory limits): ignored with a warning
    #[arg(long, hide = true)]
    pub kernel_memory: Option<String>,
    /// Read labels from a file of KEY=VALUE lines
    #[arg(long)]
    pub label_file: Vec<PathBuf>,
    /// Write the container's id to this file (which must not exist)
    #[arg(long)]
    pub cidfile: Option<PathBuf>,
    /// Remove a container of the same --name first
    #[arg(long)]
    pub replace: bool,
    /// Give the container this environment, before --env-file and --env
    #[arg(long)]
    pub env_host: bool,
    /// Pass the host's proxy variables (http_proxy, https_proxy, ftp_proxy, no_proxy)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub http_proxy: bool,
    /// Pull the image: missing (when it is not here), always, newer (as always: only what
    /// changed is fetched) or never
    #[arg(long, default_value = "missing", value_parser = ["always", "missing", "never", "newer"])]
    pub pull: String,
    /// Seconds a stop waits for the stop signal to work before killing (default 10)
    #[arg(long, value_name = "SECONDS")]
    pub stop_timeout: Option<u64>,
    /// Seconds the container may run before it is killed (its exit code is then -1); 0 for no
    /// limit
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// The container's time zone: a name from /usr/share/zoneinfo (Europe/Paris), or local for
    /// this host's
    #[arg(long, value_name = "TIMEZONE")]
    pub tz: Option<String>,
    /// The runtime that runs the container: berth (this binary's own), or the path of another
    /// berth binary (crun and runc can't run Berth's containers)
    #[arg(long, value_name = "PATH")]
    pub runtime: Option<PathBuf>,
    /// Write the pid of the container's monitor (Berth's conmon) to this file at each start
    #[arg(long, value_name = "FILE")]
    pub conmon_pidfile: Option<PathBuf>,
    /// Pid namespace: private (the default: one of its own) or host (this host's)
    #[arg(long, value_name = "MODE", value_parser = parse_pid_mode)]
    pub pid: Option<bool>,
    /// Signal `stop` sends first (a name or number; default the image's, else SIGTERM)
    #[arg(long, value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Leave this variable of the image or the defaults (PATH, TERM, HOME, ...) unset
    #[arg(long, value_name = "NAME")]
    pub unsetenv: Vec<String>,
    /// Leave every variable of the image and the defaults unset (--env still sets its own)
    #[arg(long)]
    pub unsetenv_all: bool,
    /// A resolver option for the container's resolv.conf (ndots:2, edns0, ...)
    #[arg(long, alias = "dns-option", value_name = "OPTION")]
    pub dns_opt: Vec<String>,
    /// An extra group of the container's user: a name in the image's /etc/group, or a gid
    #[arg(long, value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// Size of /dev/shm, e.g. 128m (default and 0: 64m)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub shm_size: Option<i64>,
    /// A namespaced kernel parameter: net.* (with a network of its own), kernel.msg*, kernel.sem,
    /// kernel.shm*, fs.mqueue.*
    #[arg(long, value_name = "KEY=VALUE")]
    pub sysctl: Vec<String>,
    /// A resource limit: TYPE=SOFT[:HARD] (nofile=1024:2048, -1 unlimited), or host for this
    /// process's own limits
    #[arg(long, value_name = "TYPE=SOFT[:HARD]")]
    pub ulimit: Vec<String>,
    /// Run Berth's init as pid 1: it reaps zombies and forwards signals to the command
    #[arg(long)]
    pub init: bool,
    /// The healthcheck's command, run in the container: a shell line, or a JSON array for
    /// the exec form (none: no check, not even the image's)
    #[arg(long, value_name = "COMMAND")]
    pub health_cmd: Option<String>,
    /// Time between healthchecks (30s; disable: only `berth healthcheck run` runs it)
    #[arg(long, value_name = "DURATION")]
    pub health_interval: Option<String>,
    /// Failures in a row that make the container unhealthy (3)
    #[arg(long, value_name = "N")]
    pub health_retries: Option<u32>,
    /// Time a healthcheck may take before it counts as failed (30s)
    #[arg(long, value_name = "DURATION")]
    pub health_timeout: Option<String>,
    /// Time after the start in which failing checks don't count (0s)
    #[arg(long, value_name = "DURATION")]
    pub health_start_period: Option<String>,
    /// What to do when the container turns unhealthy: none, kill, restart or stop
    #[arg(long, value_name = "ACTION", default_value = "none")]
    pub health_on_failure: String,
    /// Run no healthcheck, not even the image's
    #[arg(long)]
    pub no_healthcheck: bool,
    /// User namespace: host (the default: the one berth runs in); keep-id, nomap, auto and
    /// private are refused, as berth gives a container no id maps of its own
    #[arg(long, value_name = "MODE")]
    pub userns: Vec<String>,
    /// The pod to put the container in (a name or id), or new:NAME for a new pod of that name
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
    /// Read the pod (its id) from this file
    #[arg(long, value_name = "FILE")]
    pub pod_id_file: Option<PathBuf>,
    /// The container's root is this directory of the host, not an image (`PATH:O`: an overlay
    /// over it, which is left unchanged); the arguments are then the command alone
    #[arg(long, value_name = "PATH[:O]")]
    pub rootfs: Option<String>,
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
pub struct CreateOnlyArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `512m`, `2g`, `1024` (bytes), `-1`, as Podman reads sizes (binary units). `inf`, `nan`,
/// negative sizes and sizes past 8 EiB are refused.
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
    let bad = || format!("invalid size {s:?}: use a number with b, k, m or g, e.g. 512m");
    // Digits with at most one point: no `inf`, `nan`, exponents or signs.
    if num.is_empty()
        || num == "."
        || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || num.matches('.').count() > 1
    {
        if num.starts_with('-') {
            return Err(format!("invalid size {s:?}: it must not be negative (or -1 for unlimited)"));
        }
        return Err(bad());
    }
    let n: f64 = num.parse().map_err(|_| bad())?;
    let bytes = n * mult as f64;
    if !bytes.is_finite() || bytes >= i64::MAX as f64 {
        return Err(format!("invalid size {s:?}: it is too large (at most 8 EiB)"));
    }
    Ok(bytes as i64)
}

/// `--pid`: whether the container shares the host's pid namespace.
fn parse_pid_mode(s: &str) -> Result<bool, String> {
    match s {
        "host" => Ok(true),
        "private" | "" => Ok(false),
        _ if s.starts_with("container:") || s.starts_with("ns:") => {
            Err(format!("--pid {s}: berth gives a container its own pid namespace or the host's; use private or host"))
        }
        _ => Err(format!("invalid --pid {s:?}: use private or host")),
    }
}

/// `--log-driver` and `--log-opt`.
fn log_config(args: &CreateArgs) -> anyhow::Result<berth_engine::container::LogConfig> {
    let mut config = berth_engine::container::LogConfig { driver: args.log_driver.unwrap_or_default(), max_size: None };
    for opt in &args.log_opt {
        let (k, v) =
            opt.split_once('=').with_context(|| format!("--log-opt {opt:?}: use KEY=VALUE, e.g. max-size=10m"))?;
        match k {
            "max-size" => {
                config.max_size = Some(decimal_size(v).with_context(|| format!("--log-opt {opt:?}"))?);
            }
            "tag" => {} // names journald entries, and berth writes none
            _ => bail!("--log-opt {opt:?}: berth takes max-size (and tag) only"),
        }
    }
    Ok(config)
}

/// `4.5m`, `100k`, `1g`, `512b`: decimal units, as Podman reads a log's max-size.
pub(crate) fn decimal_size(s: &str) -> anyhow::Result<u64> {
    let lower = s.trim().to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1e3),
        Some('m') => (&t[..t.len() - 1], 1e6),
        Some('g') => (&t[..t.len() - 1], 1e9),
        Some('t') => (&t[..t.len() - 1], 1e12),
        _ => (t, 1.0),
    };
    let n: f64 = num.trim().parse().map_err(|_| anyhow::anyhow!("invalid size {s:?}: use a number with k, m or g"))?;
    if !n.is_finite() || n <= 0.0 || n * mult > u64::MAX as f64 {
        bail!("invalid size {s:?}: use a positive number with k, m or g");
    }
    Ok((n * mult).round() as u64)
}

/// The variables `--http-proxy` passes on, in either case.
const PROXY_VARS: &[&str] = &["http_proxy", "https_proxy", "ftp_proxy", "no_proxy"];

/// `--label-file` lines (KEY=VALUE; blank lines and `#` comments skipped), then `--label`.
fn labels_from(args: &CreateArgs) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut flags = Vec::new();
    for file in &args.label_file {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading label file {}", file.display()))?;
        flags.extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from));
    }
    flags.extend(args.label.iter().cloned());
    Ok(crate::format::labels(&flags))
}

fn env_from(args: &CreateArgs) -> anyhow::Result<Vec<String>> {
    let mut env = Vec::new();
    if args.env_host {
        env.extend(std::env::vars().map(|(k, v)| format!("{k}={v}")));
    } else if args.http_proxy {
        for (k, v) in std::env::vars() {
            if PROXY_VARS.contains(&k.to_ascii_lowercase().as_str()) {
                env.push(format!("{k}={v}"));
            }
        }
    }
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

/// Whether the container joins a network stack it does not own (host, none, another
/// container's), where published ports mean nothing: Podman then drops them with a warning.
fn shares_a_network(args: &CreateArgs) -> bool {
    matches!(args.network.first().map(String::as_str), Some(n) if n == "host" || n == "none" || n.starts_with("container:"))
}

fn options(args: &CreateArgs) -> anyhow::Result<CreateOptions> {
    if args.kernel_memory.is_some() {
        eprintln!("The --kernel-memory flag is no longer supported. This flag is a noop.");
    }
    if shares_a_network(args) && (!args.publish.is_empty() || args.publish_all) {
        eprintln!(
            "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use"
        );
    }
    let entrypoint = match args.entrypoint.as_deref() {
        None => None,
        Some("") => Some(Vec::new()),
        Some(e) if e.trim_start().starts_with('[') => Some(
            serde_json::from_str::<Vec<String>>(e)
                .with_context(|| format!("--entrypoint {e:?} is not a JSON array of strings"))?,
        ),
        Some(e) => Some(vec![e.to_string()]),
    };
    // the last one wins, as in Podman
    if let Some(mode) = args.userns.last() {
        berth_engine::container::check_userns(mode, berth_engine::rootless::is_rootless())
            .map_err(anyhow::Error::msg)?;
    }
    let labels = labels_from(args)?;
    let rootfs =
        args.rootfs.as_deref().map(berth_engine::container::Rootfs::parse).transpose().map_err(anyhow::Error::msg)?;
    Ok(CreateOptions {
        name: args.name.clone(),
        command: args.args[usize::from(rootfs.is_none())..].to_vec(),
        rootfs,
        entrypoint,
        env: env_from(args)?,
        workdir: args.workdir.clone(),
        // as Podman: a --workdir is not made (the image's WorkingDir is)
        workdir_must_exist: args.workdir.is_some(),
        user: args.user.clone(),
        hostname: args.hostname.clone(),
        remove: args.rm,
        labels,
        limits: berth_engine::container::Limits {
            // 0 is no limit, as in Podman
            memory: args.memory.filter(|&m| m != 0),
            memory_swap: args.memory_swap.filter(|&m| m != 0),
            cpus: args.cpus,
            cpu_shares: args.cpu_shares,
            pids: args.pids_limit,
        },
        ports: args
            .publish
            .iter()
            .filter(|_| !shares_a_network(args))
            .map(|p| berth_engine::network::parse_publish(p))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
        publish_all: args.publish_all && !shares_a_network(args),
        restart: args.restart,
        log: log_config(args)?,
        mounts: {
            let cwd = std::env::current_dir()?;
            let mut m = Vec::new();
            for v in &args.volume {
                m.push(berth_engine::volume::parse_volume_flag(v, &cwd)?);
            }
            for t in &args.tmpfs {
                m.push(berth_engine::volume::parse_tmpfs_flag(t)?);
            }
            for spec in &args.mount {
                m.push(berth_engine::volume::parse_mount_flag(spec, &cwd)?);
            }
            m
        },
        volumes_from: args.volumes_from.clone(),
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
            for r in &args.device_cgroup_rule {
                sec.device_cgroup_rules.push(security::parse_device_cgroup_rule(r)?);
            }
            sec
        },
        network: args.network.first().cloned(),
        networks: args.network.iter().skip(1).cloned().collect(),
        network_aliases: args.network_alias.clone(),
        mac_address: args.mac_address.clone(),
        dns: args.dns.clone(),
        dns_search: args.dns_search.clone(),
        add_hosts: args
            .add_host
            .iter()
            .map(|h| berth_engine::network::parse_add_host(h))
            .collect::<Result<Vec<_>, _>>()?,
        stop_timeout: args.stop_timeout,
        timeout: args.timeout.filter(|t| *t > 0),
        tz: args.tz.clone(),
        // `berth` is this binary's own runtime
        runtime: args.runtime.clone().filter(|r| r.as_os_str() != "berth"),
        monitor_pidfile: args.conmon_pidfile.as_ref().map(std::path::absolute).transpose()?,
        pid_host: args.pid.unwrap_or(false),
        // Podman's words, without clap's framing
        stop_signal: args
            .stop_signal
            .as_deref()
            .map(berth_engine::parse_kill_signal)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        unsetenv: args.unsetenv.clone(),
        unsetenv_all: args.unsetenv_all,
        dns_options: args.dns_opt.clone(),
        group_add: args.group_add.clone(),
        shm_size: match args.shm_size {
            Some(s) if s < 0 => bail!("--shm-size {s}: use a size, e.g. 128m (0 for the default 64m)"),
            s => s.map(|s| s as u64).filter(|s| *s > 0),
        },
        sysctls: args
            .sysctl
            .iter()
            .map(|s| berth_engine::container::kernel::parse_sysctl(s))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?,
        ulimits: args
            .ulimit
            .iter()
            .filter(|u| *u != "host")
            .map(|u| berth_engine::container::kernel::Ulimit::parse(u))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?,
        ulimit_host: match args.ulimit.iter().any(|u| u == "host") {
            true if args.ulimit.len() > 1 => bail!("--ulimit host can't be combined with other --ulimit options"),
            host => host,
        },
        init: args.init,
        healthcheck: health_flags(args)?,
        no_healthcheck: args.no_healthcheck
            || args.health_cmd.as_deref().is_some_and(|c| c.trim().eq_ignore_ascii_case("none")),
        health_on_failure: berth_engine::container::health::OnFailure::parse(&args.health_on_failure)
            .map_err(anyhow::Error::msg)?,
        pod: match (&args.pod, &args.pod_id_file) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(f)) => Some(
                std::fs::read_to_string(f)
                    .with_context(|| format!("reading pod id file {}", f.display()))?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        },
        ..Default::default()
    })
}

/// The `--health-*` flags given, over the image's check (the engine lays them over it).
fn health_flags(args: &CreateArgs) -> anyhow::Result<Option<berth_engine::container::health::HealthConfig>> {
    use berth_engine::container::health::{parse_duration, HealthConfig};
    let duration = |flag: &str, v: &Option<String>| v.as_deref().map(|v| parse_duration(flag, v)).transpose();
    let test = match args.health_cmd.as_deref() {
        Some(c) if c.trim().eq_ignore_ascii_case("none") => Vec::new(),
        Some(c) => HealthConfig::parse_cmd(c).map_err(anyhow::Error::msg)?,
        None => Vec::new(),
    };
    let timeout = duration("--health-timeout", &args.health_timeout).map_err(anyhow::Error::msg)?;
    if timeout == Some(0) {
        bail!(
            "--health-timeout {}: a check needs some time: give at least 1s",
            args.health_timeout.as_deref().unwrap_or("")
        );
    }
    let config = HealthConfig {
        test,
        interval: duration("--health-interval", &args.health_interval).map_err(anyhow::Error::msg)?,
        timeout,
        start_period: duration("--health-start-period", &args.health_start_period).map_err(anyhow::Error::msg)?,
        retries: args.health_retries,
    };
    Ok((config != HealthConfig::default()).then_some(config))
}

/// Creates, pulling the image first when it is not here yet, as Podman does.
pub(super) async fn create(engine: &Engine, args: &CreateArgs) -> anyhow::Result<ContainerRecord> {
    let image = &args.args[0];
    // an option clap does not know lands here, before the image: it is not an image's name
    if image.starts_with('-') {
        bail!("unknown flag: {}", image.split('=').next().unwrap_or(image));
    }
    let mut opts = options(args)?;
    // `--pod new:NAME`: the pod is made first (its host name and published ports are the
    // container's), and goes again when the container can't be made
    let mut new_pod = None;
    if let Some(name) = opts.pod.as_deref().and_then(|p| p.strip_prefix("new:")) {
        let pod_opts = berth_engine::pod::PodOptions {
            name: Some(name.to_string()),
            infra: true,
            share: berth_engine::pod::DEFAULT_SHARE.to_vec(),
            hostname: opts.hostname.take(),
            ports: std::mem::take(&mut opts.ports),
            network: opts.network.take(),
            network_aliases: std::mem::take(&mut opts.network_aliases),
            mac_address: opts.mac_address.take(),
            create_command: std::env::args().collect(),
            ..Default::default()
        };
        let p = engine.create_pod(pod_opts)?;
        opts.pod = Some(p.id.clone());
        new_pod = Some(p.id);
    }
    let made = create_in_pod(engine, args, image, opts).await;
    if let (Err(_), Some(pod)) = (&made, &new_pod) {
        let _ = engine.remove_pod(pod, true, Some(std::time::Duration::ZERO));
    }
    made
}

async fn create_in_pod(
    engine: &Engine,
    args: &CreateArgs,
    image: &str,
    opts: CreateOptions,
) -> anyhow::Result<ContainerRecord> {
    // an archive transport (`docker-archive:PATH`): loaded first, then created from by name
    let from_archive;
    let image = if opts.rootfs.is_some() {
        "" // --rootfs: no image
    } else if berth_engine::layout::TransportRef::parse(image).is_some() {
        let loaded = crate::archive::pull_transport(engine, image, false)?;
        from_archive = loaded.names.first().cloned().unwrap_or(loaded.image.id);
        from_archive.as_str()
    } else {
        image
    };
    let missing = !image.is_empty()
        && matches!(
            engine.image(image),
            Err(berth_engine::Error::Lookup(berth_engine::image::LookupError::NotFound(_)))
        );
    match args.pull.as_str() {
        "never" if missing => bail!("{image}: image not known"),
        _ if image.is_empty() => {} // --rootfs: no image
        "always" | "newer" => drop(crate::pull::pull_with_progress(engine, image, None, false).await?),
        _ if missing => drop(crate::pull::pull_with_progress(engine, image, None, false).await?),
        _ => {}
    }
    for w in berth_engine::rootless::create_warnings(&opts) {
        crate::format::warn(w);
    }
    if let Some(path) = &args.cidfile {
        if path.exists() {
            bail!("container id file {} exists: remove it, or name another with --cidfile", path.display());
        }
    }
    if let (true, Some(name)) = (args.replace, &args.name) {
        match engine.container(name) {
            Ok(old) => engine.remove_container(&old.id, true).map(drop)?,
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let c = engine.create_container(image, opts)?;
    if let Some(path) = &args.cidfile {
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, c.id.as_bytes()));
        if let Err(e) = written {
            // nothing half made: the container goes with the file that could not be written
            let _ = engine.remove_container(&c.id, true);
            bail!("writing the container id to {}: {e}", path.display());
        }
    }
    Ok(c)
}

pub async fn create_cmd(engine: Engine, args: &CreateOnlyArgs) -> anyhow::Result<ExitCode> {
    let c = create(&engine, &args.create).await?;
    println!("{}", c.id);
    Ok(ExitCode::SUCCESS)
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

#[cfg(test)]
mod size_tests {
    fn check(input: &str, expected: Result<i64, &str>) {
        match (super::parse_size(input), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{input}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{input}: {got:?} does not say {want:?}"),
            (got, want) => panic!("{input}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn sizes_are_numbers_with_units_and_nothing_else() {
        check("512m", Ok(512 << 20));
        check("1.5g", Ok(3 << 29));
        check("1024", Ok(1024));
        check("-1", Ok(-1));
        check("inf", Err("invalid size \"inf\""));
        check("nan", Err("invalid size \"nan\""));
        check("infm", Err("invalid size \"infm\""));
        check("1e3m", Err("invalid size \"1e3m\""));
        check("-5m", Err("must not be negative"));
        check("99999999999t", Err("too large"));
        check("9223372036854775807", Err("too large"));
        check("", Err("invalid size"));
    }
}
