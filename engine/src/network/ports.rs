//! Published ports: parsing `-p`/`--publish` as Podman does, choosing free host ports, and
//! reserving host ports while a container runs (so a second user of the port fails loudly,
//! as with Podman's conmon, instead of silently losing its traffic to the NAT rule).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::OwnedFd;

pub use crate::container::port::{PortMapping, Protocol};

#[derive(Debug, thiserror::Error)]
#[error("invalid publish \"{input}\": {reason}")]
pub struct PublishError {
    pub input: String,
    pub reason: String,
}

fn port_range(s: &str, what: &str) -> Result<(u16, u16), String> {
    let one = |p: &str| -> Result<u16, String> {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(format!("{what} \"{p}\" is not a port number from 1 to 65535")),
        }
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            if b < a {
                return Err(format!("{what} range \"{s}\" ends before it starts"));
            }
            Ok((a, b))
        }
        None => one(s).map(|p| (p, p)),
    }
}

/// Parses one `-p` value: `[[ip:][hostPort]:]containerPort[/protocol]`, where the ports may
/// be ranges of equal length (`8000-8002:80-82`). Host port 0 stands for "choose one".
pub fn parse_publish(input: &str) -> Result<Vec<PortMapping>, PublishError> {
    let err = |reason: String| PublishError { input: input.to_string(), reason };
    let (spec, protocol) = match input.rsplit_once('/') {
        Some((s, p)) => (s, p.parse::<Protocol>().map_err(err)?),
        None => (input, Protocol::Tcp),
    };
    let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
    let (ip, host, ctr) = match parts.as_slice() {
        [c] => (None, None, *c),
        [c, h] => (None, Some(*h), *c),
        [c, h, ip] => (Some(*ip), Some(*h), *c),
        _ => return Err(err("expected [[ip:][hostPort]:]containerPort[/protocol]".into())),
    };
    let host_ip = match ip.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let s = s.trim_start_matches('[').trim_end_matches(']');
            let ip: IpAddr = s.parse().map_err(|_| err(format!("\"{s}\" is not an IP address")))?;
            if ip.is_ipv6() {
                return Err(err(format!("IPv6 host address {ip}: Berth publishes ports on IPv4 addresses only")));
            }
            if ip.is_unspecified() {
                None
            } else {
                Some(ip)
            }
        }
    };
    let (c0, c1) = port_range(ctr, "container port").map_err(err)?;
    let (h0, h1) = match host.filter(|s| !s.is_empty()) {
        None => (0, 0),
        Some(h) => port_range(h, "host port").map_err(err)?,
    };
    let count = c1 - c0;
    if h0 != 0 && h1 - h0 != count {
        return Err(err(format!(
            "the host range has {} ports and the container range {}: use ranges of the same length",
            h1 - h0 + 1,
            count + 1
        )));
    }
    Ok((0..=count)
        .map(|i| PortMapping { host_ip, host_port: if h0 == 0 { 0 } else { h0 + i }, container_port: c0 + i, protocol })
        .collect())
}

/// Parses an image's ExposedPorts key (`80/tcp`, `53/udp`, `8080`).
pub fn parse_exposed(key: &str) -> Option<(u16, Protocol)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto.parse().ok()?))
}

fn sockaddr(ip: Option<IpAddr>, port: u16) -> SocketAddr {
    match ip {
        Some(ip) => SocketAddr::new(ip, port),
        None => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)),
    }
}

/// A socket holding a host port: a listening TCP socket (as conmon holds them for Podman, so
/// any other listener on the port fails) or a bound UDP socket. Traffic to the port is
/// translated to the container before it could reach them.
fn bind(ip: Option<IpAddr>, port: u16, protocol: Protocol) -> std::io::Result<OwnedFd> {
    let addr = sockaddr(ip, port);
    if addr.is_ipv6() {
        return Err(std::io::Error::other("IPv6 is not supported for published ports"));
    }
    Ok(match protocol {
        Protocol::Tcp => OwnedFd::from(std::net::TcpListener::bind(addr)?),
        Protocol::Udp => OwnedFd::from(std::net::UdpSocket::bind(addr)?),
    })
}

/// The port a bound socket got.
fn bound_port(fd: &OwnedFd) -> std::io::Result<u16> {
    use nix::sys::socket::{getsockname, SockaddrIn};
    let addr: SockaddrIn = getsockname(std::os::fd::AsRawFd::as_raw_fd(fd))?;
    Ok(addr.port())
}

/// A host port the kernel says is free now, for `protocol` on `ip`; `preferred` when it is free.
pub fn free_port(
    ip: Option<IpAddr>,
    protocol: Protocol,
    preferred: Option<u16>,
    avoid: &[u16],
) -> std::io::Result<u16> {
    if let Some(p) = preferred.filter(|p| *p != 0 && !avoid.contains(p)) {
        if bind(ip, p, protocol).is_ok() {
            return Ok(p);
        }
    }
    for _ in 0..64 {
        let fd = bind(ip, 0, protocol)?;
        let port = bound_port(&fd)?;
        if !avoid.contains(&port) {
            return Ok(port);
        }
    }
    Err(std::io::Error::other("no free host port found"))
}

