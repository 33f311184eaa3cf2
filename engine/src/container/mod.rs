//! Containers: what was asked for (`CreateOptions`), what exists (`ContainerRecord` in the state
//! database) and where it lives on disk. The verbs are in `container_ops`; the process that
//! supervises a running container is the `monitor`.

pub mod health;
pub mod in_root;
pub mod kernel;
pub mod log_reader;
pub mod logs;
pub mod mount;
pub mod names;
pub mod port;
pub mod run_command;
pub mod security;
pub mod user;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

pub use mount::MountRequest;
pub use port::{PortMapping, Protocol};

/// `--log-driver`: the log file in Kubernetes' format (Podman's `k8s-file`; `json-file` is
/// the same file, as in Podman), or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogDriver {
    #[default]
    K8sFile,
    JsonFile,
    None,
}

impl LogDriver {
    pub fn parse(s: &str) -> Result<LogDriver, String> {
        match s {
            "" | "k8s-file" => Ok(LogDriver::K8sFile),
            "json-file" => Ok(LogDriver::JsonFile),
            "none" => Ok(LogDriver::None),
            "journald" => Err("--log-driver journald: berth does not write to the journal; use k8s-file (the default) or none".into()),
            "passthrough" => Err("--log-driver passthrough: berth's monitor always holds the container's output; use k8s-file (the default) or none".into()),
            other => Err(format!("invalid log driver {other:?}: use k8s-file, json-file or none")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LogDriver::K8sFile => "k8s-file",
            LogDriver::JsonFile => "json-file",
            LogDriver::None => "none",
        }
    }
}

/// The log's driver and options (`--log-opt max-size=10m`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    pub driver: LogDriver,
    /// `max-size`: the file rotates past this many bytes (default: the monitor's own cap).
    #[serde(default)]
    pub max_size: Option<u64>,
}

/// `--rootfs PATH[:O]`: the container's root is a directory of the host. Bound as it is (the
/// container writes into it), or with `:O` the lower layer of an overlay whose upper directory
/// is the container's own (the directory is left as it was).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rootfs {
    pub path: PathBuf,
    pub overlay: bool,
}

impl Rootfs {
    /// `PATH` or `PATH:O`; the directory must exist (an absolute path is kept as given).
    pub fn parse(arg: &str) -> Result<Rootfs, String> {
        let (path, overlay) = match arg.strip_suffix(":O") {
            Some(p) => (p, true),
            None => (arg, false),
        };
        if path.is_empty() {
            return Err("--rootfs needs a directory: --rootfs PATH or --rootfs PATH:O".into());
        }
        if overlay && (path.contains(':') || path.contains(',')) {
            return Err(format!(
                "--rootfs {arg}: an overlay's directory can't have ':' or ',' in its path: move or link it"
            ));
        }
        let path = std::path::absolute(path).map_err(|e| format!("--rootfs {arg}: {e}"))?;
        if !path.is_dir() {
            return Err(format!(
                "--rootfs {arg}: {} is not a directory: give the directory that holds the container's root filesystem",
                path.display()
            ));
        }
        Ok(Rootfs { path, overlay })
    }
}

