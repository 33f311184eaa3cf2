//! `POST /containers/create`: Docker's container config translated to `CreateOptions`.
//!
//! Nothing in the body is dropped without a word. A field Berth maps is read with its type
//! checked (a wrong type is a 400 naming the field); a field Berth has no equivalent for is
//! refused with a 400 naming it once it asks for anything (clients send most fields with their
//! zero values: those are accepted); what can't be done but does no harm to ignore comes back
//! in the response's `Warnings`. The checks of what
//! the values mean (mount paths, limits, names) are the engine's, shared with the CLI and the
//! desktop app.

use std::collections::BTreeMap;

use berth_engine::container::health::HealthConfig;
use berth_engine::container::security::{DeviceRequest, Security};
use berth_engine::container::{Limits, LogConfig, LogDriver, RestartPolicy};
use berth_engine::network::PortMapping;
use berth_engine::volume::MountRequest;
use berth_engine::CreateOptions;
use hyper::StatusCode;
use serde_json::{json, Value};

use crate::service::{json_reply, kind_of, ApiError, Ctx, Reply, Req};

/// A field of the body, by its path (`HostConfig.Memory`), for reading with its type checked.
struct Field<'a> {
    path: String,
    v: &'a Value,
}

impl<'a> Field<'a> {
    fn of(parent: &'a Value, prefix: &str, name: &str) -> Field<'a> {
        let path = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
        Field { path, v: parent.get(name).unwrap_or(&Value::Null) }
    }
    fn wrong(&self, want: &str) -> ApiError {
        ApiError::bad(format!("invalid {}: expected {want}, got {}", self.path, kind_of(self.v)))
    }
    fn str(&self) -> Result<Option<&'a str>, ApiError> {
        match self.v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.as_str())).map(|s| s.filter(|s| !s.is_empty())),
            _ => Err(self.wrong("a string")),
        }
    }
    fn bool(&self) -> Result<bool, ApiError> {
        match self.v {
            Value::Null => Ok(false),
            Value::Bool(b) => Ok(*b),
            _ => Err(self.wrong("a boolean")),
        }
    }
    fn int(&self) -> Result<Option<i64>, ApiError> {
        match self.v {
            Value::Null => Ok(None),
            Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| self.wrong("an integer in range")),
            _ => Err(self.wrong("an integer")),
        }
    }
    /// Docker's string lists, which also take a lone string (`"Cmd": "sh"`).
    fn strings(&self) -> Result<Option<Vec<String>>, ApiError> {
        match self.v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(vec![s.clone()])),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string).ok_or_else(|| self.wrong("an array of strings")))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            _ => Err(self.wrong("an array of strings")),
        }
    }
    fn list(&self) -> Result<Vec<String>, ApiError> {
        Ok(self.strings()?.unwrap_or_default())
    }
    fn array(&self) -> Result<&'a [Value], ApiError> {
        match self.v {
            Value::Null => Ok(&[]),
            Value::Array(a) => Ok(a),
            _ => Err(self.wrong("an array")),
        }
    }
    fn object(&self) -> Result<Option<&'a serde_json::Map<String, Value>>, ApiError> {
        match self.v {
            Value::Null => Ok(None),
            Value::Object(o) => Ok(Some(o)),
            _ => Err(self.wrong("an object")),
        }
    }
    fn field(&self, name: &str) -> Field<'a> {
        Field::of(self.v, &self.path, name)
    }
}

/// A value a client sends for "not set": null, false, 0, "", [] or {}.
fn unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(unset),
    }
}

