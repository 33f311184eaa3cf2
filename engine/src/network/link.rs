//! Links and addresses: the bridge of a network, a container's veth pair, its address and
//! default route. Done with iproute2's `ip -batch` (one process per step, however many
//! commands), behind the [`HostNet`] seam so the commands are unit-tested without root.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use super::{NetworkError, NetworkRecord};

/// The host's networking tools and kernel knobs.
pub trait HostNet {
    /// Runs `program args…` with `stdin`, in the network namespace of `netns_pid` when given.
    fn run(&self, program: &str, args: &[&str], stdin: &str, netns_pid: Option<i32>) -> Result<String, String>;
    /// Whether a network interface exists.
    fn link_exists(&self, name: &str) -> bool;
    /// Writes a sysctl under /proc/sys.
    fn sysctl(&self, key: &str, value: &str) -> Result<(), String>;
}

/// The real host.
pub struct LinuxHostNet;

impl HostNet for LinuxHostNet {
    fn run(&self, program: &str, args: &[&str], stdin: &str, netns_pid: Option<i32>) -> Result<String, String> {
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let ns = match netns_pid {
            Some(pid) => Some(
                std::fs::File::open(format!("/proc/{pid}/ns/net"))
                    .map_err(|e| format!("opening the network namespace of process {pid}: {e}"))?,
            ),
            None => None,
        };
        if let Some(ns) = &ns {
            let fd = ns.as_raw_fd();
            // SAFETY: setns is async-signal-safe; the closure touches nothing but the fd.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("{program} is not installed: install it (Debian package {})", package_of(program))
            } else {
                format!("running {program}: {e}")
            }
        })?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).map_err(|e| format!("writing to {program}: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("running {program}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().replace('\n', "; "))
        }
    }

    fn link_exists(&self, name: &str) -> bool {
        std::path::Path::new("/sys/class/net").join(name).exists()
    }

    fn sysctl(&self, key: &str, value: &str) -> Result<(), String> {
        let path = std::path::Path::new("/proc/sys").join(key.replace('.', "/"));
        std::fs::write(&path, value).map_err(|e| format!("setting {key}={value}: {e}"))
    }
}

fn package_of(program: &str) -> &'static str {
    match program {
        "nft" => "nftables",
        _ => "iproute2",
    }
}

fn host_err(what: String) -> impl FnOnce(String) -> NetworkError {
    move |reason| NetworkError::Host { what, reason }
}

/// Creates the network's bridge when it is missing and makes sure the host forwards. Safe to
/// run concurrently: a bridge someone else just created is fine. Its address and state are set
/// with every container's veth ([`attach_veth`]), so a bridge taken down heals.
pub fn ensure_bridge(host: &dyn HostNet, net: &NetworkRecord) -> Result<(), NetworkError> {
    if !host.link_exists(&net.bridge) {
        let created = host.run("ip", &["link", "add", &net.bridge, "type", "bridge"], "", None);
        if let Err(reason) = created {
            if !host.link_exists(&net.bridge) {
                return Err(NetworkError::Host { what: format!("creating the bridge {}", net.bridge), reason });
            }
        }
        // Lets the NAT rules send traffic for 127.0.0.1:PORT on to the containers.
        host.sysctl(&format!("net.ipv4.conf.{}.route_localnet", net.bridge), "1")
            .map_err(host_err(format!("setting up the bridge {}", net.bridge)))?;
    }
    host.sysctl("net.ipv4.ip_forward", "1").map_err(host_err("enabling IPv4 forwarding".into()))?;
    if net.subnet6.is_some() {
        host.sysctl("net.ipv6.conf.all.forwarding", "1").map_err(host_err("enabling IPv6 forwarding".into()))?;
    }
    Ok(())
}

/// A container's end of a network: the host side `veth`, its peer `ifname` in the container
/// with `mac`, and its addresses.
pub struct Endpoint<'a> {
    pub veth: &'a str,
    pub ifname: &'a str,
    pub mac: &'a str,
    pub ip: Ipv4Addr,
    pub ip6: Option<Ipv6Addr>,
}

