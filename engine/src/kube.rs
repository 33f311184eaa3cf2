//! Kubernetes YAML, as `podman kube play` reads it and `kube generate` writes it: the
//! documents parsed with the `k8s-openapi` types (Pod, Deployment, ConfigMap,
//! PersistentVolumeClaim), turned into a plan of pods, containers and volumes as plain data
//! (`plan`); the verbs that carry a plan out are `kube_ops`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Container, PersistentVolumeClaim, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::container::mount::MountRequest;
use crate::container::port::{PortMapping, Protocol};
use crate::container::{CreateOptions, Limits, RestartPolicy};
use crate::pod::{ExitPolicy, PodOptions, DEFAULT_SHARE};

/// Kubernetes' limit on an annotation's value, which Podman enforces.
pub const ANNOTATION_MAX: usize = 63;

/// What `kube play` takes besides the YAML.
#[derive(Clone, Debug, Default)]
pub struct PlayOptions {
    /// `--network`: the pods' network instead of the default.
    pub network: Option<String>,
    /// `--annotation KEY=VALUE`: added to every container.
    pub annotations: BTreeMap<String, String>,
    /// `--configmap FILE`: ConfigMaps besides those of the YAML.
    pub configmaps: Vec<String>,
    /// `--log-driver`.
    pub log_driver: Option<crate::container::LogDriver>,
    /// The directory relative hostPath volumes are not allowed against (kept for errors).
    pub create_command: Vec<String>,
}

/// One container of a planned pod.
#[derive(Clone, Debug)]
pub struct PlannedContainer {
    /// The container's name in the YAML (the container is named `POD-NAME`).
    pub name: String,
    pub image: String,
    pub options: CreateOptions,
}

/// One planned pod.
#[derive(Clone, Debug)]
pub struct PlannedPod {
    pub options: PodOptions,
    pub containers: Vec<PlannedContainer>,
}

/// What a YAML file asks for.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub pods: Vec<PlannedPod>,
    /// PersistentVolumeClaims: named volumes.
    pub volumes: Vec<String>,
}

impl Plan {
    /// The images the plan's containers run, each once.
    pub fn images(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in self.pods.iter().flat_map(|p| &p.containers) {
            if !out.contains(&c.image) {
                out.push(c.image.clone());
            }
        }
        out
    }
}

/// The kinds `kube play` reads.
pub const KINDS: &str = "Pod, Deployment, ConfigMap and PersistentVolumeClaim";

enum Doc {
    Pod(Box<Pod>),
    Deployment(Box<Deployment>),
    ConfigMap(Box<ConfigMap>),
    Claim(Box<PersistentVolumeClaim>),
}

/// The YAML's documents, each checked against its kind's type; the error names the document
/// and what is wrong.
fn documents(text: &str) -> Result<Vec<Doc>, String> {
    let mut out = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let n = i + 1;
        let value = <serde_yaml::Value as serde::Deserialize>::deserialize(de)
            .map_err(|e| format!("YAML document {n}: {e}"))?;
        if value.is_null() {
            continue; // an empty document (a trailing `---`)
        }
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("").to_string();
        let typed = |e: serde_yaml::Error| format!("YAML document {n} (kind {kind}): {e}");
        out.push(match kind.as_str() {
            "Pod" => Doc::Pod(Box::new(serde_yaml::from_value(value).map_err(typed)?)),
            "Deployment" => Doc::Deployment(Box::new(serde_yaml::from_value(value).map_err(typed)?)),
            "ConfigMap" => Doc::ConfigMap(Box::new(serde_yaml::from_value(value).map_err(typed)?)),
            "PersistentVolumeClaim" => Doc::Claim(Box::new(serde_yaml::from_value(value).map_err(typed)?)),
            "" => return Err(format!("YAML document {n} has no kind: give one of {KINDS}")),
            other => return Err(format!("YAML document {n}: kind {other} is not supported: use {KINDS}")),
        });
    }
    if out.is_empty() {
        return Err("the YAML has no documents: give a Pod or a Deployment".into());
    }
    Ok(out)
}

