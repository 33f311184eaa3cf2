//! `berth pod …`: pods as Podman's (create with an infra container, start, stop, restart, kill,
//! pause, unpause, rm, ps, inspect, exists, top, logs, stats, prune), printed as Podman prints
//! them.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use berth_engine::pod::{PodError, PodOptions, PodRecord};
use berth_engine::{Engine, Error};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::format::{ago, Table};
use crate::template::Template;

#[derive(Subcommand)]
pub enum PodCommand {
    /// Create a pod: containers that share namespaces held by its infra container
    Create(Box<CreateArgs>),
    /// Start pods (the infra container first)
    Start(SelectArgs),
    /// Stop pods (their containers, then the infra container)
    Stop(StopArgs),
    /// Restart pods
    Restart(SelectArgs),
    /// Send a signal to the running containers of pods
    Kill(KillArgs),
    /// Pause every running container of pods
    Pause(SelectArgs),
    /// Unpause every paused container of pods
    Unpause(SelectArgs),
    /// Remove pods and their containers
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// List pods
    #[command(aliases = ["ls", "list"])]
    Ps(PsArgs),
    /// Show a pod's configuration and containers
    Inspect(InspectArgs),
    /// Whether a pod exists (status 0) or not (1)
    Exists(crate::format::ExistsArgs),
    /// Show the processes of a pod's containers
    Top(TopArgs),
    /// Show the output of a pod's containers
    Logs(LogsArgs),
    /// Show the resource usage of a pod's containers
    Stats(StatsArgs),
    /// Remove every pod none of whose containers run
    Prune(PruneArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The pod's name (default: a random one)
    #[arg(short, long)]
    pub name: Option<String>,
    /// Make an infra container holding the shared namespaces (--infra=false: none, and nothing
    /// shared)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub infra: bool,
    /// The image the infra container runs (default: Berth's pause process, no image)
    #[arg(long, value_name = "IMAGE")]
    pub infra_image: Option<String>,
    /// The infra container's command (a string, or a JSON array)
    #[arg(long, value_name = "COMMAND")]
    pub infra_command: Option<String>,
    /// The infra container's name (default: the pod id's first 12 characters, then -infra)
    #[arg(long, value_name = "NAME")]
    pub infra_name: Option<String>,
    /// Namespaces the pod's containers share: cgroup, ipc, net, pid, uts, or none; +NS adds to
    /// the default (ipc,net,uts)
    #[arg(long)]
    pub share: Option<String>,
    /// The pod's host name (default: its name)
    #[arg(long)]
    pub hostname: Option<String>,
    /// The pod's network: bridge (the default), host, none, or a network's name
    #[arg(long, alias = "net")]
    pub network: Option<String>,
    /// Another name for the pod on its network
    #[arg(long, value_name = "ALIAS")]
    pub network_alias: Vec<String>,
    /// The MAC address of the pod's interface on its network
    #[arg(long, value_name = "MAC")]
    pub mac_address: Option<String>,
    /// Publish a port of the pod on the host: [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Name server to use instead of the host's
    #[arg(long, value_parser = |s: &str| berth_engine::network::parse_dns(s).map_err(|e| e.to_string()))]
    pub dns: Vec<std::net::IpAddr>,
    /// DNS search domain
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// An options line for resolv.conf
    #[arg(long, alias = "dns-opt")]
    pub dns_option: Vec<String>,
    /// Add a line to /etc/hosts (NAME:IP)
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Add metadata (KEY=VALUE)
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Read labels from a file of KEY=VALUE lines
    #[arg(long)]
    pub label_file: Vec<PathBuf>,
    /// Write the pod's id to this file
    #[arg(long)]
    pub pod_id_file: Option<PathBuf>,
    /// Remove a pod of the same --name first
    #[arg(long)]
    pub replace: bool,
    /// When the last container exits: continue (the pod keeps running) or stop
    #[arg(long, default_value = "continue")]
    pub exit_policy: String,
    /// The pod's name (as --name)
    #[arg(value_name = "NAME")]
    pub name_arg: Option<String>,
}

#[derive(Args)]
pub struct SelectArgs {
    /// Every pod
    #[arg(short, long)]
    pub all: bool,
    /// The pod created last
    #[arg(short, long)]
    pub latest: bool,
    #[arg(value_name = "POD")]
    pub pods: Vec<String>,
}

#[derive(Args)]
pub struct StopArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    /// Pods that do not exist are no error
    #[arg(short, long)]
    pub ignore: bool,
}

