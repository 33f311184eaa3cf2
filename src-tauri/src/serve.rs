//! `berth-desktop --serve [ADDR]`: the app without a window, for a plain browser (how the UI
//! is tested in a real browser, and how a machine is managed from another one's browser).
//!
//! The same commands as the window, by the same functions (`commands`), over HTTP:
//! `POST /api/invoke/<command>` with the JSON arguments, one Server-Sent Events stream
//! (`GET /api/stream`) for engine events and per-call channel messages (pull, push and build
//! progress, log batches, terminal output), and the built UI (`ui/dist`, embedded at build
//! time) for everything else. Every request must name this server's own address as `Host`, and
//! come from its own page when it has an `Origin` (`authority`). Every `/api` request needs the
//! random token printed at start: as the cookie the first load (`/?token=…`) sets before it
//! redirects to the address without it, a bearer header, or a `token` query parameter. The
//! address is loopback unless an explicit other one is given, and beyond loopback (or with
//! `--tls`) it speaks only TLS (`tls`).

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

use crate::authority::Authority;
use crate::channel::Sink;
use crate::commands::{self as c, Backend};
use crate::dto::{ApiError, BuildEvent, ComposeEvent, EngineEvent, LogBatch, PullEvent, PushEvent, TerminalOutput};
use crate::resend::Resends;
use crate::tls::{Identity, TlsListener};

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
    Push(PushEvent),
    Build(BuildEvent),
    Compose(ComposeEvent),
    Logs(LogBatch),
    Terminal(TerminalOutput),
}

impl From<PullEvent> for ChannelMessage {
    fn from(m: PullEvent) -> Self {
        ChannelMessage::Pull(m)
    }
}

impl From<PushEvent> for ChannelMessage {
    fn from(m: PushEvent) -> Self {
        ChannelMessage::Push(m)
    }
}

impl From<BuildEvent> for ChannelMessage {
    fn from(m: BuildEvent) -> Self {
        ChannelMessage::Build(m)
    }
}

impl From<ComposeEvent> for ChannelMessage {
    fn from(m: ComposeEvent) -> Self {
        ChannelMessage::Compose(m)
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
    /// The cookie that carries the token after the first load: `berth-token-PORT`, so that
    /// servers on other ports of the same host (which share cookies) keep theirs.
    cookie: Arc<str>,
    authority: Authority,
    hub: broadcast::Sender<StreamMessage>,
    assets: Arc<Assets>,
    /// Calls the page named with a key, run once per key (`resend`).
    resends: Arc<Resends>,
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub token: String,
    /// The fingerprint of its certificate when it speaks TLS.
    pub fingerprint: Option<String>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    watch: tauri::async_runtime::JoinHandle<()>,
}

impl Server {
    /// The address to open, token included.
    pub fn url(&self) -> String {
        let scheme = if self.fingerprint.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/?token={}", self.addr, self.token)
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

/// Binds `addr` (loopback: plain HTTP is for this machine only), forwards the engine's events
/// to the stream, and serves in the background.
pub async fn start(backend: Arc<Backend>, addr: SocketAddr, assets: Assets) -> std::io::Result<Server> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{addr} is beyond loopback: serving it needs TLS"),
        ));
    }
    start_with(backend, addr, assets, None).await
}

/// As [`start`], over TLS with `identity`, on any address.
pub async fn start_tls(
    backend: Arc<Backend>,
    addr: SocketAddr,
    assets: Assets,
    identity: &Identity,
) -> std::io::Result<Server> {
    start_with(backend, addr, assets, Some(identity)).await
}

async fn start_with(
    backend: Arc<Backend>,
    addr: SocketAddr,
    assets: Assets,
    identity: Option<&Identity>,
) -> std::io::Result<Server> {
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
    let state = AppState {
        backend,
        token: Arc::from(token.as_str()),
        cookie: Arc::from(cookie_name(addr.port()).as_str()),
        authority: Authority { addr, tls: identity.is_some() },
        hub,
        assets: Arc::new(assets),
        resends: Arc::default(),
    };
    let app = router(state);
    let task = match identity {
        Some(identity) => {
            let listener = TlsListener::new(listener, identity)?;
            tokio::spawn(async move { axum::serve(listener, app).await })
        }
        None => tokio::spawn(async move { axum::serve(listener, app).await }),
    };
    let fingerprint = identity.map(|i| i.fingerprint.clone());
    Ok(Server { addr, token, fingerprint, task, watch })
}

