//! Published ports, as the containers list shows them and the create form asks for them
//! (`PortDto` and its `Protocol`), to and from the engine's `PortMapping`: a form's port is
//! checked on the way in.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::errors::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A published port: `hostIp:hostPort -> containerPort/protocol`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PortDto {
    /// `""` for all addresses.
    #[serde(default)]
    pub host_ip: String,
    /// 0 asks the engine to pick a free port.
    #[serde(default)]
    pub host_port: u16,
    pub container_port: u16,
    #[ts(inline)]
    pub protocol: Protocol,
}

impl From<berth_engine::network::Protocol> for Protocol {
    fn from(p: berth_engine::network::Protocol) -> Self {
        match p {
            berth_engine::network::Protocol::Tcp => Protocol::Tcp,
            berth_engine::network::Protocol::Udp => Protocol::Udp,
        }
    }
}

impl From<Protocol> for berth_engine::network::Protocol {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Tcp => berth_engine::network::Protocol::Tcp,
            Protocol::Udp => berth_engine::network::Protocol::Udp,
        }
    }
}

impl From<&berth_engine::network::PortMapping> for PortDto {
    fn from(m: &berth_engine::network::PortMapping) -> Self {
        PortDto {
            host_ip: m.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            host_port: m.host_port,
            container_port: m.container_port,
            protocol: m.protocol.into(),
        }
    }
}

impl TryFrom<&PortDto> for berth_engine::network::PortMapping {
    type Error = ApiError;

    /// A port of the create form; host port 0 lets the engine choose a free one.
    fn try_from(p: &PortDto) -> Result<Self, ApiError> {
        let what = || format!("{}:{}/{}", p.host_port, p.container_port, p.protocol.as_str());
        if p.container_port == 0 {
            return Err(ApiError::invalid(format!(
                "publishing {}: the container port must be from 1 to 65535",
                what()
            )));
        }
        let ip = p.host_ip.trim();
        let host_ip = if ip.is_empty() {
            None
        } else {
            Some(ip.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| {
                ApiError::invalid(format!("publishing {}: {ip:?} is not an IP address of this host", what()))
            })?)
        };
        Ok(berth_engine::network::PortMapping {
            host_ip,
            host_port: p.host_port,
            container_port: p.container_port,
            protocol: p.protocol.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_ports_become_engine_port_mappings() {
        use berth_engine::network::{PortMapping, Protocol as P};
        let port = |ip: &str, host, container, protocol| PortDto {
            host_ip: ip.into(),
            host_port: host,
            container_port: container,
            protocol,
        };
        let m = PortMapping::try_from(&port("", 0, 80, Protocol::Tcp)).unwrap();
        assert_eq!(m, PortMapping { host_ip: None, host_port: 0, container_port: 80, protocol: P::Tcp });
        let m = PortMapping::try_from(&port("[::1]", 5353, 53, Protocol::Udp)).unwrap();
        assert_eq!(m.host_ip, Some("::1".parse().unwrap()));
        assert_eq!(PortDto::from(&m), port("::1", 5353, 53, Protocol::Udp));
        let e = PortMapping::try_from(&port("localhost", 8080, 80, Protocol::Tcp)).unwrap_err();
        assert_eq!(e.message, "publishing 8080:80/tcp: \"localhost\" is not an IP address of this host");
        let e = PortMapping::try_from(&port("", 8080, 0, Protocol::Tcp)).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid", "publishing 8080:0/tcp: the container port must be from 1 to 65535")
        );
    }
}
