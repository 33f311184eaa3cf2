//! A user-defined network's name server: names, aliases and short ids of the running
//! containers on it, answered to `nslookup` in a container; other names forwarded to the
//! upstream resolver (here one of the test's own, on loopback); nothing of it left once the
//! network's last container is gone.

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::{rdata, RData, Record};
use serde_json::Value;

use crate::World;

fn busybox(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let r = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

fn inspect(w: &World, name: &str) -> Value {
    let v: Value = serde_json::from_str(&w.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

/// A resolver on loopback that knows one name, `upstream.test` (192.0.2.7); returns its
/// address and how many queries it has answered.
fn upstream_resolver() -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(q) = Message::from_vec(&buf[..n]) else { continue };
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut r = Message::response(q.metadata.id, OpCode::Query);
            r.metadata.recursion_available = true;
            let Some(query) = q.queries.first() else { continue };
            r.add_query(query.clone());
            if query.name().to_ascii().trim_end_matches('.') == "upstream.test" {
                if query.query_type() == hickory_proto::rr::RecordType::A {
                    r.add_answer(Record::from_rdata(
                        query.name().clone(),
                        30,
                        RData::A(rdata::A(Ipv4Addr::new(192, 0, 2, 7))),
                    ));
                }
            } else {
                r.metadata.response_code = ResponseCode::NXDomain;
            }
            let _ = sock.send_to(&r.to_vec().unwrap(), from);
        }
    });
    (addr, count)
}

/// The name server helpers serving `network` (by their command line).
fn name_servers(network: &str) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let args: Vec<String> =
                cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            if args.iter().any(|a| a == "__berth-dns")
                && args.windows(2).any(|p| p[0] == "--network" && p[1] == network)
            {
                n += 1;
            }
        }
    }
    n
}

fn lookup(w: &World, network: &str, img: &str, name: &str) -> std::process::Output {
    w.berth(&["run", "--rm", "--network", network, img, "nslookup", name])
}

/// The addresses `nslookup` printed after the answer's `Name:` line.
fn answered(out: &std::process::Output) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let after = text.split_once("Name:").map(|(_, rest)| rest).unwrap_or("");
    after.lines().filter_map(|l| l.trim().strip_prefix("Address:")).map(|a| a.trim().to_string()).collect()
}

#[test]
fn names_aliases_and_ids_resolve_on_a_network_and_the_rest_goes_upstream() {
    let w = World::new();
    let (upstream, queries) = upstream_resolver();
    let config = std::fs::read_to_string(w.dir.path().join("berth.toml")).unwrap();
    std::fs::write(w.dir.path().join("berth.toml"), format!("{config}dns_forward = [\"{upstream}\"]\n")).unwrap();
    let img = busybox(&w);
    let net = format!("stack{}", std::process::id() % 10000);
    w.ok(&["network", "create", &net]);
    let id = w
        .ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--network",
            &net,
            "--network-alias",
            "www",
            "--network-alias",
            "Front",
            &img,
            "sleep",
            "300",
        ])
        .trim()
        .to_string();
    let web = inspect(&w, "web");
    let ip = web["NetworkSettings"]["Networks"][&net]["IPAddress"].as_str().unwrap().to_string();
    let aliases = &web["NetworkSettings"]["Networks"][&net]["Aliases"];
    assert_eq!(aliases, &serde_json::json!(["www", "Front", &id[..12]]), "{web}");
    assert_eq!(name_servers(&net), 1, "the first container started the network's name server");

    for name in ["web", "www", "front", "FRONT", &id[..12], "web.dns.berth"] {
        let out = lookup(&w, &net, &img, name);
        assert!(
            out.status.success(),
            "nslookup {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            answered(&out),
            std::slice::from_ref(&ip),
            "nslookup {name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // the reverse of its address names it
    let out = lookup(&w, &net, &img, &ip);
    assert!(String::from_utf8_lossy(&out.stdout).contains("web"), "{}", String::from_utf8_lossy(&out.stdout));
    // a name nobody has: NXDOMAIN at once; a name upstream knows: upstream's answer
    let before = queries.load(std::sync::atomic::Ordering::SeqCst);
    let out = lookup(&w, &net, &img, "nosuch");
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = lookup(&w, &net, &img, "upstream.test");
    assert_eq!(answered(&out), ["192.0.2.7"], "{}", String::from_utf8_lossy(&out.stdout));
    assert!(queries.load(std::sync::atomic::Ordering::SeqCst) > before, "asked upstream");
    // the container's resolv.conf names the network's server and search domain
    let resolv = String::from_utf8(w.ok(&["exec", "web", "cat", "/etc/resolv.conf"]).into()).unwrap();
    let gateway = inspect(&w, "web")["NetworkSettings"]["Gateway"].as_str().unwrap().to_string();
    assert!(resolv.contains(&format!("nameserver {gateway}")) && resolv.contains("search dns.berth"), "{resolv}");
    // /etc/hosts has the aliases too (for what doesn't ask DNS)
    let hosts = w.ok(&["run", "--rm", "--network", &net, &img, "cat", "/etc/hosts"]);
    assert!(hosts.contains("\twww\n") && hosts.contains("\tweb\n"), "{hosts}");

    // a stopped container is no longer answered; its network's server leaves after the last one
    w.ok(&["stop", "-t", "0", "web"]);
    let out = lookup(&w, &net, &img, "www");
    assert!(!out.status.success(), "a stopped container's alias: {}", String::from_utf8_lossy(&out.stdout));
    let t = Instant::now();
    while name_servers(&net) > 0 {
        assert!(t.elapsed() < Duration::from_secs(20), "the name server stayed after the network's last container");
        std::thread::sleep(Duration::from_millis(200));
    }
    // and comes back with the next one
    w.ok(&["start", "web"]);
    assert_eq!(answered(&lookup(&w, &net, &img, "www")), [ip]);
    w.ok(&["rm", "-f", "-t", "0", "web"]);
    w.ok(&["network", "rm", &net]);
    let t = Instant::now();
    while name_servers(&net) > 0 {
        assert!(t.elapsed() < Duration::from_secs(20), "the name server stayed after its network was removed");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn aliases_need_a_network_that_resolves_names() {
    let w = World::new();
    let img = busybox(&w);
    let e = w.fails(&["create", "--name", "a", "--network-alias", "www", &img]);
    assert!(e.contains("--network-alias www") && e.contains("berth network create"), "{e}");
    let e = w.fails(&["create", "--name", "b", "--network", "none", "--network-alias", "www", &img]);
    assert!(e.contains("--network-alias www"), "{e}");
    let net = format!("al{}", std::process::id() % 10000);
    w.ok(&["network", "create", &net]);
    let e = w.fails(&["create", "--name", "c", "--network", &net, "--network-alias", "-bad", &img]);
    assert!(e.contains("--network-alias \"-bad\""), "{e}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "nothing was created");
    // the default network keeps the host's name servers, and starts no name server
    let resolv = w.ok(&["run", "--rm", &img, "cat", "/etc/resolv.conf"]);
    assert!(!resolv.contains("dns.berth"), "{resolv}");
    assert_eq!(name_servers("berth"), 0);
    w.ok(&["network", "rm", &net]);
}
