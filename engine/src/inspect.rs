//! The inspect view of a container and of an image: the JSON objects `berth inspect` prints
//! (Podman's field names), and an image's history as `berth history` reads it, built here so
//! that every front end (the CLI, the desktop app, the HTTP mode) shows the same thing.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::{ContainerRecord, Engine, ImageRecord, Result};

/// `berth image inspect`'s object of an image (Podman's field names).
pub fn image_inspect(img: &ImageRecord) -> Value {
    let config: Value = serde_json::from_str(&img.config_json).unwrap_or(Value::Null);
    json!({
        "Id": img.id,
        "Digest": img.manifest_digest,
        "RepoTags": img.names,
        "RepoDigests": img.repo_digests,
        "Parent": "",
        "Comment": config.get("comment").cloned().unwrap_or(json!("")),
        "Created": img.created.map(|c| c.to_rfc3339()),
        "Config": config.get("config").cloned().unwrap_or(json!({})),
        "Version": config.get("docker_version").cloned().unwrap_or(json!("")),
        "Author": config.get("author").cloned().unwrap_or(json!("")),
        "Architecture": img.architecture,
        "Os": img.os,
        "Variant": img.variant,
        "Size": img.size,
        "VirtualSize": img.size,
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "LowerDir": img.layers.iter().rev().skip(1).map(|l| l.chain_id.clone()).collect::<Vec<_>>().join(":"),
                "UpperDir": img.layers.last().map(|l| l.chain_id.clone()),
            }
        },
        "RootFS": { "Type": "layers", "Layers": img.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>() },
        "Labels": config.pointer("/config/Labels").cloned().unwrap_or(Value::Null),
        "Annotations": serde_json::from_slice::<Value>(&img.manifest).ok().and_then(|m| m.get("annotations").cloned()).unwrap_or(json!({})),
        "ManifestType": img.manifest_media_type,
        "User": config.pointer("/config/User").cloned().unwrap_or(json!("")),
        "History": config.get("history").cloned().unwrap_or(json!([])),
        "NamesHistory": img.names_history,
    })
}

/// `berth network inspect`'s object of a network (Podman's field names; what the app's Inspect
/// tab adds its members to).
pub fn network_inspect(n: &crate::network::NetworkRecord) -> Value {
    json!({
        "name": n.name,
        "id": n.id,
        "driver": n.driver,
        "network_interface": n.bridge,
        "created": n.created.to_rfc3339(),
        "subnets": n.subnets().into_iter().map(|(s, g)| json!({"subnet": s, "gateway": g})).collect::<Vec<_>>(),
        "ipv6_enabled": n.subnet6.is_some(),
        "internal": n.internal,
        "dns_enabled": n.dns,
        "labels": n.labels,
        "ipam_options": {"driver": "host-local"},
    })
}

/// One entry of an image's history: the step that made it, and the size of its layer (0 for
/// an entry without one, as `ENV` or `CMD`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub created: Option<DateTime<Utc>>,
    pub created_by: String,
    /// Bytes of its layer unpacked.
    pub size: u64,
    pub comment: String,
    pub empty_layer: bool,
}

/// The history of the image's config, oldest first, each entry with a layer paired with the
/// next of the image's layers.
pub fn image_history(img: &ImageRecord) -> Vec<HistoryEntry> {
    let history = img.config().and_then(|c| c.history().clone()).unwrap_or_default();
    let mut layers = img.layers.iter();
    history
        .iter()
        .map(|h| {
            let empty_layer = h.empty_layer().unwrap_or(false);
            let size = if empty_layer { 0 } else { layers.next().map_or(0, |l| l.size) };
            HistoryEntry {
                created: h.created().as_deref().and_then(|c| DateTime::parse_from_rfc3339(c).ok()).map(|d| d.to_utc()),
                created_by: h.created_by().clone().unwrap_or_default(),
                size,
                comment: h.comment().clone().unwrap_or_default(),
                empty_layer,
            }
        })
        .collect()
}

/// A mount as Podman's inspect shows it.
fn mount_json(root: &std::path::Path, m: &crate::container::MountRequest) -> Value {
    use crate::container::MountRequest as M;
    match m {
        M::Bind { source, destination, read_only } => json!({
            "Type": "bind", "Source": source, "Destination": destination, "Driver": "", "Mode": "",
            "Options": ["rbind"], "RW": !read_only, "Propagation": "rprivate",
        }),
        M::Volume { name, destination, read_only, .. } => json!({
            "Type": "volume", "Name": name, "Source": crate::volume::data_dir(root, name), "Destination": destination,
            "Driver": "local", "Mode": "", "Options": ["nosuid", "nodev", "rbind"], "RW": !read_only, "Propagation": "rprivate",
        }),
        M::Image { source, destination, read_write, .. } => json!({
            "Type": "image", "Source": source, "Destination": destination, "Driver": "", "Mode": "",
            "Options": [], "RW": read_write, "Propagation": "rprivate",
        }),
        M::Tmpfs { destination, options } => json!({
            "Type": "tmpfs", "Source": "tmpfs", "Destination": destination, "Driver": "", "Mode": "",
            "Options": options, "RW": !options.iter().any(|o| o == "ro"), "Propagation": "",
        }),
    }
}

