//! `/containers/…`: create (Docker's config to `CreateOptions`), list, inspect, the verbs,
//! wait, logs, stats, top, and the hijacked attach stream.

use std::collections::BTreeMap;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_engine::container::logs::{Record, Stream};
use berth_engine::container::security::{DeviceRequest, Security};
use berth_engine::container::{Limits, RestartPolicy};
use berth_engine::network::PortMapping;
use berth_engine::volume::MountRequest;
use berth_engine::{ContainerRecord, ContainerStatus, CreateOptions};
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::{channel_body, empty, json_reply, ok_json, ApiError, Ctx, Reply, Req};

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn opt_strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|_| strings(v))
}

/// Docker's create body as what the user asked for.
fn create_options(name: Option<String>, body: &Value) -> Result<CreateOptions, ApiError> {
    let hc = &body["HostConfig"];
    let mut ports = Vec::new();
    if let Some(bindings) = hc["PortBindings"].as_object() {
        for (key, list) in bindings {
            let (port, proto) = berth_engine::network::ports::parse_exposed(key)
                .ok_or_else(|| ApiError::bad(format!("invalid port \"{key}\" in PortBindings")))?;
            for b in list.as_array().into_iter().flatten() {
                let host_port = match b["HostPort"].as_str().unwrap_or("") {
                    "" => 0,
                    p => p.parse().map_err(|_| ApiError::bad(format!("invalid host port \"{p}\" for {key}")))?,
                };
                let host_ip = match b["HostIp"].as_str().unwrap_or("") {
                    "" | "0.0.0.0" => None,
                    ip => Some(ip.parse().map_err(|_| ApiError::bad(format!("invalid host address \"{ip}\"")))?),
                };
                ports.push(PortMapping { host_ip, host_port, container_port: port, protocol: proto });
            }
        }
    }
    ports.sort();
    let cwd = std::path::PathBuf::from("/");
    let mut mounts = Vec::new();
    for b in strings(&hc["Binds"]) {
        mounts.push(berth_engine::volume::parse_volume_flag(&b, &cwd).map_err(|e| ApiError::bad(e.to_string()))?);
    }
    for m in hc["Mounts"].as_array().into_iter().flatten() {
        let target = m["Target"].as_str().unwrap_or_default().to_string();
        let ro = m["ReadOnly"].as_bool().unwrap_or(false);
        let source = m["Source"].as_str().unwrap_or_default();
        mounts.push(match m["Type"].as_str() {
            Some("bind") => MountRequest::Bind { source: source.into(), destination: target, read_only: ro },
            Some("tmpfs") => {
                berth_engine::volume::parse_tmpfs_flag(&target).map_err(|e| ApiError::bad(e.to_string()))?
            }
            _ => MountRequest::Volume {
                name: source.into(),
                destination: target,
                read_only: ro,
                anonymous: source.is_empty(),
            },
        });
    }
    for (dest, opts) in hc["Tmpfs"].as_object().into_iter().flatten() {
        let flag = match opts.as_str().unwrap_or("") {
            "" => dest.clone(),
            o => format!("{dest}:{o}"),
        };
        mounts.push(berth_engine::volume::parse_tmpfs_flag(&flag).map_err(|e| ApiError::bad(e.to_string()))?);
    }
    let restart = match hc["RestartPolicy"]["Name"].as_str().unwrap_or("") {
        "" | "no" => RestartPolicy::No,
        "on-failure" => RestartPolicy::OnFailure {
            max_retries: hc["RestartPolicy"]["MaximumRetryCount"].as_u64().filter(|n| *n > 0).map(|n| n as u32),
        },
        "always" => RestartPolicy::Always,
        "unless-stopped" => RestartPolicy::UnlessStopped,
        other => return Err(ApiError::bad(format!("invalid restart policy \"{other}\""))),
    };
    let positive = |k: &str| hc[k].as_i64().filter(|v| *v != 0);
    let mut security = Security {
        cap_add: strings(&hc["CapAdd"]),
        cap_drop: strings(&hc["CapDrop"]),
        privileged: hc["Privileged"].as_bool().unwrap_or(false),
        ..Default::default()
    };
    for o in strings(&hc["SecurityOpt"]) {
        berth_engine::container::security::apply_security_opt(&mut security, &o)
            .map_err(|e| ApiError::bad(e.to_string()))?;
    }
    for d in hc["Devices"].as_array().into_iter().flatten() {
        let host = d["PathOnHost"].as_str().unwrap_or_default();
        let ctr = d["PathInContainer"].as_str().filter(|s| !s.is_empty()).unwrap_or(host);
        security.devices.push(DeviceRequest {
            host: host.into(),
            container: ctr.into(),
            permissions: d["CgroupPermissions"].as_str().filter(|s| !s.is_empty()).unwrap_or("rwm").into(),
        });
    }
    let network = hc["NetworkMode"].as_str().filter(|m| !m.is_empty() && *m != "default").map(str::to_string);
    let labels: BTreeMap<String, String> = body["Labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let entrypoint = opt_strings(&body["Entrypoint"]).filter(|e| !e.is_empty());
    Ok(CreateOptions {
        name,
        command: strings(&body["Cmd"]),
        entrypoint,
        env: strings(&body["Env"]),
        workdir: body["WorkingDir"].as_str().filter(|s| !s.is_empty()).map(str::to_string),
        user: body["User"].as_str().filter(|s| !s.is_empty()).map(str::to_string),
        hostname: body["Hostname"].as_str().filter(|s| !s.is_empty()).map(str::to_string),
        remove: hc["AutoRemove"].as_bool().unwrap_or(false),
        labels,
        limits: Limits {
            memory: positive("Memory"),
            memory_swap: positive("MemorySwap"),
            cpus: positive("NanoCpus").map(|n| n as f64 / 1e9),
            cpu_shares: positive("CpuShares").map(|n| n as u64),
            pids: positive("PidsLimit").filter(|p| *p > 0),
        },
        ports,
        publish_all: hc["PublishAllPorts"].as_bool().unwrap_or(false),
        network,
        dns: strings(&hc["Dns"]).iter().filter_map(|d| d.parse().ok()).collect(),
        dns_search: strings(&hc["DnsSearch"]),
        add_hosts: strings(&hc["ExtraHosts"])
            .iter()
            .map(|h| berth_engine::network::parse_add_host(h).map_err(|e| ApiError::bad(e.to_string())))
            .collect::<Result<_, _>>()?,
        restart,
        mounts,
        read_only: hc["ReadonlyRootfs"].as_bool().unwrap_or(false),
        tty: body["Tty"].as_bool().unwrap_or(false),
        interactive: body["OpenStdin"].as_bool().unwrap_or(false),
        security,
    })
}

pub async fn create(ctx: &Ctx, r: &Req) -> Reply {
    let body = r.json()?;
    let image = body["Image"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("config is missing Image"))?
        .to_string();
    let name = r.q("name").filter(|n| !n.is_empty()).map(|n| n.trim_start_matches('/').to_string());
    let opts = create_options(name, &body)?;
    let c = ctx.blocking(move |e| e.create_container(&image, opts)).await?;
    json_reply(StatusCode::CREATED, &json!({"Id": c.id, "Warnings": []}))
}

fn docker_state(c: &ContainerRecord) -> &'static str {
    match c.status {
        ContainerStatus::Stopping => "running",
        s => s.as_str(),
    }
}