/// Fields Berth has no equivalent for, with the values that mean "not set" beyond `unset`.
const UNSUPPORTED_CONFIG: &[(&str, &[&str])] = &[("Domainname", &[]), ("StopTimeout", &[]), ("OnBuild", &[])];
const UNSUPPORTED_HOST: &[(&str, &[&str])] = &[
    ("Links", &[]),
    ("VolumesFrom", &[]),
    ("VolumeDriver", &["local"]),
    ("IpcMode", &["private", "shareable"]),
    ("PidMode", &["private"]),
    ("UTSMode", &["private"]),
    ("UsernsMode", &["host"]),
    ("CgroupnsMode", &["private"]),
    ("Cgroup", &[]),
    ("CgroupParent", &[]),
    ("OomScoreAdj", &[]),
    ("OomKillDisable", &[]),
    ("MemoryReservation", &[]),
    ("MemorySwappiness", &["-1"]),
    ("KernelMemory", &[]),
    ("KernelMemoryTCP", &[]),
    ("CpuPeriod", &[]),
    ("CpuQuota", &[]),
    ("CpuRealtimePeriod", &[]),
    ("CpuRealtimeRuntime", &[]),
    ("CpusetCpus", &[]),
    ("CpusetMems", &[]),
    ("CpuCount", &[]),
    ("CpuPercent", &[]),
    ("BlkioWeight", &[]),
    ("BlkioWeightDevice", &[]),
    ("BlkioDeviceReadBps", &[]),
    ("BlkioDeviceWriteBps", &[]),
    ("BlkioDeviceReadIOps", &[]),
    ("BlkioDeviceWriteIOps", &[]),
    ("IOMaximumIOps", &[]),
    ("IOMaximumBandwidth", &[]),
    ("DeviceCgroupRules", &[]),
    ("DeviceRequests", &[]),
    ("StorageOpt", &[]),
    ("MaskedPaths", &[]),
    ("ReadonlyPaths", &[]),
    ("Runtime", &["berth"]),
    ("Isolation", &["default"]),
    ("Annotations", &[]),
];

fn refuse_unsupported(body: &Value) -> Result<(), ApiError> {
    let check = |parent: &Value, prefix: &str, table: &[(&str, &[&str])]| -> Result<(), ApiError> {
        for (name, also_unset) in table {
            let v = parent.get(*name).unwrap_or(&Value::Null);
            let as_text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !unset(v) && !also_unset.contains(&as_text.as_str()) {
                return Err(ApiError::bad(format!(
                    "{prefix}{name} is not supported by Berth (got {}): leave it out",
                    serde_json::to_string(v).unwrap_or_default()
                )));
            }
        }
        Ok(())
    };
    check(body, "", UNSUPPORTED_CONFIG)?;
    check(&body["HostConfig"], "HostConfig.", UNSUPPORTED_HOST)?;
    healthcheck(body)?;
    log_config(body).map(drop)
}

/// `Healthcheck`: Docker's object (durations in nanoseconds, 0 for the image's or the
/// default), laid over the image's check by the engine; `["NONE"]` turns the image's off.
/// The flag for `--no-healthcheck` and the check.
fn healthcheck(body: &Value) -> Result<(bool, Option<HealthConfig>), ApiError> {
    let hc = Field::of(body, "", "Healthcheck");
    if hc.object()?.is_none() {
        return Ok((false, None));
    }
    let test = hc.field("Test").list()?;
    match test.first().map(String::as_str) {
        Some("NONE") => return Ok((true, None)),
        None | Some("CMD" | "CMD-SHELL") => {}
        Some(other) => {
            return Err(ApiError::bad(format!(
                "Healthcheck.Test: the first element is {other:?}: give CMD, CMD-SHELL or NONE, as [\"CMD-SHELL\", \"curl -f http://localhost/\"]"
            )))
        }
    }
    if test.len() == 1 {
        return Err(ApiError::bad(format!("Healthcheck.Test {test:?} has no command: add it after {}", test[0])));
    }
    let ns = |name: &str| -> Result<Option<u64>, ApiError> {
        match hc.field(name).int()? {
            None | Some(0) => Ok(None),
            Some(n) if n < 1_000_000 => Err(ApiError::bad(format!(
                "Healthcheck.{name} {n}: durations are nanoseconds and must be 0 or at least 1ms (1000000)"
            ))),
            Some(n) => Ok(Some(n as u64)),
        }
    };
    let retries = match hc.field("Retries").int()? {
        None | Some(0) => None,
        Some(n) if n < 0 => {
            return Err(ApiError::bad(format!("Healthcheck.Retries {n}: give 0 (the default) or more")))
        }
        Some(n) => Some(n.min(u32::MAX as i64) as u32),
    };
    let config = HealthConfig {
        test,
        interval: ns("Interval")?,
        timeout: ns("Timeout")?,
        start_period: ns("StartPeriod")?,
        retries,
    };
    Ok((false, (config != HealthConfig::default()).then_some(config)))
}

