//! `POST /build`: `docker build` and compose's builds (the classic builder's API). The context
//! comes as a tar on the body, spooled to a file, unpacked into a scratch directory of the store
//! and built by the engine; the progress goes back as Docker's JSON stream (`stream` lines,
//! `aux` with the image id, `error`). A client that hangs up cancels the build.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use berth_engine::{BuildEvent, BuildOptions, ImageFormat, PullPolicy};
use serde_json::{json, Value};

use super::images::{docker_name, JsonLines, Spooled};
use super::{ApiError, Ctx, Reply, Req};

/// A JSON object of strings in a query parameter (`buildargs`, `labels`); null values are
/// left out, as Docker's builder leaves an ARG without a value.
fn string_map(r: &Req, key: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(raw) = r.q(key).filter(|s| !s.is_empty()) else { return Ok(BTreeMap::new()) };
    let v: Value = serde_json::from_str(raw).map_err(|e| {
        ApiError::bad(format!("{key}: not a JSON object of strings ({e}): send {{\"KEY\": \"VALUE\"}}"))
    })?;
    let obj =
        v.as_object().ok_or_else(|| ApiError::bad(format!("{key}: not a JSON object: send {{\"KEY\": \"VALUE\"}}")))?;
    Ok(obj.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
}

/// Docker's builder's line for an event (None: it prints none).
fn stream_line(e: &BuildEvent) -> Option<String> {
    Some(match e {
        BuildEvent::Step { step, steps, text, .. } => format!("Step {step}/{steps} : {text}\n"),
        BuildEvent::Output(line) => format!("{line}\n"),
        BuildEvent::CacheHit(_) => " ---> Using cache\n".into(),
        BuildEvent::Done(id) => format!(" ---> {}\n", &id[..12.min(id.len())]),
        BuildEvent::Warning(w) => format!("[Warning] {w}\n"),
        BuildEvent::Commit(_) | BuildEvent::Tagged(_) => return None,
    })
}

pub async fn build(ctx: &Ctx, r: &Req, spooled: Spooled) -> Reply {
    if r.q("remote").is_some_and(|s| !s.is_empty()) {
        return Err(ApiError::bad(
            "remote build contexts (a URL or a git repository) are not supported: send the context as a tar",
        ));
    }
    let dockerfile = r.q("dockerfile").filter(|s| !s.is_empty()).unwrap_or("Dockerfile").to_string();
    let pull = if r.flag("pull") { PullPolicy::Always } else { PullPolicy::Missing };
    let mut opts = BuildOptions {
        context: Default::default(),
        file: None,
        tags: r.q_all("t").into_iter().filter(|t| !t.is_empty()).collect(),
        build_args: string_map(r, "buildargs")?,
        target: r.q("target").filter(|s| !s.is_empty()).map(str::to_string),
        no_cache: r.flag("nocache"),
        pull,
        labels: string_map(r, "labels")?,
        format: ImageFormat::Docker,
        platform: r.q("platform").filter(|s| !s.is_empty()).map(str::to_string),
        network: match r.q("networkmode") {
            None | Some("" | "default" | "bridge") => None,
            Some(other) => Some(other.to_string()),
        },
        ..BuildOptions::default()
    };
    let quiet = r.flag("q");
    let asked = opts.tags.clone();
    let engine = ctx.engine.clone();
    let (out, response) = JsonLines::open();
    tokio::spawn(async move {
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<BuildEvent>();
        let work = {
            let cancel = cancel.clone();
            tokio::task::spawn_blocking(move || -> Result<berth_engine::ImageRecord, String> {
                let scratch = engine.config().root.join("build");
                std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
                let dir = tempfile::Builder::new()
                    .prefix("ctx-")
                    .tempdir_in(&scratch)
                    .map_err(|e| format!("{}: {e}", scratch.display()))?;
                unpack_context(&spooled.path, dir.path())?;
                drop(spooled);
                let file = berth_engine::build::context_file(dir.path(), &dockerfile).map_err(|e| e.to_string())?;
                opts.context = dir.path().to_path_buf();
                opts.file = Some(file);
                let mut send = |e: BuildEvent| {
                    let _ = tx.send(e);
                };
                engine.build(&opts, &mut send, &cancel).map_err(|e| e.to_string())
            })
        };
        tokio::pin!(work);
        let mut tags = Vec::new();
        let result = loop {
            tokio::select! {
                e = rx.recv() => match e {
                    Some(BuildEvent::Tagged(name)) => tags.push(name),
                    Some(e) => {
                        if !quiet {
                            if let Some(line) = stream_line(&e) {
                                out.send(json!({"stream": line})).await;
                            }
                        }
                        if out.is_closed() {
                            cancel.store(true, Ordering::SeqCst);
                        }
                    }
                    None => {}
                },
                res = &mut work => break res,
                _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {
                    if out.is_closed() {
                        cancel.store(true, Ordering::SeqCst);
                    }
                }
            }
        };
        while let Ok(e) = rx.try_recv() {
            match e {
                BuildEvent::Tagged(name) => tags.push(name),
                e if !quiet => {
                    if let Some(line) = stream_line(&e) {
                        out.send(json!({"stream": line})).await;
                    }
                }
                _ => {}
            }
        }
        match result {
            Ok(Ok(img)) => {
                out.send(json!({"aux": {"ID": format!("sha256:{}", img.id)}})).await;
                if quiet {
                    out.send(json!({"stream": format!("sha256:{}\n", img.id)})).await;
                } else {
                    out.send(json!({"stream": format!("Successfully built {}\n", &img.id[..12])})).await;
                    // the names as the client gave them, as Docker's builder prints them
                    for t in asked.iter().take(tags.len()) {
                        out.send(json!({"stream": format!("Successfully tagged {}\n", with_tag(t))})).await;
                    }
                }
            }
            Ok(Err(e)) => out.error(e).await,
            Err(e) => out.error(format!("the build stopped: {e}")).await,
        }
    });
    Ok(response)
}

/// `name` with `:latest` when it has no tag (nor digest).
fn with_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        docker_name(name)
    } else {
        format!("{}:latest", docker_name(name))
    }
}

/// The context tar (plain, gzip or zstd) into `into`.
fn unpack_context(path: &std::path::Path, into: &std::path::Path) -> Result<(), String> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| format!("the build context: {e}"))?;
    let mut input = std::io::BufReader::new(file);
    let magic = input.fill_buf().map_err(|e| format!("the build context: {e}"))?;
    if magic.starts_with(b"BZh") || magic.starts_with(&[0xfd, b'7', b'z', b'X']) {
        return Err("the build context is compressed with bzip2 or xz: send it as a plain or gzip tar".into());
    }
    let reader = berth_engine::layout::Compression::of(magic).decoder(input).map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    archive.unpack(into).map_err(|e| format!("unpacking the build context: {e}"))
}
