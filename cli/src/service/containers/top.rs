//! `GET /containers/{id}/top`: the container's processes in Docker's columns.

use serde_json::json;

use crate::service::{ok_json, Ctx, Reply};

pub async fn top(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let rows = ctx.blocking(move |e| e.container_top(&q)).await?;
    let procs: Vec<Vec<String>> = rows
        .iter()
        .map(|p| {
            vec![
                p.user.clone(),
                p.pid.to_string(),
                p.ppid.to_string(),
                format!("{:.0}", p.cpu_percent),
                p.tty.clone(),
                format!("{:.0}", p.cpu_time),
                p.command.clone(),
            ]
        })
        .collect();
    ok_json(json!({"Titles": ["UID", "PID", "PPID", "C", "TTY", "TIME", "CMD"], "Processes": procs}))
}
