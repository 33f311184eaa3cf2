//! `ps`: the container list as Podman prints it (table, template or JSON), and the STATUS text
//! the API service shows too.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::container::health::HealthStatus;
use berth_engine::{ContainerBrief, ContainerRecord, ContainerStatus, Engine};
use clap::Args;
use serde_json::{json, Value};

use crate::format::{ago, human_duration, Table};
use crate::template::Template;

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
    /// Do not print the header
    #[arg(long)]
    pub noheading: bool,
    /// Also list containers other tools made in this storage (Berth's storage holds none)
    #[arg(long)]
    pub external: bool,
    /// Sort by command, created, id, image, names, runningfor or status
    #[arg(long, default_value = "created", value_parser = ["command", "created", "id", "image", "names", "runningfor", "status"])]
    pub sort: String,
    /// Print the last container created (with -a, whatever its state)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Print the last N containers created (with -a, whatever their state)
    #[arg(short = 'n', long, value_name = "N")]
    pub last: Option<usize>,
    /// Show the pod of each container (POD ID and PODNAME columns)
    #[arg(short = 'p', long)]
    pub pod: bool,
}

/// The STATUS column: `Up 5 seconds (healthy)`, `Exited (0) 2 minutes ago`; `health` is the
/// running container's health when it has a check.
pub(crate) fn status_text<O>(c: &ContainerRecord<O>, health: Option<HealthStatus>) -> String {
    match c.status {
        ContainerStatus::Created => "Created".into(),
        ContainerStatus::Paused => "Paused".into(),
        ContainerStatus::Running | ContainerStatus::Stopping => {
            let since = c.started_at.unwrap_or(c.created_at);
            match health {
                Some(h) => format!("Up {} ({})", human_duration(chrono::Utc::now() - since), h.as_str()),
                None => format!("Up {}", human_duration(chrono::Utc::now() - since)),
            }
        }
        ContainerStatus::Exited => format!("Exited ({}) {}", c.exit_code.unwrap_or(0), ago(c.finished_at)),
    }
}

/// The published ports of a container: a pod member on its pod's network has its pod's (the
/// infra container's), as Podman shows them.
fn ports_of(engine: &Engine, c: &ContainerBrief) -> Vec<berth_engine::container::port::PortMapping> {
    if c.options.pod.is_some() && !c.options.pod_infra {
        if let Some(infra) = c.options.network.as_deref().and_then(|n| n.strip_prefix("container:")) {
            return engine.container(infra).map(|i| i.options.ports).unwrap_or_default();
        }
    }
    c.options.ports.clone()
}

/// The PORTS column: `0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp`.
fn ports_text(engine: &Engine, c: &ContainerBrief) -> String {
    ports_of(engine, c).iter().map(|p| p.display()).collect::<Vec<_>>().join(", ")
}

/// The pod's id and name, for a container in one.
fn pod_of(engine: &Engine, c: &ContainerBrief) -> (String, String) {
    match c.options.pod.as_deref().map(|p| engine.pod(p)) {
        Some(Ok(p)) => (p.id, p.name),
        Some(Err(_)) => (c.options.pod.clone().unwrap_or_default(), String::new()),
        None => (String::new(), String::new()),
    }
}

fn ps_json(engine: &Engine, c: &ContainerBrief) -> Value {
    let health = engine.health_status(c);
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
        "Status": status_text(c, health),
        "Health": health.map_or("", HealthStatus::as_str),
        "Exited": c.status == ContainerStatus::Exited,
        "ExitCode": c.exit_code.unwrap_or(0),
        "Pid": c.pid.unwrap_or(0),
        "Labels": c.options.labels,
        "AutoRemove": c.options.remove,
        "Pod": pod_of(engine, c).0,
        "PodName": pod_of(engine, c).1,
        "IsInfra": c.options.pod_infra,
        "Ports": ports_of(engine, c).iter().map(|p| json!({
            "host_ip": p.host_ip.map(|i| i.to_string()).unwrap_or_default(),
            "host_port": p.host_port,
            "container_port": p.container_port,
            "protocol": p.protocol.as_str(),
            "range": 1,
        })).collect::<Vec<_>>(),
    })
}

