//! Pods, as Podman's: containers grouped to share kernel namespaces (by default the network,
//! IPC and UTS ones, as Kubernetes) that an infra container holds. The records and their rules
//! are data here; the verbs are `pod_ops`.
//!
//! A pod's infra container is a container of the pod (`CreateOptions::pod_infra`) whose process
//! only holds the namespaces: by default a pause process of the runtime's own (no image, an
//! empty root; `runtime::process::init::PAUSE_ANNOTATION`), or `--infra-image`'s command. A
//! member on the pod's network is on the infra's (`container:ID`); the other namespaces it
//! shares are joined by path when it starts (`Engine::launch_container`), the infra first.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::container::port::PortMapping;
use crate::container::Status;

/// A kernel namespace a pod's containers may share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Cgroup,
    Ipc,
    Net,
    Pid,
    Uts,
}

impl Namespace {
    pub const ALL: [Namespace; 5] = [Namespace::Cgroup, Namespace::Ipc, Namespace::Net, Namespace::Pid, Namespace::Uts];

    pub fn name(self) -> &'static str {
        match self {
            Namespace::Cgroup => "cgroup",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
            Namespace::Pid => "pid",
            Namespace::Uts => "uts",
        }
    }

    /// The name of its file under `/proc/PID/ns/`.
    pub fn proc_name(self) -> &'static str {
        self.name()
    }
}

/// What a pod shares unless `--share` says otherwise (Podman's and Kubernetes' default).
pub const DEFAULT_SHARE: [Namespace; 3] = [Namespace::Ipc, Namespace::Net, Namespace::Uts];

/// `--share`: a comma-separated list of namespaces, `none` (or nothing) for none; with a
/// leading `+`, added to the defaults. The error is Podman's.
pub fn parse_share(spec: &str) -> Result<Vec<Namespace>, String> {
    let (mut out, list) = match spec.strip_prefix('+') {
        Some(rest) => (DEFAULT_SHARE.to_vec(), rest),
        None => (Vec::new(), spec),
    };
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if word == "none" {
            continue;
        }
        let ns = Namespace::ALL.into_iter().find(|n| n.name() == word).ok_or_else(|| {
            format!("invalid kernel namespace to share: {word}. Options are: cgroup, ipc, net, pid, uts or none")
        })?;
        if !out.contains(&ns) {
            out.push(ns);
        }
    }
    out.sort();
    Ok(out)
}

/// `--exit-policy`: what the pod does when its last container (the infra aside) exits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitPolicy {
    /// The pod (its infra) keeps running.
    #[default]
    Continue,
    /// The pod stops: its infra container is stopped.
    Stop,
}

impl ExitPolicy {
    pub fn parse(s: &str) -> Result<ExitPolicy, String> {
        match s {
            "continue" | "" => Ok(ExitPolicy::Continue),
            "stop" => Ok(ExitPolicy::Stop),
            other => Err(format!("running pod create option: invalid pod exit policy: \"{other}\"")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ExitPolicy::Continue => "continue",
            ExitPolicy::Stop => "stop",
        }
    }
}

/// What `pod create` was asked for; what concerns the network and the host name is the infra
/// container's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodOptions {
    pub name: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Whether the pod has an infra container (`--infra`, true unless `--infra=false`).
    pub infra: bool,
    /// `--infra-image`: the infra runs this image's command instead of the pause process.
    #[serde(default)]
    pub infra_image: Option<String>,
    /// `--infra-command`: the infra's entrypoint (with `--infra-image`).
    #[serde(default)]
    pub infra_command: Option<Vec<String>>,
    /// `--infra-name`: the infra container's name (default: the pod id's first 12, `-infra`).
    #[serde(default)]
    pub infra_name: Option<String>,
    /// `--share`: sorted, no repeats.
    #[serde(default)]
    pub share: Vec<Namespace>,
    /// `--hostname`: the pod's host name (default: its name) when it shares the UTS namespace.
    #[serde(default)]
    pub hostname: Option<String>,
    /// `--network`, as a container's.
    #[serde(default)]
    pub network: Option<String>,
    #[serde(default)]
    pub network_aliases: Vec<String>,
    /// `--mac-address`: the infra's MAC on the pod's network.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// `-p`: published on the infra's network.
    #[serde(default)]
    pub ports: Vec<PortMapping>,
    #[serde(default)]
    pub dns: Vec<std::net::IpAddr>,
    #[serde(default)]
    pub dns_search: Vec<String>,
    #[serde(default)]
    pub dns_options: Vec<String>,
    #[serde(default)]
    pub add_hosts: Vec<(String, std::net::IpAddr)>,
    #[serde(default)]
    pub exit_policy: ExitPolicy,
    /// The command line that created the pod (`CreateCommand` in `pod inspect`).
    #[serde(default)]
    pub create_command: Vec<String>,
}

impl PodOptions {
    pub fn shares(&self, ns: Namespace) -> bool {
        self.infra && self.share.contains(&ns)
    }
}

/// A pod, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct PodRecord {
    pub id: String,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub options: PodOptions,
    /// The infra container, once made.
    pub infra_id: Option<String>,
}

impl PodRecord {
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// The host name its containers have when they share its UTS namespace.
    pub fn hostname(&self) -> String {
        self.options.hostname.clone().unwrap_or_else(|| self.name.clone())
    }
}

