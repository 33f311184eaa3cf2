//! `top`: a container's processes, with times as Podman (Go) prints them.

use std::process::ExitCode;

use berth_engine::Engine;
use clap::Args;

use crate::format::Table;

#[derive(Args)]
pub struct TopArgs {
    pub container: String,
    /// Format descriptors of the columns (user, huser, pid, hpid, ppid, pcpu, etime, tty, time,
    /// args, comm, group, hgroup, nice, vsz, state), comma- or space-separated
    #[arg(value_name = "DESCRIPTORS")]
    pub descriptors: Vec<String>,
}

/// The descriptors Podman's top knows that Berth shows, with their headers.
const DESCRIPTORS: &[(&str, &str)] = &[
    ("user", "USER"),
    ("huser", "HUSER"),
    ("pid", "PID"),
    ("hpid", "HPID"),
    ("ppid", "PPID"),
    ("pcpu", "%CPU"),
    ("etime", "ELAPSED"),
    ("tty", "TTY"),
    ("time", "TIME"),
    ("args", "COMMAND"),
    ("comm", "COMMAND"),
    ("group", "GROUP"),
    ("hgroup", "HGROUP"),
    ("nice", "NI"),
    ("vsz", "VSZ"),
    ("state", "STATE"),
];

/// Names of the host's users or groups (`/etc/passwd`, `/etc/group`) by id.
fn host_names(file: &str) -> std::collections::HashMap<u32, String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.get(2)?.parse().ok()?, f[0].to_string()))
        })
        .collect()
}

/// A duration as Go prints one (`1h2m3.5s`), which is how Podman's top shows times.
fn go_duration(secs: f64) -> String {
    let (h, rest) = ((secs / 3600.0).floor(), secs % 3600.0);
    let (m, s) = ((rest / 60.0).floor(), rest % 60.0);
    let s = format!("{s:.3}").trim_end_matches('0').trim_end_matches('.').to_string() + "s";
    match (h as u64, m as u64) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

/// `berth top`: the container's processes.
pub fn top(engine: &Engine, args: &TopArgs) -> anyhow::Result<ExitCode> {
    top_of(engine, std::slice::from_ref(&args.container), &args.descriptors)
}

/// The processes of several containers in one table (`pod top`).
pub fn top_of(engine: &Engine, containers: &[String], descriptors: &[String]) -> anyhow::Result<ExitCode> {
    let mut wanted: Vec<&str> = descriptors.iter().flat_map(|d| d.split(',')).filter(|d| !d.is_empty()).collect();
    if wanted.is_empty() {
        wanted = vec!["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"];
    }
    let mut headers = Vec::new();
    for d in &wanted {
        match DESCRIPTORS.iter().find(|(name, _)| name == d) {
            Some((_, header)) => headers.push(*header),
            None => anyhow::bail!(
                "unknown top descriptor \"{d}\": use {}",
                DESCRIPTORS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    let mut rows = Vec::new();
    for c in containers {
        rows.extend(engine.container_top(c)?);
    }
    let (host_users, host_groups) = (host_names("/etc/passwd"), host_names("/etc/group"));
    let mut table = Table::new(&headers);
    for r in rows {
        table.row(
            wanted
                .iter()
                .map(|d| match *d {
                    "user" => r.user.clone(),
                    "huser" => host_users.get(&r.host_uid).cloned().unwrap_or_else(|| r.host_uid.to_string()),
                    "pid" => r.pid.to_string(),
                    "hpid" => r.host_pid.to_string(),
                    "ppid" => r.ppid.to_string(),
                    "pcpu" => format!("{:.3}", r.cpu_percent),
                    "etime" => go_duration(r.elapsed),
                    "tty" => r.tty.clone(),
                    "time" => go_duration(r.cpu_time.floor()),
                    "args" => r.command.clone(),
                    "comm" => r.comm.clone(),
                    "group" => r.group.clone(),
                    "hgroup" => host_groups.get(&r.host_gid).cloned().unwrap_or_else(|| r.host_gid.to_string()),
                    "nice" => r.nice.to_string(),
                    "vsz" => r.vsz_kib.to_string(),
                    _ => r.state.clone(),
                })
                .collect(),
        );
    }
    table.print(&mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
