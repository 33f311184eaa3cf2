//! Container networking with real containers: published TCP and UDP ports answering on
//! loopback and on the host's own addresses, containers talking by address and by name, host and
//! none modes, port conflicts, chosen ports, the per-container files, and nothing left behind
//! after a monitor is killed. Only loopback, the host's own addresses and the project's own
//! containers are contacted.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use berth_testkit::{Compression, ImageSpec};
use serde_json::{json, Value};

use crate::World;

/// A UDP echo server, built static from C with the host's gcc, for the test image.
fn udp_echo_binary() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("udp-echo.c");
    std::fs::write(
        &src,
        r#"#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[1]));
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) return 1;
    char buf[2048];
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len);
        if (n > 0) sendto(s, buf, n, 0, (struct sockaddr *)&peer, len);
    }
}
"#,
    )
    .unwrap();
    let out = dir.path().join("udp-echo");
    let status = std::process::Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("gcc (build-essential) builds the UDP echo server");
    assert!(status.success(), "gcc failed");
    std::fs::read(out).unwrap()
}

/// busybox plus the UDP echo server and a web root, exposing 80/tcp and 53/udp.
fn net_image(w: &World) -> String {
    let mut rootfs = berth_testkit::busybox_rootfs().unwrap();
    rootfs
        .file("bin/udp-echo", udp_echo_binary(), 0o755)
        .dir("www", 0o755)
        .file("www/index.html", b"hello from berth\n", 0o644)
        .file("www/big.bin", vec![7u8; 4 << 20], 0o644);
    let base = berth_testkit::busybox_image().unwrap();
    let mut config = base.config.clone();
    config["ExposedPorts"] = json!({"80/tcp": {}, "53/udp": {}});
    let spec = ImageSpec::new().layer(rootfs.build(), Compression::Gzip).with_config(config);
    w.push("net:latest", &spec);
    let reference = w.image_ref("net:latest");
    w.ok(&["pull", "-q", &reference]);
    reference
}

pub(crate) fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// GET `path` from `addr`; the body, or None when nothing answers.
pub(crate) fn http_get(addr: &str, path: &str) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status_ok = resp.starts_with(b"HTTP/1.0 200 ") || resp.starts_with(b"HTTP/1.1 200 ");
    status_ok.then(|| resp[split + 4..].to_vec())
}

