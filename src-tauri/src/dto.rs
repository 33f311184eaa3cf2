//! The shapes the UI sees: serde structs in the UI's camelCase, each with a `From` (or a
//! named conversion) from the engine's own types, and TypeScript declarations generated from
//! them by ts-rs into `ui/src/lib/bindings/` (committed; `bindings_are_fresh` fails when they
//! are stale). Engine types never cross into the UI: this module is where they are translated,
//! so the engine can change without the UI noticing.
//!
//! 64-bit integers are declared `number` for TypeScript (ts-rs would say `bigint`): sizes and
//! times stay far below 2^53, and JSON.parse gives numbers.

use std::path::{Path, PathBuf};

use berth_engine::container::log_reader::{Cursor, Line, LogFile};
use berth_engine::container::logs::{Record, Stream};
use berth_engine::volume::VolumeRecord;
use berth_engine::{ContainerRecord, ImageRecord, LayerPhase, PullProgress, StateEvent};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the engine is and holds: the status bar and the tray.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EngineInfo {
    pub version: String,
    pub root: String,
    pub run_root: String,
    pub containers_running: u32,
    pub containers_total: u32,
    pub images: u32,
    /// Run by a regular user: its own containers, in a user namespace.
    pub rootless: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A published port: `hostIp:hostPort -> containerPort/protocol`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PortDto {
    /// `""` for all addresses.
    #[serde(default)]
    pub host_ip: String,
    /// 0 asks the engine to pick a free port.
    #[serde(default)]
    pub host_port: u16,
    pub container_port: u16,
    #[ts(inline)]
    pub protocol: Protocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ContainerStatus {
    Created,
    Running,
    Paused,
    Stopping,
    Exited,
}

impl From<berth_engine::ContainerStatus> for ContainerStatus {
    fn from(s: berth_engine::ContainerStatus) -> Self {
        use berth_engine::ContainerStatus as S;
        match s {
            S::Created => ContainerStatus::Created,
            S::Running => ContainerStatus::Running,
            S::Paused => ContainerStatus::Paused,
            S::Stopping => ContainerStatus::Stopping,
            S::Exited => ContainerStatus::Exited,
        }
    }
}

/// A row of the containers list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSummary {
    pub id: String,
    pub short_id: String,
    pub name: String,
    /// The image as the user named it.
    pub image: String,
    pub image_id: String,
    /// Entrypoint and command, joined by spaces.
    pub command: String,
    pub status: ContainerStatus,
    pub exit_code: Option<i32>,
    /// Unix seconds.
    pub created: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub ports: Vec<PortDto>,
    pub error: Option<String>,
}

impl From<&ContainerRecord> for ContainerSummary {
    fn from(c: &ContainerRecord) -> Self {
        ContainerSummary {
            id: c.id.clone(),
            short_id: c.short_id().to_string(),
            name: c.name.clone(),
            image: c.image_name.clone(),
            image_id: c.image_id.clone(),
            command: c.command.join(" "),
            status: c.status.into(),
            exit_code: if c.status == berth_engine::ContainerStatus::Exited { c.exit_code.or(Some(0)) } else { None },
            created: c.created_at.timestamp(),
            started_at: c.started_at.map(|t| t.timestamp()),
            finished_at: c.finished_at.map(|t| t.timestamp()),
            ports: ports_of(c),
            error: c.error.clone(),
        }
    }
}

/// The ports a container publishes, as the engine resolved them at create (never port 0).
pub fn ports_of(c: &ContainerRecord) -> Vec<PortDto> {
    c.options.ports.iter().map(PortDto::from).collect()
}

impl From<berth_engine::network::Protocol> for Protocol {
    fn from(p: berth_engine::network::Protocol) -> Self {
        match p {
            berth_engine::network::Protocol::Tcp => Protocol::Tcp,
            berth_engine::network::Protocol::Udp => Protocol::Udp,
        }
    }
}

impl From<Protocol> for berth_engine::network::Protocol {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Tcp => berth_engine::network::Protocol::Tcp,
            Protocol::Udp => berth_engine::network::Protocol::Udp,
        }
    }
}

impl From<&berth_engine::network::PortMapping> for PortDto {
    fn from(m: &berth_engine::network::PortMapping) -> Self {
        PortDto {
            host_ip: m.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            host_port: m.host_port,
            container_port: m.container_port,
            protocol: m.protocol.into(),
        }
    }
}

impl TryFrom<&PortDto> for berth_engine::network::PortMapping {
    type Error = ApiError;

