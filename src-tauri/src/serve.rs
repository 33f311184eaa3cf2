//! `berth-desktop --serve [ADDR]`: the app without a window, for a plain browser (how the UI
//! is tested in a real browser, and how a machine is managed from another one's browser).
//!
//! The same commands as the window, by the same functions (`commands`), over HTTP:
//! `POST /api/invoke/<command>` with the JSON arguments, one Server-Sent Events stream
//! (`GET /api/stream`) for engine events and per-call channel messages (pull progress, log
//! batches, terminal output), and the built UI (`ui/dist`, embedded at build time) for
//! everything else. Every `/api` request
//! needs the random token printed at start, as a bearer header or a `token` query parameter;
//! the address is loopback unless an explicit other one is given.

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::Stream;
use rand::RngExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::channel::Sink;
use crate::commands::{self as c, Backend};
use crate::dto::{ApiError, EngineEvent, LogBatch, PullEvent, TerminalOutput};

/// The built UI. `build.rs` makes an empty directory when the UI was not built.
static UI: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../ui/dist");

/// Where the UI's files come from.
#[derive(Clone, Debug)]
pub enum Assets {
    /// The copy embedded at build time.
    Embedded,
    /// A directory on disk (`BERTH_UI_DIR`): a rebuilt UI without rebuilding the app.
    Dir(PathBuf),
}

impl Assets {
    /// `BERTH_UI_DIR` when set, else the embedded copy.
    pub fn from_env() -> Assets {
        match std::env::var_os("BERTH_UI_DIR").filter(|d| !d.is_empty()) {
            Some(dir) => Assets::Dir(dir.into()),
            None => Assets::Embedded,
        }
    }

    /// A file by its path under the UI's root; None for a missing one or a path that leaves it.
    pub fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        let rel = Path::new(path);
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return None;
        }
        match self {
            Assets::Embedded => UI.get_file(rel).map(|f| Cow::Borrowed(f.contents())),
            Assets::Dir(dir) => std::fs::read(dir.join(rel)).ok().map(Cow::Owned),
        }
    }
}

/// What travels on the event stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StreamMessage {
    /// `event: engine`.
    Engine(EngineEvent),
    /// `event: channel`: a message for the caller that chose `channel`.
    Channel { channel: String, message: ChannelMessage },
}

/// A message on a per-call channel, as the Tauri channel of the same command carries it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ChannelMessage {
    Pull(PullEvent),
    Logs(LogBatch),
    Terminal(TerminalOutput),
}

impl From<PullEvent> for ChannelMessage {
    fn from(m: PullEvent) -> Self {
        ChannelMessage::Pull(m)
    }
}

impl From<LogBatch> for ChannelMessage {
    fn from(m: LogBatch) -> Self {
        ChannelMessage::Logs(m)
    }
}

impl From<TerminalOutput> for ChannelMessage {
    fn from(m: TerminalOutput) -> Self {
        ChannelMessage::Terminal(m)
    }
}

/// How many messages the slowest page may have waiting before long-lived senders hold back.
const HUB_CAPACITY: usize = 1024;
const HOLD_BACK_AT: usize = HUB_CAPACITY / 2;

/// How long a long-lived channel waits for a page to listen (a reload, a reconnect) before it
/// decides nobody will.
const LISTENER_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// A channel whose messages go on the stream, under the id the page chose. Senders are held
/// back while the slowest page is far behind, and while no page listens (for a while), so
/// that nothing is dropped: a followed log waits in its file, a terminal in its buffer.
pub struct HubSink {
    hub: broadcast::Sender<StreamMessage>,
    channel: String,
}

