//! The settings pane: the settings, a registry marked insecure or not, a login to or logout
//! from a registry, the Docker-compatible socket on or off. The files behind them are
//! `crate::settings`'s and `crate::socket`'s.

use std::path::Path;

use berth_engine::registry::{Registry, RegistryError};
use berth_engine::{Credentials, Engine, RegistriesConfig};
use serde::Deserialize;

use crate::dto::{ApiError, Settings};
use crate::settings;

use super::backend::{blocking, Backend};

/// The registries configuration in effect: the file the settings write (`path`) once it
/// exists, else what the engine was opened with.
fn registries_in_effect(path: &Path, registry_engine: &Engine) -> Result<RegistriesConfig, ApiError> {
    if path.exists() {
        return RegistriesConfig::load(path).map_err(|e| ApiError::invalid(e.to_string()));
    }
    Ok(registry_engine.config().registries.clone())
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
