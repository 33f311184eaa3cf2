//! Healthchecks as data: what a container's check runs and how often ([`HealthConfig`], from
//! the image's `HEALTHCHECK` under the `--health-*` flags), and what the checks found
//! ([`HealthState`]: `health.json` in the container's directory, in Docker's and Podman's
//! field names, so inspect can show it as it is). The checks themselves run in `crate::health`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Docker's and Podman's defaults.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RETRIES: u32 = 3;
/// Results kept in the log (Podman keeps five, as Docker).
pub const LOG_ENTRIES: usize = 5;
/// Bytes of a check's output kept (Docker's limit).
pub const OUTPUT_MAX: usize = 4096;

/// A healthcheck: the command and its timing. A field left `None` takes the default; an
/// interval of zero means no periodic checks (`--health-interval disable`): only
/// `healthcheck run` runs it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    /// As images store it: `["CMD", arg…]`, `["CMD-SHELL", line]` or `["NONE"]`.
    pub test: Vec<String>,
    /// Nanoseconds.
    #[serde(default)]
    pub interval: Option<u64>,
    #[serde(default)]
    pub timeout: Option<u64>,
    #[serde(default)]
    pub start_period: Option<u64>,
    #[serde(default)]
    pub retries: Option<u32>,
}

impl HealthConfig {
    /// The image config's `Healthcheck` (Docker's object: `Test`, and durations in
    /// nanoseconds where zero means the default).
    pub fn from_docker(v: &serde_json::Value) -> Option<HealthConfig> {
        let test: Vec<String> =
            v.get("Test")?.as_array()?.iter().filter_map(|s| s.as_str().map(String::from)).collect();
        let ns = |k: &str| v.get(k).and_then(|n| n.as_u64()).filter(|n| *n > 0);
        Some(HealthConfig {
            test,
            interval: ns("Interval"),
            timeout: ns("Timeout"),
            start_period: ns("StartPeriod"),
            retries: v
                .get("Retries")
                .and_then(|n| n.as_u64())
                .filter(|n| *n > 0)
                .map(|n| n.min(u32::MAX as u64) as u32),
        })
    }

    /// The check as Docker's API and Podman's inspect show it (`Config.Healthcheck`).
    pub fn to_docker(&self) -> serde_json::Value {
        serde_json::json!({
            "Test": self.test,
            "Interval": self.interval.unwrap_or(DEFAULT_INTERVAL.as_nanos() as u64),
            "Timeout": self.timeout.unwrap_or(DEFAULT_TIMEOUT.as_nanos() as u64),
            "StartPeriod": self.start_period.unwrap_or(0),
            "Retries": self.retries(),
        })
    }

    /// `over`'s fields where it has them, this one's elsewhere (the flags over the image's).
    pub fn overlaid(&self, over: &HealthConfig) -> HealthConfig {
        HealthConfig {
            test: if over.test.is_empty() { self.test.clone() } else { over.test.clone() },
            interval: over.interval.or(self.interval),
            timeout: over.timeout.or(self.timeout),
            start_period: over.start_period.or(self.start_period),
            retries: over.retries.or(self.retries),
        }
    }

    /// The command a check runs in the container: `None` for `NONE` or no test at all.
    pub fn command(&self) -> Option<Vec<String>> {
        match self.test.split_first() {
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
            Some((kind, [line])) if kind == "CMD-SHELL" && !line.trim().is_empty() => {
                Some(vec!["/bin/sh".into(), "-c".into(), line.clone()])
            }
            _ => None,
        }
    }

    /// How long between checks; `None` when only `healthcheck run` runs it.
    pub fn interval(&self) -> Option<Duration> {
        match self.interval {
            Some(0) => None,
            Some(ns) => Some(Duration::from_nanos(ns)),
            None => Some(DEFAULT_INTERVAL),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout.filter(|t| *t > 0).map_or(DEFAULT_TIMEOUT, Duration::from_nanos)
    }

    pub fn start_period(&self) -> Duration {
        Duration::from_nanos(self.start_period.unwrap_or(0))
    }

    pub fn retries(&self) -> u32 {
        self.retries.filter(|r| *r > 0).unwrap_or(DEFAULT_RETRIES)
    }

    /// The test as the user writes it: `--health-cmd 'CMD'` is a shell line, a JSON array
    /// an exec form (`["CMD", …]` given whole, or the arguments alone), `none` no check.
    pub fn parse_cmd(s: &str) -> Result<Vec<String>, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("--health-cmd is empty: give the command that checks the container, like --health-cmd 'curl -f http://localhost/'".into());
        }
        if t.eq_ignore_ascii_case("none") {
            return Ok(vec!["NONE".into()]);
        }
        if t.starts_with('[') {
            let v: Vec<String> = serde_json::from_str(t).map_err(|e| {
                format!("--health-cmd {s}: not a JSON array of strings ({e}): give a shell line, or [\"cmd\", \"arg\"]")
            })?;
            return match v.first().map(String::as_str) {
                None => Err(format!("--health-cmd {s}: the array is empty: give the command")),
                Some("CMD" | "CMD-SHELL" | "NONE") => Ok(v),
                Some(_) => Ok(std::iter::once("CMD".to_string()).chain(v).collect()),
            };
        }
        Ok(vec!["CMD-SHELL".into(), s.to_string()])
    }
}

