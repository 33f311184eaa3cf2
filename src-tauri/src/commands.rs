//! The commands of the contract as plain async functions: DTO in, engine call, DTO out.
//!
//! Both front doors call these and nothing else: the Tauri commands (`ipc`) and the HTTP
//! handler of `--serve` (`serve`), so the app and a browser see exactly the same behaviour.
//! The engine is synchronous (but for `pull`): its calls run on the blocking pool, so a slow
//! stop or remove never freezes the UI.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth_engine::container::log_reader::{self, Cursor, Follower, LogFiles, LogReadError};
use berth_engine::container::logs;
use berth_engine::network::PortMapping;
use berth_engine::registry::{Registry, RegistryError};
use berth_engine::volume::MountRequest;
use berth_engine::{ContainerRecord, CreateOptions, Credentials, Engine, PullOptions, RegistriesConfig};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::channel::Sink;
use crate::dto::*;
use crate::follow::Subscriptions;
use crate::settings;
use crate::terminal::Terminals;

/// What the commands share: the engine, the previous CPU sample of each running container
/// (CPU % is a rate between two samples), the followed logs and terminal sessions, and the
/// registries.conf the settings write.
pub struct Backend {
    engine: Engine,
    cpu_samples: Mutex<HashMap<String, CpuSample>>,
    follows: Subscriptions,
    terminals: Terminals,
    registries_conf: PathBuf,
    /// The engine again, with the registries.conf that `set_registry` last wrote (the engine
    /// reads it once, when opened): registry work in this process uses it from then on.
    updated_registries: Mutex<Option<Engine>>,
}

#[derive(Clone, Copy, Debug)]
struct CpuSample {
    at: Instant,
    usage_ns: u64,
}

impl Backend {
    pub fn new(engine: Engine) -> Backend {
        Backend {
            engine,
            cpu_samples: Mutex::new(HashMap::new()),
            follows: Subscriptions::default(),
            terminals: Terminals::default(),
            registries_conf: settings::user_registries_conf(),
            updated_registries: Mutex::new(None),
        }
    }

    /// Writes registry settings to `path` instead of the user's registries.conf.
    pub fn with_registries_conf(mut self, path: PathBuf) -> Backend {
        self.registries_conf = path;
        self
    }

    /// The engine at `BERTH_ROOT`/`BERTH_RUNROOT`, or the default storage of this user.
    pub fn open_default() -> anyhow::Result<Backend> {
        use anyhow::Context;
        let (root, run_root) = berth_engine::EngineConfig::default_paths();
        let config = berth_engine::EngineConfig::new(root.clone(), run_root)?;
        let engine = Engine::open(config).with_context(|| format!("opening the engine at {}", root.display()))?;
        Ok(Backend::new(engine))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The followed logs.
    pub fn follows(&self) -> &Subscriptions {
        &self.follows
    }

    /// The open terminal sessions.
    pub fn terminals(&self) -> &Terminals {
        &self.terminals
    }

    /// The engine for talking to registries: with the registries.conf as last written here.
    fn registry_engine(&self) -> Engine {
        let updated = self.updated_registries.lock().unwrap_or_else(|e| e.into_inner());
        updated.clone().unwrap_or_else(|| self.engine.clone())
    }
}

/// The registries configuration in effect: the file the settings write (`path`) once it
/// exists, else what the engine was opened with.
fn registries_in_effect(path: &Path, registry_engine: &Engine) -> Result<RegistriesConfig, ApiError> {
    if path.exists() {
        return RegistriesConfig::load(path).map_err(|e| ApiError::invalid(e.to_string()));
    }
    Ok(registry_engine.config().registries.clone())
}

/// Runs a synchronous engine call on the blocking pool.
async fn blocking<T, F>(engine: &Engine, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Engine) -> Result<T, ApiError> + Send + 'static,
{
    let engine = engine.clone();
    tauri::async_runtime::spawn_blocking(move || f(&engine))
        .await
        .map_err(|e| ApiError::engine(format!("the engine call failed: {e}")))?
}

const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn engine_info(b: &Backend) -> Result<EngineInfo, ApiError> {
    blocking(&b.engine, |e| {
        let containers = e.containers()?;
        let images = e.images()?;
        Ok(EngineInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            root: e.config().root.display().to_string(),
            run_root: e.config().run_root.display().to_string(),
            containers_running: containers.iter().filter(|c| c.is_running()).count() as u32,
            containers_total: containers.len() as u32,
            images: images.len() as u32,
            rootless: berth_engine::rootless::is_rootless(),
        })
    })
    .await
}

