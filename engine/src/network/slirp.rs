//! Rootless networking through slirp4netns, for hosts without pasta (`--network slirp4netns`,
//! or the default when only slirp4netns is installed), as Podman 4 did it.
//!
//! slirp4netns puts a tap device in the container's namespace (10.0.2.100/24, gateway
//! 10.0.2.2, which leads to the host's loopback only with `allow_host_loopback=true`, and DNS
//! forwarding at 10.0.2.3; `cidr=` moves all three) and carries
//! its traffic over the user's sockets. It runs in the foreground, so the monitor's outside
//! helper starts it in the background once it reports the network configured (`--ready-fd`);
//! published ports are then added through its API socket (`add_hostfwd`): slirp4netns itself
//! listens on the host port. Its pid is in `$RUNROOT/slirp4netns/ID.pid`.

use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::Ipv4Net;

use super::ports::PortMapping;
use super::NetworkError;

pub const PROGRAM: &str = "slirp4netns";

/// What `--network slirp4netns:OPTIONS` may say, as Podman takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The network slirp4netns makes (10.0.2.0/24): the container is .100, the gateway .2, DNS .3
    pub cidr: Ipv4Net,
    pub mtu: u32,
    /// Whether the gateway leads to the host's loopback (off by default, as in Podman)
    pub allow_host_loopback: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cidr: Ipv4Net::new(Ipv4Addr::new(10, 0, 2, 0), 24).expect("a valid prefix"),
            mtu: 65520,
            allow_host_loopback: false,
        }
    }
}

impl Options {
    /// `slirp4netns[:cidr=NET,mtu=N,allow_host_loopback=BOOL]`
    pub fn parse(network: &str) -> Result<Options, NetworkError> {
        let mut o = Options::default();
        let list = network.strip_prefix(PROGRAM).and_then(|r| r.strip_prefix(':')).unwrap_or_default();
        for opt in list.split(',').filter(|s| !s.is_empty()) {
            let bad = |why: &str| NetworkError::Invalid(format!("--network {network}: {opt}: {why}"));
            let (key, value) = opt.split_once('=').ok_or_else(|| bad("options are KEY=VALUE"))?;
            match key {
                "cidr" => {
                    let net: Ipv4Net = value.parse().map_err(|_| bad("not an IPv4 network, e.g. cidr=10.41.0.0/24"))?;
                    if net.prefix_len() > 25 {
                        return Err(bad("too small: the container is the 100th address, give a /25 or larger"));
                    }
                    o.cidr = net.trunc();
                }
                "mtu" => {
                    o.mtu = value
                        .parse()
                        .ok()
                        .filter(|m| (68..=65521).contains(m))
                        .ok_or_else(|| bad("an MTU from 68 to 65521"))?
                }
                "allow_host_loopback" => {
                    o.allow_host_loopback = value.parse().map_err(|_| bad("true or false"))?;
                }
                // how published ports reach the container: slirp4netns's own forwarding is
                // what Berth does
                "port_handler" if value == "slirp4netns" => {}
                "port_handler" => return Err(bad(
                    "Berth publishes ports through slirp4netns itself: use port_handler=slirp4netns, or leave it out",
                )),
                _ => {
                    return Err(bad(
                        "unknown option: Berth's slirp4netns takes cidr, mtu, allow_host_loopback and port_handler",
                    ))
                }
            }
        }
        Ok(o)
    }

    fn nth(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.cidr.network()) + n)
    }
    /// The container's address.
    pub fn address(&self) -> Ipv4Addr {
        self.nth(100)
    }
    pub fn gateway(&self) -> Ipv4Addr {
        self.nth(2)
    }
    /// slirp4netns's DNS forwarder.
    pub fn dns(&self) -> Ipv4Addr {
        self.nth(3)
    }
}

/// The host's first address that is not loopback (`hostname -I`'s first): how a container
/// behind slirp4netns reaches the host.
pub fn host_address() -> Option<Ipv4Addr> {
    nix::ifaddrs::getifaddrs().ok()?.find_map(|i| {
        let ip = i.address?.as_sockaddr_in()?.ip();
        (!ip.is_loopback() && !ip.is_link_local()).then_some(ip)
    })
}

fn dir(run_root: &Path) -> PathBuf {
    run_root.join("slirp4netns")
}

fn pid_file(run_root: &Path, id: &str) -> PathBuf {
    dir(run_root).join(format!("{id}.pid"))
}

/// The API socket (a unix socket path must stay short: the id's first 12 characters).
fn api_socket(run_root: &Path, id: &str) -> PathBuf {
    dir(run_root).join(format!("{}.sock", &id[..12.min(id.len())]))
}

/// The arguments of slirp4netns for the network namespace of `pid`.
pub fn args(o: &Options, pid: i32, api: &Path) -> Vec<String> {
    let mut args = vec!["--configure".into(), format!("--mtu={}", o.mtu), format!("--cidr={}", o.cidr)];
    if !o.allow_host_loopback {
        args.push("--disable-host-loopback".into());
    }
    args.extend([
        "--ready-fd=3".into(),
        "--api-socket".into(),
        api.display().to_string(),
        pid.to_string(),
        "tap0".into(),
    ]);
    args
}

