//! `/images/…`: pull with Docker's JSON progress stream, list, inspect, tag, remove.

use berth_engine::{LayerPhase, PullProgress};
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::{channel_body, empty, json_reply, ok_json, ApiError, Ctx, Reply, Req};

/// Names as Docker prints them: Docker Hub's without `docker.io/` (and `library/`).
pub fn docker_name(name: &str) -> String {
    let n = name.strip_prefix("docker.io/").unwrap_or(name);
    n.strip_prefix("library/").unwrap_or(n).to_string()
}

fn short(digest: &str) -> String {
    let hex = digest.rsplit(':').next().unwrap_or(digest);
    hex[..12.min(hex.len())].to_string()
}

fn human(n: u64) -> String {
    crate::format::human_size(n)
}

/// Docker's progress bar: `[=====>        ]  1.2MB/3.4MB`.
fn bar(current: u64, total: u64) -> String {
    if total == 0 {
        return String::new();
    }
    let width = 50;
    let filled = ((current.min(total) as f64 / total as f64) * width as f64) as usize;
    let mut b = "=".repeat(filled.saturating_sub(1));
    if filled > 0 {
        b.push('>');
    }
    format!("[{b:<width$}] {:>8}/{}", human(current), human(total))
}

fn progress_json(p: &PullProgress, repo: &str, tag: &str) -> Vec<Value> {
    match p {
        PullProgress::Resolved { layers, .. } => {
            let mut v = vec![json!({"status": format!("Pulling from {}", docker_name(repo)), "id": tag})];
            v.extend(
                layers.iter().map(|(d, _)| json!({"status": "Pulling fs layer", "progressDetail": {}, "id": short(d)})),
            );
            v
        }
        PullProgress::Layer { digest, phase, current, total, .. } => {
            let id = short(digest);
            vec![match phase {
                LayerPhase::Waiting => json!({"status": "Waiting", "progressDetail": {}, "id": id}),
                LayerPhase::Downloading => {
                    json!({"status": "Downloading", "progressDetail": {"current": current, "total": total}, "progress": bar(*current, *total), "id": id})
                }
                LayerPhase::Verifying => json!({"status": "Verifying Checksum", "progressDetail": {}, "id": id}),
                LayerPhase::Extracting => {
                    json!({"status": "Extracting", "progressDetail": {"current": current, "total": total}, "progress": bar(*current, *total), "id": id})
                }
                LayerPhase::Done => json!({"status": "Pull complete", "progressDetail": {}, "id": id}),
                LayerPhase::AlreadyExists => json!({"status": "Already exists", "progressDetail": {}, "id": id}),
            }]
        }
        PullProgress::Done { .. } => Vec::new(),
    }
}

/// `POST /images/create?fromImage=NAME&tag=TAG`: pulls, streaming Docker's progress messages.
pub async fn pull(ctx: &Ctx, r: &Req) -> Reply {
    let from = r
        .q("fromImage")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("fromImage is required: only pulls are supported"))?;
    let tag = r.q("tag").filter(|s| !s.is_empty());
    let reference = match tag {
        Some(t) if t.starts_with("sha256:") => format!("{from}@{t}"),
        Some(t) => format!("{from}:{t}"),
        None if from.contains('@') || from.rsplit('/').next().is_some_and(|l| l.contains(':')) => from.to_string(),
        None => format!("{from}:latest"),
    };
    let platform = match r.q("platform").filter(|p| !p.is_empty()) {
        Some(p) => Some(berth_engine::Platform::parse(p).map_err(|e| ApiError::bad(e.to_string()))?),
        None => None,
    };
    let engine = ctx.engine.clone();
    let (out, response) = JsonLines::open();
    let display_tag = tag.unwrap_or("latest").to_string();
    let repo = from.to_string();
    tokio::spawn(async move {
        let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
        let opts = berth_engine::PullOptions { platform, progress: Some(ptx), cancel: None };
        let pull = engine.pull(&reference, opts);
        match out.follow(pull, prx, |p| progress_json(p, &repo, &display_tag)).await {
            Ok(img) => {
                out.send(json!({"status": format!("Digest: {}", img.manifest_digest)})).await;
                out.send(json!({"status": format!("Status: Downloaded newer image for {}", docker_name(&reference))}))
                    .await;
            }
            Err(e) => out.error(e.to_string()).await,
        }
    });
    Ok(response)
}

/// Docker's progress stream: JSON messages, one a line, sent as they come.
pub(super) struct JsonLines(tokio::sync::mpsc::Sender<Bytes>);