pub async fn list_containers(b: &Backend) -> Result<Vec<ContainerSummary>, ApiError> {
    blocking(&b.engine, |e| Ok(e.containers()?.iter().map(ContainerSummary::from).collect())).await
}

/// Usage of every running container. CPU % is over the time since the previous call; on the
/// first call for a container, the average since it started.
pub async fn container_stats(b: &Backend) -> Result<Vec<ContainerStats>, ApiError> {
    let samples = blocking(&b.engine, |e| {
        let mut out = Vec::new();
        for c in e.containers()?.into_iter().filter(|c| c.is_running()) {
            // It may have exited since the list was read: then it has no stats, not an error.
            if let Ok(s) = e.container_stats(&c.id) {
                out.push((s, Instant::now(), c.started_at));
            }
        }
        Ok(out)
    })
    .await?;
    let mut previous = b.cpu_samples.lock().unwrap_or_else(|e| e.into_inner());
    let mut next = HashMap::new();
    let mut out = Vec::with_capacity(samples.len());
    for (s, at, started_at) in samples {
        let usage_ns = s.cpu_usage_ns.unwrap_or(0);
        let cpu_percent = match previous.get(&s.id) {
            Some(p) => cpu_percent(p.usage_ns, usage_ns, at.saturating_duration_since(p.at)),
            None => {
                let running = started_at.and_then(|t| (chrono::Utc::now() - t).to_std().ok()).unwrap_or(Duration::ZERO);
                cpu_percent(0, usage_ns, running)
            }
        };
        next.insert(s.id.clone(), CpuSample { at, usage_ns });
        out.push(ContainerStats {
            id: s.id,
            cpu_percent,
            mem_usage: s.memory_usage.unwrap_or(0),
            mem_limit: s.memory_limit,
            pids: s.pids.unwrap_or(0),
        });
    }
    // Containers that stopped are forgotten: a restart starts their count again.
    *previous = next;
    Ok(out)
}

/// CPU time used over wall time, in percent of one CPU; 0 when no time passed or the counter
/// went backwards (a restart in between).
pub fn cpu_percent(before_ns: u64, after_ns: u64, wall: Duration) -> f64 {
    let wall_ns = wall.as_nanos() as f64;
    if wall_ns <= 0.0 || after_ns < before_ns {
        return 0.0;
    }
    let percent = (after_ns - before_ns) as f64 / wall_ns * 100.0;
    (percent * 10.0).round() / 10.0
}

#[derive(Debug, Deserialize)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct StopArgs {
    pub id: String,
    /// Seconds to wait after the stop signal before killing it.
    pub timeout: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct RemoveArgs {
    pub id: String,
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Deserialize)]
pub struct LogsArgs {
    pub id: String,
    /// Only the last lines.
    pub tail: Option<usize>,
}

#[derive(Debug, Deserialize)]
pub struct ReferenceArgs {
    pub reference: String,
}

#[derive(Debug, Deserialize)]
pub struct FreePortArgs {
    pub protocol: Protocol,
    pub preferred: Option<u16>,
}

#[derive(Debug, Deserialize)]
pub struct CreateArgs {
    pub request: CreateRequest,
}

#[derive(Debug, Deserialize)]
pub struct LogWindowArgs {
    pub id: String,
    /// The page ends just before this line; None for the end of the log.
    pub before: Option<LogCursor>,
    pub limit: usize,
    /// Whether entries carry their time (else `""`).
    #[serde(default)]
    pub timestamps: bool,
}