#[derive(Args)]
pub struct KillArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// The signal (a name or number)
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
}

#[derive(Args)]
pub struct RmArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Stop running containers first
    #[arg(short, long)]
    pub force: bool,
    /// With --force: seconds to wait for each container to stop before killing it
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    /// Pods that do not exist are no error
    #[arg(short, long)]
    pub ignore: bool,
    /// Read the pod's id from this file
    #[arg(long)]
    pub pod_id_file: Vec<PathBuf>,
}

#[derive(Args)]
pub struct PsArgs {
    /// Show only ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't truncate ids
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format: json, or a template such as "{{.Name}}"
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: id, name, label, status, ctr-names, ctr-ids, ctr-status, ctr-number
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Print no header line
    #[arg(long, alias = "no-heading")]
    pub noheading: bool,
    /// Show the names of the pods' containers
    #[arg(long)]
    pub ctr_names: bool,
    /// Show the ids of the pods' containers
    #[arg(long)]
    pub ctr_ids: bool,
    /// Show the states of the pods' containers
    #[arg(long)]
    pub ctr_status: bool,
    /// Sort by: created, id, name, number, status
    #[arg(long, default_value = "created", value_parser = ["created", "id", "name", "number", "status"])]
    pub sort: String,
    /// The pod created last
    #[arg(short, long)]
    pub latest: bool,
}

#[derive(Args)]
pub struct InspectArgs {
    #[arg(value_name = "POD")]
    pub pods: Vec<String>,
    /// Output format: json (default) or a template such as "{{.State}}"
    #[arg(short, long)]
    pub format: Option<String>,
    /// The pod created last
    #[arg(short, long)]
    pub latest: bool,
}

#[derive(Args)]
pub struct TopArgs {
    pub pod: String,
    /// Format descriptors of the columns, as `top`'s
    #[arg(value_name = "DESCRIPTORS")]
    pub descriptors: Vec<String>,
}

#[derive(Args)]
pub struct LogsArgs {
    pub pod: String,
    /// Only this container of the pod
    #[arg(short, long)]
    pub container: Option<String>,
    /// Follow the output
    #[arg(short, long)]
    pub follow: bool,
    /// Show only the last N lines of each container
    #[arg(long)]
    pub tail: Option<usize>,
    /// Show lines since a time (RFC 3339, or a duration such as 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show lines until a time
    #[arg(long)]
    pub until: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
}

#[derive(Args)]
pub struct StatsArgs {
    /// Pods (default: every one)
    #[arg(value_name = "POD")]
    pub pods: Vec<String>,
    /// Every pod
    #[arg(short, long)]
    pub all: bool,
    /// Show one sample and exit
    #[arg(long)]
    pub no_stream: bool,
    /// Output format: json, or a template such as "{{.CPUPerc}}"
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// `--infra-command`: a JSON array, or words.
fn command_words(s: &str) -> anyhow::Result<Vec<String>> {
    if s.trim_start().starts_with('[') {
        serde_json::from_str(s).with_context(|| format!("--infra-command {s}: not a JSON array of strings"))
    } else {
        Ok(s.split_whitespace().map(String::from).collect())
    }
}

/// The pod `pod create` (and `run --pod new:NAME`) asks for.
pub fn pod_options(args: &CreateArgs) -> anyhow::Result<PodOptions> {
    let share = match &args.share {
        Some(s) => berth_engine::pod::parse_share(s).map_err(anyhow::Error::msg)?,
        None if args.infra => berth_engine::pod::DEFAULT_SHARE.to_vec(),
        None => Vec::new(),
    };
    let mut label_flags = Vec::new();
    for file in &args.label_file {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading label file {}", file.display()))?;
        label_flags
            .extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from));
    }
    label_flags.extend(args.label.iter().cloned());
    if let (Some(a), Some(b)) = (&args.name, &args.name_arg) {
        if a != b {
            bail!("the pod is named twice, --name {a} and {b}: give one name");
        }
    }
    Ok(PodOptions {
        name: args.name.clone().or_else(|| args.name_arg.clone()),
        labels: crate::format::labels(&label_flags),
        infra: args.infra,
        infra_image: args.infra_image.clone(),
        infra_command: args.infra_command.as_deref().map(command_words).transpose()?,
        infra_name: args.infra_name.clone(),
        share,
        hostname: args.hostname.clone(),
        // `private`: a network of its own, the default bridge's
        network: args.network.clone().filter(|n| n != "private"),
        network_aliases: args.network_alias.clone(),
        mac_address: args.mac_address.clone(),
        ports: args
            .publish
            .iter()
            .map(|p| berth_engine::network::parse_publish(p))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
        dns: args.dns.clone(),
        dns_search: args.dns_search.clone(),
        dns_options: args.dns_option.clone(),
        add_hosts: args
            .add_host
            .iter()
            .map(|h| berth_engine::network::parse_add_host(h))
            .collect::<Result<Vec<_>, _>>()?,
        exit_policy: berth_engine::pod::ExitPolicy::parse(&args.exit_policy).map_err(anyhow::Error::msg)?,
        create_command: std::env::args().collect(),
    })
}