    /// A port of the create form; host port 0 lets the engine choose a free one.
    fn try_from(p: &PortDto) -> Result<Self, ApiError> {
        let what = || format!("{}:{}/{}", p.host_port, p.container_port, p.protocol.as_str());
        if p.container_port == 0 {
            return Err(ApiError::invalid(format!(
                "publishing {}: the container port must be from 1 to 65535",
                what()
            )));
        }
        let ip = p.host_ip.trim();
        let host_ip = if ip.is_empty() {
            None
        } else {
            Some(ip.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| {
                ApiError::invalid(format!("publishing {}: {ip:?} is not an IP address of this host", what()))
            })?)
        };
        Ok(berth_engine::network::PortMapping {
            host_ip,
            host_port: p.host_port,
            container_port: p.container_port,
            protocol: p.protocol.into(),
        })
    }
}

/// Live usage of a running container; CPU in percent of one CPU (above 100 with several).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStats {
    pub id: String,
    pub cpu_percent: f64,
    pub mem_usage: u64,
    pub mem_limit: Option<u64>,
    pub pids: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One line of a container's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// RFC 3339 with nanoseconds, as the log file has it.
    pub time: String,
    #[ts(inline)]
    pub stream: LogStream,
    pub line: String,
}

impl LogLine {
    /// Joins partial records (a line longer than a record, or cut by a rotation) into lines:
    /// a line takes the time of its first record.
    pub fn from_records(records: &[Record]) -> Vec<LogLine> {
        let mut out = Vec::new();
        // One pending partial line per stream: stdout and stderr interleave.
        let mut pending: [Option<(String, Vec<u8>)>; 2] = [None, None];
        for r in records {
            let slot = &mut pending[r.stream as usize];
            let (time, mut bytes) = slot.take().unwrap_or_else(|| {
                (r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true), Vec::with_capacity(r.message.len()))
            });
            bytes.extend_from_slice(&r.message);
            if r.partial {
                *slot = Some((time, bytes));
            } else {
                out.push(LogLine::new(time, r.stream, &bytes));
            }
        }
        // Output that ended without a newline is still a line.
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            if let Some((time, bytes)) = pending[i].take() {
                out.push(LogLine::new(time, stream, &bytes));
            }
        }
        out
    }

    fn new(time: String, stream: Stream, bytes: &[u8]) -> LogLine {
        LogLine { time, stream: stream.into(), line: String::from_utf8_lossy(bytes).into_owned() }
    }
}

impl From<Stream> for LogStream {
    fn from(s: Stream) -> Self {
        match s {
            Stream::Stdout => LogStream::Stdout,
            Stream::Stderr => LogStream::Stderr,
        }
    }
}

/// A place in a container's log, to page back from or follow from: the byte offset of a line
/// in `ctr.log.1` (`file` 0) or `ctr.log` (`file` 1). A rotation (every 64 MiB) renames
/// `ctr.log` to `ctr.log.1`, so cursors are good until the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogCursor {
    pub file: u8,
    pub offset: u64,
}

impl From<Cursor> for LogCursor {
    fn from(c: Cursor) -> Self {
        let file = match c.file {
            LogFile::Rotated => 0,
            LogFile::Current => 1,
        };
        LogCursor { file, offset: c.offset }
    }
}

impl TryFrom<LogCursor> for Cursor {
    type Error = ApiError;

    fn try_from(c: LogCursor) -> Result<Self, ApiError> {
        let file = match c.file {
            0 => LogFile::Rotated,
            1 => LogFile::Current,
            n => {
                return Err(ApiError::invalid(format!(
                    "log cursor {n}:{}: the file is 0 (ctr.log.1) or 1 (ctr.log)",
                    c.offset
                )))
            }
        };
        Ok(Cursor { file, offset: c.offset })
    }
}

/// A line of a container's log and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogEntry {
    pub cursor: LogCursor,
    /// RFC 3339 with nanoseconds; `""` when timestamps were not asked for.
    pub time: String,
    #[ts(inline)]
    pub stream: LogStream,
    pub line: String,
}

impl LogEntry {
    pub fn new(l: Line, timestamps: bool) -> LogEntry {
        LogEntry {
            cursor: l.cursor.into(),
            time: if timestamps { l.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true) } else { String::new() },
            stream: l.stream.into(),
            line: match String::from_utf8(l.message) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            },
        }
    }
}

/// The lines of a log that end at a cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    /// In log order.
    pub entries: Vec<LogEntry>,
    /// Nothing comes before the first entry: the start of the log.
    pub at_start: bool,
}