#[derive(Debug, Deserialize)]
pub struct FollowArgs {
    pub id: String,
    /// The first line to send; None for what is written from now on.
    pub from: Option<LogCursor>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionArgs {
    pub subscription: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchArgs {
    pub id: String,
    pub query: String,
    /// `query` is a regular expression (Rust's regex syntax), else plain text.
    #[serde(default)]
    pub regex: bool,
    #[serde(default)]
    pub case_sensitive: bool,
    pub limit: usize,
}

#[derive(Debug, Deserialize)]
pub struct OpenTerminalArgs {
    pub id: String,
    pub cols: u16,
    pub rows: u16,
}

#[derive(Debug, Deserialize)]
pub struct TerminalInputArgs {
    pub session: String,
    /// Text typed, UTF-8.
    pub data: String,
}

#[derive(Debug, Deserialize)]
pub struct TerminalResizeArgs {
    pub session: String,
    pub cols: u16,
    pub rows: u16,
}

#[derive(Debug, Deserialize)]
pub struct SessionArgs {
    pub session: String,
}

#[derive(Debug, Deserialize)]
pub struct CreateVolumeArgs {
    /// None (or blank) for a random name.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RemoveVolumeArgs {
    pub name: String,
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Deserialize)]
pub struct SetRegistryArgs {
    pub host: String,
    pub insecure: bool,
}

#[derive(Debug, Deserialize)]
pub struct LoginArgs {
    pub host: String,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
pub struct HostArgs {
    pub host: String,
}

#[derive(Debug, Deserialize)]
pub struct SocketArgs {
    pub enabled: bool,
}

pub async fn start_container(b: &Backend, a: IdArgs) -> Result<ContainerSummary, ApiError> {
    blocking(&b.engine, move |e| Ok(ContainerSummary::from(&e.start_container(&a.id)?))).await
}

pub async fn stop_container(b: &Backend, a: StopArgs) -> Result<ContainerSummary, ApiError> {
    let timeout = a.timeout.map_or(DEFAULT_STOP_TIMEOUT, Duration::from_secs);
    blocking(&b.engine, move |e| Ok(ContainerSummary::from(&e.stop_container(&a.id, timeout)?))).await
}

pub async fn restart_container(b: &Backend, a: IdArgs) -> Result<ContainerSummary, ApiError> {
    blocking(&b.engine, move |e| {
        let stopped = e.stop_container(&a.id, DEFAULT_STOP_TIMEOUT)?;
        Ok(ContainerSummary::from(&e.start_container(&stopped.id)?))
    })
    .await
}

pub async fn remove_container(b: &Backend, a: RemoveArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_container(&a.id, a.force)?;
        Ok(())
    })
    .await
}

/// The same object `berth inspect` prints for the container.
pub async fn inspect_container(b: &Backend, a: IdArgs) -> Result<serde_json::Value, ApiError> {
    blocking(&b.engine, move |e| Ok(e.inspect_container(&a.id)?)).await
}

pub async fn container_logs(b: &Backend, a: LogsArgs) -> Result<Vec<LogLine>, ApiError> {
    blocking(&b.engine, move |e| {
        let c = e.container(&a.id)?;
        let path = e.container_paths(&c.id).log();
        let (records, _) = logs::read_all(&path)
            .map_err(|err| ApiError::engine(format!("reading the log of container {}: {err}", c.name)))?;
        let mut lines = LogLine::from_records(&records);
        if let Some(tail) = a.tail {
            lines.drain(..lines.len().saturating_sub(tail));
        }
        Ok(lines)
    })
    .await
}

pub async fn list_images(b: &Backend) -> Result<Vec<ImageSummary>, ApiError> {
    blocking(&b.engine, |e| Ok(e.images()?.iter().map(ImageSummary::from).collect())).await
}

pub async fn image_details(b: &Backend, a: ReferenceArgs) -> Result<ImageDetails, ApiError> {
    blocking(&b.engine, move |e| Ok(ImageDetails::from(&e.image(&a.reference)?))).await
}

/// Pulls an image; every progress message reaches `progress` before this returns.
pub async fn pull_image<P>(b: &Backend, a: ReferenceArgs, progress: P) -> Result<ImageSummary, ApiError>
where
    P: Fn(PullEvent) + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let forward = tauri::async_runtime::spawn(async move {
        while let Some(p) = rx.recv().await {
            progress(PullEvent::from(p));
        }
    });
    let engine = b.registry_engine();
    let pulled = engine.pull(&a.reference, PullOptions { progress: Some(tx), ..Default::default() }).await;
    // The sender is gone with the options: the forwarder ends once it passed everything on.
    let _ = forward.await;
    Ok(ImageSummary::from(&pulled?))
}

