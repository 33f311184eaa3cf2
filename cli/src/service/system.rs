//! `/_ping`, `/version`, `/info`, `/events`, `/system/df`.

use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::{channel_body, full, ok_json, Ctx, Reply, Req, API_VERSION, MIN_API_VERSION};

pub fn ping(r: &Req) -> Reply {
    let body = if r.method == Method::HEAD { Bytes::new() } else { Bytes::from_static(b"OK") };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
        .header("Builder-Version", "1")
        .body(full(body))
        .expect("a valid response"))
}

pub(crate) fn kernel() -> String {
    nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
}

pub(crate) fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub async fn version(_ctx: &Ctx) -> Reply {
    let v = env!("CARGO_PKG_VERSION");
    ok_json(json!({
        "Platform": {"Name": "Berth"},
        "Components": [{"Name": "Berth Engine", "Version": v, "Details": {"APIVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Os": "linux", "Arch": arch(), "KernelVersion": kernel()}}],
        "Version": v,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": arch(),
        "KernelVersion": kernel(),
        "BuildTime": "",
    }))
}

/// What the host offers, read from the kernel for `/info`.
pub(crate) struct HostFacts {
    pub(crate) cgroup_version: &'static str,
    pub(crate) backing_fs: String,
    pub(crate) memory: bool,
    pub(crate) swap: bool,
    pub(crate) cpu_cfs: bool,
    pub(crate) cpu_shares: bool,
    pub(crate) pids: bool,
    pub(crate) ip_forward: bool,
    pub(crate) mem_total: u64,
    /// The service's open descriptors and threads (Docker's NFd and NGoroutines).
    pub(crate) fds: usize,
    pub(crate) threads: u64,
}

/// Docker's name for the file system type `statfs` reports.
fn fs_name(magic: i64) -> String {
    match magic {
        0xEF53 => "extfs".into(),
        0x5846_5342 => "xfs".into(),
        0x9123_683E => "btrfs".into(),
        0x0102_1994 => "tmpfs".into(),
        0x794C_7630 => "overlayfs".into(),
        0x2FC1_2FC1 => "zfs".into(),
        0xF2F5_2010 => "f2fs".into(),
        0x6969 => "nfs".into(),
        0x0027_e0eb => "cgroupfs".into(),
        0x5346_4846 => "wslfs".into(),
        other => format!("0x{other:x}"),
    }
}

pub(crate) fn host_facts(root: &std::path::Path) -> HostFacts {
    use std::path::Path;
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    // The storage root, or the nearest directory above it that exists.
    let backing_fs = root
        .ancestors()
        .find_map(|p| nix::sys::statfs::statfs(p).ok())
        .map_or_else(|| "unknown".into(), |s| fs_name(s.filesystem_type().0));
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let (memory, swap, cpu_cfs, cpu_shares, pids) = if v2 {
        let controllers = read("/sys/fs/cgroup/cgroup.controllers");
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        // Swap accounting shows as memory.swap.max in the cgroups below the root.
        let swap = std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("memory.swap.max").exists());
        (has("memory"), has("memory") && swap, has("cpu"), has("cpu"), has("pids"))
    } else {
        let has = |p: &str| Path::new(p).exists();
        (
            has("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
            has("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
            has("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
            has("/sys/fs/cgroup/cpu/cpu.shares"),
            has("/sys/fs/cgroup/pids"),
        )
    };
    let mem_total = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024);
    HostFacts {
        cgroup_version: if v2 { "2" } else { "1" },
        backing_fs,
        memory,
        swap,
        cpu_cfs,
        cpu_shares,
        pids,
        ip_forward: read("/proc/sys/net/ipv4/ip_forward").trim() == "1",
        mem_total,
        fds: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()),
        threads: read("/proc/self/status")
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
    }
}

