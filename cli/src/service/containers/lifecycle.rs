//! start, stop, restart, kill, rename, pause/unpause, remove and prune: the verbs that change a
//! container and answer with a status (204, 304 or 409).

use std::time::Duration;

use hyper::StatusCode;
use serde_json::json;

use crate::service::{empty, ok_json, ApiError, Ctx, Reply, Req};

pub async fn start(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let was = ctx.blocking(move |e| e.container(&q)).await?;
    if was.is_running() {
        return empty(StatusCode::NOT_MODIFIED);
    }
    if let Some(net) = ctx.detached.lock().expect("detached").get(&was.id) {
        return Err(ApiError::conflict(format!(
            "container {} was disconnected from network {net}: connect it again (POST /networks/{net}/connect) before its start",
            was.name
        )));
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.start_container(&q)).await?;
    empty(StatusCode::NO_CONTENT)
}

fn timeout(r: &Req) -> Duration {
    Duration::from_secs(r.q("t").or(r.q("timeout")).and_then(|t| t.parse::<i64>().ok()).map_or(10, |t| t.max(0) as u64))
}

pub async fn stop(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (q, t) = (id.to_string(), timeout(r));
    let was = ctx.blocking(move |e| e.container(&q)).await?;
    if !was.is_running() {
        return empty(StatusCode::NOT_MODIFIED);
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.stop_container(&q, t)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn restart(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (q, t) = (id.to_string(), timeout(r));
    ctx.blocking(move |e| {
        e.stop_container(&q, t)?;
        e.start_container(&q)
    })
    .await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn kill(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let q = id.to_string();
    let sig = r.q("signal").filter(|s| !s.is_empty()).unwrap_or("KILL").to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    if !c.is_running() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Cannot kill container: {}: Container {} is not running", c.name, c.id),
        ));
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.kill_container(&q, &sig)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn rename(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let name = r.q("name").filter(|n| !n.is_empty()).ok_or_else(|| ApiError::bad("name is required"))?.to_string();
    let q = id.to_string();
    ctx.blocking(move |e| e.rename_container(&q, &name)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn pause(ctx: &Ctx, id: &str, pause: bool) -> Reply {
    let q = id.to_string();
    ctx.blocking(move |e| if pause { e.pause_container(&q) } else { e.unpause_container(&q) }).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn remove(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (q, force) = (id.to_string(), r.flag("force"));
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    if c.is_running() && !force {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("You cannot remove a running container {}. Stop the container before attempting removal or force remove", c.id),
        ));
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.remove_container(&q, force)).await?;
    crate::service::exec::forget_container(ctx, &c.id);
    ctx.detached.lock().expect("detached").remove(&c.id);
    empty(StatusCode::NO_CONTENT)
}

pub async fn prune(ctx: &Ctx) -> Reply {
    let removed = ctx.blocking(|e| e.prune_containers()).await?;
    for id in &removed {
        crate::service::exec::forget_container(ctx, id);
    }
    ok_json(json!({"ContainersDeleted": removed, "SpaceReclaimed": 0}))
}
