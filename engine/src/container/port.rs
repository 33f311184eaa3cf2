//! A published port as a container records it: plain data, parsed and put to work by
//! `network::ports`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            other => Err(format!("unknown protocol \"{other}\": use tcp or udp")),
        }
    }
}

/// One published port. `host_port` 0 means "choose a free one" until `create` resolves it:
/// a stored container always has real host ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    /// The host address the port is published on; None for every address of the host.
    pub host_ip: Option<IpAddr>,
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
}

impl PortMapping {
    /// `0.0.0.0:8080->80/tcp`, as `ps` shows it.
    pub fn display(&self) -> String {
        let ip = self.host_ip.map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string());
        format!("{ip}:{}->{}/{}", self.host_port, self.container_port, self.protocol)
    }
}