fn ports_json(c: &ContainerRecord) -> Vec<Value> {
    c.options
        .ports
        .iter()
        .map(|p| {
            json!({"IP": p.host_ip.map_or_else(|| "0.0.0.0".to_string(), |i| i.to_string()), "PrivatePort": p.container_port,
                   "PublicPort": p.host_port, "Type": p.protocol.as_str()})
        })
        .collect()
}

fn summary(c: &ContainerRecord, address: Option<berth_engine::network::Address>) -> Value {
    let mut networks = serde_json::Map::new();
    if let Some(a) = &address {
        networks.insert(
            a.network.clone(),
            json!({"IPAddress": a.ip.to_string(), "NetworkID": berth_engine::network::network_id(&a.network)}),
        );
    }
    json!({
        "Id": c.id,
        "Names": [format!("/{}", c.name)],
        "Image": super::images::docker_name(&c.image_name),
        "ImageID": format!("sha256:{}", c.image_id),
        "Command": c.command.join(" "),
        "Created": c.created_at.timestamp(),
        "Ports": ports_json(c),
        "Labels": c.options.labels,
        "State": docker_state(c),
        "Status": crate::containers::status_text(c),
        "HostConfig": {"NetworkMode": c.options.network.clone().unwrap_or_else(|| "bridge".into())},
        "NetworkSettings": {"Networks": networks},
        "Mounts": mounts_json(c),
    })
}