/// New lines of a followed log, on the subscription's channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogBatch {
    pub entries: Vec<LogEntry>,
}

/// A line that a search found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogMatch {
    pub cursor: LogCursor,
    pub line: String,
}

/// What a terminal session sends: output (base64 of the bytes), then how the shell exited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum TerminalOutput {
    Data { data: String },
    Exited { exited: i32 },
}

/// A row of the images list: one per image, named by its first name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageSummary {
    pub id: String,
    pub short_id: String,
    /// `"<none>"` for an image without names.
    pub repository: String,
    /// `"<none>"` for an image without names, or a name without a tag.
    pub tag: String,
    pub names: Vec<String>,
    /// Unix seconds, from the image config.
    pub created: Option<i64>,
    /// Bytes of its layers unpacked.
    pub size: u64,
    pub in_use: bool,
    /// How many containers use it.
    pub containers: u32,
}

/// `repository:tag` split at the last colon after the last slash (a registry port is not a tag).
pub fn split_name(name: &str) -> (String, String) {
    match name.rfind(':').filter(|i| !name[*i..].contains('/')) {
        Some(i) => (name[..i].to_string(), name[i + 1..].to_string()),
        None => (name.to_string(), "<none>".to_string()),
    }
}

impl From<&ImageRecord> for ImageSummary {
    fn from(img: &ImageRecord) -> Self {
        let (repository, tag) = match img.names.first() {
            Some(n) => split_name(n),
            None => ("<none>".to_string(), "<none>".to_string()),
        };
        ImageSummary {
            id: img.id.clone(),
            short_id: img.id[..12.min(img.id.len())].to_string(),
            repository,
            tag,
            names: img.names.clone(),
            created: img.created.map(|t| t.timestamp()),
            size: img.size,
            in_use: !img.containers.is_empty(),
            containers: img.containers.len() as u32,
        }
    }
}

/// What the create form prefills from an image's config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetails {
    pub id: String,
    pub names: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    /// `"80/tcp"`, sorted.
    pub exposed_ports: Vec<String>,
}

impl From<&ImageRecord> for ImageDetails {
    fn from(img: &ImageRecord) -> Self {
        let config = img.config().and_then(|c| c.config().clone()).unwrap_or_default();
        let mut exposed_ports = config.exposed_ports().clone().unwrap_or_default();
        exposed_ports.sort();
        exposed_ports.dedup();
        ImageDetails {
            id: img.id.clone(),
            names: img.names.clone(),
            cmd: config.cmd().clone().unwrap_or_default(),
            entrypoint: config.entrypoint().clone().unwrap_or_default(),
            env: config.env().clone().unwrap_or_default(),
            working_dir: config.working_dir().clone().unwrap_or_default(),
            exposed_ports,
        }
    }
}

/// A layer the pull will fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PullLayer {
    pub digest: String,
    /// Compressed bytes.
    pub size: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PullPhase {
    Waiting,
    Downloading,
    Verifying,
    Extracting,
    Done,
    AlreadyExists,
}

impl From<LayerPhase> for PullPhase {
    fn from(p: LayerPhase) -> Self {
        match p {
            LayerPhase::Waiting => PullPhase::Waiting,
            LayerPhase::Downloading => PullPhase::Downloading,
            LayerPhase::Verifying => PullPhase::Verifying,
            LayerPhase::Extracting => PullPhase::Extracting,
            LayerPhase::Done => PullPhase::Done,
            LayerPhase::AlreadyExists => PullPhase::AlreadyExists,
        }
    }
}

/// Progress of one pull, on the call's channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PullEvent {
    /// The manifest is known: these layers will be fetched.
    #[serde(rename_all = "camelCase")]
    Resolved {
        reference: String,
        manifest_digest: String,
        #[ts(inline)]
        layers: Vec<PullLayer>,
    },
    #[serde(rename_all = "camelCase")]
    Layer {
        reference: String,
        digest: String,
        #[ts(inline)]
        phase: PullPhase,
        current: u64,
        total: u64,
    },
    #[serde(rename_all = "camelCase")]
    Done { reference: String, image_id: String },
}

