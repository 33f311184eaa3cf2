//! `info` and `version`: what this host and this Berth are, as Podman prints it (YAML or a
//! table by default, `--format json`, or a Go template over Podman's field names).

use std::io::Write;
use std::process::ExitCode;

use berth_engine::{ContainerStatus, Engine};
use clap::Args;
use serde_json::{json, Map, Value};

use crate::service::system::{arch, host_facts, kernel};
use crate::template::render;

#[derive(Args)]
pub struct InfoArgs {
    /// Output format: json, or a template such as "{{.Host.CgroupManager}}" (default: YAML)
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct VersionArgs {
    /// Output format: json, or a template such as "{{.Client.Version}}"
    #[arg(short, long)]
    pub format: Option<String>,
}

/// The Docker API version the service speaks, which `version` reports as the API's.
const API_VERSION: &str = crate::service::API_VERSION;

/// When this binary was built: its file's modification time.
fn built() -> i64 {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

fn version_value() -> Value {
    let built = built();
    let built_time = chrono::DateTime::from_timestamp(built, 0)
        .map(|t| t.with_timezone(&chrono::Local).format("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_default();
    json!({
        "APIVersion": API_VERSION,
        "Version": env!("CARGO_PKG_VERSION"),
        "Built": built,
        "BuiltTime": built_time,
        "OsArch": format!("linux/{}", arch()),
        "Os": "linux",
    })
}

pub fn version(args: &VersionArgs) -> anyhow::Result<ExitCode> {
    let v = version_value();
    // Podman's template sees the client and the server; here both are this binary.
    let both = json!({"Client": v, "Server": v});
    match args.format.as_deref() {
        Some("json") => println!("{}", serde_json::to_string_pretty(&both)?),
        Some(t) => println!("{}", render(t, &both)?),
        None => {
            let rows = [
                ("Version:", v["Version"].as_str().unwrap_or_default().to_string()),
                ("API Version:", API_VERSION.to_string()),
                ("Built:", v["BuiltTime"].as_str().unwrap_or_default().to_string()),
                ("OS/Arch:", v["OsArch"].as_str().unwrap_or_default().to_string()),
            ];
            for (k, v) in rows {
                println!("{k:<14}{v}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn os_release() -> (String, String, String) {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    (field("ID"), field("VERSION_ID"), field("VERSION_CODENAME"))
}

fn meminfo(key: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn uptime() -> String {
    let secs = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|s| s.parse::<f64>().ok()))
        .unwrap_or(0.0) as u64;
    format!("{}h {}m {}s", secs / 3600, secs / 60 % 60, secs % 60)
}

fn on_path(name: &str) -> String {
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()))
        .map(|f| f.display().to_string())
        .unwrap_or_default()
}

/// The cgroup controllers containers can use: cgroup2's list, or the v1 hierarchies mounted.
fn cgroup_controllers() -> Vec<String> {
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers");
    match v2 {
        Ok(list) => list.split_whitespace().map(String::from).collect(),
        Err(_) => {
            let mut names: Vec<String> = ["cpu", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "hugetlb"]
                .iter()
                .filter(|c| std::path::Path::new("/sys/fs/cgroup").join(c).is_dir())
                .map(|c| c.to_string())
                .collect();
            names.sort();
            names
        }
    }
}

/// `berth info`, by Podman's Go field names (templates use them; JSON and YAML lower-case them).
fn info_value(engine: &Engine) -> anyhow::Result<Value> {
    let config = engine.config();
    let host = host_facts(&config.root);
    let containers = engine.containers()?;
    let images = engine.images()?;
    let count = |s: ContainerStatus| containers.iter().filter(|c| c.status == s).count();
    let (distribution, version, codename) = os_release();
    let rootless = berth_engine::rootless::is_rootless();
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    Ok(json!({
        "Host": {
            "Arch": arch(),
            "CgroupManager": "cgroupfs",
            "CgroupsVersion": format!("v{}", host.cgroup_version),
            "CgroupControllers": cgroup_controllers(),
            "CPUs": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "Distribution": {"Distribution": distribution, "Version": version, "Codename": codename},
            "EventLogger": "file",
            "Hostname": nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default(),
            "Kernel": kernel(),
            "LogDriver": "k8s-file",
            "MemFree": meminfo("MemAvailable"),
            "MemTotal": host.mem_total,
            "SwapFree": meminfo("SwapFree"),
            "SwapTotal": meminfo("SwapTotal"),
            "NetworkBackend": "berth",
            "OCIRuntime": {"Name": "berth", "Package": "", "Path": exe, "Version": format!("berth version {}", env!("CARGO_PKG_VERSION"))},
            "OS": "linux",
            "Security": {"Rootless": rootless, "SeccompEnabled": true, "SELinuxEnabled": false, "AppArmorEnabled": false},
            "Pasta": {"Executable": on_path("pasta")},
            "Slirp4NetNS": {"Executable": on_path("slirp4netns")},
            "Uptime": uptime(),
        },
        "Store": {
            "GraphDriverName": "overlay",
            "GraphRoot": config.root.display().to_string(),
            "RunRoot": config.run_root.display().to_string(),
            "VolumePath": config.root.join("volumes").display().to_string(),
            "GraphOptions": {},
            "GraphStatus": {"Backing Filesystem": host.backing_fs, "Supports d_type": "true", "Native Overlay Diff": "true"},
            "ImageStore": {"Number": images.len()},
            "ContainerStore": {
                "Number": containers.len(),
                "Paused": count(ContainerStatus::Paused),
                "Running": containers.iter().filter(|c| c.is_running()).count(),
                "Stopped": count(ContainerStatus::Exited) + count(ContainerStatus::Created),
            },
        },
        // berth pulls only fully qualified names: it searches no registry for short ones
        "Registries": {"Search": []},
        "Version": version_value(),
    }))
}

/// Go's field name as Podman's JSON tags write it (`OCIRuntime` → `ociRuntime`).
fn json_key(go: &str) -> String {
    match go {
        "CPUs" => return "cpus".into(),
        "SELinuxEnabled" => return "selinuxEnabled".into(),
        "CgroupsVersion" => return "cgroupVersion".into(),
        "OS" => return "os".into(),
        _ => {}
    }
    let chars: Vec<char> = go.chars().collect();
    let upper = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    // a run of capitals is an acronym: all of it lower-cased, but for the start of the next word
    let lower = if upper > 1 && upper < chars.len() { upper - 1 } else { upper.max(1) };
    chars.iter().enumerate().map(|(i, c)| if i < lower { c.to_ascii_lowercase() } else { *c }).collect()
}

fn json_keys(v: &Value, convert: bool) -> Value {
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                // maps (GraphStatus) and the version block keep their keys
                let keep = matches!(k.as_str(), "GraphStatus" | "GraphOptions" | "Version");
                out.insert(if convert { json_key(k) } else { k.clone() }, json_keys(x, convert && !keep));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| json_keys(x, convert)).collect()),
        other => other.clone(),
    }
}

/// YAML for a JSON value, as Podman's `info` prints it: maps as `key: value`, lists as `- item`.
fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let scalar = |x: &Value| match x {
        Value::String(s) if s.is_empty() || s.contains(": ") || s.starts_with(['-', '{', '[', '*', '&']) => {
            format!("{s:?}")
        }
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    };
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml(x, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml(x, indent, out);
                    }
                    Value::Object(_) => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    Value::Array(_) => out.push_str(&format!("{pad}{k}: []\n")),
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(x))),
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                match x {
                    Value::Object(_) | Value::Array(_) => {
                        out.push_str(&format!("{pad}-\n"));
                        yaml(x, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(x))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

pub fn info(engine: &Engine, args: &InfoArgs) -> anyhow::Result<ExitCode> {
    let v = info_value(engine)?;
    match args.format.as_deref() {
        Some("json") => println!("{}", serde_json::to_string_pretty(&json_keys(&v, true))?),
        Some(t) => println!("{}", render(t, &v)?),
        None => {
            let mut out = String::new();
            yaml(&json_keys(&v, true), 0, &mut out);
            print!("{out}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_become_podmans_json_names() {
        for (go, want) in [
            ("OCIRuntime", "ociRuntime"),
            ("GraphRoot", "graphRoot"),
            ("CPUs", "cpus"),
            ("ID", "id"),
            ("Host", "host"),
            ("CgroupsVersion", "cgroupVersion"),
        ] {
            assert_eq!(json_key(go), want, "{go}");
        }
    }

    #[test]
    fn df_sizes_are_go_units() {
        for (bytes, want) in [(0, "0B"), (123, "123B"), (5_840_000, "5.84MB"), (1_234_567, "1.235MB"), (12_000, "12kB")]
        {
            assert_eq!(df_size(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn yaml_nests_maps_and_lists() {
        let mut out = String::new();
        yaml(&json!({"host": {"arch": "amd64", "list": ["a", "b"], "empty": {}}, "n": 1}), 0, &mut out);
        assert_eq!(out, "host:\n  arch: amd64\n  empty: {}\n  list:\n  - a\n  - b\nn: 1\n");
    }
}

#[derive(Args)]
pub struct DfArgs {
    /// Output format: json, or a template such as "{{.Type}} {{.Size}}"
    #[arg(long, conflicts_with = "verbose")]
    pub format: Option<String>,
    /// Every image, container and volume with its size
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Remove every image no container uses, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Remove the volumes no container uses too
    #[arg(long)]
    pub volumes: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// A size as Podman's `system df` writes it (go-units' HumanSize): decimal units, four
/// significant digits as `%.4g` gives them, no space.
fn df_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    let before_point = if v < 1.0 { 1 } else { v.log10().floor() as usize + 1 };
    let decimals = 4usize.saturating_sub(before_point);
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    format!("{text}{}", UNITS[u])
}

/// `berth system df -v`: a table each of images, containers and volumes, as Podman's.
fn df_verbose(engine: &Engine) -> anyhow::Result<ExitCode> {
    let root = engine.config().root.clone();
    let (images, containers, volumes) = (engine.images()?, engine.containers()?, engine.volumes()?);
    let usage =
        crate::service::system::df_json(&root, images.clone(), containers.clone(), volumes, engine.volume_users()?);
    let mut out = std::io::stdout().lock();
    writeln!(out, "Images space usage:\n")?;
    let mut t = crate::format::Table::new(&[
        "REPOSITORY",
        "TAG",
        "IMAGE ID",
        "CREATED",
        "SIZE",
        "SHARED SIZE",
        "UNIQUE SIZE",
        "CONTAINERS",
    ]);
    for img in &images {
        for (repo, tag) in crate::images::repo_tags(img) {
            t.row(vec![
                repo,
                tag,
                img.id[..12].to_string(),
                crate::format::ago(img.created),
                df_size(img.size),
                df_size(0),
                df_size(img.size),
                img.containers.len().to_string(),
            ]);
        }
    }
    t.print(&mut out)?;
    writeln!(out, "\nContainers space usage:\n")?;
    let mut t = crate::format::Table::new(&[
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "LOCAL VOLUMES",
        "SIZE",
        "CREATED",
        "STATUS",
        "NAMES",
    ]);
    let sizes = usage["Containers"].as_array().cloned().unwrap_or_default();
    for (c, u) in containers.iter().zip(&sizes) {
        let volumes =
            c.options.mounts.iter().filter(|m| matches!(m, berth_engine::volume::MountRequest::Volume { .. }));
        t.row(vec![
            c.short_id().to_string(),
            c.image_id.get(..12).unwrap_or_default().to_string(),
            c.command.join(" "),
            volumes.count().to_string(),
            df_size(u["SizeRw"].as_u64().unwrap_or(0)),
            crate::format::ago(Some(c.created_at)),
            c.status.as_str().to_string(),
            c.name.clone(),
        ]);
    }
    t.print(&mut out)?;
    writeln!(out, "\nLocal Volumes space usage:\n")?;
    let mut t = crate::format::Table::new(&["VOLUME NAME", "LINKS", "SIZE"]);
    for v in usage["Volumes"].as_array().into_iter().flatten() {
        t.row(vec![
            v["Name"].as_str().unwrap_or_default().to_string(),
            v["UsageData"]["RefCount"].to_string(),
            df_size(v["UsageData"]["Size"].as_u64().unwrap_or(0)),
        ]);
    }
    t.print(&mut out)?;
    Ok(ExitCode::SUCCESS)
}

/// `berth system df`: images, containers and volumes, how many are in use, their size and what
/// a prune would give back.
pub fn df(engine: &Engine, args: &DfArgs) -> anyhow::Result<ExitCode> {
    if args.verbose {
        return df_verbose(engine);
    }
    let usage = engine.disk_usage()?;
    let row = |kind: &str, u: berth_engine::Usage| {
        let percent = (u.reclaimable * 100).checked_div(u.size).unwrap_or(0);
        json!({
            "Type": kind,
            "Total": u.total,
            "Active": u.active,
            "Size": df_size(u.size),
            "Reclaimable": format!("{} ({percent}%)", df_size(u.reclaimable)),
            "RawSize": u.size,
            "RawReclaimable": u.reclaimable,
        })
    };
    let rows = [row("Images", usage.images), row("Containers", usage.containers), row("Local Volumes", usage.volumes)];
    let mut out = std::io::stdout().lock();
    match args.format.as_deref() {
        Some("json") => writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?,
        Some(t) => {
            let t = crate::template::Template::parse(t).map_err(anyhow::Error::msg)?;
            t.write_rows(&rows, &[], &mut out)?;
        }
        None => {
            let mut table = crate::format::Table::new(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
            for r in &rows {
                table.row(
                    ["Type", "Total", "Active", "Size", "Reclaimable"]
                        .iter()
                        .map(|k| r[*k].as_str().map_or_else(|| r[*k].to_string(), str::to_string))
                        .collect(),
                );
            }
            table.print(&mut out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `berth system prune`: the stopped containers, the networks and the dangling images (every
/// unused one with --all) no container uses, and with --volumes the unused volumes.
pub fn prune(engine: &Engine, args: &PruneArgs) -> anyhow::Result<ExitCode> {
    if !args.force {
        let images = if args.all { "all images without at least one container" } else { "all dangling images" };
        let volumes = if args.volumes { "\n\t- all volumes not used by at least one container" } else { "" };
        let what = format!(
            "This command removes:\n\t- all stopped containers\n\t- all networks not used by at least one container{volumes}\n\t- {images}\n"
        );
        if !crate::format::confirm(&what)? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let section = |title: &str, names: &[String]| {
        if !names.is_empty() {
            println!("Deleted {title}");
            for n in names {
                println!("{n}");
            }
        }
    };
    section("Containers", &engine.prune_containers()?);
    section("Networks", &engine.prune_networks()?);
    if args.volumes {
        section("Volumes", &engine.prune_volumes()?);
    }
    let report = engine.prune_images(args.all)?;
    let deleted: Vec<String> = report.images.iter().filter_map(|i| i.deleted.clone()).collect();
    section("Images", &deleted);
    println!("Total reclaimed space: {}", df_size(report.reclaimed));
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct UnshareArgs {
    /// Join the rootless network namespace: berth has none (each rootless container gets a
    /// network of its own from pasta or slirp4netns), so this is refused
    #[arg(long)]
    pub rootless_netns: bool,
    /// The command to run, and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "[COMMAND [ARG...]]")]
    pub command: Vec<String>,
}

/// `berth unshare [COMMAND...]`, rootless only: the command (default: $SHELL) in the user
/// namespace Berth's rootless helpers join, where the user is root and the store's files are
/// owned as the containers see them; CONTAINERS_GRAPHROOT and CONTAINERS_RUNROOT say where the
/// store is, as Podman sets them. The command replaces this process: its status is ours.
pub fn unshare(args: &UnshareArgs, root: &std::path::Path, run_root: &std::path::Path) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    if !berth_engine::rootless::outside() {
        anyhow::bail!("please use unshare with rootless");
    }
    if args.rootless_netns {
        anyhow::bail!(
            "--rootless-netns: berth has no rootless network namespace (each rootless container gets a network of its own from pasta or slirp4netns): leave the flag out"
        );
    }
    let command = match args.command.split_first() {
        Some((program, rest)) => (program.clone(), rest.to_vec()),
        None => (std::env::var("SHELL").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "/bin/sh".into()), Vec::new()),
    };
    berth_engine::rootless::join().map_err(|e| anyhow::anyhow!("entering the user namespace: {e}"))?;
    let err = std::process::Command::new(&command.0)
        .args(&command.1)
        .env("CONTAINERS_GRAPHROOT", root)
        .env("CONTAINERS_RUNROOT", run_root)
        .exec();
    eprintln!("Error: running {}: {err}", command.0);
    // as a container's command: 127 when there is none, 126 when it cannot run
    Ok(ExitCode::from(if err.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 }))
}
