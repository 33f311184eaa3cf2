//! Berth's engine as a library: images (reference, registry, content, layers, image), containers
//! (container, runtime, monitor), state and events. Nothing here knows about Tauri, JSON for a
//! UI, or a terminal: the CLI and the app are front ends over [`Engine`].
//!
//! Every binary that links the engine must call [`helpers::run_if_helper`] first thing in
//! `main`: containers are supervised by re-executions of that binary, and rootless work runs in
//! helpers of it.
//!
//! Below it, as crates of their own: `berth_image` (references, registries, content, layers,
//! image records), `berth_runtime` (the OCI runtime) and `berth_userns` (user-namespace
//! primitives); their modules are re-exported here under the names the front ends know.

mod archive;
pub mod attach;
pub mod build;
pub mod check;
pub mod commit;
mod console;
pub mod container;
mod container_ops;
pub mod copy;
pub mod diff;
mod disk_usage;
pub mod events;
pub mod exec;
mod export;
pub mod health;
pub mod helpers;
pub mod host_mount;
mod image_ops;
mod import;
mod inspect;
pub mod kube;
mod kube_ops;
pub mod monitor;
pub mod network;
mod network_ops;
pub mod pod;
mod pod_ops;
mod pull;
pub mod push;
pub mod rootless;
mod seccomp_cache;
pub mod spec;
pub mod state;
pub mod stats;
mod top;
pub mod trace;
pub use top::ProcessRow;
pub mod volume;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