impl JsonLines {
    /// The sender, and the response that streams what it sends.
    pub(super) fn open() -> (JsonLines, Response<super::Body>) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
        let response = Response::builder()
            .status(StatusCode::OK)
            .header("Content-Type", "application/json")
            .body(channel_body(rx))
            .expect("a valid response");
        (JsonLines(tx), response)
    }

    pub(super) async fn send(&self, v: Value) {
        let mut line = serde_json::to_vec(&v).expect("serialises");
        line.extend_from_slice(b"\r\n");
        let _ = self.0.send(Bytes::from(line)).await;
    }

    pub(super) async fn error(&self, message: String) {
        self.send(json!({"errorDetail": {"message": message}, "error": message})).await
    }

    /// The client hung up.
    pub(super) fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Awaits `work`, sending the messages `to_json` makes of each progress report it sends on
    /// `progress` (the ones left when it ends too).
    async fn follow<T, P>(
        &self,
        work: impl std::future::Future<Output = T>,
        mut progress: tokio::sync::mpsc::UnboundedReceiver<P>,
        to_json: impl Fn(&P) -> Vec<Value>,
    ) -> T {
        tokio::pin!(work);
        let result = loop {
            tokio::select! {
                p = progress.recv() => if let Some(p) = p {
                    for v in to_json(&p) { self.send(v).await; }
                },
                res = &mut work => break res,
            }
        };
        while let Ok(p) = progress.try_recv() {
            for v in to_json(&p) {
                self.send(v).await;
            }
        }
        result
    }
}

fn repo_tags(img: &berth_engine::ImageRecord) -> Vec<String> {
    img.names.iter().map(|n| docker_name(n)).collect()
}

pub async fn list(ctx: &Ctx, r: &Req) -> Reply {
    let (images, intermediate) = ctx.blocking(|e| Ok((e.images()?, e.intermediate_images()?))).await?;
    let all = r.flag("all");
    let list: Vec<Value> = images
        .iter()
        .filter(|i| all || !intermediate.contains(&i.id))
        .filter(|i| all || !i.names.is_empty() || !i.containers.is_empty() || i.is_dangling())
        .map(|i| {
            let tags = repo_tags(i);
            json!({
                "Id": format!("sha256:{}", i.id),
                "ParentId": "",
                "RepoTags": if tags.is_empty() { vec!["<none>:<none>".to_string()] } else { tags },
                "RepoDigests": i.repo_digests.iter().map(|d| docker_name(d)).collect::<Vec<_>>(),
                "Created": i.created.map_or(0, |t| t.timestamp()),
                "Size": i.size,
                "SharedSize": -1,
                "VirtualSize": i.size,
                "Labels": i.config().and_then(|c| c.config().as_ref().and_then(|c| c.labels().clone())).unwrap_or_default(),
                "Containers": i.containers.len(),
            })
        })
        .collect();
    ok_json(Value::Array(list))
}

pub async fn inspect(ctx: &Ctx, name: &str) -> Reply {
    let name = name.to_string();
    let img = ctx.blocking(move |e| e.image(&name)).await?;
    let config: Value = serde_json::from_str(&img.config_json).unwrap_or(json!({}));
    ok_json(json!({
        "Id": format!("sha256:{}", img.id),
        "RepoTags": repo_tags(&img),
        "RepoDigests": img.repo_digests.iter().map(|d| docker_name(d)).collect::<Vec<_>>(),
        "Parent": "",
        "Comment": "",
        "Created": img.created.map(|t| t.to_rfc3339()).unwrap_or_default(),
        "Container": "",
        "DockerVersion": "",
        "Author": config.get("author").cloned().unwrap_or(json!("")),
        "Config": config.get("config").cloned().unwrap_or(json!({})),
        "Architecture": img.architecture,
        "Variant": img.variant,
        "Os": img.os,
        "Size": img.size,
        "VirtualSize": img.size,
        "GraphDriver": {"Name": "overlay", "Data": {}},
        "RootFS": {"Type": "layers", "Layers": img.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }))
}

pub async fn tag(ctx: &Ctx, name: &str, r: &Req) -> Reply {
    let repo = r.q("repo").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad("repo is required"))?.to_string();
    let target = format!("{repo}:{}", r.q("tag").filter(|t| !t.is_empty()).unwrap_or("latest"));
    let name = name.to_string();
    ctx.blocking(move |e| e.tag(&name, &target)).await?;
    empty(StatusCode::CREATED)
}