/// Parses a healthcheck duration as Podman's flags take them (`30s`, `1m30s`, `500ms`, a bare
/// number of seconds); `disable` is zero. Nanoseconds.
pub fn parse_duration(flag: &str, s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t == "disable" || t == "0" {
        return Ok(0);
    }
    let bad = || format!("{flag} {s}: not a duration: give a number and a unit, like 30s, 1m30s or 500ms");
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(secs.saturating_mul(1_000_000_000));
    }
    let mut total: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += (n * scale) as u128;
        rest = &rest[unit_len..];
    }
    Ok(total.min(u64::MAX as u128) as u64)
}

/// What a container does when its check leaves it unhealthy (`--health-on-failure`, Podman's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    #[default]
    None,
    Kill,
    Restart,
    Stop,
}

impl OnFailure {
    pub fn parse(s: &str) -> Result<OnFailure, String> {
        match s {
            "none" | "" => Ok(OnFailure::None),
            "kill" => Ok(OnFailure::Kill),
            "restart" => Ok(OnFailure::Restart),
            "stop" => Ok(OnFailure::Stop),
            _ => Err(format!(
                "invalid on-failure action \"{s}\" for health check: supported actions are none, kill, restart, stop"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OnFailure::None => "none",
            OnFailure::Kill => "kill",
            OnFailure::Restart => "restart",
            OnFailure::Stop => "stop",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResult {
    #[serde(rename = "Start")]
    pub start: DateTime<Utc>,
    #[serde(rename = "End")]
    pub end: DateTime<Utc>,
    /// The command's exit code; -1 when it ran out of time or could not run.
    #[serde(rename = "ExitCode")]
    pub exit_code: i32,
    /// Its stdout and stderr together, at most [`OUTPUT_MAX`] bytes, without the last newline.
    #[serde(rename = "Output")]
    pub output: String,
}

/// What the checks found so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthState {
    #[serde(rename = "Status")]
    pub status: HealthStatus,
    /// Failures in a row (outside the start period).
    #[serde(rename = "FailingStreak")]
    pub failing_streak: u32,
    /// The last [`LOG_ENTRIES`] results, oldest first.
    #[serde(rename = "Log")]
    pub log: Vec<HealthResult>,
}

impl HealthState {
    /// A container just started: no result yet.
    pub fn starting() -> HealthState {
        HealthState { status: HealthStatus::Starting, failing_streak: 0, log: Vec::new() }
    }

    /// Adds a result, as Docker counts it: a success is healthy at once; a failure counts
    /// unless the container is still in its start period, and `retries` of them in a row make
    /// it unhealthy.
    pub fn record(&mut self, result: HealthResult, retries: u32, in_start_period: bool) {
        if result.exit_code == 0 {
            self.status = HealthStatus::Healthy;
            self.failing_streak = 0;
        } else if !in_start_period {
            self.failing_streak += 1;
            if self.failing_streak >= retries.max(1) {
                self.status = HealthStatus::Unhealthy;
            }
        }
        self.log.push(result);
        let extra = self.log.len().saturating_sub(LOG_ENTRIES);
        self.log.drain(..extra);
    }
}

/// `health.json` in the container's directory.
pub fn state_path(container_dir: &Path) -> PathBuf {
    container_dir.join("health.json")
}

/// The checks' state, if any check state was written since the container was made.
pub fn read(container_dir: &Path) -> Option<HealthState> {
    let bytes = std::fs::read(state_path(container_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes the state whole (a new file renamed over the old): a reader never sees half of it.
pub fn write(container_dir: &Path, state: &HealthState) -> std::io::Result<()> {
    let path = state_path(container_dir);
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(state).expect("health state serialises"))?;
    drop(f);
    std::fs::rename(&tmp, &path)
}

/// Holds the container's health lock (an exclusive `flock` on `health.lock`) while a result is
/// added: the periodic checks and `healthcheck run` may finish at once.
pub fn lock(container_dir: &Path) -> std::io::Result<nix::fcntl::Flock<std::fs::File>> {
    let f =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(container_dir.join("health.lock"))?;
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| std::io::Error::from(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i32) -> HealthResult {
        HealthResult { start: Utc::now(), end: Utc::now(), exit_code: code, output: String::new() }
    }

    #[test]
    fn failures_count_to_unhealthy_and_a_success_heals() {
        let mut s = HealthState::starting();
        s.record(result(1), 3, false);
        s.record(result(1), 3, false);
        assert_eq!((s.status, s.failing_streak), (HealthStatus::Starting, 2));
        s.record(result(1), 3, false);
        assert_eq!((s.status, s.failing_streak), (HealthStatus::Unhealthy, 3));
        s.record(result(0), 3, false);
        assert_eq!((s.status, s.failing_streak), (HealthStatus::Healthy, 0));
        s.record(result(1), 3, false);
        assert_eq!((s.status, s.failing_streak), (HealthStatus::Healthy, 1));
        for _ in 0..10 {
            s.record(result(1), 3, false);
        }
        assert_eq!(s.log.len(), LOG_ENTRIES);
    }

    #[test]
    fn failures_in_the_start_period_do_not_count() {
        let mut s = HealthState::starting();
        for _ in 0..5 {
            s.record(result(1), 1, true);
        }
        assert_eq!((s.status, s.failing_streak, s.log.len()), (HealthStatus::Starting, 0, 5));
        s.record(result(0), 1, true);
        assert_eq!(s.status, HealthStatus::Healthy);
    }

    #[test]
    fn commands_flags_and_overlays() {
        assert_eq!(HealthConfig::parse_cmd("/healthcheck").unwrap(), ["CMD-SHELL", "/healthcheck"]);
        assert_eq!(HealthConfig::parse_cmd(r#"["ls", "/"]"#).unwrap(), ["CMD", "ls", "/"]);
        assert_eq!(HealthConfig::parse_cmd(r#"["CMD-SHELL", "true"]"#).unwrap(), ["CMD-SHELL", "true"]);
        assert_eq!(HealthConfig::parse_cmd("none").unwrap(), ["NONE"]);
        assert!(HealthConfig::parse_cmd("[oops").unwrap_err().contains("--health-cmd [oops"));
        let img = HealthConfig::from_docker(
            &serde_json::json!({"Test": ["CMD", "true"], "Interval": 5_000_000_000u64, "Retries": 0}),
        )
        .unwrap();
        assert_eq!((img.interval(), img.retries()), (Some(Duration::from_secs(5)), DEFAULT_RETRIES));
        let flags = HealthConfig { retries: Some(1), ..Default::default() };
        let both = img.overlaid(&flags);
        assert_eq!((both.command().unwrap(), both.retries()), (vec!["true".to_string()], 1));
        assert_eq!(HealthConfig { test: vec!["NONE".into()], ..Default::default() }.command(), None);
        assert_eq!(
            HealthConfig { test: vec!["CMD-SHELL".into(), "exit 0".into()], ..Default::default() }.command().unwrap(),
            ["/bin/sh", "-c", "exit 0"]
        );
    }

    #[test]
    fn durations_as_podman_takes_them() {
        assert_eq!(parse_duration("--health-interval", "1s").unwrap(), 1_000_000_000);
        assert_eq!(parse_duration("--health-interval", "1m30s").unwrap(), 90_000_000_000);
        assert_eq!(parse_duration("--health-interval", "500ms").unwrap(), 500_000_000);
        assert_eq!(parse_duration("--health-interval", "2").unwrap(), 2_000_000_000);
        assert_eq!(parse_duration("--health-interval", "disable").unwrap(), 0);
        let e = parse_duration("--health-timeout", "soon").unwrap_err();
        assert!(e.contains("--health-timeout soon"), "{e}");
        assert!(parse_duration("--health-timeout", "5x").is_err());
        assert_eq!(OnFailure::parse("kill").unwrap(), OnFailure::Kill);
        assert!(OnFailure::parse("explode").unwrap_err().contains("none, kill, restart, stop"));
    }
}
