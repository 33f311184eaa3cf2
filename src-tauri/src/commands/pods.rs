//! The pods list and its verbs: inspect (the engine's `pod inspect` object), create (the
//! form's name, labels, published ports, shared namespaces and host name, in `pod create`'s
//! grammar), start, stop, restart, remove (force) and prune, each the engine's pod verb.

use std::collections::BTreeMap;
use std::time::Duration;

use berth_engine::pod::{PodOptions, PodRecord};
use berth_engine::Engine;
use serde::Deserialize;

use crate::dto::{ApiError, PodSummary};

use super::backend::{blocking, Backend};

#[derive(Debug, Deserialize)]
pub struct PodArgs {
    /// A name or an id.
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct RemovePodArgs {
    pub name: String,
    /// Stops its running containers first (`pod rm -f`).
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePodArgs {
    /// Blank: a random name, as `pod create` gives.
    #[serde(default)]
    pub name: String,
    /// `KEY=VALUE` (or `KEY`, an empty value), as `--label` takes them.
    #[serde(default)]
    pub labels: Vec<String>,
    /// `[[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]`, as `-p` takes them.
    #[serde(default)]
    pub ports: Vec<String>,
    /// `--share`: blank for Podman's default (ipc,net,uts), `+pid` adds to it.
    #[serde(default)]
    pub share: String,
    /// Blank: the pod's name.
    #[serde(default)]
    pub hostname: String,
}

fn summary(e: &Engine, p: &PodRecord) -> Result<PodSummary, ApiError> {
    let members = e.pod_containers(p)?;
    let statuses: Vec<_> = members.iter().map(|c| c.status).collect();
    Ok(PodSummary::new(p, berth_engine::pod::state(&statuses), &members))
}

pub async fn list_pods(b: &Backend) -> Result<Vec<PodSummary>, ApiError> {
    blocking(&b.engine, |e| e.pods()?.iter().map(|p| summary(e, p)).collect()).await
}

/// `berth pod inspect`'s object.
pub async fn inspect_pod(b: &Backend, a: PodArgs) -> Result<serde_json::Value, ApiError> {
    blocking(&b.engine, move |e| Ok(e.pod_inspect(&a.name)?)).await
}

/// The engine's `PodOptions` of the form's fields, as `berth pod create` makes them (an infra
/// container running the pause process; the default network).
pub fn pod_options(a: &CreatePodArgs) -> Result<PodOptions, ApiError> {
    let typed = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let share = match typed(&a.share) {
        Some(s) => berth_engine::pod::parse_share(&s).map_err(ApiError::invalid)?,
        None => berth_engine::pod::DEFAULT_SHARE.to_vec(),
    };
    let mut labels = BTreeMap::new();
    for l in a.labels.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        if k.trim().is_empty() {
            return Err(ApiError::invalid(format!("label \"{l}\" has no key: write KEY=VALUE")));
        }
        labels.insert(k.trim().to_string(), v.to_string());
    }
    let mut ports = Vec::new();
    for p in a.ports.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        ports.extend(berth_engine::network::parse_publish(p).map_err(|e| ApiError::invalid(e.to_string()))?);
    }
    Ok(PodOptions {
        name: typed(&a.name),
        labels,
        infra: true,
        share,
        hostname: typed(&a.hostname),
        ports,
        ..Default::default()
    })
}

pub async fn create_pod(b: &Backend, a: CreatePodArgs) -> Result<PodSummary, ApiError> {
    let opts = pod_options(&a)?;
    blocking(&b.engine, move |e| summary(e, &e.create_pod(opts)?)).await
}

/// The infra container, then the others.
pub async fn start_pod(b: &Backend, a: PodArgs) -> Result<PodSummary, ApiError> {
    blocking(&b.engine, move |e| summary(e, &e.start_pod(&a.name)?)).await
}

/// The members, then the infra container; each with its own stop timeout.
pub async fn stop_pod(b: &Backend, a: PodArgs) -> Result<PodSummary, ApiError> {
    blocking(&b.engine, move |e| summary(e, &e.stop_pod(&a.name, None)?)).await
}

pub async fn restart_pod(b: &Backend, a: PodArgs) -> Result<PodSummary, ApiError> {
    blocking(&b.engine, move |e| summary(e, &e.restart_pod(&a.name)?)).await
}

/// Every container of the pod, then the pod; without `force`, refused while one runs (the
/// engine's error).
pub async fn remove_pod(b: &Backend, a: RemovePodArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_pod(&a.name, a.force, Some(Duration::from_secs(10)))?;
        Ok(())
    })
    .await
}

/// Removes every pod none of whose containers run; returns their ids.
pub async fn prune_pods(b: &Backend) -> Result<Vec<String>, ApiError> {
    blocking(&b.engine, |e| Ok(e.prune_pods()?)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::pod::Namespace;

    #[test]
    fn the_forms_fields_become_pod_options() {
        let a = CreatePodArgs {
            name: " web ".into(),
            labels: vec!["team=a".into(), "solo".into(), " ".into()],
            ports: vec!["8080:80".into(), "".into(), "127.0.0.1:5353:53/udp".into()],
            share: "+pid".into(),
            hostname: "box".into(),
        };
        let o = pod_options(&a).unwrap();
        assert_eq!(o.name.as_deref(), Some("web"));
        assert!(o.infra);
        assert_eq!(o.share, [Namespace::Ipc, Namespace::Net, Namespace::Pid, Namespace::Uts]);
        assert_eq!(o.hostname.as_deref(), Some("box"));
        let labels: Vec<(&str, &str)> = o.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(labels, [("solo", ""), ("team", "a")]);
        let ports: Vec<String> = o.ports.iter().map(|p| p.display()).collect();
        assert_eq!(ports, ["0.0.0.0:8080->80/tcp", "127.0.0.1:5353->53/udp"]);

        let blank = pod_options(&CreatePodArgs::default()).unwrap();
        assert_eq!((blank.name, blank.hostname), (None, None));
        assert_eq!(blank.share, berth_engine::pod::DEFAULT_SHARE);
        let none = pod_options(&CreatePodArgs { share: "none".into(), ..Default::default() }).unwrap();
        assert!(none.share.is_empty());
    }

    #[test]
    fn bad_fields_are_refused_naming_them() {
        let check = |a: CreatePodArgs, needle: &str| {
            let e = pod_options(&a).unwrap_err();
            assert_eq!(e.code, "invalid");
            assert!(e.message.contains(needle), "{:?} lacks {needle:?}", e.message);
        };
        check(
            CreatePodArgs { share: "net,mnt".into(), ..Default::default() },
            "invalid kernel namespace to share: mnt",
        );
        check(CreatePodArgs { ports: vec!["80:x".into()], ..Default::default() }, "80:x");
        check(CreatePodArgs { labels: vec!["=v".into()], ..Default::default() }, "label \"=v\" has no key");
    }
}