/// `POST /commit?container=…&repo=…&tag=…`: `docker commit`. The body's config may set Cmd,
/// Entrypoint, Env, WorkingDir, User, Labels and ExposedPorts over the container's (the same as
/// `changes`); Docker pauses a running container unless `pause=0`.
pub async fn commit(ctx: &Ctx, r: &Req) -> Reply {
    let container = r.q("container").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad("container is required"))?;
    let image = match (r.q("repo").filter(|s| !s.is_empty()), r.q("tag").filter(|s| !s.is_empty())) {
        (Some(repo), Some(tag)) => Some(format!("{repo}:{tag}")),
        (Some(repo), None) => Some(repo.to_string()),
        (None, _) => None,
    };
    let mut changes = r.q_all("changes").into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>();
    let body = r.json()?;
    let json_change = |key: &str, instr: &str, changes: &mut Vec<String>| {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            changes.push(format!("{instr} {v}"));
        }
    };
    json_change("Cmd", "CMD", &mut changes);
    json_change("Entrypoint", "ENTRYPOINT", &mut changes);
    if let Some(env) = body.get("Env").and_then(Value::as_array) {
        for kv in env.iter().filter_map(Value::as_str) {
            changes.push(format!("ENV {kv}"));
        }
    }
    for (key, instr) in [("WorkingDir", "WORKDIR"), ("User", "USER")] {
        if let Some(v) = body.get(key).and_then(Value::as_str).filter(|v| !v.is_empty()) {
            changes.push(format!("{instr} {v}"));
        }
    }
    if let Some(labels) = body.get("Labels").and_then(Value::as_object) {
        for (k, v) in labels {
            changes.push(format!("LABEL {k}={}", Value::String(v.as_str().unwrap_or_default().to_string())));
        }
    }
    if let Some(ports) = body.get("ExposedPorts").and_then(Value::as_object) {
        for p in ports.keys() {
            changes.push(format!("EXPOSE {p}"));
        }
    }
    let opts = berth_engine::CommitOptions {
        image,
        changes,
        message: r.q("comment").filter(|s| !s.is_empty()).map(str::to_string),
        author: r.q("author").filter(|s| !s.is_empty()).map(str::to_string),
        pause: !matches!(r.q("pause"), Some("0" | "false")),
        format: berth_engine::ImageFormat::Docker,
    };
    let container = container.to_string();
    let img = ctx.blocking(move |e| e.commit(&container, &opts, &mut |_| {})).await?;
    json_reply(StatusCode::CREATED, &json!({"Id": format!("sha256:{}", img.id)}))
}

pub async fn remove(ctx: &Ctx, name: &str, r: &Req) -> Reply {
    let force = r.flag("force");
    let q = name.to_string();
    let report = ctx.blocking(move |e| e.remove_image(&q, force)).await?;
    let mut out = Vec::new();
    for i in report.images {
        out.extend(i.untagged.iter().map(|u| json!({"Untagged": docker_name(u)})));
        if let Some(d) = i.deleted {
            out.push(json!({"Deleted": format!("sha256:{d}")}));
        }
    }
    ok_json(Value::Array(out))
}

/// `GET /images/get?names=…` and `/images/{name}/get`: `docker save`, a docker-archive streamed
/// as it is written.
pub async fn save(ctx: &Ctx, names: Vec<String>) -> Reply {
    if names.is_empty() {
        return Err(ApiError::bad("names is required: the images to save"));
    }
    // every image looked up first, so a missing one is a 404 rather than a broken stream
    let wanted = names.clone();
    ctx.blocking(move |e| wanted.iter().try_for_each(|n| e.image(n).map(drop))).await?;
    let engine = ctx.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, super::ChannelWriter { tx });
        let opts = berth_engine::SaveOptions {
            format: berth_engine::layout::Format::DockerArchive,
            compress: false,
            uncompressed: false,
        };
        // a failure midway ends the stream early: the client's tar reader reports it
        if let Err(e) = engine.save(&names, berth_engine::SaveTarget::Writer(&mut out), &opts, &mut |_| {}) {
            log::warn!("saving {}: {e}", names.join(", "));
            return;
        }
        let _ = std::io::Write::flush(&mut out);
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/x-tar")
        .body(channel_body(rx))
        .expect("a valid response"))
}

/// A request body written to a file of the store's ingest directory (removed when dropped).
pub struct Spooled {
    pub(super) path: std::path::PathBuf,
}