impl HubSink {
    /// True once some page listens and is not far behind; false when none listened for
    /// `LISTENER_GRACE`.
    fn wait_for_room(&self) -> bool {
        let started = std::time::Instant::now();
        loop {
            let listeners = self.hub.receiver_count();
            if listeners > 0 && self.hub.len() < HOLD_BACK_AT {
                return true;
            }
            if listeners == 0 && started.elapsed() >= LISTENER_GRACE {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

impl<T: Into<ChannelMessage> + 'static> Sink<T> for HubSink {
    fn send(&self, message: T) -> bool {
        if !self.wait_for_room() {
            return false;
        }
        let _ = self.hub.send(StreamMessage::Channel { channel: self.channel.clone(), message: message.into() });
        true
    }

    fn listening(&self) -> bool {
        self.hub.receiver_count() > 0 || self.wait_for_room()
    }
}

impl StreamMessage {
    fn to_sse(&self) -> SseEvent {
        let (name, data) = match self {
            StreamMessage::Engine(e) => ("engine", serde_json::to_string(e)),
            StreamMessage::Channel { .. } => ("channel", serde_json::to_string(self)),
        };
        SseEvent::default().event(name).data(data.expect("stream messages serialise"))
    }
}

#[derive(Clone)]
struct AppState {
    backend: Arc<Backend>,
    token: Arc<str>,
    hub: broadcast::Sender<StreamMessage>,
    assets: Arc<Assets>,
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub token: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    watch: tauri::async_runtime::JoinHandle<()>,
}

impl Server {
    /// The address to open, token included.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    /// Serves until the listener fails.
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.task.await;
        self.watch.abort();
        Ok(result??)
    }

    pub fn stop(self) {
        self.task.abort();
        self.watch.abort();
    }
}

/// A new random token: 32 hex characters.
pub fn new_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// `ADDR` as the user wrote it: `HOST:PORT`, `localhost:PORT`, or a port alone (loopback).
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Some(port) = s.strip_prefix("localhost:").and_then(|p| p.parse::<u16>().ok()) {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    Err(format!("invalid address {s:?}: use HOST:PORT (such as 127.0.0.1:8080) or a port"))
}

/// Binds `addr`, forwards the engine's events to the stream, and serves in the background.
pub async fn start(backend: Arc<Backend>, addr: SocketAddr, assets: Assets) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let token = new_token();
    let (hub, _) = broadcast::channel(HUB_CAPACITY);
    let watch = {
        let hub = hub.clone();
        crate::watch::spawn(backend.engine().clone(), move |e| {
            let _ = hub.send(StreamMessage::Engine(e));
        })
    };
    let state = AppState { backend, token: Arc::from(token.as_str()), hub, assets: Arc::new(assets) };
    let app = router(state);
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Server { addr, token, task, watch })
}

/// `--serve`: opens the engine, serves, prints where, and runs until stopped.
pub async fn run(addr: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let addr = parse_addr(addr).map_err(anyhow::Error::msg)?;
    let backend = Arc::new(Backend::open_default()?);
    let server =
        start(backend, addr, Assets::from_env()).await.map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))?;
    if !server.addr.ip().is_loopback() {
        eprintln!(
            "berth-desktop: serving on {}, beyond this machine: whoever has the address and the token controls its containers",
            server.addr
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "Berth is serving on {}", server.url())?;
    out.flush()?;
    drop(out);
    tokio::select! {
        r = server.wait() => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/invoke/{command}", post(invoke))
        .route("/api/stream", get(stream))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new().merge(api).fallback(get(static_file)).with_state(state)
}

/// Whether a request carries the token: `Authorization: Bearer TOKEN` or `?token=TOKEN`.
pub fn authorized(token: &str, headers: &HeaderMap, query: Option<&str>) -> bool {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let from_query = query.and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")));
    [from_header, from_query].into_iter().flatten().any(|given| same(given.as_bytes(), token.as_bytes()))
}

/// Compares in time independent of where the strings differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if authorized(&s.token, req.headers(), req.uri().query()) {
        return next.run(req).await;
    }
    error_response(ApiError::new(
        "unauthorized",
        "unauthorized: open the address with the token that `berth-desktop --serve` printed",
    ))
}

/// The HTTP status of an error code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "not_found" => StatusCode::NOT_FOUND,
        "conflict" => StatusCode::CONFLICT,
        "invalid" => StatusCode::BAD_REQUEST,
        "unauthorized" => StatusCode::UNAUTHORIZED,
        "unsupported" => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_response(e: ApiError) -> Response {
    (status_of(&e.code), axum::Json(e)).into_response()
}

