//! A real registry on loopback: Debian's `docker-registry` (distribution 2.8) in a temporary
//! directory, so tests and benchmarks pull over real HTTP without touching the internet.
//!
//! Three flavours: anonymous ([`Registry::start`]), HTTP basic auth
//! ([`Registry::start_with_basic_auth`]) and bearer tokens from a token server of our own
//! ([`Registry::start_with_token_auth`]), the way Docker Hub and most public registries work.

mod token;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use token::TokenServer;
pub use token::{TOKEN_ISSUER, TOKEN_SERVICE};

/// The program started; Debian's package puts it on the PATH.
pub const REGISTRY_PROGRAM: &str = "docker-registry";

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `docker-registry` serving plain HTTP on `127.0.0.1:PORT`.
///
/// Storage, config, htpasswd file, token signing key and log live in a temporary directory
/// removed on drop; the process (and the token server, if any) is stopped on drop.
#[derive(Debug)]
pub struct Registry {
    child: Option<Child>,
    addr: String,
    auth: Auth,
    // last: dropped after the token server stopped using its key
    dir: tempfile::TempDir,
}

#[derive(Debug)]
enum Auth {
    None,
    Basic { user: String, pass: String },
    Token { user: String, pass: String, server: TokenServer },
}

enum AuthSpec<'a> {
    None,
    Basic(&'a str, &'a str),
    Token(&'a str, &'a str),
}

impl Registry {
    /// Starts an anonymous registry (anyone may push and pull).
    pub fn start() -> Result<Registry> {
        Self::start_inner(AuthSpec::None)
    }

    /// Starts a registry that requires HTTP basic auth with this user and password for every
    /// request.
    pub fn start_with_basic_auth(user: &str, pass: &str) -> Result<Registry> {
        Self::start_inner(AuthSpec::Basic(user, pass))
    }

    /// Starts a registry that requires bearer tokens, like Docker Hub: every request without a
    /// valid token gets `401` with `WWW-Authenticate: Bearer realm="http://127.0.0.1:PORT/token",
    /// service="berth-test-registry"[,scope=...]`. The token server on that realm (a thread of
    /// this process, stopped on drop) hands out tokens for every requested scope to whoever
    /// presents this user and password with HTTP basic auth; an anonymous request gets a token
    /// granting nothing (so pulls fail with 401 "authentication required"), wrong credentials
    /// get 401 from the token server itself.
    ///
    /// [`credentials`](Self::credentials) returns the user and password, which clients that
    /// follow bearer challenges (oci-client, skopeo `--creds`) send to the token server.
    /// [`tokens_issued`](Self::tokens_issued) counts the tokens handed out.
    pub fn start_with_token_auth(user: &str, pass: &str) -> Result<Registry> {
        Self::start_inner(AuthSpec::Token(user, pass))
    }

    fn start_inner(spec: AuthSpec<'_>) -> Result<Registry> {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir()
            .context("creating the registry's temporary directory")?;
        std::fs::create_dir(dir.path().join("storage")).context("creating the registry's storage directory")?;
        let auth = match spec {
            AuthSpec::None => Auth::None,
            AuthSpec::Basic(user, pass) => {
                write_htpasswd(&dir.path().join("htpasswd"), user, pass)?;
                Auth::Basic { user: user.to_string(), pass: pass.to_string() }
            }
            AuthSpec::Token(user, pass) => Auth::Token {
                user: user.to_string(),
                pass: pass.to_string(),
                server: TokenServer::start(&dir.path().join("token"), user, pass)
                    .context("starting the token server")?,
            },
        };
        let mut registry = Registry { child: None, addr: String::new(), auth, dir };
        // Another process may grab the free port between our probe and the registry's bind:
        // try a few ports before giving up.
        let mut last_err = None;
        for _ in 0..3 {
            registry.addr = format!("127.0.0.1:{}", free_port()?);
            match registry.spawn() {
                Ok(()) => return Ok(registry),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    /// "127.0.0.1:PORT", the host part of image references pushed to this registry.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The credentials the registry requires, if any: checked by the registry itself with
    /// basic auth, by the token server with token auth.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match &self.auth {
            Auth::None => None,
            Auth::Basic { user, pass } | Auth::Token { user, pass, .. } => Some((user.as_str(), pass.as_str())),
        }
    }

    /// How many tokens the token server has handed out so far, anonymous (empty) ones
    /// included; always 0 for a registry without token auth. A test reads it to prove a
    /// client went the bearer-token way.
    pub fn tokens_issued(&self) -> usize {
        match &self.auth {
            Auth::Token { server, .. } => server.issued(),
            _ => 0,
        }
    }

    /// The token server's URL ("http://127.0.0.1:PORT/token"), the realm of the registry's
    /// `Bearer` challenges; `None` without token auth.
    pub fn token_realm(&self) -> Option<String> {
        match &self.auth {
            Auth::Token { server, .. } => Some(server.realm()),
            _ => None,
        }
    }

    /// The registry's log (stdout and stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The filesystem storage root. Blobs live at
    /// `docker/registry/v2/blobs/sha256/XX/HEX/data`; see [`blob_path`](Self::blob_path).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Where the registry stores the blob with this digest ("sha256:HEX"), so a test can
    /// corrupt it and check that the engine verifies digests.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let prefix = hex.get(..2).unwrap_or(hex);
        self.storage_dir().join("docker/registry/v2/blobs/sha256").join(prefix).join(hex).join("data")
    }