impl Spooled {
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// An archive body (`docker load`'s, `docker import`'s, `docker cp`'s upload) into a file, each
/// chunk within [`super::BODY_TIMEOUT`] of the last.
pub async fn spool_body(ctx: &Ctx, mut body: hyper::body::Incoming) -> Result<Spooled, ApiError> {
    use http_body_util::BodyExt;
    use std::io::Write;
    let (path, file) = ctx
        .engine
        .content()
        .temp_file()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let spooled = Spooled { path };
    let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
    loop {
        let frame = match tokio::time::timeout(super::BODY_TIMEOUT, body.frame()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!("no part of the archive received for {} s", super::BODY_TIMEOUT.as_secs()),
                ))
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ApiError::bad(format!("reading the archive: {e}"))),
            Ok(Some(Ok(f))) => f,
        };
        if let Ok(data) = frame.into_data() {
            file.write_all(&data)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("spooling the archive: {e}")))?;
        }
    }
    file.flush().map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("spooling the archive: {e}")))?;
    Ok(spooled)
}

/// `POST /images/load`: `docker load`; `{"stream": "Loaded image: …"}` per name (with or
/// without `quiet`: there is no progress to leave out).
pub async fn load(ctx: &Ctx, _r: &Req, spooled: Spooled) -> Reply {
    let path = spooled.path.clone();
    let loaded = ctx
        .blocking(move |e| {
            let _keep = spooled;
            let mut f =
                std::fs::File::open(&path).map_err(|source| berth_engine::Error::Io { path: path.clone(), source })?;
            e.load(berth_engine::LoadInput::Reader(&mut f), &mut |_| {})
        })
        .await?;
    let mut out = Vec::new();
    for l in &loaded {
        let line = if l.names.is_empty() {
            format!("Loaded image ID: {}\n", l.image.digest())
        } else {
            l.names.iter().map(|n| format!("Loaded image: {}\n", docker_name(n))).collect()
        };
        out.extend(serde_json::to_vec(&json!({"stream": line})).expect("json"));
        out.extend_from_slice(b"\r\n");
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(super::full(out))
        .expect("a valid response"))
}

/// `X-Registry-Auth`: base64url JSON with `username` and `password` (Docker's clients send `{}`
/// when they have none; then the auth files decide). A token login is refused by name.
fn registry_credentials(header: Option<&str>) -> Result<Option<berth_engine::Credentials>, ApiError> {
    use base64::Engine as _;
    let Some(h) = header else { return Ok(None) };
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let bytes = engines
        .iter()
        .find_map(|e| e.decode(h.trim()).ok())
        .ok_or_else(|| ApiError::bad("X-Registry-Auth is not base64-encoded JSON"))?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::bad(format!("X-Registry-Auth is not JSON: {e}")))?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    match (field("username"), field("password")) {
        (Some(username), Some(password)) => Ok(Some(berth_engine::Credentials { username, password })),
        _ if field("identitytoken").is_some() || field("registrytoken").is_some() => Err(ApiError::bad(
            "X-Registry-Auth carries a token: Berth pushes with a username and password (log in with them)",
        )),
        _ => Ok(None),
    }
}

fn push_json(p: &berth_engine::PushProgress) -> Vec<Value> {
    use berth_engine::{BlobPhase, PushProgress};
    match p {
        PushProgress::Started { layers } => {
            layers.iter().map(|(d, _)| json!({"status": "Preparing", "progressDetail": {}, "id": short(d)})).collect()
        }
        PushProgress::Layer { digest, phase, current, total } => {
            let id = short(digest);
            vec![match phase {
                BlobPhase::Uploading => {
                    json!({"status": "Pushing", "progressDetail": {"current": current, "total": total}, "progress": bar(*current, *total), "id": id})
                }
                BlobPhase::Done => json!({"status": "Pushed", "progressDetail": {}, "id": id}),
                BlobPhase::Exists => json!({"status": "Layer already exists", "progressDetail": {}, "id": id}),
                BlobPhase::Mounted { from } => {
                    json!({"status": format!("Mounted from {}", docker_name(from)), "progressDetail": {}, "id": id})
                }
            }]
        }
        PushProgress::Config { .. } | PushProgress::Manifest { .. } => Vec::new(),
    }
}