async fn invoke(State(s): State<AppState>, UrlPath(command): UrlPath<String>, body: Bytes) -> Response {
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(json!({}))
    } else {
        serde_json::from_slice::<Value>(&body)
            .map_err(|e| ApiError::invalid(format!("the arguments of {command} are not JSON: {e}")))
    };
    match args {
        Ok(args) => match dispatch(&s, &command, args).await {
            Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
            Err(e) => error_response(e),
        },
        Err(e) => error_response(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullArgs {
    reference: String,
    /// The channel id the client chose; its progress travels on the stream under it.
    on_progress: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FollowArgs {
    #[serde(flatten)]
    args: c::FollowArgs,
    on_lines: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenTerminalArgs {
    #[serde(flatten)]
    args: c::OpenTerminalArgs,
    on_output: String,
}

impl AppState {
    /// The stream, under the channel id a page chose.
    fn sink(&self, channel: String) -> HubSink {
        HubSink { hub: self.hub.clone(), channel }
    }
}

fn args<T: DeserializeOwned>(command: &str, v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::invalid(format!("bad arguments for {command}: {e}")))
}

/// The JSON of an answer, encoded once (a page of log lines is large).
fn answer<T: Serialize>(r: Result<T, ApiError>) -> Result<Vec<u8>, ApiError> {
    r.and_then(|v| serde_json::to_vec(&v).map_err(|e| ApiError::engine(format!("encoding the answer: {e}"))))
}

/// One arm per command of the contract, each calling the function the Tauri command calls.
async fn dispatch(s: &AppState, command: &str, v: Value) -> Result<Vec<u8>, ApiError> {
    let b = &s.backend;
    match command {
        "engine_info" => answer(c::engine_info(b).await),
        "list_containers" => answer(c::list_containers(b).await),
        "container_stats" => answer(c::container_stats(b).await),
        "start_container" => answer(c::start_container(b, args(command, v)?).await),
        "stop_container" => answer(c::stop_container(b, args(command, v)?).await),
        "restart_container" => answer(c::restart_container(b, args(command, v)?).await),
        "remove_container" => answer(c::remove_container(b, args(command, v)?).await),
        "inspect_container" => answer(c::inspect_container(b, args(command, v)?).await),
        "container_logs" => answer(c::container_logs(b, args(command, v)?).await),
        "list_images" => answer(c::list_images(b).await),
        "image_details" => answer(c::image_details(b, args(command, v)?).await),
        "pull_image" => {
            let a: PullArgs = args(command, v)?;
            let hub = s.hub.clone();
            let channel = a.on_progress;
            answer(
                c::pull_image(b, c::ReferenceArgs { reference: a.reference }, move |message: PullEvent| {
                    let _ = hub.send(StreamMessage::Channel { channel: channel.clone(), message: message.into() });
                })
                .await,
            )
        }
        "remove_image" => answer(c::remove_image(b, args(command, v)?).await),
        "free_port" => answer(c::free_port(args(command, v)?).await),
        "create_container" => answer(c::create_container(b, args(command, v)?).await),
        "log_window" => answer(c::log_window(b, args(command, v)?).await),
        "follow_logs" => {
            let a: FollowArgs = args(command, v)?;
            answer(c::follow_logs(b, a.args, s.sink(a.on_lines)).await)
        }
        "stop_follow" => answer(c::stop_follow(b, args(command, v)?).await),
        "search_logs" => answer(c::search_logs(b, args(command, v)?).await),
        "open_terminal" => {
            let a: OpenTerminalArgs = args(command, v)?;
            answer(c::open_terminal(b, a.args, s.sink(a.on_output)).await)
        }
        "terminal_input" => answer(c::terminal_input(b, args(command, v)?).await),
        "terminal_resize" => answer(c::terminal_resize(b, args(command, v)?).await),
        "close_terminal" => answer(c::close_terminal(b, args(command, v)?).await),
        "list_volumes" => answer(c::list_volumes(b).await),
        "create_volume" => answer(c::create_volume(b, args(command, v)?).await),
        "remove_volume" => answer(c::remove_volume(b, args(command, v)?).await),
        "prune_volumes" => answer(c::prune_volumes(b).await),
        "get_settings" => answer(c::get_settings(b).await),
        "set_registry" => answer(c::set_registry(b, args(command, v)?).await),
        "registry_login" => answer(c::registry_login(b, args(command, v)?).await),
        "registry_logout" => answer(c::registry_logout(b, args(command, v)?).await),
        "set_socket" => answer(c::set_socket(b, args(command, v)?).await),
        other => Err(ApiError::not_found(format!("unknown command {other:?}"))),
    }
}

async fn stream(State(s): State<AppState>) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = s.hub.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(m) => return Some((Ok(m.to_sse()), rx)),
                // A slow reader missed some: the next events make it refetch anyway.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Berth</title>\
<p>Berth's UI was not built into this binary: run <code>npm ci &amp;&amp; npm run build</code> in \
<code>ui/</code> and build berth-desktop again, or point <code>BERTH_UI_DIR</code> at a built \
<code>ui/dist</code>. The API at <code>/api</code> works without it.</p>\n";

async fn static_file(State(s): State<AppState>, uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if let Some(bytes) = s.assets.get(path) {
        return file_response(path, bytes);
    }
    // The UI routes in the page: a path that is not a file (no extension) is the app.
    let is_route = !path.rsplit('/').next().unwrap_or("").contains('.');
    if is_route || path == "index.html" {
        return match s.assets.get("index.html") {
            Some(bytes) => file_response("index.html", bytes),
            None => {
                (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], NOT_BUILT).into_response()
            }
        };
    }
    (StatusCode::NOT_FOUND, format!("{path}: no such file\n")).into_response()
}

fn file_response(path: &str, bytes: Cow<'static, [u8]>) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_checked_in_the_header_or_the_query() {
        let token = "0123456789abcdef0123456789abcdef";
        let mut h = HeaderMap::new();
        assert!(!authorized(token, &h, None));
        assert!(!authorized(token, &h, Some("token=wrong")));
        assert!(!authorized(token, &h, Some("token=0123456789abcdef0123456789abcdeX")));
        assert!(!authorized(token, &h, Some("token=0123456789abcdef")), "a prefix is not the token");
        assert!(!authorized(token, &h, Some("xtoken=0123456789abcdef0123456789abcdef")));
        assert!(authorized(token, &h, Some("a=1&token=0123456789abcdef0123456789abcdef")));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer nope"));
        assert!(!authorized(token, &h, None));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic 0123456789abcdef0123456789abcdef"));
        assert!(!authorized(token, &h, None));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer 0123456789abcdef0123456789abcdef"));
        assert!(authorized(token, &h, None));
    }

    #[test]
    fn tokens_are_32_random_hex_characters() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn addresses_default_to_loopback() {
        assert_eq!(parse_addr("8080").unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(parse_addr("localhost:9000").unwrap(), "127.0.0.1:9000".parse().unwrap());
        assert_eq!(parse_addr("0.0.0.0:80").unwrap(), "0.0.0.0:80".parse().unwrap());
        assert_eq!(parse_addr("[::1]:0").unwrap(), "[::1]:0".parse().unwrap());
        assert!(parse_addr("example:80").unwrap_err().contains("\"example:80\""));
    }

    #[test]
    fn error_codes_have_their_http_status() {
        for (code, status) in [
            ("not_found", 404),
            ("conflict", 409),
            ("invalid", 400),
            ("unauthorized", 401),
            ("unsupported", 501),
            ("engine", 500),
        ] {
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
    }

    #[test]
    fn asset_paths_cannot_leave_the_ui_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("ui")).unwrap();
        std::fs::write(dir.path().join("secret"), "no").unwrap();
        std::fs::write(dir.path().join("ui/index.html"), "yes").unwrap();
        let assets = Assets::Dir(dir.path().join("ui"));
        assert_eq!(assets.get("index.html").as_deref(), Some(&b"yes"[..]));
        assert_eq!(assets.get("../secret"), None);
        assert_eq!(assets.get("/etc/passwd"), None);
    }

    #[test]
    fn channel_messages_carry_their_channel() {
        let m = StreamMessage::Channel {
            channel: "pull-1".into(),
            message: PullEvent::Done { reference: "busybox".into(), image_id: "abc".into() }.into(),
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"channel": "pull-1", "message": {"type": "done", "reference": "busybox", "imageId": "abc"}})
        );
        let batch = crate::dto::LogBatch {
            entries: vec![crate::dto::LogEntry {
                cursor: crate::dto::LogCursor { file: 1, offset: 42 },
                time: "2026-11-27T22:00:00.000000001Z".into(),
                stream: crate::dto::LogStream::Stderr,
                line: "oops".into(),
            }],
        };
        let m = StreamMessage::Channel { channel: "logs-1".into(), message: batch.into() };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"channel": "logs-1", "message": {"entries": [{"cursor": {"file": 1, "offset": 42},
                "time": "2026-11-27T22:00:00.000000001Z", "stream": "stderr", "line": "oops"}]}})
        );
        for (out, expected) in [
            (TerminalOutput::Data { data: "aGk=".into() }, json!({"data": "aGk="})),
            (TerminalOutput::Exited { exited: 3 }, json!({"exited": 3})),
        ] {
            let m = StreamMessage::Channel { channel: "t".into(), message: out.into() };
            assert_eq!(serde_json::to_value(&m).unwrap(), json!({"channel": "t", "message": expected}));
        }
    }
}
