//! `berth system service`: the Docker Engine API over a unix socket, so the docker CLI and the
//! tools built on its API (compose, testcontainers, IDE plugins) work against Berth, as they do
//! against `podman system service`.
//!
//! One hyper HTTP/1.1 server (with upgrades, for the hijacked attach and exec streams). Paths
//! may carry a `/vX.Y` prefix; the version is negotiated by `/_ping`'s `API-Version` header.
//! Every handler is a thin translation between Docker's JSON and the engine; engine calls that
//! block run on the blocking pool. Errors are Docker's: `{"message": …}` with 404, 409 or 400.
//!
//! Hostile or broken clients are bounded: a request body is at most [`MAX_BODY`] bytes (413
//! past it; only the archives of `docker load`, `docker import` and `docker cp` are streamed,
//! into a file, each chunk within [`BODY_TIMEOUT`] of the last), its headers must arrive within
//! [`HEADER_TIMEOUT`] and its body within [`BODY_TIMEOUT`] (a stalled client is dropped and
//! never holds the service up), and malformed input is a 4xx with a message, never a 5xx.

mod build;
mod containers;
mod exec;
mod images;
mod objects;
pub(crate) mod system;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_engine::Engine;
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

/// The newest API version spoken; clients negotiate down to it.
pub const API_VERSION: &str = "1.41";
pub const MIN_API_VERSION: &str = "1.24";

/// The largest request body taken: every body is JSON (container configs are a few KiB).
pub const MAX_BODY: usize = 16 << 20;
/// How long a client may take to send its request's headers, and then its body.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Args)]
pub struct ServiceArgs {
    /// The socket (default: berth.sock in the run root, /run/berth/berth.sock as root and
    /// $XDG_RUNTIME_DIR/berth/berth.sock otherwise for the default --root)
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Seconds without a request before exiting; 0 serves until stopped
    #[arg(short, long, default_value_t = 5)]
    pub timeout: u64,
}

pub type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// A Docker API error: the status and `{"message": …}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }
}

