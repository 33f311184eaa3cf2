//! The settings pane's files: the user's `registries.conf` (which registries may be reached
//! over plain HTTP), edited in place so that every other entry, key and comment stays, and
//! the credentials in the containers/docker auth files (the engine's `AuthFiles`).
//!
//! Podman reads one registries.conf, the first found (`$CONTAINERS_REGISTRIES_CONF`, the
//! user's, then `/etc/containers/registries.conf`): a user's file replaces the system's. So
//! the user's file is written, and when it does not exist yet it starts as a copy of the
//! configuration in effect, which it then replaces without losing an entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_engine::registry::config::RegistryEntry;
use berth_engine::{AuthFiles, RegistriesConfig};

use crate::dto::{ApiError, RegistrySetting};

/// The registries.conf this user's settings go to.
pub fn user_registries_conf() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(p) = env("CONTAINERS_REGISTRIES_CONF") {
        return p;
    }
    env("XDG_CONFIG_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".config")))
        .map_or_else(|| PathBuf::from("/etc/containers/registries.conf"), |d| d.join("containers/registries.conf"))
}

/// `https://host:5000/v2/` or `host:5000/repo` → `host:5000`; errors name the input.
pub fn registry_host(input: &str) -> Result<String, ApiError> {
    let s = input.trim();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(s);
    let host = s.split('/').next().unwrap_or(s);
    if host.is_empty() {
        return Err(ApiError::invalid(format!("registry {input:?}: give a host, such as registry.example:5000")));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control() || "\"'\\[]{}#=,".contains(c)) {
        return Err(ApiError::invalid(format!("registry {input:?}: a registry host has no spaces or quotes")));
    }
    Ok(host.to_string())
}

/// The text a new user file starts from: the file in effect, or the entries the engine was
/// given without one.
fn seed(in_effect: &RegistriesConfig) -> Result<String, ApiError> {
    if let Some(path) = &in_effect.source {
        return std::fs::read_to_string(path)
            .map_err(|e| ApiError::engine(format!("reading {} to copy it: {e}", path.display())));
    }
    let mut doc = toml_edit::DocumentMut::new();
    for e in &in_effect.registries {
        let mut t = toml_edit::Table::new();
        t["location"] = toml_edit::value(e.location.as_str());
        if let Some(p) = &e.prefix {
            t["prefix"] = toml_edit::value(p.as_str());
        }
        if e.insecure {
            t["insecure"] = toml_edit::value(true);
        }
        if e.blocked {
            t["blocked"] = toml_edit::value(true);
        }
        push_registry(&mut doc, t, Path::new("registries.conf"))?;
    }
    Ok(doc.to_string())
}

fn push_registry(doc: &mut toml_edit::DocumentMut, t: toml_edit::Table, path: &Path) -> Result<(), ApiError> {
    let item = doc.entry("registry").or_insert_with(|| toml_edit::Item::ArrayOfTables(Default::default()));
    let tables = item.as_array_of_tables_mut().ok_or_else(|| {
        ApiError::invalid(format!("{}: \"registry\" is not an array of tables ([[registry]])", path.display()))
    })?;
    tables.push(t);
    Ok(())
}

/// Sets `insecure` on the `[[registry]]` entry of `host` in the file at `path` (adding one
/// when there is none), keeping everything else; the file starts from `in_effect` when new.
pub fn set_registry(path: &Path, in_effect: &RegistriesConfig, host: &str, insecure: bool) -> Result<(), ApiError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => seed(in_effect)?,
        Err(e) => return Err(ApiError::engine(format!("reading {}: {e}", path.display()))),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| ApiError::invalid(format!("{} is not valid TOML: {e}: fix or remove it", path.display())))?;
    let existing = doc.get_mut("registry").and_then(|i| i.as_array_of_tables_mut()).and_then(|tables| {
        tables.iter_mut().find(|t| {
            let prefix = t.get("prefix").and_then(|v| v.as_str());
            let location = t.get("location").and_then(|v| v.as_str());
            prefix.or(location) == Some(host)
        })
    });
    match existing {
        Some(t) => t["insecure"] = toml_edit::value(insecure),
        None => {
            let mut t = toml_edit::Table::new();
            t["location"] = toml_edit::value(host);
            t["insecure"] = toml_edit::value(insecure);
            push_registry(&mut doc, t, path)?;
        }
    }
    write_atomically(path, doc.to_string().as_bytes())
        .map_err(|e| ApiError::engine(format!("writing {}: {e}", path.display())))?;
    // What the engine will read from it.
    RegistriesConfig::load(path).map(drop).map_err(|e| ApiError::engine(e.to_string()))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Every registry of the config and every one with stored credentials, sorted by host.