/// `POST /images/{name}/push?tag=TAG`: pushes `name:TAG` (every tag of `name` without one) to
/// its registry, streaming Docker's progress messages; credentials from `X-Registry-Auth`.
pub async fn push(ctx: &Ctx, name: &str, r: &Req) -> Reply {
    let credentials = registry_credentials(r.registry_auth.as_deref())?;
    let repo = berth_engine::Reference::parse(name).map_err(|e| ApiError::bad(e.to_string()))?;
    let targets: Vec<String> = match r.q("tag").filter(|t| !t.is_empty()) {
        Some(tag) => {
            let target = format!("{name}:{tag}");
            let q = target.clone();
            ctx.blocking(move |e| e.image(&q)).await?;
            vec![target]
        }
        None => {
            let images = ctx.blocking(|e| e.images()).await?;
            let mut tags: Vec<String> = images
                .iter()
                .flat_map(|i| i.names.iter())
                .filter_map(|n| berth_engine::Reference::parse(n).ok())
                .filter(|n| n.name() == repo.name())
                .filter_map(|n| n.tag().map(|t| format!("{name}:{t}")))
                .collect();
            tags.sort();
            tags.dedup();
            if tags.is_empty() {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("An image does not exist locally with the tag: {name}"),
                ));
            }
            tags
        }
    };
    let engine = ctx.engine.clone();
    let (out, response) = JsonLines::open();
    let repo_name = repo.name();
    tokio::spawn(async move {
        out.send(json!({"status": format!("The push refers to repository [{}]", docker_name(&repo_name))})).await;
        for target in targets {
            let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
            let opts = berth_engine::PushOptions {
                credentials: credentials.clone(),
                progress: Some(ptx),
                ..Default::default()
            };
            let push = engine.push(&target, Some(&target), opts);
            match out.follow(push, prx, push_json).await {
                Ok(pushed) => {
                    let tag = pushed.tag.clone().unwrap_or_else(|| "latest".into());
                    let size = engine.content().read(&pushed.manifest_digest).map(|m| m.len()).unwrap_or_default();
                    out.send(json!({"status": format!("{tag}: digest: {} size: {size}", pushed.manifest_digest)}))
                        .await;
                    out.send(
                        json!({"progressDetail": {}, "aux": {"Tag": tag, "Digest": pushed.manifest_digest, "Size": size}}),
                    )
                    .await;
                }
                Err(e) => {
                    out.error(e.to_string()).await;
                    return;
                }
            }
        }
    });
    Ok(response)
}

/// `POST /images/create?fromSrc=-|URL`: `docker import`, the tarball on the body (spooled) or
/// at an http(s) URL; `repo`, `tag`, `message` and `changes` as Docker takes them. Answers
/// Docker's one status line with the new image's id.
pub async fn import(ctx: &Ctx, r: &Req, spooled: Option<Spooled>) -> Reply {
    let source = r.q("fromSrc").unwrap_or("-").to_string();
    let reference = match (r.q("repo").filter(|s| !s.is_empty()), r.q("tag").filter(|s| !s.is_empty())) {
        (Some(repo), Some(tag)) => Some(format!("{repo}:{tag}")),
        (Some(repo), None) => Some(repo.to_string()),
        (None, _) => None,
    };
    let opts = berth_engine::ImportOptions {
        changes: r.q_all("changes"),
        message: r.q("message").filter(|s| !s.is_empty()).map(str::to_string),
        reference,
        os: None,
        arch: None,
        variant: None,
    };
    let image = ctx
        .blocking(move |e| -> berth_engine::Result<berth_engine::ImageRecord> {
            let mut steps = |_| {};
            match spooled {
                Some(spooled) => {
                    let mut f = std::fs::File::open(&spooled.path)
                        .map_err(|source| berth_engine::Error::Io { path: spooled.path.clone(), source })?;
                    e.import(&mut f, "-", &opts, &mut steps)
                }
                None => {
                    if !crate::archive::is_url(std::path::Path::new(&source)) {
                        return Err(berth_engine::Error::Invalid(format!(
                            "fromSrc {source}: give - (the tarball on the body) or an http(s) URL"
                        )));
                    }
                    let (path, file) = e
                        .content()
                        .temp_file()
                        .map_err(|source| berth_engine::Error::Io { path: "ingest".into(), source })?;
                    let _gone = crate::archive::RemoveOnDrop(path.clone());
                    crate::archive::download(&source, file)
                        .map_err(|err| berth_engine::Error::Invalid(err.to_string()))?;
                    let mut f =
                        std::fs::File::open(&path).map_err(|source| berth_engine::Error::Io { path, source })?;
                    e.import(&mut f, &source, &opts, &mut steps)
                }
            }
        })
        .await?;
    let mut line = serde_json::to_vec(&json!({"status": image.digest()})).expect("json");
    line.extend_from_slice(b"\r\n");
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(super::full(line))
        .expect("a valid response"))
}
