//! `kube play`, `kube down` and `kube generate` on `Engine`: a `kube::Plan` carried out (the
//! claims' volumes, then each pod with its containers, nothing of a pod left when one of its
//! containers can't be made), the pods of a YAML removed, and pods or containers written back
//! as a Kubernetes Pod.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as k8s;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::container::mount::MountRequest;
use crate::container::{ContainerRecord, RestartPolicy};
use crate::kube::Plan;
use crate::{Engine, Error, Result};

/// What `kube play` made.
#[derive(Clone, Debug, Default)]
pub struct Played {
    /// Volumes made for claims (those already there are not listed).
    pub volumes: Vec<String>,
    /// Each pod's id, with its containers' ids.
    pub pods: Vec<(String, Vec<String>)>,
}

impl Engine {
    /// `berth kube play`: the plan's volumes, pods and containers (images must be here: the
    /// caller pulls or builds them); started unless `start` is false. `replace` removes pods of
    /// the same names first. A pod whose container can't be made is removed again, with what
    /// it had, and the error names it.
    pub fn play_kube(&self, plan: &Plan, start: bool, replace: bool) -> Result<Played> {
        let mut played = Played::default();
        for v in &plan.volumes {
            match self.volume(v) {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {
                    self.create_volume(Some(v), BTreeMap::new())?;
                    played.volumes.push(v.clone());
                }
                Err(e) => return Err(e),
            }
        }
        for planned in &plan.pods {
            let name = planned.options.name.clone().unwrap_or_default();
            if replace {
                match self.pod(&name) {
                    Ok(old) => drop(self.remove_pod(&old.id, true, Some(std::time::Duration::ZERO))?),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
            }
            let p = self.create_pod(planned.options.clone())?;
            let made = (|| -> Result<Vec<String>> {
                let mut ids = Vec::new();
                for c in &planned.containers {
                    let mut opts = c.options.clone();
                    opts.pod = Some(p.id.clone());
                    if opts.user.is_none() {
                        // the image's user, shown in inspect as Podman's kube play shows it
                        opts.user = self.image_user(&c.image)?;
                    }
                    let made = self
                        .create_container(&c.image, opts)
                        .map_err(|e| Error::Invalid(format!("pod {name}: container {}: {e}", c.name)))?;
                    ids.push(made.id);
                }
                if start {
                    self.start_pod(&p.id)?;
                }
                Ok(ids)
            })();
            match made {
                Ok(ids) => played.pods.push((p.id, ids)),
                Err(e) => {
                    let _ = self.remove_pod(&p.id, true, Some(std::time::Duration::ZERO));
                    return Err(e);
                }
            }
        }
        Ok(played)
    }

    /// The user an image's config names, if any.
    fn image_user(&self, image: &str) -> Result<Option<String>> {
        let img = self.image(image)?;
        let config: serde_json::Value = serde_json::from_str(&img.config_json).unwrap_or_default();
        Ok(config.pointer("/config/User").and_then(|u| u.as_str()).filter(|u| !u.is_empty()).map(String::from))
    }

    /// `berth kube down`: stops and removes the plan's pods that are here (with their
    /// containers); volumes stay. Returns the ids of the pods removed.
    pub fn kube_down(&self, plan: &Plan) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for planned in &plan.pods {
            let name = planned.options.name.clone().unwrap_or_default();
            match self.pod(&name) {
                Ok(p) => {
                    self.stop_pod(&p.id, Some(std::time::Duration::from_secs(10)))?;
                    self.remove_pod(&p.id, true, Some(std::time::Duration::ZERO))?;
                    removed.push(p.id);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// `berth kube generate`: pods, or containers (each in a pod of its own, `NAME-pod`), as
    /// Kubernetes Pods in one YAML stream that `kube play` runs back.
    pub fn kube_generate(&self, names: &[String]) -> Result<String> {
        let mut docs = Vec::new();
        for n in names {
            let pod = match self.pod(n) {
                Ok(p) => {
                    let members = self.pod_containers(&p)?;
                    let infra = members.iter().find(|c| c.options.pod_infra);
                    let ports = infra.map(|c| c.options.ports.clone()).unwrap_or_default();
                    let containers: Vec<&ContainerRecord> = members.iter().filter(|c| !c.options.pod_infra).collect();
                    let hostname = p.options.hostname.clone();
                    let labels = p.options.labels.clone();
                    self.kube_pod(&p.name, labels, hostname, &containers, &ports, Some(&p.name))
                }
                Err(e) if e.is_not_found() => {
                    let c = match self.container(n) {
                        Ok(c) => c,
                        Err(e) if e.is_not_found() => {
                            let v = self.volume(n).map_err(|_| {
                                Error::Invalid(format!(
                                    "{n}: no pod, container or volume of that name or id: give one to generate"
                                ))
                            })?;
                            let claim = k8s::PersistentVolumeClaim {
                                metadata: ObjectMeta {
                                    name: Some(v.name.clone()),
                                    labels: (!v.labels.is_empty()).then(|| v.labels.clone()),
                                    ..Default::default()
                                },
                                spec: Some(k8s::PersistentVolumeClaimSpec {
                                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                                    resources: Some(k8s::VolumeResourceRequirements {
                                        requests: Some(BTreeMap::from([(
                                            "storage".to_string(),
                                            k8s_openapi::apimachinery::pkg::api::resource::Quantity("1Gi".into()),
                                        )])),
                                        ..Default::default()
                                    }),
                                    ..Default::default()
                                }),
                                status: None,
                            };
                            docs.push(
                                serde_yaml::to_string(&claim)
                                    .map_err(|e| Error::Invalid(format!("writing YAML: {e}")))?,
                            );
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if c.options.pod_infra {
                        return Err(Error::Invalid(format!("{n} is an infra container: generate its pod instead")));
                    }
                    let name = format!("{}-pod", c.name);
                    self.kube_pod(&name, c.options.labels.clone(), None, &[&c], &c.options.ports, None)
                }
                Err(e) => return Err(e),
            };
            docs.push(serde_yaml::to_string(&pod).map_err(|e| Error::Invalid(format!("writing YAML: {e}")))?);
        }
        let mut out = format!(
            "# Save the output of this file and use kubectl create -f to import it into Kubernetes.\n#\n# Created with berth-{}\n",
            env!("CARGO_PKG_VERSION")
        );
        out.push_str(&docs.join("---\n"));
        Ok(out)
    }

    fn kube_pod(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        hostname: Option<String>,
        containers: &[&ContainerRecord],
        ports: &[crate::container::port::PortMapping],
        pod: Option<&str>,
    ) -> k8s::Pod {
        let mut volumes: Vec<k8s::Volume> = Vec::new();
        let mut list = Vec::new();
        for (i, c) in containers.iter().enumerate() {
            let o = &c.options;
            let mut mounts = Vec::new();
            for m in &o.mounts {
                let (vol, dest, read_only) = match m {
                    MountRequest::Bind { source, destination, read_only } => {
                        let vname = volume_name(&source.to_string_lossy());
                        let v = k8s::Volume {
                            name: vname.clone(),
                            host_path: Some(k8s::HostPathVolumeSource {
                                path: source.to_string_lossy().into_owned(),
                                type_: Some(if source.is_dir() { "Directory" } else { "File" }.into()),
                            }),
                            ..Default::default()
                        };
                        (v, destination, *read_only)
                    }
                    MountRequest::Volume { name: vol, destination, read_only, anonymous: false } => {
                        let v = k8s::Volume {
                            name: format!("{vol}-pvc"),
                            persistent_volume_claim: Some(k8s::PersistentVolumeClaimVolumeSource {
                                claim_name: vol.clone(),
                                read_only: None,
                            }),
                            ..Default::default()
                        };
                        (v, destination, *read_only)
                    }
                    MountRequest::Volume { destination, read_only, .. } => {
                        let v = k8s::Volume {
                            name: volume_name(destination),
                            empty_dir: Some(Default::default()),
                            ..Default::default()
                        };
                        (v, destination, *read_only)
                    }
                    _ => continue,
                };
                mounts.push(k8s::VolumeMount {
                    name: vol.name.clone(),
                    mount_path: dest.clone(),
                    read_only: read_only.then_some(true),
                    ..Default::default()
                });
                if !volumes.iter().any(|v| v.name == vol.name) {
                    volumes.push(vol);
                }
            }
            // a pod's ports are its infra's: Kubernetes puts them on a container (the first)
            let ports: Vec<k8s::ContainerPort> = if i == 0 { ports } else { &[] }
                .iter()
                .map(|p| k8s::ContainerPort {
                    container_port: p.container_port.into(),
                    host_port: Some(p.host_port.into()),
                    host_ip: p.host_ip.map(|ip| ip.to_string()),
                    protocol: (p.protocol == crate::container::port::Protocol::Udp).then(|| "UDP".to_string()),
                    ..Default::default()
                })
                .collect();
            let (run_as_user, run_as_group) = match o.user.as_deref().map(|u| u.split_once(':').unwrap_or((u, ""))) {
                Some((u, g)) => (u.parse::<i64>().ok(), g.parse::<i64>().ok()),
                None => (None, None),
            };
            let security = &o.security;
            let caps = (!security.cap_add.is_empty() || !security.cap_drop.is_empty()).then(|| k8s::Capabilities {
                add: (!security.cap_add.is_empty()).then(|| security.cap_add.clone()),
                drop: (!security.cap_drop.is_empty()).then(|| security.cap_drop.clone()),
            });
            let security_context = (run_as_user.is_some() || security.privileged || caps.is_some() || o.read_only)
                .then(|| k8s::SecurityContext {
                    run_as_user,
                    run_as_group,
                    privileged: security.privileged.then_some(true),
                    read_only_root_filesystem: o.read_only.then_some(true),
                    capabilities: caps,
                    ..Default::default()
                });
            let short = pod.and_then(|p| c.name.strip_prefix(&format!("{p}-"))).unwrap_or(&c.name);
            list.push(k8s::Container {
                name: short.to_string(),
                image: Some(c.image_name.clone()),
                command: o.entrypoint.clone(),
                args: (!o.command.is_empty()).then(|| o.command.clone()),
                env: (!o.env.is_empty()).then(|| {
                    o.env
                        .iter()
                        .map(|e| {
                            let (k, v) = e.split_once('=').unwrap_or((e, ""));
                            k8s::EnvVar { name: k.into(), value: Some(v.into()), ..Default::default() }
                        })
                        .collect()
                }),
                ports: (!ports.is_empty()).then_some(ports),
                working_dir: o.workdir.clone(),
                security_context,
                volume_mounts: (!mounts.is_empty()).then_some(mounts),
                tty: o.tty.then_some(true),
                stdin: o.interactive.then_some(true),
                ..Default::default()
            });
        }
        let restart = containers.first().map(|c| c.options.restart).unwrap_or_default();
        k8s::Pod {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some({
                    let mut l = labels;
                    l.entry("app".into()).or_insert_with(|| name.to_string());
                    l
                }),
                ..Default::default()
            },
            spec: Some(k8s::PodSpec {
                containers: list,
                hostname,
                restart_policy: Some(
                    match restart {
                        RestartPolicy::No => "Never",
                        RestartPolicy::OnFailure { .. } => "OnFailure",
                        _ => "Always",
                    }
                    .into(),
                ),
                volumes: (!volumes.is_empty()).then_some(volumes),
                ..Default::default()
            }),
            status: None,
        }
    }
}

/// A volume name for a path, as Podman makes them (`/home/me/data` → `home-me-data-host-0`).
fn volume_name(path: &str) -> String {
    let cleaned: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    if cleaned.is_empty() {
        "root-host".into()
    } else {
        format!("{cleaned}-host")
    }
}
