//! `berth top`: the processes of a running container, read from its cgroup and /proc, with
//! pids as the container sees them and users from its own /etc/passwd.

use std::collections::HashMap;

use crate::container::in_root;
use crate::container::user::ACCOUNTS_CAP;
use crate::rootless::cgroup_parent;
use crate::runtime::cgroup::ContainerCgroup;
use crate::{Engine, Error, Result};

/// One process, as `top` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessRow {
    pub user: String,
    /// The user and group on the host (rootless: a sub-id), as numbers.
    pub host_uid: u32,
    pub host_gid: u32,
    /// The group in the container (its name from the container's /etc/group, else the number).
    pub group: String,
    /// In the container's pid namespace.
    pub pid: i64,
    /// On the host.
    pub host_pid: i64,
    /// The executable's name (`comm`).
    pub comm: String,
    /// `R`, `S`, `D`, `Z`, …
    pub state: String,
    pub nice: i64,
    /// Virtual memory, KiB.
    pub vsz_kib: u64,
    pub ppid: i64,
    pub cpu_percent: f64,
    /// Seconds since it started.
    pub elapsed: f64,
    pub tty: String,
    /// CPU seconds used.
    pub cpu_time: f64,
    pub command: String,
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// The container-namespace pid of a host pid (the last NSpid field).
fn ns_pid(status: &str) -> Option<i64> {
    status.lines().find_map(|l| l.strip_prefix("NSpid:")).and_then(|v| v.split_whitespace().last()?.parse().ok())
}

fn tty_name(nr: i64) -> String {
    if nr == 0 {
        return "?".into();
    }
    let (major, minor) = ((nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00));
    match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 => format!("tty{minor}"),
        _ => "?".into(),
    }
}

impl Engine {
    /// The processes of a running container, by pid.
    pub fn container_top(&self, query: &str) -> Result<Vec<ProcessRow>> {
        let c = self.container(query)?;
        let init = c.pid.filter(|_| c.is_running()).ok_or_else(|| {
            Error::StateImproper(format!(
                "top can only be used on running containers: {} is {}",
                c.name,
                c.status.as_str()
            ))
        })?;
        // Rootless containers may have no cgroup: their processes are their pid namespace's.
        let mut pids = match ContainerCgroup::load(cgroup_parent(), &c.id) {
            Ok(cg) => cg.procs(),
            Err(_) if crate::rootless::is_rootless() => namespace_pids(init),
            Err(e) => return Err(Error::StateImproper(format!("reading the processes of {}: {e}", c.name))),
        };
        // Names from the container's own /etc/passwd, read through its root; without one (or
        // with a device, a FIFO or a huge file there) the ids are shown as numbers.
        let names = |file: &str| -> HashMap<u32, String> {
            let text = in_root::read(init, file, ACCOUNTS_CAP, file).ok().flatten();
            String::from_utf8_lossy(text.as_deref().unwrap_or_default())
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split(':').collect();
                    Some((f.get(2)?.parse().ok()?, f[0].to_string()))
                })
                .collect()
        };
        let users = names("/etc/passwd");
        let groups = names("/etc/group");
        let gid_map = std::fs::read_to_string(format!("/proc/{init}/gid_map")).unwrap_or_default();
        let (ticks, now) = (clock_ticks(), uptime());
        let uid_map = std::fs::read_to_string(format!("/proc/{init}/uid_map")).unwrap_or_default();
        let mut host_to_ns = HashMap::new();
        let mut rows = Vec::new();
        pids.sort_unstable();
        for pid in pids {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
            let Some(close) = stat.rfind(')') else { continue };
            let f: Vec<&str> = stat[close + 2..].split(' ').collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            // Fields after the command: state(0) ppid(1) … tty_nr(4) … utime(11) stime(12) … starttime(19)
            let cpu_time = (num(11) + num(12)) / ticks;
            let elapsed = (now - num(19) / ticks).max(0.0);
            let host_uid: u32 = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0);
            let host_gid: u32 = status
                .lines()
                .find_map(|l| l.strip_prefix("Gid:"))
                .and_then(|v| v.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0);
            // Rootless, the host's ids are the user's and sub-ids: the container's are mapped.
            let uid = inside_id(&uid_map, host_uid).unwrap_or(host_uid);
            let gid = inside_id(&gid_map, host_gid).unwrap_or(host_gid);
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let command = String::from_utf8_lossy(&cmdline).trim_end_matches('\0').replace('\0', " ");
            let command = if command.is_empty() {
                format!("[{}]", &stat[stat.find('(').map_or(0, |i| i + 1)..close])
            } else {
                command
            };
            let nspid = ns_pid(&status).unwrap_or(pid as i64);
            host_to_ns.insert(pid as i64, nspid);
            rows.push((
                num(1) as i64,
                ProcessRow {
                    user: users.get(&uid).cloned().unwrap_or_else(|| uid.to_string()),
                    host_uid,
                    host_gid,
                    group: groups.get(&gid).cloned().unwrap_or_else(|| gid.to_string()),
                    pid: nspid,
                    host_pid: pid as i64,
                    comm: stat[stat.find('(').map_or(0, |i| i + 1)..close].to_string(),
                    state: f.first().map_or_else(String::new, |s| s.to_string()),
                    nice: num(16) as i64,
                    vsz_kib: (num(20) as u64) / 1024,
                    ppid: 0,
                    cpu_percent: if elapsed > 0.0 { cpu_time * 100.0 / elapsed } else { 0.0 },
                    elapsed,
                    tty: tty_name(num(4) as i64),
                    cpu_time,
                    command,
                },
            ));
        }
        Ok(rows
            .into_iter()
            .map(|(host_ppid, mut r)| {
                r.ppid = host_to_ns.get(&host_ppid).copied().unwrap_or(0);
                r
            })
            .collect())
    }
}