/// Engine errors as Docker reports them.
impl From<berth_engine::Error> for ApiError {
    fn from(e: berth_engine::Error) -> ApiError {
        use berth_engine::container::LookupError;
        use berth_engine::Error as E;
        let status = match &e {
            E::ContainerLookup(LookupError::NotFound(q)) => {
                return ApiError::not_found(format!("No such container: {q}"))
            }
            E::Lookup(berth_engine::image::LookupError::NotFound(q)) => {
                return ApiError::not_found(format!("No such image: {q}"))
            }
            E::Lookup(_) | E::ContainerLookup(_) => StatusCode::NOT_FOUND,
            E::NameInUse { .. } | E::StateImproper(_) | E::ImageInUse { .. } | E::ImageHasNames { .. } => {
                StatusCode::CONFLICT
            }
            E::Network(berth_engine::network::NetworkError::NotFound(_)) => StatusCode::NOT_FOUND,
            E::Network(
                berth_engine::network::NetworkError::Exists(_) | berth_engine::network::NetworkError::InUse { .. },
            )
            | E::Network(berth_engine::network::NetworkError::PortInUse(_)) => StatusCode::CONFLICT,
            E::Volume(berth_engine::volume::VolumeError::NotFound(_)) => StatusCode::NOT_FOUND,
            E::Volume(
                berth_engine::volume::VolumeError::Exists(_) | berth_engine::volume::VolumeError::InUse { .. },
            ) => StatusCode::CONFLICT,
            E::Invalid(_)
            | E::Reference(_)
            | E::Spec(_)
            | E::User(_)
            | E::Network(_)
            | E::Volume(_)
            | E::Security(_)
            | E::Platform(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
    }
}

pub type Reply = Result<Response<Body>, ApiError>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

pub fn json_reply(status: StatusCode, v: &Value) -> Reply {
    Ok(Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(full(serde_json::to_vec(v).expect("json serialises")))
        .expect("a valid response"))
}

pub fn ok_json(v: Value) -> Reply {
    json_reply(StatusCode::OK, &v)
}

pub fn empty(status: StatusCode) -> Reply {
    Ok(Response::builder().status(status).body(full(Bytes::new())).expect("a valid response"))
}

/// A streaming body fed by a channel.
pub fn channel_body(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Body {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    BodyExt::boxed(StreamBody::new(stream))
}

/// A blocking writer into a response body's channel (a streamed body written from a blocking
/// thread); a closed connection is a broken pipe.
pub struct ChannelWriter {
    pub tx: tokio::sync::mpsc::Sender<Bytes>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Bytes::copy_from_slice(buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What every handler gets.
pub struct Ctx {
    pub engine: Engine,
    pub execs: Mutex<HashMap<String, Arc<exec::ExecSession>>>,
    /// Open attach sessions by container id, for `resize`.
    pub attach_writers: Arc<Mutex<HashMap<String, Arc<Mutex<std::os::unix::net::UnixStream>>>>>,
    /// Sizes asked for before the attach session connected.
    pub pending_sizes: Arc<Mutex<HashMap<String, (u16, u16)>>>,
    /// Created containers disconnected from their network (by id), until connected again.
    pub detached: Mutex<HashMap<String, String>>,
}

impl Ctx {
    /// Runs a blocking engine call off the async threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Engine) -> berth_engine::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || f(engine))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(ApiError::from)
    }
}

/// A request: method, path segments (version prefix removed), query, body.
pub struct Req {
    pub method: Method,
    pub segments: Vec<String>,
    pub query: HashMap<String, String>,
    pub body: Bytes,
    /// For upgrades (attach, exec start).
    pub upgrade: Option<hyper::upgrade::OnUpgrade>,
    /// The query as sent, for parameters given more than once (`names=a&names=b`).
    pub raw_query: String,
    /// `X-Registry-Auth`: a registry's credentials from the client (base64url JSON).
    pub registry_auth: Option<String>,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }
    /// Every value of a parameter given more than once.
    pub fn q_all(&self, k: &str) -> Vec<String> {
        self.raw_query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .filter(|(key, _)| decode(key, true) == k)
            .map(|(_, v)| decode(v, true))
            .collect()
    }
    /// A boolean query parameter as Docker's clients send them (`1`, `true`).
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.q(k), Some("1" | "true" | "True"))
    }
    /// The body as a JSON object (`{}` when empty); anything else is refused.
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(json!({}));
        }
        let v: Value =
            serde_json::from_slice(&self.body).map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))?;
        if !v.is_object() {
            return Err(ApiError::bad(format!("invalid JSON body: expected an object, got {}", kind_of(&v))));
        }
        Ok(v)
    }
    /// A time parameter (`since`, `until`): Unix seconds with an optional fraction, as Docker's
    /// clients send them; `None` when absent, empty or `0`; out of range or malformed is a 400.
    pub fn time(&self, k: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
        let Some(v) = self.q(k).filter(|s| !s.is_empty() && *s != "0") else { return Ok(None) };
        parse_unix_time(v).map(Some).ok_or_else(|| {
            ApiError::bad(format!(
                "invalid {k} \"{v}\": use Unix seconds (optionally with a fraction, as 1700000000.5) from 0 to 253402300799"
            ))
        })
    }
}

/// `SECONDS[.FRACTION]`, within chrono's range of dates.
pub fn parse_unix_time(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let nanos: u32 = digits.parse().ok()?;
    // Docker's clients never send dates past the year 9999.
    (secs <= 253_402_300_799).then_some(())?;
    chrono::DateTime::from_timestamp(secs, nanos)
}

/// What a JSON value is, for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The request body, at most [`MAX_BODY`] bytes, within [`BODY_TIMEOUT`].
async fn read_body(parts: &hyper::http::request::Parts, body: Incoming) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body too large: at most {} MiB is taken", MAX_BODY >> 20),
        )
    };
    let declared = parts.headers.get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let collect = http_body_util::Limited::new(body, MAX_BODY).collect();
    match tokio::time::timeout(BODY_TIMEOUT, collect).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("request body not received within {} s", BODY_TIMEOUT.as_secs()),
        )),
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::bad(format!("reading the request body: {e}"))),
    }
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for pair in q.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.insert(decode(k, true), decode(v, true));
    }
    m
}

pub fn percent_decode(s: &str) -> String {
    decode(s, false)
}