/// `--serve`: opens the engine, serves (over TLS beyond loopback, or when `tls`), prints where
/// (and the certificate's fingerprint), and runs until stopped.
pub async fn run(addr: &str, tls: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let addr = parse_addr(addr).map_err(anyhow::Error::msg)?;
    let identity = if tls || !addr.ip().is_loopback() {
        Some(crate::tls::load_or_make(&crate::tls::default_dir(), addr.ip())?)
    } else {
        None
    };
    let backend = Arc::new(Backend::open_default()?);
    let server = match &identity {
        Some(identity) => start_tls(backend, addr, Assets::from_env(), identity).await,
        None => start(backend, addr, Assets::from_env()).await,
    }
    .map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))?;
    if !server.addr.ip().is_loopback() {
        eprintln!(
            "berth-desktop: serving on {}, beyond this machine: whoever has the address and the token controls its containers",
            server.addr
        );
    }
    let mut out = std::io::stdout().lock();
    if let Some(f) = &server.fingerprint {
        writeln!(
            out,
            "TLS certificate (self-signed, {}) SHA-256 fingerprint: {f}",
            crate::tls::default_dir().join("cert.pem").display()
        )?;
    }
    writeln!(out, "Berth is serving on {}", server.url())?;
    out.flush()?;
    drop(out);
    tokio::select! {
        r = server.wait() => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// The largest arguments a command takes: a Files tab upload (16 MiB, `files::UPLOAD_CAP`) in
/// base64, with room for its JSON (axum's default is 2 MB).
const INVOKE_BODY_LIMIT: usize = 24 * 1024 * 1024;

fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/invoke/{command}", post(invoke).layer(axum::extract::DefaultBodyLimit::max(INVOKE_BODY_LIMIT)))
        .route("/api/stream", get(stream))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .merge(api)
        .fallback(get(static_file))
        .layer(middleware::from_fn_with_state(state.clone(), require_own_address))
        .with_state(state)
}

/// The name of the token's cookie for a server on `port`.
pub fn cookie_name(port: u16) -> String {
    format!("berth-token-{port}")
}

/// Every request: its `Host` must be this server's address and its `Origin`, if any, this
/// server's page (`authority`); else 403 saying where to go.
async fn require_own_address(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
    let host = host.or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    let origin = req.headers().get(header::ORIGIN).map(|o| o.to_str().unwrap_or("(not text)").to_owned());
    let checked = s
        .authority
        .check_host(host.as_deref())
        .and_then(|()| s.authority.check_origin(origin.as_deref(), host.as_deref().unwrap_or_default()));
    match checked {
        Ok(()) => next.run(req).await,
        Err(message) => error_response(ApiError::new("forbidden", message)),
    }
}

/// Whether a request carries the token: `Authorization: Bearer TOKEN`, the cookie `cookie`
/// (set at the page's first load), or `?token=TOKEN` (how a page served elsewhere, such as
/// the Vite dev server's, opens the event stream).
pub fn authorized(token: &str, cookie: &str, headers: &HeaderMap, query: Option<&str>) -> bool {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(name, _)| *name == cookie)
        .map(|(_, value)| value);
    let from_query = query_token(query);
    [from_header, from_query]
        .into_iter()
        .flatten()
        .chain(from_cookie)
        .any(|given| same(given.as_bytes(), token.as_bytes()))
}

fn query_token(query: Option<&str>) -> Option<&str> {
    query.and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")))
}

/// Compares in time independent of where the strings differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if authorized(&s.token, &s.cookie, req.headers(), req.uri().query()) {
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
        "forbidden" => StatusCode::FORBIDDEN,
        "unsupported" => StatusCode::NOT_IMPLEMENTED,
        "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_response(e: ApiError) -> Response {
    (status_of(&e.code), axum::Json(e)).into_response()
}

