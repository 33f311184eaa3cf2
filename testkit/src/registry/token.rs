//! A tiny Docker/OCI token server (the "realm" of a `Bearer` challenge) for
//! [`Registry::start_with_token_auth`](super::Registry::start_with_token_auth).
//!
//! `GET /token?service=S&scope=repository:NAME:pull,push[&scope=...][&account=USER]`:
//! - right HTTP basic credentials: a token granting every scope asked for;
//! - no credentials: an anonymous token granting nothing (the registry then answers
//!   401 for anything but `/v2/`, which is how "authentication required" looks);
//! - wrong or malformed credentials: 401, no token.
//!
//! Tokens are JWTs signed RS256 with a throwaway key whose self-signed certificate is both in
//! the token header (`x5c`) and in the registry's `rootcertbundle`, which is how distribution
//! 2.8 finds and trusts the signing key. Signing shells out to the `openssl` command.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

/// The `iss` claim; the registry's `auth.token.issuer`.
pub const TOKEN_ISSUER: &str = "berth-test-token-issuer";
/// The `aud` claim and the challenge's `service`; the registry's `auth.token.service`.
pub const TOKEN_SERVICE: &str = "berth-test-registry";
/// Lifetime of a token, the `expires_in` of the answer.
const TOKEN_LIFETIME_SECS: u64 = 300;
const MAX_REQUEST_HEAD: usize = 16 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A running token server on 127.0.0.1; stopped on drop.
#[derive(Debug)]
pub(crate) struct TokenServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    user: String,
    pass: String,
    key_path: PathBuf,
    /// Standard base64 (with padding) of the certificate's DER, the one `x5c` entry.
    cert_der_b64: String,
    issued: AtomicUsize,
    stop: AtomicBool,
}

impl TokenServer {
    /// Generates a key and certificate in `dir` (created if missing), binds a free port and
    /// starts serving.
    pub(crate) fn start(dir: &Path, user: &str, pass: &str) -> Result<TokenServer> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key_path = dir.join("key.pem");
        let cert_path = dir.join("cert.pem");
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=berth-test-token"])
            .arg("-keyout")
            .arg(&key_path)
            .arg("-out")
            .arg(&cert_path)
            .stdin(Stdio::null())
            .output()
            .context("running openssl req (install Debian's openssl package)")?;
        if !out.status.success() {
            bail!("openssl req failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
        }
        let cert_pem =
            std::fs::read_to_string(&cert_path).with_context(|| format!("reading {}", cert_path.display()))?;
        let cert_der_b64 = pem_body(&cert_pem).context("the token signing certificate is not PEM")?;

        let listener = TcpListener::bind("127.0.0.1:0").context("binding the token server on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            user: user.to_string(),
            pass: pass.to_string(),
            key_path,
            cert_der_b64,
            issued: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("berth-token-server".into())
                .spawn(move || accept_loop(&listener, &shared))
                .context("starting the token server thread")?
        };
        Ok(TokenServer { addr, shared, thread: Some(thread) })
    }

    /// The realm URL for the registry config and `Bearer` challenges.
    pub(crate) fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The certificate the registry trusts (its `rootcertbundle`).
    pub(crate) fn cert_path(&self) -> PathBuf {
        self.shared.key_path.with_file_name("cert.pem")
    }

    /// Tokens handed out so far, anonymous ones included.
    pub(crate) fn issued(&self) -> usize {
        self.shared.issued.load(Ordering::SeqCst)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // wake the blocking accept()
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        // one short-lived thread per connection; a stuck client cannot block the others
        let _ = std::thread::Builder::new().name("berth-token-conn".into()).spawn(move || {
            let _ = handle(stream, &shared);
        });
    }
}

/// One request per connection, answered with `Connection: close`.
fn handle(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let head = match read_head(&mut stream)? {
        Some(head) => head,
        None => return respond(&mut stream, 400, "Bad Request", &error_body("malformed request")),
    };
    let (status, reason, body) = answer(&head, shared);
    respond(&mut stream, status, reason, &body)
}

/// The request line and headers, up to the blank line; `None` if malformed or too long.
fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8(buf).ok())
}

