//! `GET /containers/{id}/stats`: the engine's samples in Docker's stats JSON, streamed or once.

use std::time::Duration;

use berth_engine::ContainerRecord;
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use crate::service::{channel_body, Ctx, Reply, Req};

fn system_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let jiffies: u64 =
        text.lines().next().map_or(0, |l| l.split_whitespace().skip(1).filter_map(|v| v.parse::<u64>().ok()).sum());
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    jiffies * (1_000_000_000 / hz)
}

fn stats_json(
    c: &ContainerRecord,
    s: &berth_engine::stats::ContainerStats,
    pre: Option<(&berth_engine::stats::ContainerStats, u64, chrono::DateTime<chrono::Utc>)>,
    system: u64,
) -> Value {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = |s: &berth_engine::stats::ContainerStats, sys: u64| {
        let d = &s.detail;
        json!({
            "cpu_usage": {
                "total_usage": s.cpu_usage_ns.unwrap_or(0),
                "percpu_usage": d.cpu_percpu_ns,
                "usage_in_kernelmode": d.cpu_system_ns.unwrap_or(0),
                "usage_in_usermode": d.cpu_user_ns.unwrap_or(0),
            },
            "system_cpu_usage": sys,
            "online_cpus": d.cpu_percpu_ns.as_ref().map_or(cpus, |p| p.len().max(1)),
            "throttling_data": {
                "periods": d.cpu_periods.unwrap_or(0),
                "throttled_periods": d.cpu_throttled_periods.unwrap_or(0),
                "throttled_time": d.cpu_throttled_ns.unwrap_or(0),
            },
        })
    };
    let zero =
        json!({"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": cpus, "throttling_data": {}});
    let mut networks = serde_json::Map::new();
    for (name, n) in &s.networks {
        networks.insert(
            name.clone(),
            json!({"rx_bytes": n.rx_bytes, "rx_packets": n.rx_packets, "rx_errors": n.rx_errors, "rx_dropped": n.rx_dropped,
                   "tx_bytes": n.tx_bytes, "tx_packets": n.tx_packets, "tx_errors": n.tx_errors, "tx_dropped": n.tx_dropped}),
        );
    }
    let per_device = |f: &dyn Fn(&berth_engine::runtime::cgroup::BlockDevice) -> (u64, u64)| -> Vec<Value> {
        s.detail
            .block_devices
            .iter()
            .flat_map(|d| {
                let (r, w) = f(d);
                [
                    json!({"major": d.major, "minor": d.minor, "op": "read", "value": r}),
                    json!({"major": d.major, "minor": d.minor, "op": "write", "value": w}),
                ]
            })
            .collect()
    };
    let mut memory = json!({
        "usage": s.memory_usage.unwrap_or(0),
        "limit": s.memory_limit.or(s.host_memory).unwrap_or(0),
        "stats": s.detail.memory_stat,
    });
    if let Some(m) = s.detail.memory_max_usage {
        memory["max_usage"] = json!(m);
    }
    if let Some(f) = s.detail.memory_failcnt {
        memory["failcnt"] = json!(f);
    }
    let mut pids = json!({"current": s.pids.unwrap_or(0)});
    if let Some(l) = s.detail.pids_limit {
        pids["limit"] = json!(l);
    }
    json!({
        "read": chrono::Utc::now().to_rfc3339(),
        "preread": pre.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |p| p.2.to_rfc3339()),
        "pids_stats": pids,
        "num_procs": 0,
        "cpu_stats": cpu(s, system),
        "precpu_stats": pre.map_or(zero, |(p, sys, _)| cpu(p, sys)),
        "memory_stats": memory,
        "blkio_stats": {
            "io_service_bytes_recursive": per_device(&|d| (d.read_bytes, d.write_bytes)),
            "io_serviced_recursive": per_device(&|d| (d.reads, d.writes)),
        },
        "networks": networks,
        "name": format!("/{}", c.name),
        "id": c.id,
    })
}

pub async fn stats(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let stream = !matches!(r.q("stream"), Some("0" | "false"));
    let one_shot = r.flag("one-shot");
    let engine = ctx.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    // Samples read (cgroup files, /proc) on the blocking pool, until the client goes away.
    tokio::task::spawn_blocking(move || {
        let sample =
            |e: &berth_engine::Engine| e.container_stats(&c.id).ok().map(|s| (s, system_cpu_ns(), chrono::Utc::now()));
        let mut pre = if one_shot { None } else { sample(&engine) };
        loop {
            if !one_shot {
                std::thread::sleep(Duration::from_millis(if stream { 1000 } else { 500 }));
            }
            let Some(now) = sample(&engine) else { return };
            let v = stats_json(&c, &now.0, pre.as_ref().map(|(s, sys, t)| (s, *sys, *t)), now.1);
            let mut line = serde_json::to_vec(&v).expect("serialises");
            line.push(b'\n');
            if tx.blocking_send(Bytes::from(line)).is_err() || !stream {
                return;
            }
            pre = Some(now);
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(channel_body(rx))
        .expect("a valid response"))
}