impl From<PullProgress> for PullEvent {
    fn from(p: PullProgress) -> Self {
        match p {
            PullProgress::Resolved { reference, manifest_digest, layers } => PullEvent::Resolved {
                reference,
                manifest_digest,
                layers: layers.into_iter().map(|(digest, size)| PullLayer { digest, size }).collect(),
            },
            PullProgress::Layer { reference, digest, phase, current, total } => {
                PullEvent::Layer { reference, digest, phase: phase.into(), current, total }
            }
            PullProgress::Done { reference, image_id } => PullEvent::Done { reference, image_id },
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    OnFailure,
    Always,
    UnlessStopped,
}

impl From<RestartPolicy> for berth_engine::container::RestartPolicy {
    fn from(p: RestartPolicy) -> Self {
        use berth_engine::container::RestartPolicy as R;
        match p {
            RestartPolicy::No => R::No,
            // The form has no retry count: as `--restart on-failure`, without a limit.
            RestartPolicy::OnFailure => R::OnFailure { max_retries: None },
            RestartPolicy::Always => R::Always,
            RestartPolicy::UnlessStopped => R::UnlessStopped,
        }
    }
}

/// The create form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub image: String,
    pub name: Option<String>,
    /// Replaces the image's Cmd.
    pub command: Option<Vec<String>>,
    /// Replaces the image's Entrypoint (and drops its Cmd).
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub ports: Vec<PortDto>,
    /// `KEY=VALUE`, applied after the env file's.
    #[serde(default)]
    pub env: Vec<String>,
    /// The contents of an env file: `KEY=VALUE` lines, `#` comments and blank lines skipped.
    pub env_file: Option<String>,
    #[serde(default)]
    pub restart: RestartPolicy,
    /// `--rm`.
    #[serde(default)]
    pub remove: bool,
    /// Start it once created.
    #[serde(default)]
    pub start: bool,
    /// `-v` values: `NAME:/path[:ro]` or `/host:/path[:ro]`.
    #[serde(default)]
    pub volumes: Vec<String>,
}

/// A row of the volumes list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSummary {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    /// Unix seconds.
    pub created: i64,
    pub anonymous: bool,
    /// The names of the containers that mount it.
    pub used_by: Vec<String>,
}

impl VolumeSummary {
    pub fn new(v: &VolumeRecord, used_by: Vec<String>) -> VolumeSummary {
        VolumeSummary {
            name: v.name.clone(),
            driver: v.driver.clone(),
            mountpoint: v.mountpoint.display().to_string(),
            created: v.created.timestamp(),
            anonymous: v.anonymous,
            used_by,
        }
    }
}

/// A registry the settings know: from registries.conf, or one with stored credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySetting {
    pub host: String,
    /// Reached over plain HTTP (or HTTPS without verifying its certificate).
    pub insecure: bool,
    pub logged_in: bool,
}

/// The Docker-compatible socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SocketSetting {
    pub path: String,
    pub enabled: bool,
}

/// The settings pane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub storage_root: String,
    pub run_root: String,
    /// The registries.conf that `set_registry` writes.
    pub registries_conf: String,
    /// Sorted by host.
    #[ts(inline)]
    pub registries: Vec<RegistrySetting>,
    /// The Docker-compatible socket (`berth system service`).
    #[ts(inline)]
    pub socket: Option<SocketSetting>,
    pub version: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Image,
    Container,
    Volume,
    Network,
}

/// Something changed in the engine: the UI refetches what `kind` names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EngineEvent {
    #[ts(inline)]
    pub kind: EventKind,
    pub action: String,
    pub id: String,
    pub name: Option<String>,
    /// The exit code of a container that died.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub exit_code: Option<i32>,
}

impl EngineEvent {
    /// None for a kind the UI does not know (a newer engine's).
    pub fn from_state(e: &StateEvent) -> Option<EngineEvent> {
        let kind = match e.kind.as_str() {
            "image" => EventKind::Image,
            "container" => EventKind::Container,
            "volume" => EventKind::Volume,
            "network" => EventKind::Network,
            _ => return None,
        };
        Some(EngineEvent { kind, action: e.action.clone(), id: e.id.clone(), name: e.name.clone(), exit_code: None })
    }
}

