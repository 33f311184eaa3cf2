//! `port`: a container's published ports.

use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::Engine;
use clap::Args;

#[derive(Args)]
pub struct PortArgs {
    pub container: String,
    /// Only this container port (PORT[/PROTOCOL])
    pub port: Option<String>,
}

/// `berth port`: the container's published ports, as Podman prints them.
pub fn port(engine: &Engine, args: &PortArgs) -> anyhow::Result<ExitCode> {
    let c = engine.container(&args.container)?;
    let wanted = match &args.port {
        Some(p) => {
            let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            let port: u16 = port.parse().with_context(|| format!("invalid port {p:?}: use PORT or PORT/PROTOCOL"))?;
            Some((port, proto.to_ascii_lowercase()))
        }
        None => None,
    };
    let mut found = false;
    for p in &c.options.ports {
        let host = format!("{}:{}", p.host_ip.map_or_else(|| "0.0.0.0".into(), |i| i.to_string()), p.host_port);
        match &wanted {
            Some((port, proto)) if p.container_port == *port && p.protocol.as_str() == proto => {
                println!("{host}");
                found = true;
            }
            Some(_) => {}
            None => println!("{}/{} -> {host}", p.container_port, p.protocol),
        }
    }
    if let (Some(p), false) = (&args.port, found) {
        bail!("failed to find published port {p:?}");
    }
    Ok(ExitCode::SUCCESS)
}
