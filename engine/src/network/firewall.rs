//! Outbound NAT and published ports, in an nftables table of Berth's own (`ip berth`).
//!
//! nftables rather than iptables: Debian (since 10) and every current distribution run
//! iptables itself on nftables, a table of our own never touches anyone else's rules, and one
//! `nft -f` script is applied atomically, so a failed start leaves no half rule set.
//!
//! ```text
//! table ip berth
//!   set subnets       every network's subnet
//!   chain postrouting nat:   ip saddr @subnets ip daddr != @subnets masquerade   (outbound NAT)
//!                            ip saddr 127.0.0.0/8 ip daddr @subnets masquerade    (127.0.0.1:PORT)
//!   chain prerouting  nat:   fib daddr type local jump published                  (from outside)
//!   chain output      nat:   fib daddr type local jump published                  (from this host)
//!   chain published          one DNAT rule per published port, commented "berth:ID"
//!   set internal      the subnets of `--internal` networks (not in `subnets`: no NAT out)
//!   chain forward filter:    ip saddr @internal ip daddr != @internal drop             (no way out)
//!                            ip daddr @internal ip saddr != @internal drop             (nor in)
//! ```
//!
//! An IPv6 network (`--ipv6`) adds the same NAT out and `--internal` drops for its IPv6 subnet,
//! in a table `ip6 berth` of the same shape (published ports stay IPv4, as on Podman's
//! default setup).
//!
//! The base chains are flushed and refilled by every start, in the same transaction as the
//! container's rules: a flushed ruleset heals itself. A container's rules go by their comment.

use std::net::Ipv4Addr;

use super::link::HostNet;
use super::{NetworkError, NetworkRecord, PortMapping, Protocol};

const TABLE: &str = "ip berth";
const TABLE6: &str = "ip6 berth";

/// What both families' tables hold: the sets, the forward filter of `--internal` networks,
/// NAT out of the subnets, and the network's subnet in the set it belongs to. `family` is
/// nft's (`ip`, `ip6`).
fn nat_out(family: &str, subnet: &str, internal: bool) -> String {
    let table = format!("{family} berth");
    let addr = if family == "ip6" { "ipv6_addr" } else { "ipv4_addr" };
    format!(
        "add table {table}
add set {table} subnets {{ type {addr}; flags interval; }}
add set {table} internal {{ type {addr}; flags interval; }}
add chain {table} forward {{ type filter hook forward priority filter; policy accept; }}
flush chain {table} forward
add rule {table} forward {family} saddr @internal {family} daddr != @internal drop
add rule {table} forward {family} daddr @internal {family} saddr != @internal drop
add chain {table} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}
flush chain {table} postrouting
add rule {table} postrouting {family} saddr @subnets {family} daddr != @subnets masquerade
add element {table} {set} {{ {subnet} }}
",
        set = if internal { "internal" } else { "subnets" },
    )
}

fn base(net: &NetworkRecord) -> String {
    let mut script = nat_out("ip", &net.subnet.to_string(), net.internal);
    // published ports (IPv4 only) and NAT of 127.0.0.1:PORT to the containers
    script.push_str(&format!(
        "add chain {TABLE} prerouting {{ type nat hook prerouting priority dstnat; policy accept; }}
add chain {TABLE} output {{ type nat hook output priority -100; policy accept; }}
add chain {TABLE} published
flush chain {TABLE} prerouting
flush chain {TABLE} output
add rule {TABLE} prerouting fib daddr type local jump published
add rule {TABLE} output fib daddr type local jump published
add rule {TABLE} postrouting ip saddr 127.0.0.0/8 ip daddr @subnets masquerade
"
    ));
    if let Some(subnet6) = net.subnet6 {
        script.push_str(&nat_out("ip6", &subnet6.to_string(), net.internal));
    }
    script
}

fn comment(container_id: &str) -> String {
    format!("berth:{container_id}")
}

/// The DNAT rule of one published port.
fn port_rule(container_id: &str, ip: Ipv4Addr, p: &PortMapping) -> String {
    let proto = match p.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    let daddr = p.host_ip.map(|a| format!("ip daddr {a} ")).unwrap_or_default();
    format!(
        "add rule {TABLE} published {daddr}{proto} dport {} dnat to {ip}:{} comment \"{}\"\n",
        p.host_port,
        p.container_port,
        comment(container_id)
    )
}

/// The script `add_container` applies; public for its tests.
pub fn container_script(net: &NetworkRecord, container_id: &str, ip: Ipv4Addr, ports: &[PortMapping]) -> String {
    let mut script = base(net);
    for p in ports {
        script.push_str(&port_rule(container_id, ip, p));
    }
    script
}

/// NAT for the network, and the container's published ports, in one transaction.
pub fn add_container(
    host: &dyn HostNet,
    net: &NetworkRecord,
    container_id: &str,
    ip: Ipv4Addr,
    ports: &[PortMapping],
) -> Result<(), NetworkError> {
    host.run("nft", &["-f", "-"], &container_script(net, container_id, ip, ports), None)
        .map(drop)
        .map_err(|reason| NetworkError::Host { what: "adding the NAT rules".into(), reason })
}

