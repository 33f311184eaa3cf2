//! Container networking, netavark's role: networks (a Linux bridge each) and their records,
//! addresses allocated in the state database, a veth pair per container into its network
//! namespace, outbound NAT and published ports through nftables, and the files that tell a
//! container who it is and where to ask for names (/etc/hosts, /etc/resolv.conf, /etc/hostname).
//!
//! A container's network namespace is the one its init is cloned into: it lives exactly as long
//! as the container, so it can never be left behind. The monitor wires it up (`attach`) between
//! the clone and the exec, and takes down what outlives it (`detach`: the NAT rules, the host end
//! of the veth) when the container exits; `detach` is idempotent, so whoever finds a container
//! whose monitor died runs it again.

pub mod dns;
pub mod files;
pub mod firewall;
pub mod link;
pub mod pasta;
pub mod ports;
pub mod slirp;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use ipnet::{Ipv4Net, Ipv6Net};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

pub use ports::{parse_publish, PortMapping, Protocol, PublishError};

use crate::container::{ContainerRecord, CreateOptions};

/// The network `--network bridge` (and no `--network`) means, as `podman` is Podman's.
pub const DEFAULT_NETWORK: &str = "berth";

/// Networking settings, from the `[network]` table of Berth's config file (`$BERTH_CONFIG`, else
/// `/etc/berth/berth.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// The default network's subnet: clear of Podman's 10.88.0.0/16 and Docker's 172.17.0.0/16.
    pub default_subnet: Ipv4Net,
    /// The default network's bridge.
    pub default_bridge: String,
    /// Where `network create` without `--subnet` takes its /24 subnets from.
    pub subnet_pool: Ipv4Net,
    /// Where `network create --ipv6` without an IPv6 `--subnet` takes its /64 subnets from (a
    /// unique local range).
    pub subnet6_pool: Ipv6Net,
    /// Bridges of user-defined networks are named PREFIX1, PREFIX2, …
    pub bridge_prefix: String,
    /// The resolvers the networks' name servers ask for names they don't know (default: the
    /// host's /etc/resolv.conf name servers).
    pub dns_forward: Vec<std::net::SocketAddr>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            default_subnet: "10.87.0.0/16".parse().expect("valid"),
            default_bridge: "berth0".into(),
            subnet_pool: "10.90.0.0/16".parse().expect("valid"),
            subnet6_pool: "fd4e:b3a7:8f00::/48".parse().expect("valid"),
            bridge_prefix: "berth".into(),
            dns_forward: Vec::new(),
        }
    }
}

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    network: Option<NetworkConfig>,
}

