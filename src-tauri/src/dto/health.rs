//! Healthchecks as the UI sees them: a running container's health in its row
//! (`HealthStatus`), the Health tab (`ContainerHealth`: the check, its on-failure action and
//! its last results), the check an image defines (`HealthCheck`, for the create form), and the
//! create form's healthcheck (`HealthcheckRequest`, checked in `commands::create`).

use berth_engine::container::health::{self as engine, HealthConfig, HealthState};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl From<engine::HealthStatus> for HealthStatus {
    fn from(s: engine::HealthStatus) -> Self {
        match s {
            engine::HealthStatus::Starting => HealthStatus::Starting,
            engine::HealthStatus::Healthy => HealthStatus::Healthy,
            engine::HealthStatus::Unhealthy => HealthStatus::Unhealthy,
        }
    }
}

/// What a container undergoes when its check leaves it unhealthy (`--health-on-failure`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum HealthOnFailure {
    #[default]
    None,
    Kill,
    Restart,
    Stop,
}

impl From<engine::OnFailure> for HealthOnFailure {
    fn from(a: engine::OnFailure) -> Self {
        match a {
            engine::OnFailure::None => HealthOnFailure::None,
            engine::OnFailure::Kill => HealthOnFailure::Kill,
            engine::OnFailure::Restart => HealthOnFailure::Restart,
            engine::OnFailure::Stop => HealthOnFailure::Stop,
        }
    }
}

impl From<HealthOnFailure> for engine::OnFailure {
    fn from(a: HealthOnFailure) -> Self {
        match a {
            HealthOnFailure::None => engine::OnFailure::None,
            HealthOnFailure::Kill => engine::OnFailure::Kill,
            HealthOnFailure::Restart => engine::OnFailure::Restart,
            HealthOnFailure::Stop => engine::OnFailure::Stop,
        }
    }
}

/// What a check runs: a shell line (`CMD-SHELL`, run by `/bin/sh -c`) or a program and its
/// arguments (`CMD`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "form", rename_all = "lowercase")]
pub enum HealthCommand {
    Shell { line: String },
    Exec { args: Vec<String> },
}

/// A healthcheck with its defaults filled in. Durations in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    pub command: HealthCommand,
    /// Null: no periodic checks (only "run check now" runs it).
    pub interval_ms: Option<u64>,
    pub timeout_ms: u64,
    pub start_period_ms: u64,
    /// Failures in a row that make the container unhealthy.
    pub retries: u32,
}

impl HealthCheck {
    /// None for a check that runs nothing (`NONE`, or no test).
    pub fn from_config(h: &HealthConfig) -> Option<HealthCheck> {
        h.command()?;
        let command = match h.test.split_first() {
            Some((kind, [line])) if kind == "CMD-SHELL" => HealthCommand::Shell { line: line.clone() },
            Some((_, args)) => HealthCommand::Exec { args: args.to_vec() },
            None => return None,
        };
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        Some(HealthCheck {
            command,
            interval_ms: h.interval().map(ms),
            timeout_ms: ms(h.timeout()),
            start_period_ms: ms(h.start_period()),
            retries: h.retries(),
        })
    }
}

/// One check's result. Times in unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HealthResult {
    pub started_at: i64,
    pub duration_ms: u64,
    /// -1 when it ran out of time or could not run.
    pub exit_code: i32,
    /// stdout and stderr together, at most 4 KiB.
    pub output: String,
}

impl From<&engine::HealthResult> for HealthResult {
    fn from(r: &engine::HealthResult) -> Self {
        HealthResult {
            started_at: r.start.timestamp_millis(),
            duration_ms: (r.end - r.start).num_milliseconds().max(0) as u64,
            exit_code: r.exit_code,
            output: r.output.clone(),
        }
    }
}

/// The Health tab: a container's check and what the checks found (kept after it stopped;
/// `status` is "starting" again at each start).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContainerHealth {
    pub status: HealthStatus,
    pub failing_streak: u32,
    pub check: HealthCheck,
    pub on_failure: HealthOnFailure,
    /// The last results, newest first.
    pub log: Vec<HealthResult>,
}