/// What the user asked for at `create`/`run`. Stored as JSON without the fields left at their
/// defaults (a created container's is a tenth of the size, and a list of 10 000 reads them all).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateOptions {
    #[serde(skip_serializing_if = "crate::is_default")]
    pub name: Option<String>,
    /// Replaces the image's Cmd when not empty.
    #[serde(skip_serializing_if = "crate::is_default")]
    pub command: Vec<String>,
    /// Replaces the image's Entrypoint (and drops its Cmd).
    #[serde(skip_serializing_if = "crate::is_default")]
    pub entrypoint: Option<Vec<String>>,
    /// `KEY=VALUE`, applied over the image's environment.
    #[serde(skip_serializing_if = "crate::is_default")]
    pub env: Vec<String>,
    #[serde(skip_serializing_if = "crate::is_default")]
    pub workdir: Option<String>,
    /// The `workdir` must exist in the container once its mounts are made (Podman's `--workdir`:
    /// not created); otherwise a missing one is made (the image's, Docker's `WorkingDir`).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub workdir_must_exist: bool,
    #[serde(skip_serializing_if = "crate::is_default")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "crate::is_default")]
    pub hostname: Option<String>,
    /// `--rm`: remove the container when it exits.
    #[serde(skip_serializing_if = "crate::is_default")]
    pub remove: bool,
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub limits: Limits,
    /// `-p`: published ports; host ports are resolved (never 0) once the container exists.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub ports: Vec<PortMapping>,
    /// `-P`: publish every port the image exposes on a free host port.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub publish_all: bool,
    /// `--network`: `bridge` (the default network), `host`, `none` or a network's name.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub network: Option<String>,
    /// `--network a --network b`: the bridge networks it is on besides `network` (its first),
    /// in order (`eth1`, `eth2`, ...).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub networks: Vec<String>,
    /// Other names the container has on its network (`--network-alias`; compose's service
    /// names): its network's name server answers them.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub network_aliases: Vec<String>,
    /// `--mac-address`: the MAC of its interface on its first network (otherwise one made from
    /// its id and the network's name, the same at every start).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub mac_address: Option<String>,
    /// `--dns`: name servers instead of the host's.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub dns: Vec<std::net::IpAddr>,
    /// `--dns-search`.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub dns_search: Vec<String>,
    /// `--add-host NAME:IP`.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub add_hosts: Vec<(String, std::net::IpAddr)>,
    /// `--restart`: what the monitor does when the container exits.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub restart: RestartPolicy,
    /// `--log-driver` and `--log-opt`: where the monitor writes the container's output.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub log: LogConfig,
    /// `-v` and `--tmpfs`; anonymous volumes get their name at create.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub mounts: Vec<MountRequest>,
    /// `--read-only`: the root filesystem is read-only (with tmpfs on /run, /tmp, /var/tmp).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub read_only: bool,
    /// `-t`: the container's stdio is a pseudo-terminal the monitor holds.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub tty: bool,
    /// `-i`: stdin stays open for whoever attaches.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub interactive: bool,
    /// Capabilities, privileges, seccomp, devices.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub security: security::Security,
    /// `--stop-timeout`: seconds a stop waits for the stop signal before SIGKILL (10 unless set).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub stop_timeout: Option<u64>,
    /// `--timeout`: seconds the container may run before its monitor kills it (its exit code is
    /// then -1); none or 0 for no limit.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub timeout: Option<u64>,
    /// `--tz`: the container's time zone (a zone name, or `local` for the host's), bound over
    /// its /etc/localtime.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub tz: Option<String>,
    /// `--runtime`: another berth binary whose runtime runs the container (its monitor is
    /// started from it); none for this one's.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub runtime: Option<PathBuf>,
    /// `--conmon-pidfile`: where the container's monitor writes its pid at each start.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub monitor_pidfile: Option<PathBuf>,
    /// `--pid host`: the host's pid namespace instead of one of its own.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub pid_host: bool,
    /// `--volumes-from CTR[:ro|rw]`: the volumes and binds of those containers, mounted at the
    /// same places (read-only or not as they were, unless the suffix says).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub volumes_from: Vec<String>,
    /// `--stop-signal`: the signal `stop` sends first (a number); none for the image's, else
    /// SIGTERM.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub stop_signal: Option<i32>,
    /// `--unsetenv`: variables of the image and the defaults left out.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub unsetenv: Vec<String>,
    /// `--unsetenv-all`: only the `--env` variables, none of the image's or the defaults.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub unsetenv_all: bool,
    /// `--dns-opt`: an `options` line in the container's resolv.conf.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub dns_options: Vec<String>,
    /// `--group-add`: supplementary groups (names resolved in the image's /etc/group, or gids).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub group_add: Vec<String>,
    /// `--rootfs`: a directory of the host is the container's root, instead of an image.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub rootfs: Option<Rootfs>,
    /// `--shm-size`: bytes of the /dev/shm tmpfs; none for Podman's 64 MiB.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub shm_size: Option<u64>,
    /// `--sysctl`: namespaced kernel parameters set in the container.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub sysctls: BTreeMap<String, String>,
    /// `--ulimit`: resource limits of the container's processes, over the defaults.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub ulimits: Vec<kernel::Ulimit>,
    /// `--ulimit host`: the limits of the process that starts the container, none set.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub ulimit_host: bool,
    /// `--init`: Berth's init runs as pid 1, reaps zombies and forwards signals to the command.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub init: bool,
    /// The healthcheck: the `--health-*` flags as given before create, the image's check under
    /// them after (`None`: no check, or `--no-healthcheck`).
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub healthcheck: Option<health::HealthConfig>,
    /// `--no-healthcheck`: the image's check is not run.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub no_healthcheck: bool,
    /// `--health-on-failure`: what an unhealthy container undergoes.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub health_on_failure: health::OnFailure,
    /// `--pod`: the id of the pod the container is in.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub pod: Option<String>,
    /// The container is its pod's infra container.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub pod_infra: bool,
    /// Annotations (`kube play`'s, `--annotation`): in the spec and `inspect`'s Config.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub annotations: BTreeMap<String, String>,
    /// Its process is the runtime's pause process (an infra container without an image), not
    /// its command.
    #[serde(default)]
    #[serde(skip_serializing_if = "crate::is_default")]
    pub pause: bool,
}

