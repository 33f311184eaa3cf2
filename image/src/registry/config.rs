//! `registries.conf` as Podman reads it: which registries may be reached over plain HTTP or not
//! at all, where a name's prefix is pulled from (`location`) and its mirrors, the registries a
//! short name is searched on (`unqualified-search-registries`) and short-name aliases.
//!
//! Files, as containers/image reads them: `$CONTAINERS_REGISTRIES_CONF` alone when set; else the
//! first of `$XDG_CONFIG_HOME/containers/registries.conf` (or `~/.config/…`) and
//! `/etc/containers/registries.conf`, then the drop-ins `*.conf` of
//! `/etc/containers/registries.conf.d/` and of the user's `containers/registries.conf.d/`, each
//! folder in name order. A later file's `[[registry]]` replaces an earlier one of the same
//! prefix, its search list replaces the earlier list, its aliases add to (or replace) the
//! earlier ones. Keys this engine does not use are ignored.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
#[error("error reading registries config {path}: {reason}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Mirror {
    pub location: String,
    #[serde(default)]
    pub insecure: bool,
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
    #[serde(default, rename = "mirror")]
    pub mirrors: Vec<Mirror>,
}

impl RegistryEntry {
    /// What the entry matches: its prefix, else its location.
    fn key(&self) -> &str {
        self.prefix.as_deref().unwrap_or(&self.location)
    }

    /// How much of `name` (`host/repo/path`) the entry matches, if it does: a prefix matches
    /// whole path components; `*.example.com` matches any host under the domain.
    fn matches(&self, name: &str) -> Option<usize> {
        let key = self.key();
        if key.is_empty() {
            return None;
        }
        if let Some(domain) = key.strip_prefix("*.") {
            let host = name.split('/').next().unwrap_or(name);
            return host.ends_with(&format!(".{domain}")).then_some(host.len());
        }
        let rest = name.strip_prefix(key)?;
        (rest.is_empty() || rest.starts_with('/') || rest.starts_with(':') || rest.starts_with('@'))
            .then_some(key.len())
    }
}