impl NetworkConfig {
    pub fn load_default() -> Result<NetworkConfig, NetworkError> {
        let path = std::env::var_os("BERTH_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/berth/berth.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file: ConfigFile = toml::from_str(&text)
                    .map_err(|e| NetworkError::Config { path: path.clone(), reason: e.to_string() })?;
                let config = file.network.unwrap_or_default();
                if config.default_bridge.is_empty() || config.default_bridge.len() > 15 {
                    return Err(NetworkError::Config {
                        path,
                        reason: format!("default_bridge \"{}\" must have 1 to 15 characters", config.default_bridge),
                    });
                }
                Ok(config)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NetworkConfig::default()),
            Err(e) => Err(NetworkError::Config { path, reason: e.to_string() }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("error reading the network settings in {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("network {0} not found: see `berth network ls`, or create it with `berth network create {0}`")]
    NotFound(String),
    #[error("network name {0} already used: choose another name")]
    Exists(String),
    #[error("invalid network name \"{0}\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")]
    BadName(String),
    #[error("\"{0}\" is a reserved network name: choose another")]
    Reserved(String),
    #[error("subnet {subnet} overlaps {other}: choose another --subnet")]
    Overlap { subnet: Ipv4Net, other: String },
    #[error("{0}")]
    Invalid(String),
    #[error("network {name} is used by container(s) {containers}: remove them first or use --force")]
    InUse { name: String, containers: String },
    #[error("network {network} has no free address left in {subnet}: remove containers or use another network")]
    Exhausted { network: String, subnet: Ipv4Net },
    #[error(transparent)]
    PortInUse(#[from] ports::PortInUse),
    #[error("{what}: {reason}")]
    Host { what: String, reason: String },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// How a container is networked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Its own namespace, on the named bridge network.
    Bridge(String),
    /// The host's network namespace.
    Host,
    /// Its own namespace with only `lo`.
    None,
    /// Its own namespace, connected through pasta: rootless containers' default.
    Pasta,
    /// Its own namespace, connected through slirp4netns: rootless, where pasta is missing, or
    /// asked for (`slirp4netns:cidr=10.41.0.0/24,mtu=1500,allow_host_loopback=true`).
    Slirp4netns(slirp::Options),
    /// Another container's namespace (`--network container:ID`), by its full id once created.
    Container(String),
}

impl Mode {
    pub fn of(opts: &CreateOptions) -> Mode {
        match opts.network.as_deref() {
            // A regular user can't make bridges: pasta is the default, as in Podman 5.
            // (slirp4netns when only it is installed).
            None | Some("") | Some("bridge") if crate::rootless::is_rootless() => {
                let has = |p: &str| crate::rootless::which(p).is_some();
                if !has(pasta::PROGRAM) && has(slirp::PROGRAM) {
                    Mode::Slirp4netns(slirp::Options::default())
                } else {
                    Mode::Pasta
                }
            }
            None | Some("") | Some("bridge") => Mode::Bridge(DEFAULT_NETWORK.into()),
            Some("pasta") => Mode::Pasta,
            // options were checked at create (`Mode::check`)
            Some(s) if s == slirp::PROGRAM || s.starts_with("slirp4netns:") => {
                Mode::Slirp4netns(slirp::Options::parse(s).unwrap_or_default())
            }
            Some("host") => Mode::Host,
            Some("none") => Mode::None,
            Some(n) if n.starts_with("container:") => Mode::Container(n["container:".len()..].into()),
            Some(name) => Mode::Bridge(name.into()),
        }
    }
}

impl Mode {
    /// The network a user asked for, its options checked: the error names the bad one.
    pub fn check(opts: &CreateOptions) -> Result<Mode, NetworkError> {
        if let Some(s) = opts.network.as_deref().filter(|s| s.starts_with("slirp4netns:")) {
            slirp::Options::parse(s)?;
        }
        Ok(Mode::of(opts))
    }
}

/// A network, as `network inspect` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkRecord {
    pub name: String,
    pub id: String,
    pub driver: String,
    /// The Linux bridge.
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    /// Whether containers on it find each other by name (user-defined networks).
    pub dns: bool,
    pub created: chrono::DateTime<chrono::Utc>,
    pub labels: BTreeMap<String, String>,
    /// `--internal`: its containers reach each other and the gateway (its name server), nothing
    /// beyond: no default route, no NAT out, forwarding out of it dropped.
    pub internal: bool,
    /// `--ipv6`: its IPv6 subnet; its members have an address in each (dual stack).
    pub subnet6: Option<Ipv6Net>,
}

impl NetworkRecord {
    pub fn prefix(&self) -> u8 {
        self.subnet.prefix_len()
    }

    /// (subnet, gateway) of each family it has: IPv4, then IPv6 with `--ipv6`.
    pub fn subnets(&self) -> Vec<(String, String)> {
        let v6 = self.subnet6.zip(self.gateway6()).map(|(s, g)| (s.to_string(), g.to_string()));
        std::iter::once((self.subnet.to_string(), self.gateway.to_string())).chain(v6).collect()
    }

    /// The IPv6 gateway: the subnet's first address, on the bridge.
    pub fn gateway6(&self) -> Option<Ipv6Addr> {
        self.subnet6.map(|s| first_host6(&s))
    }
}

pub fn first_host6(net: &Ipv6Net) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(net.network()) + 1)
}

/// A container's place on a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub network: String,
    pub ip: Ipv4Addr,
    /// Its IPv6 address, on a network with `--ipv6`.
    pub ip6: Option<Ipv6Addr>,
}

pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

const COLUMNS: &str = "name, id, driver, bridge, subnet, gateway, dns, created, labels, internal, subnet6";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NetworkRecord> {
    let text = |i: usize| r.get::<_, String>(i);
    let bad = |i: usize, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    Ok(NetworkRecord {
        name: text(0)?,
        id: text(1)?,
        driver: text(2)?,
        bridge: text(3)?,
        subnet: text(4)?.parse().map_err(|e: ipnet::AddrParseError| bad(4, e.to_string()))?,
        gateway: text(5)?.parse().map_err(|e: std::net::AddrParseError| bad(5, e.to_string()))?,
        dns: r.get(6)?,
        created: chrono::DateTime::parse_from_rfc3339(&text(7)?).map(|t| t.to_utc()).unwrap_or_default(),
        labels: serde_json::from_str(&text(8)?).unwrap_or_default(),
        internal: r.get(9)?,
        subnet6: match r.get::<_, Option<String>>(10)? {
            Some(s) => Some(s.parse().map_err(|e: ipnet::AddrParseError| bad(10, e.to_string()))?),
            None => None,
        },
    })
}

pub fn get(conn: &Connection, name: &str) -> rusqlite::Result<Option<NetworkRecord>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM networks WHERE name = ? OR id = ?"), [name, name], row).optional()
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<NetworkRecord>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM networks ORDER BY name"))?;
    let rows = stmt.query_map([], row)?.collect();
    rows
}

pub fn insert(tx: &Transaction<'_>, n: &NetworkRecord) -> rusqlite::Result<()> {
    tx.execute(
        &format!("INSERT INTO networks ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        params![
            n.name,
            n.id,
            n.driver,
            n.bridge,
            n.subnet.to_string(),
            n.gateway.to_string(),
            n.dns,
            n.created.to_rfc3339(),
            serde_json::to_string(&n.labels).expect("labels serialise"),
            n.internal,
            n.subnet6.map(|s| s.to_string()),
        ],
    )?;
    Ok(())
}

pub fn delete(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute("DELETE FROM networks WHERE name = ?", [name])? > 0)
}

/// The default network's record, made from the settings the first time it is needed.
pub fn ensure_default(tx: &Transaction<'_>, config: &NetworkConfig) -> Result<NetworkRecord, NetworkError> {
    if let Some(n) = get(tx, DEFAULT_NETWORK)? {
        return Ok(n);
    }
    let n = NetworkRecord {
        name: DEFAULT_NETWORK.into(),
        id: network_id(DEFAULT_NETWORK),
        driver: "bridge".into(),
        bridge: config.default_bridge.clone(),
        subnet: config.default_subnet.trunc(),
        gateway: first_host(&config.default_subnet),
        dns: false,
        created: chrono::Utc::now(),
        labels: BTreeMap::new(),
        internal: false,
        subnet6: None,
    };
    insert(tx, &n)?;
    Ok(n)
}

/// Networks get a stable id from their name, so the default network's is the same everywhere.
pub fn network_id(name: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("berth-network:{name}").as_bytes()))
}

pub fn first_host(net: &Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()) + 1)
}