impl CreateOptions {
    /// Seconds a stop without `-t` waits before SIGKILL: `--stop-timeout`, or Podman's 10.
    pub fn stop_timeout(&self) -> u64 {
        self.stop_timeout.unwrap_or(10)
    }
}

/// `--restart no|on-failure[:N]|always|unless-stopped`, applied by the monitor. A container the
/// user stopped (or killed) is never restarted by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    /// Restart after a non-zero exit, at most `max_retries` times when given.
    OnFailure {
        max_retries: Option<u32>,
    },
    Always,
    /// As `always`; the two differ only when a daemon restarts, and Berth has none.
    UnlessStopped,
}

impl RestartPolicy {
    pub fn parse(s: &str) -> Result<RestartPolicy, String> {
        let bad =
            || format!("invalid restart policy \"{s}\": use no, on-failure[:MAX_RETRIES], always or unless-stopped");
        Ok(match s.split_once(':') {
            Some(("on-failure", n)) => RestartPolicy::OnFailure { max_retries: Some(n.parse().map_err(|_| bad())?) },
            Some(_) => return Err(bad()),
            None => match s {
                "" | "no" => RestartPolicy::No,
                "on-failure" => RestartPolicy::OnFailure { max_retries: None },
                "always" => RestartPolicy::Always,
                "unless-stopped" => RestartPolicy::UnlessStopped,
                _ => return Err(bad()),
            },
        })
    }

    /// `no`, `on-failure:3`, …, as inspect shows it.
    pub fn name(&self) -> String {
        match self {
            RestartPolicy::No => "no".into(),
            RestartPolicy::OnFailure { max_retries: None } => "on-failure".into(),
            RestartPolicy::OnFailure { max_retries: Some(n) } => format!("on-failure:{n}"),
            RestartPolicy::Always => "always".into(),
            RestartPolicy::UnlessStopped => "unless-stopped".into(),
        }
    }

    /// Whether a container that exited with `exit_code`, after `restarts` restarts, goes again.
    pub fn restarts(&self, exit_code: i32, restarts: u32) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::OnFailure { max_retries } => exit_code != 0 && max_retries.is_none_or(|m| restarts < m),
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        }
    }
}

/// Resource limits (`--memory`, `--memory-swap`, `--cpus`, `--cpu-shares`, `--pids-limit`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Bytes of memory.
    pub memory: Option<i64>,
    /// Bytes of memory plus swap; -1 for unlimited swap. Defaults to twice `memory`, as in Podman.
    pub memory_swap: Option<i64>,
    /// CPUs, as a fraction (1.5 = one and a half CPUs' time).
    pub cpus: Option<f64>,
    /// Relative CPU weight (cgroup v1 shares, 2-262144).
    pub cpu_shares: Option<u64>,
    /// Most processes at once.
    pub pids: Option<i64>,
}

impl Eq for Limits {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopping,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopping => "stopping",
            Status::Exited => "exited",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "running" => Status::Running,
            "paused" => Status::Paused,
            "stopping" => Status::Stopping,
            "exited" => Status::Exited,
            _ => Status::Created,
        }
    }
}

