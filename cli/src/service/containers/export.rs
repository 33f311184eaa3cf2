//! `GET /containers/{id}/export`: the container's files as a tar, streamed (`docker export`).

use std::io::Write;

use bytes::Bytes;
use hyper::{Response, StatusCode};

use crate::service::{channel_body, ChannelWriter, Ctx, Reply};

pub async fn export(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?; // 404 before any byte
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let engine = ctx.engine.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, ChannelWriter { tx });
        // the status is sent: a failure now ends the stream early, as Docker's does
        if engine.export_container(&c.id, &mut out).is_ok() {
            let _ = out.flush();
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/x-tar")
        .body(channel_body(rx))
        .expect("a valid response"))
}
