//! Network verbs on `Engine` (`network create/ls/inspect/rm`), and the network side of a
//! container's life: its network and ports chosen at `create`, its files written, its address
//! released at removal.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

use ipnet::{Ipv4Net, Ipv6Net};
use oci_spec::image::ImageConfiguration;

use crate::container::{ContainerPaths, ContainerRecord, CreateOptions};
use crate::network::{self, files, link, Mode, NetworkError, NetworkRecord, PortMapping};
use crate::{Engine, Result};

/// What `network create` takes.
#[derive(Clone, Debug, Default)]
pub struct NetworkCreate {
    pub subnet: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub labels: BTreeMap<String, String>,
    /// `--internal`: no way out of the network.
    pub internal: bool,
    /// `--ipv6`: members get IPv6 addresses too, from `subnet6` or a /64 of the pool.
    pub ipv6: bool,
    /// An IPv6 `--subnet` (implies `ipv6`).
    pub subnet6: Option<Ipv6Net>,
}

/// The host's IPv6 routes (destination networks, the default route left out).
fn host_routes6() -> Vec<Ipv6Net> {
    let Ok(text) = std::fs::read_to_string("/proc/net/ipv6_route") else { return Vec::new() };
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u128::from_str_radix(f.first()?, 16).ok()?;
            let len = u8::from_str_radix(f.get(1)?, 16).ok()?;
            // the default route, and host routes of the host's own addresses, overlap nothing new
            (len > 0 && len < 128).then(|| Ipv6Net::new(std::net::Ipv6Addr::from(dest), len).ok()).flatten()
        })
        .filter(|n| !n.network().is_unicast_link_local() && !n.network().is_multicast())
        .collect()
}

fn overlaps6(a: &Ipv6Net, b: &Ipv6Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The host's routes (destination networks), to keep new subnets clear of them.
fn host_routes() -> Vec<Ipv4Net> {
    let Ok(text) = std::fs::read_to_string("/proc/net/route") else { return Vec::new() };
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            if mask == 0 {
                return None; // the default route overlaps everything
            }
            Ipv4Net::with_netmask(Ipv4Addr::from(u32::from_be(dest)), Ipv4Addr::from(u32::from_be(mask))).ok()
        })
        .collect()
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

impl Engine {
    fn host_net(&self) -> link::LinuxHostNet {
        link::LinuxHostNet
    }

    /// Every network, the default one included.
    pub fn networks(&self) -> Result<Vec<NetworkRecord>> {
        let config = self.config().network.clone();
        self.state().write(|tx| network::ensure_default(tx, &config))?;
        Ok(network::list(self.state().conn())?)
    }

    /// A network by name or id (`bridge` names the default network).
    pub fn network(&self, query: &str) -> Result<NetworkRecord> {
        let query = if query == "bridge" { network::DEFAULT_NETWORK } else { query };
        if query == network::DEFAULT_NETWORK {
            let config = self.config().network.clone();
            return Ok(self.state().write(|tx| network::ensure_default(tx, &config))?);
        }
        Ok(network::get(self.state().conn(), query)?.ok_or_else(|| NetworkError::NotFound(query.into()))?)
    }

