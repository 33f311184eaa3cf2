//! `berth network …`: create, list, inspect and remove networks, printed as Podman prints them.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use berth_engine::network::NetworkRecord;
use berth_engine::Engine;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::format::Table;
use crate::template::Template;

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Create a bridge network; its containers find each other by name
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show networks' configuration
    Inspect(InspectArgs),
    /// Remove networks
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Whether a network exists (status 0) or not (1)
    Exists(crate::format::ExistsArgs),
    /// Remove every network (but the default) no container is in
    Prune(PruneArgs),
    /// Connect a container to a network (at once, when it runs)
    Connect(ConnectArgs),
    /// Disconnect a container from a network (at once, when it runs)
    Disconnect(DisconnectArgs),
    /// Put running containers' firewall rules back (after a firewall reload took them)
    Reload(ReloadArgs),
}

#[derive(Args)]
pub struct ReloadArgs {
    /// Containers, by name or id
    pub containers: Vec<String>,
    /// Every running container
    #[arg(short, long)]
    pub all: bool,
    /// The container made last
    #[arg(short, long)]
    pub latest: bool,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct CreateArgs {
    pub name: String,
    /// Subnet in CIDR form, IPv4 or IPv6; give one of each for both (default: the next free
    /// /24 of the pool, and with --ipv6 the next free /64)
    #[arg(long)]
    pub subnet: Vec<ipnet::IpNet>,
    /// IPv4 gateway address (default: the subnet's first address)
    #[arg(long)]
    pub gateway: Option<std::net::Ipv4Addr>,
    /// Give the network's containers IPv6 addresses too (dual stack)
    #[arg(long)]
    pub ipv6: bool,
    /// Add metadata (KEY=VALUE)
    #[arg(long)]
    pub label: Vec<String>,
    /// Its containers reach each other and its gateway only: nothing outside it
    #[arg(long)]
    pub internal: bool,
}

#[derive(Args)]
pub struct ConnectArgs {
    pub network: String,
    pub container: String,
    /// Another name of the container, which the network's name server answers
    #[arg(long, value_name = "NAME")]
    pub alias: Vec<String>,
}

#[derive(Args)]
pub struct DisconnectArgs {
    pub network: String,
    pub container: String,
    /// Accepted, as Podman's (the container leaves the network whether it runs or not)
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct LsArgs {
    /// Show only names
    #[arg(short, long)]
    pub quiet: bool,
    /// Print no header line
    #[arg(long, alias = "no-heading")]
    pub noheading: bool,
    /// Output format: json, or a template such as "{{.Name}}"
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    #[arg(required = true, value_name = "NETWORK")]
    pub names: Vec<String>,
    /// Output format: json (default) or a template such as "{{.Subnets}}"
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct RmArgs {
    #[arg(required = true, value_name = "NETWORK")]
    pub names: Vec<String>,
    /// Remove the containers using the network first
    #[arg(short, long)]
    pub force: bool,
    /// With --force: seconds to let each of those containers stop before it is killed
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
}

/// A network as Podman's Go templates see it: the fields of its struct, by their Go names.
fn template_row(n: &NetworkRecord) -> Value {
    json!({
        "Name": n.name,
        "ID": n.id,
        "Driver": n.driver,
        "NetworkInterface": n.bridge,
        "Created": n.created.to_rfc3339(),
        "Subnets": n.subnets().into_iter().map(|(s, g)| json!({"Subnet": s, "Gateway": g})).collect::<Vec<_>>(),
        "IPv6Enabled": n.subnet6.is_some(),
        "Internal": n.internal,
        "DNSEnabled": n.dns,
        "Labels": n.labels,
        "Options": {},
        "IPAMOptions": {"driver": "host-local"},
    })
}

pub fn run(engine: &Engine, cmd: &NetworkCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        NetworkCommand::Create(a) => {
            let labels = crate::format::labels(&a.label);
            let (mut subnet, mut subnet6) = (None, None);
            for s in &a.subnet {
                let taken = match s {
                    ipnet::IpNet::V4(s) => subnet.replace(*s).is_some(),
                    ipnet::IpNet::V6(s) => subnet6.replace(*s).is_some(),
                };
                if taken {
                    anyhow::bail!("--subnet {s}: give at most one IPv4 and one IPv6 subnet");
                }
            }
            let opts = berth_engine::NetworkCreate {
                subnet,
                gateway: a.gateway,
                labels,
                internal: a.internal,
                ipv6: a.ipv6,
                subnet6,
            };
            let n = engine.create_network(&a.name, opts)?;
            println!("{}", n.name);
        }
        NetworkCommand::Ls(a) => {
            let list = engine.networks()?;
            let out = std::io::stdout();
            let mut out = out.lock();
            if a.quiet {
                for n in &list {
                    writeln!(out, "{}", n.name)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            match a.format.as_deref() {
                Some("json") => {
                    let v: Vec<Value> = list.iter().map(berth_engine::network_inspect).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                }
                Some(t) => {
                    let mut t = Template::parse(t).map_err(anyhow::Error::msg)?;
                    t.table &= !a.noheading;
                    let rows: Vec<Value> = list
                        .iter()
                        .map(|n| {
                            let mut row = template_row(n);
                            row["ID"] = json!(n.id[..12]);
                            row
                        })
                        .collect();
                    t.write_rows(&rows, &[("ID", "NETWORK ID")], &mut out)?;
                }
                None => {
                    let mut table =
                        if a.noheading { Table::headless() } else { Table::new(&["NETWORK ID", "NAME", "DRIVER"]) };
                    for n in &list {
                        table.row(vec![n.id[..12].to_string(), n.name.clone(), n.driver.clone()]);
                    }
                    table.print(&mut out)?;
                }
            }
        }
        NetworkCommand::Inspect(a) => {
            let mut found = Vec::new();
            let mut missing = None;
            for name in &a.names {
                match engine.network(name) {
                    Ok(n) => found.push(n),
                    Err(e) => missing = Some(e),
                }
            }
            match a.format.as_deref() {
                None | Some("json") => {
                    let v: Vec<Value> = found.iter().map(berth_engine::network_inspect).collect();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                Some(t) => {
                    let t = Template::parse(t).map_err(anyhow::Error::msg)?;
                    for n in &found {
                        println!("{}", t.render(&template_row(n)).map_err(anyhow::Error::msg)?);
                    }
                }
            }
            if let Some(e) = missing {
                return Err(e).context("inspecting networks");
            }
        }
        NetworkCommand::Exists(a) => return crate::format::exists(engine.network(&a.name)),
        NetworkCommand::Connect(a) => drop(engine.connect_network(&a.network, &a.container, &a.alias)?),
        NetworkCommand::Disconnect(a) => drop(engine.disconnect_network(&a.network, &a.container)?),
        NetworkCommand::Reload(a) => return reload(engine, a),
        NetworkCommand::Prune(a) => {
            if !a.force && !crate::format::confirm("This will remove all networks not used by at least one container.")?
            {
                return Ok(ExitCode::SUCCESS);
            }
            for name in engine.prune_networks()? {
                println!("{name}");
            }
        }
        NetworkCommand::Rm(a) => {
            let mut failed = None;
            let mut missing = false;
            for name in &a.names {
                if let (true, Some(secs)) = (a.force, a.time) {
                    engine.stop_network_members(name, std::time::Duration::from_secs(secs))?;
                }
                match engine.remove_network(name, a.force) {
                    Ok(n) => println!("{}", n.name),
                    // as Podman: nothing to say with --force, else its words and status 1
                    Err(berth_engine::Error::Network(berth_engine::network::NetworkError::NotFound(_))) if a.force => {}
                    Err(berth_engine::Error::Network(berth_engine::network::NetworkError::NotFound(n))) => {
                        eprintln!("Error: unable to find network with name or ID {n}: network not found");
                        missing = true;
                    }
                    Err(e) => {
                        if let Some(prev) = failed.replace(e) {
                            eprintln!("Error: {prev}");
                        }
                    }
                }
            }
            if let Some(e) = failed {
                return Err(e.into());
            }
            if missing {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `network reload`: the ids of the containers whose rules were put back; a container that
/// can't be reloaded is named on stderr and the others go on (status 125 at the end).
fn reload(engine: &Engine, a: &ReloadArgs) -> anyhow::Result<ExitCode> {
    if a.all && a.latest {
        anyhow::bail!("--all, --latest and containers cannot be used together: give one of them");
    }
    if (a.all || a.latest) && !a.containers.is_empty() {
        let flag = if a.all { "--all" } else { "--latest" };
        anyhow::bail!("{flag} and containers cannot be used together: give one of them");
    }
    let targets: Vec<String> = if a.all {
        engine.containers_brief()?.into_iter().filter(|c| c.is_running()).map(|c| c.id).collect()
    } else if a.latest {
        engine.containers()?.into_iter().max_by_key(|c| c.created_at).map(|c| c.id).into_iter().collect()
    } else if a.containers.is_empty() {
        anyhow::bail!("network reload needs containers, --all or --latest");
    } else {
        a.containers.clone()
    };
    let mut failed = false;
    for t in &targets {
        match engine.reload_network(t) {
            Ok(c) => println!("{}", c.id),
            Err(e) => {
                eprintln!("Error: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::from(125) } else { ExitCode::SUCCESS })
}