/// Podman's check of an annotation's value.
fn check_annotation(key: &str, value: &str) -> Result<(), String> {
    if value.len() > ANNOTATION_MAX {
        return Err(format!(
            "invalid annotation \"{key}\"=\"{value}\": annotation exceeds maximum size, {ANNOTATION_MAX}, of kubernetes annotation"
        ));
    }
    Ok(())
}

/// `--annotation KEY=VALUE`, checked as Podman checks it.
pub fn parse_annotation(arg: &str) -> Result<(String, String), String> {
    let (k, v) = arg.split_once('=').ok_or_else(|| format!("--annotation {arg}: use KEY=VALUE"))?;
    if v.len() > ANNOTATION_MAX {
        return Err(format!("annotation exceeds maximum size, {ANNOTATION_MAX}, of kubernetes annotation: {v}"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// The plan of a YAML file (its text) under `opts`.
pub fn plan(text: &str, opts: &PlayOptions) -> Result<Plan, String> {
    let mut docs = documents(text)?;
    for extra in &opts.configmaps {
        docs.extend(documents(extra)?.into_iter().filter(|d| matches!(d, Doc::ConfigMap(_))));
    }
    let configmaps: BTreeMap<String, BTreeMap<String, String>> = docs
        .iter()
        .filter_map(|d| match d {
            Doc::ConfigMap(c) => {
                Some((c.metadata.name.clone().unwrap_or_default(), c.data.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    let mut plan = Plan::default();
    for d in &docs {
        match d {
            Doc::Pod(p) => {
                let spec = p.spec.as_ref().ok_or_else(|| format!("pod {}: it has no spec", name_of(&p.metadata)))?;
                plan.pods.push(plan_pod(&p.metadata, spec, None, &configmaps, opts)?);
            }
            Doc::Deployment(dep) => {
                let name = name_of(&dep.metadata);
                let spec = &dep.spec;
                let template = spec
                    .template
                    .spec
                    .as_ref()
                    .ok_or_else(|| format!("deployment {name}: its template has no spec"))?;
                let mut meta = spec.template.metadata.clone().unwrap_or_default();
                meta.labels = Some({
                    let mut l = dep.metadata.labels.clone().unwrap_or_default();
                    l.extend(meta.labels.clone().unwrap_or_default());
                    l
                });
                let replicas = spec.replicas.unwrap_or(1).max(0);
                for i in 0..replicas {
                    meta.name = Some(format!("{name}-pod-{i}"));
                    plan.pods.push(plan_pod(&meta, template, Some(&name), &configmaps, opts)?);
                }
            }
            Doc::Claim(c) => plan.volumes.push(name_of(&c.metadata)),
            Doc::ConfigMap(_) => {}
        }
    }
    if plan.pods.is_empty() && plan.volumes.is_empty() {
        return Err("the YAML has no Pod, Deployment or PersistentVolumeClaim: nothing to play".into());
    }
    Ok(plan)
}

fn name_of(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn plan_pod(
    meta: &ObjectMeta,
    spec: &PodSpec,
    deployment: Option<&str>,
    configmaps: &BTreeMap<String, BTreeMap<String, String>>,
    opts: &PlayOptions,
) -> Result<PlannedPod, String> {
    let name = name_of(meta);
    if name.is_empty() {
        return Err(match deployment {
            Some(d) => format!("deployment {d}: its pods need a name"),
            None => "a Pod needs metadata.name".into(),
        });
    }
    let mut annotations = opts.annotations.clone();
    for (k, v) in meta.annotations.iter().flatten() {
        check_annotation(k, v)?;
        annotations.insert(k.clone(), v.clone());
    }
    let restart = match spec.restart_policy.as_deref() {
        None | Some("Always") => RestartPolicy::Always,
        Some("OnFailure") => RestartPolicy::OnFailure { max_retries: None },
        Some("Never") => RestartPolicy::No,
        Some(other) => return Err(format!("pod {name}: restartPolicy {other}: use Always, OnFailure or Never")),
    };
    let network = opts.network.clone().or_else(|| spec.host_network.filter(|h| *h).map(|_| "host".to_string()));
    let mut ports = Vec::new();
    let mut containers = Vec::new();
    for c in &spec.containers {
        for p in c.ports.iter().flatten() {
            ports.push(port(&name, c, p)?);
        }
        let options = container_options(&name, c, spec, configmaps, &annotations, restart, opts)?;
        let image = c.image.clone().ok_or_else(|| format!("pod {name}: container {} has no image", c.name))?;
        containers.push(PlannedContainer { name: c.name.clone(), image, options });
    }
    if containers.is_empty() {
        return Err(format!("pod {name}: it has no containers"));
    }
    let mut labels: BTreeMap<String, String> = meta.labels.clone().unwrap_or_default();
    if let Some(d) = deployment {
        labels.entry("app".into()).or_insert_with(|| d.to_string());
    }
    let options = PodOptions {
        name: Some(name.clone()),
        labels,
        infra: true,
        share: DEFAULT_SHARE.to_vec(),
        hostname: spec.hostname.clone(),
        network,
        ports,
        // as Podman's kube play: the pod stops with its last container
        exit_policy: ExitPolicy::Stop,
        create_command: opts.create_command.clone(),
        ..Default::default()
    };
    Ok(PlannedPod { options, containers })
}

/// A container port, published on the host port given, else on the same port (Podman's).
fn port(pod: &str, c: &Container, p: &k8s_openapi::api::core::v1::ContainerPort) -> Result<PortMapping, String> {
    let bad = || format!("pod {pod}: container {}: port {} is not a port number", c.name, p.container_port);
    let container_port = u16::try_from(p.container_port).ok().filter(|p| *p > 0).ok_or_else(bad)?;
    let host_port = match p.host_port {
        Some(h) => u16::try_from(h).ok().filter(|h| *h > 0).ok_or_else(bad)?,
        None => container_port,
    };
    let protocol = match p.protocol.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        Some(other) => return Err(format!("pod {pod}: container {}: protocol {other}: use TCP or UDP", c.name)),
    };
    let host_ip = match p.host_ip.as_deref().filter(|h| !h.is_empty()) {
        Some(ip) => {
            Some(ip.parse().map_err(|_| format!("pod {pod}: container {}: hostIP {ip} is no address", c.name))?)
        }
        None => None,
    };
    Ok(PortMapping { host_ip, host_port, container_port, protocol })
}

/// A quantity of bytes (`64Mi`, `1G`, `512k`, `1e6`), as Kubernetes writes them.
fn bytes(q: &str) -> Option<i64> {
    let units: [(&str, f64); 12] = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in units {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| (n * factor) as i64);
        }
    }
    q.parse::<f64>().ok().map(|n| n as i64)
}

/// CPUs of a quantity (`500m`, `2`).
fn cpus(q: &str) -> Option<f64> {
    match q.strip_suffix('m') {
        Some(m) => m.parse::<f64>().ok().map(|m| m / 1000.0),
        None => q.parse().ok(),
    }
}

fn container_options(
    pod: &str,
    c: &Container,
    spec: &PodSpec,
    configmaps: &BTreeMap<String, BTreeMap<String, String>>,
    annotations: &BTreeMap<String, String>,
    restart: RestartPolicy,
    opts: &PlayOptions,
) -> Result<CreateOptions, String> {
    let what = |m: String| format!("pod {pod}: container {}: {m}", c.name);
    let mut env = Vec::new();
    for from in c.env_from.iter().flatten() {
        if let Some(r) = &from.config_map_ref {
            match configmaps.get(&r.name) {
                Some(data) => {
                    env.extend(data.iter().map(|(k, v)| format!("{}{k}={v}", from.prefix.clone().unwrap_or_default())))
                }
                None if r.optional == Some(true) => {}
                None => {
                    return Err(what(format!(
                        "envFrom: no ConfigMap {} (give it in the YAML or with --configmap)",
                        r.name
                    )))
                }
            }
        }
    }
    for e in c.env.iter().flatten() {
        let value = match (&e.value, e.value_from.as_ref().and_then(|v| v.config_map_key_ref.as_ref())) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(r)) => match configmaps.get(&r.name).and_then(|d| d.get(&r.key)) {
                Some(v) => Some(v.clone()),
                None if r.optional == Some(true) => None,
                None => {
                    return Err(what(format!(
                        "env {}: no key {} in ConfigMap {} (give it in the YAML or with --configmap)",
                        e.name, r.key, r.name
                    )))
                }
            },
            (None, None) => Some(String::new()),
        };
        if let Some(v) = value {
            env.push(format!("{}={v}", e.name));
        }
    }
    let mut mounts = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        // Podman's form `PATH:OPTIONS` (`/data:z`, `/data:ro`)
        let (dest, mopts) = m.mount_path.split_once(':').unwrap_or((&m.mount_path, ""));
        let read_only = m.read_only.unwrap_or(false) || mopts.split(',').any(|o| o == "ro");
        let vol = spec
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == m.name)
            .ok_or_else(|| what(format!("volumeMount {}: no volume of that name in the pod", m.name)))?;
        let request = if let Some(h) = &vol.host_path {
            let path = PathBuf::from(&h.path);
            if !path.is_absolute() {
                return Err(what(format!("hostPath {}: give an absolute path", h.path)));
            }
            match h.type_.as_deref().unwrap_or("") {
                "DirectoryOrCreate" if !path.exists() => {
                    std::fs::create_dir_all(&path).map_err(|e| what(format!("hostPath {}: {e}", h.path)))?
                }
                "FileOrCreate" if !path.exists() => {
                    std::fs::write(&path, b"").map_err(|e| what(format!("hostPath {}: {e}", h.path)))?
                }
                "Directory" if !path.is_dir() => {
                    return Err(what(format!("hostPath {}: no such directory (type Directory)", h.path)))
                }
                "File" if !path.is_file() => {
                    return Err(what(format!("hostPath {}: no such file (type File)", h.path)))
                }
                _ => {}
            }
            MountRequest::Bind { source: path, destination: dest.to_string(), read_only }
        } else if let Some(claim) = &vol.persistent_volume_claim {
            MountRequest::Volume {
                name: claim.claim_name.clone(),
                destination: dest.to_string(),
                read_only: read_only || claim.read_only.unwrap_or(false),
                anonymous: false,
            }
        } else if vol.empty_dir.is_some() {
            MountRequest::Volume { name: String::new(), destination: dest.to_string(), read_only, anonymous: true }
        } else {
            return Err(what(format!(
                "volume {}: only hostPath, persistentVolumeClaim and emptyDir volumes are supported",
                vol.name
            )));
        };
        mounts.push(request);
    }
    let sc = c.security_context.as_ref();
    let user = match (sc.and_then(|s| s.run_as_user), sc.and_then(|s| s.run_as_group)) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.to_string()),
        (None, _) => None,
    };
    let mut security = crate::container::security::Security {
        privileged: sc.and_then(|s| s.privileged).unwrap_or(false),
        no_new_privileges: sc.and_then(|s| s.allow_privilege_escalation) == Some(false),
        ..Default::default()
    };
    if let Some(caps) = sc.and_then(|s| s.capabilities.as_ref()) {
        security.cap_add = caps.add.clone().unwrap_or_default();
        security.cap_drop = caps.drop.clone().unwrap_or_default();
    }
    let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
    let limit = |k: &str| limits.and_then(|l| l.get(k)).map(|q| q.0.clone());
    let limits = Limits {
        memory: match limit("memory") {
            Some(q) => Some(bytes(&q).ok_or_else(|| what(format!("memory limit {q} is no quantity")))?),
            None => None,
        },
        cpus: match limit("cpu") {
            Some(q) => Some(cpus(&q).ok_or_else(|| what(format!("cpu limit {q} is no quantity")))?),
            None => None,
        },
        ..Default::default()
    };
    Ok(CreateOptions {
        name: Some(format!("{pod}-{}", c.name)),
        entrypoint: c.command.clone(),
        command: c.args.clone().unwrap_or_default(),
        env,
        workdir: c.working_dir.clone().filter(|w| !w.is_empty()),
        user,
        mounts,
        read_only: sc.and_then(|s| s.read_only_root_filesystem).unwrap_or(false),
        security,
        limits,
        restart,
        tty: c.tty.unwrap_or(false),
        interactive: c.stdin.unwrap_or(false),
        annotations: annotations.clone(),
        log: crate::container::LogConfig { driver: opts.log_driver.unwrap_or_default(), max_size: None },
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  restartPolicy: OnFailure
  containers:
  - name: srv
    image: busybox
    command: [httpd, -f]
    args: [-p, "8080"]
    env:
    - {name: MODE, value: prod}
    - name: LEVEL
      valueFrom: {configMapKeyRef: {name: settings, key: level}}
    ports:
    - {containerPort: 8080, hostPort: 18080}
    - {containerPort: 53, protocol: UDP}
    securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
    resources: {limits: {memory: 64Mi, cpu: 500m}}
    volumeMounts:
    - {name: data, mountPath: "/data:z"}
    - {name: cache, mountPath: /cache, readOnly: true}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: web-data}
  - name: cache
    emptyDir: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {level: debug}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: web-data}
"#;

    #[test]
    fn a_pod_becomes_a_pod_with_its_containers_ports_env_and_volumes() {
        let plan = plan(POD, &PlayOptions::default()).unwrap();
        assert_eq!(plan.volumes, ["web-data"]);
        let p = &plan.pods[0];
        assert_eq!(p.options.name.as_deref(), Some("web"));
        assert_eq!(p.options.exit_policy, ExitPolicy::Stop);
        assert_eq!(
            p.options.ports.iter().map(|p| p.display()).collect::<Vec<_>>(),
            ["0.0.0.0:18080->8080/tcp", "0.0.0.0:53->53/udp"]
        );
        let c = &p.containers[0];
        assert_eq!(c.image, "busybox");
        let o = &c.options;
        assert_eq!(o.name.as_deref(), Some("web-srv"));
        assert_eq!(o.entrypoint.as_deref(), Some(&["httpd".to_string(), "-f".to_string()][..]));
        assert_eq!(o.command, ["-p", "8080"]);
        assert_eq!(o.env, ["MODE=prod", "LEVEL=debug"]);
        assert_eq!(o.user.as_deref(), Some("1000:3000"));
        assert_eq!(o.limits.memory, Some(64 * 1024 * 1024));
        assert_eq!(o.limits.cpus, Some(0.5));
        assert_eq!(o.restart, RestartPolicy::OnFailure { max_retries: None });
        assert!(
            matches!(&o.mounts[0], MountRequest::Volume { name, destination, .. } if name == "web-data" && destination == "/data")
        );
        assert!(matches!(&o.mounts[1], MountRequest::Volume { anonymous: true, read_only: true, .. }));
    }

    #[test]
    fn deployments_make_a_pod_per_replica() {
        let y = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers: [{name: c, image: busybox}]\n";
        let plan = plan(y, &PlayOptions::default()).unwrap();
        let names: Vec<_> = plan.pods.iter().map(|p| p.options.name.clone().unwrap()).collect();
        assert_eq!(names, ["api-pod-0", "api-pod-1"]);
        assert_eq!(plan.pods[1].containers[0].options.name.as_deref(), Some("api-pod-1-c"));
    }

    #[test]
    fn bad_yaml_is_refused_with_the_document_and_the_reason() {
        let e = plan("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", &PlayOptions::default()).unwrap_err();
        assert_eq!(e, format!("YAML document 1: kind Service is not supported: use {KINDS}"));
        let e = plan("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n", &PlayOptions::default())
            .unwrap_err();
        assert_eq!(e, "pod p: container c has no image");
        let long = "x".repeat(64);
        let y = format!("kind: Pod\nmetadata:\n  name: p\n  annotations: {{test: {long}}}\nspec: {{containers: [{{name: c, image: i}}]}}\n");
        let e = plan(&y, &PlayOptions::default()).unwrap_err();
        assert!(e.starts_with(&format!("invalid annotation \"test\"=\"{long}\"")), "{e}");
        let e = plan("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, env: [{name: A, valueFrom: {configMapKeyRef: {name: nope, key: k}}}]}]}\n", &PlayOptions::default()).unwrap_err();
        assert!(e.contains("no key k in ConfigMap nope"), "{e}");
    }
}
