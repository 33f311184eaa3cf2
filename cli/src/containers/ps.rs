//! `ps`: the container list as Podman prints it (table, template or JSON), and the STATUS text
//! the API service shows too.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::{ContainerRecord, ContainerStatus, Engine};
use clap::Args;
use serde_json::{json, Value};

use crate::format::{ago, human_duration, render_template, Table};

#[derive(Args)]
pub struct PsArgs {
    /// Show all containers, not only running ones
    #[arg(short, long)]
    pub all: bool,
    /// Show only ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format: json, or a template such as "{{.Names}}"
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: status=created|running|exited, name=TEXT, id=PREFIX
    #[arg(short, long)]
    pub filter: Vec<String>,
}

pub(crate) fn status_text(c: &ContainerRecord) -> String {
    match c.status {
        ContainerStatus::Created => "Created".into(),
        ContainerStatus::Paused => "Paused".into(),
        ContainerStatus::Running | ContainerStatus::Stopping => {
            let since = c.started_at.unwrap_or(c.created_at);
            format!("Up {}", human_duration(chrono::Utc::now() - since))
        }
        ContainerStatus::Exited => format!("Exited ({}) {}", c.exit_code.unwrap_or(0), ago(c.finished_at)),
    }
}

/// The PORTS column: `0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp`.
fn ports_text(c: &ContainerRecord) -> String {
    c.options.ports.iter().map(|p| p.display()).collect::<Vec<_>>().join(", ")
}

fn ps_json(c: &ContainerRecord) -> Value {
    json!({
        "Id": c.id,
        "Names": [c.name],
        "Image": c.image_name,
        "ImageID": c.image_id,
        "Command": c.command,
        "Created": c.created_at.timestamp(),
        "CreatedAt": c.created_at.to_rfc3339(),
        "StartedAt": c.started_at.map(|t| t.timestamp()).unwrap_or(0),
        "State": c.status.as_str(),
        "Status": status_text(c),
        "Exited": c.status == ContainerStatus::Exited,
        "ExitCode": c.exit_code.unwrap_or(0),
        "Pid": c.pid.unwrap_or(0),
        "Labels": c.options.labels,
        "AutoRemove": c.options.remove,
        "Ports": c.options.ports.iter().map(|p| json!({
            "host_ip": p.host_ip.map(|i| i.to_string()).unwrap_or_default(),
            "host_port": p.host_port,
            "container_port": p.container_port,
            "protocol": p.protocol.as_str(),
            "range": 1,
        })).collect::<Vec<_>>(),
    })
}

pub fn ps(engine: &Engine, args: &PsArgs) -> anyhow::Result<ExitCode> {
    let mut list = engine.containers()?;
    if !args.all {
        list.retain(|c| c.is_running());
    }
    for f in &args.filter {
        let (k, v) = f.split_once('=').with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
        match k {
            "status" => list.retain(|c| c.status.as_str() == v || (v == "running" && c.is_running())),
            "name" => list.retain(|c| c.name.contains(v)),
            "id" => list.retain(|c| c.id.starts_with(v)),
            other => bail!("invalid filter {other:?}: use status, name or id"),
        }
    }
    // One write for the whole list, not one a line (10 000 containers are 10 000 lines).
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.quiet {
        for c in &list {
            writeln!(out, "{}", if args.no_trunc { &c.id } else { c.short_id() })?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    match args.format.as_deref() {
        Some("json") => {
            let v: Vec<Value> = list.iter().map(ps_json).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Some(t) => {
            let t = t.strip_prefix("table ").unwrap_or(t);
            for c in &list {
                let line = render_template(t, &|k| {
                    Some(match k {
                        "ID" => {
                            if args.no_trunc {
                                c.id.clone()
                            } else {
                                c.short_id().to_string()
                            }
                        }
                        "Names" => c.name.clone(),
                        "Image" => c.image_name.clone(),
                        "Command" => c.command.join(" "),
                        "Status" => status_text(c),
                        "State" => c.status.as_str().to_string(),
                        "Created" | "CreatedHuman" => ago(Some(c.created_at)),
                        "Ports" => ports_text(c),
                        _ => return None,
                    })
                })
                .map_err(anyhow::Error::msg)?;
                writeln!(out, "{line}")?;
            }
        }
        None => {
            let mut table = Table::new(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
            for c in &list {
                let mut cmd = c.command.join(" ");
                if !args.no_trunc && cmd.chars().count() > 20 {
                    cmd = format!("{}...", cmd.chars().take(17).collect::<String>());
                }
                let id = if args.no_trunc { c.id.clone() } else { c.short_id().to_string() };
                table.row(vec![
                    id,
                    c.image_name.clone(),
                    cmd,
                    ago(Some(c.created_at)),
                    status_text(c),
                    ports_text(c),
                    c.name.clone(),
                ]);
            }
            table.print(&mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
