//! `GET /containers/{id}/logs`: the log's records as Docker's raw or multiplexed stream.

use std::time::Duration;

use berth_engine::container::logs::{Record, Stream};
use berth_engine::ContainerStatus;
use bytes::Bytes;
use hyper::{Response, StatusCode};

use super::record_bytes;
use crate::service::{channel_body, Ctx, Reply, Req};

fn parse_since(v: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = v.filter(|s| !s.is_empty() && *s != "0")?;
    let secs: f64 = v.parse().ok()?;
    chrono::DateTime::from_timestamp(secs.trunc() as i64, (secs.fract() * 1e9) as u32)
}

pub async fn logs(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let (stdout, stderr) = (r.flag("stdout"), r.flag("stderr"));
    let follow = r.flag("follow");
    let timestamps = r.flag("timestamps");
    let tail = r.q("tail").and_then(|t| t.parse::<usize>().ok());
    let since = parse_since(r.q("since"));
    let until = parse_since(r.q("until"));
    let tty = c.options.tty;
    let path = ctx.engine.container_paths(&c.id).log();
    let engine = ctx.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let wanted = move |rec: &Record| {
        (rec.stream == Stream::Stderr && stderr || rec.stream != Stream::Stderr && stdout)
            && since.is_none_or(|s| rec.time >= s)
            && until.is_none_or(|u| rec.time <= u)
    };
    tokio::spawn(async move {
        let Ok(mut follower) = crate::containers::Follower::open(&path, 0) else { return };
        let mut first: Vec<Record> = follower.poll().unwrap_or_default().into_iter().filter(|r| wanted(r)).collect();
        if let Some(n) = tail {
            let skip = first.len().saturating_sub(n);
            first.drain(..skip);
        }
        for rec in &first {
            if tx.send(record_bytes(rec, timestamps, tty)).await.is_err() {
                return;
            }
        }
        if !follow {
            return;
        }
        let cid = c.id.clone();
        loop {
            let running = engine.container(&cid).is_ok_and(|c| c.is_running() || c.status == ContainerStatus::Created);
            for rec in follower.poll().unwrap_or_default().into_iter().filter(|r| wanted(r)) {
                if tx.send(record_bytes(&rec, timestamps, tty)).await.is_err() {
                    return;
                }
            }
            if !running {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let ct = if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", ct)
        .body(channel_body(rx))
        .expect("a valid response"))
}