/// Gives the container the next free address of the network after the one it handed out last,
/// round the subnet (the gateway and the network and broadcast addresses excluded), as netavark
/// and Docker do: an address given back is not handed out again at once, so a container that
/// leaves and joins again has a new one. On an IPv6 network the lowest free IPv6 one too. In
/// the caller's IMMEDIATE transaction, so two creates at once never get the same one; the
/// primary key (and the IPv6 unique index) would refuse it anyway.
pub fn allocate(tx: &Transaction<'_>, net: &NetworkRecord, container_id: &str) -> Result<Address, NetworkError> {
    let mut stmt = tx.prepare("SELECT address FROM network_addresses WHERE network = ?")?;
    let used: std::collections::HashSet<Ipv4Addr> = stmt
        .query_map([&net.name], |r| r.get::<_, String>(0))?
        .filter_map(|a| a.ok().and_then(|a| a.parse().ok()))
        .collect();
    let last: Option<Ipv4Addr> = tx
        .query_row("SELECT last_address FROM networks WHERE name = ?", [&net.name], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten()
        .and_then(|a| a.parse().ok());
    let free = |ip: &Ipv4Addr| *ip != net.gateway && !used.contains(ip);
    let after_last = last.and_then(|l| net.subnet.hosts().skip_while(|ip| *ip <= l).find(free));
    let ip = after_last
        .or_else(|| net.subnet.hosts().find(free))
        .ok_or_else(|| NetworkError::Exhausted { network: net.name.clone(), subnet: net.subnet })?;
    tx.execute("UPDATE networks SET last_address = ? WHERE name = ?", [ip.to_string(), net.name.clone()])?;
    let ip6 = match net.subnet6 {
        Some(subnet6) => Some(allocate6(tx, net, subnet6)?),
        None => None,
    };
    tx.execute(
        "INSERT INTO network_addresses (network, address, container_id, address6) VALUES (?, ?, ?, ?)",
        params![net.name, ip.to_string(), container_id, ip6.map(|a| a.to_string())],
    )?;
    Ok(Address { network: net.name.clone(), ip, ip6 })
}

/// The lowest free IPv6 address after the gateway.
fn allocate6(tx: &Transaction<'_>, net: &NetworkRecord, subnet6: Ipv6Net) -> Result<Ipv6Addr, NetworkError> {
    let mut stmt = tx.prepare("SELECT address6 FROM network_addresses WHERE network = ? AND address6 IS NOT NULL")?;
    let used: std::collections::HashSet<Ipv6Addr> = stmt
        .query_map([&net.name], |r| r.get::<_, String>(0))?
        .filter_map(|a| a.ok().and_then(|a| a.parse().ok()))
        .collect();
    let start = u128::from(subnet6.network()) + 2;
    let end = u128::from(subnet6.broadcast());
    (start..end).take(used.len() + 1).map(Ipv6Addr::from).find(|a| !used.contains(a)).ok_or_else(|| {
        NetworkError::Invalid(format!("network {} has no free IPv6 address left in {subnet6}", net.name))
    })
}

/// A container's first address: on the network it was created with (or, that one left, the
/// one it joined first).
pub fn address_of(conn: &Connection, container_id: &str) -> rusqlite::Result<Option<Address>> {
    Ok(addresses_of(conn, container_id)?.into_iter().next())
}

/// Every address of a container, the first network's first, then in the order it joined them.
pub fn addresses_of(conn: &Connection, container_id: &str) -> rusqlite::Result<Vec<Address>> {
    let mut stmt =
        conn.prepare("SELECT network, address, address6 FROM network_addresses WHERE container_id = ? ORDER BY rowid")?;
    let rows = stmt
        .query_map([container_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
        })?
        .filter_map(|r| {
            r.ok().and_then(|(network, ip, ip6)| {
                Some(Address { network, ip: ip.parse().ok()?, ip6: ip6.and_then(|a| a.parse().ok()) })
            })
        })
        .collect();
    Ok(rows)
}

/// Gives back a container's address on one network (`network disconnect`).
pub fn release_on(tx: &Transaction<'_>, container_id: &str, network: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute("DELETE FROM network_addresses WHERE container_id = ? AND network = ?", [container_id, network])? > 0)
}

/// The containers on a network: (id, name, address).
pub fn members(conn: &Connection, network: &str) -> rusqlite::Result<Vec<(String, String, Ipv4Addr)>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.name, a.address FROM network_addresses a JOIN containers c ON c.id = a.container_id
         WHERE a.network = ? ORDER BY a.address",
    )?;
    let rows = stmt
        .query_map([network], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
        .filter_map(|r| r.ok().and_then(|(id, name, ip)| Some((id, name, ip.parse().ok()?))))
        .collect();
    Ok(rows)
}

pub fn release(tx: &Transaction<'_>, container_id: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM network_addresses WHERE container_id = ?", [container_id])?;
    Ok(())
}