/// `HostConfig.LogConfig`: Berth's k8s-file log (json-file is the same file) or none, and
/// `max-size` of its options.
fn log_config(body: &Value) -> Result<LogConfig, ApiError> {
    let log = Field::of(&body["HostConfig"], "HostConfig", "LogConfig");
    let driver = match log.field("Type").str()?.unwrap_or("") {
        "none" => LogDriver::None,
        "json-file" => LogDriver::JsonFile,
        "" | "k8s-file" => LogDriver::K8sFile,
        t => {
            return Err(ApiError::bad(format!(
                "HostConfig.LogConfig.Type \"{t}\" is not supported by Berth: use json-file, k8s-file or none"
            )))
        }
    };
    let mut max_size = None;
    for (k, v) in log.field("Config").object()?.into_iter().flatten() {
        match (k.as_str(), v.as_str()) {
            ("max-size", Some(size)) => {
                max_size = Some(
                    crate::containers::decimal_size(size)
                        .map_err(|e| ApiError::bad(format!("HostConfig.LogConfig.Config.max-size: {e}")))?,
                )
            }
            _ => {
                return Err(ApiError::bad(format!(
                    "HostConfig.LogConfig.Config.{k} is not supported by Berth: it takes max-size only"
                )))
            }
        }
    }
    Ok(LogConfig { driver, max_size })
}

/// `NetworkingConfig.EndpointsConfig`: the one network compose names, joined with
/// `HostConfig.NetworkMode`; what an endpoint asks that Berth can't do is refused. Its
/// aliases (compose's service names), which the network's name server answers, and its MAC.
fn endpoint(body: &Value, network: &mut Option<String>) -> Result<(Vec<String>, Option<String>), ApiError> {
    let nc = Field::of(body, "", "NetworkingConfig");
    nc.object()?;
    let eps = nc.field("EndpointsConfig");
    let Some(eps) = eps.object()? else { return Ok((Vec::new(), None)) };
    if eps.len() > 1 {
        let names: Vec<&str> = eps.keys().map(String::as_str).collect();
        return Err(ApiError::bad(format!(
            "NetworkingConfig.EndpointsConfig names {} networks ({}): a Berth container is on one network; connect to one",
            names.len(),
            names.join(", ")
        )));
    }
    let Some((name, ep)) = eps.iter().next() else { return Ok((Vec::new(), None)) };
    let prefix = format!("NetworkingConfig.EndpointsConfig.{name}");
    if !ep.is_object() && !ep.is_null() {
        return Err(ApiError::bad(format!("invalid {prefix}: expected an object, got {}", kind_of(ep))));
    }
    match network.as_deref() {
        // The docker CLI names the default network `default`, as in NetworkMode.
        None if name == "default" => {}
        None => *network = Some(name.clone()),
        Some(m) if m == name => {}
        Some(m) => {
            return Err(ApiError::bad(format!(
                "{prefix} names network {name} but HostConfig.NetworkMode is {m}: a Berth container is on one network"
            )))
        }
    }
    for key in ["IPAMConfig", "Links", "DriverOpts", "IPAddress", "IPv6Gateway", "GlobalIPv6Address"] {
        let v = ep.get(key).unwrap_or(&Value::Null);
        if !unset(v) {
            return Err(ApiError::bad(format!(
                "{prefix}.{key} is not supported by Berth (got {v}): addresses are given by the network"
            )));
        }
    }
    let mac = Field::of(ep, &prefix, "MacAddress").str()?.filter(|m| !m.is_empty()).map(str::to_string);
    Ok((Field::of(ep, &prefix, "Aliases").list()?, mac))
}