/// The handles of a container's rules in an `nft -j -a list chain` listing.
fn handles_of(listing: &str, container_id: &str) -> Vec<u64> {
    let want = comment(container_id);
    let Ok(v) = serde_json::from_str::<serde_json::Value>(listing) else { return Vec::new() };
    v["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("rule"))
        .filter(|rule| rule["comment"].as_str() == Some(want.as_str()))
        .filter_map(|rule| rule["handle"].as_u64())
        .collect()
}

/// Removes a container's rules. Idempotent: no table, no rules, nothing to do.
pub fn remove_container(host: &dyn HostNet, container_id: &str) -> Result<(), NetworkError> {
    let listing = match host.run("nft", &["-j", "-a", "list", "chain", "ip", "berth", "published"], "", None) {
        Ok(l) => l,
        Err(_) => return Ok(()), // no table or chain: no rules
    };
    let handles = handles_of(&listing, container_id);
    if handles.is_empty() {
        return Ok(());
    }
    let script: String = handles.iter().map(|h| format!("delete rule {TABLE} published handle {h}\n")).collect();
    host.run("nft", &["-f", "-"], &script, None).map(drop).map_err(|reason| NetworkError::Host {
        what: format!("removing the NAT rules of {}", &container_id[..12.min(container_id.len())]),
        reason,
    })
}

/// Forgets a removed network's subnet.
pub fn remove_network(host: &dyn HostNet, net: &NetworkRecord) -> Result<(), NetworkError> {
    let set = if net.internal { "internal" } else { "subnets" };
    let mut scripts = vec![format!("delete element {TABLE} {set} {{ {} }}\n", net.subnet)];
    if let Some(subnet6) = net.subnet6 {
        scripts.push(format!("delete element {TABLE6} {set} {{ {subnet6} }}\n"));
    }
    for script in scripts {
        match host.run("nft", &["-f", "-"], &script, None) {
            Ok(_) => {}
            Err(reason) if reason.contains("No such file") || reason.contains("does not exist") => {}
            Err(reason) => {
                return Err(NetworkError::Host { what: format!("removing the NAT of network {}", net.name), reason })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::link::fake::FakeHostNet;
    use super::*;

    fn net() -> NetworkRecord {
        NetworkRecord {
            name: "berth".into(),
            id: "x".into(),
            driver: "bridge".into(),
            bridge: "berth0".into(),
            subnet: "10.87.0.0/16".parse().unwrap(),
            gateway: "10.87.0.1".parse().unwrap(),
            dns: false,
            created: chrono::Utc::now(),
            labels: Default::default(),
            internal: false,
            subnet6: None,
        }
    }

    #[test]
    fn published_ports_become_dnat_rules_named_after_the_container() {
        let ports = [
            PortMapping { host_ip: None, host_port: 8080, container_port: 80, protocol: Protocol::Tcp },
            PortMapping {
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 5353,
                container_port: 53,
                protocol: Protocol::Udp,
            },
        ];
        let s = container_script(&net(), "abc", "10.87.0.2".parse().unwrap(), &ports);
        assert!(s.contains("add element ip berth subnets { 10.87.0.0/16 }"), "{s}");
        assert!(s.contains("flush chain ip berth postrouting\n"), "{s}");
        assert!(s.ends_with(
            "add rule ip berth published tcp dport 8080 dnat to 10.87.0.2:80 comment \"berth:abc\"\n\
             add rule ip berth published ip daddr 127.0.0.1 udp dport 5353 dnat to 10.87.0.2:53 comment \"berth:abc\"\n"
        ), "{s}");
        assert!(!s.contains("flush chain ip berth published"), "published rules of others survive");
    }

    #[test]
    fn an_ipv6_network_gets_nat_out_in_the_ip6_table() {
        let mut n = net();
        assert!(!container_script(&n, "abc", "10.87.0.2".parse().unwrap(), &[]).contains("ip6"));
        n.subnet6 = Some("fd00:9::/64".parse().unwrap());
        let s = container_script(&n, "abc", "10.87.0.2".parse().unwrap(), &[]);
        assert!(
            s.contains("add rule ip6 berth postrouting ip6 saddr @subnets ip6 daddr != @subnets masquerade\n"),
            "{s}"
        );
        assert!(s.contains("add element ip6 berth subnets { fd00:9::/64 }"), "{s}");
        n.internal = true;
        let s = container_script(&n, "abc", "10.87.0.2".parse().unwrap(), &[]);
        assert!(s.contains("add element ip6 berth internal { fd00:9::/64 }"), "{s}");
        let host = FakeHostNet::default();
        remove_network(&host, &n).unwrap();
        assert_eq!(
            host.calls.borrow().last().unwrap(),
            "nft -f -\ndelete element ip6 berth internal { fd00:9::/64 }\n"
        );
    }

    #[test]
    fn rules_are_removed_by_their_comment_only() {
        let host = FakeHostNet::default();
        *host.listing.borrow_mut() = serde_json::json!({"nftables": [
            {"metainfo": {"version": "1.0.6"}},
            {"chain": {"family": "ip", "table": "berth", "name": "published", "handle": 5}},
            {"rule": {"family": "ip", "table": "berth", "chain": "published", "handle": 7, "comment": "berth:abc"}},
            {"rule": {"family": "ip", "table": "berth", "chain": "published", "handle": 8, "comment": "berth:other"}},
            {"rule": {"family": "ip", "table": "berth", "chain": "published", "handle": 9, "comment": "berth:abc"}}
        ]})
        .to_string();
        remove_container(&host, "abc").unwrap();
        let calls = host.calls.borrow();
        assert_eq!(
            calls.last().unwrap(),
            "nft -f -\ndelete rule ip berth published handle 7\ndelete rule ip berth published handle 9\n"
        );
    }

    #[test]
    fn nothing_to_remove_runs_nothing_more() {
        let host = FakeHostNet::default();
        *host.listing.borrow_mut() = r#"{"nftables": []}"#.into();
        remove_container(&host, "abc").unwrap();
        assert_eq!(host.calls.borrow().len(), 1);
    }
}
