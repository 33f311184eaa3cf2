//! `berth volume …`: create, list, inspect, remove and prune volumes, printed as Podman prints
//! them.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use berth_engine::volume::VolumeRecord;
use berth_engine::Engine;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::format::Table;
use crate::template::Template;

#[derive(Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show volumes' details
    Inspect(InspectArgs),
    /// Remove volumes
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove every volume no container uses
    Prune(PruneArgs),
    /// Whether a volume exists (status 0) or not (1)
    Exists(crate::format::ExistsArgs),
    /// Mount a volume on the host (a volume of options) and print its path
    Mount(NamesArgs),
    /// Undo `volume mount`
    #[command(alias = "umount")]
    Unmount(NamesArgs),
    /// Write a volume's content to a tar archive
    Export(ExportArgs),
    /// Unpack a tar archive (a file, or - for stdin) into a volume
    Import(ImportArgs),
}

#[derive(Args)]
pub struct NamesArgs {
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(value_name = "VOLUME")]
    pub name: String,
    /// Write to this file instead of stdout
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(value_name = "VOLUME")]
    pub name: String,
    /// The tar archive, or - for stdin
    pub source: String,
}

#[derive(Args)]
pub struct CreateArgs {
    /// The name (default: a random one)
    pub name: Option<String>,
    /// Add metadata (KEY=VALUE)
    #[arg(short, long)]
    pub label: Vec<String>,
    /// The local driver's options, mounted on the host when a container uses the volume:
    /// type=FSTYPE|bind, device=WHAT, o=MOUNT-OPTIONS
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// The volume driver (only local)
    #[arg(short, long, default_value = "local")]
    pub driver: String,
}

