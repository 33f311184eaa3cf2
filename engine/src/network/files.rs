//! What a container reads to know its name and to find others: /etc/hosts, /etc/resolv.conf
//! and /etc/hostname, written into the container's directory and bind-mounted over the image's
//! (as Podman does). On a user-defined network, every member's hosts file lists every other
//! member by name, and is rewritten in place when members come and go, so a running container
//! sees the change at its next lookup.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Who the container is, for its hosts file.
pub struct HostsInput<'a> {
    pub hostname: &'a str,
    pub name: &'a str,
    /// Its address on its network; None without one (`--network none`).
    pub ip: Option<Ipv4Addr>,
    /// Its IPv6 address, on an IPv6 network.
    pub ip6: Option<Ipv6Addr>,
    /// The network's gateway: the host, as `host.containers.internal` names it.
    pub gateway: Option<Ipv4Addr>,
    pub add_hosts: &'a [(String, IpAddr)],
    /// Other containers of the network: (name, address).
    pub peers: &'a [(String, Ipv4Addr)],
    /// `--network host`: the host's own hosts file comes first.
    pub host_hosts: Option<&'a str>,
}

pub fn hosts(input: &HostsInput<'_>) -> String {
    let mut out = String::new();
    match input.host_hosts {
        Some(h) => {
            out.push_str(h);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        None => {
            out.push_str("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n");
            out.push_str("::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n");
        }
    }
    for (name, ip) in input.add_hosts {
        out.push_str(&format!("{ip}\t{name}\n"));
    }
    // the hostname, then the name, even when they are the same, as Podman writes them
    let me = format!("{} {}", input.hostname, input.name);
    match input.ip {
        Some(ip) => {
            out.push_str(&format!("{ip}\t{me}\n"));
            if let Some(ip6) = input.ip6 {
                out.push_str(&format!("{ip6}\t{me}\n"));
            }
        }
        None if input.host_hosts.is_none() => out.push_str(&format!("127.0.1.1\t{me}\n")),
        None => {}
    }
    if let Some(gw) = input.gateway {
        out.push_str(&format!("{gw}\thost.containers.internal host.berth.internal\n"));
    }
    for (name, ip) in input.peers {
        if name != input.name {
            out.push_str(&format!("{ip}\t{name}\n"));
        }
    }
    out
}

/// A resolv.conf whose only name server is `server` (a network's own), with `domain` first in
/// its search list.
pub fn with_name_server(resolv: &str, server: std::net::Ipv4Addr, domain: &str) -> String {
    let mut out = String::new();
    let mut searched = false;
    for line in resolv.lines() {
        if line.starts_with("nameserver") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("search").or_else(|| line.strip_prefix("domain")) {
            if !searched {
                out.push_str(&format!("search {domain} {}\n", rest.trim()));
                searched = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !searched {
        out.insert_str(0, &format!("search {domain}\n"));
    }
    out.push_str(&format!("nameserver {server}\n"));
    out
}

/// The container's resolv.conf: the host's, without the loopback name servers a container can't
/// reach (a host running systemd-resolved lists 127.0.0.53: its upstream list is used instead),
/// or `dns` when given; `options` (`--dns-opt`) replace the host's options. `keep_loopback` for
/// `--network host`, where loopback is the host's.
pub fn resolv_conf(
    host: &str,
    upstream: Option<&str>,
    dns: &[IpAddr],
    search: &[String],
    options: &[String],
    keep_loopback: bool,
) -> String {
    let is_loopback = |line: &str| {
        line.split_whitespace().nth(1).and_then(|a| a.parse::<IpAddr>().ok()).is_some_and(|a| a.is_loopback())
    };
    let servers = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| l.starts_with("nameserver"))
            .filter(|l| keep_loopback || !is_loopback(l))
            .map(str::to_string)
            .collect()
    };
    let mut nameservers = servers(host);
    if nameservers.is_empty() && !keep_loopback {
        if let Some(up) = upstream {
            nameservers = servers(up);
        }
    }
    if !dns.is_empty() {
        nameservers = dns.iter().map(|a| format!("nameserver {a}")).collect();
    }
    let mut out = String::new();
    for line in host.lines().map(str::trim) {
        let search_line = line.starts_with("search") || line.starts_with("domain");
        if (search_line && search.is_empty()) || (line.starts_with("options") && options.is_empty()) {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for n in nameservers {
        out.push_str(&n);
        out.push('\n');
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// Writes `text` over `path` in place (same inode), so a bind mount of it sees the new content.
pub fn rewrite(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_name_the_container_its_peers_and_the_host() {
        let add = [("db".to_string(), "10.0.0.5".parse().unwrap())];
        let peers =
            [("web".to_string(), "10.90.0.2".parse().unwrap()), ("api".to_string(), "10.90.0.3".parse().unwrap())];
        let text = hosts(&HostsInput {
            hostname: "abc123",
            name: "api",
            ip: Some("10.90.0.3".parse().unwrap()),
            ip6: None,
            gateway: Some("10.90.0.1".parse().unwrap()),
            add_hosts: &add,
            peers: &peers,
            host_hosts: None,
        });
        assert_eq!(
            text,
            "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n\
             ::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n\
             10.0.0.5\tdb\n\
             10.90.0.3\tabc123 api\n\
             10.90.0.1\thost.containers.internal host.berth.internal\n\
             10.90.0.2\tweb\n"
        );
    }

    #[test]
    fn without_a_network_the_name_is_local() {
        let text = hosts(&HostsInput {
            hostname: "box",
            name: "box",
            ip: None,
            ip6: None,
            gateway: None,
            add_hosts: &[],
            peers: &[],
            host_hosts: None,
        });
        assert!(text.ends_with("127.0.1.1\tbox box\n"), "{text}");
    }

    #[test]
    fn a_networks_own_name_server_replaces_the_others() {
        let r = with_name_server(
            "search lan\nnameserver 192.0.2.1\noptions ndots:2\n",
            "10.90.1.1".parse().unwrap(),
            "dns.berth",
        );
        assert_eq!(r, "search dns.berth lan\noptions ndots:2\nnameserver 10.90.1.1\n");
        let r = with_name_server("nameserver 192.0.2.1\n", "10.90.1.1".parse().unwrap(), "dns.berth");
        assert_eq!(r, "search dns.berth\nnameserver 10.90.1.1\n");
    }

    #[test]
    fn resolv_conf_drops_loopback_servers() {
        let host = "# generated\nsearch example.test\nnameserver 127.0.0.53\noptions edns0 trust-ad\n";
        let upstream = "nameserver 192.0.2.53\nnameserver ::1\n";
        assert_eq!(
            resolv_conf(host, Some(upstream), &[], &[], &[], false),
            "search example.test\noptions edns0 trust-ad\nnameserver 192.0.2.53\n"
        );
        assert_eq!(
            resolv_conf(host, Some(upstream), &[], &[], &[], true),
            "search example.test\noptions edns0 trust-ad\nnameserver 127.0.0.53\n"
        );
        let dns = ["10.0.0.53".parse().unwrap()];
        assert_eq!(
            resolv_conf(host, None, &dns, &["corp.test".into()], &["ndots:2".into()], false),
            "search corp.test\nnameserver 10.0.0.53\noptions ndots:2\n"
        );
    }
}