pub async fn remove_image(b: &Backend, a: RemoveArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_image(&a.id, a.force)?;
        Ok(())
    })
    .await
}

/// `preferred` when it is free on every address of the host, else a port the kernel picks.
pub async fn free_port(a: FreePortArgs) -> Result<u16, ApiError> {
    let bind = |port: u16| -> std::io::Result<u16> {
        let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        match a.protocol {
            Protocol::Tcp => TcpListener::bind(addr)?.local_addr().map(|a| a.port()),
            Protocol::Udp => UdpSocket::bind(addr)?.local_addr().map(|a| a.port()),
        }
    };
    if let Some(port) = a.preferred.filter(|p| *p != 0) {
        if let Ok(port) = bind(port) {
            return Ok(port);
        }
    }
    bind(0).map_err(|e| ApiError::engine(format!("finding a free {} port: {e}", a.protocol.as_str())))
}

/// Creates a container from the form, and starts it when asked. A container that fails to
/// start is removed again: the user gets the error, not a half-made container.
pub async fn create_container(b: &Backend, a: CreateArgs) -> Result<ContainerSummary, ApiError> {
    let request = a.request;
    let options = create_options(&request)?;
    blocking(&b.engine, move |e| {
        let created = e.create_container(&request.image, options)?;
        if !request.start {
            return Ok(ContainerSummary::from(&created));
        }
        match e.start_container(&created.id) {
            Ok(started) => Ok(ContainerSummary::from(&started)),
            Err(start_error) => {
                let mut error = ApiError::from(start_error);
                if let Err(cleanup) = e.remove_container(&created.id, true) {
                    // A --rm container may have removed itself already.
                    if !matches!(
                        cleanup,
                        berth_engine::Error::ContainerLookup(berth_engine::container::LookupError::NotFound(_))
                    ) {
                        error.message =
                            format!("{}; removing the container {} failed too: {cleanup}", error.message, created.name);
                    }
                }
                Err(error)
            }
        }
    })
    .await
}

/// The engine's options for a create request; bad input fails here, before anything exists.
pub fn create_options(r: &CreateRequest) -> Result<CreateOptions, ApiError> {
    if r.image.trim().is_empty() {
        return Err(ApiError::invalid("an image is required to create a container"));
    }
    let mut env = Vec::new();
    if let Some(text) = &r.env_file {
        env.extend(parse_env_file(text)?);
    }
    for kv in &r.env {
        env.push(parse_env_line(kv).map_err(|why| ApiError::invalid(format!("environment variable {kv:?}: {why}")))?);
    }
    Ok(CreateOptions {
        name: r.name.as_ref().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        command: r.command.clone().unwrap_or_default(),
        entrypoint: r.entrypoint.clone(),
        env,
        remove: r.remove,
        ports: r.ports.iter().map(PortMapping::try_from).collect::<Result<_, _>>()?,
        restart: r.restart.into(),
        mounts: r.volumes.iter().filter(|v| !v.trim().is_empty()).map(|v| parse_volume(v)).collect::<Result<_, _>>()?,
        ..Default::default()
    })
}

/// A `-v` value of the form. The app has no working directory: host paths are absolute.
fn parse_volume(v: &str) -> Result<MountRequest, ApiError> {
    let v = v.trim();
    if v.starts_with('.') {
        return Err(ApiError::invalid(format!("invalid volume {v:?}: give the host path from / (such as /srv/data)")));
    }
    berth_engine::volume::parse_volume_flag(v, Path::new("/")).map_err(|e| ApiError::invalid(e.to_string()))
}

/// The most lines one page or search gives.
pub const MAX_LINES: usize = 10_000;

fn check_limit(limit: usize) -> Result<usize, ApiError> {
    if limit == 0 || limit > MAX_LINES {
        return Err(ApiError::invalid(format!("limit {limit}: ask for 1 to {MAX_LINES} lines")));
    }
    Ok(limit)
}

/// The container and the files of its log.
fn log_files(e: &Engine, query: &str) -> Result<(ContainerRecord, LogFiles), ApiError> {
    let c = e.container(query)?;
    let files = LogFiles::new(&e.container_paths(&c.id).log());
    Ok((c, files))
}