/// Where one name is pulled from: a mirror or the registry itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The name at that place (`host/repo:tag` with the entry's prefix replaced by the location)
    pub name: String,
    pub insecure: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RegistriesConfig {
    #[serde(default, rename = "registry")]
    pub registries: Vec<RegistryEntry>,
    /// Where a short name (`alpine`) is looked for, in order.
    #[serde(default, rename = "unqualified-search-registries")]
    pub search: Vec<String>,
    /// Short names that stand for a full name (`[aliases] "alpine" = "docker.io/library/alpine"`).
    #[serde(default)]
    pub aliases: std::collections::BTreeMap<String, String>,
    /// The file this was read from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl RegistriesConfig {
    /// The config Podman would use for this user: the main file and its drop-ins.
    pub fn load_default() -> Result<Self, ConfigError> {
        if let Some(p) = std::env::var_os("CONTAINERS_REGISTRIES_CONF") {
            return Self::load(Path::new(&p));
        }
        let user = user_config_dir().map(|d| d.join("containers"));
        let system = PathBuf::from("/etc/containers");
        let main = [user.as_ref().map(|d| d.join("registries.conf")), Some(system.join("registries.conf"))]
            .into_iter()
            .flatten()
            .find(|p| p.exists());
        let mut config = match &main {
            Some(path) => Self::load(path)?,
            None => Self::default(),
        };
        for dir in [Some(system), user].into_iter().flatten() {
            let mut drop_ins: Vec<PathBuf> = match std::fs::read_dir(dir.join("registries.conf.d")) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                    .collect(),
                Err(_) => continue,
            };
            drop_ins.sort();
            for path in drop_ins {
                config.merge(Self::load(&path)?);
            }
        }
        config.source = main;
        Ok(config)
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

    /// A drop-in read after this config: as containers/image merges them.
    fn merge(&mut self, later: RegistriesConfig) {
        for entry in later.registries {
            self.registries.retain(|r| r.key() != entry.key());
            self.registries.push(entry);
        }
        if !later.search.is_empty() {
            self.search = later.search;
        }
        self.aliases.extend(later.aliases);
    }

    /// The entry that matches `name` (a full name or a host) the longest.
    fn entry(&self, name: &str) -> Option<&RegistryEntry> {
        self.registries.iter().filter_map(|r| r.matches(name).map(|n| (n, r))).max_by_key(|(n, _)| *n).map(|(_, r)| r)
    }

    pub fn is_insecure(&self, host: &str) -> bool {
        self.entry(host).is_some_and(|r| r.insecure)
    }

    pub fn is_blocked(&self, host: &str) -> bool {
        self.entry(host).is_some_and(|r| r.blocked)
    }

    /// Where the full name `name` (`host/repo:tag`) is pulled from, in order: the mirrors of
    /// its entry, then the entry's location (or the name itself). `None` when it is blocked.
    pub fn endpoints(&self, name: &str) -> Option<Vec<Endpoint>> {
        let Some(entry) = self.entry(name) else {
            let host = name.split('/').next().unwrap_or(name);
            return Some(vec![Endpoint { name: name.to_string(), insecure: self.is_insecure(host) }]);
        };
        if entry.blocked {
            return None;
        }
        // the part of the name past the prefix, put after a mirror's or the location's path
        let rest = match entry.key().starts_with("*.") {
            true => None,
            false => name.strip_prefix(entry.key()),
        };
        let at = |location: &str| match rest {
            Some(rest) if !location.is_empty() => format!("{location}{rest}"),
            _ => name.to_string(),
        };
        let mut out: Vec<Endpoint> =
            entry.mirrors.iter().map(|m| Endpoint { name: at(&m.location), insecure: m.insecure }).collect();
        out.push(Endpoint { name: at(&entry.location), insecure: entry.insecure });
        Some(out)
    }

    /// The full names a short name (`alpine`, `library/alpine:3`) stands for, in the order they
    /// are tried: its alias, else each search registry. Empty when the name is not short, or
    /// when nothing is configured for it (the caller's default: Docker Hub).
    pub fn short_name_candidates(&self, input: &str) -> Vec<String> {
        let first = input.split('/').next().unwrap_or(input);
        let qualified = input.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
        if qualified {
            return Vec::new();
        }
        // an alias names the repository; the tag or digest the user gave stays
        let split = input.find('@').or_else(|| input.rfind(':')).unwrap_or(input.len());
        let (repo, suffix) = input.split_at(split);
        if let Some(full) = self.aliases.get(repo) {
            return vec![format!("{full}{suffix}")];
        }
        self.search.iter().map(|r| format!("{r}/{input}")).collect()
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
        assert!(config.is_blocked("blocked.example/foo/bar"), "a prefix blocks its namespace");
        assert!(!config.is_blocked("blocked.example/other"), "and nothing else of the host");
        assert!(config.is_insecure("a.internal.example"));
        assert!(!config.is_insecure("internal.example"));
    }

    #[test]
    fn prefixes_mirrors_search_registries_and_aliases() {
        let config: RegistriesConfig = toml::from_str(
            r#"
unqualified-search-registries = ["127.0.0.1:5000", "quay.example"]
[aliases]
"web" = "quay.example/team/nginx"
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5000/hub"
insecure = true
[[registry]]
prefix = "quay.example/team"
location = "127.0.0.1:5001/team-copy"
insecure = true
[[registry]]
prefix = "quay.example/team/secret"
location = "quay.example"
blocked = true
"#,
        )
        .unwrap();
        let ep = |name: &str, insecure| Endpoint { name: name.into(), insecure };
        assert_eq!(
            config.endpoints("docker.io/library/alpine:3").unwrap(),
            [ep("127.0.0.1:5000/hub/library/alpine:3", true), ep("docker.io/library/alpine:3", false)]
        );
        assert_eq!(
            config.endpoints("quay.example/team/nginx@sha256:ab").unwrap(),
            [ep("127.0.0.1:5001/team-copy/nginx@sha256:ab", true)]
        );
        assert_eq!(config.endpoints("quay.example/teammate/x:1").unwrap(), [ep("quay.example/teammate/x:1", false)]);
        assert_eq!(config.endpoints("quay.example/team/secret/x:1"), None, "the longest prefix wins");
        assert_eq!(config.short_name_candidates("web:1.25"), ["quay.example/team/nginx:1.25"]);
        assert_eq!(config.short_name_candidates("alpine"), ["127.0.0.1:5000/alpine", "quay.example/alpine"]);
        assert_eq!(
            config.short_name_candidates("library/alpine@sha256:ab"),
            ["127.0.0.1:5000/library/alpine@sha256:ab", "quay.example/library/alpine@sha256:ab"]
        );
        for full in ["docker.io/library/alpine", "localhost/x", "127.0.0.1:5000/x:1"] {
            assert!(config.short_name_candidates(full).is_empty(), "{full}");
        }
    }

    #[test]
    fn drop_ins_replace_entries_of_their_prefix_and_the_search_list() {
        let mut config: RegistriesConfig = toml::from_str(
            "unqualified-search-registries = [\"a.example\"]\n[aliases]\nx = \"a.example/x\"\ny = \"a.example/y\"\n[[registry]]\nlocation = \"a.example\"\n",
        )
        .unwrap();
        config.merge(
            toml::from_str(
                "unqualified-search-registries = [\"b.example\"]\n[aliases]\ny = \"b.example/y\"\n[[registry]]\nlocation = \"a.example\"\ninsecure = true\n",
            )
            .unwrap(),
        );
        assert_eq!(config.registries.len(), 1);
        assert!(config.is_insecure("a.example"));
        assert_eq!(config.search, ["b.example"]);
        assert_eq!(config.aliases["x"], "a.example/x");
        assert_eq!(config.aliases["y"], "b.example/y");
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
