//! `/volumes/…` and `/networks/…`.

use hyper::StatusCode;
use serde_json::{json, Value};

use super::{empty, json_reply, ok_json, ApiError, Ctx, Reply, Req};

fn volume_json(v: &berth_engine::volume::VolumeRecord) -> Value {
    json!({"Name": v.name, "Driver": v.driver, "Mountpoint": v.mountpoint, "CreatedAt": v.created.to_rfc3339(),
           "Labels": v.labels, "Scope": "local", "Options": v.options})
}

pub async fn volumes(ctx: &Ctx) -> Reply {
    let list = ctx.blocking(|e| e.volumes()).await?;
    ok_json(json!({"Volumes": list.iter().map(volume_json).collect::<Vec<_>>(), "Warnings": []}))
}

pub async fn create_volume(ctx: &Ctx, r: &Req) -> Reply {
    let body = r.json()?;
    let name = body["Name"].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let labels = body["Labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    if let Some(d) = body["Driver"].as_str().filter(|d| !d.is_empty() && *d != "local") {
        return Err(ApiError::bad(format!("volume driver \"{d}\" is not supported: use local")));
    }
    // Docker answers an existing name with the volume.
    if let Some(n) = &name {
        let q = n.clone();
        if let Ok(v) = ctx.blocking(move |e| e.volume(&q)).await {
            return json_reply(StatusCode::CREATED, &volume_json(&v));
        }
    }
    // The local driver's options (type, device, o), as `volume create -o`.
    let options = body["DriverOpts"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let v = ctx.blocking(move |e| e.create_volume_with(name.as_deref(), labels, options)).await?;
    json_reply(StatusCode::CREATED, &volume_json(&v))
}

pub async fn inspect_volume(ctx: &Ctx, name: &str) -> Reply {
    let q = name.to_string();
    let v = ctx.blocking(move |e| e.volume(&q)).await?;
    ok_json(volume_json(&v))
}

pub async fn remove_volume(ctx: &Ctx, name: &str, r: &Req) -> Reply {
    let (q, force) = (name.to_string(), r.flag("force"));
    ctx.blocking(move |e| e.remove_volume(&q, force)).await?;
    empty(StatusCode::NO_CONTENT)
}

pub async fn prune_volumes(ctx: &Ctx) -> Reply {
    let removed = ctx.blocking(|e| e.prune_volumes()).await?;
    ok_json(json!({"VolumesDeleted": removed, "SpaceReclaimed": 0}))
}

fn network_json(n: &berth_engine::network::NetworkRecord, members: &[(String, String, std::net::Ipv4Addr)]) -> Value {
    let mut containers = serde_json::Map::new();
    for (id, name, ip) in members {
        containers.insert(id.clone(), json!({"Name": name, "IPv4Address": format!("{ip}/{}", n.subnet.prefix_len()), "IPv6Address": "", "MacAddress": "", "EndpointID": ""}));
    }
    // Docker calls the default network `bridge`.
    let name = if n.name == berth_engine::network::DEFAULT_NETWORK { "bridge".to_string() } else { n.name.clone() };
    json!({
        "Name": name,
        "Id": n.id,
        "Created": n.created.to_rfc3339(),
        "Scope": "local",
        "Driver": n.driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": n.subnet.to_string(), "Gateway": n.gateway.to_string()}]},
        "Internal": false,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": {"com.docker.network.bridge.name": n.bridge},
        "Labels": n.labels,
    })
}

pub async fn networks(ctx: &Ctx) -> Reply {
    let list = ctx.blocking(|e| e.networks()).await?;
    let mut out = Vec::new();
    for n in &list {
        out.push(network_json(n, &[]));
    }
    out.push(json!({"Name": "host", "Id": berth_engine::network::network_id("host"), "Driver": "host", "Scope": "local", "IPAM": {"Driver": "default", "Config": []}, "Containers": {}, "Options": {}, "Labels": {}}));
    out.push(json!({"Name": "none", "Id": berth_engine::network::network_id("none"), "Driver": "null", "Scope": "local", "IPAM": {"Driver": "default", "Config": []}, "Containers": {}, "Options": {}, "Labels": {}}));
    ok_json(Value::Array(out))
}

pub async fn create_network(ctx: &Ctx, r: &Req) -> Reply {
    let body = r.json()?;
    let name = body["Name"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("network name is required"))?
        .to_string();
    if let Some(d) = body["Driver"].as_str().filter(|d| !d.is_empty() && *d != "bridge") {
        return Err(ApiError::bad(format!("network driver \"{d}\" is not supported: use bridge")));
    }
    let cfg = &body["IPAM"]["Config"][0];
    let subnet = match cfg["Subnet"].as_str() {
        Some(s) => Some(s.parse().map_err(|_| ApiError::bad(format!("invalid subnet \"{s}\"")))?),
        None => None,
    };
    let gateway = match cfg["Gateway"].as_str() {
        Some(g) => Some(g.parse().map_err(|_| ApiError::bad(format!("invalid gateway \"{g}\"")))?),
        None => None,
    };
    let labels = body["Labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let opts = berth_engine::NetworkCreate { subnet, gateway, labels };
    let n = ctx.blocking(move |e| e.create_network(&name, opts)).await?;
    json_reply(StatusCode::CREATED, &json!({"Id": n.id, "Warning": ""}))
}

pub async fn inspect_network(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    let n = ctx.blocking(move |e| e.network(&q)).await?;
    ok_json(network_json(&n, &[]))
}

pub async fn remove_network(ctx: &Ctx, id: &str) -> Reply {
    let q = id.to_string();
    ctx.blocking(move |e| e.remove_network(&q, false)).await?;
    empty(StatusCode::NO_CONTENT)
}

/// `POST /networks/{id}/connect` and `/disconnect`. A Berth container stays on the network it
/// was created with. compose (1.29) disconnects a container it has just created from its network
/// and connects it again with its aliases: the disconnect of a created container from its own
/// network is held (its start is refused until it is connected again) and the connect that
/// follows takes it back; anything else can't be done and is refused.
pub async fn connect(ctx: &Ctx, net: &str, r: &Req, connect: bool) -> Reply {
    let body = r.json()?;
    let container = match &body["Container"] {
        Value::String(c) if !c.is_empty() => c.clone(),
        _ => return Err(ApiError::bad("Container is required: the container's name or id")),
    };
    let (q, n) = (container.clone(), net.to_string());
    let (c, on, network) = ctx
        .blocking(move |e| {
            let c = e.container(&q)?;
            let on = e.container_address(&c.id)?.map(|a| a.network);
            Ok((c, on, e.network(&n)?))
        })
        .await?;
    if on.as_deref() != Some(network.name.as_str()) {
        let now = on.map_or_else(|| "no network".to_string(), |n| format!("network {n}"));
        return Err(ApiError::conflict(format!(
            "container {} is on {now}, not {}: a Berth container stays on the network it was created with",
            c.name, network.name
        )));
    }
    let mut detached = ctx.detached.lock().expect("detached");
    if connect {
        if detached.remove(&c.id).is_none() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("endpoint with name {} already exists in network {}", c.name, network.name),
            ));
        }
        return empty(StatusCode::OK);
    }
    if c.status != berth_engine::ContainerStatus::Created || detached.contains_key(&c.id) {
        return Err(ApiError::conflict(format!(
            "container {} is {}: Berth can't take a container off its network once it has run; remove it and create it on another",
            c.name,
            c.status.as_str()
        )));
    }
    detached.insert(c.id, network.name);
    empty(StatusCode::OK)
}