/// Whether `port` can be bound on `ip` right now.
pub fn port_is_free(ip: Option<IpAddr>, port: u16, protocol: Protocol) -> bool {
    bind(ip, port, protocol).is_ok()
}

#[derive(Debug, thiserror::Error)]
#[error("host port {port}/{protocol} on {ip} is already in use: publish the container's port on another host port")]
pub struct PortInUse {
    pub ip: String,
    pub port: u16,
    pub protocol: Protocol,
}

/// Binds every mapping's host port; the sockets hold them until dropped.
pub fn reserve(ports: &[PortMapping]) -> Result<Vec<OwnedFd>, PortInUse> {
    ports
        .iter()
        .map(|p| {
            bind(p.host_ip, p.host_port, p.protocol).map_err(|_| PortInUse {
                ip: p.host_ip.map_or_else(|| "0.0.0.0".into(), |i| i.to_string()),
                port: p.host_port,
                protocol: p.protocol,
            })
        })
        .collect()
}

/// The lowest port a regular user may bind (`net.ipv4.ip_unprivileged_port_start`, 1024 by
/// default).
pub fn unprivileged_port_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mapping as the tests write it: host address, host port, container port, protocol.
    type Want<'a> = (Option<&'a str>, u16, u16, Protocol);

    fn check(input: &str, expected: Result<&[Want<'_>], &str>) {
        let got = parse_publish(input).map_err(|e| e.to_string());
        match expected {
            Ok(want) => {
                let want: Vec<PortMapping> = want
                    .iter()
                    .map(|(ip, h, c, p)| PortMapping {
                        host_ip: ip.map(|s| s.parse().unwrap()),
                        host_port: *h,
                        container_port: *c,
                        protocol: *p,
                    })
                    .collect();
                assert_eq!(got.unwrap(), want, "{input}");
            }
            Err(fragment) => {
                let e = got.expect_err(input);
                assert!(e.contains(fragment) && e.contains(input), "{input}: {e}");
            }
        }
    }

    #[test]
    fn publish_forms_as_podman_takes_them() {
        use Protocol::*;
        check("8080:80", Ok(&[(None, 8080, 80, Tcp)]));
        check("80", Ok(&[(None, 0, 80, Tcp)]));
        check("53:53/udp", Ok(&[(None, 53, 53, Udp)]));
        check("127.0.0.1:8080:80", Ok(&[(Some("127.0.0.1"), 8080, 80, Tcp)]));
        check("127.0.0.1::80", Ok(&[(Some("127.0.0.1"), 0, 80, Tcp)]));
        check("0.0.0.0:81:80", Ok(&[(None, 81, 80, Tcp)]));
        check("8000-8001:80-81/TCP", Ok(&[(None, 8000, 80, Tcp), (None, 8001, 81, Tcp)]));
        check("80-81", Ok(&[(None, 0, 80, Tcp), (None, 0, 81, Tcp)]));
        check("8000-8002:80-81", Err("same length"));
        check("70000:80", Err("host port \"70000\""));
        check("80:0", Err("container port \"0\""));
        check("8080:80/sctp", Err("unknown protocol"));
        check("nope:8080:80", Err("not an IP address"));
        check("[::1]:8080:80", Err("IPv4"));
        check("90-80", Err("ends before it starts"));
    }

    #[test]
    fn exposed_keys() {
        assert_eq!(parse_exposed("80/tcp"), Some((80, Protocol::Tcp)));
        assert_eq!(parse_exposed("53/udp"), Some((53, Protocol::Udp)));
        assert_eq!(parse_exposed("8080"), Some((8080, Protocol::Tcp)));
        assert_eq!(parse_exposed("x/tcp"), None);
    }

    #[test]
    fn a_reserved_port_is_not_free_and_is_refused_twice() {
        let port = free_port(Some("127.0.0.1".parse().unwrap()), Protocol::Tcp, None, &[]).unwrap();
        let m = PortMapping {
            host_ip: Some("127.0.0.1".parse().unwrap()),
            host_port: port,
            container_port: 80,
            protocol: Protocol::Tcp,
        };
        let held = reserve(&[m]).unwrap();
        assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_err(), "a held port can't be listened on");
        drop(held);
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let e = reserve(&[m]).unwrap_err();
        assert!(e.to_string().contains(&format!("host port {port}/tcp on 127.0.0.1 is already in use")), "{e}");
        drop(l);
        assert!(port_is_free(m.host_ip, port, Protocol::Tcp));
    }
}