/// A veth pair: `veth` on the bridge (with the gateway's addresses, up), its peer `ifname`
/// (`eth0`, `eth1`, ...) with its MAC in the namespace of `pid` with its addresses (IPv6 without
/// duplicate address detection, so it is usable at once), and with `default_route` default
/// routes through the gateways. Two `ip -batch` runs: one outside, one inside.
pub fn attach_veth(
    host: &dyn HostNet,
    net: &NetworkRecord,
    end: &Endpoint<'_>,
    pid: i32,
    default_route: bool,
) -> Result<(), NetworkError> {
    let Endpoint { veth, ifname, mac, ip, ip6 } = *end;
    let mut outside = format!("addr replace {}/{} dev {}\n", net.gateway, net.prefix(), net.bridge);
    if let (Some(gw6), Some(s6)) = (net.gateway6(), net.subnet6) {
        outside.push_str(&format!("addr replace {gw6}/{} dev {} nodad\n", s6.prefix_len(), net.bridge));
    }
    outside.push_str(&format!(
        "link set {br} up\n\
         link add {veth} type veth peer name {ifname} address {mac} netns {pid}\nlink set {veth} master {br}\nlink set {veth} up\n",
        br = net.bridge
    ));
    host.run("ip", &["-batch", "-"], &outside, None)
        .map_err(host_err(format!("creating the veth pair {veth} on {}", net.bridge)))?;
    // `brd +`: the subnet's broadcast address, as netavark sets it
    let mut inside = format!("link set lo up\naddr add {ip}/{prefix} brd + dev {ifname}\n", prefix = net.prefix());
    let v6 = ip6.zip(net.subnet6).zip(net.gateway6());
    if let Some(((ip6, s6), _)) = v6 {
        inside.push_str(&format!("addr add {ip6}/{} dev {ifname} nodad\n", s6.prefix_len()));
    }
    inside.push_str(&format!("link set {ifname} up\n"));
    if default_route {
        inside.push_str(&format!("route add default via {} dev {ifname}\n", net.gateway));
        if let Some((_, gw6)) = v6 {
            inside.push_str(&format!("route add ::/0 via {gw6} dev {ifname}\n"));
        }
    }
    host.run("ip", &["-batch", "-"], &inside, Some(pid)).map_err(host_err(format!("configuring {ifname} ({ip})")))?;
    Ok(())
}

/// The interface of the network namespace of `pid` that has the address `ip`.
pub fn ifname_of(host: &dyn HostNet, pid: i32, ip: Ipv4Addr) -> Result<String, NetworkError> {
    let listing = host
        .run("ip", &["-o", "-4", "addr", "show"], "", Some(pid))
        .map_err(host_err("listing the container's addresses".into()))?;
    let want = format!("inet {ip}/");
    listing
        .lines()
        .find(|l| l.contains(&want))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .ok_or_else(|| NetworkError::Invalid(format!("the container has no interface with the address {ip}")))
}

/// Makes `ifname` in the network namespace of `pid` the way out: default routes through the
/// network's gateways (its first network left, the next one takes over).
pub fn default_routes(host: &dyn HostNet, net: &NetworkRecord, ifname: &str, pid: i32) -> Result<(), NetworkError> {
    let mut script = format!("route replace default via {} dev {ifname}\n", net.gateway);
    if let Some(gw6) = net.gateway6() {
        script.push_str(&format!("route replace ::/0 via {gw6} dev {ifname}\n"));
    }
    host.run("ip", &["-batch", "-"], &script, Some(pid)).map_err(host_err(format!("routing through {ifname}")))?;
    Ok(())
}

/// The first `ethN` not in use in the network namespace of `pid` (for `network connect`).
pub fn free_ifname(host: &dyn HostNet, pid: i32) -> Result<String, NetworkError> {
    let listing = host
        .run("ip", &["-o", "link", "show"], "", Some(pid))
        .map_err(host_err("listing the container's interfaces".into()))?;
    let used: Vec<&str> =
        listing.lines().filter_map(|l| l.split(": ").nth(1)).map(|n| n.split('@').next().unwrap_or(n)).collect();
    Ok((0..).map(|i| format!("eth{i}")).find(|n| !used.contains(&n.as_str())).expect("an unbounded range"))
}

/// Deletes a link; a link that is not there is fine.
pub fn delete_link(host: &dyn HostNet, name: &str) -> Result<(), NetworkError> {
    if !host.link_exists(name) {
        return Ok(());
    }
    match host.run("ip", &["link", "del", name], "", None) {
        Ok(_) => Ok(()),
        Err(_) if !host.link_exists(name) => Ok(()),
        Err(reason) => Err(NetworkError::Host { what: format!("deleting {name}"), reason }),
    }
}

/// A recording fake, for unit tests.
#[cfg(test)]
pub mod fake {
    use std::cell::RefCell;
    use std::collections::HashSet;

    #[derive(Default)]
    pub struct FakeHostNet {
        pub calls: RefCell<Vec<String>>,
        pub links: RefCell<HashSet<String>>,
        /// Output for `nft -j …` listings.
        pub listing: RefCell<String>,
        /// A command whose text contains this fails.
        pub fail_on: Option<String>,
    }