fn mounts_json(c: &ContainerRecord) -> Vec<Value> {
    c.options
        .mounts
        .iter()
        .map(|m| match m {
            MountRequest::Bind { source, destination, read_only } => {
                json!({"Type": "bind", "Source": source, "Destination": destination, "RW": !read_only, "Mode": "", "Propagation": "rprivate"})
            }
            MountRequest::Volume { name, destination, read_only, .. } => {
                json!({"Type": "volume", "Name": name, "Destination": destination, "Driver": "local", "RW": !read_only, "Mode": ""})
            }
            MountRequest::Tmpfs { destination, .. } => json!({"Type": "tmpfs", "Destination": destination, "RW": true}),
        })
        .collect()
}

/// `filters` as Docker clients send them: `{"status": ["running"], "name": ["web"]}`.
fn filters(r: &Req) -> BTreeMap<String, Vec<String>> {
    let Some(text) = r.q("filters").filter(|f| !f.is_empty()) else { return BTreeMap::new() };
    let v: Value = serde_json::from_str(text).unwrap_or(json!({}));
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let vals = match v {
                        Value::Array(a) => a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
                        Value::Object(o) => o.keys().cloned().collect(),
                        _ => Vec::new(),
                    };
                    (k.clone(), vals)
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn list(ctx: &Ctx, r: &Req) -> Reply {
    let all = r.flag("all");
    let list = ctx
        .blocking(|e| {
            let cs = e.containers()?;
            let mut out = Vec::new();
            for c in cs {
                let a = e.container_address(&c.id)?;
                out.push((c, a));
            }
            Ok(out)
        })
        .await?;
    let f = filters(r);
    let mut rows: Vec<Value> = Vec::new();
    for (c, a) in &list {
        if !all && !c.is_running() && !f.contains_key("status") {
            continue;
        }
        let keep = f.iter().all(|(k, vals)| {
            vals.iter().any(|v| match k.as_str() {
                "status" => docker_state(c) == v,
                "name" => c.name.contains(v.trim_start_matches('/')),
                "id" => c.id.starts_with(v),
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => c.options.labels.get(lk).is_some_and(|x| x == lv),
                    None => c.options.labels.contains_key(v),
                },
                "ancestor" => c.image_name.contains(v) || c.image_id.starts_with(v.trim_start_matches("sha256:")),
                _ => true,
            })
        });
        if keep {
            rows.push(summary(c, a.clone()));
        }
    }
    if let Some(n) = r.q("limit").and_then(|l| l.parse::<usize>().ok()).filter(|n| *n > 0) {
        rows.truncate(n);
    }
    ok_json(Value::Array(rows))
}