/// The processes in the pid namespace of `init` (for containers without a cgroup).
pub(crate) fn namespace_pids(init: i32) -> Vec<u32> {
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let Some(target) = ns(&init.to_string()) else { return Vec::new() };
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
                .filter(|pid| ns(&pid.to_string()).as_ref() == Some(&target))
                .collect()
        })
        .unwrap_or_default()
}

/// CPU time (ns), resident memory (bytes) and count of `pids`, from /proc: a container's usage
/// when it has no cgroup.
pub(crate) fn process_usage(pids: &[u32]) -> (u64, u64, u64) {
    let page = {
        // SAFETY: sysconf has no preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 {
            p as u64
        } else {
            4096
        }
    };
    let ticks = clock_ticks();
    let (mut cpu, mut rss, mut n) = (0f64, 0u64, 0u64);
    for pid in pids {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        let f: Vec<&str> = stat[close + 2..].split(' ').collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        cpu += (num(11) + num(12)) / ticks;
        rss += num(21) as u64 * page;
        n += 1;
    }
    ((cpu * 1e9) as u64, rss, n)
}

/// The id inside a user namespace of host id `id`, from the namespace's `uid_map`.
fn inside_id(map: &str, id: u32) -> Option<u32> {
    map.lines().find_map(|l| {
        let f: Vec<u64> = l.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        let (inside, outside, count) = (*f.first()?, *f.get(1)?, *f.get(2)?);
        let id = id as u64;
        (id >= outside && id - outside < count).then(|| (inside + id - outside) as u32)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_ids_map_back_into_the_container() {
        let map = "         0       1001          1\n         1     100000      65536\n";
        assert_eq!(super::inside_id(map, 1001), Some(0));
        assert_eq!(super::inside_id(map, 100999), Some(1000));
        assert_eq!(super::inside_id(map, 5), None);
        assert_eq!(super::inside_id("0 0 4294967295\n", 33), Some(33));
    }

    #[test]
    fn terminals_and_namespace_pids() {
        assert_eq!(super::tty_name(0), "?");
        assert_eq!(super::tty_name((136 << 8) | 3), "pts/3");
        assert_eq!(super::ns_pid("Name:\tsh\nNSpid:\t4242\t7\n"), Some(7));
    }
}
