//! The engine as a whole: what it is and holds, for the status bar and the tray
//! (`EngineInfo`), its disk use and the host's load for the Dashboard (`DiskUsage`,
//! `HostStats`), and what changed in it (`EngineEvent`, on which the UI refetches).

use berth_engine::StateEvent;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the engine is and holds: the status bar and the tray.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EngineInfo {
    pub version: String,
    pub root: String,
    pub run_root: String,
    pub containers_running: u32,
    pub containers_total: u32,
    pub images: u32,
    /// Run by a regular user: its own containers, in a user namespace.
    pub rootless: bool,
}

/// One line of `berth system df`: how many, how many in use, their bytes, and the bytes of
/// the ones not in use (what a prune would give back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    pub total: u32,
    pub active: u32,
    pub size: u64,
    pub reclaimable: u64,
}

impl From<berth_engine::Usage> for UsageRow {
    fn from(u: berth_engine::Usage) -> Self {
        UsageRow { total: u.total, active: u.active, size: u.size, reclaimable: u.reclaimable }
    }
}

/// `berth system df`: images (in use by a container), containers (their writable layers;
/// running), volumes (mounted by a container).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiskUsage {
    pub images: UsageRow,
    pub containers: UsageRow,
    pub volumes: UsageRow,
}

impl From<berth_engine::DiskUsage> for DiskUsage {
    fn from(d: berth_engine::DiskUsage) -> Self {
        DiskUsage { images: d.images.into(), containers: d.containers.into(), volumes: d.volumes.into() }
    }
}

/// The host's load: CPU busy since the previous call (percent of all its CPUs) and memory in
/// use (all but what is available without swapping).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HostStats {
    pub cpu_percent: f64,
    pub cpus: u32,
    pub mem_used: u64,
    pub mem_total: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Image,
    Container,
    Volume,
    Network,
    Pod,
}

/// Something changed in the engine: the UI refetches what `kind` names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EngineEvent {
    #[ts(inline)]
    pub kind: EventKind,
    pub action: String,
    pub id: String,
    pub name: Option<String>,
    /// The exit code of a container that died.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub exit_code: Option<i32>,
}

impl EngineEvent {
    /// None for a kind the UI does not know (a newer engine's).
    pub fn from_state(e: &StateEvent) -> Option<EngineEvent> {
        let kind = match e.kind.as_str() {
            "image" => EventKind::Image,
            "container" => EventKind::Container,
            "volume" => EventKind::Volume,
            "network" => EventKind::Network,
            "pod" => EventKind::Pod,
            _ => return None,
        };
        Some(EngineEvent { kind, action: e.action.clone(), id: e.id.clone(), name: e.name.clone(), exit_code: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_events_of_known_kinds_become_engine_events() {
        let e = StateEvent {
            time: 1,
            kind: "container".into(),
            action: "died".into(),
            id: "c".into(),
            name: None,
            attributes: Default::default(),
        };
        let mut event = EngineEvent::from_state(&e).unwrap();
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"kind": "container", "action": "died", "id": "c", "name": null})
        );
        event.exit_code = Some(3);
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"kind": "container", "action": "died", "id": "c", "name": null, "exitCode": 3})
        );
        let pod = StateEvent { kind: "pod".into(), action: "stop".into(), ..e.clone() };
        assert_eq!(EngineEvent::from_state(&pod).map(|p| p.kind), Some(EventKind::Pod));
        let future = StateEvent { kind: "machine".into(), ..e };
        assert_eq!(EngineEvent::from_state(&future), None);
    }
}