impl ContainerHealth {
    /// None when the container has no check that runs something.
    pub fn new(check: &HealthConfig, on_failure: engine::OnFailure, state: &HealthState) -> Option<ContainerHealth> {
        Some(ContainerHealth {
            status: state.status.into(),
            failing_streak: state.failing_streak,
            check: HealthCheck::from_config(check)?,
            on_failure: on_failure.into(),
            log: state.log.iter().rev().map(HealthResult::from).collect(),
        })
    }
}

/// The create form's healthcheck, as typed: durations in the CLI's grammar (`30s`, `1m30s`,
/// `500ms`; an interval of `disable`: no periodic checks). Left blank, a field keeps the
/// image's value (or the default); a blank command keeps the image's command.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HealthcheckRequest {
    /// A shell line, run by `/bin/sh -c` in the container.
    #[serde(default)]
    pub command: String,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub retries: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    #[test]
    fn checks_with_their_defaults_in_the_contracts_json() {
        let shell = HealthConfig {
            test: vec!["CMD-SHELL".into(), "curl -f http://localhost/ || exit 1".into()],
            interval: Some(5_000_000_000),
            start_period: Some(1_500_000_000),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(HealthCheck::from_config(&shell).unwrap()).unwrap(),
            json!({"command": {"form": "shell", "line": "curl -f http://localhost/ || exit 1"},
                "intervalMs": 5000, "timeoutMs": 30000, "startPeriodMs": 1500, "retries": 3})
        );
        let exec = HealthConfig {
            test: vec!["CMD".into(), "/bin/check".into(), "--quick".into()],
            interval: Some(0),
            retries: Some(1),
            ..Default::default()
        };
        let check = HealthCheck::from_config(&exec).unwrap();
        assert_eq!(check.command, HealthCommand::Exec { args: vec!["/bin/check".into(), "--quick".into()] });
        assert_eq!((check.interval_ms, check.retries), (None, 1), "interval 0: only run by hand");
        let none = HealthConfig { test: vec!["NONE".into()], ..Default::default() };
        assert_eq!(HealthCheck::from_config(&none), None);
        assert_eq!(HealthCheck::from_config(&HealthConfig::default()), None);
    }

    #[test]
    fn the_health_tab_lists_the_newest_result_first() {
        let at = |s: i64, ms: u32| Utc.timestamp_opt(s, ms * 1_000_000).unwrap();
        let result = |s: i64, code: i32, output: &str| engine::HealthResult {
            start: at(s, 0),
            end: at(s, 250),
            exit_code: code,
            output: output.into(),
        };
        let state = HealthState {
            status: engine::HealthStatus::Unhealthy,
            failing_streak: 2,
            log: vec![result(1_700_000_000, 1, "first"), result(1_700_000_030, 1, "second")],
        };
        let check = HealthConfig { test: vec!["CMD-SHELL".into(), "false".into()], ..Default::default() };
        let h = ContainerHealth::new(&check, engine::OnFailure::Restart, &state).unwrap();
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({
                "status": "unhealthy", "failingStreak": 2,
                "check": {"command": {"form": "shell", "line": "false"}, "intervalMs": 30000,
                    "timeoutMs": 30000, "startPeriodMs": 0, "retries": 3},
                "onFailure": "restart",
                "log": [
                    {"startedAt": 1_700_000_030_000i64, "durationMs": 250, "exitCode": 1, "output": "second"},
                    {"startedAt": 1_700_000_000_000i64, "durationMs": 250, "exitCode": 1, "output": "first"},
                ],
            })
        );
        let none = HealthConfig { test: vec!["NONE".into()], ..Default::default() };
        assert_eq!(ContainerHealth::new(&none, engine::OnFailure::None, &state), None);
    }

    #[test]
    fn on_failure_actions_cross_both_ways() {
        for a in [HealthOnFailure::None, HealthOnFailure::Kill, HealthOnFailure::Restart, HealthOnFailure::Stop] {
            let engine: engine::OnFailure = a.into();
            assert_eq!(HealthOnFailure::from(engine), a);
            assert_eq!(serde_json::to_value(a).unwrap(), json!(engine.name()));
        }
    }
}
