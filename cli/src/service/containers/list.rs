//! `GET /containers/json`: the container list, with Docker's filters.

use std::collections::BTreeMap;

use berth_engine::container::health::HealthStatus;
use berth_engine::ContainerRecord;
use serde_json::{json, Value};

use super::{docker_state, mounts_json};
use crate::service::{ok_json, Ctx, Reply, Req};

fn ports_json(c: &ContainerRecord) -> Vec<Value> {
    c.options
        .ports
        .iter()
        .map(|p| {
            json!({"IP": p.host_ip.map_or_else(|| "0.0.0.0".to_string(), |i| i.to_string()), "PrivatePort": p.container_port,
                   "PublicPort": p.host_port, "Type": p.protocol.as_str()})
        })
        .collect()
}

fn summary(
    c: &ContainerRecord,
    address: Option<berth_engine::network::Address>,
    health: Option<HealthStatus>,
) -> Value {
    let mut networks = serde_json::Map::new();
    if let Some(a) = &address {
        networks.insert(
            a.network.clone(),
            json!({"IPAddress": a.ip.to_string(), "NetworkID": berth_engine::network::network_id(&a.network)}),
        );
    }
    json!({
        "Id": c.id,
        "Names": [format!("/{}", c.name)],
        "Image": crate::service::images::docker_name(&c.image_name),
        "ImageID": format!("sha256:{}", c.image_id),
        "Command": c.command.join(" "),
        "Created": c.created_at.timestamp(),
        "Ports": ports_json(c),
        "Labels": c.options.labels,
        "State": docker_state(c),
        "Status": docker_status(c, health),
        "HostConfig": {"NetworkMode": c.options.network.clone().unwrap_or_else(|| "bridge".into())},
        "NetworkSettings": {"Networks": networks},
        "Mounts": mounts_json(c),
    })
}

/// Docker's STATUS: Podman's words, but a check not yet done is `(health: starting)`.
fn docker_status(c: &ContainerRecord, health: Option<HealthStatus>) -> String {
    let text = crate::containers::status_text(c, health);
    match health {
        Some(HealthStatus::Starting) => text.replace("(starting)", "(health: starting)"),
        _ => text,
    }
}

/// `filters` as Docker clients send them: `{"status": ["running"], "name": ["web"]}`.
fn filters(r: &Req) -> BTreeMap<String, Vec<String>> {
    let Some(text) = r.q("filters").filter(|f| !f.is_empty()) else { return BTreeMap::new() };
    let v: Value = serde_json::from_str(text).unwrap_or(json!({}));
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let vals = match v {
                        Value::Array(a) => a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
                        Value::Object(o) => o.keys().cloned().collect(),
                        _ => Vec::new(),
                    };
                    (k.clone(), vals)
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn list(ctx: &Ctx, r: &Req) -> Reply {
    let all = r.flag("all");
    let list = ctx
        .blocking(|e| {
            let cs = e.containers()?;
            let mut out = Vec::new();
            for c in cs {
                let a = e.container_address(&c.id)?;
                let h = e.health_status(&c);
                out.push((c, a, h));
            }
            Ok(out)
        })
        .await?;
    let f = filters(r);
    let mut rows: Vec<Value> = Vec::new();
    for (c, a, h) in &list {
        if !all && !c.is_running() && !f.contains_key("status") {
            continue;
        }
        let keep = f.iter().all(|(k, vals)| {
            let matches = |v: &String| match k.as_str() {
                "status" => docker_state(c) == v,
                "name" => c.name.contains(v.trim_start_matches('/')),
                "id" => c.id.starts_with(v),
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => c.options.labels.get(lk).is_some_and(|x| x == lv),
                    None => c.options.labels.contains_key(v),
                },
                "ancestor" => c.image_name.contains(v) || c.image_id.starts_with(v.trim_start_matches("sha256:")),
                "health" => h.map_or("none", HealthStatus::as_str) == v,
                _ => true,
            };
            // Docker's: every label given must be there (compose asks for its project's and
            // service's at once); of the other keys' values, one
            if k == "label" {
                vals.iter().all(matches)
            } else {
                vals.iter().any(matches)
            }
        });
        if keep {
            rows.push(summary(c, a.clone(), *h));
        }
    }
    if let Some(n) = r.q("limit").and_then(|l| l.parse::<usize>().ok()).filter(|n| *n > 0) {
        rows.truncate(n);
    }
    ok_json(Value::Array(rows))
}
