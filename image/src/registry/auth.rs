//! Registry credentials in the files Podman and Docker use.
//!
//! Read order (first entry found wins): an explicit auth file (`--authfile`,
//! `$REGISTRY_AUTH_FILE`), `$XDG_RUNTIME_DIR/containers/auth.json`,
//! `~/.config/containers/auth.json`, `~/.docker/config.json`. `login` writes the first of the
//! containers files; `logout` removes the entry from every file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("error reading auth file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("error writing auth file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("not logged in to {0}")]
    NotLoggedIn(String),
}

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ****)", self.username)
    }
}

#[derive(Clone, Debug, Default)]
pub struct AuthFiles {
    /// An explicit file (`--authfile`); when set, it is the only file written.
    pub explicit: Option<PathBuf>,
}

impl AuthFiles {
    pub fn new(explicit: Option<PathBuf>) -> Self {
        let explicit = explicit.or_else(|| std::env::var_os("REGISTRY_AUTH_FILE").map(PathBuf::from));
        AuthFiles { explicit }
    }

    fn read_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.explicit.iter().cloned().collect();
        paths.extend(containers_auth_paths());
        if let Some(home) = std::env::var_os("HOME") {
            paths.push(PathBuf::from(home).join(".docker/config.json"));
        }
        paths
    }

    /// The file `login` writes.
    pub fn write_path(&self) -> PathBuf {
        self.explicit
            .clone()
            .unwrap_or_else(|| containers_auth_paths().into_iter().next().unwrap_or_else(|| PathBuf::from("auth.json")))
    }

    /// Credentials for a registry host, if any file has them.
    pub fn lookup(&self, registry: &str) -> Result<Option<Credentials>, AuthError> {
        for path in self.read_paths() {
            let Some(doc) = read_json(&path)? else { continue };
            let Some(auths) = doc.get("auths").and_then(Value::as_object) else { continue };
            for key in keys_for(registry) {
                if let Some(entry) = auths.get(&key) {
                    return decode_entry(entry).map(Some).map_err(|reason| AuthError::Read {
                        path: path.clone(),
                        reason: format!("entry {key:?}: {reason}"),
                    });
                }
            }
        }
        Ok(None)
    }

    pub fn store(&self, registry: &str, creds: &Credentials) -> Result<PathBuf, AuthError> {
        let path = self.write_path();
        let mut doc = read_json(&path)?.unwrap_or_else(|| json!({}));
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", creds.username, creds.password));
        let obj = doc
            .as_object_mut()
            .ok_or_else(|| AuthError::Read { path: path.clone(), reason: "not a JSON object".into() })?;
        let auths = obj.entry("auths").or_insert_with(|| Value::Object(Map::new()));
        if let Some(map) = auths.as_object_mut() {
            map.insert(registry.to_string(), json!({ "auth": auth }));
        }
        write_json(&path, &doc)?;
        Ok(path)
    }

    /// Removes the registry's entry from every file that has it.
    pub fn remove(&self, registry: &str) -> Result<Vec<PathBuf>, AuthError> {
        let mut removed = Vec::new();
        let paths = match &self.explicit {
            Some(p) => vec![p.clone()],
            None => self.read_paths(),
        };
        for path in paths {
            let Some(mut doc) = read_json(&path)? else { continue };
            let Some(auths) = doc.get_mut("auths").and_then(Value::as_object_mut) else { continue };
            let before = auths.len();
            for key in keys_for(registry) {
                auths.remove(&key);
            }
            if auths.len() != before {
                write_json(&path, &doc)?;
                removed.push(path);
            }
        }
        if removed.is_empty() {
            return Err(AuthError::NotLoggedIn(registry.to_string()));
        }
        Ok(removed)
    }
}

fn containers_auth_paths() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR") {
        paths.push(PathBuf::from(run).join("containers/auth.json"));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(config) = config {
        paths.push(config.join("containers/auth.json"));
    }
    paths
}

fn keys_for(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ];
    if registry == "docker.io" {
        keys.extend(["https://index.docker.io/v1/".into(), "index.docker.io".into()]);
    }
    keys
}

fn decode_entry(entry: &Value) -> Result<Credentials, String> {
    if let Some(auth) = entry.get("auth").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| format!("\"auth\" is not base64: {e}"))?;
        let text = String::from_utf8(raw).map_err(|_| "\"auth\" is not UTF-8".to_string())?;
        let (u, p) = text.split_once(':').ok_or("\"auth\" is not user:password")?;
        return Ok(Credentials { username: u.into(), password: p.into() });
    }
    match (entry.get("username").and_then(Value::as_str), entry.get("password").and_then(Value::as_str)) {
        (Some(u), Some(p)) => Ok(Credentials { username: u.into(), password: p.into() }),
        _ => Err("has neither \"auth\" nor username and password".into()),
    }
}

fn read_json(path: &Path) -> Result<Option<Value>, AuthError> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(None),
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| AuthError::Read { path: path.into(), reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuthError::Read { path: path.into(), reason: e.to_string() }),
    }
}

fn write_json(path: &Path, doc: &Value) -> Result<(), AuthError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| AuthError::Write { path: path.into(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut f =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(err)?;
    let text = serde_json::to_vec_pretty(doc).expect("json serialises");
    f.write_all(&text).and_then(|_| f.sync_all()).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Entries of every readable file, for `berth login --get-login`-style listings.
pub fn registries_in(files: &AuthFiles) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for path in files.read_paths() {
        if let Ok(Some(doc)) = read_json(&path) {
            if let Some(auths) = doc.get("auths").and_then(Value::as_object) {
                for key in auths.keys() {
                    out.entry(key.clone()).or_insert_with(|| path.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_lookup_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let files = AuthFiles { explicit: Some(dir.path().join("auth.json")) };
        let creds = Credentials { username: "u".into(), password: "p:w".into() };
        files.store("127.0.0.1:5000", &creds).unwrap();
        assert_eq!(files.lookup("127.0.0.1:5000").unwrap(), Some(creds));
        let text = std::fs::read_to_string(dir.path().join("auth.json")).unwrap();
        assert!(text.contains("\"auth\": \"dTpwOnc=\""), "{text}");
        files.remove("127.0.0.1:5000").unwrap();
        assert_eq!(files.lookup("127.0.0.1:5000").unwrap(), None);
        assert!(matches!(files.remove("127.0.0.1:5000"), Err(AuthError::NotLoggedIn(_))));
    }

    #[test]
    fn reads_docker_style_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}}}"#).unwrap();
        let files = AuthFiles { explicit: Some(path) };
        let got = files.lookup("docker.io").unwrap().unwrap();
        assert_eq!((got.username.as_str(), got.password.as_str()), ("a", "b"));
    }
}