pub async fn inspect(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let (c, podman, spec_env, address) = ctx
        .blocking(move |e| {
            let c = e.container(&q)?;
            let v = e.inspect_record(&c);
            let env = e.container_spec(&c.id).ok().and_then(|s| s.process().clone()).and_then(|p| p.env().clone());
            let a = e.container_address(&c.id)?;
            Ok((c, v, env, a))
        })
        .await?;
    let image = ctx
        .blocking({
            let id = c.image_id.clone();
            move |e| e.image(&id)
        })
        .await
        .ok();
    let image_config: Value =
        image.as_ref().map(|i| serde_json::from_str(&i.config_json).unwrap_or(json!({}))).unwrap_or(json!({}));
    let running = c.is_running();
    let mut exposed = serde_json::Map::new();
    for k in image_config["config"]["ExposedPorts"].as_object().into_iter().flatten().map(|(k, _)| k.clone()) {
        exposed.insert(k, json!({}));
    }
    for p in &c.options.ports {
        exposed.insert(format!("{}/{}", p.container_port, p.protocol), json!({}));
    }
    let ports = &podman["NetworkSettings"]["Ports"];
    let mut networks = serde_json::Map::new();
    if let Some(a) = &address {
        networks.insert(a.network.clone(), podman["NetworkSettings"]["Networks"][&a.network].clone());
    }
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |t| t.to_rfc3339())
    };
    ok_json(json!({
        "Id": c.id,
        "Created": c.created_at.to_rfc3339(),
        "Path": c.command.first(),
        "Args": c.command.get(1..).unwrap_or(&[]),
        "State": {
            "Status": docker_state(&c),
            "Running": running,
            "Paused": c.status == ContainerStatus::Paused,
            "Restarting": false,
            "OOMKilled": false,
            "Dead": false,
            "Pid": c.pid.unwrap_or(0),
            "ExitCode": c.exit_code.unwrap_or(0),
            "Error": c.error.clone().unwrap_or_default(),
            "StartedAt": time(c.started_at),
            "FinishedAt": time(c.finished_at),
        },
        "Image": format!("sha256:{}", c.image_id),
        "ResolvConfPath": podman["OCIConfigPath"].as_str().map(|p| p.replace("config.json", "resolv.conf")),
        "HostnamePath": podman["OCIConfigPath"].as_str().map(|p| p.replace("config.json", "hostname")),
        "HostsPath": podman["OCIConfigPath"].as_str().map(|p| p.replace("config.json", "hosts")),
        "LogPath": podman["LogPath"],
        "Name": format!("/{}", c.name),
        "RestartCount": c.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "Mounts": mounts_json(&c),
        "Config": {
            "Hostname": podman["Config"]["Hostname"],
            "User": c.options.user.clone().unwrap_or_default(),
            "Tty": c.options.tty,
            "OpenStdin": c.options.interactive,
            "AttachStdin": false,
            "AttachStdout": false,
            "AttachStderr": false,
            "ExposedPorts": exposed,
            "Env": spec_env.unwrap_or_default(),
            "Cmd": if c.options.command.is_empty() { image_config["config"]["Cmd"].clone() } else { json!(c.options.command) },
            "Image": super::images::docker_name(&c.image_name),
            "Entrypoint": c.options.entrypoint.clone().map_or_else(|| image_config["config"]["Entrypoint"].clone(), |e| json!(e)),
            "WorkingDir": podman["Config"]["WorkingDir"],
            "Labels": c.options.labels,
            "StopSignal": image_config["config"]["StopSignal"].as_str().unwrap_or("SIGTERM"),
        },
        "HostConfig": {
            "NetworkMode": podman["HostConfig"]["NetworkMode"],
            "PortBindings": podman["HostConfig"]["PortBindings"],
            "RestartPolicy": podman["HostConfig"]["RestartPolicy"],
            "AutoRemove": c.options.remove,
            "Binds": c.options.mounts.iter().filter_map(|m| match m {
                MountRequest::Bind { source, destination, read_only } => Some(format!("{}:{destination}{}", source.display(), if *read_only { ":ro" } else { "" })),
                MountRequest::Volume { name, destination, read_only, .. } => Some(format!("{name}:{destination}{}", if *read_only { ":ro" } else { "" })),
                MountRequest::Tmpfs { .. } => None,
            }).collect::<Vec<_>>(),
            "Memory": podman["HostConfig"]["Memory"],
            "MemorySwap": podman["HostConfig"]["MemorySwap"],
            "NanoCpus": podman["HostConfig"]["NanoCpus"],
            "CpuShares": podman["HostConfig"]["CpuShares"],
            "PidsLimit": podman["HostConfig"]["PidsLimit"],
            "Privileged": c.options.security.privileged,
            "CapAdd": c.options.security.cap_add,
            "CapDrop": c.options.security.cap_drop,
            "ReadonlyRootfs": c.options.read_only,
            "Dns": c.options.dns,
            "ExtraHosts": podman["HostConfig"]["ExtraHosts"],
            "LogConfig": {"Type": "k8s-file", "Config": {}},
        },
        "NetworkSettings": {
            "Ports": ports,
            "IPAddress": podman["NetworkSettings"]["IPAddress"],
            "IPPrefixLen": podman["NetworkSettings"]["IPPrefixLen"].as_u64().unwrap_or(0),
            "Gateway": podman["NetworkSettings"]["Gateway"],
            "MacAddress": "",
            "Networks": networks,
        },
    }))
}