/// An error as the UI sees it: `code` is what it branches on (`not_found`, `conflict`,
/// `invalid`, `engine`, `unauthorized`), `message` what it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { code: code.to_string(), message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new("invalid", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new("not_found", message)
    }
    pub fn engine(message: impl Into<String>) -> ApiError {
        ApiError::new("engine", message)
    }
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new("conflict", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<berth_engine::Error> for ApiError {
    fn from(e: berth_engine::Error) -> Self {
        use berth_engine::container::LookupError as ContainerLookup;
        use berth_engine::image::LookupError as ImageLookup;
        use berth_engine::network::NetworkError;
        use berth_engine::registry::RegistryError;
        use berth_engine::volume::VolumeError;
        use berth_engine::Error as E;
        let code = match &e {
            E::Lookup(ImageLookup::NotFound(_))
            | E::ContainerLookup(ContainerLookup::NotFound(_))
            | E::Registry(RegistryError::NotFound { .. }) => "not_found",
            E::Network(NetworkError::NotFound(_)) | E::Volume(VolumeError::NotFound(_)) => "not_found",
            E::ImageInUse { .. }
            | E::ImageHasNames { .. }
            | E::NameInUse { .. }
            | E::StateImproper(_)
            | E::Network(NetworkError::PortInUse(_) | NetworkError::Exists(_) | NetworkError::InUse { .. })
            | E::Volume(VolumeError::Exists(_) | VolumeError::InUse { .. }) => "conflict",
            E::Reference(_)
            | E::Invalid(_)
            | E::User(_)
            | E::Spec(berth_engine::spec::SpecError::NoCommand)
            | E::Lookup(ImageLookup::Ambiguous { .. })
            | E::ContainerLookup(ContainerLookup::Ambiguous { .. })
            | E::Registry(RegistryError::NoPlatform { .. })
            | E::Network(
                NetworkError::BadName(_)
                | NetworkError::Reserved(_)
                | NetworkError::Invalid(_)
                | NetworkError::Overlap { .. },
            )
            | E::Volume(VolumeError::BadFlag { .. } | VolumeError::BadName(_) | VolumeError::MissingSource(_)) => {
                "invalid"
            }
            _ => "engine",
        };
        ApiError::new(code, e.to_string())
    }
}

/// Writes the TypeScript declaration of every DTO into `dir`, one `NAME.ts` per type;
/// returns the files written.
pub fn export_bindings(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn one<T: TS + 'static>(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let cfg = ts_rs::Config::new().with_large_int("number");
        let path = dir.join(format!("{}.ts", T::ident(&cfg)));
        let text = T::export_to_string(&cfg).map_err(std::io::Error::other)?;
        std::fs::write(&path, text)?;
        out.push(path);
        Ok(())
    }
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    one::<EngineInfo>(dir, &mut out)?;
    one::<PortDto>(dir, &mut out)?;
    one::<ContainerStatus>(dir, &mut out)?;
    one::<ContainerSummary>(dir, &mut out)?;
    one::<ContainerStats>(dir, &mut out)?;
    one::<LogLine>(dir, &mut out)?;
    one::<ImageSummary>(dir, &mut out)?;
    one::<ImageDetails>(dir, &mut out)?;
    one::<PullEvent>(dir, &mut out)?;
    one::<RestartPolicy>(dir, &mut out)?;
    one::<CreateRequest>(dir, &mut out)?;
    one::<EngineEvent>(dir, &mut out)?;
    one::<LogCursor>(dir, &mut out)?;
    one::<LogEntry>(dir, &mut out)?;
    one::<LogPage>(dir, &mut out)?;
    one::<LogBatch>(dir, &mut out)?;
    one::<LogMatch>(dir, &mut out)?;
    one::<TerminalOutput>(dir, &mut out)?;
    one::<VolumeSummary>(dir, &mut out)?;
    one::<Settings>(dir, &mut out)?;
    one::<ApiError>(dir, &mut out)?;
    Ok(out)
}

