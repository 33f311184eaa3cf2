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

pub mod attach;
pub mod check;
mod console;
pub mod container;
mod container_ops;
pub mod copy;
pub mod events;
pub mod exec;
pub mod helpers;
mod image_ops;
mod inspect;
pub mod monitor;
pub mod network;
mod network_ops;
mod pull;
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

pub use berth_image::{content, image, layers, reference, registry};
pub use berth_runtime as runtime;
pub use check::{CheckOptions, CheckReport, Outcome as CheckOutcome, Problem as CheckProblem};
pub use container::{ContainerRecord, CreateOptions, Status as ContainerStatus};
pub use container_ops::LaunchError;
pub use events::{Event, EventBus, LayerPhase, PullProgress, StateEvent};
pub use image::{ImageRecord, LayerRecord};
pub use image_ops::{RemoveReport, RemovedImage};
pub use network_ops::NetworkCreate;
pub use pull::PullOptions;
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
    Layer(#[from] layers::LayerError),
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
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
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
}

impl EngineConfig {
    /// Podman's defaults: `/var/lib/berth` and `/run/berth` as root, the XDG directories
    /// otherwise; `BERTH_ROOT` (and `BERTH_RUNROOT`) override.
    pub fn default_paths() -> (PathBuf, PathBuf) {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let rootless = !nix::unistd::geteuid().is_root();
        let root = env("BERTH_ROOT").unwrap_or_else(|| {
            if rootless {
                env("XDG_DATA_HOME")
                    .or_else(|| env("HOME").map(|h| h.join(".local/share")))
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("berth")
            } else {
                PathBuf::from("/var/lib/berth")
            }
        });
        let run_root = env("BERTH_RUNROOT").unwrap_or_else(|| {
            if std::env::var_os("BERTH_ROOT").is_some() {
                root.join("run")
            } else if rootless {
                env("XDG_RUNTIME_DIR")
                    .map(|d| d.join("berth"))
                    .unwrap_or_else(|| std::env::temp_dir().join(format!("berth-{}", nix::unistd::geteuid())))
            } else {
                PathBuf::from("/run/berth")
            }
        });
        (root, run_root)
    }

    pub fn new(root: PathBuf, run_root: PathBuf) -> Result<EngineConfig> {
        Ok(EngineConfig {
            root,
            run_root,
            registries: RegistriesConfig::load_default()?,
            auth: AuthFiles::new(None),
            network: network::NetworkConfig::load_default()?,
        })
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
        std::fs::create_dir_all(&config.root).map_err(io(&config.root))?;
        std::fs::create_dir_all(&config.run_root).map_err(io(&config.run_root))?;
        let state = state::State::open(&config.root.join("state.db"))?;
        let content = content::ContentStore::open(&config.root).map_err(io(&config.root))?;
        let layers = layers::LayerStore::open(&config.root).map_err(io(&config.root))?;
        let events = EventBus::new(&config.root.join("events.jsonl"));
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