/// The host side of a container's veth pair (at most 15 characters).
pub fn veth_name(container_id: &str) -> String {
    format!("veth{}", &container_id[..8])
}

/// The host side of the veth pair of a container's other network (`--network a --network b`,
/// `network connect`): one name per container and network, 13 characters.
pub fn extra_veth_name(container_id: &str, network: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{container_id}\0{network}").as_bytes());
    format!("vb{}", &hex::encode(digest)[..11])
}

/// `--mac-address`, checked: six hex bytes, unicast; lower case.
pub fn parse_mac(s: &str) -> Result<String, NetworkError> {
    let bad = |why: &str| {
        NetworkError::Invalid(format!(
            "invalid --mac-address \"{s}\": {why}: use six hex bytes, e.g. 92:d0:c6:0a:29:33"
        ))
    };
    let bytes: Vec<&str> = s.split([':', '-']).collect();
    if bytes.len() != 6 || bytes.iter().any(|b| b.len() != 2 || !b.bytes().all(|c| c.is_ascii_hexdigit())) {
        return Err(bad("not a MAC address"));
    }
    let first = u8::from_str_radix(bytes[0], 16).expect("checked hex");
    if first & 1 == 1 {
        return Err(bad("a multicast address can't be an interface's"));
    }
    if bytes.iter().all(|b| *b == "00") {
        return Err(bad("the zero address can't be an interface's"));
    }
    Ok(bytes.join(":").to_ascii_lowercase())
}

/// The MAC of a container's interface on a network: the one it asked for on its first network,
/// otherwise a locally administered one made from its id, the network's name and its address
/// there, so it is the same at every start (as Podman keeps its MACs across restarts and
/// reloads) and new when it leaves and joins again (a new address).
pub fn mac_for(container_id: &str, address: &Address, requested: Option<&str>) -> String {
    if let Some(m) = requested {
        return m.to_string();
    }
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("berth-mac:{container_id}\0{}\0{}", address.network, address.ip).as_bytes());
    // 02: locally administered, unicast
    format!("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", d[0], d[1], d[2], d[3], d[4])
}

/// The MAC of container `c` at `address` (the first of its networks takes `--mac-address`).
pub fn container_mac(c: &ContainerRecord, address: &Address, first: bool) -> String {
    mac_for(&c.id, address, c.options.mac_address.as_deref().filter(|_| first))
}

/// What the monitor holds while the container runs: the sockets reserving its host ports.
pub struct Attachment {
    pub reserved: Vec<OwnedFd>,
}

/// The host ports a bridge container publishes, bound before its process exists (a port in
/// use fails the start there, as Podman's does, with nothing made yet). Pasta and slirp4netns
/// bind their own.
pub fn reserve_ports(c: &ContainerRecord) -> Result<Vec<OwnedFd>, ports::PortInUse> {
    match Mode::of(&c.options) {
        Mode::Bridge(_) => ports::reserve(&c.options.ports),
        _ => Ok(Vec::new()),
    }
}