async fn invoke(
    State(s): State<AppState>,
    UrlPath(command): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(json!({}))
    } else {
        serde_json::from_slice::<Value>(&body)
            .map_err(|e| ApiError::invalid(format!("the arguments of {command} are not JSON: {e}")))
    };
    match args {
        Ok(args) => {
            let key = headers.get("idempotency-key").and_then(|k| k.to_str().ok()).filter(|k| !k.is_empty());
            let answer = match key {
                // A resend of a call gets the first one's answer (`resend`).
                Some(key) => {
                    let (state, name) = (s.clone(), command.clone());
                    s.resends.answer(&command, key, move || async move { dispatch(&state, &name, args).await }).await
                }
                None => dispatch(&s, &command, args).await,
            };
            match answer {
                Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
                Err(e) => error_response(e),
            }
        }
        Err(e) => error_response(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushArgs {
    #[serde(flatten)]
    args: c::PushArgs,
    /// The channel id the client chose; its progress travels on the stream under it.
    on_progress: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BuildArgs {
    #[serde(flatten)]
    args: c::BuildArgs,
    /// The channel id the client chose; the build's progress travels on the stream under it.
    on_progress: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ComposeArgs {
    #[serde(flatten)]
    args: c::ComposeArgs,
    /// The channel id the client chose; the provider's output travels on the stream under it.
    on_progress: String,
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
        "disk_usage" => answer(c::disk_usage(b).await),
        "host_stats" => answer(c::host_stats(b).await),
        "list_containers" => answer(c::list_containers(b).await),
        "container_rows" => answer(c::container_rows(b, args(command, v)?).await),
        "container_stats" => answer(c::container_stats(b).await),
        "start_container" => answer(c::start_container(b, args(command, v)?).await),
        "stop_container" => answer(c::stop_container(b, args(command, v)?).await),
        "restart_container" => answer(c::restart_container(b, args(command, v)?).await),
        "remove_container" => answer(c::remove_container(b, args(command, v)?).await),
        "inspect_container" => answer(c::inspect_container(b, args(command, v)?).await),
        "run_command" => answer(c::run_command(b, args(command, v)?).await),
        "container_health" => answer(c::container_health(b, args(command, v)?).await),
        "run_healthcheck" => answer(c::run_healthcheck(b, args(command, v)?).await),
        "export_container" => answer(c::export_container(b, args(command, v)?).await),
        "container_logs" => answer(c::container_logs(b, args(command, v)?).await),
        "list_images" => answer(c::list_images(b).await),
        "image_details" => answer(c::image_details(b, args(command, v)?).await),
        "inspect_image" => answer(c::inspect_image(b, args(command, v)?).await),
        "image_history" => answer(c::image_history(b, args(command, v)?).await),
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
        "cancel_pull" => answer(c::cancel_pull(b, args(command, v)?).await),
        "push_image" => {
            let a: PushArgs = args(command, v)?;
            let hub = s.hub.clone();
            let channel = a.on_progress;
            answer(
                c::push_image(b, a.args, move |message: PushEvent| {
                    let _ = hub.send(StreamMessage::Channel { channel: channel.clone(), message: message.into() });
                })
                .await,
            )
        }
        "build_image" => {
            let a: BuildArgs = args(command, v)?;
            let hub = s.hub.clone();
            let channel = a.on_progress;
            answer(
                c::build_image(b, a.args, move |message: BuildEvent| {
                    let _ = hub.send(StreamMessage::Channel { channel: channel.clone(), message: message.into() });
                })
                .await,
            )
        }
        "cancel_build" => answer(c::cancel_build(b, args(command, v)?).await),
        "kube_images" => answer(c::kube_images(b, args(command, v)?).await),
        "play_kube" => answer(c::play_kube(b, args(command, v)?).await),
        "kube_down" => answer(c::kube_down(b, args(command, v)?).await),
        "run_compose" => {
            let a: ComposeArgs = args(command, v)?;
            let hub = s.hub.clone();
            let channel = a.on_progress;
            answer(
                c::run_compose(b, a.args, move |message: ComposeEvent| {
                    let _ = hub.send(StreamMessage::Channel { channel: channel.clone(), message: message.into() });
                })
                .await,
            )
        }
        "cancel_compose" => answer(c::cancel_compose(args(command, v)?).await),
        "save_image" => answer(c::save_image(b, args(command, v)?).await),
        "load_image" => answer(c::load_image(b, args(command, v)?).await),
        "import_image" => answer(c::import_image(b, args(command, v)?).await),
        "remove_image" => answer(c::remove_image(b, args(command, v)?).await),
        "free_port" => answer(c::free_port(args(command, v)?).await),
        "create_container" => answer(c::create_container(b, args(command, v)?).await),
        "container_create_request" => answer(c::container_create_request(b, args(command, v)?).await),
        "list_files" => answer(c::list_files(b, args(command, v)?).await),
        "read_file" => answer(c::read_file(b, args(command, v)?).await),
        "download_files" => answer(c::download_files(b, args(command, v)?).await),
        "upload_file" => answer(c::upload_file(b, args(command, v)?).await),
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
        "list_networks" => answer(c::list_networks(b).await),
        "network_details" => answer(c::network_details(b, args(command, v)?).await),
        "inspect_network" => answer(c::inspect_network(b, args(command, v)?).await),
        "create_network" => answer(c::create_network(b, args(command, v)?).await),
        "remove_network" => answer(c::remove_network(b, args(command, v)?).await),
        "prune_networks" => answer(c::prune_networks(b).await),
        "list_pods" => answer(c::list_pods(b).await),
        "inspect_pod" => answer(c::inspect_pod(b, args(command, v)?).await),
        "create_pod" => answer(c::create_pod(b, args(command, v)?).await),
        "start_pod" => answer(c::start_pod(b, args(command, v)?).await),
        "stop_pod" => answer(c::stop_pod(b, args(command, v)?).await),
        "restart_pod" => answer(c::restart_pod(b, args(command, v)?).await),
        "remove_pod" => answer(c::remove_pod(b, args(command, v)?).await),
        "prune_pods" => answer(c::prune_pods(b).await),
        "get_settings" => answer(c::get_settings(b).await),
        "set_registry" => answer(c::set_registry(b, args(command, v)?).await),
        "registry_login" => answer(c::registry_login(b, args(command, v)?).await),
        "registry_logout" => answer(c::registry_logout(b, args(command, v)?).await),
        "set_socket" => answer(c::set_socket(b, args(command, v)?).await),
        "report_first_paint" => answer(c::report_first_paint(b, args(command, v)?).await),
        other => Err(ApiError::not_found(format!("unknown command {other:?}"))),
    }
}

async fn stream(State(s): State<AppState>) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = s.hub.subscribe();
    let events = futures_util::stream::unfold((rx, Vec::new()), |(mut rx, mut pending)| async move {
        let m = next_message(&mut rx, &mut pending).await?;
        Some((Ok(m.to_sse()), (rx, pending)))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// The next message for one reader of the hub. A reader too slow for the hub (a flood of log
/// lines ahead of it) misses messages, engine events among them, and nothing may come after
/// to make the UI refetch (a container started by the CLI that then sits quietly): so what it
/// missed is followed by a resync of every kind of list, as after a reconnect.
async fn next_message(
    rx: &mut broadcast::Receiver<StreamMessage>,
    pending: &mut Vec<StreamMessage>,
) -> Option<StreamMessage> {
    if let Some(m) = pending.pop() {
        return Some(m);
    }
    match rx.recv().await {
        Ok(m) => Some(m),
        Err(broadcast::error::RecvError::Lagged(_)) => {
            use crate::dto::EventKind::*;
            pending.extend([Pod, Network, Volume, Image, Container].map(|kind| {
                StreamMessage::Engine(EngineEvent {
                    kind,
                    action: "resync".into(),
                    id: String::new(),
                    name: None,
                    exit_code: None,
                })
            }));
            pending.pop()
        }
        Err(broadcast::error::RecvError::Closed) => None,
    }
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Berth</title>\
<p>Berth's UI was not built into this binary: run <code>npm ci &amp;&amp; npm run build</code> in \
<code>ui/</code> and build berth-desktop again, or point <code>BERTH_UI_DIR</code> at a built \
<code>ui/dist</code>. The API at <code>/api</code> works without it.</p>\n";

/// The first load, `/?token=TOKEN`: the token goes into an HttpOnly, SameSite=Strict cookie
/// and the browser to the same address without it, so the token stays out of the history,
/// of the page's scripts and of Referer headers; a wrong token is refused.
fn token_to_cookie(s: &AppState, uri: &Uri) -> Option<Response> {
    let given = query_token(uri.query())?;
    if !same(given.as_bytes(), s.token.as_bytes()) {
        return Some(error_response(ApiError::new(
            "unauthorized",
            "unauthorized: that token is not this server's: open the address that `berth-desktop --serve` printed",
        )));
    }
    let rest: Vec<&str> = uri.query().unwrap_or("").split('&').filter(|kv| !kv.starts_with("token=")).collect();
    let location = match rest.join("&") {
        q if q.is_empty() => uri.path().to_string(),
        q => format!("{}?{q}", uri.path()),
    };
    let secure = if s.authority.tls { "; Secure" } else { "" };
    let cookie = format!("{}={}; HttpOnly; SameSite=Strict; Path=/{secure}", s.cookie, s.token);
    let mut resp = StatusCode::SEE_OTHER.into_response();
    let h = resp.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_str(&location).ok()?);
    h.insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).ok()?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Some(resp)
}

async fn static_file(State(s): State<AppState>, uri: Uri) -> Response {
    if let Some(redirect) = token_to_cookie(&s, &uri) {
        return redirect;
    }
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

    #[tokio::test]
    async fn a_reader_that_fell_behind_is_told_to_refetch_everything() {
        let (hub, mut rx) = broadcast::channel(2);
        let event = |id: &str| {
            StreamMessage::Engine(EngineEvent {
                kind: crate::dto::EventKind::Container,
                action: "start".into(),
                id: id.into(),
                name: None,
                exit_code: None,
            })
        };
        for id in ["a", "b", "c", "d"] {
            hub.send(event(id)).unwrap();
        }
        let mut pending = Vec::new();
        let mut resyncs = Vec::new();
        for _ in 0..5 {
            match next_message(&mut rx, &mut pending).await {
                Some(StreamMessage::Engine(e)) if e.action == "resync" => resyncs.push(e.kind),
                other => panic!("a resync, got {:?}", other.map(|m| m.to_sse())),
            }
        }
        use crate::dto::EventKind::*;
        assert_eq!(resyncs, [Container, Image, Volume, Network, Pod]);
        // then what it still holds, in order
        for want in ["c", "d"] {
            match next_message(&mut rx, &mut pending).await {
                Some(StreamMessage::Engine(e)) => assert_eq!(e.id, want),
                other => panic!("{want}, got {:?}", other.map(|m| m.to_sse())),
            }
        }
    }

    #[test]
    fn the_token_is_checked_in_the_header_the_cookie_or_the_query() {
        let token = "0123456789abcdef0123456789abcdef";
        let authorized = |h: &HeaderMap, q| authorized(token, "berth-token-8080", h, q);
        let mut h = HeaderMap::new();
        let cookie = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_static(v));
            h
        };
        assert!(authorized(&cookie("a=1; berth-token-8080=0123456789abcdef0123456789abcdef"), None));
        assert!(!authorized(&cookie("berth-token-8081=0123456789abcdef0123456789abcdef"), None), "another port's");
        assert!(!authorized(&cookie("berth-token-8080=0123456789abcdef"), None));
        assert!(!authorized(&cookie("xberth-token-8080=0123456789abcdef0123456789abcdef"), None));
        assert!(!authorized(&h, None));
        assert!(!authorized(&h, Some("token=wrong")));
        assert!(!authorized(&h, Some("token=0123456789abcdef0123456789abcdeX")));
        assert!(!authorized(&h, Some("token=0123456789abcdef")), "a prefix is not the token");
        assert!(!authorized(&h, Some("xtoken=0123456789abcdef0123456789abcdef")));
        assert!(authorized(&h, Some("a=1&token=0123456789abcdef0123456789abcdef")));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer nope"));
        assert!(!authorized(&h, None));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic 0123456789abcdef0123456789abcdef"));
        assert!(!authorized(&h, None));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer 0123456789abcdef0123456789abcdef"));
        assert!(authorized(&h, None));
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
            ("forbidden", 403),
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