/// `%XX` escapes, and `+` for a space in query strings (as Go's url package writes them).
fn decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `/v1.41/containers/abc/json` into `["containers", "abc", "json"]`.
fn segments(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    if segs.first().is_some_and(|s| {
        s.starts_with('v') && s[1..].split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    }) {
        segs.remove(0);
    }
    segs
}

async fn handle(
    ctx: Arc<Ctx>,
    mut req: Request<Incoming>,
    activity: Arc<Mutex<Instant>>,
) -> Result<Response<Body>, Infallible> {
    *activity.lock().expect("activity") = Instant::now();
    let upgrade =
        if req.headers().contains_key(hyper::header::UPGRADE) { Some(hyper::upgrade::on(&mut req)) } else { None };
    let (parts, body) = req.into_parts();
    let line = format!("{} {}", parts.method, parts.uri);
    let request = |body: Bytes, upgrade| Req {
        method: parts.method.clone(),
        segments: segments(parts.uri.path()),
        query: parse_query(parts.uri.query()),
        body,
        upgrade,
        raw_query: parts.uri.query().unwrap_or_default().to_string(),
        registry_auth: parts
            .headers
            .get("X-Registry-Auth")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .filter(|v| !v.is_empty()),
    };
    let post_to = |path: &[&str]| parts.method == Method::POST && segments(parts.uri.path()) == path;
    let import_body =
        post_to(&["images", "create"]) && parse_query(parts.uri.query()).get("fromSrc").is_some_and(|s| s == "-");
    let upload_to = match segments(parts.uri.path()).as_slice() {
        [c, id, a] if parts.method == Method::PUT && c == "containers" && a == "archive" => Some(id.clone()),
        _ => None,
    };
    let reply = if let Some(id) = upload_to {
        // `docker cp`'s upload: a tar of any size, spooled too
        containers::put_archive(&ctx, &id, &request(Bytes::new(), None), body).await
    } else if post_to(&["build"]) {
        // `docker build`'s context: a tar of any size, spooled to a file
        match images::spool_body(&ctx, body).await {
            Ok(spooled) => build::build(&ctx, &request(Bytes::new(), None), spooled).await,
            Err(e) => Err(e),
        }
    } else if post_to(&["images", "load"]) || import_body {
        // `docker load`'s archive and `docker import`'s tarball: spooled to a file, the bodies
        // larger than MAX_BODY
        match images::spool_body(&ctx, body).await {
            Ok(spooled) if import_body => images::import(&ctx, &request(Bytes::new(), None), Some(spooled)).await,
            Ok(spooled) => images::load(&ctx, &request(Bytes::new(), None), spooled).await,
            Err(e) => Err(e),
        }
    } else {
        match read_body(&parts, body).await {
            Ok(body) => route(&ctx, request(body, upgrade)).await,
            Err(e) => Err(e),
        }
    };
    if std::env::var_os("BERTH_SERVICE_LOG").is_some() {
        let status = reply.as_ref().map_or_else(|e| e.status, |r| r.status());
        eprintln!("{line} -> {}", status.as_u16());
    }
    let mut resp = match reply {
        Ok(r) => r,
        Err(e) => json_reply(e.status, &json!({"message": e.message})).expect("an error response"),
    };
    let h = resp.headers_mut();
    h.insert("API-Version", API_VERSION.parse().expect("header"));
    h.insert("Server", format!("Berth/{}", env!("CARGO_PKG_VERSION")).parse().expect("header"));
    h.insert("Docker-Experimental", "false".parse().expect("header"));
    h.insert("Ostype", "linux".parse().expect("header"));
    *activity.lock().expect("activity") = Instant::now();
    Ok(resp)
}