/// A size as Podman's `LogConfig.Size` shows it: decimal units, as written (`4.25MB`).
fn podman_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{}", UNITS[u])
}

impl Engine {
    /// `berth inspect NAME`: the container found by name or id, as inspect shows it.
    pub fn inspect_container(&self, query: &str) -> Result<Value> {
        let c = self.container(query)?;
        Ok(self.inspect_record(&c))
    }

    /// The inspect object of a container already looked up.
    pub fn inspect_record(&self, c: &ContainerRecord) -> Value {
        let spec = self.container_spec(&c.id).ok();
        let args = &c.command;
        let paths = self.container_paths(&c.id);
        let process = spec.as_ref().and_then(|s| s.process().clone());
        let network = self.network_settings(c);
        let network_mode = match crate::network::Mode::of(&c.options) {
            crate::network::Mode::Pasta => "pasta".to_string(),
            crate::network::Mode::Slirp4netns(_) => "slirp4netns".to_string(),
            _ => c.options.network.clone().unwrap_or_else(|| "bridge".into()),
        };
        let health = self.health(c).map(|h| serde_json::to_value(h).unwrap_or(Value::Null));
        let mut v = json!({
            "Id": c.id,
            "Created": c.created_at.to_rfc3339(),
            "Path": args.first(),
            "Args": args.get(1..).unwrap_or(&[]),
            "State": {
                "Status": c.status.as_str(),
                "Running": c.is_running(),
                "Pid": c.pid.unwrap_or(0),
                "ConmonPid": c.monitor_pid.filter(|_| c.is_running()).unwrap_or(0),
                "ExitCode": c.exit_code.unwrap_or(0),
                "Error": c.error.clone().unwrap_or_default(),
                "StartedAt": c.started_at.map(|t| t.to_rfc3339()),
                "FinishedAt": c.finished_at.map(|t| t.to_rfc3339()),
            },
            "Mounts": c.options.mounts.iter().map(|m| mount_json(&self.config().root, m)).collect::<Vec<_>>(),
            "Image": c.image_id,
            "ImageName": c.image_name,
            "ImageDigest": crate::image::get(self.state().conn(), &c.image_id).ok().flatten().map(|i| i.manifest_digest).unwrap_or_default(),
            "Rootfs": c.options.rootfs.as_ref().map(|r| r.path.display().to_string()).unwrap_or_default(),
            "Name": c.name,
            "RestartCount": c.restart_count,
            "LogPath": if c.options.log.driver == crate::container::LogDriver::None { String::new() } else { paths.log().display().to_string() },
            "OCIConfigPath": paths.spec(),
            "OCIRuntime": c.options.runtime.as_ref().map_or_else(|| "berth".to_string(), |p| p.display().to_string()),
            "Config": {
                "Hostname": spec.as_ref().and_then(|s| s.hostname().clone()),
                "User": c.options.user,
                "Env": process.as_ref().and_then(|p| p.env().clone()),
                "Cmd": c.options.command,
                "Entrypoint": c.options.entrypoint,
                "WorkingDir": process.as_ref().map(|p| p.cwd().clone()),
                "Labels": c.options.labels,
                "AutoRemove": c.options.remove,
                "StopSignal": self.stop_signal(c),
                "HealthcheckOnFailureAction": c.options.health_on_failure.name(),
                "Annotations": c.options.annotations,
            },
            "HostConfig": {
                "LogConfig": {
                    "Type": c.options.log.driver.name(),
                    "Path": if c.options.log.driver == crate::container::LogDriver::None { String::new() } else { paths.log().display().to_string() },
                    "Size": c.options.log.max_size.map_or_else(|| "0B".to_string(), podman_size),
                },
                "Memory": c.options.limits.memory.unwrap_or(0),
                "MemorySwap": c.options.limits.memory_swap.or(c.options.limits.memory.map(|m| m * 2)).unwrap_or(0),
                "NanoCpus": c.options.limits.cpus.map_or(0, |c| (c * 1e9) as i64),
                "CpuShares": c.options.limits.cpu_shares.unwrap_or(0),
                "PidsLimit": c.options.limits.pids.unwrap_or(0),
                "NetworkMode": network_mode,
                "PidMode": if c.options.pid_host { "host" } else { "private" },
                "RestartPolicy": {
                    "Name": match c.options.restart {
                        crate::container::RestartPolicy::OnFailure { .. } => "on-failure".to_string(),
                        other => other.name(),
                    },
                    "MaximumRetryCount": match c.options.restart {
                        crate::container::RestartPolicy::OnFailure { max_retries: Some(n) } => n,
                        _ => 0,
                    },
                },
                "PortBindings": port_bindings(c),
                "Dns": c.options.dns,
                "DnsSearch": c.options.dns_search,
                "DnsOptions": c.options.dns_options,
                "ShmSize": c.options.shm_size.filter(|s| *s > 0).unwrap_or(crate::spec::DEFAULT_SHM_SIZE),
                "Sysctls": c.options.sysctls,
                "GroupAdd": c.options.group_add,
                "Ulimits": crate::container::kernel::ulimits(&c.options.ulimits, c.options.ulimit_host)
                    .iter()
                    .map(|u| json!({"Name": format!("RLIMIT_{}", u.name.to_ascii_uppercase()), "Soft": u.soft, "Hard": u.hard}))
                    .collect::<Vec<_>>(),
                "Init": c.options.init,
                "ExtraHosts": c.options.add_hosts.iter().map(|(n, ip)| format!("{n}:{ip}")).collect::<Vec<_>>(),
            },
            "NetworkSettings": network,
            "OCISpec": spec,
        });
        // Docker's name for the checks' state and Podman 4's, and the check itself
        if let Some(h) = health {
            v["State"]["Health"] = h.clone();
            v["State"]["Healthcheck"] = h;
        }
        if let Some(check) = &c.options.healthcheck {
            v["Config"]["Healthcheck"] = check.to_docker();
        }
        v
    }