pub use archive::{LoadInput, LoadStep, Loaded, SaveOptions, SaveStep, SaveTarget};
pub use berth_image::{content, image, layers, layout, media_type, reference, registry};
pub use berth_runtime as runtime;
pub use build::{BuildEvent, BuildOptions, PullPolicy, BUILD_LABEL};
pub use check::{CheckOptions, CheckReport, Outcome as CheckOutcome, Problem as CheckProblem};
pub use commit::{Change, CommitOptions, CommitStep, ImageFormat};
pub use container::{BriefOptions, ContainerBrief, ContainerRecord, CreateOptions, Status as ContainerStatus};
pub use container_ops::{parse_kill_signal, LaunchError, Stopped};
pub use disk_usage::{dir_size, DiskUsage, Usage};
pub use events::{Event, EventBus, LayerPhase, PullProgress, StateEvent};
pub use image::{ImageRecord, LayerRecord};
pub use image_ops::{RemoveReport, RemovedImage};
pub use import::ImportOptions;
pub use inspect::{image_history, image_inspect, network_inspect, HistoryEntry};
pub use network_ops::NetworkCreate;
pub use pull::{PullCancel, PullOptions};
pub use push::{BlobPhase, Compression, Destination, PushOptions, PushProgress, Pushed};
pub use reference::Reference;
pub use registry::{AuthFiles, Credentials, Platform, RegistriesConfig};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] reference::ReferenceError),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error(transparent)]
    Platform(#[from] registry::platform::PlatformError),
    #[error(transparent)]
    Config(#[from] registry::config::ConfigError),
    #[error(transparent)]
    Auth(#[from] registry::auth::AuthError),
    #[error(transparent)]
    Content(#[from] content::ContentError),
    #[error(transparent)]
    Layout(#[from] layout::LayoutError),
    #[error(transparent)]
    Layer(#[from] layers::LayerError),
    #[error(transparent)]
    Push(#[from] push::PushError),
    #[error(transparent)]
    State(#[from] state::StateError),
    #[error(transparent)]
    Lookup(#[from] image::LookupError),
    #[error("image {image} is in use by container(s) {containers}: remove them first or use --force")]
    ImageInUse { image: String, containers: String },
    #[error(
        "unable to delete image \"{image}\" by id with more than one name ({names}): use --force or remove it by name"
    )]
    ImageHasNames { image: String, names: String },
    #[error(transparent)]
    ContainerLookup(#[from] container::LookupError),
    #[error(transparent)]
    Network(#[from] network::NetworkError),
    #[error(transparent)]
    Volume(#[from] volume::VolumeError),
    #[error(transparent)]
    Pod(#[from] pod::PodError),
    #[error(transparent)]
    Security(#[from] container::security::SecurityError),
    #[error(transparent)]
    User(#[from] container::user::UserError),
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    #[error(
        "the container name \"{name}\" is already in use by {id}. You have to remove that container to be able to reuse that name: that name is already in use"
    )]
    NameInUse { name: String, id: String },
    #[error("{0}")]
    StateImproper(String),
    /// The container's process could not start; `code` is the exit code Podman gives (125-127).
    #[error("{message}")]
    StartFailed { code: i32, message: String },
    /// A build's RUN step exited with `code` (what `build` exits with, as Podman's).
    #[error("{message}")]
    BuildStepFailed { code: i32, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
    /// A copy into or out of a container failed: the copy helper's message.
    #[error("{0}")]
    Copy(String),
}

impl Error {
    /// Whether this says that the container, image, network or volume asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::Lookup(image::LookupError::NotFound(_))
                | Error::ContainerLookup(container::LookupError::NotFound(_))
                | Error::Network(network::NetworkError::NotFound(_))
                | Error::Volume(volume::VolumeError::NotFound(_))
                | Error::Pod(pod::PodError::NotFound(_))
        )
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::State(state::StateError::Sql(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where an engine keeps its data.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Persistent storage: images, layers, the state database.
    pub root: PathBuf,
    /// Runtime state that does not survive a reboot.
    pub run_root: PathBuf,
    pub registries: RegistriesConfig,
    pub auth: AuthFiles,
    pub network: network::NetworkConfig,
    /// Whether this process appends its state events to the events file (Podman's
    /// `--events-backend none` turns it off)
    pub record_events: bool,
}

/// The longest name a socket gets under a run root (`/slirp4netns/` + 12 hex + `.sock`), and
/// the most a unix socket's path may hold (108 bytes of `sun_path`, its final NUL included).
const LONGEST_SOCKET_NAME: usize = "/slirp4netns/0123456789ab.sock".len();
const SOCKET_PATH_MAX: usize = 107;

impl EngineConfig {
    /// Podman's defaults: `/var/lib/berth` and `/run/berth` as root, the XDG directories
    /// otherwise; `BERTH_ROOT` and `BERTH_RUNROOT` override (see [`EngineConfig::paths`]).
    pub fn default_paths() -> (PathBuf, PathBuf) {
        Self::paths(env_path("BERTH_ROOT"), env_path("BERTH_RUNROOT"))
    }

    /// The storage root and run root for a `--root` and a `--runroot` as given: the default
    /// root when none, and the run root of that root ([`EngineConfig::run_root_of`]) unless one
    /// is given.
    pub fn paths(root: Option<PathBuf>, run_root: Option<PathBuf>) -> (PathBuf, PathBuf) {
        let root = root.unwrap_or_else(default_root);
        let run_root = run_root.unwrap_or_else(|| Self::run_root_of(&root));
        (root, run_root)
    }

    /// Where a storage root keeps its run state (exit files, locks, sockets, pid files) when no
    /// run root is given: the default run root (`/run/berth`, `$XDG_RUNTIME_DIR/berth`) for the
    /// default storage root, and for any other a directory of its own beneath it,
    /// `roots/` and 16 hex digits of the SHA-256 of the root's canonical path. So two roots on
    /// one host never share their run state, it stays on the tmpfs a reboot empties, and its
    /// sockets stay far below the length a unix socket's path may have, however deep the root.
    pub fn run_root_of(root: &Path) -> PathBuf {
        let base = default_run_root();
        let canonical = canonical(root);
        if canonical == self::canonical(&default_root()) {
            return base;
        }
        use sha2::Digest;
        let digest = sha2::Sha256::digest(canonical.as_os_str().as_encoded_bytes());
        base.join("roots").join(&hex::encode(digest)[..16])
    }

    pub fn new(root: PathBuf, run_root: PathBuf) -> Result<EngineConfig> {
        Ok(EngineConfig {
            root,
            run_root,
            registries: RegistriesConfig::load_default()?,
            auth: AuthFiles::new(None),
            network: network::NetworkConfig::load_default()?,
            record_events: true,
        })
    }
}

fn rootless() -> bool {
    !nix::unistd::geteuid().is_root()
}

fn env_path(k: &str) -> Option<PathBuf> {
    std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `/var/lib/berth` as root, `$XDG_DATA_HOME/berth` otherwise.
fn default_root() -> PathBuf {
    if rootless() {
        env_path("XDG_DATA_HOME")
            .or_else(|| env_path("HOME").map(|h| h.join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("berth")
    } else {
        PathBuf::from("/var/lib/berth")
    }
}

/// `/run/berth` as root, `$XDG_RUNTIME_DIR/berth` otherwise.
fn default_run_root() -> PathBuf {
    if rootless() {
        env_path("XDG_RUNTIME_DIR")
            .map(|d| d.join("berth"))
            .unwrap_or_else(|| std::env::temp_dir().join(format!("berth-{}", nix::unistd::geteuid())))
    } else {
        PathBuf::from("/run/berth")
    }
}

/// A path made absolute, its symbolic links resolved as far as it exists (a root not made yet
/// is named by its existing ancestor's canonical path and the rest, `.` and `..` folded).
fn canonical(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                match part {
                    std::path::Component::ParentDir => {
                        out.pop();
                    }
                    std::path::Component::Normal(p) => out.push(p),
                    _ => {}
                }
            }
            return out;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// The engine: one per storage root and process; cheap to share (`Clone` shares the state).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: EngineConfig,
    state: Mutex<state::State>,
    content: content::ContentStore,
    layers: layers::LayerStore,
    events: EventBus,
}

impl Engine {
    pub fn open(config: EngineConfig) -> Result<Engine> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let longest = config.run_root.as_os_str().len() + LONGEST_SOCKET_NAME;
        if longest > SOCKET_PATH_MAX {
            return Err(Error::Invalid(format!(
                "the run root {} is too long for the sockets in it ({longest} bytes, where a unix socket's path holds {SOCKET_PATH_MAX}): give a shorter --runroot (BERTH_RUNROOT)",
                config.run_root.display()
            )));
        }
        log::debug!("Using graph root {}", config.root.display());
        log::debug!("Using run root {}", config.run_root.display());
        log::debug!("Using storage driver overlay");
        std::fs::create_dir_all(&config.root).map_err(io(&config.root))?;
        std::fs::create_dir_all(&config.run_root).map_err(io(&config.run_root))?;
        let state = state::State::open(&config.root.join("state.db"))?;
        let content = content::ContentStore::open(&config.root).map_err(io(&config.root))?;
        let layers = layers::LayerStore::open(&config.root).map_err(io(&config.root))?;
        let events = EventBus::with_recording(&config.root.join("events.jsonl"), config.record_events);
        trace::mark("engine opened");
        Ok(Engine { inner: Arc::new(Inner { config, state: Mutex::new(state), content, layers, events }) })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    pub fn content(&self) -> &content::ContentStore {
        &self.inner.content
    }

    pub fn layers(&self) -> &layers::LayerStore {
        &self.inner.layers
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, state::State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether `v` is its type's default (for `skip_serializing_if`: stored records leave them out).
pub(crate) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_root_keeps_the_default_run_root() {
        let (root, run_root) = EngineConfig::paths(None, None);
        assert_eq!(root, default_root());
        assert_eq!(run_root, default_run_root());
        if !rootless() {
            assert_eq!(EngineConfig::run_root_of(Path::new("/var/lib/berth")), Path::new("/run/berth"));
        }
    }

    #[test]
    fn another_root_has_a_run_root_of_its_own_beneath_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let (ra, rb) = (EngineConfig::run_root_of(&a), EngineConfig::run_root_of(&b));
        assert_ne!(ra, rb);
        for r in [&ra, &rb] {
            assert_eq!(r.parent().unwrap(), default_run_root().join("roots"), "{}", r.display());
            let name = r.file_name().unwrap().to_str().unwrap();
            assert!(name.len() == 16 && name.bytes().all(|c| c.is_ascii_hexdigit()), "{name}");
        }
        // --runroot wins.
        assert_eq!(EngineConfig::paths(Some(a.clone()), Some("/elsewhere".into())).1, Path::new("/elsewhere"));
        assert_eq!(EngineConfig::paths(Some(a.clone()), None).1, ra);
    }

    #[test]
    fn a_root_has_one_run_root_however_it_is_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let before = EngineConfig::run_root_of(&root);
        std::fs::create_dir(&root).unwrap();
        assert_eq!(EngineConfig::run_root_of(&root), before, "the same before and after it exists");
        std::os::unix::fs::symlink(&root, dir.path().join("link")).unwrap();
        for spelling in [dir.path().join("link"), dir.path().join("root/."), dir.path().join("x/../root")] {
            assert_eq!(EngineConfig::run_root_of(&spelling), before, "{}", spelling.display());
        }
        let cwd = std::env::current_dir().unwrap();
        let relative = pathdiff(&root, &cwd);
        assert_eq!(EngineConfig::run_root_of(&relative), before, "relative {}", relative.display());
    }

    /// `to` relative to `from`, through `..`.
    fn pathdiff(to: &Path, from: &Path) -> PathBuf {
        let mut up = PathBuf::new();
        let mut base = from.to_path_buf();
        while !to.starts_with(&base) {
            up.push("..");
            base.pop();
        }
        up.join(to.strip_prefix(&base).unwrap())
    }

    #[test]
    fn sockets_under_a_derived_run_root_fit_a_unix_socket_path() {
        let deep = Path::new("/").join("d".repeat(200)).join("e".repeat(200));
        let run_root = EngineConfig::run_root_of(&deep);
        let longest = run_root.join("slirp4netns").join("0123456789ab.sock");
        assert_eq!(longest.as_os_str().len(), run_root.as_os_str().len() + LONGEST_SOCKET_NAME);
        assert!(longest.as_os_str().len() <= SOCKET_PATH_MAX, "{}", longest.display());
    }

    #[test]
    fn a_run_root_too_long_for_its_sockets_is_refused_before_anything_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let run_root = dir.path().join("r".repeat(SOCKET_PATH_MAX));
        let config = EngineConfig {
            root: dir.path().join("root"),
            run_root: run_root.clone(),
            registries: RegistriesConfig::default(),
            auth: AuthFiles::new(None),
            network: network::NetworkConfig::default(),
            record_events: true,
        };
        let err = Engine::open(config).err().expect("a run root too long is refused").to_string();
        assert!(err.contains(&run_root.display().to_string()) && err.contains("--runroot"), "{err}");
        assert!(!dir.path().join("root").exists() && !run_root.exists(), "nothing made");
    }
}
