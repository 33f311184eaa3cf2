//! Rootless networking through slirp4netns, for hosts without pasta (`--network slirp4netns`,
//! or the default when only slirp4netns is installed), as Podman 4 did it.
//!
//! slirp4netns puts a tap device in the container's namespace (10.0.2.100/24, gateway
//! 10.0.2.2, which also leads to the host's loopback, and DNS forwarding at 10.0.2.3) and carries
//! its traffic over the user's sockets. It runs in the foreground, so the monitor's outside
//! helper starts it in the background once it reports the network configured (`--ready-fd`);
//! published ports are then added through its API socket (`add_hostfwd`): slirp4netns itself
//! listens on the host port. Its pid is in `$RUNROOT/slirp4netns/ID.pid`.

use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ports::PortMapping;
use super::NetworkError;

pub const PROGRAM: &str = "slirp4netns";
/// The container's address and gateway in slirp4netns's default network.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

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
pub fn args(pid: i32, api: &Path) -> Vec<String> {
    vec![
        "--configure".into(),
        "--mtu=65520".into(),
        "--ready-fd=3".into(),
        "--api-socket".into(),
        api.display().to_string(),
        pid.to_string(),
        "tap0".into(),
    ]
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
pub fn start(run_root: &Path, id: &str, ports: &[PortMapping], pid: i32) -> Result<(), NetworkError> {
    let io = |what: &Path, e: std::io::Error| NetworkError::Invalid(format!("{}: {e}", what.display()));
    std::fs::create_dir_all(dir(run_root)).map_err(|e| io(&dir(run_root), e))?;
    let api = api_socket(run_root, id);
    let _ = std::fs::remove_file(&api);
    let slirp = crate::rootless::run_outside(crate::rootless::OutsideRun::Ready, PROGRAM, &args(pid, &api))
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
        let a = args(42, Path::new("/run/x.sock")).join(" ");
        assert_eq!(a, "--configure --mtu=65520 --ready-fd=3 --api-socket /run/x.sock 42 tap0");
    }
}