/// Wires the network namespace of the container's init `pid` up: its veth on the bridge, its
/// address and route, the NAT rules of its published ports (`reserved`: their host ports, from
/// [`reserve_ports`]). Undone by [`detach`] on failure.
pub fn attach(
    host: &dyn link::HostNet,
    conn: &Connection,
    c: &ContainerRecord,
    pid: i32,
    reserved: Vec<OwnedFd>,
) -> Result<Attachment, NetworkError> {
    let Mode::Bridge(_) = Mode::of(&c.options) else {
        return Ok(Attachment { reserved });
    };
    let addresses = addresses_of(conn, &c.id)?;
    if addresses.is_empty() {
        // it left all its networks (`network disconnect`): loopback only, until it joins one
        return Ok(Attachment { reserved });
    }
    let mut nets = Vec::new();
    for a in &addresses {
        nets.push(get(conn, &a.network)?.ok_or_else(|| NetworkError::NotFound(a.network.clone()))?);
    }
    let result = (|| -> Result<(), NetworkError> {
        for (i, (a, net)) in addresses.iter().zip(&nets).enumerate() {
            link::ensure_bridge(host, net)?;
            // the first network has eth0 and the default route (unless it is internal), and the
            // published ports
            let (veth, ports) = match i {
                0 => (veth_name(&c.id), c.options.ports.as_slice()),
                _ => (extra_veth_name(&c.id, &net.name), &[][..]),
            };
            let end = link::Endpoint {
                veth: &veth,
                ifname: &format!("eth{i}"),
                mac: &container_mac(c, a, i == 0),
                ip: a.ip,
                ip6: a.ip6,
            };
            link::attach_veth(host, net, &end, pid, i == 0 && !net.internal)?;
            firewall::add_container(host, net, &c.id, a.ip, ports)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let names: Vec<String> = addresses.iter().map(|a| a.network.clone()).collect();
        if let Err(cleanup) = detach(host, &c.id, !c.options.ports.is_empty(), &names) {
            return Err(NetworkError::Invalid(format!("{e}; cleaning up failed too: {cleanup}")));
        }
        return Err(e);
    }
    Ok(Attachment { reserved })
}

/// Takes down what of a container's networking outlives its namespace: its NAT rules and the host
/// end of its veth (the kernel removes the pair with the namespace, but later). Idempotent.
/// `ports`: whether it published any (only those have rules of their own to remove).
/// `networks`: the names of the networks it was on (the other ones' veths are named by them).
pub fn detach(
    host: &dyn link::HostNet,
    container_id: &str,
    ports: bool,
    networks: &[String],
) -> Result<(), NetworkError> {
    // Rootless containers have neither (see `pasta`).
    if crate::rootless::is_rootless() {
        return Ok(());
    }
    let rules = if ports { firewall::remove_container(host, container_id) } else { Ok(()) };
    let mut veth = link::delete_link(host, &veth_name(container_id));
    for n in networks {
        veth = veth.and(link::delete_link(host, &extra_veth_name(container_id, n)));
    }
    rules.and(veth)
}

/// The networks a container is on, for [`detach`]: those it has an address on, and those its
/// options name (its addresses may be gone already, with its record).
pub fn joined_networks(conn: &Connection, c: &CreateOptions, container_id: &str) -> Vec<String> {
    let mut names: Vec<String> =
        addresses_of(conn, container_id).unwrap_or_default().into_iter().map(|a| a.network).collect();
    for n in &c.networks {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

/// The per-container files (hosts, resolv.conf, hostname) for a container at `dir`.
pub fn container_files(dir: &Path) -> [(PathBuf, &'static str); 3] {
    [
        (dir.join("hosts"), "/etc/hosts"),
        (dir.join("resolv.conf"), "/etc/resolv.conf"),
        (dir.join("hostname"), "/etc/hostname"),
    ]
}

/// A name server (`--dns`, the API's `Dns`): an IPv4 or IPv6 address.
pub fn parse_dns(s: &str) -> Result<IpAddr, NetworkError> {
    s.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| {
        NetworkError::Invalid(format!("invalid DNS server \"{s}\": use an IP address, e.g. 1.1.1.1 or 2606:4700::1111"))
    })
}

/// A DNS search domain (`--dns-search`): a domain name, or `.` for none.
pub fn check_dns_search(s: &str) -> Result<(), NetworkError> {
    let labels_ok = s.trim_end_matches('.').split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
    });
    if s == "." || (s.len() <= 253 && labels_ok) {
        return Ok(());
    }
    Err(NetworkError::Invalid(format!(
        "invalid DNS search domain \"{s}\": use a domain name such as example.com, or . for none"
    )))
}

/// `IP` of a network address option (`--add-host NAME:IP`), checked.
pub fn parse_add_host(s: &str) -> Result<(String, IpAddr), NetworkError> {
    let bad = || NetworkError::Invalid(format!("invalid --add-host \"{s}\": use NAME:IP, e.g. db:10.0.0.5"));
    let (name, ip) = s.split_once(':').ok_or_else(bad)?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok((name.to_string(), ip.parse().map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_servers_and_search_domains_are_checked() {
        assert_eq!(parse_dns("1.1.1.1").unwrap().to_string(), "1.1.1.1");
        assert_eq!(parse_dns("[2606:4700::1111]").unwrap().to_string(), "2606:4700::1111");
        let e = parse_dns("dns.example").unwrap_err().to_string();
        assert!(e.contains("invalid DNS server \"dns.example\""), "{e}");
        for ok in ["example.com", "corp.example.com.", ".", "a_b.internal"] {
            check_dns_search(ok).unwrap();
        }
        for bad in ["", "bad domain", "a..b", "-x.com", &"a".repeat(64)] {
            let e = check_dns_search(bad).unwrap_err().to_string();
            assert!(e.contains("invalid DNS search domain"), "{bad}: {e}");
        }
    }

    fn net(subnet: &str) -> NetworkRecord {
        let subnet: Ipv4Net = subnet.parse().unwrap();
        NetworkRecord {
            name: "n".into(),
            id: network_id("n"),
            driver: "bridge".into(),
            bridge: "b0".into(),
            subnet,
            gateway: first_host(&subnet),
            dns: true,
            created: chrono::Utc::now(),
            labels: BTreeMap::new(),
            internal: false,
            subnet6: None,
        }
    }

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::state::NETWORK_TABLES).unwrap();
        conn.execute_batch("ALTER TABLE networks ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;").unwrap();
        conn.execute_batch(crate::state::NETWORK_IPV6).unwrap();
        conn.execute_batch(crate::state::NETWORK_LAST_ADDRESS).unwrap();
        conn
    }

    #[test]
    fn addresses_are_unique_reused_after_release_and_run_out() {
        let mut conn = db();
        let n = net("10.1.2.0/29"); // hosts .1-.6, .1 is the gateway
        let tx = conn.transaction().unwrap();
        insert(&tx, &n).unwrap();
        let got: Vec<Ipv4Addr> = (0..5).map(|i| allocate(&tx, &n, &format!("c{i}")).unwrap().ip).collect();
        assert_eq!(
            got,
            ["10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"].map(|s| s.parse::<Ipv4Addr>().unwrap())
        );
        let e = allocate(&tx, &n, "c5").unwrap_err();
        assert!(e.to_string().contains("no free address left in 10.1.2.0/29"), "{e}");
        release(&tx, "c1").unwrap();
        assert_eq!(allocate(&tx, &n, "c6").unwrap().ip, "10.1.2.3".parse::<Ipv4Addr>().unwrap());
        tx.commit().unwrap();
        assert_eq!(address_of(&conn, "c6").unwrap().unwrap().ip, "10.1.2.3".parse::<Ipv4Addr>().unwrap());
        assert_eq!(address_of(&conn, "c1").unwrap(), None);
    }

    #[test]
    fn an_address_given_back_is_not_handed_out_again_at_once() {
        let mut conn = db();
        let n = net("10.1.4.0/24");
        let tx = conn.transaction().unwrap();
        insert(&tx, &n).unwrap();
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(allocate(&tx, &n, "a").unwrap().ip, ip("10.1.4.2"));
        assert_eq!(allocate(&tx, &n, "b").unwrap().ip, ip("10.1.4.3"));
        release_on(&tx, "b", "n").unwrap();
        assert_eq!(allocate(&tx, &n, "b").unwrap().ip, ip("10.1.4.4"), "b joins again: a new address");
        release(&tx, "a").unwrap();
        assert_eq!(allocate(&tx, &n, "c").unwrap().ip, ip("10.1.4.5"));
    }

    #[test]
    fn an_ipv6_network_gives_each_member_an_ipv6_address_too() {
        let mut conn = db();
        let mut n = net("10.1.3.0/24");
        n.subnet6 = Some("fd00:1:2:3::/64".parse().unwrap());
        assert_eq!(n.gateway6(), Some("fd00:1:2:3::1".parse().unwrap()));
        let tx = conn.transaction().unwrap();
        insert(&tx, &n).unwrap();
        let a = allocate(&tx, &n, "c0").unwrap();
        let b = allocate(&tx, &n, "c1").unwrap();
        assert_eq!((a.ip6, b.ip6), (Some("fd00:1:2:3::2".parse().unwrap()), Some("fd00:1:2:3::3".parse().unwrap())));
        release(&tx, "c0").unwrap();
        assert_eq!(allocate(&tx, &n, "c2").unwrap().ip6, Some("fd00:1:2:3::2".parse().unwrap()), "given back");
        tx.commit().unwrap();
        assert_eq!(get(&conn, "n").unwrap().unwrap().subnet6, n.subnet6, "kept in the record");
        assert_eq!(addresses_of(&conn, "c1").unwrap(), [b]);
    }

    #[test]
    fn modes_from_options() {
        let with = |n: Option<&str>| CreateOptions { network: n.map(str::to_string), ..Default::default() };
        assert_eq!(Mode::of(&with(None)), Mode::Bridge(DEFAULT_NETWORK.into()));
        assert_eq!(Mode::of(&with(Some("bridge"))), Mode::Bridge(DEFAULT_NETWORK.into()));
        assert_eq!(Mode::of(&with(Some("host"))), Mode::Host);
        assert_eq!(Mode::of(&with(Some("none"))), Mode::None);
        assert_eq!(Mode::of(&with(Some("container:abc"))), Mode::Container("abc".into()));
        assert_eq!(Mode::of(&with(Some("backend"))), Mode::Bridge("backend".into()));
    }

    #[test]
    fn mac_addresses_are_checked_and_made_stable() {
        assert_eq!(parse_mac("92:D0:C6:0A:29:33").unwrap(), "92:d0:c6:0a:29:33");
        assert_eq!(parse_mac("92-d0-c6-0a-29-33").unwrap(), "92:d0:c6:0a:29:33");
        for bad in
            ["", "92:d0:c6:0a:29", "92:d0:c6:0a:29:3g", "01:00:5e:00:00:01", "00:00:00:00:00:00", "920:d0:c6:0a:29:33"]
        {
            let e = parse_mac(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid --mac-address \"{bad}\"")), "{e}");
        }
        let at = |network: &str, ip: &str| Address { network: network.into(), ip: ip.parse().unwrap(), ip6: None };
        let a = mac_for("abc", &at("net1", "10.0.0.2"), None);
        assert_eq!(a, mac_for("abc", &at("net1", "10.0.0.2"), None), "the same at every start");
        assert_ne!(a, mac_for("abc", &at("net2", "10.0.0.2"), None));
        assert_ne!(a, mac_for("abc", &at("net1", "10.0.0.3"), None), "a new address, a new MAC");
        assert_ne!(a, mac_for("abd", &at("net1", "10.0.0.2"), None));
        assert!(a.starts_with("02:") && parse_mac(&a).is_ok(), "{a}");
        assert_eq!(mac_for("abc", &at("net1", "10.0.0.2"), Some("92:d0:c6:0a:29:33")), "92:d0:c6:0a:29:33");
    }

    #[test]
    fn add_host_values() {
        assert_eq!(parse_add_host("db:10.0.0.5").unwrap(), ("db".to_string(), "10.0.0.5".parse().unwrap()));
        assert!(parse_add_host("db").unwrap_err().to_string().contains("\"db\""));
        assert!(parse_add_host("db:nope").is_err());
    }

    #[test]
    fn config_file_overrides_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("berth.toml");
        std::fs::write(&p, "[network]\ndefault_subnet = \"10.50.0.0/24\"\ndefault_bridge = \"bt0\"\n").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let file: ConfigFile = toml::from_str(&text).unwrap();
        let c = file.network.unwrap();
        assert_eq!(c.default_subnet, "10.50.0.0/24".parse::<Ipv4Net>().unwrap());
        assert_eq!(c.default_bridge, "bt0");
        assert_eq!(c.subnet_pool, NetworkConfig::default().subnet_pool);
        assert!(toml::from_str::<ConfigFile>("[network]\nsubnet = \"x\"\n").is_err());
    }
}