async fn route(ctx: &Ctx, r: Req) -> Reply {
    let owned = r.segments.clone();
    let segs: Vec<&str> = owned.iter().map(String::as_str).collect();
    match (r.method.clone(), segs.as_slice()) {
        (Method::GET | Method::HEAD, ["_ping"]) => system::ping(&r),
        (Method::GET, ["version"]) => system::version(ctx).await,
        (Method::GET, ["info"]) => system::info(ctx).await,
        (Method::GET, ["events"]) => system::events(ctx, &r).await,
        (Method::GET, ["system", "df"]) => system::df(ctx).await,
        (Method::POST, ["images", "create"]) if r.q("fromSrc").is_some_and(|s| !s.is_empty()) => {
            images::import(ctx, &r, None).await
        }
        (Method::POST, ["images", "create"]) => images::pull(ctx, &r).await,
        (Method::GET, ["images", "json"]) => images::list(ctx, &r).await,
        (Method::GET, ["images", "get"]) => images::save(ctx, r.q_all("names")).await,
        (Method::GET, ["images", rest @ .., "get"]) if !rest.is_empty() => {
            images::save(ctx, vec![rest.join("/")]).await
        }
        (Method::GET, ["images", rest @ .., "json"]) if !rest.is_empty() => images::inspect(ctx, &rest.join("/")).await,
        (Method::POST, ["images", rest @ .., "tag"]) if !rest.is_empty() => images::tag(ctx, &rest.join("/"), &r).await,
        (Method::POST, ["images", rest @ .., "push"]) if !rest.is_empty() => {
            images::push(ctx, &rest.join("/"), &r).await
        }
        (Method::DELETE, ["images", rest @ ..]) if !rest.is_empty() => images::remove(ctx, &rest.join("/"), &r).await,
        (Method::POST, ["commit"]) => images::commit(ctx, &r).await,
        (Method::POST, ["containers", "create"]) => containers::create(ctx, &r).await,
        (Method::GET, ["containers", "json"]) => containers::list(ctx, &r).await,
        (Method::POST, ["containers", "prune"]) => containers::prune(ctx).await,
        (Method::GET, ["containers", id, "json"]) => containers::inspect(ctx, id).await,
        (Method::POST, ["containers", id, "start"]) => containers::start(ctx, id).await,
        (Method::POST, ["containers", id, "stop"]) => containers::stop(ctx, id, &r).await,
        (Method::POST, ["containers", id, "restart"]) => containers::restart(ctx, id, &r).await,
        (Method::POST, ["containers", id, "kill"]) => containers::kill(ctx, id, &r).await,
        (Method::POST, ["containers", id, "wait"]) => containers::wait(ctx, id, &r).await,
        (Method::POST, ["containers", id, "rename"]) => containers::rename(ctx, id, &r).await,
        (Method::POST, ["containers", id, "pause"]) => containers::pause(ctx, id, true).await,
        (Method::POST, ["containers", id, "unpause"]) => containers::pause(ctx, id, false).await,
        (Method::DELETE, ["containers", id]) => containers::remove(ctx, id, &r).await,
        (Method::GET, ["containers", id, "logs"]) => containers::logs(ctx, id, &r).await,
        (Method::GET, ["containers", id, "stats"]) => containers::stats(ctx, id, &r).await,
        (Method::GET, ["containers", id, "top"]) => containers::top(ctx, id).await,
        (Method::GET, ["containers", id, "changes"]) => containers::changes(ctx, id).await,
        (Method::GET, ["containers", id, "export"]) => containers::export(ctx, id).await,
        (Method::HEAD, ["containers", id, "archive"]) => containers::stat_archive(ctx, id, &r).await,
        (Method::GET, ["containers", id, "archive"]) => containers::get_archive(ctx, id, &r).await,
        (Method::POST, ["containers", id, "attach"]) => containers::attach(ctx, id, r).await,
        (Method::POST, ["containers", id, "resize"]) => containers::resize(ctx, id, &r).await,
        (Method::POST, ["containers", id, "exec"]) => exec::create(ctx, id, &r).await,
        (Method::POST, ["exec", id, "start"]) => exec::start(ctx, id, r).await,
        (Method::POST, ["exec", id, "resize"]) => exec::resize(ctx, id, &r).await,
        (Method::GET, ["exec", id, "json"]) => exec::inspect(ctx, id).await,
        (Method::GET, ["volumes"]) => objects::volumes(ctx).await,
        (Method::POST, ["volumes", "create"]) => objects::create_volume(ctx, &r).await,
        (Method::GET, ["volumes", name]) => objects::inspect_volume(ctx, name).await,
        (Method::DELETE, ["volumes", name]) => objects::remove_volume(ctx, name, &r).await,
        (Method::POST, ["volumes", "prune"]) => objects::prune_volumes(ctx).await,
        (Method::GET, ["networks"]) => objects::networks(ctx).await,
        (Method::POST, ["networks", "create"]) => objects::create_network(ctx, &r).await,
        (Method::GET, ["networks", id]) => objects::inspect_network(ctx, id).await,
        (Method::DELETE, ["networks", id]) => objects::remove_network(ctx, id).await,
        (Method::POST, ["networks", id, "connect"]) => objects::connect(ctx, id, &r, true).await,
        (Method::POST, ["networks", id, "disconnect"]) => objects::connect(ctx, id, &r, false).await,
        (m, _) => Err(ApiError::not_found(format!("page not found: {m} /{}", r.segments.join("/")))),
    }
}