fn log_error(c: &ContainerRecord, e: LogReadError) -> ApiError {
    let message = format!("the log of container {}: {e}", c.name);
    match e {
        LogReadError::PastEnd { .. } | LogReadError::NotARecord { .. } => ApiError::invalid(message),
        LogReadError::Io { .. } => ApiError::engine(message),
    }
}

/// The `limit` lines of a container's log that end just before `before` (at the end of the
/// log without it): the tail when the viewer opens, then a page further back per call.
pub async fn log_window(b: &Backend, a: LogWindowArgs) -> Result<LogPage, ApiError> {
    let before = a.before.map(Cursor::try_from).transpose()?;
    let limit = check_limit(a.limit)?;
    blocking(&b.engine, move |e| {
        let (c, files) = log_files(e, &a.id)?;
        let page = log_reader::window(&files, before, limit).map_err(|err| log_error(&c, err))?;
        let entries = page.lines.into_iter().map(|l| LogEntry::new(l, a.timestamps)).collect();
        Ok(LogPage { entries, at_start: page.at_start })
    })
    .await
}

/// Sends a container's lines to `sink` as they are written, from the line at `from` (from the
/// end of the log as it is now without it); returns the subscription's id for `stop_follow`.
pub async fn follow_logs(b: &Backend, a: FollowArgs, sink: impl Sink<LogBatch>) -> Result<String, ApiError> {
    let from = a.from.map(Cursor::try_from).transpose()?;
    let (c, follower) = blocking(&b.engine, move |e| {
        let (c, files) = log_files(e, &a.id)?;
        let follower = Follower::new(files, from).map_err(|err| log_error(&c, err))?;
        Ok((c, follower))
    })
    .await?;
    Ok(b.follows.start(b.engine.clone(), c.id, follower, sink))
}

/// Ends a subscription; one that ended already is not an error.
pub async fn stop_follow(b: &Backend, a: SubscriptionArgs) -> Result<(), ApiError> {
    b.follows.stop(&a.subscription);
    Ok(())
}

/// The first `limit` lines of the whole log (both files) that contain `query`, or match it as
/// a regular expression; the log is read as a stream.
pub async fn search_logs(b: &Backend, a: SearchArgs) -> Result<Vec<LogMatch>, ApiError> {
    if a.query.is_empty() {
        return Err(ApiError::invalid("searching a log needs a query"));
    }
    let limit = check_limit(a.limit)?;
    let pattern = if a.regex { a.query.clone() } else { regex::escape(&a.query) };
    let re = regex::bytes::RegexBuilder::new(&pattern).case_insensitive(!a.case_sensitive).build().map_err(|e| {
        let why = e.to_string();
        let why = why.lines().last().unwrap_or_default().trim().trim_start_matches("error: ").to_string();
        ApiError::invalid(format!("invalid regular expression {:?}: {why}", a.query))
    })?;
    blocking(&b.engine, move |e| {
        let (c, files) = log_files(e, &a.id)?;
        let found = log_reader::search(&files, |m| re.is_match(m), limit).map_err(|err| log_error(&c, err))?;
        Ok(found
            .into_iter()
            .map(|l| {
                let entry = LogEntry::new(l, false);
                LogMatch { cursor: entry.cursor, line: entry.line }
            })
            .collect())
    })
    .await
}

/// Opens a shell (bash if the container has it, else sh) in a running container on a
/// terminal of `cols` x `rows`; its output goes to `sink`. Returns the session's id.
pub async fn open_terminal(
    b: &Backend,
    a: OpenTerminalArgs,
    sink: impl Sink<TerminalOutput>,
) -> Result<String, ApiError> {
    let terminals = b.terminals.clone();
    blocking(&b.engine, move |e| terminals.open(e, &a.id, a.cols, a.rows, sink)).await
}

pub async fn terminal_input(b: &Backend, a: TerminalInputArgs) -> Result<(), ApiError> {
    let terminals = b.terminals.clone();
    // A shell that does not read fills the terminal: the write waits, off the async workers.
    blocking(&b.engine, move |_| terminals.input(&a.session, a.data.as_bytes())).await
}

pub async fn terminal_resize(b: &Backend, a: TerminalResizeArgs) -> Result<(), ApiError> {
    let terminals = b.terminals.clone();
    blocking(&b.engine, move |_| terminals.resize(&a.session, a.cols, a.rows)).await
}

