//! `GET /containers/{id}/changes`: what the container changed over its image (`docker diff`).

use berth_engine::layers::changes::ChangeKind;
use serde_json::json;

use crate::service::{ok_json, Ctx, Reply};

pub async fn changes(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let changes = ctx.blocking(move |e| e.container(&q).and_then(|c| e.container_changes(&c))).await?;
    // Docker's kinds: 0 modified, 1 added, 2 deleted
    let list: Vec<_> = changes
        .iter()
        .map(|c| {
            let kind = match c.kind {
                ChangeKind::Changed => 0,
                ChangeKind::Added => 1,
                ChangeKind::Deleted => 2,
            };
            json!({"Path": c.path, "Kind": kind})
        })
        .collect();
    ok_json(json!(list))
}
