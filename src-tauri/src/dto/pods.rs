//! The pods list: a row per pod (`PodSummary`) with its state as Podman computes it and its
//! containers (`PodMember`), the infra container among them, marked. The Inspect tab shows
//! `berth pod inspect`'s object, which the engine builds (`Engine::pod_inspect`).

use std::collections::BTreeMap;

use berth_engine::pod::PodRecord;
use berth_engine::ContainerRecord;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::containers::ContainerStatus;

/// A container of a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PodMember {
    pub id: String,
    pub name: String,
    pub status: ContainerStatus,
    /// The pod's infra container (it holds the shared namespaces; the Containers list hides it).
    pub infra: bool,
}

impl From<&ContainerRecord> for PodMember {
    fn from(c: &ContainerRecord) -> Self {
        PodMember { id: c.id.clone(), name: c.name.clone(), status: c.status.into(), infra: c.options.pod_infra }
    }
}

/// A row of the pods list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PodSummary {
    pub id: String,
    pub short_id: String,
    pub name: String,
    /// Podman's: `Created`, `Running`, `Degraded`, `Paused`, `Exited`, `Stopped`.
    pub state: String,
    /// Unix seconds.
    pub created: i64,
    /// Its containers, the infra one included (as `pod ps` counts them).
    pub containers: u32,
    pub infra_id: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The infra container first, the others newest first.
    pub members: Vec<PodMember>,
}

impl PodSummary {
    /// `members` as `Engine::pod_containers` gives them; `state` is `Engine::pod_state`'s.
    pub fn new(p: &PodRecord, state: &str, members: &[ContainerRecord]) -> PodSummary {
        PodSummary {
            id: p.id.clone(),
            short_id: p.short_id().to_string(),
            name: p.name.clone(),
            state: state.to_string(),
            created: p.created_at.timestamp(),
            containers: u32::try_from(members.len()).unwrap_or(u32::MAX),
            infra_id: p.infra_id.clone(),
            labels: p.options.labels.clone(),
            members: members.iter().map(PodMember::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::pod::PodOptions;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    #[test]
    fn pod_rows_in_the_contracts_json() {
        let p = PodRecord {
            id: "cd".repeat(32),
            name: "web".into(),
            created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            options: PodOptions {
                labels: BTreeMap::from([("team".to_string(), "a".to_string())]),
                ..Default::default()
            },
            infra_id: Some("ef".repeat(32)),
        };
        let s = PodSummary::new(&p, "Exited", &[]);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "id": "cd".repeat(32), "shortId": "cdcdcdcdcdcd", "name": "web", "state": "Exited",
                "created": 1_700_000_000, "containers": 0, "infraId": "ef".repeat(32),
                "labels": {"team": "a"}, "members": [],
            })
        );
        let member = |name: &str, infra: bool, status| {
            let mut c: ContainerRecord = ContainerRecord {
                id: format!("{name}-id"),
                name: name.into(),
                image_id: String::new(),
                image_name: String::new(),
                created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
                options: Default::default(),
                status,
                pid: None,
                pid_start: None,
                monitor_pid: None,
                started_at: None,
                finished_at: None,
                exit_code: None,
                error: None,
                command: Vec::new(),
                restart_count: 0,
            };
            c.options.pod = Some(p.id.clone());
            c.options.pod_infra = infra;
            c
        };
        let members = [
            member("web-infra", true, berth_engine::ContainerStatus::Running),
            member("app", false, berth_engine::ContainerStatus::Exited),
        ];
        let s = PodSummary::new(&p, "Degraded", &members);
        assert_eq!(s.containers, 2);
        assert_eq!(
            serde_json::to_value(&s.members).unwrap(),
            json!([
                {"id": "web-infra-id", "name": "web-infra", "status": "running", "infra": true},
                {"id": "app-id", "name": "app", "status": "exited", "infra": false},
            ])
        );
    }
}
