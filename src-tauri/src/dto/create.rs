//! The create form (`CreateRequest`) and its restart policy; `commands::create` checks it and
//! turns it into the engine's options.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::health::{HealthOnFailure, HealthcheckRequest};
use super::ports::PortDto;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    OnFailure,
    Always,
    UnlessStopped,
}

impl From<RestartPolicy> for berth_engine::container::RestartPolicy {
    fn from(p: RestartPolicy) -> Self {
        use berth_engine::container::RestartPolicy as R;
        match p {
            RestartPolicy::No => R::No,
            // The form has no retry count: as `--restart on-failure`, without a limit.
            RestartPolicy::OnFailure => R::OnFailure { max_retries: None },
            RestartPolicy::Always => R::Always,
            RestartPolicy::UnlessStopped => R::UnlessStopped,
        }
    }
}

/// The create form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub image: String,
    pub name: Option<String>,
    /// Replaces the image's Cmd.
    pub command: Option<Vec<String>>,
    /// Replaces the image's Entrypoint (and drops its Cmd).
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub ports: Vec<PortDto>,
    /// `KEY=VALUE`, applied after the env file's.
    #[serde(default)]
    pub env: Vec<String>,
    /// The contents of an env file: `KEY=VALUE` lines, `#` comments and blank lines skipped.
    pub env_file: Option<String>,
    #[serde(default)]
    pub restart: RestartPolicy,
    /// `--rm`.
    #[serde(default)]
    pub remove: bool,
    /// Start it once created.
    #[serde(default)]
    pub start: bool,
    /// `-v` values: `NAME:/path[:ro]` or `/host:/path[:ro]`.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// The `--health-*` flags: laid over the image's check by the engine.
    #[serde(default)]
    pub healthcheck: Option<HealthcheckRequest>,
    /// `--no-healthcheck`: not even the image's check runs.
    #[serde(default)]
    pub no_healthcheck: bool,
    /// `--health-on-failure`.
    #[serde(default)]
    pub health_on_failure: HealthOnFailure,
    /// `--network`: none (or blank) for the default network.
    #[serde(default)]
    #[ts(optional)]
    pub network: Option<String>,
    /// `--label KEY=VALUE`s.
    #[serde(default)]
    #[ts(optional)]
    pub labels: Option<Vec<String>>,
}

impl From<berth_engine::container::RestartPolicy> for RestartPolicy {
    fn from(p: berth_engine::container::RestartPolicy) -> Self {
        use berth_engine::container::RestartPolicy as R;
        match p {
            R::No => RestartPolicy::No,
            R::OnFailure { .. } => RestartPolicy::OnFailure,
            R::Always => RestartPolicy::Always,
            R::UnlessStopped => RestartPolicy::UnlessStopped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::ports::Protocol;
    use serde_json::json;

    #[test]
    fn create_requests_from_the_contracts_json() {
        let r: CreateRequest = serde_json::from_value(json!({
            "image": "nginx", "name": null, "command": ["a", "b"], "entrypoint": null,
            "ports": [{"hostIp": "", "hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
            "env": ["A=1"], "envFile": "B=2\n", "restart": "on-failure", "remove": true, "start": true
        }))
        .unwrap();
        assert_eq!(r.restart, RestartPolicy::OnFailure);
        assert_eq!(
            r.ports[0],
            PortDto { host_ip: "".into(), host_port: 8080, container_port: 80, protocol: Protocol::Tcp }
        );
        assert_eq!(
            (r.command, r.env_file.as_deref(), r.remove, r.start),
            (Some(vec!["a".into(), "b".into()]), Some("B=2\n"), true, true)
        );
        assert_eq!((r.healthcheck, r.no_healthcheck, r.health_on_failure), (None, false, HealthOnFailure::None));
        let r: CreateRequest = serde_json::from_value(json!({
            "image": "nginx", "name": null, "command": null, "entrypoint": null, "envFile": null,
            "healthcheck": {"command": "curl -f http://localhost/", "interval": "10s", "timeout": null,
                "startPeriod": "1m", "retries": 2},
            "noHealthcheck": false, "healthOnFailure": "restart"
        }))
        .unwrap();
        assert_eq!(
            r.healthcheck.unwrap(),
            HealthcheckRequest {
                command: "curl -f http://localhost/".into(),
                interval: Some("10s".into()),
                timeout: None,
                start_period: Some("1m".into()),
                retries: Some(2)
            }
        );
        assert_eq!(r.health_on_failure, HealthOnFailure::Restart);
    }
}
