//! Which registries may be reached over plain HTTP: a `registries.conf` in the format Podman
//! reads (`[[registry]] location = "host:port" insecure = true`).
//!
//! Files, first found wins: `$CONTAINERS_REGISTRIES_CONF`, `$XDG_CONFIG_HOME/containers/registries.conf`
//! (or `~/.config/…`), `/etc/containers/registries.conf`. Keys this engine does not use are ignored.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
#[error("error reading registries config {path}: {reason}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RegistryEntry {
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub blocked: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RegistriesConfig {
    #[serde(default, rename = "registry")]
    pub registries: Vec<RegistryEntry>,
    /// The file this was read from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl RegistriesConfig {
    /// The config Podman would use for this user.
    pub fn load_default() -> Result<Self, ConfigError> {
        match default_path() {
            Some(path) => Self::load(&path),
            None => Ok(Self::default()),
        }
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        log::trace!("Reading configuration file {:?}", path.display().to_string());
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError { path: path.into(), reason: e.to_string() })?;
        let mut config: RegistriesConfig =
            toml::from_str(&text).map_err(|e| ConfigError { path: path.into(), reason: e.to_string() })?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    fn entry(&self, host: &str) -> Option<&RegistryEntry> {
        self.registries.iter().find(|r| {
            let loc = r.prefix.as_deref().unwrap_or(&r.location);
            let loc = loc.split('/').next().unwrap_or(loc);
            loc == host || (loc.starts_with("*.") && host.ends_with(&loc[1..]))
        })
    }

    pub fn is_insecure(&self, host: &str) -> bool {
        self.entry(host).is_some_and(|r| r.insecure)
    }

    pub fn is_blocked(&self, host: &str) -> bool {
        self.entry(host).is_some_and(|r| r.blocked)
    }

    /// Where a user should add an `insecure = true` entry.
    pub fn suggested_path(&self) -> PathBuf {
        self.source.clone().unwrap_or_else(|| {
            user_config_dir().map_or_else(
                || PathBuf::from("/etc/containers/registries.conf"),
                |d| d.join("containers/registries.conf"),
            )
        })
    }
}

fn user_config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
}

fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CONTAINERS_REGISTRIES_CONF") {
        return Some(PathBuf::from(p));
    }
    let user = user_config_dir().map(|d| d.join("containers/registries.conf"));
    [user, Some(PathBuf::from("/etc/containers/registries.conf"))].into_iter().flatten().find(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_podman_format_and_ignores_other_keys() {
        let config: RegistriesConfig = toml::from_str(
            r#"
unqualified-search-registries = ["example.org"]
[[registry]]
location = "127.0.0.1:5000"
insecure = true
[[registry]]
prefix = "blocked.example/foo"
location = "blocked.example"
blocked = true
[[registry]]
location = "*.internal.example"
insecure = true
"#,
        )
        .unwrap();
        assert!(config.is_insecure("127.0.0.1:5000"));
        assert!(!config.is_insecure("127.0.0.1:5001"));
        assert!(config.is_blocked("blocked.example"));
        assert!(config.is_insecure("a.internal.example"));
        assert!(!config.is_insecure("internal.example"));
    }

    #[test]
    fn bad_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registries.conf");
        std::fs::write(&path, "[[registry]\nlocation=").unwrap();
        let err = RegistriesConfig::load(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!("error reading registries config {}", path.display())), "{err}");
    }
}