fn answer(head: &str, shared: &Shared) -> (u16, &'static str, Value) {
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (request_line.next().unwrap_or_default(), request_line.next().unwrap_or_default());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/token" {
        return (404, "Not Found", error_body("only /token is served here"));
    }
    if method != "GET" {
        return (405, "Method Not Allowed", error_body("only GET /token is supported"));
    }
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim());

    let subject = match authorization {
        None => None,
        Some(value) => match basic_credentials(value) {
            Some((user, pass)) if user == shared.user && pass == shared.pass => Some(user),
            _ => return (401, "Unauthorized", error_body("wrong credentials")),
        },
    };

    let mut access = Vec::new();
    if subject.is_some() {
        for (key, value) in query.split('&').filter_map(|kv| kv.split_once('=')) {
            if key != "scope" {
                continue;
            }
            // repeated scope= parameters, or several in one separated by spaces
            for scope in percent_decode(value).split(' ').filter(|s| !s.is_empty()) {
                if let Some(granted) = parse_scope(scope) {
                    access.push(granted);
                }
            }
        }
    }

    match issue(shared, subject.as_deref().unwrap_or(""), access) {
        Ok(token) => {
            shared.issued.fetch_add(1, Ordering::SeqCst);
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            (
                200,
                "OK",
                json!({"token": token, "access_token": token, "expires_in": TOKEN_LIFETIME_SECS, "issued_at": now}),
            )
        }
        Err(e) => (500, "Internal Server Error", error_body(&format!("{e:#}"))),
    }
}

/// `TYPE:NAME:ACTION[,ACTION...]` as an access entry granting all those actions. The name may
/// itself contain colons (a registry host with a port), so split at the first and last.
fn parse_scope(scope: &str) -> Option<Value> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    Some(json!({"type": kind, "name": name, "actions": actions}))
}

/// (user, password) from an `Authorization: Basic ...` value.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// A signed JWT for `subject` with these access entries.
fn issue(shared: &Shared, subject: &str, access: Vec<Value>) -> Result<String> {
    static JTI: AtomicUsize = AtomicUsize::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).context("the clock is before 1970")?;
    let secs = now.as_secs();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [shared.cert_der_b64]});
    let claims = json!({
        "iss": TOKEN_ISSUER,
        "sub": subject,
        "aud": TOKEN_SERVICE,
        "exp": secs + TOKEN_LIFETIME_SECS,
        "nbf": secs,
        "iat": secs,
        "jti": format!("{:x}-{:x}-{}", now.as_nanos(), std::process::id(), JTI.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
    );
    let signature = sign_rs256(&shared.key_path, signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `data`: `openssl dgst -sha256 -sign KEY`.
fn sign_rs256(key_path: &Path, data: &[u8]) -> Result<Vec<u8>> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running openssl dgst")?;
    // the input is a few KiB at most: no risk of filling the pipes both ways
    child.stdin.take().expect("piped stdin").write_all(data).context("writing to openssl dgst")?;
    let out = child.wait_with_output().context("waiting for openssl dgst")?;
    if !out.status.success() || out.stdout.is_empty() {
        bail!("openssl dgst -sign failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

fn respond(stream: &mut TcpStream, status: u16, reason: &str, body: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(body).expect("JSON serialises");
    let mut www_authenticate = String::new();
    if status == 401 {
        www_authenticate = "WWW-Authenticate: Basic realm=\"berth-test-token\"\r\n".to_string();
    }
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{www_authenticate}\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

fn error_body(message: &str) -> Value {
    json!({"errors": [{"code": "UNAUTHORIZED", "message": message}], "details": message})
}

/// The base64 between the BEGIN and END lines of a PEM block, on one line.
fn pem_body(pem: &str) -> Option<String> {
    let mut inside = false;
    let mut body = String::new();
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            inside = true;
        } else if line.starts_with("-----END ") {
            return (!body.is_empty() && STANDARD.decode(&body).is_ok()).then_some(body);
        } else if inside {
            body.push_str(line);
        }
    }
    None
}

/// Decodes `%XX` escapes and `+` (a space in a query string).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_scopes() {
        assert_eq!(percent_decode("repository%3Afoo%2Fbar%3Apull%2Cpush"), "repository:foo/bar:pull,push");
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(
            parse_scope("repository:127.0.0.1:5000/x:pull,push"),
            Some(json!({"type": "repository", "name": "127.0.0.1:5000/x", "actions": ["pull", "push"]}))
        );
        assert_eq!(parse_scope("repository:x"), None);
        assert_eq!(parse_scope("registry:catalog:*").unwrap()["actions"], json!(["*"]));
    }

    #[test]
    fn reads_basic_credentials() {
        let value = format!("Basic {}", STANDARD.encode("berth:pa:ss"));
        assert_eq!(basic_credentials(&value), Some(("berth".into(), "pa:ss".into())));
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