/// The API request that publishes one port.
pub fn hostfwd_request(p: &PortMapping) -> String {
    let host = p.host_ip.map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string());
    format!(
        "{{\"execute\":\"add_hostfwd\",\"arguments\":{{\"proto\":\"{}\",\"host_addr\":\"{host}\",\"host_port\":{},\"guest_port\":{}}}}}",
        p.protocol, p.host_port, p.container_port
    )
}

/// Starts slirp4netns for the container whose init is `pid`, then publishes its ports.
pub fn start(run_root: &Path, id: &str, o: &Options, ports: &[PortMapping], pid: i32) -> Result<(), NetworkError> {
    let io = |what: &Path, e: std::io::Error| NetworkError::Invalid(format!("{}: {e}", what.display()));
    std::fs::create_dir_all(dir(run_root)).map_err(|e| io(&dir(run_root), e))?;
    let api = api_socket(run_root, id);
    let _ = std::fs::remove_file(&api);
    let slirp = crate::rootless::run_outside(crate::rootless::OutsideRun::Ready, PROGRAM, &args(o, pid, &api))
        .map_err(|msg| match msg.ends_with(": not found") {
            true => NetworkError::Invalid(
                "slirp4netns is not installed: install Debian's slirp4netns (or passt, for pasta), or use --network none"
                    .into(),
            ),
            false => NetworkError::Invalid(format!("setting up the container's network with slirp4netns: {msg}")),
        })?;
    let file = pid_file(run_root, id);
    std::fs::write(&file, &slirp).map_err(|e| io(&file, e))?;
    for p in ports {
        if let Err(e) = publish(&api, p) {
            stop(run_root, id);
            return Err(e);
        }
    }
    Ok(())
}

fn publish(api: &Path, p: &PortMapping) -> Result<(), NetworkError> {
    let fail = |msg: String| NetworkError::Invalid(format!("publishing {}: {msg}", p.display()));
    let mut s = UnixStream::connect(api).map_err(|e| fail(format!("{}: {e}", api.display())))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    s.write_all(hostfwd_request(p).as_bytes()).map_err(|e| fail(e.to_string()))?;
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).map_err(|e| fail(e.to_string()))?;
    let v: serde_json::Value =
        serde_json::from_str(reply.trim()).map_err(|_| fail(format!("slirp4netns answered {reply:?}")))?;
    match v.get("error") {
        None => Ok(()),
        Some(e) => Err(fail(e.get("desc").and_then(|d| d.as_str()).unwrap_or("refused").to_string())),
    }
}

/// Stops the container's slirp4netns, if it runs. Idempotent.
pub fn stop(run_root: &Path, id: &str) {
    crate::rootless::stop_recorded(&pid_file(run_root, id), |comm| comm == PROGRAM);
    let _ = std::fs::remove_file(api_socket(run_root, id));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::ports::Protocol;

    #[test]
    fn a_published_port_is_one_hostfwd_request() {
        let p = PortMapping { host_ip: None, host_port: 8080, container_port: 80, protocol: Protocol::Tcp };
        let v: serde_json::Value = serde_json::from_str(&hostfwd_request(&p)).unwrap();
        assert_eq!(v["execute"], "add_hostfwd");
        assert_eq!(v["arguments"]["proto"], "tcp");
        assert_eq!(v["arguments"]["host_addr"], "0.0.0.0");
        assert_eq!(v["arguments"]["host_port"], 8080);
        assert_eq!(v["arguments"]["guest_port"], 80);
        let a = args(&Options::default(), 42, Path::new("/run/x.sock")).join(" ");
        assert_eq!(
            a,
            "--configure --mtu=65520 --cidr=10.0.2.0/24 --disable-host-loopback --ready-fd=3 --api-socket /run/x.sock 42 tap0"
        );
    }

    #[test]
    fn options_move_the_network_and_bad_ones_are_named() {
        let o = Options::parse("slirp4netns:cidr=172.27.87.9/24,mtu=1500,allow_host_loopback=true").unwrap();
        assert_eq!(
            (o.address(), o.gateway(), o.dns()),
            ("172.27.87.100".parse().unwrap(), "172.27.87.2".parse().unwrap(), "172.27.87.3".parse().unwrap())
        );
        assert_eq!((o.mtu, o.allow_host_loopback), (1500, true));
        assert!(!args(&o, 1, Path::new("/s")).contains(&"--disable-host-loopback".to_string()));
        assert_eq!(Options::parse("slirp4netns").unwrap(), Options::default());
        for (bad, says) in [
            ("slirp4netns:cidr=nope", "cidr=nope: not an IPv4 network"),
            ("slirp4netns:cidr=10.1.2.0/28", "too small"),
            ("slirp4netns:mtu=9", "mtu=9: an MTU"),
            ("slirp4netns:port_handler=rootlesskit", "use port_handler=slirp4netns"),
            ("slirp4netns:outbound_addr=eth0", "unknown option"),
            ("slirp4netns:cidr", "KEY=VALUE"),
        ] {
            let err = Options::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains(says), "{bad}: {err}");
        }
    }
}