    /// Kills the registry (the storage stays), e.g. to test how the engine handles a registry
    /// that went away.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the registry process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the registry again on the same address with the same storage.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.spawn()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    fn spawn(&mut self) -> Result<()> {
        let config_path = self.dir.path().join("config.yml");
        std::fs::write(&config_path, self.config_yaml())
            .with_context(|| format!("writing {}", config_path.display()))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .context("creating the registry log file")?;
        let child = Command::new(REGISTRY_PROGRAM)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the log file handle")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {REGISTRY_PROGRAM} (install Debian's docker-registry package)"))?;
        self.child = Some(child);
        self.wait_ready().inspect_err(|_| self.stop())
    }

    fn config_yaml(&self) -> String {
        let root = self.dir.path();
        let mut yaml = format!(
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
             maintenance:\n    uploadpurging:\n      enabled: false\n\
             http:\n  addr: {addr}\n\
             health:\n  storagedriver:\n    enabled: false\n",
            storage = yaml_str(&root.join("storage")),
            addr = self.addr,
        );
        match &self.auth {
            Auth::None => {}
            Auth::Basic { .. } => {
                let _ = write!(
                    yaml,
                    "auth:\n  htpasswd:\n    realm: berth-test-registry\n    path: {}\n",
                    yaml_str(&root.join("htpasswd"))
                );
            }
            Auth::Token { server, .. } => {
                let _ = write!(
                    yaml,
                    "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    \
                     rootcertbundle: {bundle}\n",
                    realm = yaml_quote(&server.realm()),
                    service = yaml_quote(TOKEN_SERVICE),
                    issuer = yaml_quote(TOKEN_ISSUER),
                    bundle = yaml_str(&server.cert_path()),
                );
            }
        }
        yaml
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait().context("waiting for the registry")? {
                    self.child = None;
                    bail!("registry on {} exited during startup ({status}); its log:\n{}", self.addr, self.log());
                }
            }
            match probe(&self.addr) {
                Ok(200) | Ok(401) => return Ok(()),
                Ok(_) | Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Ok(status) => {
                    bail!("registry on {} answered GET /v2/ with status {status}; its log:\n{}", self.addr, self.log())
                }
                Err(e) => bail!(
                    "registry on {} did not answer within {}s ({e}); its log:\n{}",
                    self.addr,
                    START_TIMEOUT.as_secs(),
                    self.log()
                ),
            }
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free a moment ago.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// `GET /v2/` and the status code of the answer.
fn probe(addr: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr.parse().expect("valid address"), Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf)?;
    let line = String::from_utf8_lossy(&buf);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {line:?}")))
}

fn write_htpasswd(path: &Path, user: &str, pass: &str) -> Result<()> {
    let out = Command::new("htpasswd")
        .args(["-Bbn", user, pass])
        .output()
        .context("running htpasswd (install Debian's apache2-utils package)")?;
    if !out.status.success() {
        bail!("htpasswd -Bbn {user:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    std::fs::write(path, &out.stdout).with_context(|| format!("writing {}", path.display()))
}

/// A path as a double-quoted YAML string.
fn yaml_str(path: &Path) -> String {
    yaml_quote(&path.to_string_lossy())
}

/// A double-quoted YAML string (JSON strings are YAML strings).
fn yaml_quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}
