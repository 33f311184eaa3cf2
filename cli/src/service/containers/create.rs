//! `POST /containers/create`: Docker's container config translated to `CreateOptions`.

use std::collections::BTreeMap;

use berth_engine::container::security::{DeviceRequest, Security};
use berth_engine::container::{Limits, RestartPolicy};
use berth_engine::network::PortMapping;
use berth_engine::volume::MountRequest;
use berth_engine::CreateOptions;
use hyper::StatusCode;
use serde_json::{json, Value};

use crate::service::{json_reply, ApiError, Ctx, Reply, Req};

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