/// Keeps the containers that match the `--filter KEY=VALUE`s: a filter of each key given, and
/// any of the values given for one key (as Podman: `status=exited --filter status=running`),
/// except labels, which must all be there.
pub(crate) fn filter(engine: &Engine, list: &mut Vec<ContainerRecord>, filters: &[String]) -> anyhow::Result<()> {
    let mut by_key: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for f in filters {
        let (k, v) = f.split_once('=').with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
        by_key.entry(k).or_default().push(v);
    }
    for (k, values) in by_key {
        let matches = matcher(engine, k, &values)?;
        // Podman's rule: the values of one key are alternatives, but every label must be there
        if k == "label" {
            list.retain(|c| values.iter().all(|v| matches(c, v)));
        } else {
            list.retain(|c| values.iter().any(|v| matches(c, v)));
        }
    }
    Ok(())
}

type Matcher = Box<dyn Fn(&ContainerRecord, &str) -> bool>;

/// Whether a container matches one value of the filter `key`; the values are checked first.
fn matcher(engine: &Engine, key: &str, values: &[&str]) -> anyhow::Result<Matcher> {
    Ok(match key {
        "status" => {
            const STATES: &[&str] = &["created", "running", "paused", "stopping", "exited", "stopped", "unknown"];
            if let Some(bad) = values.iter().find(|v| !STATES.contains(v)) {
                bail!("invalid status filter {bad:?}: use {}", STATES.join(", "));
            }
            // `stopped` is Podman's other word for exited
            Box::new(|c, v| {
                c.status.as_str() == v
                    || (v == "running" && c.is_running())
                    || (v == "stopped" && c.status == ContainerStatus::Exited)
            })
        }
        "name" => Box::new(|c, v| c.name.contains(v)),
        "id" => Box::new(|c, v| c.id.starts_with(v)),
        "label" => Box::new(|c, v| {
            let (lk, lv) = v.split_once('=').map_or((v, None), |(a, b)| (a, Some(b)));
            c.options.labels.get(lk).is_some_and(|x| lv.is_none_or(|lv| x == lv))
        }),
        "ancestor" => Box::new(|c, v| c.image_name == v || c.image_id.starts_with(v)),
        "restart-policy" => {
            for v in values {
                if !["none", "no", "", "always", "on-failure", "unless-stopped"].contains(v) {
                    bail!("{v} invalid restart policy");
                }
            }
            Box::new(|c, v| {
                let want = if matches!(v, "none" | "no" | "") { "no" } else { v };
                c.options.restart.name().split(':').next() == Some(want)
            })
        }
        "pod" => {
            // by name, id or id prefix; a pod that is not there matches nothing
            let pods: Vec<(String, String)> = engine.pods()?.into_iter().map(|p| (p.id, p.name)).collect();
            Box::new(move |c, v| {
                c.options.pod.as_deref().is_some_and(|id| {
                    pods.iter().any(|(pid, name)| pid == id && (name == v || (!v.is_empty() && pid.starts_with(v))))
                })
            })
        }
        "exited" => Box::new(|c, v| {
            c.status == ContainerStatus::Exited && c.exit_code.map(|x| x.to_string()).as_deref() == Some(v)
        }),
        "health" => {
            const HEALTH: &[&str] = &["starting", "healthy", "unhealthy", "none"];
            if let Some(bad) = values.iter().find(|v| !HEALTH.contains(v)) {
                bail!("invalid health filter {bad:?}: use {}", HEALTH.join(", "));
            }
            let root = engine.config().root.clone();
            Box::new(move |c, v| {
                let health = c.options.healthcheck.as_ref().map(|_| {
                    let dir = berth_engine::container::ContainerPaths::new(&root, &c.id).dir;
                    berth_engine::container::health::read(&dir).map_or(HealthStatus::Starting, |h| h.status)
                });
                health.map_or("none", HealthStatus::as_str) == v
            })
        }
        other => {
            bail!("invalid filter {other:?}: use status, name, id, label, ancestor, restart-policy, exited, health or pod")
        }
    })
}

