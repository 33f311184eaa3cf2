//! `POST /containers/{id}/attach` and `resize`: the hijacked stream relayed to and from the
//! container's monitor, and the terminal size sent through it.

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_engine::container::logs::Stream;
use berth_engine::ContainerStatus;
use bytes::Bytes;
use hyper::{Response, StatusCode};

use super::{mux, record_bytes};
use crate::service::{empty, ApiError, Ctx, Reply, Req};

/// `resize`: the container's terminal size, through its attach session (or a new connection).
pub async fn resize(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (h, w) = (
        r.q("h").and_then(|v| v.parse::<u16>().ok()).unwrap_or(0),
        r.q("w").and_then(|v| v.parse::<u16>().ok()).unwrap_or(0),
    );
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    if !c.options.tty {
        return empty(StatusCode::OK);
    }
    let sent = {
        let writers = ctx.attach_writers.lock().expect("attach writers");
        writers.get(&c.id).map(|writer| {
            let mut s = writer.lock().expect("writer");
            let mut d = h.to_be_bytes().to_vec();
            d.extend_from_slice(&w.to_be_bytes());
            berth_engine::attach::write_frame(&mut *s, berth_engine::attach::RESIZE, &d).is_ok()
        })
    };
    if sent != Some(true) {
        ctx.pending_sizes.lock().expect("sizes").insert(c.id.clone(), (h, w));
    }
    empty(StatusCode::OK)
}

/// The hijacked attach: Docker's raw (terminal) or multiplexed stream, to and from the
/// container's monitor.
pub async fn attach(ctx: &Ctx, id: &str, mut r: Req) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let upgrade =
        r.upgrade.take().ok_or_else(|| ApiError::bad("attach needs an upgraded connection (Connection: Upgrade)"))?;
    let (want_stdin, want_out, want_err) = (
        r.flag("stdin"),
        r.flag("stdout") || !r.query.contains_key("stdout"),
        r.flag("stderr") || !r.query.contains_key("stderr"),
    );
    let tty = c.options.tty;
    let engine = ctx.engine.clone();
    let writers = ctx.attach_writers.clone();
    let sizes = ctx.pending_sizes.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let (mut client_r, mut client_w) = tokio::io::split(io);
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // The stream starts once the container runs (a client attaches before `start`). The
        // log is opened now: a quick `--rm` container may be gone, directory and all, before
        // the monitor could be reached, and its output is then read from this descriptor.
        let cid = c.id.clone();
        // Waiting for the monitor reads the state (SQLite) and the log: on the blocking pool.
        let (e2, c2) = (engine.clone(), cid.clone());
        let waited = tokio::task::spawn_blocking(move || {
            let early = crate::containers::Follower::open(&e2.container_paths(&c2).log(), 0).ok();
            let deadline = Instant::now() + Duration::from_secs(60);
            let monitor = loop {
                let now = e2.container(&c2);
                match &now {
                    Ok(x) if x.is_running() => {
                        if let Ok(s) = berth_engine::attach::Attached::connect(&e2.config().run_root, &c2) {
                            break Some(s);
                        }
                    }
                    Ok(x) if x.status == ContainerStatus::Exited => break None,
                    Err(_) => break None,
                    _ => {}
                }
                if Instant::now() > deadline {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            (early, monitor)
        })
        .await;
        let Ok((mut early, monitor)) = waited else { return };
        let Some(att) = monitor else {
            // It has run and gone: what it wrote is in its log.
            if let Some(records) = early.as_mut().and_then(|f| f.poll().ok()) {
                for rec in records {
                    let out = if rec.stream == Stream::Stderr { want_err } else { want_out };
                    if out {
                        let _ = client_w.write_all(&record_bytes(&rec, false, tty)).await;
                    }
                }
            }
            let _ = client_w.shutdown().await;
            return;
        };
        let writer = Arc::new(std::sync::Mutex::new(att.stream.try_clone().expect("a socket clone")));
        writers.lock().expect("writers").insert(cid.clone(), writer.clone());
        if let Some((h, w)) = sizes.lock().expect("sizes").remove(&cid) {
            let mut d = h.to_be_bytes().to_vec();
            d.extend_from_slice(&w.to_be_bytes());
            let _ = berth_engine::attach::write_frame(
                &mut *writer.lock().expect("writer"),
                berth_engine::attach::RESIZE,
                &d,
            );
        }
        // Container output to the client.
        let reader: UnixStream = att.stream;
        let (otx, mut orx) = tokio::sync::mpsc::channel::<Bytes>(64);
        std::thread::spawn(move || {
            let mut any = false;
            let _ = berth_engine::attach::Attached::read_output(reader, |kind, data| {
                any = true;
                let frame = if tty {
                    Bytes::copy_from_slice(data)
                } else if kind == berth_engine::attach::STDERR {
                    if !want_err {
                        return;
                    }
                    mux(2, data)
                } else {
                    if !want_out {
                        return;
                    }
                    mux(1, data)
                };
                let _ = otx.blocking_send(frame);
            });
            // The monitor ended before it served us: what the container wrote is in the log.
            if !any {
                for rec in early.as_mut().and_then(|f| f.poll().ok()).unwrap_or_default() {
                    let out = if rec.stream == Stream::Stderr { want_err } else { want_out };
                    if out && otx.blocking_send(record_bytes(&rec, false, tty)).is_err() {
                        break;
                    }
                }
            }
        });
        let input = async {
            if !want_stdin {
                return std::future::pending::<()>().await;
            }
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let (kind, n) = match client_r.read(&mut buf).await {
                    Ok(0) | Err(_) => (berth_engine::attach::CLOSE_STDIN, 0),
                    Ok(n) => (berth_engine::attach::STDIN, n),
                };
                let sent = {
                    let mut w = writer.lock().expect("writer");
                    berth_engine::attach::write_frame(&mut *w, kind, &buf[..n]).is_ok()
                };
                if kind == berth_engine::attach::CLOSE_STDIN || !sent {
                    return std::future::pending::<()>().await;
                }
            }
        };
        let output = async {
            while let Some(b) = orx.recv().await {
                if client_w.write_all(&b).await.is_err() {
                    break;
                }
                let _ = client_w.flush().await;
            }
            let _ = client_w.shutdown().await;
        };
        tokio::select! {
            _ = output => {}
            _ = input => {}
        }
        writers.lock().expect("writers").remove(&cid);
    });
    let ct = if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    Ok(Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", ct)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(crate::service::full(Bytes::new()))
        .expect("a valid response"))
}