/// `berth.sock` in the run root (for the default root `/run/berth/berth.sock` as root, under
/// `$XDG_RUNTIME_DIR/berth` otherwise), where the desktop app looks for it too.
pub fn default_socket(engine: &Engine) -> PathBuf {
    engine.config().run_root.join("berth.sock")
}

/// Binds the socket: mode 0660, a stale socket (nobody answering) replaced, a live one refused.
fn bind(path: &std::path::Path) -> anyhow::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            anyhow::bail!("{} is in use by another service: stop it, or give another --socket", path.display());
        }
        std::fs::remove_file(path)?;
    }
    let l = tokio::net::UnixListener::bind(path).map_err(|e| anyhow::anyhow!("binding {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(l)
}

pub async fn run(engine: Engine, args: &ServiceArgs) -> anyhow::Result<ExitCode> {
    let path = args.socket.clone().unwrap_or_else(|| default_socket(&engine));
    let listener = bind(&path)?;
    eprintln!("Berth API service listening on unix://{}", path.display());
    let ctx = Arc::new(Ctx {
        engine,
        execs: Mutex::new(HashMap::new()),
        attach_writers: Arc::new(Mutex::new(HashMap::new())),
        pending_sizes: Arc::new(Mutex::new(HashMap::new())),
        detached: Mutex::new(HashMap::new()),
    });
    let sweeper = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(exec::SWEEP_EVERY).await;
                exec::sweep(&ctx).await;
            }
        })
    };
    let activity = Arc::new(Mutex::new(Instant::now()));
    let active = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let timeout = Duration::from_secs(args.timeout);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let idle_check = tokio::time::sleep(Duration::from_millis(500));
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted { Ok(s) => s, Err(_) => continue };
                let ctx = ctx.clone();
                let activity = activity.clone();
                let active = active.clone();
                active.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(ctx.clone(), req, activity.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(HEADER_TIMEOUT)
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                    active.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            _ = idle_check => {
                let idle = activity.lock().expect("activity").elapsed();
                if !timeout.is_zero() && idle >= timeout && active.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    break;
                }
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
    }
    sweeper.abort();
    let _ = std::fs::remove_file(&path);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_prefixes_and_escapes_come_off() {
        assert_eq!(super::segments("/v1.41/containers/abc/json"), ["containers", "abc", "json"]);
        assert_eq!(super::segments("/_ping"), ["_ping"]);
        assert_eq!(
            super::segments("/images/127.0.0.1%3A5000%2Fbusybox/json"),
            ["images", "127.0.0.1:5000/busybox", "json"]
        );
        assert_eq!(super::percent_decode("a%2Fb+c%zz%4"), "a/b+c%zz%4");
        assert_eq!(super::decode("a+b%20c", true), "a b c");
    }

    #[test]
    fn a_parameter_given_twice_keeps_both_values() {
        let raw = "names=busybox%3Alatest&quiet=1&names=localhost%2Fx%3A1";
        let r = super::Req {
            method: hyper::Method::GET,
            segments: vec![],
            query: super::parse_query(Some(raw)),
            body: bytes::Bytes::new(),
            upgrade: None,
            raw_query: raw.into(),
            registry_auth: None,
        };
        assert_eq!(r.q_all("names"), ["busybox:latest", "localhost/x:1"]);
        assert_eq!(r.q_all("quiet"), ["1"]);
        assert!(r.q_all("other").is_empty());
    }
}