pub async fn info(ctx: &Ctx) -> Reply {
    let root_dir = ctx.engine.config().root.clone();
    let (containers, images, host) =
        ctx.blocking(move |e| Ok((e.containers()?, e.images()?, host_facts(&root_dir)))).await?;
    let count = |s: berth_engine::ContainerStatus| containers.iter().filter(|c| c.status == s).count();
    let running = containers.iter().filter(|c| c.is_running()).count();
    let cgroup_version = host.cgroup_version;
    let mem = host.mem_total;
    let mut warnings = Vec::new();
    if !host.memory {
        warnings.push("WARNING: No memory limit support");
    }
    if !host.swap {
        warnings.push("WARNING: No swap limit support");
    }
    if !host.ip_forward {
        warnings.push("WARNING: IPv4 forwarding is disabled");
    }
    let hostname = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default();
    let root = ctx.engine.config().root.display().to_string();
    ok_json(json!({
        "ID": berth_engine::network::network_id(&root)[..36].to_string(),
        "Containers": containers.len(),
        "ContainersRunning": running,
        "ContainersPaused": count(berth_engine::ContainerStatus::Paused),
        "ContainersStopped": containers.len() - running,
        "Images": images.len(),
        "Driver": "overlay",
        "DriverStatus": [["Backing Filesystem", host.backing_fs], ["Supports d_type", "true"]],
        "DockerRootDir": root,
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Authorization": null, "Log": ["k8s-file"]},
        "MemoryLimit": host.memory,
        "SwapLimit": host.swap,
        "CpuCfsPeriod": host.cpu_cfs,
        "CpuCfsQuota": host.cpu_cfs,
        "CPUShares": host.cpu_shares,
        "PidsLimit": host.pids,
        "IPv4Forwarding": host.ip_forward,
        "Debug": false,
        "NFd": host.fds,
        "NGoroutines": host.threads,
        "SystemTime": chrono::Utc::now().to_rfc3339(),
        "LoggingDriver": "k8s-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_version,
        "NEventsListener": 0,
        "KernelVersion": kernel(),
        "OperatingSystem": std::fs::read_to_string("/etc/os-release").ok().and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).map(|v| v.trim_matches('"').to_string())).unwrap_or_else(|| "Linux".into()),
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": [], "Mirrors": []},
        "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "MemTotal": mem,
        "Name": hostname,
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        "Runtimes": {"berth": {"path": "berth"}},
        "DefaultRuntime": "berth",
        "Swarm": {"LocalNodeState": "inactive", "ControlAvailable": false, "NodeID": "", "NodeAddr": "", "RemoteManagers": null},
        "LiveRestoreEnabled": true,
        "Isolation": "",
        "InitBinary": "",
        "SecurityOptions": security_options(),
        "Warnings": warnings,
    }))
}

/// Docker's event for one of the engine's.
fn docker_event(e: &berth_engine::StateEvent, name_of: &dyn Fn(&str) -> Option<String>) -> Value {
    let health;
    let action = match e.action.as_str() {
        "remove" if e.kind == "container" => "destroy",
        "remove" if e.kind == "image" => "delete",
        "died" => "die",
        // Docker's action names the health: `health_status: healthy`
        "health_status" => {
            health = format!("health_status: {}", e.attributes.get("health_status").map_or("", String::as_str));
            health.as_str()
        }
        other => other,
    };
    let name = e.name.clone().or_else(|| name_of(&e.id)).unwrap_or_default();
    let typ = e.kind.as_str();
    // Docker's attributes: the labels, image and name, and a died container's exitCode
    let mut attributes: serde_json::Map<String, Value> = e
        .attributes
        .iter()
        .map(|(k, v)| (if k == "containerExitCode" { "exitCode".to_string() } else { k.clone() }, json!(v)))
        .collect();
    attributes.insert("name".into(), json!(name));
    let from = e.attributes.get("image").cloned().unwrap_or_default();
    json!({
        "Type": typ,
        "Action": action,
        "status": action,
        "id": e.id,
        "from": from,
        "Actor": {"ID": e.id, "Attributes": attributes},
        "scope": "local",
        "time": e.time / 1_000_000_000,
        "timeNano": e.time,
    })
}