    /// `berth network create`: a bridge network whose containers find each other by name.
    pub fn create_network(&self, name: &str, opts: NetworkCreate) -> Result<NetworkRecord> {
        if crate::rootless::is_rootless() {
            return Err(NetworkError::Invalid(format!(
                "network create {name}: rootless Berth can't make bridge networks (a regular user can't create bridges or NAT rules); rootless containers use pasta"
            ))
            .into());
        }
        if !network::valid_name(name) {
            return Err(NetworkError::BadName(name.into()).into());
        }
        if ["bridge", "host", "none", "default", network::DEFAULT_NETWORK].contains(&name) {
            return Err(NetworkError::Reserved(name.into()).into());
        }
        let config = self.config().network.clone();
        let routes = host_routes();
        let routes6 = if opts.ipv6 || opts.subnet6.is_some() { host_routes6() } else { Vec::new() };
        let net = self.state().write(|tx| -> Result<NetworkRecord> {
            network::ensure_default(tx, &config)?;
            let existing = network::list(tx)?;
            if existing.iter().any(|n| n.name == name) {
                return Err(NetworkError::Exists(name.into()).into());
            }
            let clash = |s: &Ipv4Net| -> Option<String> {
                existing
                    .iter()
                    .find(|n| overlaps(&n.subnet, s))
                    .map(|n| format!("network {}'s {}", n.name, n.subnet))
                    .or_else(|| routes.iter().find(|r| overlaps(r, s)).map(|r| format!("the host's route to {r}")))
            };
            let subnet = match opts.subnet {
                Some(s) => {
                    let s = s.trunc();
                    if s.prefix_len() > 30 {
                        return Err(NetworkError::Invalid(format!(
                            "subnet {s} is too small: use a prefix of /30 or shorter"
                        ))
                        .into());
                    }
                    if let Some(other) = clash(&s) {
                        return Err(NetworkError::Overlap { subnet: s, other }.into());
                    }
                    s
                }
                None => config
                    .subnet_pool
                    .subnets(24.max(config.subnet_pool.prefix_len()))
                    .map_err(|e| NetworkError::Invalid(format!("subnet_pool {}: {e}", config.subnet_pool)))?
                    .find(|s| clash(s).is_none())
                    .ok_or_else(|| {
                        NetworkError::Invalid(format!(
                            "no free subnet left in the pool {}: give one with --subnet",
                            config.subnet_pool
                        ))
                    })?,
            };
            let gateway = opts.gateway.unwrap_or_else(|| network::first_host(&subnet));
            if !subnet.contains(&gateway) || gateway == subnet.network() || gateway == subnet.broadcast() {
                return Err(
                    NetworkError::Invalid(format!("gateway {gateway} is not a host address of {subnet}")).into()
                );
            }
            let clash6 = |s: &Ipv6Net| -> Option<String> {
                existing
                    .iter()
                    .filter_map(|n| n.subnet6.map(|s6| (n, s6)))
                    .find(|(_, s6)| overlaps6(s6, s))
                    .map(|(n, s6)| format!("network {}'s {s6}", n.name))
                    .or_else(|| routes6.iter().find(|r| overlaps6(r, s)).map(|r| format!("the host's route to {r}")))
            };
            let subnet6 = match (opts.subnet6, opts.ipv6) {
                (Some(s), _) => {
                    let s = s.trunc();
                    if s.prefix_len() > 120 {
                        return Err(NetworkError::Invalid(format!(
                            "subnet {s} is too small: use an IPv6 prefix of /120 or shorter (/64 is usual)"
                        ))
                        .into());
                    }
                    if let Some(other) = clash6(&s) {
                        return Err(NetworkError::Invalid(format!(
                            "subnet {s} overlaps {other}: choose another --subnet"
                        ))
                        .into());
                    }
                    Some(s)
                }
                (None, true) => Some(
                    config
                        .subnet6_pool
                        .subnets(64.max(config.subnet6_pool.prefix_len()))
                        .map_err(|e| NetworkError::Invalid(format!("subnet6_pool {}: {e}", config.subnet6_pool)))?
                        .take(65536)
                        .find(|s| clash6(s).is_none())
                        .ok_or_else(|| {
                            NetworkError::Invalid(format!(
                                "no free IPv6 subnet left in the pool {}: give one with --subnet",
                                config.subnet6_pool
                            ))
                        })?,
                ),
                (None, false) => None,
            };
            let bridges: HashSet<String> = existing.iter().map(|n| n.bridge.clone()).collect();
            let bridge = (1..)
                .map(|i| format!("{}{i}", config.bridge_prefix))
                .find(|b| !bridges.contains(b) && !std::path::Path::new("/sys/class/net").join(b).exists())
                .expect("an unbounded range has a free name");
            let net = NetworkRecord {
                name: name.into(),
                id: network::network_id(name),
                driver: "bridge".into(),
                bridge,
                subnet,
                gateway,
                dns: true,
                created: chrono::Utc::now(),
                labels: opts.labels.clone(),
                internal: opts.internal,
                subnet6,
            };
            network::insert(tx, &net)?;
            Ok(net)
        })?;
        self.events().state("network", "create", &net.id, Some(&net.name));
        Ok(net)
    }

