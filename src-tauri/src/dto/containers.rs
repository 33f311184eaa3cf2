//! The containers list: a row per container (`ContainerSummary`, with its status, health and
//! ports), and the live usage of the running ones (`ContainerStats`).

use berth_engine::container::Listed;
use berth_engine::ContainerRecord;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::health::HealthStatus;
use super::ports::PortDto;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ContainerStatus {
    Created,
    Running,
    Paused,
    Stopping,
    Exited,
}

impl From<berth_engine::ContainerStatus> for ContainerStatus {
    fn from(s: berth_engine::ContainerStatus) -> Self {
        use berth_engine::ContainerStatus as S;
        match s {
            S::Created => ContainerStatus::Created,
            S::Running => ContainerStatus::Running,
            S::Paused => ContainerStatus::Paused,
            S::Stopping => ContainerStatus::Stopping,
            S::Exited => ContainerStatus::Exited,
        }
    }
}

/// A row of the containers list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSummary {
    pub id: String,
    pub short_id: String,
    pub name: String,
    /// The image as the user named it.
    pub image: String,
    pub image_id: String,
    /// Entrypoint and command, joined by spaces.
    pub command: String,
    pub status: ContainerStatus,
    pub exit_code: Option<i32>,
    /// Unix seconds.
    pub created: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub ports: Vec<PortDto>,
    pub error: Option<String>,
    /// The compose project it belongs to (its `com.docker.compose.project` label): the list
    /// groups a project's containers.
    pub compose_project: Option<String>,
    /// Its service in that project (`com.docker.compose.service`).
    pub compose_service: Option<String>,
    /// The health of a running container with a healthcheck; null otherwise.
    pub health: Option<HealthStatus>,
    /// The id of the pod it is in: the list groups a pod's containers.
    pub pod: Option<String>,
    /// That pod's name (`commands::summary` reads it: the record holds the id).
    pub pod_name: Option<String>,
    /// Its pod's infra container: the list hides it unless asked.
    pub pod_infra: bool,
}

impl ContainerSummary {
    /// The row of `c`, whose health (`Engine::health_status`) its caller read: the record
    /// alone does not hold it.
    pub fn new<O: Listed>(
        c: &ContainerRecord<O>,
        health: Option<berth_engine::container::health::HealthStatus>,
    ) -> Self {
        ContainerSummary {
            id: c.id.clone(),
            short_id: c.short_id().to_string(),
            name: c.name.clone(),
            image: c.image_name.clone(),
            image_id: c.image_id.clone(),
            command: c.command.join(" "),
            status: c.status.into(),
            exit_code: if c.status == berth_engine::ContainerStatus::Exited { c.exit_code.or(Some(0)) } else { None },
            created: c.created_at.timestamp(),
            started_at: c.started_at.map(|t| t.timestamp()),
            finished_at: c.finished_at.map(|t| t.timestamp()),
            ports: ports_of(c),
            error: c.error.clone(),
            compose_project: label(c, COMPOSE_PROJECT),
            compose_service: label(c, COMPOSE_SERVICE),
            health: health.map(HealthStatus::from),
            pod: c.options.pod().map(str::to_string),
            pod_name: None,
            pod_infra: c.options.pod_infra(),
        }
    }
}

/// The labels compose (and `docker compose`) puts on its containers.
pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";
pub const COMPOSE_SERVICE: &str = "com.docker.compose.service";

/// A label's value, when it has one that is not blank.
fn label<O: Listed>(c: &ContainerRecord<O>, key: &str) -> Option<String> {
    c.options.labels().get(key).filter(|v| !v.trim().is_empty()).cloned()
}

/// The ports a container publishes, as the engine resolved them at create (never port 0).
pub fn ports_of<O: Listed>(c: &ContainerRecord<O>) -> Vec<PortDto> {
    c.options.ports().iter().map(PortDto::from).collect()
}

/// Live usage of a running container; CPU in percent of one CPU (above 100 with several).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStats {
    pub id: String,
    pub cpu_percent: f64,
    pub mem_usage: u64,
    pub mem_limit: Option<u64>,
    pub pids: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn record() -> ContainerRecord {
        ContainerRecord {
            id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            name: "web".into(),
            image_id: "feed".into(),
            image_name: "docker.io/library/busybox:latest".into(),
            created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            options: Default::default(),
            status: berth_engine::ContainerStatus::Exited,
            pid: None,
            pid_start: None,
            monitor_pid: None,
            started_at: Some(Utc.timestamp_opt(1_700_000_010, 0).unwrap()),
            finished_at: Some(Utc.timestamp_opt(1_700_000_020, 0).unwrap()),
            exit_code: Some(137),
            error: None,
            command: vec!["sleep".into(), "100".into()],
            restart_count: 0,
        }
    }

    #[test]
    fn container_summaries_in_the_contracts_json() {
        let s = ContainerSummary::new(&record(), None);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "shortId": "0123456789ab", "name": "web", "image": "docker.io/library/busybox:latest",
                "imageId": "feed", "command": "sleep 100", "status": "exited", "exitCode": 137,
                "created": 1_700_000_000, "startedAt": 1_700_000_010, "finishedAt": 1_700_000_020,
                "ports": [], "error": null, "composeProject": null, "composeService": null, "health": null,
                "pod": null, "podName": null, "podInfra": false,
            })
        );
        let mut composed = record();
        composed.options.labels.insert(COMPOSE_PROJECT.into(), "demo".into());
        composed.options.labels.insert(COMPOSE_SERVICE.into(), "web".into());
        composed.options.labels.insert("com.docker.compose.container-number".into(), "1".into());
        let s = ContainerSummary::new(&composed, None);
        assert_eq!((s.compose_project.as_deref(), s.compose_service.as_deref()), (Some("demo"), Some("web")));
        composed.options.labels.insert(COMPOSE_PROJECT.into(), " ".into());
        assert_eq!(ContainerSummary::new(&composed, None).compose_project, None, "a blank project is none");
        let mut running = record();
        running.status = berth_engine::ContainerStatus::Running;
        running.exit_code = None;
        running.options.ports = vec![
            berth_engine::network::PortMapping {
                host_ip: None,
                host_port: 8080,
                container_port: 80,
                protocol: berth_engine::network::Protocol::Tcp,
            },
            berth_engine::network::PortMapping {
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 5353,
                container_port: 53,
                protocol: berth_engine::network::Protocol::Udp,
            },
        ];
        let s = ContainerSummary::new(&running, Some(berth_engine::container::health::HealthStatus::Unhealthy));
        assert_eq!((s.status, s.exit_code, s.health), (ContainerStatus::Running, None, Some(HealthStatus::Unhealthy)));
        assert_eq!(serde_json::to_value(&s).unwrap()["health"], "unhealthy");
        assert_eq!(
            serde_json::to_value(&s.ports).unwrap(),
            json!([
                {"hostIp": "", "hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                {"hostIp": "127.0.0.1", "hostPort": 5353, "containerPort": 53, "protocol": "udp"},
            ])
        );
    }
}