/// A container as the state records it. `O` is what of its options was read: all of them
/// ([`CreateOptions`], the default), or a list's few ([`BriefOptions`], a [`ContainerBrief`]).
#[derive(Clone, Debug)]
pub struct ContainerRecord<O = CreateOptions> {
    pub id: String,
    pub name: String,
    pub image_id: String,
    /// The image as the user named it.
    pub image_name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub options: O,
    pub status: Status,
    pub pid: Option<i32>,
    pub pid_start: Option<u64>,
    pub monitor_pid: Option<i32>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    /// The command the container runs (entrypoint and cmd combined).
    pub command: Vec<String>,
    /// How often the restart policy restarted it since the user last started it.
    pub restart_count: u32,
}

/// A container with only the options a list shows: what `ps`'s table and the app's rows need.
/// A tenth of a full record's size, which is what listing 10 000 containers saves.
pub type ContainerBrief = ContainerRecord<BriefOptions>;

impl ContainerRecord {
    /// This record with only the options a list shows.
    pub fn into_brief(self) -> ContainerBrief {
        let ContainerRecord {
            id,
            name,
            image_id,
            image_name,
            created_at,
            options,
            status,
            pid,
            pid_start,
            monitor_pid,
            started_at,
            finished_at,
            exit_code,
            error,
            command,
            restart_count,
        } = self;
        ContainerRecord {
            id,
            name,
            image_id,
            image_name,
            created_at,
            options: options.into(),
            status,
            pid,
            pid_start,
            monitor_pid,
            started_at,
            finished_at,
            exit_code,
            error,
            command,
            restart_count,
        }
    }
}

impl<O> ContainerRecord<O> {
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }
    pub fn is_running(&self) -> bool {
        matches!(self.status, Status::Running | Status::Paused | Status::Stopping)
    }
}

/// Where a container's files live.
#[derive(Clone, Debug)]
pub struct ContainerPaths {
    pub dir: PathBuf,
}

impl ContainerPaths {
    pub fn new(root: &Path, id: &str) -> ContainerPaths {
        ContainerPaths { dir: root.join("containers").join(id) }
    }
    pub fn spec(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("ctr.log")
    }
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
    /// The monitor's own log: what went wrong outside the container.
    pub fn monitor_log(&self) -> PathBuf {
        self.dir.join("monitor.log")
    }
    /// What the container sees as /run/.containerenv.
    pub fn containerenv(&self) -> PathBuf {
        self.dir.join("containerenv")
    }
    /// `--tz`: the zone file the container sees as /etc/localtime.
    pub fn localtime(&self) -> PathBuf {
        self.dir.join("localtime")
    }
}

/// /run/.containerenv, which tells a program that it runs in a container, as Podman's: empty,
/// unless the container is privileged (a privileged container may learn about its engine, and
/// whether it is `rootless`).
pub fn containerenv(c: &ContainerRecord, rootless: bool) -> String {
    if !c.options.security.privileged {
        return String::new();
    }
    format!(
        "engine=\"berth-{}\"\nname=\"{}\"\nid=\"{}\"\nimage=\"{}\"\nimageid=\"{}\"\nrootless={}\n",
        env!("CARGO_PKG_VERSION"),
        c.name,
        c.id,
        c.image_name,
        c.image_id,
        u8::from(rootless)
    )
}

/// Checks a `--userns` mode. A container shares the user namespace Berth runs in (`host`, the
/// default: the host's as root, the user's own rootless); the modes that give it one of its
/// own are refused by name, with Podman's words where Podman refuses them too.
pub fn check_userns(mode: &str, rootless: bool) -> Result<(), String> {
    let kind = mode.split(':').next().unwrap_or(mode);
    match kind {
        "" | "host" => Ok(()),
        "keep-id" | "nomap" if !rootless => Err(format!("{kind} is only supported in rootless mode")),
        "keep-id" | "nomap" | "auto" | "private" => Err(format!(
            "--userns {mode}: berth runs a container in the user namespace berth itself runs in (host), without id maps of its own; leave out --userns"
        )),
        _ if kind == "container" || kind == "ns" => {
            Err(format!("--userns {mode}: berth can't join another user namespace; leave out --userns"))
        }
        _ => Err(format!("invalid --userns {mode:?}: use host")),
    }
}