/// The pod's state from its containers' (the infra's included), as Podman computes it:
/// `Created` with none; `Running` when all run, `Degraded` when some do; `Paused` when all are;
/// `Exited` when all have exited, `Stopped` when some have and the rest never ran.
pub fn state(statuses: &[Status]) -> &'static str {
    if statuses.is_empty() {
        return "Created";
    }
    let count = |f: fn(&Status) -> bool| statuses.iter().filter(|s| f(s)).count();
    let running = count(|s| matches!(s, Status::Running | Status::Stopping));
    let paused = count(|s| *s == Status::Paused);
    let exited = count(|s| *s == Status::Exited);
    match () {
        _ if running == statuses.len() => "Running",
        _ if running > 0 => "Degraded",
        _ if paused == statuses.len() => "Paused",
        _ if paused > 0 => "Degraded",
        _ if exited == statuses.len() => "Exited",
        _ if exited > 0 => "Stopped",
        _ => "Created",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PodError {
    #[error("no pod with name or ID {0} found: no such pod")]
    NotFound(String),
    #[error("more than one pod matches \"{query}\" ({candidates}): use more of the id")]
    Ambiguous { query: String, candidates: String },
    #[error("the pod name \"{name}\" is already in use by {id}. You have to remove that pod to be able to reuse that name: that name is already in use")]
    NameInUse { name: String, id: String },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

const COLUMNS: &str = "id, name, created_at, options, infra_id";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PodRecord> {
    let text = |i: usize| r.get::<_, String>(i);
    Ok(PodRecord {
        id: text(0)?,
        name: text(1)?,
        created_at: chrono::DateTime::parse_from_rfc3339(&text(2)?).map(|t| t.to_utc()).unwrap_or_default(),
        options: serde_json::from_str(&text(3)?).unwrap_or_default(),
        infra_id: r.get(4)?,
    })
}

/// Every pod, newest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<PodRecord>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM pods ORDER BY created_at DESC, id"))?;
    let rows = stmt.query_map([], row)?.collect();
    rows
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<PodRecord>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM pods WHERE id = ?"), [id], row).optional()
}

/// By name, full id or unique id prefix.
pub fn find(conn: &Connection, query: &str) -> Result<PodRecord, PodError> {
    if let Some(p) = conn.query_row(&format!("SELECT {COLUMNS} FROM pods WHERE name = ?"), [query], row).optional()? {
        return Ok(p);
    }
    if !query.is_empty() && query.len() <= 64 && query.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM pods WHERE id LIKE ? || '%'"))?;
        let hits: Vec<PodRecord> = stmt.query_map([query.to_ascii_lowercase()], row)?.collect::<Result<_, _>>()?;
        match hits.len() {
            1 => return Ok(hits.into_iter().next().expect("one hit")),
            0 => {}
            _ => {
                return Err(PodError::Ambiguous {
                    query: query.into(),
                    candidates: hits.iter().map(|p| p.short_id().to_string()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    }
    Err(PodError::NotFound(query.into()))
}

pub fn name_taken(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT id FROM pods WHERE name = ?", [name], |r| r.get(0)).optional()
}

pub fn insert(tx: &Transaction<'_>, p: &PodRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO pods (id, name, created_at, options, infra_id) VALUES (?, ?, ?, ?, ?)",
        rusqlite::params![
            p.id,
            p.name,
            p.created_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            serde_json::to_string(&p.options).expect("pod options serialise"),
            p.infra_id,
        ],
    )?;
    Ok(())
}

pub fn set_infra(conn: &Connection, id: &str, infra: &str) -> rusqlite::Result<()> {
    conn.execute("UPDATE pods SET infra_id = ? WHERE id = ?", [infra, id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM pods WHERE id = ?", [id])? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_lists_replace_or_add_to_the_defaults() {
        use Namespace::*;
        assert_eq!(parse_share("ipc").unwrap(), [Ipc]);
        assert_eq!(parse_share("+pid").unwrap(), [Ipc, Net, Pid, Uts]);
        assert_eq!(parse_share("net,uts,net").unwrap(), [Net, Uts]);
        assert_eq!(parse_share("none").unwrap(), []);
        assert_eq!(parse_share("").unwrap(), []);
        let e = parse_share("ipc,bogus").unwrap_err();
        assert_eq!(e, "invalid kernel namespace to share: bogus. Options are: cgroup, ipc, net, pid, uts or none");
    }

    #[test]
    fn a_pods_state_follows_its_containers_as_podmans() {
        use Status::*;
        assert_eq!(state(&[]), "Created");
        assert_eq!(state(&[Running, Running]), "Running");
        assert_eq!(state(&[Running, Exited]), "Degraded");
        assert_eq!(state(&[Exited, Exited]), "Exited");
        assert_eq!(state(&[Exited, Created]), "Stopped");
        assert_eq!(state(&[Paused, Paused]), "Paused");
        assert_eq!(state(&[Created, Created]), "Created");
    }

    #[test]
    fn exit_policies_parse_with_podmans_error() {
        assert_eq!(ExitPolicy::parse("stop").unwrap(), ExitPolicy::Stop);
        assert_eq!(ExitPolicy::parse("continue").unwrap(), ExitPolicy::Continue);
        assert_eq!(
            ExitPolicy::parse("invalid").unwrap_err(),
            "running pod create option: invalid pod exit policy: \"invalid\""
        );
    }
}