/// Makes a pod, its infra image pulled first when it is not here.
pub async fn create_pod(engine: &Engine, opts: PodOptions) -> anyhow::Result<PodRecord> {
    if let Some(image) = &opts.infra_image {
        crate::pull::pull_if_missing(engine, image).await?;
    }
    Ok(engine.create_pod(opts)?)
}

async fn create(engine: &Engine, args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let opts = pod_options(args)?;
    if let (true, Some(name)) = (args.replace, args.name.as_ref().or(args.name_arg.as_ref())) {
        match engine.pod(name) {
            Ok(old) => drop(engine.remove_pod(&old.id, true, Some(Duration::ZERO))?),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(path) = &args.pod_id_file {
        if path.exists() {
            bail!("pod id file {} exists: remove it, or name another with --pod-id-file", path.display());
        }
    }
    let p = create_pod(engine, opts).await?;
    if let Some(path) = &args.pod_id_file {
        if let Err(e) = std::fs::write(path, &p.id) {
            let _ = engine.remove_pod(&p.id, true, Some(Duration::ZERO));
            bail!("writing the pod id to {}: {e}", path.display());
        }
    }
    println!("{}", p.id);
    Ok(ExitCode::SUCCESS)
}

/// The pods a verb acts on: those named, every one (`--all`) or the newest (`--latest`).
fn selected(engine: &Engine, s: &SelectArgs) -> anyhow::Result<Vec<String>> {
    if (s.latest && (s.all || !s.pods.is_empty())) || (s.all && !s.pods.is_empty()) {
        bail!("--all, --latest and arguments cannot be used together: give one of them");
    }
    if s.all {
        return Ok(engine.pods()?.into_iter().map(|p| p.id).collect());
    }
    if s.latest {
        let newest = engine.pods()?.into_iter().max_by_key(|p| p.created_at);
        return Ok(vec![newest.map(|p| p.id).ok_or_else(|| anyhow::anyhow!("no pods: --latest needs one"))?]);
    }
    if s.pods.is_empty() {
        bail!("specify one or more pods, or --all");
    }
    Ok(s.pods.clone())
}

/// Runs `f` on each pod, printing the id of each it did; the last error is returned, the
/// others printed. A pod that is not there is status 1 (Podman's); `ignore` skips it.
fn each_pod(
    engine: &Engine,
    names: &[String],
    ignore: bool,
    f: impl Fn(&str) -> berth_engine::Result<PodRecord>,
) -> anyhow::Result<ExitCode> {
    let mut failed: Option<Error> = None;
    let mut missing = false;
    for name in names {
        match f(name) {
            Ok(p) => println!("{}", p.id),
            Err(Error::Pod(PodError::NotFound(_))) if ignore => {}
            Err(e) => {
                missing |= matches!(e, Error::Pod(PodError::NotFound(_)));
                if let Some(prev) = failed.replace(e) {
                    eprintln!("Error: {prev}");
                }
            }
        }
    }
    let _ = engine;
    match failed {
        Some(e) if missing && matches!(e, Error::Pod(PodError::NotFound(_))) => {
            eprintln!("Error: {e}");
            Ok(ExitCode::from(1))
        }
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// A pod as `pod ps` shows it (Podman's JSON), with the template's extra fields.
fn ps_json(engine: &Engine, p: &PodRecord) -> anyhow::Result<Value> {
    let members = engine.pod_containers(p)?;
    let statuses: Vec<_> = members.iter().map(|c| c.status).collect();
    Ok(json!({
        "Cgroup": berth_engine::rootless::cgroup_parent(),
        "Containers": members.iter().map(|c| json!({
            "Id": c.id,
            "Names": c.name,
            "Status": c.status.as_str(),
        })).collect::<Vec<_>>(),
        "Created": p.created_at.to_rfc3339(),
        "Id": p.id,
        "InfraId": p.infra_id.clone().unwrap_or_default(),
        "Name": p.name,
        "Namespace": "",
        "Networks": [p.options.network.clone().unwrap_or_else(|| "bridge".into())],
        "Status": berth_engine::pod::state(&statuses),
        "Labels": p.options.labels,
    }))
}

fn ps_row(engine: &Engine, p: &PodRecord, no_trunc: bool) -> anyhow::Result<Value> {
    let mut v = ps_json(engine, p)?;
    let short = |id: &str| if no_trunc { id.to_string() } else { id.chars().take(12).collect() };
    let members = v["Containers"].as_array().cloned().unwrap_or_default();
    let text = |key: &str| members.iter().map(|m| m[key].as_str().unwrap_or("").to_string()).collect::<Vec<_>>();
    v["ID"] = json!(short(&p.id));
    v["InfraID"] = json!(short(p.infra_id.as_deref().unwrap_or("")));
    v["Created"] = json!(ago(Some(p.created_at)));
    v["NumberOfContainers"] = json!(members.len());
    v["ContainerIds"] = json!(text("Id").iter().map(|i| short(i)).collect::<Vec<_>>().join(","));
    v["ContainerNames"] = json!(text("Names").join(","));
    v["ContainerStatuses"] = json!(text("Status").join(","));
    v["Networks"] = json!(p.options.network.clone().unwrap_or_else(|| "bridge".into()));
    Ok(v)
}

fn matches_filter(engine: &Engine, p: &PodRecord, key: &str, value: &str) -> anyhow::Result<bool> {
    let members = || engine.pod_containers(p);
    Ok(match key {
        "id" => p.id.starts_with(value),
        "name" => p.name.contains(value),
        "label" => {
            let (k, v) = value.split_once('=').map_or((value, None), |(a, b)| (a, Some(b)));
            p.options.labels.get(k).is_some_and(|x| v.is_none_or(|v| x == v))
        }
        "status" => engine.pod_state(p)?.eq_ignore_ascii_case(value),
        "ctr-names" => members()?.iter().any(|c| c.name.contains(value)),
        "ctr-ids" => members()?.iter().any(|c| c.id.starts_with(value)),
        "ctr-status" => members()?.iter().any(|c| c.status.as_str() == value),
        "ctr-number" => members()?.len().to_string() == value,
        "network" => p.options.network.as_deref().unwrap_or("bridge") == value,
        other => bail!("invalid pod filter {other:?}: use id, name, label, status, ctr-names, ctr-ids, ctr-status, ctr-number or network"),
    })
}

fn ps(engine: &Engine, args: &PsArgs) -> anyhow::Result<ExitCode> {
    let mut pods = engine.pods()?;
    let mut by_key: Vec<(String, Vec<String>)> = Vec::new();
    for f in &args.filter {
        let (k, v) = f.split_once('=').with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
        match by_key.iter_mut().find(|(key, _)| key == k) {
            Some((_, vs)) => vs.push(v.to_string()),
            None => by_key.push((k.to_string(), vec![v.to_string()])),
        }
    }
    let mut kept = Vec::new();
    for p in pods.drain(..) {
        let mut ok = true;
        for (k, vs) in &by_key {
            // values of one key are alternatives; labels must all be there
            let hit = if k == "label" {
                vs.iter()
                    .map(|v| matches_filter(engine, &p, k, v))
                    .collect::<anyhow::Result<Vec<_>>>()?
                    .iter()
                    .all(|b| *b)
            } else {
                vs.iter()
                    .map(|v| matches_filter(engine, &p, k, v))
                    .collect::<anyhow::Result<Vec<_>>>()?
                    .iter()
                    .any(|b| *b)
            };
            ok &= hit;
        }
        if ok {
            kept.push(p);
        }
    }
    let mut pods = kept;
    match args.sort.as_str() {
        "id" => pods.sort_by(|a, b| a.id.cmp(&b.id)),
        "name" => pods.sort_by(|a, b| a.name.cmp(&b.name)),
        "number" => pods.sort_by_key(|p| engine.pod_containers(p).map(|c| c.len()).unwrap_or(0)),
        "status" => pods.sort_by_key(|p| engine.pod_state(p).unwrap_or("")),
        _ => pods.sort_by_key(|p| std::cmp::Reverse(p.created_at)),
    }
    if args.latest {
        pods.truncate(1);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let short = |id: &str| if args.no_trunc { id.to_string() } else { id.chars().take(12).collect::<String>() };
    if args.quiet {
        for p in &pods {
            writeln!(out, "{}", short(&p.id))?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    match args.format.as_deref() {
        Some("json") => {
            let v = pods.iter().map(|p| ps_json(engine, p)).collect::<anyhow::Result<Vec<_>>>()?;
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Some(t) => {
            let mut t = Template::parse(t).map_err(anyhow::Error::msg)?;
            t.table &= !args.noheading;
            let rows = pods.iter().map(|p| ps_row(engine, p, args.no_trunc)).collect::<anyhow::Result<Vec<_>>>()?;
            t.write_rows(&rows, &[("ID", "POD ID"), ("NumberOfContainers", "# OF CONTAINERS")], &mut out)?;
        }
        None => {
            let mut header = vec!["POD ID", "NAME", "STATUS", "CREATED", "INFRA ID"];
            if args.ctr_ids {
                header.push("IDS");
            }
            if args.ctr_names {
                header.push("NAMES");
            }
            if args.ctr_status {
                header.push("STATUS");
            }
            if !(args.ctr_ids || args.ctr_names || args.ctr_status) {
                header.push("# OF CONTAINERS");
            }
            let mut table = if args.noheading { Table::headless() } else { Table::new(&header) };
            for p in &pods {
                let row = ps_row(engine, p, args.no_trunc)?;
                let s = |k: &str| row[k].as_str().unwrap_or("").to_string();
                let mut cells = vec![s("ID"), s("Name"), s("Status"), s("Created"), s("InfraID")];
                if args.ctr_ids {
                    cells.push(s("ContainerIds"));
                }
                if args.ctr_names {
                    cells.push(s("ContainerNames"));
                }
                if args.ctr_status {
                    cells.push(s("ContainerStatuses"));
                }
                if !(args.ctr_ids || args.ctr_names || args.ctr_status) {
                    cells.push(row["NumberOfContainers"].to_string());
                }
                table.row(cells);
            }
            table.print(&mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `pod inspect`'s object as a template sees it: Podman's Go names (`ID`, a container's `ID`).
fn template_row(mut v: Value) -> Value {
    v["ID"] = v["Id"].clone();
    if let Some(list) = v["Containers"].as_array_mut() {
        for c in list {
            c["ID"] = c["Id"].clone();
        }
    }
    v
}

fn inspect(engine: &Engine, args: &InspectArgs) -> anyhow::Result<ExitCode> {
    if args.latest && !args.pods.is_empty() {
        bail!("--latest and arguments cannot be used together: give one of them");
    }
    let names = if args.latest {
        let newest = engine.pods()?.into_iter().max_by_key(|p| p.created_at);
        vec![newest.map(|p| p.id).ok_or_else(|| anyhow::anyhow!("no pods: --latest needs one"))?]
    } else if args.pods.is_empty() {
        bail!("specify a pod to inspect, or --latest");
    } else {
        args.pods.clone()
    };
    let mut found = Vec::new();
    let mut missing = None;
    for n in &names {
        match engine.pod_inspect(n) {
            Ok(v) => found.push(v),
            Err(e) => missing = Some(e),
        }
    }
    match args.format.as_deref() {
        // one pod: its object, as Podman 4 prints it; several: a list
        None | Some("json") => {
            let v = if found.len() == 1 && names.len() == 1 { found.remove(0) } else { Value::Array(found) };
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Some(t) => {
            let t = Template::parse(t).map_err(anyhow::Error::msg)?;
            for v in found {
                println!("{}", t.render(&template_row(v)).map_err(anyhow::Error::msg)?);
            }
        }
    }
    if let Some(e) = missing {
        return Err(e.into());
    }
    Ok(ExitCode::SUCCESS)
}

fn ids_of(engine: &Engine, pod: &str) -> anyhow::Result<(PodRecord, Vec<berth_engine::container::ContainerRecord>)> {
    let p = engine.pod(pod)?;
    let members = engine.pod_containers(&p)?;
    Ok((p, members))
}

pub async fn run(engine: Engine, cmd: &PodCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PodCommand::Create(a) => create(&engine, a).await,
        PodCommand::Start(a) => each_pod(&engine, &selected(&engine, a)?, false, |n| engine.start_pod(n)),
        PodCommand::Stop(a) => {
            let t = a.time.map(Duration::from_secs);
            each_pod(&engine, &selected(&engine, &a.select)?, a.ignore, |n| engine.stop_pod(n, t))
        }
        PodCommand::Restart(a) => each_pod(&engine, &selected(&engine, a)?, false, |n| engine.restart_pod(n)),
        PodCommand::Kill(a) => {
            berth_engine::parse_kill_signal(&a.signal).map_err(anyhow::Error::msg)?;
            each_pod(&engine, &selected(&engine, &a.select)?, false, |n| engine.kill_pod(n, &a.signal))
        }
        PodCommand::Pause(a) => each_pod(&engine, &selected(&engine, a)?, false, |n| engine.pause_pod(n, true)),
        PodCommand::Unpause(a) => each_pod(&engine, &selected(&engine, a)?, false, |n| engine.pause_pod(n, false)),
        PodCommand::Rm(a) => {
            let mut names = Vec::new();
            for f in &a.pod_id_file {
                match std::fs::read_to_string(f) {
                    Ok(id) => names.push(id.trim().to_string()),
                    Err(_) if a.ignore => {}
                    Err(e) => bail!("reading pod id file {}: {e}", f.display()),
                }
            }
            if a.pod_id_file.is_empty() || a.select.all || !a.select.pods.is_empty() {
                names.extend(selected(&engine, &a.select)?);
            }
            let t = a.time.map(Duration::from_secs);
            // --force (as Podman 4) ignores pods that are not there
            each_pod(&engine, &names, a.ignore || a.force, |n| engine.remove_pod(n, a.force, t))
        }
        PodCommand::Ps(a) => ps(&engine, a),
        PodCommand::Inspect(a) => inspect(&engine, a),
        PodCommand::Exists(a) => crate::format::exists(engine.pod(&a.name)),
        PodCommand::Top(a) => {
            let (p, members) = ids_of(&engine, &a.pod)?;
            let running: Vec<String> = members.into_iter().filter(|c| c.is_running()).map(|c| c.id).collect();
            if running.is_empty() {
                bail!("pod {} has no running containers: start it first", p.name);
            }
            crate::containers::top_of(&engine, &running, &a.descriptors)
        }
        PodCommand::Logs(a) => {
            let (_, members) = ids_of(&engine, &a.pod)?;
            let mut ids: Vec<String> = members.into_iter().filter(|c| !c.options.pod_infra).map(|c| c.id).collect();
            if let Some(only) = &a.container {
                let c = engine.container(only)?;
                if !ids.contains(&c.id) {
                    bail!("container {only} is not in pod {}", a.pod);
                }
                ids = vec![c.id];
            }
            if ids.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            let logs = crate::containers::LogsArgs {
                containers: ids,
                follow: a.follow,
                tail: a.tail,
                since: a.since.clone(),
                until: a.until.clone(),
                timestamps: a.timestamps,
            };
            crate::containers::logs_prefixed(engine, &logs, true).await
        }
        PodCommand::Stats(a) => {
            let pods = if a.all || a.pods.is_empty() {
                engine.pods()?
            } else {
                a.pods.iter().map(|n| engine.pod(n)).collect::<Result<Vec<_>, _>>()?
            };
            let mut ids = Vec::new();
            for p in &pods {
                ids.extend(engine.pod_containers(p)?.into_iter().filter(|c| c.is_running()).map(|c| c.id));
            }
            if ids.is_empty() {
                bail!("no running containers in the pods given: start them first");
            }
            let stats = crate::containers::StatsArgs {
                containers: ids,
                no_stream: a.no_stream,
                format: a.format.clone(),
                interval: 2,
            };
            crate::containers::stats(engine, &stats).await
        }
        PodCommand::Prune(a) => {
            if !a.force && !crate::format::confirm("This will remove all stopped/exited pods.")? {
                return Ok(ExitCode::SUCCESS);
            }
            for id in engine.prune_pods()? {
                println!("{id}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