    impl super::HostNet for FakeHostNet {
        fn run(&self, program: &str, args: &[&str], stdin: &str, netns: Option<i32>) -> Result<String, String> {
            let ns = netns.map(|p| format!("[netns {p}] ")).unwrap_or_default();
            let line = format!(
                "{ns}{program} {}{}",
                args.join(" "),
                if stdin.is_empty() { String::new() } else { format!("\n{stdin}") }
            );
            self.calls.borrow_mut().push(line.clone());
            if self.fail_on.as_ref().is_some_and(|f| line.contains(f.as_str())) {
                return Err("operation failed".into());
            }
            if program == "ip" && args.first() == Some(&"link") && args.get(1) == Some(&"add") {
                self.links.borrow_mut().insert(args[2].to_string());
            }
            if program == "ip" && args.first() == Some(&"link") && args.get(1) == Some(&"del") {
                self.links.borrow_mut().remove(args[2]);
            }
            if program == "nft" && args.contains(&"-j") {
                return Ok(self.listing.borrow().clone());
            }
            Ok(String::new())
        }
        fn link_exists(&self, name: &str) -> bool {
            self.links.borrow().contains(name)
        }
        fn sysctl(&self, key: &str, value: &str) -> Result<(), String> {
            self.calls.borrow_mut().push(format!("sysctl {key}={value}"));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeHostNet;
    use super::*;

    fn net() -> NetworkRecord {
        let subnet: ipnet::Ipv4Net = "10.87.0.0/16".parse().unwrap();
        NetworkRecord {
            name: "berth".into(),
            id: "x".into(),
            driver: "bridge".into(),
            bridge: "berth0".into(),
            subnet,
            gateway: "10.87.0.1".parse().unwrap(),
            dns: false,
            created: chrono::Utc::now(),
            labels: Default::default(),
            internal: false,
            subnet6: None,
        }
    }

    #[test]
    fn a_missing_bridge_is_created_once_and_forwarding_is_on() {
        let host = FakeHostNet::default();
        ensure_bridge(&host, &net()).unwrap();
        let calls = host.calls.borrow();
        assert_eq!(calls[0], "ip link add berth0 type bridge");
        assert!(calls.contains(&"sysctl net.ipv4.ip_forward=1".to_string()));
        assert!(calls.contains(&"sysctl net.ipv4.conf.berth0.route_localnet=1".to_string()));
        drop(calls);
        host.calls.borrow_mut().clear();
        ensure_bridge(&host, &net()).unwrap();
        assert!(!host.calls.borrow().iter().any(|c| c.contains("type bridge")), "an existing bridge is kept");
    }

    #[test]
    fn the_veth_peer_is_configured_inside_the_namespace() {
        let host = FakeHostNet::default();
        let end = Endpoint {
            veth: "veth12345678",
            ifname: "eth0",
            mac: "02:00:00:00:00:07",
            ip: "10.87.0.7".parse().unwrap(),
            ip6: None,
        };
        attach_veth(&host, &net(), &end, 4242, true).unwrap();
        let calls = host.calls.borrow();
        assert_eq!(
            calls[0],
            "ip -batch -\naddr replace 10.87.0.1/16 dev berth0\nlink set berth0 up\n\
             link add veth12345678 type veth peer name eth0 address 02:00:00:00:00:07 netns 4242\nlink set veth12345678 master berth0\n\
             link set veth12345678 up\n"
        );
        assert_eq!(
            calls[1],
            "[netns 4242] ip -batch -\nlink set lo up\naddr add 10.87.0.7/16 brd + dev eth0\nlink set eth0 up\nroute add default via 10.87.0.1 dev eth0\n"
        );
    }

    #[test]
    fn an_ipv6_network_adds_the_ipv6_gateway_address_and_route() {
        let host = FakeHostNet::default();
        let mut n = net();
        n.subnet6 = Some("fd00:9::/64".parse().unwrap());
        ensure_bridge(&host, &n).unwrap();
        assert!(host.calls.borrow().contains(&"sysctl net.ipv6.conf.all.forwarding=1".to_string()));
        let end = Endpoint {
            veth: "vethab",
            ifname: "eth1",
            mac: "02:00:00:00:00:03",
            ip: "10.87.0.3".parse().unwrap(),
            ip6: Some("fd00:9::2".parse().unwrap()),
        };
        attach_veth(&host, &n, &end, 7, true).unwrap();
        let calls = host.calls.borrow();
        assert!(calls[calls.len() - 2].contains("addr replace fd00:9::1/64 dev berth0 nodad\n"), "{calls:?}");
        assert_eq!(
            calls[calls.len() - 1],
            "[netns 7] ip -batch -\nlink set lo up\naddr add 10.87.0.3/16 brd + dev eth1\naddr add fd00:9::2/64 dev eth1 nodad\n\
             link set eth1 up\nroute add default via 10.87.0.1 dev eth1\nroute add ::/0 via fd00:9::1 dev eth1\n"
        );
    }

    #[test]
    fn deleting_a_missing_link_is_fine_and_a_failure_names_the_link() {
        let host = FakeHostNet::default();
        delete_link(&host, "vethgone").unwrap();
        assert!(host.calls.borrow().is_empty());
        let host = FakeHostNet { fail_on: Some("link add".into()), ..Default::default() };
        let end = Endpoint {
            veth: "vethabc",
            ifname: "eth0",
            mac: "02:00:00:00:00:02",
            ip: "10.87.0.2".parse().unwrap(),
            ip6: None,
        };
        let e = attach_veth(&host, &net(), &end, 1, true).unwrap_err();
        assert!(e.to_string().starts_with("creating the veth pair vethabc on berth0: "), "{e}");
    }
}