    /// Podman's NetworkSettings: the address on the container's network and its published ports.
    fn network_settings(&self, c: &ContainerRecord) -> Value {
        let addresses = crate::network::addresses_of(self.state().conn(), &c.id).unwrap_or_default();
        let joined: Vec<_> =
            addresses.into_iter().filter_map(|a| self.network(&a.network).ok().map(|n| (a, n))).collect();
        let ports = port_bindings(c);
        // a network's address fields, which the first network's are at the top level too
        let address = |i: usize, (a, n): &(crate::network::Address, crate::network::NetworkRecord)| {
            json!({
                "IPAddress": a.ip.to_string(),
                "IPPrefixLen": n.subnet.prefix_len(),
                "Gateway": n.gateway.to_string(),
                "MacAddress": crate::network::container_mac(c, a, i == 0),
                "GlobalIPv6Address": a.ip6.map(|a| a.to_string()).unwrap_or_default(),
                "GlobalIPv6PrefixLen": n.subnet6.map_or(0, |s| s.prefix_len()),
                "IPv6Gateway": n.gateway6().map(|a| a.to_string()).unwrap_or_default(),
            })
        };
        let mut networks = serde_json::Map::new();
        for (i, joined_one) in joined.iter().enumerate() {
            let mut v = address(i, joined_one);
            v["NetworkID"] = json!(joined_one.1.id);
            // Podman's: the aliases and the short id (its name is resolved all the same)
            v["Aliases"] =
                json!(c.options.network_aliases.iter().map(String::as_str).chain([&c.id[..12]]).collect::<Vec<_>>());
            networks.insert(joined_one.1.name.clone(), v);
        }
        match joined.first() {
            // the first network's address, as Docker's and Podman's top-level fields
            Some(first) => {
                let mut v = address(0, first);
                v["Ports"] = ports;
                v["Networks"] = Value::Object(networks);
                v
            }
            None => json!({"IPAddress": "", "Gateway": "", "MacAddress": "", "Ports": ports, "Networks": {}}),
        }
    }
}

/// `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`, as Docker and Podman show bindings.
fn port_bindings(c: &ContainerRecord) -> Value {
    let mut map = serde_json::Map::new();
    for p in &c.options.ports {
        let key = format!("{}/{}", p.container_port, p.protocol);
        let entry = json!({
            "HostIp": p.host_ip.map(|i| i.to_string()).unwrap_or_default(),
            "HostPort": p.host_port.to_string(),
        });
        match map.get_mut(&key) {
            Some(Value::Array(list)) => list.push(entry),
            _ => {
                map.insert(key, json!([entry]));
            }
        }
    }
    Value::Object(map)
}
