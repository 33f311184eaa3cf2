//! `POST /containers/{id}/wait`: headers at once, the body when the condition is met; the
//! wait ends when the client closes the connection.

use std::time::Duration;

use berth_engine::ContainerStatus;
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::json;

use crate::service::{channel_body, ApiError, Ctx, Reply, Req};

/// `wait`: `not-running` (default), `next-exit` (an exit after this call) or `removed`.
pub async fn wait(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let condition = match r.q("condition").filter(|c| !c.is_empty()) {
        None => "not-running".to_string(),
        Some(c @ ("not-running" | "next-exit" | "removed")) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad(format!("invalid condition \"{c}\": use not-running, next-exit or removed")))
        }
    };
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let since = chrono::Utc::now();
    let engine = ctx.engine.clone();
    let cid = c.id.clone();
    // Docker's clients wait for the headers before they start the container: they go now,
    // the body when the condition is met.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    let gone = tx.clone();
    let waiting = tokio::task::spawn_blocking(move || -> berth_engine::Result<Option<i32>> {
        loop {
            // The client closed the connection: nobody waits any more.
            if gone.is_closed() {
                return Ok(None);
            }
            let now = match engine.container(&cid) {
                Ok(c) => Some(c),
                Err(berth_engine::Error::ContainerLookup(berth_engine::container::LookupError::NotFound(_))) => None,
                Err(e) => return Err(e),
            };
            let exit = || engine.exit_code(&cid).map(|c| Some(c.unwrap_or(0)));
            match (condition.as_str(), &now) {
                (_, None) => return exit(),
                ("removed", Some(_)) => {}
                ("next-exit", Some(c)) => {
                    if c.status == ContainerStatus::Exited && c.finished_at.is_some_and(|f| f >= since) {
                        return Ok(Some(c.exit_code.unwrap_or(0)));
                    }
                }
                (_, Some(c)) => {
                    if !c.is_running() {
                        return Ok(Some(c.exit_code.unwrap_or(0)));
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    tokio::spawn(async move {
        let body = match waiting.await {
            Ok(Ok(None)) => return,
            Ok(Ok(Some(code))) => json!({"StatusCode": code, "Error": null}),
            Ok(Err(e)) => json!({"StatusCode": -1, "Error": {"Message": e.to_string()}}),
            Err(e) => json!({"StatusCode": -1, "Error": {"Message": e.to_string()}}),
        };
        let _ = tx.send(Bytes::from(serde_json::to_vec(&body).expect("serialises"))).await;
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(channel_body(rx))
        .expect("a valid response"))
}