pub async fn start(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let was = ctx.blocking(move |e| e.container(&q)).await?;
    if was.is_running() {
        return empty(StatusCode::NOT_MODIFIED);
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.start_container(&q)).await?;
    empty(StatusCode::NO_CONTENT)
}

fn timeout(r: &Req) -> Duration {
    Duration::from_secs(r.q("t").or(r.q("timeout")).and_then(|t| t.parse::<i64>().ok()).map_or(10, |t| t.max(0) as u64))
}

pub async fn stop(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (q, t) = (id.to_string(), timeout(r));
    let was = ctx.blocking(move |e| e.container(&q)).await?;
    if !was.is_running() {
        return empty(StatusCode::NOT_MODIFIED);
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.stop_container(&q, t)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn restart(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (q, t) = (id.to_string(), timeout(r));
    ctx.blocking(move |e| {
        e.stop_container(&q, t)?;
        e.start_container(&q)
    })
    .await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn kill(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let q = id.to_string();
    let sig = r.q("signal").filter(|s| !s.is_empty()).unwrap_or("KILL").to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    if !c.is_running() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Cannot kill container: {}: Container {} is not running", c.name, c.id),
        ));
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.kill_container(&q, &sig)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn rename(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let name = r.q("name").filter(|n| !n.is_empty()).ok_or_else(|| ApiError::bad("name is required"))?.to_string();
    let q = id.to_string();
    ctx.blocking(move |e| e.rename_container(&q, &name)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn pause(ctx: &Ctx, id: &str, pause: bool) -> Reply {
    let q = id.to_string();
    ctx.blocking(move |e| if pause { e.pause_container(&q) } else { e.unpause_container(&q) }).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn remove(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (q, force) = (id.to_string(), r.flag("force"));
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    if c.is_running() && !force {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("You cannot remove a running container {}. Stop the container before attempting removal or force remove", c.id),
        ));
    }
    let q = id.to_string();
    ctx.blocking(move |e| e.remove_container(&q, force)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn prune(ctx: &Ctx) -> Reply {
    let removed = ctx.blocking(|e| e.prune_containers()).await?;
    ok_json(json!({"ContainersDeleted": removed, "SpaceReclaimed": 0}))
}

/// `wait`: `not-running` (default), `next-exit` (an exit after this call) or `removed`.
pub async fn wait(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let condition = r.q("condition").unwrap_or("not-running").to_string();
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let since = chrono::Utc::now();
    let engine = ctx.engine.clone();
    let cid = c.id.clone();
    // Docker's clients wait for the headers before they start the container: they go now,
    // the body when the condition is met.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    let waiting = tokio::task::spawn_blocking(move || -> berth_engine::Result<i32> {
        loop {
            let now = match engine.container(&cid) {
                Ok(c) => Some(c),
                Err(berth_engine::Error::ContainerLookup(berth_engine::container::LookupError::NotFound(_))) => None,
                Err(e) => return Err(e),
            };
            let exit = || engine.exit_code(&cid).map(|c| c.unwrap_or(0));
            match (condition.as_str(), &now) {
                (_, None) => return exit(),
                ("removed", Some(_)) => {}
                ("next-exit", Some(c)) => {
                    if c.status == ContainerStatus::Exited && c.finished_at.is_some_and(|f| f >= since) {
                        return Ok(c.exit_code.unwrap_or(0));
                    }
                }
                (_, Some(c)) => {
                    if !c.is_running() {
                        return Ok(c.exit_code.unwrap_or(0));
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    tokio::spawn(async move {
        let body = match waiting.await {
            Ok(Ok(code)) => json!({"StatusCode": code, "Error": null}),
            Ok(Err(e)) => json!({"StatusCode": -1, "Error": {"Message": e.to_string()}}),
            Err(e) => json!({"StatusCode": -1, "Error": {"Message": e.to_string()}}),
        };
        let _ = tx.send(Bytes::from(serde_json::to_vec(&body).expect("serialises"))).await;
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(channel_body(rx))
        .expect("a valid response"))
}

/// Docker's multiplexed frame: stream (1 stdout, 2 stderr), three zeros, the length.
pub fn mux(stream: u8, data: &[u8]) -> Bytes {
    let mut f = Vec::with_capacity(8 + data.len());
    f.push(stream);
    f.extend_from_slice(&[0, 0, 0]);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes());
    f.extend_from_slice(data);
    Bytes::from(f)
}

fn record_bytes(r: &Record, timestamps: bool, tty: bool) -> Bytes {
    let mut line = Vec::with_capacity(r.message.len() + 40);
    if timestamps {
        line.extend_from_slice(r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).as_bytes());
        line.push(b' ');
    }
    line.extend_from_slice(&r.message);
    if !r.partial {
        line.push(b'\n');
    }
    if tty {
        Bytes::from(line)
    } else {
        mux(if r.stream == Stream::Stderr { 2 } else { 1 }, &line)
    }
}

fn parse_since(v: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = v.filter(|s| !s.is_empty() && *s != "0")?;
    let secs: f64 = v.parse().ok()?;
    chrono::DateTime::from_timestamp(secs.trunc() as i64, (secs.fract() * 1e9) as u32)
}

pub async fn logs(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let (stdout, stderr) = (r.flag("stdout"), r.flag("stderr"));
    let follow = r.flag("follow");
    let timestamps = r.flag("timestamps");
    let tail = r.q("tail").and_then(|t| t.parse::<usize>().ok());
    let since = parse_since(r.q("since"));
    let until = parse_since(r.q("until"));
    let tty = c.options.tty;
    let path = ctx.engine.container_paths(&c.id).log();
    let engine = ctx.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let wanted = move |rec: &Record| {
        (rec.stream == Stream::Stderr && stderr || rec.stream != Stream::Stderr && stdout)
            && since.is_none_or(|s| rec.time >= s)
            && until.is_none_or(|u| rec.time <= u)
    };
    tokio::spawn(async move {
        let Ok(mut follower) = crate::containers::Follower::open(&path, 0) else { return };
        let mut first: Vec<Record> = follower.poll().unwrap_or_default().into_iter().filter(|r| wanted(r)).collect();
        if let Some(n) = tail {
            let skip = first.len().saturating_sub(n);
            first.drain(..skip);
        }
        for rec in &first {
            if tx.send(record_bytes(rec, timestamps, tty)).await.is_err() {
                return;
            }
        }
        if !follow {
            return;
        }
        let cid = c.id.clone();
        loop {
            let running = engine.container(&cid).is_ok_and(|c| c.is_running() || c.status == ContainerStatus::Created);
            for rec in follower.poll().unwrap_or_default().into_iter().filter(|r| wanted(r)) {
                if tx.send(record_bytes(&rec, timestamps, tty)).await.is_err() {
                    return;
                }
            }
            if !running {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let ct = if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", ct)
        .body(channel_body(rx))
        .expect("a valid response"))
}

fn system_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let jiffies: u64 =
        text.lines().next().map_or(0, |l| l.split_whitespace().skip(1).filter_map(|v| v.parse::<u64>().ok()).sum());
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    jiffies * (1_000_000_000 / hz)
}

fn stats_json(
    c: &ContainerRecord,
    s: &berth_engine::stats::ContainerStats,
    pre: Option<(&berth_engine::stats::ContainerStats, u64, chrono::DateTime<chrono::Utc>)>,
    system: u64,
) -> Value {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = |s: &berth_engine::stats::ContainerStats, sys: u64| {
        json!({
        "cpu_usage": {"total_usage": s.cpu_usage_ns.unwrap_or(0), "percpu_usage": null, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "system_cpu_usage": sys, "online_cpus": cpus, "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}})
    };
    let zero =
        json!({"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": cpus, "throttling_data": {}});
    let mut networks = serde_json::Map::new();
    if let (Some(rx), Some(tx)) = (s.net_rx, s.net_tx) {
        networks.insert("eth0".into(), json!({"rx_bytes": rx, "rx_packets": 0, "rx_errors": 0, "rx_dropped": 0, "tx_bytes": tx, "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0}));
    }
    json!({
        "read": chrono::Utc::now().to_rfc3339(),
        "preread": pre.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |p| p.2.to_rfc3339()),
        "pids_stats": {"current": s.pids.unwrap_or(0)},
        "num_procs": 0,
        "cpu_stats": cpu(s, system),
        "precpu_stats": pre.map_or(zero, |(p, sys, _)| cpu(p, sys)),
        "memory_stats": {"usage": s.memory_usage.unwrap_or(0), "limit": s.memory_limit.or(s.host_memory).unwrap_or(0), "stats": {}},
        "blkio_stats": {"io_service_bytes_recursive": [
            {"major": 0, "minor": 0, "op": "read", "value": s.block_read.unwrap_or(0)},
            {"major": 0, "minor": 0, "op": "write", "value": s.block_write.unwrap_or(0)}]},
        "networks": networks,
        "name": format!("/{}", c.name),
        "id": c.id,
    })
}

pub async fn stats(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let stream = !matches!(r.q("stream"), Some("0" | "false"));
    let one_shot = r.flag("one-shot");
    let engine = ctx.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let sample =
            |e: &berth_engine::Engine| e.container_stats(&c.id).ok().map(|s| (s, system_cpu_ns(), chrono::Utc::now()));
        let mut pre = if one_shot { None } else { sample(&engine) };
        loop {
            if !one_shot {
                tokio::time::sleep(Duration::from_millis(if stream { 1000 } else { 500 })).await;
            }
            let Some(now) = sample(&engine) else { return };
            let v = stats_json(&c, &now.0, pre.as_ref().map(|(s, sys, t)| (s, *sys, *t)), now.1);
            let mut line = serde_json::to_vec(&v).expect("serialises");
            line.push(b'\n');
            if tx.send(Bytes::from(line)).await.is_err() || !stream {
                return;
            }
            pre = Some(now);
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(channel_body(rx))
        .expect("a valid response"))
}

pub async fn top(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let rows = ctx.blocking(move |e| e.container_top(&q)).await?;
    let procs: Vec<Vec<String>> = rows
        .iter()
        .map(|p| {
            vec![
                p.user.clone(),
                p.pid.to_string(),
                p.ppid.to_string(),
                format!("{:.0}", p.cpu_percent),
                p.tty.clone(),
                format!("{:.0}", p.cpu_time),
                p.command.clone(),
            ]
        })
        .collect();
    ok_json(json!({"Titles": ["UID", "PID", "PPID", "C", "TTY", "TIME", "CMD"], "Processes": procs}))
}

/// `resize`: the container's terminal size, through its attach session (or a new connection).
pub async fn resize(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let (h, w) = (
        r.q("h").and_then(|v| v.parse::<u16>().ok()).unwrap_or(0),
        r.q("w").and_then(|v| v.parse::<u16>().ok()).unwrap_or(0),
    );
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    if !c.options.tty {
        return empty(StatusCode::OK);
    }
    let sent = {
        let writers = ctx.attach_writers.lock().expect("attach writers");
        writers.get(&c.id).map(|writer| {
            let mut s = writer.lock().expect("writer");
            let mut d = h.to_be_bytes().to_vec();
            d.extend_from_slice(&w.to_be_bytes());
            berth_engine::attach::write_frame(&mut *s, berth_engine::attach::RESIZE, &d).is_ok()
        })
    };
    if sent != Some(true) {
        ctx.pending_sizes.lock().expect("sizes").insert(c.id.clone(), (h, w));
    }
    empty(StatusCode::OK)
}

/// The hijacked attach: Docker's raw (terminal) or multiplexed stream, to and from the
/// container's monitor.
pub async fn attach(ctx: &Ctx, id: &str, mut r: Req) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let upgrade =
        r.upgrade.take().ok_or_else(|| ApiError::bad("attach needs an upgraded connection (Connection: Upgrade)"))?;
    let (want_stdin, want_out, want_err) = (
        r.flag("stdin"),
        r.flag("stdout") || !r.query.contains_key("stdout"),
        r.flag("stderr") || !r.query.contains_key("stderr"),
    );
    let tty = c.options.tty;
    let engine = ctx.engine.clone();
    let writers = ctx.attach_writers.clone();
    let sizes = ctx.pending_sizes.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let (mut client_r, mut client_w) = tokio::io::split(io);
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // The stream starts once the container runs (a client attaches before `start`). The
        // log is opened now: a quick `--rm` container may be gone, directory and all, before
        // the monitor could be reached, and its output is then read from this descriptor.
        let cid = c.id.clone();
        let mut early = crate::containers::Follower::open(&engine.container_paths(&cid).log(), 0).ok();
        let deadline = Instant::now() + Duration::from_secs(60);
        let monitor = loop {
            let now = engine.container(&cid);
            match &now {
                Ok(x) if x.is_running() => {
                    if let Ok(s) = berth_engine::attach::Attached::connect(&engine.config().run_root, &cid) {
                        break Some(s);
                    }
                }
                Ok(x) if x.status == ContainerStatus::Exited => break None,
                Err(_) => break None,
                _ => {}
            }
            if Instant::now() > deadline {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let Some(att) = monitor else {
            // It has run and gone: what it wrote is in its log.
            if let Some(records) = early.as_mut().and_then(|f| f.poll().ok()) {
                for rec in records {
                    let out = if rec.stream == Stream::Stderr { want_err } else { want_out };
                    if out {
                        let _ = client_w.write_all(&record_bytes(&rec, false, tty)).await;
                    }
                }
            }
            let _ = client_w.shutdown().await;
            return;
        };
        let writer = Arc::new(std::sync::Mutex::new(att.stream.try_clone().expect("a socket clone")));
        writers.lock().expect("writers").insert(cid.clone(), writer.clone());
        if let Some((h, w)) = sizes.lock().expect("sizes").remove(&cid) {
            let mut d = h.to_be_bytes().to_vec();
            d.extend_from_slice(&w.to_be_bytes());
            let _ = berth_engine::attach::write_frame(
                &mut *writer.lock().expect("writer"),
                berth_engine::attach::RESIZE,
                &d,
            );
        }
        // Container output to the client.
        let reader: UnixStream = att.stream;
        let (otx, mut orx) = tokio::sync::mpsc::channel::<Bytes>(64);
        std::thread::spawn(move || {
            let mut any = false;
            let _ = berth_engine::attach::Attached::read_output(reader, |kind, data| {
                any = true;
                let frame = if tty {
                    Bytes::copy_from_slice(data)
                } else if kind == berth_engine::attach::STDERR {
                    if !want_err {
                        return;
                    }
                    mux(2, data)
                } else {
                    if !want_out {
                        return;
                    }
                    mux(1, data)
                };
                let _ = otx.blocking_send(frame);
            });
            // The monitor ended before it served us: what the container wrote is in the log.
            if !any {
                for rec in early.as_mut().and_then(|f| f.poll().ok()).unwrap_or_default() {
                    let out = if rec.stream == Stream::Stderr { want_err } else { want_out };
                    if out && otx.blocking_send(record_bytes(&rec, false, tty)).is_err() {
                        break;
                    }
                }
            }
        });
        let input = async {
            if !want_stdin {
                return std::future::pending::<()>().await;
            }
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let (kind, n) = match client_r.read(&mut buf).await {
                    Ok(0) | Err(_) => (berth_engine::attach::CLOSE_STDIN, 0),
                    Ok(n) => (berth_engine::attach::STDIN, n),
                };
                let sent = {
                    let mut w = writer.lock().expect("writer");
                    berth_engine::attach::write_frame(&mut *w, kind, &buf[..n]).is_ok()
                };
                if kind == berth_engine::attach::CLOSE_STDIN || !sent {
                    return std::future::pending::<()>().await;
                }
            }
        };
        let output = async {
            while let Some(b) = orx.recv().await {
                if client_w.write_all(&b).await.is_err() {
                    break;
                }
                let _ = client_w.flush().await;
            }
            let _ = client_w.shutdown().await;
        };
        tokio::select! {
            _ = output => {}
            _ = input => {}
        }
        writers.lock().expect("writers").remove(&cid);
    });
    let ct = if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    Ok(Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", ct)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(super::full(Bytes::new()))
        .expect("a valid response"))
}
