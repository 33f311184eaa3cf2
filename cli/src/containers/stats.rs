//! `stats`: containers' resource usage, sampled and printed until interrupted.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use berth_engine::{ContainerRecord, ContainerStatus, Engine};
use clap::Args;
use serde_json::{json, Value};

use crate::format::Table;
use crate::template::Template;

#[derive(Args)]
pub struct StatsArgs {
    /// Containers (default: every running one)
    pub containers: Vec<String>,
    /// Show one sample and exit
    #[arg(long)]
    pub no_stream: bool,
    /// Output format: json, or a template such as "{{.CPUPerc}}"
    #[arg(long)]
    pub format: Option<String>,
    /// Seconds between samples
    #[arg(short, long, default_value_t = 2)]
    pub interval: u64,
}

/// One row of `berth stats`: a container's usage between two samples.
struct StatsRow {
    id: String,
    name: String,
    cpu_percent: f64,
    mem_usage: u64,
    mem_limit: u64,
    net: Option<(u64, u64)>,
    block: Option<(u64, u64)>,
    pids: u64,
}

impl StatsRow {
    fn mem_percent(&self) -> f64 {
        if self.mem_limit == 0 {
            0.0
        } else {
            self.mem_usage as f64 * 100.0 / self.mem_limit as f64
        }
    }

    fn json(&self) -> Value {
        let pair = |p: Option<(u64, u64)>| {
            p.map_or_else(
                || "-- / --".to_string(),
                |(a, b)| format!("{} / {}", crate::format::human_size(a), crate::format::human_size(b)),
            )
        };
        json!({
            "id": &self.id[..12],
            "name": self.name,
            "cpu_percent": format!("{:.2}%", self.cpu_percent),
            "mem_usage": format!("{} / {}", crate::format::human_size(self.mem_usage), crate::format::human_size(self.mem_limit)),
            "mem_percent": format!("{:.2}%", self.mem_percent()),
            "net_io": pair(self.net),
            "block_io": pair(self.block),
            "pids": self.pids.to_string(),
            "cpu": self.cpu_percent,
            "mem": self.mem_usage,
            "mem_limit": self.mem_limit,
        })
    }
}

/// `berth stats`: CPU %, memory, network and block I/O and pids of running containers, sampled
/// every `--interval` (CPU % is the share of one CPU used between two samples).
pub async fn stats(engine: Engine, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    use std::collections::HashMap;
    let targets = || -> anyhow::Result<Vec<ContainerRecord>> {
        if args.containers.is_empty() {
            Ok(engine.containers()?.into_iter().filter(|c| c.status == ContainerStatus::Running).collect())
        } else {
            args.containers.iter().map(|n| Ok(engine.container(n)?)).collect()
        }
    };
    let sample =
        |list: &[ContainerRecord]| -> anyhow::Result<HashMap<String, (Instant, berth_engine::stats::ContainerStats)>> {
            let mut m = HashMap::new();
            for c in list {
                match engine.container_stats(&c.id) {
                    Ok(s) => {
                        m.insert(c.id.clone(), (Instant::now(), s));
                    }
                    Err(e) if !args.containers.is_empty() => return Err(e.into()),
                    Err(_) => {} // it stopped meanwhile
                }
            }
            Ok(m)
        };
    let mut previous = sample(&targets()?)?;
    let interval = if args.no_stream { Duration::from_millis(500) } else { Duration::from_secs(args.interval.max(1)) };
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    loop {
        tokio::time::sleep(interval).await;
        let list = targets()?;
        let now = sample(&list)?;
        let mut rows = Vec::new();
        for c in &list {
            let Some((t1, s1)) = now.get(&c.id) else { continue };
            let cpu_percent = match (previous.get(&c.id), s1.cpu_usage_ns) {
                (Some((t0, s0)), Some(u1)) => {
                    let used = u1.saturating_sub(s0.cpu_usage_ns.unwrap_or(0)) as f64;
                    used * 100.0 / t1.duration_since(*t0).as_nanos().max(1) as f64
                }
                _ => 0.0,
            };
            rows.push(StatsRow {
                id: c.id.clone(),
                name: c.name.clone(),
                cpu_percent,
                mem_usage: s1.memory_usage.unwrap_or(0),
                mem_limit: s1.memory_limit.or(s1.host_memory).unwrap_or(0),
                net: s1.net_rx.zip(s1.net_tx),
                block: s1.block_read.zip(s1.block_write),
                pids: s1.pids.unwrap_or(0),
            });
        }
        previous = now;
        let out = std::io::stdout();
        let mut out = out.lock();
        if tty && !args.no_stream {
            write!(out, "\x1b[2J\x1b[H")?;
        }
        match args.format.as_deref() {
            Some("json") => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&rows.iter().map(StatsRow::json).collect::<Vec<_>>())?
            )?,
            Some(t) => {
                let t = Template::parse(t).map_err(anyhow::Error::msg)?;
                let rows: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        let v = r.json();
                        // Podman's names for the fields of a row
                        serde_json::json!({
                            "ID": v["id"], "Name": v["name"], "CPUPerc": v["cpu_percent"], "CPU": v["cpu_percent"],
                            "MemUsage": v["mem_usage"], "MemPerc": v["mem_percent"], "NetIO": v["net_io"],
                            "BlockIO": v["block_io"], "PIDs": v["pids"], "PIDS": v["pids"],
                        })
                    })
                    .collect();
                let headers = [
                    ("CPUPerc", "CPU %"),
                    ("MemUsage", "MEM USAGE / LIMIT"),
                    ("MemPerc", "MEM %"),
                    ("NetIO", "NET IO"),
                    ("BlockIO", "BLOCK IO"),
                    ("PIDs", "PIDS"),
                ];
                t.write_rows(&rows, &headers, &mut out)?;
            }
            None => {
                let mut table =
                    Table::new(&["ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET IO", "BLOCK IO", "PIDS"]);
                for r in &rows {
                    let v = r.json();
                    let cell = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                    table.row(vec![
                        cell("id"),
                        cell("name"),
                        cell("cpu_percent"),
                        cell("mem_usage"),
                        cell("mem_percent"),
                        cell("net_io"),
                        cell("block_io"),
                        cell("pids"),
                    ]);
                }
                table.print(&mut out)?;
            }
        }
        out.flush()?;
        if args.no_stream {
            return Ok(ExitCode::SUCCESS);
        }
    }
}
