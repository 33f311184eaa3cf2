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
        "EnableIPv6": n.subnet6.is_some(),
        "IPAM": {"Driver": "default", "Options": {}, "Config": n.subnets().into_iter().map(|(s, g)| json!({"Subnet": s, "Gateway": g})).collect::<Vec<_>>()},
        "Internal": n.internal,
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
    // IPAM.Config: an IPv4 and an IPv6 subnet at most; the IPv4 one's gateway
    let (mut subnet, mut subnet6, mut gateway) = (None, None, None);
    for cfg in body["IPAM"]["Config"].as_array().into_iter().flatten() {
        let Some(s) = cfg["Subnet"].as_str().filter(|s| !s.is_empty()) else { continue };
        match s.parse::<ipnet::IpNet>().map_err(|_| ApiError::bad(format!("invalid IPAM.Config Subnet \"{s}\"")))? {
            ipnet::IpNet::V4(v4) => {
                subnet = Some(v4);
                if let Some(g) = cfg["Gateway"].as_str().filter(|g| !g.is_empty()) {
                    gateway =
                        Some(g.parse().map_err(|_| {
                            ApiError::bad(format!("invalid gateway \"{g}\": use an IPv4 address of {v4}"))
                        })?);
                }
            }
            ipnet::IpNet::V6(v6) => subnet6 = Some(v6),
        }
    }
    let labels = body["Labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let internal = body["Internal"].as_bool().unwrap_or(false);
    let ipv6 = body["EnableIPv6"].as_bool().unwrap_or(false);
    let opts = berth_engine::NetworkCreate { subnet, gateway, labels, internal, ipv6, subnet6 };
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

/// `POST /networks/{id}/connect` and `/disconnect`: the engine's `network connect` and
/// `disconnect` (at once for a running container), with `EndpointConfig.Aliases`. compose
/// (1.29) disconnects a container it has just created from its only network and connects it
/// again with its aliases: that disconnect is held (its start is refused until it is connected
/// again) and the connect that follows takes it back.
pub async fn connect(ctx: &Ctx, net: &str, r: &Req, connect: bool) -> Reply {
    let body = r.json()?;
    let container = match &body["Container"] {
        Value::String(c) if !c.is_empty() => c.clone(),
        _ => return Err(ApiError::bad("Container is required: the container's name or id")),
    };
    let aliases: Vec<String> = body["EndpointConfig"]["Aliases"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let (q, n) = (container.clone(), net.to_string());
    let (c, on, network) = ctx
        .blocking(move |e| {
            let c = e.container(&q)?;
            let on: Vec<String> = e.container_addresses(&c.id)?.into_iter().map(|a| a.network).collect();
            Ok((c, on, e.network(&n)?))
        })
        .await?;
    let held = {
        let mut detached = ctx.detached.lock().expect("detached");
        if connect {
            // only a connect to the network it was taken off
            detached.get(&c.id) == Some(&network.name) && detached.remove(&c.id).is_some()
        } else {
            let compose_case = c.status == berth_engine::ContainerStatus::Created
                && on == [network.name.clone()]
                && !detached.contains_key(&c.id);
            if compose_case {
                detached.insert(c.id.clone(), network.name.clone());
                return empty(StatusCode::OK);
            }
            false
        }
    };
    if connect {
        if held {
            // compose's connect after its disconnect: back on the network (its aliases came
            // with the create's EndpointsConfig)
            return empty(StatusCode::OK);
        }
        if on.contains(&network.name) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("endpoint with name {} already exists in network {}", c.name, network.name),
            ));
        }
        let (id, name) = (c.id.clone(), network.name.clone());
        ctx.blocking(move |e| e.connect_network(&name, &id, &aliases)).await.map_err(conflict)?;
        return empty(StatusCode::OK);
    }
    let (id, name) = (c.id.clone(), network.name.clone());
    ctx.blocking(move |e| e.disconnect_network(&name, &id)).await.map_err(conflict)?;
    empty(StatusCode::OK)
}

/// An engine's refusal as Docker's 409 (a network error that is not "not found").
fn conflict(e: ApiError) -> ApiError {
    if e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::INTERNAL_SERVER_ERROR {
        ApiError::conflict(e.message)
    } else {
        e
    }
}
