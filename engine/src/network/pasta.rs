//! Rootless networking through pasta (Debian's `passt` package), as Podman 5 does it.
//!
//! A regular user can't make bridges, veths or NAT rules on the host, so a rootless container's
//! network namespace gets a tap device whose other end is a pasta process: pasta turns the
//! container's packets into the user's own sockets on the host (outbound traffic), and listens
//! on the published host ports, forwarding each connection into the namespace. The container
//! sees the host's address and gateway; connections to the gateway reach the host's loopback
//! (`host.containers.internal`).
//!
//! The monitor starts pasta between the clone and the exec (so the network is up when the
//! command starts) and stops it when the container exits; whoever finds a container whose
//! monitor died stops it too (its pid is in `$RUNROOT/pasta/ID.pid`).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::ports::{PortMapping, Protocol};
use super::NetworkError;

pub const PROGRAM: &str = "pasta";

fn pid_file(run_root: &Path, id: &str) -> PathBuf {
    run_root.join("pasta").join(format!("{id}.pid"))
}

/// pasta's `-t`/`-u` spec of one mapping: `[IP/]HOST:CONTAINER`.
fn port_spec(p: &PortMapping) -> String {
    match p.host_ip {
        Some(ip) => format!("{ip}/{}:{}", p.host_port, p.container_port),
        None => format!("{}:{}", p.host_port, p.container_port),
    }
}

/// The arguments of pasta for the network namespace of `pid`.
pub fn args(ports: &[PortMapping], pid: i32, pid_file: &Path) -> Vec<String> {
    let mut args: Vec<String> = ["--config-net", "--quiet"].map(String::from).to_vec();
    for (flag, protocol) in [("-t", Protocol::Tcp), ("-u", Protocol::Udp)] {
        let specs: Vec<String> = ports.iter().filter(|p| p.protocol == protocol).map(port_spec).collect();
        if specs.is_empty() {
            args.extend([flag.to_string(), "none".to_string()]);
        }
        for s in specs {
            args.extend([flag.to_string(), s]);
        }
    }
    // Nothing of the host's own ports is forwarded into the namespace on its own.
    args.extend(["-T", "none", "-U", "none"].map(String::from));
    args.extend(["-P".to_string(), pid_file.display().to_string()]);
    // By pid: pasta joins the init's user namespace, then its network namespace.
    args.push(pid.to_string());
    args
}

/// Starts pasta for the container whose init is `pid`; returns when the namespace is configured
/// and the published ports are bound (pasta forks into the background only then).
pub fn start(run_root: &Path, id: &str, ports: &[PortMapping], pid: i32) -> Result<(), NetworkError> {
    let file = pid_file(run_root, id);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| NetworkError::Invalid(format!("creating {}: {e}", dir.display())))?;
    }
    // It forks into the background once the namespace is configured and the ports are bound.
    crate::rootless::run_outside(crate::rootless::OutsideRun::Complete, PROGRAM, &args(ports, pid, &file)).map(|_| ()).map_err(|msg| {
        stop(run_root, id);
        if msg.ends_with(": not found") {
            NetworkError::Invalid(
                "rootless containers are networked through pasta, which is not installed: install Debian's passt package, or use --network none".into(),
            )
        } else {
            NetworkError::Invalid(format!("setting up the container's network with pasta: {msg}"))
        }
    })
}

/// Stops the container's pasta, if it runs. Idempotent.
pub fn stop(run_root: &Path, id: &str) {
    // Its process is named `passt…` once it forked.
    crate::rootless::stop_recorded(&pid_file(run_root, id), |comm| comm == PROGRAM || comm.starts_with("passt"));
}

/// The host's IPv4 default gateway and the address of its interface: what pasta gives the
/// container (the gateway also leads to the host's loopback).
pub fn host_addresses() -> (Option<Ipv4Addr>, Option<Ipv4Addr>) {
    let routes = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let Some((iface, gateway)) = routes.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(1) == Some(&"00000000") && f.get(7) == Some(&"00000000"))
            .then(|| Some((f[0].to_string(), u32::from_str_radix(f.get(2)?, 16).ok()?)))
            .flatten()
    }) else {
        return (None, None);
    };
    let gateway = Ipv4Addr::from(u32::from_be(gateway));
    let address = nix::ifaddrs::getifaddrs().ok().and_then(|mut addrs| {
        addrs.find_map(|a| {
            (a.interface_name == iface).then(|| a.address.and_then(|s| s.as_sockaddr_in().map(|s| s.ip()))).flatten()
        })
    });
    (Some(gateway), address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_become_pasta_options() {
        let ports = [
            PortMapping { host_ip: None, host_port: 8080, container_port: 80, protocol: Protocol::Tcp },
            PortMapping {
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 5353,
                container_port: 53,
                protocol: Protocol::Udp,
            },
        ];
        let a = args(&ports, 42, Path::new("/run/p.pid")).join(" ");
        assert!(a.contains("-t 8080:80 -u 127.0.0.1/5353:53 -T none -U none"), "{a}");
        assert!(a.ends_with("-P /run/p.pid 42"), "{a}");
        let none = args(&[], 1, Path::new("/p")).join(" ");
        assert!(none.contains("-t none -u none"), "{none}");
    }
}