/// Checks a `--runtime`: Berth runs containers with the runtime built into its own binary, so
/// a runtime is `berth` (this binary's) or the path of another berth binary, which answers
/// `--version` as one; another runtime (crun, runc) can't run Berth's containers.
pub fn check_runtime(runtime: &Path) -> Result<(), String> {
    let not_berth = |why: String| {
        format!(
            "--runtime {}: {why}; berth runs containers with the runtime built into berth: give the path of a berth binary, or leave --runtime out",
            runtime.display()
        )
    };
    if !runtime.is_absolute() {
        return Err(not_berth("not a path".into()));
    }
    let out = std::process::Command::new(runtime)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| not_berth(e.to_string()))?;
    if !out.status.success() || !String::from_utf8_lossy(&out.stdout).starts_with("berth version ") {
        return Err(not_berth("not a berth binary".into()));
    }
    Ok(())
}

/// Where the zone file of `--tz` comes from: the host's /etc/localtime for `local`, else the
/// zone's file in the host's /usr/share/zoneinfo.
pub fn zone_file(tz: &str) -> Result<PathBuf, String> {
    let unknown =
        || format!("unknown time zone \"{tz}\": use a name from /usr/share/zoneinfo (such as Europe/Paris) or local");
    if tz == "local" {
        return std::fs::canonicalize("/etc/localtime")
            .map_err(|e| format!("--tz local: the host's /etc/localtime can't be read: {e}"));
    }
    let name = Path::new(tz);
    if tz.is_empty() || name.is_absolute() || name.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
        return Err(unknown());
    }
    let path = Path::new("/usr/share/zoneinfo").join(name);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Ok(path),
        _ => Err(unknown()),
    }
}

fn parse_time(s: Option<String>) -> Option<chrono::DateTime<chrono::Utc>> {
    s.and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok()).map(|d| d.to_utc())
}

const COLUMNS: &str = "id, name, image_id, image_name, created_at, config, state, pid, pid_start, monitor_pid, \
                       started_at, finished_at, exit_code, error, command, restart_count";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContainerRecord> {
    // parsed where SQLite keeps it, not copied first
    let options = serde_json::from_str(r.get_ref(5)?.as_str()?).unwrap_or_default();
    row_with(r, options)
}

/// The options a list of containers shows (`ps`'s table and JSON, the app's rows): published
/// ports, pod, network, healthcheck, labels and `--rm`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BriefOptions {
    pub ports: Vec<PortMapping>,
    pub network: Option<String>,
    pub pod: Option<String>,
    pub pod_infra: bool,
    pub healthcheck: Option<health::HealthConfig>,
    pub labels: BTreeMap<String, String>,
    pub remove: bool,
}

impl From<CreateOptions> for BriefOptions {
    fn from(o: CreateOptions) -> BriefOptions {
        BriefOptions {
            ports: o.ports,
            network: o.network,
            pod: o.pod,
            pod_infra: o.pod_infra,
            healthcheck: o.healthcheck,
            labels: o.labels,
            remove: o.remove,
        }
    }
}

/// What a list shows of a record's options, full ([`CreateOptions`]) or brief
/// ([`BriefOptions`]): code that shows rows takes either.
pub trait Listed {
    fn ports(&self) -> &[PortMapping];
    fn labels(&self) -> &BTreeMap<String, String>;
    fn pod(&self) -> Option<&str>;
    fn pod_infra(&self) -> bool;
    fn healthcheck(&self) -> Option<&health::HealthConfig>;
}

macro_rules! listed {
    ($t:ty) => {
        impl Listed for $t {
            fn ports(&self) -> &[PortMapping] {
                &self.ports
            }
            fn labels(&self) -> &BTreeMap<String, String> {
                &self.labels
            }
            fn pod(&self) -> Option<&str> {
                self.pod.as_deref()
            }
            fn pod_infra(&self) -> bool {
                self.pod_infra
            }
            fn healthcheck(&self) -> Option<&health::HealthConfig> {
                self.healthcheck.as_ref()
            }
        }
    };
}
listed!(CreateOptions);
listed!(BriefOptions);

fn brief_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContainerBrief> {
    // parsed where SQLite keeps it: only the brief fields, the rest skipped
    let options: BriefOptions = serde_json::from_str(r.get_ref(5)?.as_str()?).unwrap_or_default();
    row_with(r, options)
}