#[derive(Args)]
pub struct LsArgs {
    /// Show only names
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not print the header
    #[arg(long)]
    pub noheading: bool,
    /// Filter: name=REGEX, label=KEY[=VALUE], driver=NAME, dangling=true|false (in no container)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Output format: json, or a template such as "{{.Name}}"
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    #[arg(required_unless_present = "all", value_name = "VOLUME")]
    pub names: Vec<String>,
    /// Every volume
    #[arg(short, long)]
    pub all: bool,
    /// Output format: json (default), or a template such as "{{.Mountpoint}}"
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct RmArgs {
    #[arg(required_unless_present = "all", value_name = "VOLUME")]
    pub names: Vec<String>,
    /// Remove every volume
    #[arg(short, long)]
    pub all: bool,
    /// Remove the containers using the volume first
    #[arg(short, long)]
    pub force: bool,
    /// With --force: seconds to wait for a using container to stop before killing it
    #[arg(short = 't', long)]
    pub time: Option<u64>,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Prune only the volumes that match: label=KEY[=VALUE], name=REGEX, driver=NAME
    #[arg(long)]
    pub filter: Vec<String>,
}

fn inspect_json(v: &VolumeRecord, users: &[String]) -> Value {
    json!({
        "Name": v.name,
        "Driver": v.driver,
        "Mountpoint": v.mountpoint,
        "CreatedAt": v.created.to_rfc3339(),
        "Labels": v.labels,
        "Scope": "local",
        "Options": v.options,
        "Anonymous": v.anonymous,
        "NeedsCopyUp": v.needs_copy_up,
        "NeedsChown": v.needs_chown,
        "UsedBy": users,
    })
}

/// `volume ls --filter` and `volume prune --filter`.
fn filter(
    list: &mut Vec<VolumeRecord>,
    users: &std::collections::BTreeMap<String, Vec<String>>,
    filters: &[String],
) -> anyhow::Result<()> {
    for f in filters {
        let (k, v) = f.split_once('=').with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
        match k {
            "name" => {
                let re =
                    regex::Regex::new(v).with_context(|| format!("invalid filter {f:?}: not a regular expression"))?;
                list.retain(|vol| re.is_match(&vol.name));
            }
            "label" => {
                let (lk, lv) = v.split_once('=').map_or((v, None), |(a, b)| (a, Some(b)));
                list.retain(|vol| vol.labels.get(lk).is_some_and(|x| lv.is_none_or(|lv| x == lv)));
            }
            "driver" => list.retain(|vol| vol.driver == v),
            "dangling" => {
                let want = matches!(v, "true" | "1");
                list.retain(|vol| users.get(&vol.name).is_none_or(Vec::is_empty) == want);
            }
            other => anyhow::bail!("invalid filter {other:?}: use name, label, driver or dangling"),
        }
    }
    Ok(())
}

pub fn run(engine: &Engine, cmd: &VolumeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        VolumeCommand::Create(a) => {
            if a.driver != "local" {
                anyhow::bail!("volume driver {:?} not found: Berth has only the local driver", a.driver);
            }
            let labels = crate::format::labels(&a.label);
            let mut options = std::collections::BTreeMap::new();
            for o in &a.opt {
                let (k, v) =
                    o.split_once('=').with_context(|| format!("invalid volume option {o:?}: use KEY=VALUE"))?;
                options.insert(k.to_string(), v.to_string());
            }
            println!("{}", engine.create_volume_with(a.name.as_deref(), labels, options)?.name);
        }
        VolumeCommand::Ls(a) => {
            let mut list = engine.volumes()?;
            let users = engine.volume_users()?;
            filter(&mut list, &users, &a.filter)?;
            let out = std::io::stdout();
            let mut out = out.lock();
            if a.quiet {
                for v in &list {
                    writeln!(out, "{}", v.name)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            match a.format.as_deref() {
                Some("json") => {
                    let v: Vec<Value> =
                        list.iter().map(|v| inspect_json(v, users.get(&v.name).map_or(&[], Vec::as_slice))).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                }
                Some(t) => {
                    let mut t = Template::parse(t).map_err(anyhow::Error::msg)?;
                    t.table &= !a.noheading;
                    let rows: Vec<Value> =
                        list.iter().map(|v| inspect_json(v, users.get(&v.name).map_or(&[], Vec::as_slice))).collect();
                    t.write_rows(&rows, &[("Name", "VOLUME NAME")], &mut out)?;
                }
                None => {
                    let mut table =
                        if a.noheading { Table::headless() } else { Table::new(&["DRIVER", "VOLUME NAME"]) };
                    for v in &list {
                        table.row(vec![v.driver.clone(), v.name.clone()]);
                    }
                    table.print(&mut out)?;
                }
            }
        }
        VolumeCommand::Inspect(a) => {
            let users = engine.volume_users()?;
            let mut found = Vec::new();
            let names: Vec<String> =
                if a.all { engine.volumes()?.into_iter().map(|v| v.name).collect() } else { a.names.clone() };
            for name in &names {
                let v = engine.volume(name)?;
                found.push(inspect_json(&v, users.get(&v.name).map_or(&[], Vec::as_slice)));
            }
            match a.format.as_deref() {
                None | Some("json") => println!("{}", serde_json::to_string_pretty(&found)?),
                Some(t) => {
                    let t = Template::parse(t).map_err(anyhow::Error::msg)?;
                    for v in &found {
                        println!("{}", t.render(v).map_err(anyhow::Error::msg)?);
                    }
                }
            }
        }
        VolumeCommand::Rm(a) => {
            if a.all && !a.names.is_empty() {
                anyhow::bail!("when using the --all switch, you may not pass any volume names or IDs");
            }
            let names: Vec<String> =
                if a.all { engine.volumes()?.into_iter().map(|v| v.name).collect() } else { a.names.clone() };
            if let (true, Some(t)) = (a.force, a.time) {
                // stop the users gently first; the removal then takes them with it
                let users = engine.volume_users()?;
                for name in &names {
                    for c in users.get(name).into_iter().flatten() {
                        let _ = engine.stop_container(c, std::time::Duration::from_secs(t));
                    }
                }
            }
            let mut failed = None;
            for name in &names {
                match engine.remove_volume(name, a.force) {
                    // --force: a volume that is not there is no error, as in Podman
                    Err(e) if a.force && e.is_not_found() => {}
                    Ok(v) => println!("{}", v.name),
                    Err(e) => {
                        if let Some(prev) = failed.replace(e) {
                            eprintln!("Error: {prev}");
                        }
                    }
                }
            }
            match failed {
                // Podman's statuses: 1 for a volume that is not there, 2 for one in use
                Some(e)
                    if e.is_not_found()
                        || matches!(
                            e,
                            berth_engine::Error::Volume(berth_engine::volume::VolumeError::InUse { .. })
                        ) =>
                {
                    eprintln!("Error: {e}");
                    return Ok(ExitCode::from(if e.is_not_found() { 1 } else { 2 }));
                }
                Some(e) => return Err(e.into()),
                None => {}
            }
        }
        VolumeCommand::Exists(a) => return crate::format::exists(engine.volume(&a.name)),
        VolumeCommand::Prune(a) => {
            let users = engine.volume_users()?;
            let mut list: Vec<VolumeRecord> =
                engine.volumes()?.into_iter().filter(|v| !users.contains_key(&v.name)).collect();
            filter(&mut list, &users, &a.filter)?;
            if !a.force {
                let mut what = "This will remove all volumes not used by at least one container.".to_string();
                if !list.is_empty() {
                    what.push_str(" The following volumes will be removed:");
                    for v in &list {
                        what.push('\n');
                        what.push_str(&v.name);
                    }
                }
                if !crate::format::confirm(&what)? {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            for v in &list {
                // one taken into use meanwhile stays
                match engine.remove_volume(&v.name, false) {
                    Ok(_) => println!("{}", v.name),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => eprintln!("Error: {e}"),
                }
            }
        }
        VolumeCommand::Mount(a) => {
            for name in &a.names {
                println!("{}", engine.mount_volume(name)?.display());
            }
        }
        VolumeCommand::Unmount(a) => {
            for name in &a.names {
                println!("{}", engine.unmount_volume(name)?.name);
            }
        }
        VolumeCommand::Export(a) => match &a.output {
            Some(path) => {
                let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
                let mut out = std::io::BufWriter::new(file);
                engine.export_volume(&a.name, &mut out)?;
                out.flush().with_context(|| format!("writing {}", path.display()))?;
            }
            None => {
                use std::io::IsTerminal;
                if std::io::stdout().is_terminal() {
                    anyhow::bail!("cannot write a tar archive to a terminal: use --output FILE or redirect stdout");
                }
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                engine.export_volume(&a.name, &mut out)?;
                out.flush()?;
            }
        },
        VolumeCommand::Import(a) => {
            if a.source == "-" {
                engine.import_volume(&a.name, &mut std::io::stdin().lock())?;
            } else {
                let mut file = std::fs::File::open(&a.source).with_context(|| format!("opening {}", a.source))?;
                engine.import_volume(&a.name, &mut file)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