pub fn registries(config: &RegistriesConfig, auth: &AuthFiles) -> Vec<RegistrySetting> {
    let mut hosts: BTreeMap<String, bool> = BTreeMap::new();
    for RegistryEntry { location, prefix, insecure, .. } in &config.registries {
        let host = prefix.as_deref().unwrap_or(location);
        if !host.is_empty() {
            *hosts.entry(host.to_string()).or_default() |= *insecure;
        }
    }
    for key in berth_engine::registry::auth::registries_in(auth).into_keys() {
        if let Ok(host) = registry_host(&key) {
            let host = if host == "index.docker.io" { "docker.io".to_string() } else { host };
            hosts.entry(host).or_default();
        }
    }
    hosts
        .into_iter()
        .map(|(host, insecure)| {
            let logged_in = auth.lookup(&host).is_ok_and(|c| c.is_some());
            RegistrySetting { host, insecure, logged_in }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts_from_what_users_type() {
        let check = |input: &str, expected: Result<&str, &str>| match (registry_host(input), expected) {
            (Ok(h), Ok(e)) => assert_eq!(h, e, "{input}"),
            (Err(err), Err(e)) => assert_eq!(err.message, e, "{input}"),
            (got, _) => panic!("{input}: {got:?}"),
        };
        check("registry.example:5000", Ok("registry.example:5000"));
        check(" https://registry.example/v2/ ", Ok("registry.example"));
        check("quay.io/team/app", Ok("quay.io"));
        check("", Err("registry \"\": give a host, such as registry.example:5000"));
        check("my registry", Err("registry \"my registry\": a registry host has no spaces or quotes"));
    }

    #[test]
    fn setting_a_registry_keeps_every_other_entry_and_comment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("containers/registries.conf");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "# my registries\nunqualified-search-registries = [\"docker.io\"]\n\n[[registry]]\n\
             location = \"mirror.example\" # the mirror\nblocked = false\n\n[[registry]]\n\
             prefix = \"old.example/x\"\nlocation = \"old.example\"\nblocked = true\n",
        )
        .unwrap();
        set_registry(&path, &RegistriesConfig::default(), "127.0.0.1:5000", true).unwrap();
        set_registry(&path, &RegistriesConfig::default(), "mirror.example", true).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for kept in [
            "# my registries",
            "unqualified-search-registries = [\"docker.io\"]",
            "# the mirror",
            "prefix = \"old.example/x\"",
        ] {
            assert!(text.contains(kept), "{kept}: {text}");
        }
        let c = RegistriesConfig::load(&path).unwrap();
        assert!(c.is_insecure("127.0.0.1:5000") && c.is_insecure("mirror.example"));
        assert!(c.is_blocked("old.example/x/y"), "its prefix is blocked");
        assert_eq!(c.registries.len(), 3);
        set_registry(&path, &RegistriesConfig::default(), "127.0.0.1:5000", false).unwrap();
        let c = RegistriesConfig::load(&path).unwrap();
        assert!(!c.is_insecure("127.0.0.1:5000"));
        assert_eq!(c.registries.len(), 3, "changed in place, not added again");
    }

    #[test]
    fn a_new_user_file_starts_from_the_config_in_effect() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("etc-registries.conf");
        std::fs::write(&system, "[[registry]]\nlocation = \"corp.example\"\ninsecure = true\n").unwrap();
        let in_effect = RegistriesConfig::load(&system).unwrap();
        let user = dir.path().join("home/.config/containers/registries.conf");
        set_registry(&user, &in_effect, "dev.example:5000", true).unwrap();
        let c = RegistriesConfig::load(&user).unwrap();
        assert!(c.is_insecure("corp.example") && c.is_insecure("dev.example:5000"));
        // Entries the engine was given without a file are kept too.
        let given = RegistriesConfig {
            registries: vec![RegistryEntry { location: "given.example".into(), insecure: true, ..Default::default() }],
            ..Default::default()
        };
        let other = dir.path().join("other.conf");
        set_registry(&other, &given, "new.example", false).unwrap();
        let c = RegistriesConfig::load(&other).unwrap();
        assert!(c.is_insecure("given.example") && !c.is_insecure("new.example"));
        let e = set_registry(&system, &given, "x.example", true);
        assert!(e.is_ok());
        std::fs::write(&other, "[[registry]\n").unwrap();
        let e = set_registry(&other, &given, "x.example", true).unwrap_err();
        assert_eq!(e.code, "invalid");
        assert!(e.message.starts_with(&format!("{} is not valid TOML", other.display())), "{}", e.message);
    }
}