/// What a `--format` template sees of a container: the JSON's fields, with the ones Podman's
/// table shows as text (`.ID` short, `.Names`, `.Command`, `.Created` as an age, `.Ports`).
fn ps_row(engine: &Engine, c: &ContainerBrief, no_trunc: bool) -> Value {
    let mut v = ps_json(engine, c);
    v["ID"] = json!(if no_trunc { c.id.as_str() } else { c.short_id() });
    v["Names"] = json!(c.name);
    v["Command"] = json!(c.command.join(" "));
    v["Created"] = json!(ago(Some(c.created_at)));
    v["CreatedHuman"] = v["Created"].clone();
    v["RunningFor"] = v["Created"].clone();
    v["Ports"] = json!(ports_text(engine, c));
    let pod = v["Pod"].as_str().unwrap_or("").to_string();
    v["Pod"] = json!(if no_trunc { pod } else { pod.chars().take(12).collect() });
    v
}

pub fn ps(engine: &Engine, args: &PsArgs) -> anyhow::Result<ExitCode> {
    // the table and -q show only what the brief records hold; filters and templates may ask
    // for any option
    // a status filter picks among every container, as Podman's does
    let by_status = args.filter.iter().any(|f| f.starts_with("status="));
    let all = args.all || by_status;
    // what is shown is in the brief records; filters may ask for any option
    let owned: Vec<ContainerBrief> = if args.filter.is_empty() {
        let mut list = engine.containers_brief()?;
        list.retain(|c| all || c.is_running());
        list
    } else {
        let mut list = engine.containers()?;
        list.retain(|c| all || c.is_running());
        filter(engine, &mut list, &args.filter)?;
        list.into_iter().map(ContainerRecord::into_brief).collect()
    };
    // sorted by reference, not moving the records
    let mut list: Vec<&ContainerBrief> = owned.iter().collect();
    match args.sort.as_str() {
        "command" => list.sort_by(|a, b| a.command.cmp(&b.command)),
        "id" => list.sort_by(|a, b| a.id.cmp(&b.id)),
        "image" => list.sort_by(|a, b| a.image_name.cmp(&b.image_name)),
        "names" => list.sort_by(|a, b| a.name.cmp(&b.name)),
        "status" => list.sort_by(|a, b| a.status.as_str().cmp(b.status.as_str())),
        // runningfor: the newest (the shortest running) first
        "runningfor" => list.sort_by_key(|c| std::cmp::Reverse(c.created_at)),
        // created (the default): the oldest first, as Podman lists them
        _ => list.sort_by_key(|c| c.created_at),
    }
    if let Some(n) = args.last.or(args.latest.then_some(1)) {
        // the newest n, in the order asked for
        let mut newest: Vec<&ContainerBrief> = list.clone();
        newest.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        let keep: std::collections::HashSet<String> = newest.iter().take(n).map(|c| c.id.clone()).collect();
        list.retain(|c| keep.contains(&c.id));
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
            let v: Vec<Value> = list.iter().map(|c| ps_json(engine, c)).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Some(t) => {
            let mut t = Template::parse(t).map_err(anyhow::Error::msg)?;
            t.table &= !args.noheading;
            let rows: Vec<Value> = list.iter().map(|c| ps_row(engine, c, args.no_trunc)).collect();
            t.write_rows(&rows, &[("ID", "CONTAINER ID"), ("Names", "NAMES"), ("RunningFor", "CREATED")], &mut out)?;
        }
        None => {
            let mut header = vec!["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];
            if args.pod {
                header.extend(["POD ID", "PODNAME"]);
            }
            let mut table = if args.noheading { Table::headless() } else { Table::new(&header) };
            for c in &list {
                let mut cmd = c.command.join(" ");
                if !args.no_trunc && cmd.chars().count() > 20 {
                    cmd = format!("{}...", cmd.chars().take(17).collect::<String>());
                }
                let id = if args.no_trunc { c.id.clone() } else { c.short_id().to_string() };
                let mut cells = vec![
                    id,
                    c.image_name.clone(),
                    cmd,
                    ago(Some(c.created_at)),
                    status_text(c, engine.health_status(c)),
                    ports_text(engine, c),
                    c.name.clone(),
                ];
                if args.pod {
                    let (pod_id, pod_name) = pod_of(engine, c);
                    let pod_id = if args.no_trunc { pod_id } else { pod_id.chars().take(12).collect() };
                    cells.extend([pod_id, pod_name]);
                }
                table.row(cells);
            }
            table.print(&mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
