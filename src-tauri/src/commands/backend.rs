//! What every command is given: the `Backend` (the engine, and what is kept between calls),
//! `blocking`, which runs a synchronous engine call on the blocking pool, and `user_path`, a
//! file path the user typed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use berth_engine::Engine;

use crate::dto::ApiError;
use crate::follow::Subscriptions;
use crate::settings;
use crate::terminal::Terminals;

/// What the commands share: the engine, the previous CPU sample of each running container
/// (CPU % is a rate between two samples), the followed logs and terminal sessions, the running
/// builds' cancel flags and pulls' cancels, and the registries.conf the settings write.
pub struct Backend {
    pub(super) engine: Engine,
    pub(super) cpu_samples: Mutex<HashMap<String, CpuSample>>,
    /// The host's previous CPU and memory sample (`host_stats`).
    pub(super) host_sample: Mutex<Option<berth_engine::stats::HostSample>>,
    pub(super) follows: Subscriptions,
    pub(super) terminals: Terminals,
    /// The running builds' cancel flags, by the id their `started` message gave.
    pub(super) builds: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// The running pulls' cancels, by the id their `started` message gave.
    pub(super) pulls: Mutex<HashMap<String, berth_engine::PullCancel>>,
    pub(super) registries_conf: PathBuf,
    /// The engine again, with the registries.conf that `set_registry` last wrote (the engine
    /// reads it once, when opened): registry work in this process uses it from then on.
    pub(super) updated_registries: Mutex<Option<Engine>>,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct CpuSample {
    pub(super) at: Instant,
    pub(super) usage_ns: u64,
}

impl Backend {
    pub fn new(engine: Engine) -> Backend {
        Backend {
            engine,
            cpu_samples: Mutex::new(HashMap::new()),
            host_sample: Mutex::new(None),
            follows: Subscriptions::default(),
            terminals: Terminals::default(),
            builds: Mutex::new(HashMap::new()),
            pulls: Mutex::new(HashMap::new()),
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
    pub(super) fn registry_engine(&self) -> Engine {
        let updated = self.updated_registries.lock().unwrap_or_else(|e| e.into_inner());
        updated.clone().unwrap_or_else(|| self.engine.clone())
    }
}

/// Runs a synchronous engine call on the blocking pool.
pub(super) async fn blocking<T, F>(engine: &Engine, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Engine) -> Result<T, ApiError> + Send + 'static,
{
    let engine = engine.clone();
    tauri::async_runtime::spawn_blocking(move || f(&engine))
        .await
        .map_err(|e| ApiError::engine(format!("the engine call failed: {e}")))?
}

/// A path the user typed for a file the engine reads or writes: `~/` is their home; a relative
/// path is refused, as the app has no working directory a user could know.
pub(super) fn user_path(what: &str, typed: &str) -> Result<PathBuf, ApiError> {
    resolve_path(what, typed, std::env::var_os("HOME").map(PathBuf::from))
}

fn resolve_path(what: &str, typed: &str, home: Option<PathBuf>) -> Result<PathBuf, ApiError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(ApiError::invalid(format!("enter the path of the {what}")));
    }
    let path = match typed.strip_prefix("~/") {
        Some(rest) => match home {
            Some(home) => home.join(rest),
            None => return Err(ApiError::invalid(format!("{typed}: HOME is not set: give an absolute path"))),
        },
        None => PathBuf::from(typed),
    };
    if !path.is_absolute() {
        return Err(ApiError::invalid(format!(
            "{typed}: give an absolute path for the {what} (starting with / or ~/)"
        )));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_paths() {
        let home = || Some(PathBuf::from("/home/ann"));
        assert_eq!(resolve_path("archive", " /tmp/a.tar ", home()).unwrap(), PathBuf::from("/tmp/a.tar"));
        assert_eq!(resolve_path("archive", "~/a.tar", home()).unwrap(), PathBuf::from("/home/ann/a.tar"));
        assert!(resolve_path("archive", "~/a.tar", None).unwrap_err().message.contains("HOME is not set"));
        let e = resolve_path("archive", "a.tar", home()).unwrap_err();
        assert_eq!(e.code, "invalid");
        assert!(e.message.contains("a.tar: give an absolute path for the archive"), "{e}");
        assert_eq!(resolve_path("tarball", "  ", home()).unwrap_err().message, "enter the path of the tarball");
    }
}