/// Ends a session (its shell gets SIGHUP); one that ended already is not an error.
pub async fn close_terminal(b: &Backend, a: SessionArgs) -> Result<(), ApiError> {
    b.terminals.close(&a.session);
    Ok(())
}

pub async fn list_volumes(b: &Backend) -> Result<Vec<VolumeSummary>, ApiError> {
    blocking(&b.engine, |e| {
        let mut users = e.volume_users()?;
        Ok(e.volumes()?.iter().map(|v| VolumeSummary::new(v, users.remove(&v.name).unwrap_or_default())).collect())
    })
    .await
}

pub async fn create_volume(b: &Backend, a: CreateVolumeArgs) -> Result<VolumeSummary, ApiError> {
    blocking(&b.engine, move |e| {
        let name = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        Ok(VolumeSummary::new(&e.create_volume(name, BTreeMap::new())?, Vec::new()))
    })
    .await
}

/// Refused while containers use it, unless `force` (which removes them first).
pub async fn remove_volume(b: &Backend, a: RemoveVolumeArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_volume(&a.name, a.force)?;
        Ok(())
    })
    .await
}

/// Removes every volume no container uses; returns their names.
pub async fn prune_volumes(b: &Backend) -> Result<Vec<String>, ApiError> {
    blocking(&b.engine, |e| Ok(e.prune_volumes()?)).await
}