/// Docker's create body as what the user asked for, and the warnings for what was left out.
fn create_options(name: Option<String>, body: &Value) -> Result<(CreateOptions, Vec<String>), ApiError> {
    if !body["HostConfig"].is_object() && !body["HostConfig"].is_null() {
        return Err(ApiError::bad(format!(
            "invalid HostConfig: expected an object, got {}",
            kind_of(&body["HostConfig"])
        )));
    }
    refuse_unsupported(body)?;
    let warnings: Vec<String> = Vec::new();
    let top = |n: &str| Field::of(body, "", n);
    let hc = &body["HostConfig"];
    let host = |n: &str| Field::of(hc, "HostConfig", n);
    let mut ports = Vec::new();
    for (key, list) in host("PortBindings").object()?.into_iter().flatten() {
        let (port, proto) = berth_engine::network::ports::parse_exposed(key)
            .ok_or_else(|| ApiError::bad(format!("invalid port \"{key}\" in HostConfig.PortBindings")))?;
        let list = Field { path: format!("HostConfig.PortBindings.{key}"), v: list };
        for b in list.array()? {
            let b = Field { path: list.path.clone(), v: b };
            let host_port = match b.field("HostPort").str()? {
                None => 0,
                Some(p) => p.parse().map_err(|_| ApiError::bad(format!("invalid host port \"{p}\" for {key}")))?,
            };
            let host_ip = match b.field("HostIp").str()? {
                None | Some("0.0.0.0") => None,
                Some(ip) => Some(ip.parse().map_err(|_| ApiError::bad(format!("invalid host address \"{ip}\"")))?),
            };
            ports.push(PortMapping { host_ip, host_port, container_port: port, protocol: proto });
        }
    }
    ports.sort();
    let cwd = std::path::PathBuf::from("/");
    let mut mounts = Vec::new();
    for b in host("Binds").list()? {
        mounts.push(berth_engine::volume::parse_volume_flag(&b, &cwd).map_err(|e| ApiError::bad(e.to_string()))?);
    }
    let list = host("Mounts");
    for m in list.array()? {
        let m = Field { path: list.path.clone(), v: m };
        let target = m.field("Target").str()?.unwrap_or_default().to_string();
        let ro = m.field("ReadOnly").bool()?;
        let source = m.field("Source").str()?.unwrap_or_default();
        mounts.push(match m.field("Type").str()? {
            Some("bind") => {
                let propagation = m.field("BindOptions").field("Propagation").str()?;
                if propagation.is_some_and(|p| p != "rprivate") {
                    return Err(ApiError::bad(format!(
                        "HostConfig.Mounts BindOptions.Propagation {} is not supported by Berth: binds are rprivate",
                        propagation.unwrap_or_default()
                    )));
                }
                MountRequest::Bind { source: source.into(), destination: target, read_only: ro }
            }
            Some("volume") => {
                if m.field("VolumeOptions").field("NoCopy").bool()? {
                    return Err(ApiError::bad(
                        "HostConfig.Mounts VolumeOptions.NoCopy is not supported by Berth: a new volume is filled from the image",
                    ));
                }
                MountRequest::Volume {
                    name: source.into(),
                    destination: target,
                    read_only: ro,
                    anonymous: source.is_empty(),
                }
            }
            Some("tmpfs") => {
                let opts = m.field("TmpfsOptions");
                let mut flag = vec![];
                if let Some(size) = opts.field("SizeBytes").int()?.filter(|s| *s != 0) {
                    flag.push(format!("size={size}"));
                }
                if let Some(mode) = opts.field("Mode").int()?.filter(|s| *s != 0) {
                    flag.push(format!("mode={mode:o}"));
                }
                if ro {
                    flag.push("ro".into());
                }
                berth_engine::volume::check_mount(&MountRequest::Tmpfs { destination: target.clone(), options: vec![] })
                    .map_err(|e| ApiError::bad(e.to_string()))?;
                berth_engine::volume::parse_tmpfs_flag(&format!("{target}:{}", flag.join(",")))
                    .map_err(|e| ApiError::bad(e.to_string()))?
            }
            other => {
                return Err(ApiError::bad(format!(
                    "invalid mount type {} for target \"{target}\" in HostConfig.Mounts: use bind, volume or tmpfs",
                    other.map_or_else(|| "(none)".to_string(), |t| format!("\"{t}\""))
                )))
            }
        });
    }
    for (dest, opts) in host("Tmpfs").object()?.into_iter().flatten() {
        let flag = match opts.as_str().unwrap_or("") {
            "" => dest.clone(),
            o => format!("{dest}:{o}"),
        };
        mounts.push(berth_engine::volume::parse_tmpfs_flag(&flag).map_err(|e| ApiError::bad(e.to_string()))?);
    }
    // `Volumes`: container paths that get an anonymous volume unless something else is mounted
    // there (compose lists every volume's path here, and gives the named ones in Binds).
    for dest in top("Volumes").object()?.into_iter().flatten().map(|(k, _)| k) {
        let covered = |m: &MountRequest| m.destination().trim_end_matches('/') == dest.trim_end_matches('/');
        if !mounts.iter().any(covered) {
            mounts.push(MountRequest::Volume {
                name: String::new(),
                destination: dest.clone(),
                read_only: false,
                anonymous: true,
            });
        }
    }
    let rp = host("RestartPolicy");
    let restart = match rp.field("Name").str()?.unwrap_or("") {
        "" | "no" => RestartPolicy::No,
        "on-failure" => RestartPolicy::OnFailure {
            max_retries: rp
                .field("MaximumRetryCount")
                .int()?
                .filter(|n| *n > 0)
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        },
        "always" => RestartPolicy::Always,
        "unless-stopped" => RestartPolicy::UnlessStopped,
        other => {
            return Err(ApiError::bad(format!(
                "invalid restart policy \"{other}\": use no, on-failure, always or unless-stopped"
            )))
        }
    };
    let nonzero = |k: &str| host(k).int().map(|v| v.filter(|v| *v != 0));
    let mut security = Security {
        cap_add: host("CapAdd").list()?,
        cap_drop: host("CapDrop").list()?,
        privileged: host("Privileged").bool()?,
        ..Default::default()
    };
    for o in host("SecurityOpt").list()? {
        berth_engine::container::security::apply_security_opt(&mut security, &o)
            .map_err(|e| ApiError::bad(e.to_string()))?;
    }
    let devices = host("Devices");
    for d in devices.array()? {
        let d = Field { path: devices.path.clone(), v: d };
        let host_path = d.field("PathOnHost").str()?.unwrap_or_default();
        let ctr = d.field("PathInContainer").str()?.unwrap_or(host_path);
        security.devices.push(DeviceRequest {
            host: host_path.into(),
            container: ctr.into(),
            permissions: d.field("CgroupPermissions").str()?.unwrap_or("rwm").into(),
        });
    }
    let mut network = host("NetworkMode").str()?.filter(|m| *m != "default").map(str::to_string);
    let (network_aliases, endpoint_mac) = endpoint(body, &mut network)?;
    // the endpoint's MAC (API 1.44) over the container's (older clients)
    let mac_address = endpoint_mac.or(top("MacAddress").str()?.filter(|m| !m.is_empty()).map(str::to_string));
    if top("NetworkDisabled").bool()? {
        network = Some("none".into());
    }
    let mut labels = BTreeMap::new();
    for (k, v) in top("Labels").object()?.into_iter().flatten() {
        let v = Field { path: format!("Labels.{k}"), v };
        labels.insert(k.clone(), v.str()?.unwrap_or_default().to_string());
    }
    let entrypoint = top("Entrypoint").strings()?.filter(|e| !e.is_empty());
    let dns = host("Dns")
        .list()?
        .iter()
        .map(|d| berth_engine::network::parse_dns(d).map_err(|e| ApiError::bad(format!("HostConfig.Dns: {e}"))))
        .collect::<Result<_, _>>()?;
    let memory = nonzero("Memory")?;
    let stop_signal = top("StopSignal")
        .str()?
        .map(|s| berth_engine::parse_kill_signal(s).map_err(|e| ApiError::bad(format!("StopSignal {s:?}: {e}"))))
        .transpose()?;
    let mut ulimits = Vec::new();
    let list = host("Ulimits");
    for u in list.array()? {
        let u = Field { path: list.path.clone(), v: u };
        let name = u.field("Name").str()?.unwrap_or_default();
        let soft = u.field("Soft").int()?.unwrap_or(0);
        let hard = u.field("Hard").int()?.unwrap_or(soft);
        ulimits.push(
            berth_engine::container::kernel::Ulimit::parse(&format!("{name}={soft}:{hard}"))
                .map_err(|e| ApiError::bad(format!("HostConfig.Ulimits: {e}")))?,
        );
    }
    let mut sysctls = BTreeMap::new();
    for (k, v) in host("Sysctls").object()?.into_iter().flatten() {
        let v = Field { path: format!("HostConfig.Sysctls.{k}"), v };
        sysctls.insert(k.clone(), v.str()?.unwrap_or_default().to_string());
    }
    let shm_size = nonzero("ShmSize")?
        .map(|n| u64::try_from(n).map_err(|_| ApiError::bad(format!("invalid HostConfig.ShmSize {n}"))))
        .transpose()?;
    let (no_healthcheck, healthcheck) = healthcheck(body)?;
    Ok((
        CreateOptions {
            name,
            command: top("Cmd").list()?,
            entrypoint,
            env: top("Env").list()?,
            workdir: top("WorkingDir").str()?.map(str::to_string),
            user: top("User").str()?.map(str::to_string),
            hostname: top("Hostname").str()?.map(str::to_string),
            remove: host("AutoRemove").bool()?,
            labels,
            limits: Limits {
                memory,
                // Docker's clients send -1 (unlimited swap) and 0 (unset) alike without a limit.
                memory_swap: nonzero("MemorySwap")?.filter(|s| memory.is_some() || *s != -1),
                cpus: nonzero("NanoCpus")?.map(|n| n as f64 / 1e9),
                cpu_shares: nonzero("CpuShares")?
                    .map(|n| u64::try_from(n).map_err(|_| ApiError::bad(format!("invalid HostConfig.CpuShares {n}"))))
                    .transpose()?,
                pids: nonzero("PidsLimit")?.filter(|p| *p > 0),
            },
            ports,
            publish_all: host("PublishAllPorts").bool()?,
            log: log_config(body)?,
            network,
            dns,
            dns_search: host("DnsSearch").list()?,
            add_hosts: host("ExtraHosts")
                .list()?
                .iter()
                .map(|h| berth_engine::network::parse_add_host(h).map_err(|e| ApiError::bad(e.to_string())))
                .collect::<Result<_, _>>()?,
            restart,
            mounts,
            read_only: host("ReadonlyRootfs").bool()?,
            tty: top("Tty").bool()?,
            interactive: top("OpenStdin").bool()?,
            security,
            stop_signal,
            ulimits,
            sysctls,
            shm_size,
            group_add: host("GroupAdd").list()?,
            init: host("Init").bool()?,
            dns_options: host("DnsOptions").list()?,
            no_healthcheck,
            healthcheck,
            network_aliases,
            mac_address,
            ..Default::default()
        },
        warnings,
    ))
}