/// `/events`: what happened since `since` (default: now), then as it happens, until `until`.
pub async fn events(ctx: &Ctx, r: &Req) -> Reply {
    // Nanoseconds since the epoch: in range for every date `Req::time` takes (to 9999).
    let nanos = |t: chrono::DateTime<chrono::Utc>| t.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let since = r.time("since")?.map(nanos);
    let until = r.time("until")?.map(nanos);
    let engine = ctx.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    // The events file and the container names are read on the blocking pool, until `until`
    // or until the client goes away.
    tokio::task::spawn_blocking(move || {
        let bus = engine.events().clone();
        // From the start of the file when `since` is given, else from its end.
        let mut offset = if since.is_some() { 0 } else { std::fs::metadata(bus.file()).map_or(0, |m| m.len()) };
        loop {
            let (events, next) = match bus.read_since(offset) {
                Ok(x) => x,
                Err(_) => (Vec::new(), offset),
            };
            offset = next;
            for e in events {
                if since.is_some_and(|s| e.time < s) {
                    continue;
                }
                if until.is_some_and(|u| e.time > u) {
                    return;
                }
                let name_of = |id: &str| engine.container(id).ok().map(|c| c.name);
                let mut line = serde_json::to_vec(&docker_event(&e, &name_of)).expect("serialises");
                line.push(b'\n');
                if tx.blocking_send(Bytes::from(line)).is_err() {
                    return;
                }
            }
            if until.is_some_and(|u| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) > u) || tx.is_closed() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(channel_body(rx))
        .expect("a valid response"))
}

pub async fn df(ctx: &Ctx) -> Reply {
    // The walks of the containers' and volumes' directories are blocking I/O: all of it runs
    // on the blocking pool.
    let root = ctx.engine.config().root.clone();
    ctx.blocking(move |e| Ok(df_json(&root, e.images()?, e.containers()?, e.volumes()?, e.volume_users()?)))
        .await
        .and_then(ok_json)
}

pub(crate) fn df_json(
    root: &std::path::Path,
    images: Vec<berth_engine::ImageRecord>,
    containers: Vec<berth_engine::ContainerRecord>,
    volumes: Vec<berth_engine::volume::VolumeRecord>,
    users: std::collections::BTreeMap<String, Vec<String>>,
) -> Value {
    let layers_size: u64 = images.iter().map(|i| i.size).sum();
    let du = berth_engine::dir_size;
    let imgs: Vec<Value> = images
        .iter()
        .map(|i| {
            json!({"Id": format!("sha256:{}", i.id), "RepoTags": i.names, "RepoDigests": i.repo_digests,
                   "Created": i.created.map_or(0, |t| t.timestamp()), "Size": i.size, "SharedSize": 0,
                   "VirtualSize": i.size, "Labels": {}, "Containers": i.containers.len(), "ParentId": ""})
        })
        .collect();
    let ctrs: Vec<Value> = containers
        .iter()
        .map(|c| {
            let rw = du(&berth_engine::container::ContainerPaths::new(root, &c.id).upper());
            json!({"Id": c.id, "Names": [format!("/{}", c.name)], "Image": c.image_name, "ImageID": format!("sha256:{}", c.image_id),
                   "Command": c.command.join(" "), "Created": c.created_at.timestamp(), "State": c.status.as_str(),
                   "Status": c.status.as_str(), "SizeRw": rw, "SizeRootFs": rw, "Labels": c.options.labels, "Mounts": [], "Ports": []})
        })
        .collect();
    let vols: Vec<Value> = volumes
        .iter()
        .map(|v| {
            let used = users.get(&v.name).map_or(0, Vec::len);
            json!({"Name": v.name, "Driver": v.driver, "Mountpoint": v.mountpoint, "CreatedAt": v.created.to_rfc3339(),
                   "Labels": v.labels, "Scope": "local", "Options": {}, "UsageData": {"Size": du(&v.mountpoint), "RefCount": used}})
        })
        .collect();
    json!({"LayersSize": layers_size, "Images": imgs, "Containers": ctrs, "Volumes": vols, "BuildCache": []})
}

/// Docker's list: the seccomp profile, and `name=rootless` for a regular user's engine (the
/// docker client shows it, and tools check it).
fn security_options() -> Vec<&'static str> {
    let mut out = vec!["name=seccomp,profile=default"];
    if berth_engine::rootless::is_rootless() {
        out.push("name=rootless");
    }
    out
}