fn settings_of(e: &Engine, registry_engine: &Engine, registries_conf: &Path) -> Result<Settings, ApiError> {
    let config = e.config();
    Ok(Settings {
        storage_root: config.root.display().to_string(),
        run_root: config.run_root.display().to_string(),
        registries_conf: registries_conf.display().to_string(),
        registries: settings::registries(&registries_in_effect(registries_conf, registry_engine)?, &config.auth),
        socket: Some(crate::socket::setting(config)),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

pub async fn get_settings(b: &Backend) -> Result<Settings, ApiError> {
    let (registry_engine, path) = (b.registry_engine(), b.registries_conf.clone());
    blocking(&b.engine, move |e| settings_of(e, &registry_engine, &path)).await
}

/// Marks a registry insecure (plain HTTP) or not in the user's registries.conf, keeping every
/// other entry; pulls from this process use the new file at once.
pub async fn set_registry(b: &Backend, a: SetRegistryArgs) -> Result<Settings, ApiError> {
    let host = settings::registry_host(&a.host)?;
    let (registry_engine, path) = (b.registry_engine(), b.registries_conf.clone());
    let (updated, settings) = blocking(&b.engine, move |e| {
        settings::set_registry(&path, &registries_in_effect(&path, &registry_engine)?, &host, a.insecure)?;
        let mut config = e.config().clone();
        config.registries = RegistriesConfig::load(&path).map_err(|e| ApiError::invalid(e.to_string()))?;
        let updated = Engine::open(config)?;
        let settings = settings_of(e, &updated, &path)?;
        Ok((updated, settings))
    })
    .await?;
    *b.updated_registries.lock().unwrap_or_else(|e| e.into_inner()) = Some(updated);
    Ok(settings)
}

/// Checks the credentials with the registry, then stores them where `berth login` does.
pub async fn registry_login(b: &Backend, a: LoginArgs) -> Result<(), ApiError> {
    let host = settings::registry_host(&a.host)?;
    if a.username.trim().is_empty() {
        return Err(ApiError::invalid(format!("logging in to {host}: the username is empty")));
    }
    let creds = Credentials { username: a.username, password: a.password };
    let engine = b.registry_engine();
    Registry::verify_login(&host, &creds, &engine.config().registries).await.map_err(|e| match e {
        RegistryError::AuthFailed { .. } | RegistryError::Unauthorized { .. } => {
            ApiError::invalid(format!("logging in to {host}: {e}"))
        }
        other => ApiError::from(berth_engine::Error::from(other)),
    })?;
    let auth = engine.config().auth.clone();
    blocking(&b.engine, move |_| {
        auth.store(&host, &creds).map_err(|e| ApiError::engine(format!("saving the credentials for {host}: {e}")))?;
        Ok(())
    })
    .await
}

/// Removes the stored credentials of a registry from every auth file that has them.
pub async fn registry_logout(b: &Backend, a: HostArgs) -> Result<(), ApiError> {
    let host = settings::registry_host(&a.host)?;
    let auth = b.engine.config().auth.clone();
    let removed = blocking(&b.engine, move |_| Ok(auth.remove(&host).map_err(|e| (host, e)))).await?;
    match removed {
        Ok(_) => Ok(()),
        Err((host, berth_engine::registry::auth::AuthError::NotLoggedIn(_))) => {
            Err(ApiError::not_found(format!("not logged in to {host}")))
        }
        Err((host, e)) => Err(ApiError::engine(format!("logging out of {host}: {e}"))),
    }
}

/// Switches the Docker-compatible socket (`berth system service`) on or off.
pub async fn set_socket(b: &Backend, a: SocketArgs) -> Result<Settings, ApiError> {
    let (registry_engine, path) = (b.registry_engine(), b.registries_conf.clone());
    blocking(&b.engine, move |e| {
        crate::socket::set(e.config(), a.enabled)?;
        settings_of(e, &registry_engine, &path)
    })
    .await
}

/// `KEY=VALUE` lines of an env file; blank lines and `#` comments are skipped.
pub fn parse_env_file(text: &str) -> Result<Vec<String>, ApiError> {
    let mut env = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        env.push(
            parse_env_line(line)
                .map_err(|why| ApiError::invalid(format!("env file line {}: {line:?}: {why}", n + 1)))?,
        );
    }
    Ok(env)
}

fn parse_env_line(line: &str) -> Result<String, &'static str> {
    match line.split_once('=') {
        Some(("", _)) => Err("it has no variable name"),
        Some((key, _)) if key.chars().any(char::is_whitespace) => Err("a variable name has no spaces"),
        Some(_) => Ok(line.to_string()),
        None => Err("use KEY=VALUE"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_are_key_value_lines_with_comments() {
        let env = parse_env_file("# settings\nA=1\n\n  B=two words \nC=\nD=x=y\n").unwrap();
        assert_eq!(env, ["A=1", "B=two words", "C=", "D=x=y"]);
        let e = parse_env_file("B = 1\n").unwrap_err();
        assert_eq!(e.message, "env file line 1: \"B = 1\": a variable name has no spaces");
        let e = parse_env_file("A=1\n=nameless\n").unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid", "env file line 2: \"=nameless\": it has no variable name")
        );
        let e = parse_env_file("JUSTAKEY\n").unwrap_err();
        assert_eq!(e.message, "env file line 1: \"JUSTAKEY\": use KEY=VALUE");
    }

    #[test]
    fn create_requests_become_engine_options() {
        let r = CreateRequest {
            image: "busybox".into(),
            name: Some(" web ".into()),
            command: Some(vec!["sleep".into(), "1".into()]),
            entrypoint: Some(vec![]),
            env: vec!["B=3".into()],
            env_file: Some("A=1\n# comment\nB=2\n".into()),
            remove: true,
            start: true,
            ports: vec![PortDto { host_ip: "".into(), host_port: 0, container_port: 80, protocol: Protocol::Tcp }],
            ..Default::default()
        };
        let o = create_options(&r).unwrap();
        assert_eq!(
            o.ports,
            [PortMapping {
                host_ip: None,
                host_port: 0,
                container_port: 80,
                protocol: berth_engine::network::Protocol::Tcp
            }]
        );
        assert_eq!(o.name.as_deref(), Some("web"));
        assert_eq!(o.command, ["sleep", "1"]);
        assert_eq!(o.entrypoint, Some(vec![]));
        // The form's variables come after the file's, so they win.
        assert_eq!(o.env, ["A=1", "B=2", "B=3"]);
        assert!(o.remove);
        let always = CreateRequest { image: "busybox".into(), restart: RestartPolicy::Always, ..Default::default() };
        assert_eq!(create_options(&always).unwrap().restart, berth_engine::container::RestartPolicy::Always);
        let unnamed =
            create_options(&CreateRequest { image: "busybox".into(), name: Some("".into()), ..Default::default() });
        assert_eq!(unnamed.unwrap().name, None);
    }

    #[test]
    fn form_volumes_become_mounts() {
        let r = CreateRequest {
            image: "busybox".into(),
            volumes: vec!["cache:/var/cache:ro".into(), " ".into(), "/srv/site:/www".into(), "/data".into()],
            ..Default::default()
        };
        let mounts = create_options(&r).unwrap().mounts;
        assert_eq!(
            mounts,
            [
                MountRequest::Volume {
                    name: "cache".into(),
                    destination: "/var/cache".into(),
                    read_only: true,
                    anonymous: false
                },
                MountRequest::Bind { source: "/srv/site".into(), destination: "/www".into(), read_only: false },
                MountRequest::Volume {
                    name: "".into(),
                    destination: "/data".into(),
                    read_only: false,
                    anonymous: true
                },
            ]
        );
        let bad = |v: &str| {
            let e = create_options(&CreateRequest { image: "x".into(), volumes: vec![v.into()], ..Default::default() })
                .unwrap_err();
            assert_eq!(e.code, "invalid", "{v}");
            e.message
        };
        assert_eq!(bad("./site:/www"), "invalid volume \"./site:/www\": give the host path from / (such as /srv/data)");
        assert_eq!(bad("cache:data"), "invalid volume \"cache:data\": the container path \"data\" must be absolute");
    }

    #[test]
    fn log_limits_are_bounded() {
        assert_eq!(check_limit(1).unwrap(), 1);
        assert_eq!(check_limit(MAX_LINES).unwrap(), MAX_LINES);
        assert_eq!(check_limit(0).unwrap_err().message, "limit 0: ask for 1 to 10000 lines");
        assert_eq!(check_limit(MAX_LINES + 1).unwrap_err().code, "invalid");
    }

    #[test]
    fn bad_create_requests_are_invalid() {
        let check = |r: CreateRequest, message: &str| {
            let e = create_options(&r).unwrap_err();
            assert_eq!((e.code.as_str(), e.message.as_str()), ("invalid", message));
        };
        check(CreateRequest::default(), "an image is required to create a container");
        check(
            CreateRequest { image: "x".into(), env: vec!["NOVALUE".into()], ..Default::default() },
            "environment variable \"NOVALUE\": use KEY=VALUE",
        );
        check(
            CreateRequest { image: "x".into(), env: vec!["MY VAR=1".into()], ..Default::default() },
            "environment variable \"MY VAR=1\": a variable name has no spaces",
        );
    }

    #[test]
    fn cpu_percent_is_cpu_time_over_wall_time() {
        assert_eq!(cpu_percent(0, 500_000_000, Duration::from_secs(1)), 50.0);
        assert_eq!(cpu_percent(1_000_000_000, 3_000_000_000, Duration::from_secs(1)), 200.0, "two CPUs busy");
        assert_eq!(cpu_percent(5, 5, Duration::from_secs(1)), 0.0);
        assert_eq!(cpu_percent(9, 5, Duration::from_secs(1)), 0.0, "restarted in between");
        assert_eq!(cpu_percent(0, 5, Duration::ZERO), 0.0);
        assert_eq!(cpu_percent(0, 123_456_789, Duration::from_secs(1)), 12.3);
    }

    #[tokio::test]
    async fn free_port_prefers_the_asked_port_when_free() {
        let busy = TcpListener::bind("0.0.0.0:0").unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        let got = free_port(FreePortArgs { protocol: Protocol::Tcp, preferred: Some(busy_port) }).await.unwrap();
        assert_ne!(got, busy_port, "the asked port is taken: another one");
        assert!(TcpListener::bind(("0.0.0.0", got)).is_ok(), "the answer is free");
        drop(busy);
        let got = free_port(FreePortArgs { protocol: Protocol::Tcp, preferred: Some(busy_port) }).await.unwrap();
        assert_eq!(got, busy_port, "free now");
        let udp = UdpSocket::bind("0.0.0.0:0").unwrap();
        let udp_port = udp.local_addr().unwrap().port();
        let got = free_port(FreePortArgs { protocol: Protocol::Udp, preferred: Some(udp_port) }).await.unwrap();
        assert_ne!(got, udp_port);
        assert_ne!(free_port(FreePortArgs { protocol: Protocol::Udp, preferred: None }).await.unwrap(), 0);
    }
}