pub async fn create(ctx: &Ctx, r: &Req) -> Reply {
    let body = r.json()?;
    let image =
        Field::of(&body, "", "Image").str()?.ok_or_else(|| ApiError::bad("config is missing Image"))?.to_string();
    let name = r.q("name").filter(|n| !n.is_empty()).map(|n| n.trim_start_matches('/').to_string());
    let (opts, warnings) = create_options(name, &body)?;
    let c = ctx.blocking(move |e| e.create_container(&image, opts)).await?;
    json_reply(StatusCode::CREATED, &json!({"Id": c.id, "Warnings": warnings}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: Value, expected: Result<(), &str>) {
        let got = create_options(None, &body).map(drop).map_err(|e| e.message);
        match expected {
            Ok(()) => assert!(got.is_ok(), "{body}: {got:?}"),
            Err(want) => {
                let got = got.expect_err(&body.to_string());
                assert!(got.contains(want), "{body}: {got:?} does not say {want:?}");
            }
        }
    }

    #[test]
    fn what_docker_and_compose_send_by_default_is_taken() {
        // The docker CLI's `run` body (abridged) and compose's.
        check(
            json!({"Hostname": "", "Domainname": "", "User": "", "Tty": false, "Env": [], "Cmd": ["true"],
                   "Volumes": {}, "Entrypoint": null, "OnBuild": null, "Labels": {},
                   "HostConfig": {"Binds": null, "LogConfig": {"Type": "", "Config": {}}, "NetworkMode": "default",
                   "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "IpcMode": "",
                   "ShmSize": 0, "ConsoleSize": [0, 0], "MemorySwappiness": -1, "OomKillDisable": false,
                   "Ulimits": null, "PidsLimit": 0, "Isolation": "", "Init": null, "CpuQuota": 0},
                   "NetworkingConfig": {"EndpointsConfig": {"default": {}}}}),
            Ok(()),
        );
        check(
            json!({"Image": "x", "Volumes": {"/data": {}}, "HostConfig": {"NetworkMode": "proj_default",
                   "Binds": ["proj_data:/data:rw"], "Links": [], "LogConfig": {"Type": "", "Config": {}}},
                   "NetworkingConfig": {"EndpointsConfig": {"proj_default": {"Aliases": ["web"], "IPAMConfig": {}}}}}),
            Ok(()),
        );
    }

    #[test]
    fn what_berth_cannot_do_is_refused_by_name() {
        check(
            json!({"HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": 2, "Hard": 1}]}}),
            Err("HostConfig.Ulimits: ulimit soft limit must be less than or equal to hard limit: 2 > 1"),
        );
        check(json!({"HostConfig": {"Links": ["a:b"]}}), Err("HostConfig.Links"));
        check(json!({"StopSignal": "SIGNOPE"}), Err("StopSignal \"SIGNOPE\": invalid signal"));
        check(json!({"Healthcheck": {"Test": ["CMD", "true"]}}), Ok(()));
        check(json!({"Healthcheck": {"Test": ["CMD"]}}), Err("Healthcheck.Test"));
        check(json!({"Healthcheck": {"Test": ["SHELL", "true"]}}), Err("Healthcheck.Test"));
        check(json!({"Healthcheck": {"Test": ["CMD", "true"], "Interval": 5}}), Err("Healthcheck.Interval"));
        check(json!({"Healthcheck": {"Test": ["NONE"]}}), Ok(()));
        check(json!({"HostConfig": {"LogConfig": {"Type": "syslog"}}}), Err("LogConfig.Type"));
        check(
            json!({"NetworkingConfig": {"EndpointsConfig": {"a": {}, "b": {}}}}),
            Err("NetworkingConfig.EndpointsConfig names 2 networks"),
        );
        check(
            json!({"NetworkingConfig": {"EndpointsConfig": {"a": {"IPAMConfig": {"IPv4Address": "10.1.2.3"}}}}}),
            Err("NetworkingConfig.EndpointsConfig.a.IPAMConfig"),
        );
        check(
            json!({"HostConfig": {"Mounts": [{"Type": "npipe", "Target": "/x"}]}}),
            Err("invalid mount type \"npipe\""),
        );
        check(json!({"HostConfig": {"Dns": ["8.8.8.8", "not-an-ip"]}}), Err("invalid DNS server \"not-an-ip\""));
        check(json!({"Cmd": 5}), Err("invalid Cmd: expected an array of strings, got a number"));
        check(json!({"HostConfig": {"Memory": "1g"}}), Err("invalid HostConfig.Memory: expected an integer"));
        check(json!({"HostConfig": []}), Err("invalid HostConfig: expected an object"));
    }

    #[test]
    fn kernel_settings_and_the_stop_signal_are_taken() {
        let body = json!({"StopSignal": "SIGINT", "HostConfig": {
            "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}], "ShmSize": 1048576,
            "Sysctls": {"net.ipv4.ip_forward": "1"}, "GroupAdd": ["50"], "DnsOptions": ["ndots:2"], "Init": true}});
        let (opts, _) = create_options(None, &body).unwrap();
        assert_eq!((opts.stop_signal, opts.init), (Some(2), true));
        assert_eq!(opts.ulimits.iter().map(|u| u.text()).collect::<Vec<_>>(), ["nofile=100:200"]);
        assert_eq!(opts.shm_size, Some(1 << 20));
        assert_eq!(opts.sysctls.get("net.ipv4.ip_forward").map(String::as_str), Some("1"));
        assert_eq!((opts.group_add, opts.dns_options), (vec!["50".to_string()], vec!["ndots:2".to_string()]));
    }

    #[test]
    fn the_network_compose_names_is_the_network() {
        let body = json!({"NetworkingConfig": {"EndpointsConfig": {"proj_default": {"Aliases": ["web"]}}}});
        let (opts, warnings) = create_options(None, &body).unwrap();
        assert_eq!(opts.network.as_deref(), Some("proj_default"));
        assert_eq!(opts.network_aliases, ["web"]);
        assert!(warnings.is_empty(), "{warnings:?}");
        // the MAC: the endpoint's (API 1.44) over the container's (older clients)
        let (opts, _) = create_options(None, &json!({"MacAddress": "92:d0:c6:0a:29:33"})).unwrap();
        assert_eq!(opts.mac_address.as_deref(), Some("92:d0:c6:0a:29:33"));
        let body = json!({"MacAddress": "92:d0:c6:0a:29:33",
            "NetworkingConfig": {"EndpointsConfig": {"n": {"MacAddress": "92:d0:c6:0a:29:44"}}}});
        assert_eq!(create_options(None, &body).unwrap().0.mac_address.as_deref(), Some("92:d0:c6:0a:29:44"));
        let (opts, _) =
            create_options(None, &json!({"Volumes": {"/a": {}, "/b": {}}, "HostConfig": {"Binds": ["v:/a"]}})).unwrap();
        assert_eq!(opts.mounts.len(), 2);
        assert!(
            matches!(&opts.mounts[1], MountRequest::Volume { anonymous: true, destination, .. } if destination == "/b")
        );
    }
}