fn udp_echo(addr: &str, msg: &[u8]) -> Option<Vec<u8>> {
    let s = UdpSocket::bind("127.0.0.1:0").ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    s.send_to(msg, addr).ok()?;
    let mut buf = [0u8; 2048];
    let (n, _) = s.recv_from(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The host's own IPv4 addresses, other than loopback and bridges.
fn host_addresses() -> Vec<String> {
    let out = std::process::Command::new("ip").args(["-4", "-o", "addr", "show", "scope", "global"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dev = *f.get(1)?;
            let is_bridge = std::path::Path::new("/sys/class/net").join(dev).join("bridge").exists();
            (!is_bridge).then(|| f.get(3)?.split('/').next().map(str::to_string)).flatten()
        })
        .collect()
}

fn inspect(w: &World, name: &str) -> Value {
    let v: Value = serde_json::from_str(&w.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

fn nft_rules_of(id: &str) -> usize {
    let out = std::process::Command::new("nft").args(["list", "table", "ip", "berth"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).matches(&format!("berth:{id}")).count()
}

fn link_exists(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

#[test]
fn published_tcp_and_udp_ports_answer_on_loopback_and_the_hosts_addresses() {
    let w = World::new();
    let img = net_image(&w);
    let (web, udp) = (free_port(), free_port());
    let id = w
        .ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "-p",
            &format!("{web}:80"),
            "-p",
            &format!("{udp}:53/udp"),
            &img,
            "sh",
            "-c",
            "udp-echo 53 & exec httpd -f -p 80 -h /www",
        ])
        .trim()
        .to_string();
    let local = format!("127.0.0.1:{web}");
    wait_for("httpd to answer", || http_get(&local, "/index.html").is_some());
    assert_eq!(http_get(&local, "/index.html").unwrap(), b"hello from berth\n");
    for addr in host_addresses() {
        assert_eq!(
            http_get(&format!("{addr}:{web}"), "/index.html").as_deref(),
            Some(&b"hello from berth\n"[..]),
            "the port answers on the host's address {addr}"
        );
    }
    let target = format!("127.0.0.1:{udp}");
    wait_for("the UDP echo", || udp_echo(&target, b"ping").is_some());
    assert_eq!(udp_echo(&target, b"hello over udp").unwrap(), b"hello over udp");

    assert_eq!(w.ok(&["port", "web"]), format!("80/tcp -> 0.0.0.0:{web}\n53/udp -> 0.0.0.0:{udp}\n"));
    assert_eq!(w.ok(&["port", "web", "80/tcp"]), format!("0.0.0.0:{web}\n"));
    let ps = w.ok(&["ps"]);
    assert!(ps.contains(&format!("0.0.0.0:{web}->80/tcp, 0.0.0.0:{udp}->53/udp")), "{ps}");
    let i = inspect(&w, "web");
    assert_eq!(i["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], web.to_string());
    assert!(i["NetworkSettings"]["IPAddress"].as_str().unwrap().starts_with("10."), "{i}");
    assert_eq!(nft_rules_of(&id), 2);

    w.ok(&["stop", "-t", "0", "web"]);
    assert_eq!(nft_rules_of(&id), 0, "a stopped container has no NAT rules");
    assert!(!link_exists(&format!("veth{}", &id[..8])), "no veth after stop");
    assert!(http_get(&local, "/index.html").is_none(), "nothing answers once it stopped");
    // It starts again on the same ports.
    w.ok(&["start", "web"]);
    wait_for("httpd to answer again", || http_get(&local, "/index.html").is_some());

    // A firewall reload takes its rules (here: only its own, others' tests run alongside);
    // `network reload` puts them back, once however often it runs.
    let listing =
        std::process::Command::new("nft").args(["-a", "list", "chain", "ip", "berth", "published"]).output().unwrap();
    let script: String = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| l.contains(&format!("berth:{id}")))
        .filter_map(|l| l.rsplit("# handle ").next())
        .map(|h| format!("delete rule ip berth published handle {}\n", h.trim()))
        .collect();
    let mut nft =
        std::process::Command::new("nft").args(["-f", "-"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    nft.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    assert!(nft.wait().unwrap().success());
    assert_eq!(nft_rules_of(&id), 0);
    assert!(http_get(&local, "/index.html").is_none(), "its port is gone with its rules");
    let ip = inspect(&w, "web")["NetworkSettings"]["IPAddress"].clone();
    assert_eq!(w.ok(&["network", "reload", "web"]), format!("{id}\n"));
    assert_eq!(nft_rules_of(&id), 2);
    wait_for("httpd to answer after the reload", || http_get(&local, "/index.html").is_some());
    assert!(w.ok(&["network", "reload", "--all"]).lines().any(|l| l == id));
    assert_eq!(nft_rules_of(&id), 2, "reloading intact rules changes nothing");
    assert_eq!(inspect(&w, "web")["NetworkSettings"]["IPAddress"], ip, "the address stays");
    w.ok(&["stop", "-t", "0", "web"]);
    let err = w.fails(&["network", "reload", "web"]);
    assert!(err.contains("container web is not running"), "{err}");
}

#[test]
fn host_ports_are_chosen_for_bare_and_all_exposed_ports() {
    let w = World::new();
    let img = net_image(&w);
    w.ok(&["run", "-d", "--name", "auto", "-p", "80", &img, "httpd", "-f", "-p", "80", "-h", "/www"]);
    let port = w.ok(&["port", "auto", "80"]);
    let addr = port.trim().replace("0.0.0.0", "127.0.0.1");
    wait_for("the chosen port to answer", || http_get(&addr, "/index.html").is_some());

    w.ok(&["run", "-d", "--name", "all", "-P", &img, "sh", "-c", "udp-echo 53 & exec httpd -f -p 80 -h /www"]);
    let ports = w.ok(&["port", "all"]);
    let lines: Vec<&str> = ports.lines().collect();
    assert_eq!(lines.len(), 2, "{ports}");
    let tcp = w.ok(&["port", "all", "80/tcp"]).trim().replace("0.0.0.0", "127.0.0.1");
    let udp = w.ok(&["port", "all", "53/udp"]).trim().replace("0.0.0.0", "127.0.0.1");
    assert_ne!(tcp, addr, "each container gets its own host port");
    wait_for("-P's TCP port", || http_get(&tcp, "/index.html").is_some());
    wait_for("-P's UDP port", || udp_echo(&udp, b"x").as_deref() == Some(b"x"));
}

#[test]
fn a_host_port_in_use_fails_the_start_and_leaves_no_network_behind() {
    let w = World::new();
    let img = net_image(&w);
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    // As Podman and Docker: the container is made, its start fails (126) and it stays, ready
    // for a start once the port is free; with --rm it goes. Nothing of its network is left.
    let publish = format!("{port}:80");
    let clash = ["run", "-d", "--name", "clash", "-p", &publish, &img, "httpd", "-f", "-p", "80", "-h", "/www"];
    let out = w.berth(&clash);
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("host port {port}/tcp on 0.0.0.0 is already in use")), "{err}");
    let out = w.berth(&["run", "--rm", "-d", "--name", "gone", "-p", &format!("{port}:80"), &img, "true"]);
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    assert_eq!(w.ok(&["ps", "-a", "--format", "{{.Names}}"]), "clash\n", "the failed one stays, the --rm one goes");
    let id = w.ok(&["inspect", "-f", "{{.Id}}", "clash"]);
    assert!(!link_exists(&format!("veth{}", &id[..8])), "no veth left");
    drop(taken);
    w.ok(&["start", "clash"]);
    wait_for("the freed port", || http_get(&format!("127.0.0.1:{port}"), "/index.html").is_some());
    w.ok(&["rm", "-f", "-t", "0", "clash"]);

    let err = w.fails(&["run", "-p", "70000:80", &img]);
    assert!(err.contains("invalid publish \"70000:80\": host port \"70000\" is not a port number"), "{err}");
    let err = w.fails(&["run", "--network", "nosuchnet", &img, "true"]);
    assert!(err.contains("network nosuchnet not found"), "{err}");
    // Podman drops published ports on a network the container does not own, and says so.
    let out = w.berth(&["run", "--rm", "--network", "host", "-p", "8080:80", &img, "true"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Port mappings have been discarded"), "{out:?}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");

    // A port held by a running container fails the next one's start.
    w.ok(&["run", "-d", "--name", "first", "-p", &format!("{port}:80"), &img, "httpd", "-f", "-p", "80", "-h", "/www"]);
    let err = w.fails(&["run", "-d", "--name", "second", "-p", &format!("{port}:80"), &img, "true"]);
    assert!(err.contains(&format!("host port {port}/tcp")), "{err}");
    assert_eq!(w.ok(&["ps", "--format", "{{.Names}}"]), "first\n");
}

#[test]
fn containers_talk_by_address_and_by_name() {
    let w = World::new();
    let img = net_image(&w);
    // The default network: by address.
    w.ok(&["run", "-d", "--name", "a", &img, "httpd", "-f", "-p", "80", "-h", "/www"]);
    let ip = inspect(&w, "a")["NetworkSettings"]["IPAddress"].as_str().unwrap().to_string();
    let got = w.ok(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        &format!("for i in 1 2 3 4 5; do wget -q -O - http://{ip}/index.html && exit 0; sleep 0.2; done; exit 1"),
    ]);
    assert_eq!(got, "hello from berth\n");

    // A user-defined network: by name, both ways, and the gateway is the host.
    w.ok(&["network", "create", "backend"]);
    w.ok(&["run", "-d", "--name", "db", "--network", "backend", &img, "httpd", "-f", "-p", "80", "-h", "/www"]);
    w.ok(&["run", "-d", "--name", "app", "--network", "backend", &img, "httpd", "-f", "-p", "80", "-h", "/www"]);
    // A third member reaches both by name.
    for name in ["db", "app"] {
        let got = w.ok(&[
            "run",
            "--rm",
            "--network",
            "backend",
            &img,
            "sh",
            "-c",
            &format!("for i in 1 2 3 4 5; do wget -q -O - http://{name}/index.html && exit 0; sleep 0.2; done; exit 1"),
        ]);
        assert_eq!(got, "hello from berth\n", "{name} by name");
    }
    // And each knows the other, whichever started first.
    let hosts_of = |name: &str| {
        let id = inspect(&w, name)["Id"].as_str().unwrap().to_string();
        std::fs::read_to_string(w.root().join("containers").join(id).join("hosts")).unwrap()
    };
    assert!(hosts_of("db").contains("\tapp\n"), "db knows app: {}", hosts_of("db"));
    assert!(hosts_of("app").contains("\tdb\n"), "app knows db: {}", hosts_of("app"));
    // A container that leaves is forgotten by the others.
    w.ok(&["rm", "-f", "app"]);
    let db_id = inspect(&w, "db")["Id"].as_str().unwrap().to_string();
    let hosts = std::fs::read_to_string(w.root().join("containers").join(&db_id).join("hosts")).unwrap();
    assert!(!hosts.contains("\tapp\n"), "{hosts}");
    // Not reachable by name from the default network.
    let out = w.berth(&["run", "--rm", &img, "wget", "-q", "-T", "1", "-O", "-", "http://db/index.html"]);
    assert!(!out.status.success());
}

#[test]
fn host_and_none_modes() {
    let w = World::new();
    let img = net_image(&w);
    let none = w.ok(&["run", "--rm", "--network", "none", &img, "sh", "-c", "ls /sys/class/net"]);
    assert_eq!(none, "lo\n");
    let host_links = {
        let mut v = crate::list_dir(std::path::Path::new("/sys/class/net"));
        v.sort();
        v
    };
    let seen = w.ok(&["run", "--rm", "--network", "host", &img, "ls", "/sys/class/net"]);
    let mut seen: Vec<String> = seen.lines().map(str::to_string).collect();
    seen.sort();
    for l in ["lo", "eth0"].iter().filter(|l| host_links.contains(&l.to_string())) {
        assert!(seen.contains(&l.to_string()), "host mode sees the host's {l}: {seen:?}");
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(w.ok(&["run", "--rm", "--network", "host", &img, "hostname"]), hostname);
    // A port opened in host mode is the host's.
    let port = free_port();
    w.ok(&[
        "run",
        "-d",
        "--name",
        "h",
        "--network",
        "host",
        &img,
        "httpd",
        "-f",
        "-p",
        &format!("127.0.0.1:{port}"),
        "-h",
        "/www",
    ]);
    let addr = format!("127.0.0.1:{port}");
    wait_for("the host-mode server", || http_get(&addr, "/index.html").is_some());
}

#[test]
fn the_container_files_name_it_and_its_hosts_and_name_servers() {
    let w = World::new();
    let img = net_image(&w);
    let out = w.ok(&[
        "run",
        "--rm",
        "--name",
        "files",
        "--hostname",
        "box",
        "--add-host",
        "db.test:10.1.2.3",
        "--dns",
        "10.9.9.9",
        "--dns-search",
        "corp.test",
        &img,
        "sh",
        "-c",
        "cat /etc/hosts; echo ==; cat /etc/resolv.conf; echo ==; cat /etc/hostname; hostname",
    ]);
    let parts: Vec<&str> = out.split("==\n").collect();
    assert!(parts[0].contains("10.1.2.3\tdb.test\n"), "{out}");
    assert!(parts[0].contains("\tbox files\n"), "{out}");
    assert!(parts[0].contains("host.containers.internal"), "{out}");
    assert_eq!(parts[1], "search corp.test\nnameserver 10.9.9.9\n");
    assert_eq!(parts[2], "box\nbox\n");
    let plain = w.ok(&["run", "--rm", &img, "cat", "/etc/resolv.conf"]);
    for line in plain.lines().filter(|l| l.starts_with("nameserver")) {
        let ip: std::net::IpAddr = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(!ip.is_loopback(), "no loopback name server: {plain}");
    }
}

#[test]
fn nothing_is_left_after_the_monitor_is_killed() {
    let w = World::new();
    let img = net_image(&w);
    let port = free_port();
    // a network with room for one container: the next one gets its address only once released
    // (addresses are handed out in turn otherwise)
    w.ok(&["network", "create", "probe"]);
    let subnet = w.ok(&["network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}", "probe"]);
    w.ok(&["network", "rm", "probe"]);
    let tiny = subnet.trim().replace("/24", "/30");
    w.ok(&["network", "create", "--subnet", &tiny, "tiny"]);
    let id = w.ok(&[
        "run",
        "-d",
        "--name",
        "orphan",
        "--network",
        "tiny",
        "-p",
        &format!("{port}:80"),
        &img,
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/www",
    ]);
    let id = id.trim();
    let addr = format!("127.0.0.1:{port}");
    wait_for("httpd", || http_get(&addr, "/index.html").is_some());
    let veth = format!("veth{}", &id[..8]);
    assert!(link_exists(&veth));
    assert_eq!(nft_rules_of(id), 1);
    let ip = inspect(&w, "orphan")["NetworkSettings"]["IPAddress"].as_str().unwrap().to_string();

    // kill -9 the monitor: the container lives on, unsupervised.
    let pids = std::process::Command::new("pgrep").args(["-f", &format!("__berth-monitor.*{id}")]).output().unwrap();
    let monitor: i32 = String::from_utf8_lossy(&pids.stdout).trim().parse().expect("one monitor");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(monitor), nix::sys::signal::Signal::SIGKILL).unwrap();
    w.ok(&["rm", "-f", "orphan"]);
    wait_for("the veth to go", || !link_exists(&veth));
    assert_eq!(nft_rules_of(id), 0, "no NAT rule left");
    assert!(std::net::TcpListener::bind(("0.0.0.0", port)).is_ok(), "the host port is free again");
    // The address is free again: the next container gets it.
    w.ok(&["run", "-d", "--name", "next", "--network", "tiny", &img, "sleep", "100"]);
    assert_eq!(inspect(&w, "next")["NetworkSettings"]["IPAddress"], ip, "the address was released");
    // No network namespace is left: every one is a container's init's, and that is gone.
    let netns_left = std::process::Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&netns_left.stdout).contains(id), "no named netns");
    w.ok(&["rm", "-f", "-t", "0", "next"]);
    w.ok(&["network", "rm", "tiny"]);
}

#[test]
fn networks_are_created_listed_inspected_and_removed() {
    let w = World::new();
    let img = net_image(&w);
    assert_eq!(w.ok(&["network", "create", "--subnet", "10.177.3.0/24", "front"]), "front\n");
    let ls = w.ok(&["network", "ls"]);
    assert!(ls.starts_with("NETWORK ID    NAME        DRIVER\n"), "{ls}");
    assert!(ls.contains("  front       bridge\n") && ls.contains("  berth       bridge\n"), "{ls}");
    let i: Value = serde_json::from_str(&w.ok(&["network", "inspect", "front"])).unwrap();
    assert_eq!(i[0]["subnets"][0]["subnet"], "10.177.3.0/24");
    assert_eq!(i[0]["subnets"][0]["gateway"], "10.177.3.1");
    assert_eq!(i[0]["dns_enabled"], true);
    let bridge = i[0]["network_interface"].as_str().unwrap().to_string();

    let err = w.fails(&["network", "create", "--subnet", "10.177.3.128/25", "overlap"]);
    assert!(err.contains("subnet 10.177.3.128/25 overlaps network front's 10.177.3.0/24"), "{err}");
    let err = w.fails(&["network", "create", "front"]);
    assert!(err.contains("network name front already used"), "{err}");
    let err = w.fails(&["network", "create", "bad name"]);
    assert!(err.contains("invalid network name \"bad name\""), "{err}");

    w.ok(&["run", "-d", "--name", "member", "--network", "front", &img, "sleep", "100"]);
    assert_eq!(inspect(&w, "member")["NetworkSettings"]["IPAddress"], "10.177.3.2");
    assert!(link_exists(&bridge));
    let err = w.fails(&["network", "rm", "front"]);
    assert!(err.contains("network front is used by container(s) member"), "{err}");
    let err = w.fails(&["network", "rm", "berth"]);
    assert!(err.contains("default network berth cannot be removed"), "{err}");
    assert_eq!(w.ok(&["network", "rm", "-t", "0", "-f", "front"]), "front\n");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "its container went with it");
    assert!(!link_exists(&bridge), "its bridge is gone");
    let err = w.fails(&["network", "inspect", "front"]);
    assert!(err.contains("network front not found"), "{err}");

    // as Podman: a missing network is status 1 with its words, nothing at all with --force
    let out = w.berth(&["network", "rm", "front"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error: unable to find network with name or ID front: network not found"
    );
    assert_eq!(w.ok(&["network", "rm", "-f", "front"]), "");
    let ls = w.ok(&["network", "ls", "--noheading"]);
    assert!(!ls.contains("NETWORK ID") && ls.contains("  berth "), "{ls}");
}

#[test]
fn slirp4netns_takes_its_network_from_cidr() {
    let w = World::new();
    let img = net_image(&w);
    let out = w.ok(&[
        "run",
        "--rm",
        "--name",
        "slow",
        "--network",
        "slirp4netns:cidr=10.178.4.0/24",
        &img,
        "sh",
        "-c",
        "ip -4 addr show tap0; cat /etc/hosts /etc/resolv.conf",
    ]);
    assert!(out.contains("inet 10.178.4.100/24 "), "the 100th address: {out}");
    assert!(out.contains("\n10.178.4.100\t"), "its hosts line: {out}");
    assert!(out.contains("\nnameserver 10.178.4.3\n"), "slirp4netns's DNS first: {out}");
    let err = w.fails(&["run", "--rm", "--network", "slirp4netns:cidr=10.1.0.0/28", &img, "true"]);
    assert!(err.contains("cidr=10.1.0.0/28: too small"), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "nothing made");
}
