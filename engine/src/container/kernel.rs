//! What the kernel is asked for a container beyond cgroups: resource limits (`--ulimit`) and
//! namespaced sysctls (`--sysctl`), checked as Podman checks them.

use serde::{Deserialize, Serialize};

/// `--ulimit TYPE=SOFT[:HARD]`: a resource limit of the container's processes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// `nofile`, `nproc`, … (the RLIMIT_ name in lower case, without the prefix).
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

/// The resources `--ulimit` takes.
pub const ULIMIT_NAMES: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

impl Ulimit {
    /// `nofile=1024`, `nofile=1024:2048`, `core=-1` (-1 is unlimited).
    pub fn parse(s: &str) -> Result<Ulimit, String> {
        let (name, values) = s
            .split_once('=')
            .ok_or_else(|| format!("invalid ulimit argument {s:?}: use TYPE=SOFT[:HARD], e.g. nofile=1024:2048"))?;
        let name = name.trim().to_ascii_lowercase();
        if !ULIMIT_NAMES.contains(&name.as_str()) {
            return Err(format!("invalid ulimit type {name:?}: use one of {}", ULIMIT_NAMES.join(", ")));
        }
        let value = |v: &str| -> Result<u64, String> {
            match v.trim() {
                "-1" | "unlimited" => Ok(u64::MAX),
                t => {
                    t.parse().map_err(|_| format!("invalid ulimit {s:?}: {v:?} is not a number (or -1 for unlimited)"))
                }
            }
        };
        let (soft, hard) = match values.split_once(':') {
            Some((soft, hard)) => (value(soft)?, value(hard)?),
            None => (value(values)?, value(values)?),
        };
        if soft > hard {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                show(soft),
                show(hard)
            ));
        }
        Ok(Ulimit { name, soft, hard })
    }

    /// `nofile=1024:2048`, as given.
    pub fn text(&self) -> String {
        format!("{}={}:{}", self.name, show(self.soft), show(self.hard))
    }
}

fn show(v: u64) -> String {
    if v == u64::MAX {
        "-1".into()
    } else {
        v.to_string()
    }
}

/// The limits a container gets: Podman's (nofile 1048576, nproc 4194304) with `--ulimit` over
/// them, or none with `--ulimit host`.
pub fn ulimits(asked: &[Ulimit], host: bool) -> Vec<Ulimit> {
    if host {
        return Vec::new();
    }
    let mut out = vec![
        Ulimit { name: "nofile".into(), soft: 1_048_576, hard: 1_048_576 },
        Ulimit { name: "nproc".into(), soft: 4_194_304, hard: 4_194_304 },
    ];
    for u in asked {
        out.retain(|o| o.name != u.name);
        out.push(u.clone());
    }
    out
}

/// The limits asked for above what this process may set (its hard limit, without
/// CAP_SYS_RESOURCE): the container gets them lowered to that, and the user is told.
pub fn ulimit_warnings(asked: &[Ulimit]) -> Vec<String> {
    if has_sys_resource() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for u in asked {
        let Some(res) = resource(&u.name) else { continue };
        let Ok((_, hard_now)) = nix::sys::resource::getrlimit(res) else { continue };
        if u.hard > hard_now {
            out.push(format!(
                "--ulimit {}: berth may not raise the hard limit above {} (it lacks CAP_SYS_RESOURCE): the container gets {}",
                u.text(),
                show(hard_now),
                Ulimit { name: u.name.clone(), soft: u.soft.min(hard_now), hard: hard_now }.text()
            ));
        }
    }
    out
}

fn has_sys_resource() -> bool {
    const CAP_SYS_RESOURCE: u32 = 24;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("CapEff:")).and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << CAP_SYS_RESOURCE) != 0)
}

fn resource(name: &str) -> Option<nix::sys::resource::Resource> {
    use nix::sys::resource::Resource::*;
    Some(match name {
        "core" => RLIMIT_CORE,
        "cpu" => RLIMIT_CPU,
        "data" => RLIMIT_DATA,
        "fsize" => RLIMIT_FSIZE,
        "locks" => RLIMIT_LOCKS,
        "memlock" => RLIMIT_MEMLOCK,
        "msgqueue" => RLIMIT_MSGQUEUE,
        "nice" => RLIMIT_NICE,
        "nofile" => RLIMIT_NOFILE,
        "nproc" => RLIMIT_NPROC,
        "rss" => RLIMIT_RSS,
        "rtprio" => RLIMIT_RTPRIO,
        "rttime" => RLIMIT_RTTIME,
        "sigpending" => RLIMIT_SIGPENDING,
        "stack" => RLIMIT_STACK,
        _ => return None,
    })
}

/// `--sysctl KEY=VALUE`, split.
pub fn parse_sysctl(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("invalid sysctl {s:?}: use KEY=VALUE, e.g. net.ipv4.ping_group_range=0 0")),
    }
}

/// Only sysctls of a namespace the container has its own of may be set: net.* with a network
/// namespace of its own, the IPC ones (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)
/// always (every container has its own IPC namespace), kernel.domainname (its UTS namespace).
pub fn check_sysctl(key: &str, own_network: bool) -> Result<(), String> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if key.contains('/') || key.split('.').any(str::is_empty) {
        return Err(format!("invalid sysctl key {key:?}: use dotted names, e.g. net.ipv4.ip_forward"));
    }
    if key.starts_with("net.") {
        if own_network {
            return Ok(());
        }
        return Err(format!(
            "sysctl {key:?} is not allowed in the host's network namespace: leave out --network host (or container:)"
        ));
    }
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") || key == "kernel.domainname" {
        return Ok(());
    }
    Err(format!(
        "sysctl {key:?} is not allowed: it is not namespaced, so it would change the host; a container may set net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and kernel.domainname"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_read_like_podmans() {
        assert_eq!(Ulimit::parse("nofile=1024").unwrap(), Ulimit { name: "nofile".into(), soft: 1024, hard: 1024 });
        assert_eq!(Ulimit::parse("core=-1").unwrap().hard, u64::MAX);
        assert_eq!(Ulimit::parse("nproc=10:20").unwrap().text(), "nproc=10:20");
        assert!(Ulimit::parse("nofile=20:10").unwrap_err().contains("20 > 10"));
        assert!(Ulimit::parse("bogus=1").unwrap_err().contains("\"bogus\""));
        assert!(Ulimit::parse("nofile").is_err());
        assert!(Ulimit::parse("nofile=x").is_err());
        let all = ulimits(&[Ulimit::parse("nofile=5").unwrap()], false);
        assert_eq!(all.iter().map(Ulimit::text).collect::<Vec<_>>(), ["nproc=4194304:4194304", "nofile=5:5"]);
        assert!(ulimits(&[], true).is_empty());
    }

    #[test]
    fn only_namespaced_sysctls_pass() {
        assert!(check_sysctl("net.ipv4.ip_forward", true).is_ok());
        assert!(check_sysctl("net.ipv4.ip_forward", false).unwrap_err().contains("host's network"));
        assert!(check_sysctl("kernel.shmmax", false).is_ok());
        assert!(check_sysctl("kernel.msgmax", false).is_ok());
        assert!(check_sysctl("vm.swappiness", true).unwrap_err().contains("\"vm.swappiness\""));
        assert!(check_sysctl("kernel.hostname", true).is_err());
        assert!(parse_sysctl("a").is_err());
        assert_eq!(parse_sysctl("a.b=1 2").unwrap(), ("a.b".into(), "1 2".into()));
    }
}
