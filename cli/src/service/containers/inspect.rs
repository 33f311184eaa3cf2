//! `GET /containers/{id}/json`: Docker's inspect document, built from Podman's and the image's.

use berth_engine::volume::MountRequest;
use berth_engine::ContainerStatus;
use serde_json::{json, Value};

use super::{docker_state, mounts_json};
use crate::service::{ok_json, Ctx, Reply};

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
        let mut n = podman["NetworkSettings"]["Networks"][&a.network].clone();
        // Docker's: the name and the aliases (compose's service name among them)
        n["Aliases"] = json!(std::iter::once(&c.name).chain(&c.options.network_aliases).collect::<Vec<_>>());
        networks.insert(a.network.clone(), n);
    }
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |t| t.to_rfc3339())
    };
    let mut v = json!({
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
        "Image": if c.image_id.is_empty() { String::new() } else { format!("sha256:{}", c.image_id) },
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
            "Image": crate::service::images::docker_name(&c.image_name),
            "Entrypoint": c.options.entrypoint.clone().map_or_else(|| image_config["config"]["Entrypoint"].clone(), |e| json!(e)),
            "WorkingDir": podman["Config"]["WorkingDir"],
            "Labels": c.options.labels,
            "StopSignal": podman["Config"]["StopSignal"]
                .as_i64()
                .and_then(|n| nix::sys::signal::Signal::try_from(n as i32).ok())
                .map_or("SIGTERM", |s| s.as_str()),
        },
        "HostConfig": {
            "NetworkMode": podman["HostConfig"]["NetworkMode"],
            "PortBindings": podman["HostConfig"]["PortBindings"],
            "RestartPolicy": podman["HostConfig"]["RestartPolicy"],
            "AutoRemove": c.options.remove,
            "Binds": c.options.mounts.iter().filter_map(|m| match m {
                MountRequest::Bind { source, destination, read_only } => Some(format!("{}:{destination}{}", source.display(), if *read_only { ":ro" } else { "" })),
                MountRequest::Volume { name, destination, read_only, .. } => Some(format!("{name}:{destination}{}", if *read_only { ":ro" } else { "" })),
                MountRequest::Tmpfs { .. } | MountRequest::Image { .. } => None,
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
            "DnsOptions": c.options.dns_options,
            "GroupAdd": c.options.group_add,
            "ShmSize": podman["HostConfig"]["ShmSize"],
            "Sysctls": c.options.sysctls,
            "Ulimits": c.options.ulimits.iter().map(|u| json!({"Name": u.name, "Soft": u.soft as i64, "Hard": u.hard as i64})).collect::<Vec<_>>(),
            "ExtraHosts": podman["HostConfig"]["ExtraHosts"],
            "LogConfig": {"Type": "k8s-file", "Config": {}},
        },
        "NetworkSettings": {
            "Ports": ports,
            "IPAddress": podman["NetworkSettings"]["IPAddress"],
            "IPPrefixLen": podman["NetworkSettings"]["IPPrefixLen"].as_u64().unwrap_or(0),
            "Gateway": podman["NetworkSettings"]["Gateway"],
            "MacAddress": podman["NetworkSettings"]["MacAddress"],
            "Networks": networks,
        },
    });
    // Docker's names for the check and what it found; absent without a check, as in Docker
    if !podman["State"]["Health"].is_null() {
        v["State"]["Health"] = podman["State"]["Health"].clone();
    }
    if !podman["Config"]["Healthcheck"].is_null() {
        v["Config"]["Healthcheck"] = podman["Config"]["Healthcheck"].clone();
    }
    ok_json(v)
}
