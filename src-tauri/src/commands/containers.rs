//! The containers list and its verbs: list, usage (CPU % between two samples), start, stop,
//! restart, remove, inspect, export (its files as a tar), and the healthcheck (the Health tab,
//! a check run now). Builds' RUN containers are not the user's: they are left out (`listed`),
//! as Podman lists no Buildah container. Every row is made by `summary`, which reads the
//! health the record does not hold.

use berth_engine::container::Listed;
use berth_engine::{ContainerBrief, ContainerRecord, Engine};

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::dto::{ApiError, ContainerHealth, ContainerStats, ContainerSummary, PortDto};

use super::backend::{blocking, user_path, Backend, CpuSample};

const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The containers the app shows: all but the RUN steps' of builds. Brief records
/// (`Engine::containers_brief`, what `berth ps` reads): the options a row shows, not each one's
/// whole create request; `Engine::container` has the rest.
pub fn listed(e: &Engine) -> Result<Vec<ContainerBrief>, berth_engine::Error> {
    Ok(e.containers_brief()?
        .into_iter()
        .filter(|c| !c.options.labels.contains_key(berth_engine::BUILD_LABEL))
        .collect())
}

/// A container's row: the record, the health of a running container with a check, and the
/// name of its pod (and the pod's ports, which its infra container publishes).
pub fn summary<O: Listed>(e: &Engine, c: &ContainerRecord<O>) -> ContainerSummary {
    summary_with(e, c, &mut Pods::default())
}

/// `summary`, with the pods looked up once for a whole list.
fn summary_with<O: Listed>(e: &Engine, c: &ContainerRecord<O>, pods: &mut Pods) -> ContainerSummary {
    let mut s = ContainerSummary::new(c, e.health_status(c));
    if let Some((name, ports)) = c.options.pod().and_then(|p| pods.get(e, p)) {
        // A member publishes nothing of its own: it shows its pod's ports, as `berth ps` does.
        if s.ports.is_empty() && !c.options.pod_infra() {
            s.ports = ports.clone();
        }
        s.pod_name = Some(name.clone());
    }
    s
}

/// Pods by id or name: each one's name and the ports its infra container publishes.
#[derive(Default)]
struct Pods(HashMap<String, Option<(String, Vec<PortDto>)>>);

impl Pods {
    fn get(&mut self, e: &Engine, pod: &str) -> Option<&(String, Vec<PortDto>)> {
        self.0
            .entry(pod.to_string())
            .or_insert_with(|| {
                let p = e.pod(pod).ok()?;
                let infra = p.infra_id.as_deref().and_then(|id| e.container(id).ok());
                Some((p.name, infra.map(|i| crate::dto::ports_of(&i)).unwrap_or_default()))
            })
            .as_ref()
    }
}

/// The rows of a list, each pod looked up once.
pub fn summaries<O: Listed>(e: &Engine, list: &[ContainerRecord<O>]) -> Vec<ContainerSummary> {
    let mut pods = Pods::default();
    list.iter().map(|c| summary_with(e, c, &mut pods)).collect()
}

pub async fn list_containers(b: &Backend) -> Result<Vec<ContainerSummary>, ApiError> {
    blocking(&b.engine, |e| Ok(summaries(e, &listed(e)?))).await
}

#[derive(Debug, Deserialize)]
pub struct IdsArgs {
    pub ids: Vec<String>,
}