    /// `berth network rm`: refuses while containers use it, unless `force` removes them first.
    /// `network prune`: removes every network but the default that no container is a member
    /// of, and returns their names.
    pub fn prune_networks(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for net in self.networks()? {
            if net.name == network::DEFAULT_NETWORK || !network::members(self.state().conn(), &net.name)?.is_empty() {
                continue;
            }
            match self.remove_network(&net.name, false) {
                Ok(n) => removed.push(n.name),
                // a container joined it, or another prune removed it, meanwhile
                Err(crate::Error::Network(NetworkError::InUse { .. } | NetworkError::NotFound(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// Stops every running container on a network, each given `timeout` before it is killed
    /// (`network rm -f -t`); a network that is not there has none.
    pub fn stop_network_members(&self, query: &str, timeout: std::time::Duration) -> Result<()> {
        let Ok(net) = self.network(query) else { return Ok(()) };
        let members = network::members(self.state().conn(), &net.name)?;
        for (id, _, _) in &members {
            if self.container(id)?.is_running() {
                self.stop_container(id, timeout)?;
            }
        }
        Ok(())
    }

    pub fn remove_network(&self, query: &str, force: bool) -> Result<NetworkRecord> {
        let net = self.network(query)?;
        if net.name == network::DEFAULT_NETWORK {
            return Err(NetworkError::Invalid(format!(
                "default network {} cannot be removed",
                network::DEFAULT_NETWORK
            ))
            .into());
        }
        let members = network::members(self.state().conn(), &net.name)?;
        if !members.is_empty() {
            if !force {
                let names: Vec<&str> = members.iter().map(|m| m.1.as_str()).collect();
                return Err(NetworkError::InUse { name: net.name.clone(), containers: names.join(", ") }.into());
            }
            for (id, _, _) in &members {
                self.remove_container(id, true)?;
            }
        }
        self.state().write(|tx| network::delete(tx, &net.name))?;
        let host = self.host_net();
        let bridge = link::delete_link(&host, &net.bridge);
        let nat = network::firewall::remove_network(&host, &net);
        self.events().state("network", "remove", &net.id, Some(&net.name));
        bridge.and(nat)?;
        Ok(net)
    }

    /// The network of a new container and its published ports, checked and resolved before
    /// anything exists: `-P` expanded, free host ports chosen. A host port in use is found at
    /// start, as Podman and Docker find it: the container exists, its start fails (exit 126).
    pub(crate) fn plan_network(&self, image: &ImageConfiguration, opts: &mut CreateOptions) -> Result<Mode> {
        let mut mode = Mode::check(opts)?;
        if let Some(mac) = opts.mac_address.clone() {
            opts.mac_address = Some(network::parse_mac(&mac)?);
            if !matches!(mode, Mode::Bridge(_)) {
                return Err(NetworkError::Invalid(format!(
                    "--mac-address {mac}: a MAC is set on a bridge network's interface; this container has --network {}",
                    opts.network.as_deref().unwrap_or("none")
                ))
                .into());
            }
        }
        if let Mode::Container(other) = &mode {
            // its network is another container's: named by its full id from now on
            let other = self.container(other)?;
            opts.network = Some(format!("container:{}", other.id));
            mode = Mode::Container(other.id);
        }
        if !opts.networks.is_empty() {
            let Mode::Bridge(first) = &mode else {
                return Err(NetworkError::Invalid(format!(
                    "--network {}: a container joins more than one network only when they are all bridge networks",
                    opts.networks[0]
                ))
                .into());
            };
            let first = self.network(first)?.name;
            let mut seen = vec![first];
            for n in opts.networks.iter_mut() {
                let net = self.network(n)?;
                if seen.contains(&net.name) {
                    return Err(NetworkError::Invalid(format!(
                        "--network {n}: it is given twice: give each network once"
                    ))
                    .into());
                }
                *n = net.name.clone();
                seen.push(net.name);
            }
        }
        if let Mode::Bridge(name) = &mode {
            if crate::rootless::is_rootless() {
                return Err(NetworkError::Invalid(format!(
                    "--network {name}: rootless containers can't join bridge networks (a regular user can't make bridges or NAT rules); use the default (pasta), host or none"
                ))
                .into());
            }
            let net = self.network(name)?;
            if let (Some(alias), false) = (opts.network_aliases.first(), net.dns) {
                return Err(NetworkError::Invalid(format!(
                    "--network-alias {alias}: network {name} resolves no names (the default network doesn't); create one that does (berth network create NAME) and use --network NAME"
                ))
                .into());
            }
        } else if let Some(alias) = opts.network_aliases.first() {
            return Err(NetworkError::Invalid(format!(
                "--network-alias {alias}: aliases are names on a bridge network; this container has --network {}",
                opts.network.as_deref().unwrap_or("none")
            ))
            .into());
        }
        for alias in &opts.network_aliases {
            if !crate::container::names::valid(alias) {
                return Err(NetworkError::Invalid(format!(
                    "--network-alias \"{alias}\": an alias must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
                ))
                .into());
            }
        }
        if opts.publish_all {
            let exposed = image.config().as_ref().and_then(|c| c.exposed_ports().clone()).unwrap_or_default();
            for key in exposed {
                if let Some((port, protocol)) = network::ports::parse_exposed(&key) {
                    if !opts.ports.iter().any(|p| p.container_port == port && p.protocol == protocol) {
                        opts.ports.push(PortMapping { host_ip: None, host_port: 0, container_port: port, protocol });
                    }
                }
            }
        }
        if opts.ports.is_empty() {
            return Ok(mode);
        }
        if !matches!(mode, Mode::Bridge(_) | Mode::Pasta | Mode::Slirp4netns(_)) {
            let which = opts.network.as_deref().unwrap_or_default();
            return Err(NetworkError::Invalid(format!(
                "--publish can't be used with --network {which}: ports are published from bridge networks only"
            ))
            .into());
        }
        if crate::rootless::is_rootless() {
            let first = network::ports::unprivileged_port_start();
            if let Some(p) = opts.ports.iter().find(|p| p.host_port != 0 && p.host_port < first) {
                return Err(NetworkError::Invalid(format!(
                    "host port {}: a regular user can publish ports from {first} up only (sysctl net.ipv4.ip_unprivileged_port_start); use a higher host port, e.g. -p {}:{}",
                    p.host_port,
                    p.host_port as u32 + 8000,
                    p.container_port
                ))
                .into());
            }
        }
        let mut seen = HashSet::new();
        let mut chosen: Vec<u16> = Vec::new();
        for p in opts.ports.iter_mut() {
            if p.host_port == 0 {
                p.host_port = network::ports::free_port(p.host_ip, p.protocol, None, &chosen).map_err(|e| {
                    NetworkError::Invalid(format!("choosing a host port for {}: {e}", p.container_port))
                })?;
            }
            if !seen.insert((p.host_port, p.protocol)) {
                return Err(NetworkError::Invalid(format!(
                    "host port {}/{} is published twice: give each mapping its own host port",
                    p.host_port, p.protocol
                ))
                .into());
            }
            chosen.push(p.host_port);
        }
        Ok(mode)
    }

    /// Writes a container's hosts, resolv.conf and hostname files.
    pub(crate) fn write_network_files(&self, c: &ContainerRecord, hostname: &str) -> Result<()> {
        let state = self.state();
        self.write_network_files_with(state.conn(), c, hostname)
    }

    /// [`Engine::write_network_files`] reading the records through `conn` (a transaction that
    /// has not committed yet, so that a container's row and its files come into being at once).
    pub(crate) fn write_network_files_with(
        &self,
        conn: &rusqlite::Connection,
        c: &ContainerRecord,
        hostname: &str,
    ) -> Result<()> {
        let paths = ContainerPaths::new(&self.config().root, &c.id);
        let mode = Mode::of(&c.options);
        let addresses = network::addresses_of(conn, &c.id)?;
        let address = addresses.first().cloned();
        let mut nets = Vec::new();
        for a in &addresses {
            if let Some(n) = network::get(conn, &a.network)? {
                nets.push(n);
            }
        }
        let net = nets.first().cloned();
        // the names of every network it is on that resolves names
        let mut peers: Vec<(String, Ipv4Addr)> = Vec::new();
        for n in nets.iter().filter(|n| n.dns) {
            let dir = network::dns::Directory::read_all(conn, &n.name)?;
            for p in dir.reverse.iter().map(|(ip, name)| (name.clone(), *ip)).chain(dir.aliases.iter().cloned()) {
                if !peers.contains(&p) {
                    peers.push(p);
                }
            }
        }
        let host_hosts = (mode == Mode::Host).then(|| std::fs::read_to_string("/etc/hosts").unwrap_or_default());
        // Through pasta, the container has the host's address, and its gateway leads to the host.
        let (pasta_gateway, pasta_ip) = match &mode {
            Mode::Pasta => network::pasta::host_addresses(),
            // slirp4netns reaches the host at its own address (its gateway is the host's loopback,
            // and only with allow_host_loopback)
            Mode::Slirp4netns(o) => (network::slirp::host_address().or(Some(o.gateway())), Some(o.address())),
            _ => (None, None),
        };
        let mut hosts = files::hosts(&files::HostsInput {
            hostname,
            name: &c.name,
            ip: address.as_ref().map(|a| a.ip).or(pasta_ip),
            ip6: address.as_ref().and_then(|a| a.ip6),
            gateway: net.as_ref().map(|n| n.gateway).or(pasta_gateway),
            add_hosts: &c.options.add_hosts,
            peers: &peers,
            host_hosts: host_hosts.as_deref(),
        });
        // a pod's infra: the running containers on its namespace keep their lines
        if c.options.pod_infra {
            let on = format!("container:{}", c.id);
            for other in crate::container::list(conn)? {
                if other.options.network.as_deref() == Some(on.as_str()) && other.is_running() {
                    hosts.push_str(&format!("127.0.0.1\t{}\n", other.name));
                }
            }
        }
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let upstream = std::fs::read_to_string("/run/systemd/resolve/resolv.conf").ok();
        let resolv = files::resolv_conf(
            &host_resolv,
            upstream.as_deref(),
            &c.options.dns,
            &c.options.dns_search,
            &c.options.dns_options,
            mode == Mode::Host,
        );
        // slirp4netns forwards DNS at its own address: first, since the host's may be loopback
        let resolv = match (&mode, &net) {
            (Mode::Slirp4netns(o), _) if c.options.dns.is_empty() => format!("nameserver {}\n{resolv}", o.dns()),
            // a network with names: its own name server (which forwards the rest)
            (Mode::Bridge(_), Some(n)) if n.dns && c.options.dns.is_empty() => {
                let mut r = files::with_name_server(&resolv, n.gateway, network::dns::SEARCH_DOMAIN);
                // the other networks' name servers after the first's
                for other in nets.iter().skip(1).filter(|o| o.dns) {
                    r.push_str(&format!("nameserver {}\n", other.gateway));
                }
                r
            }
            _ => resolv,
        };
        let [(hosts_path, _), (resolv_path, _), (hostname_path, _)] = network::container_files(&paths.dir);
        for (path, text) in [(hosts_path, hosts), (resolv_path, resolv), (hostname_path, format!("{hostname}\n"))] {
            files::rewrite(&path, &text).map_err(|source| crate::Error::Io { path: path.clone(), source })?;
        }
        Ok(())
    }

    /// Rewrites the hosts files of every container on a network that resolves names, after
    /// members came or went.
    pub(crate) fn refresh_network_hosts(&self, network_name: &str) {
        let Ok(Some(net)) = network::get(self.state().conn(), network_name) else { return };
        if !net.dns {
            return;
        }
        let Ok(members) = network::members(self.state().conn(), &net.name) else { return };
        for (id, _, _) in members {
            let found = crate::container::get(self.state().conn(), &id);
            if let Ok(Some(c)) = found {
                let hostname = c.options.hostname.clone().unwrap_or_else(|| id[..12].to_string());
                let _ = self.write_network_files(&c, &hostname);
            }
        }
    }

    /// The hosts file a pod's member shares with its infra container: it is named at
    /// 127.0.0.1 there while it runs, as in Podman (`present`: at its start; not, at its end).
    pub(crate) fn share_hosts_entry(&self, c: &ContainerRecord, present: bool) {
        if c.options.pod.is_none() || c.options.pod_infra {
            return;
        }
        let Mode::Container(other) = Mode::of(&c.options) else { return };
        let [(path, _), _, _] = network::container_files(&ContainerPaths::new(&self.config().root, &other).dir);
        let Ok(text) = std::fs::read_to_string(&path) else { return };
        let line = format!("127.0.0.1\t{}", c.name);
        let mut lines: Vec<&str> = text.lines().filter(|l| *l != line).collect();
        if present {
            lines.push(&line);
        }
        let _ = files::rewrite(&path, &(lines.join("\n") + "\n"));
    }

    /// Rewrites the hosts files of the members of every network in `names`.
    pub(crate) fn refresh_networks_hosts(&self, names: &[String]) {
        for n in names {
            self.refresh_network_hosts(n);
        }
    }

    /// Takes down what is left of a container's networking (after its monitor died).
    pub(crate) fn detach_network(&self, c: &ContainerRecord) -> std::result::Result<(), NetworkError> {
        network::pasta::stop(&self.config().run_root, &c.id);
        network::slirp::stop(&self.config().run_root, &c.id);
        let names = network::joined_networks(self.state().conn(), &c.options, &c.id);
        network::detach(&self.host_net(), &c.id, !c.options.ports.is_empty(), &names)
    }

    /// Every address of a container, its first network's first.
    pub fn container_addresses(&self, id: &str) -> Result<Vec<network::Address>> {
        Ok(network::addresses_of(self.state().conn(), id)?)
    }

    /// A container's address, when it has one.
    pub fn container_address(&self, id: &str) -> Result<Option<network::Address>> {
        Ok(network::address_of(self.state().conn(), id)?)
    }

    /// `berth network connect`: the container joins another bridge network, at once when it
    /// runs (a veth `ethN` in its namespace, no default route: its first network keeps that),
    /// and at each start from now on. `aliases` are more names of it (every network's name
    /// server answers them).
    pub fn connect_network(&self, net_query: &str, ctr_query: &str, aliases: &[String]) -> Result<ContainerRecord> {
        if crate::rootless::is_rootless() {
            return Err(NetworkError::Invalid(
                "network connect: rootless containers can't join bridge networks; they use pasta".into(),
            )
            .into());
        }
        let net = self.network(net_query)?;
        let c = self.container(ctr_query)?;
        if !matches!(Mode::of(&c.options), Mode::Bridge(_)) {
            return Err(NetworkError::Invalid(format!(
                "container {} has --network {}: only a container on bridge networks joins another",
                c.name,
                c.options.network.as_deref().unwrap_or("")
            ))
            .into());
        }
        let addresses = network::addresses_of(self.state().conn(), &c.id)?;
        if addresses.iter().any(|a| a.network == net.name) {
            return Err(NetworkError::Invalid(format!(
                "container {} is already connected to network {}",
                c.name, net.name
            ))
            .into());
        }
        for alias in aliases {
            if !crate::container::names::valid(alias) {
                return Err(NetworkError::Invalid(format!(
                    "--alias \"{alias}\": an alias must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
                ))
                .into());
            }
        }
        // a container that left all its networks joins this one as its first: eth0's role, the
        // default route and the published ports
        let first = addresses.is_empty();
        let mut opts = c.options.clone();
        if first {
            opts.networks.retain(|n| *n != net.name);
            opts.network = Some(net.name.clone());
        } else {
            opts.networks.push(net.name.clone());
        }
        for a in aliases {
            if !opts.network_aliases.contains(a) {
                opts.network_aliases.push(a.clone());
            }
        }
        let address = self.state().write(|tx| -> Result<network::Address> {
            let address = network::allocate(tx, &net, &c.id)?;
            crate::container::set_options(tx, &c.id, &opts)?;
            Ok(address)
        })?;
        let ip = address.ip;
        if let Some(pid) = c.pid.filter(|_| c.is_running()) {
            let host = self.host_net();
            let veth = network::extra_veth_name(&c.id, &net.name);
            let live = (|| -> std::result::Result<(), NetworkError> {
                link::ensure_bridge(&host, &net)?;
                let ifname = link::free_ifname(&host, pid)?;
                let end = link::Endpoint {
                    veth: &veth,
                    ifname: &ifname,
                    mac: &network::container_mac(&c, &address, first),
                    ip,
                    ip6: address.ip6,
                };
                link::attach_veth(&host, &net, &end, pid, first && !net.internal)?;
                let ports = if first { c.options.ports.as_slice() } else { &[] };
                network::firewall::add_container(&host, &net, &c.id, ip, ports)?;
                if net.dns {
                    network::dns::ensure(&self.config().root, &self.config().run_root, &net)
                        .map_err(NetworkError::Invalid)?;
                }
                Ok(())
            })();
            if let Err(e) = live {
                let _ = link::delete_link(&host, &veth);
                let _ = self.state().write(|tx| -> Result<()> {
                    network::release_on(tx, &c.id, &net.name)?;
                    crate::container::set_options(tx, &c.id, &c.options)?;
                    Ok(())
                });
                return Err(e.into());
            }
        }
        let now = self.container(&c.id)?;
        self.refresh_network_hosts(&net.name);
        let hostname = now.options.hostname.clone().unwrap_or_else(|| now.id[..12].to_string());
        self.write_network_files(&now, &hostname)?;
        self.events().state("network", "connect", &net.id, Some(&net.name));
        Ok(now)
    }

    /// `berth network reload`: puts a running container's NAT rules back (its network's NAT
    /// out, its published ports), for when a firewall reload (`nft flush ruleset`, firewalld)
    /// took them: its own rules are removed first, so a reload of intact rules changes
    /// nothing. Its addresses and MACs stay. Containers not on bridge networks (host, none,
    /// another container's, pasta) have no rules of Berth's: nothing to do.
    pub fn reload_network(&self, query: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if !c.is_running() {
            return Err(crate::Error::Invalid(format!(
                "container {} is not running: its network is set up when it starts",
                c.name
            )));
        }
        if !matches!(Mode::of(&c.options), Mode::Bridge(_)) || crate::rootless::is_rootless() {
            return Ok(c);
        }
        let host = self.host_net();
        network::firewall::remove_container(&host, &c.id)?;
        // (the state's lock is let go before the loop takes it again in `network`)
        let addresses = network::addresses_of(self.state().conn(), &c.id)?;
        for (i, a) in addresses.iter().enumerate() {
            let net = self.network(&a.network)?;
            link::ensure_bridge(&host, &net)?;
            let ports = if i == 0 { c.options.ports.as_slice() } else { &[] };
            network::firewall::add_container(&host, &net, &c.id, a.ip, ports)?;
        }
        Ok(c)
    }

    /// `berth network disconnect`: the container leaves one of its networks, at once when it
    /// runs. When that is its first, the next one becomes its first: the default route and the
    /// published ports move there. Its only network may be left too (it keeps loopback alone
    /// until it joins one again, as Podman's do).
    pub fn disconnect_network(&self, net_query: &str, ctr_query: &str) -> Result<ContainerRecord> {
        let net = self.network(net_query)?;
        let c = self.container(ctr_query)?;
        let addresses = network::addresses_of(self.state().conn(), &c.id)?;
        let Some(pos) = addresses.iter().position(|a| a.network == net.name) else {
            return Err(NetworkError::Invalid(format!(
                "container {} is not connected to network {}",
                c.name, net.name
            ))
            .into());
        };
        let mut opts = c.options.clone();
        if pos == 0 && addresses.len() > 1 {
            // the next network becomes its first
            let next = addresses[1].network.clone();
            opts.networks.retain(|n| *n != next);
            opts.network = Some(next);
        } else if pos > 0 {
            opts.networks.retain(|n| *n != net.name);
        }
        // (its only network left: `network` still names it, with no address there)
        self.state().write(|tx| -> Result<()> {
            network::release_on(tx, &c.id, &net.name)?;
            crate::container::set_options(tx, &c.id, &opts)?;
            Ok(())
        })?;
        if let Some(pid) = c.pid.filter(|_| c.is_running()) {
            let host = self.host_net();
            if pos == 0 {
                // its published ports, and the veth it started with (the first network's)
                network::firewall::remove_container(&host, &c.id)?;
                link::delete_link(&host, &network::veth_name(&c.id))?;
            }
            link::delete_link(&host, &network::extra_veth_name(&c.id, &net.name))?;
            if let (0, Some(next)) = (pos, addresses.get(1)) {
                let next_net = self.network(&next.network)?;
                if !next_net.internal {
                    let ifname = link::ifname_of(&host, pid, next.ip)?;
                    link::default_routes(&host, &next_net, &ifname, pid)?;
                }
                network::firewall::add_container(&host, &next_net, &c.id, next.ip, &c.options.ports)?;
            }
        }
        let now = self.container(&c.id)?;
        self.refresh_network_hosts(&net.name);
        let hostname = now.options.hostname.clone().unwrap_or_else(|| now.id[..12].to_string());
        self.write_network_files(&now, &hostname)?;
        self.events().state("network", "disconnect", &net.id, Some(&net.name));
        Ok(now)
    }
}