fn row_with<O>(r: &rusqlite::Row<'_>, options: O) -> rusqlite::Result<ContainerRecord<O>> {
    Ok(ContainerRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        image_id: r.get(2)?,
        image_name: r.get(3)?,
        created_at: parse_time(Some(r.get(4)?)).unwrap_or_default(),
        options,
        status: Status::parse(r.get_ref(6)?.as_str()?),
        pid: r.get(7)?,
        pid_start: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
        monitor_pid: r.get(9)?,
        started_at: parse_time(r.get(10)?),
        finished_at: parse_time(r.get(11)?),
        exit_code: r.get(12)?,
        error: r.get(13)?,
        command: serde_json::from_str(r.get_ref(14)?.as_str()?).unwrap_or_default(),
        restart_count: r.get(15)?,
    })
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<ContainerRecord>> {
    list_by(conn, row)
}

/// Every container with only its [`BriefOptions`]: for lists that show no more.
pub fn list_brief(conn: &Connection) -> rusqlite::Result<Vec<ContainerBrief>> {
    list_by(conn, brief_row)
}

fn list_by<T>(conn: &Connection, read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> rusqlite::Result<Vec<T>> {
    // sized first: a growing Vec of 10 000 full records (1.3 KB each) copied each one about
    // twice more
    let count: i64 = conn.query_row("SELECT count(*) FROM containers", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM containers ORDER BY created_at DESC, id"))?;
    let mut list = Vec::with_capacity(count.max(0) as usize);
    for record in stmt.query_map([], read)? {
        list.push(record?);
    }
    Ok(list)
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<ContainerRecord>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM containers WHERE id = ?"), [id], row).optional()
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no container with name or ID \"{0}\" found: no such container")]
    NotFound(String),
    #[error("more than one container matches \"{query}\" ({candidates}): use more of the id")]
    Ambiguous { query: String, candidates: String },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// By name, full id or unique id prefix, as Podman resolves them.
pub fn find(conn: &Connection, query: &str) -> Result<ContainerRecord, LookupError> {
    if let Some(c) =
        conn.query_row(&format!("SELECT {COLUMNS} FROM containers WHERE name = ?"), [query], row).optional()?
    {
        return Ok(c);
    }
    if !query.is_empty() && query.len() <= 64 && query.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM containers WHERE id LIKE ? || '%'"))?;
        let hits: Vec<ContainerRecord> =
            stmt.query_map([query.to_ascii_lowercase()], row)?.collect::<Result<_, _>>()?;
        match hits.len() {
            1 => return Ok(hits.into_iter().next().expect("one hit")),
            0 => {}
            _ => {
                return Err(LookupError::Ambiguous {
                    query: query.into(),
                    candidates: hits.iter().map(|c| c.short_id().to_string()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    }
    Err(LookupError::NotFound(query.into()))
}

pub fn name_taken(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT id FROM containers WHERE name = ?", [name], |r| r.get(0)).optional()
}

pub fn insert(tx: &Transaction<'_>, c: &ContainerRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO containers (id, name, image_id, image_name, created_at, config, state, command)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            c.id,
            c.name,
            c.image_id,
            c.image_name,
            c.created_at.to_rfc3339(),
            serde_json::to_string(&c.options).expect("options serialise"),
            c.status.as_str(),
            serde_json::to_string(&c.command).expect("command serialises"),
        ],
    )?;
    Ok(())
}

pub fn set_running(conn: &Connection, id: &str, pid: i32, pid_start: u64, monitor_pid: i32) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE containers SET state = 'running', pid = ?, pid_start = ?, monitor_pid = ?, started_at = ?,
         finished_at = NULL, exit_code = NULL, error = NULL WHERE id = ?",
        params![pid, pid_start as i64, monitor_pid, chrono::Utc::now().to_rfc3339(), id],
    )?;
    Ok(())
}

/// A start by the user: the restart count starts over and the policy applies again.
pub fn set_started_by_user(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.execute("UPDATE containers SET stopped_by_user = 0, restart_count = 0 WHERE id = ?", [id])?;
    Ok(())
}

/// A stop or kill by the user: the restart policy must not undo it.
pub fn set_stopped_by_user(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.execute("UPDATE containers SET stopped_by_user = 1 WHERE id = ?", [id])?;
    Ok(())
}

pub fn stopped_by_user(conn: &Connection, id: &str) -> rusqlite::Result<Option<bool>> {
    conn.query_row("SELECT stopped_by_user FROM containers WHERE id = ?", [id], |r| r.get(0)).optional()
}

/// The monitor waits to restart the container: it is exited, and its monitor still lives.
pub fn set_restart_pending(conn: &Connection, id: &str, monitor_pid: i32, restart_count: u32) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE containers SET monitor_pid = ?, restart_count = ? WHERE id = ?",
        params![monitor_pid, restart_count, id],
    )?;
    Ok(())
}