/// The rows of the containers `ids` (full ids) that exist and the list shows: what an event
/// about them changed, without the whole list (a row patch at 10 000 containers is one
/// record read, the list 4.7 MB of JSON). A container not in the answer is gone.
pub async fn container_rows(b: &Backend, a: IdsArgs) -> Result<Vec<ContainerSummary>, ApiError> {
    blocking(&b.engine, move |e| {
        let mut pods = Pods::default();
        let mut rows = Vec::with_capacity(a.ids.len());
        for id in &a.ids {
            match e.container(id) {
                // A prefix or a name finds a container too: only the one with this id counts.
                Ok(c) if &c.id == id && !c.options.labels.contains_key(berth_engine::BUILD_LABEL) => {
                    rows.push(summary_with(e, &c, &mut pods))
                }
                Ok(_) => {}
                Err(err) if err.is_not_found() => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(rows)
    })
    .await
}

/// Usage of every running container. CPU % is over the time since the previous call; on the
/// first call for a container, the average since it started.
pub async fn container_stats(b: &Backend) -> Result<Vec<ContainerStats>, ApiError> {
    let samples = blocking(&b.engine, |e| {
        let mut out = Vec::new();
        for c in listed(e)?.into_iter().filter(|c| c.is_running()) {
            // It may have exited since the list was read: then it has no stats, not an error.
            if let Ok(s) = e.container_stats(&c.id) {
                out.push((s, Instant::now(), c.started_at));
            }
        }
        Ok(out)
    })
    .await?;
    let mut previous = b.cpu_samples.lock().unwrap_or_else(|e| e.into_inner());
    let mut next = HashMap::new();
    let mut out = Vec::with_capacity(samples.len());
    for (s, at, started_at) in samples {
        let usage_ns = s.cpu_usage_ns.unwrap_or(0);
        let cpu_percent = match previous.get(&s.id) {
            Some(p) => cpu_percent(p.usage_ns, usage_ns, at.saturating_duration_since(p.at)),
            None => {
                let running = started_at.and_then(|t| (chrono::Utc::now() - t).to_std().ok()).unwrap_or(Duration::ZERO);
                cpu_percent(0, usage_ns, running)
            }
        };
        next.insert(s.id.clone(), CpuSample { at, usage_ns });
        out.push(ContainerStats {
            id: s.id,
            cpu_percent,
            mem_usage: s.memory_usage.unwrap_or(0),
            mem_limit: s.memory_limit,
            pids: s.pids.unwrap_or(0),
        });
    }
    // Containers that stopped are forgotten: a restart starts their count again.
    *previous = next;
    Ok(out)
}

/// CPU time used over wall time, in percent of one CPU; 0 when no time passed or the counter
/// went backwards (a restart in between).
pub fn cpu_percent(before_ns: u64, after_ns: u64, wall: Duration) -> f64 {
    let wall_ns = wall.as_nanos() as f64;
    if wall_ns <= 0.0 || after_ns < before_ns {
        return 0.0;
    }
    let percent = (after_ns - before_ns) as f64 / wall_ns * 100.0;
    (percent * 10.0).round() / 10.0
}

#[derive(Debug, Deserialize)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct StopArgs {
    pub id: String,
    /// Seconds to wait after the stop signal before killing it.
    pub timeout: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct RemoveArgs {
    pub id: String,
    #[serde(default)]
    pub force: bool,
}

pub async fn start_container(b: &Backend, a: IdArgs) -> Result<ContainerSummary, ApiError> {
    blocking(&b.engine, move |e| Ok(summary(e, &e.start_container(&a.id)?))).await
}

pub async fn stop_container(b: &Backend, a: StopArgs) -> Result<ContainerSummary, ApiError> {
    let timeout = a.timeout.map_or(DEFAULT_STOP_TIMEOUT, Duration::from_secs);
    blocking(&b.engine, move |e| Ok(summary(e, &e.stop_container(&a.id, timeout)?))).await
}

pub async fn restart_container(b: &Backend, a: IdArgs) -> Result<ContainerSummary, ApiError> {
    blocking(&b.engine, move |e| {
        let stopped = e.stop_container(&a.id, DEFAULT_STOP_TIMEOUT)?;
        Ok(summary(e, &e.start_container(&stopped.id)?))
    })
    .await
}

pub async fn remove_container(b: &Backend, a: RemoveArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_container(&a.id, a.force)?;
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ExportArgs {
    pub id: String,
    /// The tar to write: absolute, or `~/…`.
    pub path: String,
}

/// Writes the container's files into a tar, as `berth export -o PATH` does: whole or not at all.
pub async fn export_container(b: &Backend, a: ExportArgs) -> Result<(), ApiError> {
    let path = user_path("tar", &a.path)?;
    blocking(&b.engine, move |e| Ok(e.export_container_to(&a.id, &path)?)).await
}

/// The same object `berth inspect` prints for the container.
pub async fn inspect_container(b: &Backend, a: IdArgs) -> Result<serde_json::Value, ApiError> {
    blocking(&b.engine, move |e| Ok(e.inspect_container(&a.id)?)).await
}

/// "Copy as berth run command": the `berth run -d` line that makes the container again, from
/// its recorded create options, shell-quoted.
pub async fn run_command(b: &Backend, a: IdArgs) -> Result<String, ApiError> {
    blocking(&b.engine, move |e| Ok(berth_engine::container::run_command::run_command(&e.container(&a.id)?))).await
}

/// The Health tab: the container's check, its on-failure action and its last results; null
/// for a container without a check.
pub async fn container_health(b: &Backend, a: IdArgs) -> Result<Option<ContainerHealth>, ApiError> {
    blocking(&b.engine, move |e| Ok(health_of(e, &e.container(&a.id)?))).await
}

/// Runs the container's check now (`berth healthcheck run`), its on-failure action included;
/// the health after it. A container without a check, or not running, is an error.
pub async fn run_healthcheck(b: &Backend, a: IdArgs) -> Result<Option<ContainerHealth>, ApiError> {
    blocking(&b.engine, move |e| {
        e.run_healthcheck(&a.id)?;
        // The on-failure action may have removed it meanwhile (a --rm container killed).
        match e.container(&a.id) {
            Ok(c) => Ok(health_of(e, &c)),
            Err(berth_engine::Error::ContainerLookup(berth_engine::container::LookupError::NotFound(_))) => Ok(None),
            Err(err) => Err(err.into()),
        }
    })
    .await
}

fn health_of(e: &Engine, c: &ContainerRecord) -> Option<ContainerHealth> {
    let check = c.options.healthcheck.as_ref()?;
    ContainerHealth::new(check, c.options.health_on_failure, &e.health(c)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_is_cpu_time_over_wall_time() {
        assert_eq!(cpu_percent(0, 500_000_000, Duration::from_secs(1)), 50.0);
        assert_eq!(cpu_percent(1_000_000_000, 3_000_000_000, Duration::from_secs(1)), 200.0, "two CPUs busy");
        assert_eq!(cpu_percent(5, 5, Duration::from_secs(1)), 0.0);
        assert_eq!(cpu_percent(9, 5, Duration::from_secs(1)), 0.0, "restarted in between");
        assert_eq!(cpu_percent(0, 5, Duration::ZERO), 0.0);
        assert_eq!(cpu_percent(0, 123_456_789, Duration::from_secs(1)), 12.3);
    }
}