/// Where the committed bindings live.
pub fn bindings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::container::logs::Record;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    /// Fails when the committed TypeScript bindings differ from what the DTOs generate.
    /// `BERTH_UPDATE_BINDINGS=1 cargo test -p berth-desktop bindings` rewrites them.
    #[test]
    fn bindings_are_fresh() {
        if std::env::var_os("BERTH_UPDATE_BINDINGS").is_some() {
            export_bindings(&bindings_dir()).unwrap();
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let mut stale = Vec::new();
        for generated in export_bindings(tmp.path()).unwrap() {
            let name = generated.file_name().unwrap();
            let committed = std::fs::read_to_string(bindings_dir().join(name)).unwrap_or_default();
            if committed != std::fs::read_to_string(&generated).unwrap() {
                stale.push(name.to_string_lossy().into_owned());
            }
        }
        assert!(
            stale.is_empty(),
            "ui/src/lib/bindings is stale ({}): run `BERTH_UPDATE_BINDINGS=1 cargo test -p berth-desktop bindings` and commit",
            stale.join(", ")
        );
    }

    #[test]
    fn bindings_keep_the_contracts_shapes() {
        let cfg = ts_rs::Config::new().with_large_int("number");
        // The declaration without its doc comments, on one line.
        let decl = |s: String| {
            let mut text = s.split_once(" = ").unwrap().1.trim_end_matches(';').to_string();
            while let Some(start) = text.find("/**") {
                let end = start + text[start..].find("*/").unwrap() + 2;
                text.replace_range(start..end, "");
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert_eq!(
            decl(PortDto::decl(&cfg)),
            r#"{ hostIp: string, hostPort: number, containerPort: number, protocol: "tcp" | "udp", }"#
        );
        assert_eq!(decl(RestartPolicy::decl(&cfg)), r#""no" | "on-failure" | "always" | "unless-stopped""#);
        assert_eq!(
            decl(EngineEvent::decl(&cfg)),
            r#"{ kind: "image" | "container" | "volume" | "network", action: string, id: string, name: string | null, exitCode?: number | null, }"#
        );
        assert_eq!(decl(LogCursor::decl(&cfg)), "{ file: number, offset: number, }");
        assert_eq!(
            decl(LogEntry::decl(&cfg)),
            r#"{ cursor: LogCursor, time: string, stream: "stdout" | "stderr", line: string, }"#
        );
        assert_eq!(decl(LogPage::decl(&cfg)), "{ entries: Array<LogEntry>, atStart: boolean, }");
        assert_eq!(decl(LogBatch::decl(&cfg)), "{ entries: Array<LogEntry>, }");
        assert_eq!(decl(LogMatch::decl(&cfg)), "{ cursor: LogCursor, line: string, }");
        assert_eq!(decl(TerminalOutput::decl(&cfg)), "{ data: string, } | { exited: number, }");
        assert_eq!(
            decl(VolumeSummary::decl(&cfg)),
            "{ name: string, driver: string, mountpoint: string, created: number, anonymous: boolean, usedBy: Array<string>, }"
        );
        assert_eq!(
            decl(Settings::decl(&cfg)),
            "{ storageRoot: string, runRoot: string, registriesConf: string, registries: Array<{ host: string, insecure: boolean, loggedIn: boolean, }>, socket: { path: string, enabled: boolean, } | null, version: string, }"
        );
        assert!(decl(CreateRequest::decl(&cfg)).ends_with("start: boolean, volumes: Array<string>, }"));
        let pull = decl(PullEvent::decl(&cfg));
        assert!(pull.contains(r#"{ "type": "resolved", reference: string, manifestDigest: string, layers: Array<{ digest: string, size: number, }>, }"#), "{pull}");
        assert!(
            pull.contains(
                r#"phase: "waiting" | "downloading" | "verifying" | "extracting" | "done" | "already_exists""#
            ),
            "{pull}"
        );
        assert!(decl(ContainerSummary::decl(&cfg)).contains("startedAt: number | null"));
    }

    fn record() -> ContainerRecord {
        ContainerRecord {
            id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            name: "web".into(),
            image_id: "feed".into(),
            image_name: "docker.io/library/busybox:latest".into(),
            created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            options: Default::default(),
            status: berth_engine::ContainerStatus::Exited,
            pid: None,
            pid_start: None,
            monitor_pid: None,
            started_at: Some(Utc.timestamp_opt(1_700_000_010, 0).unwrap()),
            finished_at: Some(Utc.timestamp_opt(1_700_000_020, 0).unwrap()),
            exit_code: Some(137),
            error: None,
            command: vec!["sleep".into(), "100".into()],
            restart_count: 0,
        }
    }

    #[test]
    fn container_summaries_in_the_contracts_json() {
        let s = ContainerSummary::from(&record());
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "shortId": "0123456789ab", "name": "web", "image": "docker.io/library/busybox:latest",
                "imageId": "feed", "command": "sleep 100", "status": "exited", "exitCode": 137,
                "created": 1_700_000_000, "startedAt": 1_700_000_010, "finishedAt": 1_700_000_020,
                "ports": [], "error": null,
            })
        );
        let mut running = record();
        running.status = berth_engine::ContainerStatus::Running;
        running.exit_code = None;
        running.options.ports = vec![
            berth_engine::network::PortMapping {
                host_ip: None,
                host_port: 8080,
                container_port: 80,
                protocol: berth_engine::network::Protocol::Tcp,
            },
            berth_engine::network::PortMapping {
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 5353,
                container_port: 53,
                protocol: berth_engine::network::Protocol::Udp,
            },
        ];
        let s = ContainerSummary::from(&running);
        assert_eq!((s.status, s.exit_code), (ContainerStatus::Running, None));
        assert_eq!(
            serde_json::to_value(&s.ports).unwrap(),
            json!([
                {"hostIp": "", "hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                {"hostIp": "127.0.0.1", "hostPort": 5353, "containerPort": 53, "protocol": "udp"},
            ])
        );
    }

    #[test]
    fn image_names_split_into_repository_and_tag() {
        let check = |name: &str, repo: &str, tag: &str| {
            assert_eq!(split_name(name), (repo.to_string(), tag.to_string()), "{name}");
        };
        check("docker.io/library/busybox:1.36", "docker.io/library/busybox", "1.36");
        check("localhost:5000/app:v2", "localhost:5000/app", "v2");
        check("localhost:5000/app", "localhost:5000/app", "<none>");
        check("app", "app", "<none>");
    }

    fn image(names: &[&str], containers: &[&str]) -> ImageRecord {
        ImageRecord {
            id: "a".repeat(64),
            names: names.iter().map(|s| s.to_string()).collect(),
            repo_digests: vec![],
            manifest_digest: "sha256:m".into(),
            manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            manifest: vec![],
            config_json: json!({
                "architecture": "amd64", "os": "linux",
                "config": {"Cmd": ["nginx", "-g", "daemon off;"], "Entrypoint": ["/docker-entrypoint.sh"],
                           "Env": ["PATH=/usr/bin"], "WorkingDir": "/srv",
                           "ExposedPorts": {"443/tcp": {}, "80/tcp": {}}},
                "rootfs": {"type": "layers", "diff_ids": []}
            })
            .to_string(),
            created: Some(Utc.timestamp_opt(1_600_000_000, 0).unwrap()),
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            size: 4096,
            layers: vec![],
            containers: containers.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn image_summaries_and_details() {
        let s = ImageSummary::from(&image(&["docker.io/library/nginx:1", "nginx:web"], &["c1", "c2"]));
        assert_eq!((s.repository.as_str(), s.tag.as_str()), ("docker.io/library/nginx", "1"));
        assert_eq!(
            (s.short_id.len(), s.in_use, s.containers, s.size, s.created),
            (12, true, 2, 4096, Some(1_600_000_000))
        );
        let dangling = ImageSummary::from(&image(&[], &[]));
        assert_eq!((dangling.repository.as_str(), dangling.tag.as_str(), dangling.in_use), ("<none>", "<none>", false));
        let d = ImageDetails::from(&image(&["nginx:1"], &[]));
        assert_eq!(d.cmd, ["nginx", "-g", "daemon off;"]);
        assert_eq!(d.entrypoint, ["/docker-entrypoint.sh"]);
        assert_eq!((d.env, d.working_dir), (vec!["PATH=/usr/bin".to_string()], "/srv".to_string()));
        assert_eq!(d.exposed_ports, ["443/tcp", "80/tcp"]);
    }

    #[test]
    fn pull_progress_in_the_contracts_json() {
        let check = |p: PullProgress, expected: serde_json::Value| {
            assert_eq!(serde_json::to_value(PullEvent::from(p)).unwrap(), expected);
        };
        check(
            PullProgress::Resolved {
                reference: "r".into(),
                manifest_digest: "sha256:m".into(),
                layers: vec![("sha256:l".into(), 9)],
            },
            json!({"type": "resolved", "reference": "r", "manifestDigest": "sha256:m", "layers": [{"digest": "sha256:l", "size": 9}]}),
        );
        check(
            PullProgress::Layer {
                reference: "r".into(),
                digest: "sha256:l".into(),
                phase: LayerPhase::AlreadyExists,
                current: 3,
                total: 9,
            },
            json!({"type": "layer", "reference": "r", "digest": "sha256:l", "phase": "already_exists", "current": 3, "total": 9}),
        );
        check(
            PullProgress::Done { reference: "r".into(), image_id: "abc".into() },
            json!({"type": "done", "reference": "r", "imageId": "abc"}),
        );
    }

    #[test]
    fn create_requests_from_the_contracts_json() {
        let r: CreateRequest = serde_json::from_value(json!({
            "image": "nginx", "name": null, "command": ["a", "b"], "entrypoint": null,
            "ports": [{"hostIp": "", "hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
            "env": ["A=1"], "envFile": "B=2\n", "restart": "on-failure", "remove": true, "start": true
        }))
        .unwrap();
        assert_eq!(r.restart, RestartPolicy::OnFailure);
        assert_eq!(
            r.ports[0],
            PortDto { host_ip: "".into(), host_port: 8080, container_port: 80, protocol: Protocol::Tcp }
        );
        assert_eq!(
            (r.command, r.env_file.as_deref(), r.remove, r.start),
            (Some(vec!["a".into(), "b".into()]), Some("B=2\n"), true, true)
        );
    }

    #[test]
    fn form_ports_become_engine_port_mappings() {
        use berth_engine::network::{PortMapping, Protocol as P};
        let port = |ip: &str, host, container, protocol| PortDto {
            host_ip: ip.into(),
            host_port: host,
            container_port: container,
            protocol,
        };
        let m = PortMapping::try_from(&port("", 0, 80, Protocol::Tcp)).unwrap();
        assert_eq!(m, PortMapping { host_ip: None, host_port: 0, container_port: 80, protocol: P::Tcp });
        let m = PortMapping::try_from(&port("[::1]", 5353, 53, Protocol::Udp)).unwrap();
        assert_eq!(m.host_ip, Some("::1".parse().unwrap()));
        assert_eq!(PortDto::from(&m), port("::1", 5353, 53, Protocol::Udp));
        let e = PortMapping::try_from(&port("localhost", 8080, 80, Protocol::Tcp)).unwrap_err();
        assert_eq!(e.message, "publishing 8080:80/tcp: \"localhost\" is not an IP address of this host");
        let e = PortMapping::try_from(&port("", 8080, 0, Protocol::Tcp)).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid", "publishing 8080:0/tcp: the container port must be from 1 to 65535")
        );
    }

    #[test]
    fn state_events_of_known_kinds_become_engine_events() {
        let e = StateEvent { time: 1, kind: "container".into(), action: "died".into(), id: "c".into(), name: None };
        let mut event = EngineEvent::from_state(&e).unwrap();
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"kind": "container", "action": "died", "id": "c", "name": null})
        );
        event.exit_code = Some(3);
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"kind": "container", "action": "died", "id": "c", "name": null, "exitCode": 3})
        );
        let future = StateEvent { kind: "pod".into(), ..e };
        assert_eq!(EngineEvent::from_state(&future), None);
    }

    #[test]
    fn log_records_join_into_lines_per_stream() {
        let t = |s: u32| Utc.timestamp_opt(1_700_000_000, s).unwrap();
        let rec = |s, stream, partial, m: &str| Record { time: t(s), stream, partial, message: m.as_bytes().to_vec() };
        let lines = LogLine::from_records(&[
            rec(1, Stream::Stdout, true, "hel"),
            rec(2, Stream::Stderr, false, "oops"),
            rec(3, Stream::Stdout, false, "lo"),
            rec(4, Stream::Stdout, true, "no newline at the end"),
        ]);
        let got: Vec<(LogStream, &str, &str)> =
            lines.iter().map(|l| (l.stream, l.line.as_str(), &l.time[..])).collect();
        assert_eq!(
            got,
            [
                (LogStream::Stderr, "oops", "2023-11-14T22:13:20.000000002Z"),
                (LogStream::Stdout, "hello", "2023-11-14T22:13:20.000000001Z"),
                (LogStream::Stdout, "no newline at the end", "2023-11-14T22:13:20.000000004Z"),
            ]
        );
    }

    #[test]
    fn engine_errors_map_to_codes_the_ui_branches_on() {
        use berth_engine::container::LookupError as C;
        use berth_engine::image::LookupError as I;
        use berth_engine::Error as E;
        let check = |e: E, code: &str| {
            let message = e.to_string();
            assert_eq!(ApiError::from(e), ApiError { code: code.into(), message }, "{code}");
        };
        check(E::ContainerLookup(C::NotFound("web".into())), "not_found");
        check(E::Lookup(I::NotFound("nginx".into())), "not_found");
        check(E::NameInUse { name: "web".into(), id: "abc".into() }, "conflict");
        check(E::ImageInUse { image: "nginx".into(), containers: "abc".into() }, "conflict");
        check(E::StateImproper("container web is running".into()), "conflict");
        check(E::Invalid("--memory 1: the minimum memory limit allowed is 6MB".into()), "invalid");
        check(berth_engine::Reference::parse("Alpine:latest").unwrap_err().into(), "invalid");
        check(E::ContainerLookup(C::Ambiguous { query: "a".into(), candidates: "a1, a2".into() }), "invalid");
        check(E::Io { path: "/x".into(), source: std::io::Error::other("disk full") }, "engine");
        check(E::StartFailed { code: 127, message: "sh: not found".into() }, "engine");
        use berth_engine::network::NetworkError as N;
        check(E::Network(N::NotFound("backend".into())), "not_found");
        check(E::Network(N::BadName("-x".into())), "invalid");
        check(E::Network(N::InUse { name: "backend".into(), containers: "abc".into() }), "conflict");
    }
}