pub fn set_status(conn: &Connection, id: &str, status: Status) -> rusqlite::Result<()> {
    conn.execute("UPDATE containers SET state = ? WHERE id = ?", params![status.as_str(), id])?;
    Ok(())
}

pub fn set_exited(conn: &Connection, id: &str, exit_code: i32, error: Option<&str>) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE containers SET state = 'exited', pid = NULL, pid_start = NULL, monitor_pid = NULL, finished_at = ?,
         exit_code = ?, error = ? WHERE id = ?",
        params![chrono::Utc::now().to_rfc3339(), exit_code, error, id],
    )?;
    Ok(())
}

/// Gives a container a new name; false when the name is taken (UNIQUE).
/// Records a container's options anew (`network connect` and `disconnect` change its networks).
pub fn set_options(conn: &Connection, id: &str, options: &CreateOptions) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE containers SET config = ? WHERE id = ?",
        rusqlite::params![serde_json::to_string(options).expect("options serialise"), id],
    )?;
    Ok(())
}

pub fn rename(conn: &Connection, id: &str, name: &str) -> rusqlite::Result<bool> {
    match conn.execute("UPDATE containers SET name = ? WHERE id = ?", params![name, id]) {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes the container's row, in the caller's transaction (which releases what else the
/// container held, such as its network address, in the same one).
pub fn delete(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute("DELETE FROM containers WHERE id = ?", [id])? > 0)
}

/// The start time of a live process (field 22 of /proc/PID/stat), to tell it from a later one
/// that reused its pid; None for a process that is gone or a zombie nobody has reaped yet.
pub fn process_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 2..].split(' ');
    if matches!(fields.next()?, "Z" | "X") {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// Whether the process recorded for a container still exists (and is the same one).
pub fn process_alive(pid: Option<i32>, start: Option<u64>) -> bool {
    match (pid, start) {
        (Some(pid), Some(start)) => process_start_time(pid) == Some(start),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::RestartPolicy;

    #[test]
    fn userns_modes_other_than_host_are_refused_by_name() {
        use super::check_userns;
        assert!(check_userns("host", false).is_ok() && check_userns("", true).is_ok());
        assert_eq!(check_userns("keep-id", false).unwrap_err(), "keep-id is only supported in rootless mode");
        assert_eq!(check_userns("nomap", false).unwrap_err(), "nomap is only supported in rootless mode");
        assert!(check_userns("keep-id", true).unwrap_err().contains("--userns keep-id"));
        assert!(check_userns("auto:size=1000", false).unwrap_err().contains("--userns auto:size=1000"));
        assert!(check_userns("bogus", false).unwrap_err().contains("invalid --userns \"bogus\""));
    }

    #[test]
    fn restart_policies_parse_and_decide() {
        let p = |s: &str| RestartPolicy::parse(s).unwrap();
        assert_eq!(p("no"), RestartPolicy::No);
        assert_eq!(p("on-failure:3"), RestartPolicy::OnFailure { max_retries: Some(3) });
        assert_eq!(p("on-failure").name(), "on-failure");
        assert_eq!(p("unless-stopped").name(), "unless-stopped");
        for bad in ["sometimes", "always:2", "on-failure:x"] {
            assert!(RestartPolicy::parse(bad).unwrap_err().contains(&format!("\"{bad}\"")), "{bad}");
        }
        assert!(!p("no").restarts(1, 0));
        assert!(p("on-failure:2").restarts(1, 1));
        assert!(!p("on-failure:2").restarts(1, 2));
        assert!(!p("on-failure").restarts(0, 0));
        assert!(p("always").restarts(0, 100));
    }
}
