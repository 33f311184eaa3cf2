//! A container on several networks (`--network a --network b`, `network connect` and
//! `disconnect` while it runs), and `--internal` networks: interfaces, routes, name servers
//! and names as a user sees them from inside, and nothing left on the host afterwards.

use crate::World;

fn ok(w: &World, args: &[&str]) -> String {
    w.ok(args).trim_end().to_string()
}

fn busybox(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let r = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

/// The host ends of the veths on these networks' bridges (other tests' containers, on other
/// networks, come and go meanwhile).
fn veths(w: &World, networks: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for n in networks {
        let bridge = ok(w, &["network", "inspect", "--format", "{{.NetworkInterface}}", n]);
        let ports = std::fs::read_dir(format!("/sys/class/net/{bridge}/brif")).unwrap();
        found.extend(ports.flatten().map(|e| e.file_name().to_string_lossy().into_owned()));
    }
    found
}

fn link_exists(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

fn lookup(w: &World, ctr: &str, name: &str) -> Option<String> {
    let out = ok(w, &["exec", ctr, "sh", "-c", &format!("nslookup {name} 2>/dev/null | grep '^Address:' | tail -1")]);
    out.strip_prefix("Address: ").map(|a| a.trim().to_string()).filter(|a| !a.contains('#') && !a.contains(":53"))
}

/// A name that should resolve: asked again for a while (a query over UDP on a loaded machine
/// may go unanswered in busybox's time).
fn resolves(w: &World, ctr: &str, name: &str) -> Option<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = lookup(w, ctr, name);
        if found.is_some() || std::time::Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_container_on_two_networks_and_one_joined_while_running() {
    let w = World::new();
    let img = busybox(&w);
    ok(&w, &["network", "create", "front"]);
    ok(&w, &["network", "create", "back"]);
    ok(&w, &["run", "-d", "--name", "both", "--network", "front", "--network", "back", &img, "sleep", "1000"]);
    ok(&w, &["run", "-d", "--name", "db", "--network", "back", &img, "sleep", "1000"]);
    let addrs = ok(&w, &["exec", "both", "ip", "-o", "-4", "addr"]);
    assert!(addrs.contains(" eth0 ") && addrs.contains(" eth1 "), "{addrs}");
    let routes = ok(&w, &["exec", "both", "ip", "route"]);
    assert_eq!(routes.lines().filter(|l| l.starts_with("default")).count(), 1, "one default route: {routes}");
    assert!(routes.lines().any(|l| l.starts_with("default") && l.contains("eth0")), "{routes}");
    let resolv = ok(&w, &["exec", "both", "cat", "/etc/resolv.conf"]);
    assert_eq!(resolv.lines().filter(|l| l.starts_with("nameserver")).count(), 2, "{resolv}");
    // its first network's name server knows the names of its other network
    let db_ip = ok(&w, &["inspect", "--format", "{{.NetworkSettings.Networks.back.IPAddress}}", "db"]);
    assert_eq!(resolves(&w, "both", "db").as_deref(), Some(db_ip.as_str()));
    let nets = ok(&w, &["inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "both"]);
    let mut nets: Vec<&str> = nets.split_whitespace().collect();
    nets.sort();
    assert_eq!(nets, ["back", "front"]);

    // joined and left while it runs
    ok(&w, &["run", "-d", "--name", "late", "--network", "front", &img, "sleep", "1000"]);
    assert_eq!(lookup(&w, "db", "late"), None, "not on back yet");
    ok(&w, &["network", "connect", "--alias", "latecomer", "back", "late"]);
    let late_ip = ok(&w, &["inspect", "--format", "{{.NetworkSettings.Networks.back.IPAddress}}", "late"]);
    assert_eq!(resolves(&w, "db", "late").as_deref(), Some(late_ip.as_str()));
    assert_eq!(resolves(&w, "db", "latecomer").as_deref(), Some(late_ip.as_str()));
    assert!(ok(&w, &["exec", "late", "ip", "-o", "-4", "addr"]).contains(&late_ip));
    let err = w.fails(&["network", "connect", "back", "late"]);
    assert!(err.contains("already connected to network back"), "{err}");
    ok(&w, &["network", "disconnect", "back", "late"]);
    assert!(!ok(&w, &["exec", "late", "ip", "-o", "-4", "addr"]).contains(&late_ip));
    assert_eq!(lookup(&w, "db", "late"), None, "gone from back's names");

    // its first network left while it runs: the next one has the default route
    ok(&w, &["network", "disconnect", "front", "both"]);
    let routes = ok(&w, &["exec", "both", "ip", "route"]);
    assert!(routes.lines().any(|l| l.starts_with("default") && l.contains("eth1")), "{routes}");
    assert!(!ok(&w, &["exec", "both", "ip", "-o", "-4", "addr"]).contains(" eth0 "));
    // its only network left: loopback alone; joined again, a new address and MAC
    let field =
        |f: &str| ok(&w, &["inspect", "--format", &format!("{{{{.NetworkSettings.Networks.front.{f}}}}}"), "late"]);
    let (old_ip, old_mac) = (field("IPAddress"), field("MacAddress"));
    ok(&w, &["network", "disconnect", "front", "late"]);
    assert_eq!(ok(&w, &["exec", "late", "ip", "-o", "-4", "addr"]).lines().count(), 1, "lo alone");
    ok(&w, &["network", "connect", "front", "late"]);
    assert_ne!(field("IPAddress"), old_ip);
    assert_ne!(field("MacAddress"), old_mac);
    let routes = ok(&w, &["exec", "late", "ip", "route"]);
    assert!(routes.lines().any(|l| l.starts_with("default") && l.contains("eth0")), "{routes}");

    let ours = veths(&w, &["front", "back"]);
    assert_eq!(ours.len(), 3, "both, db on back, late on front: {ours:?}");
    ok(&w, &["rm", "-f", "-t", "0", "both", "db", "late"]);
    let left: Vec<&String> = ours.iter().filter(|v| link_exists(v)).collect();
    assert!(left.is_empty(), "no veth left on the host: {left:?}");
    ok(&w, &["network", "rm", "front", "back"]);
}

#[test]
fn an_internal_network_has_no_way_out() {
    let w = World::new();
    let img = busybox(&w);
    ok(&w, &["network", "create", "--internal", "vault"]);
    assert_eq!(ok(&w, &["network", "inspect", "--format", "{{.Internal}}", "vault"]), "true");
    ok(&w, &["run", "-d", "--name", "keeper", "--network", "vault", &img, "sleep", "1000"]);
    let routes = ok(&w, &["exec", "keeper", "ip", "route"]);
    assert!(!routes.contains("default"), "no default route on an internal network: {routes}");
    // a peer on the network is reachable (a refused connection is an answer), the host's other
    // networks are not
    ok(&w, &["run", "-d", "--name", "peer", "--network", "vault", &img, "sleep", "1000"]);
    let peer = w.berth(&["exec", "keeper", "nc", "-w", "2", "peer", "9"]);
    assert!(String::from_utf8_lossy(&peer.stderr).contains("refused"), "{}", String::from_utf8_lossy(&peer.stderr));
    // the default network's gateway is an address of this host, outside the network
    let out = w.berth(&["exec", "keeper", "nc", "-w", "2", "10.87.0.1", "9"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unreachable"), "{}", String::from_utf8_lossy(&out.stderr));
    ok(&w, &["rm", "-f", "-t", "0", "keeper", "peer"]);
    ok(&w, &["network", "rm", "vault"]);
}

/// The MAC of interface `ifname` inside `ctr`, as `ip link` shows it.
fn mac_inside(w: &World, ctr: &str, ifname: &str) -> String {
    let link = ok(w, &["exec", ctr, "ip", "-o", "link", "show", ifname]);
    link.split("link/ether ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or_default().to_string()
}

#[test]
fn mac_addresses_asked_for_and_made_are_set_shown_and_kept_across_restarts() {
    let w = World::new();
    let img = busybox(&w);
    ok(&w, &["network", "create", "macs"]);
    ok(&w, &["network", "create", "macs2"]);
    let cid = ok(
        &w,
        &[
            "run",
            "-d",
            "--mac-address",
            "92:D0:C6:0A:29:33",
            "--network",
            "macs",
            "--network",
            "macs2",
            &img,
            "sleep",
            "1000",
        ],
    );
    assert_eq!(mac_inside(&w, &cid, "eth0"), "92:d0:c6:0a:29:33");
    let shown = |net: &str| {
        ok(&w, &["inspect", "--format", &format!("{{{{.NetworkSettings.Networks.{net}.MacAddress}}}}"), &cid])
    };
    assert_eq!(shown("macs"), "92:d0:c6:0a:29:33");
    assert_eq!(ok(&w, &["inspect", "--format", "{{.NetworkSettings.MacAddress}}", &cid]), "92:d0:c6:0a:29:33");
    // the second network's is made, unicast and locally administered, and the same after a restart
    let second = mac_inside(&w, &cid, "eth1");
    assert!(second.starts_with("02:") && second.len() == 17, "{second}");
    assert_eq!(shown("macs2"), second);
    ok(&w, &["restart", "-t", "0", &cid]);
    assert_eq!(mac_inside(&w, &cid, "eth0"), "92:d0:c6:0a:29:33");
    assert_eq!(mac_inside(&w, &cid, "eth1"), second);

    // a pod's MAC is its infra's, which its members share
    ok(&w, &["pod", "create", "--name", "macpod", "--network", "macs", "--mac-address", "92:d0:c6:0a:29:34"]);
    let links = ok(&w, &["run", "--rm", "--pod", "macpod", &img, "ip", "link", "show"]);
    assert!(links.contains("link/ether 92:d0:c6:0a:29:34 "), "{links}");

    // bad input: named, and nothing made
    let before = ok(&w, &["ps", "-aq"]);
    for (bad, why) in [("92:d0:c6:0a:29", "not a MAC address"), ("01:00:5e:00:00:01", "multicast")] {
        let err = w.fails(&["create", "--mac-address", bad, "--network", "macs", &img, "true"]);
        assert!(err.contains(&format!("invalid --mac-address \"{bad}\"")) && err.contains(why), "{err}");
    }
    let err = w.fails(&["create", "--mac-address", "92:d0:c6:0a:29:35", "--network", "none", &img, "true"]);
    assert!(err.contains("--mac-address 92:d0:c6:0a:29:35") && err.contains("--network none"), "{err}");
    let err = w.fails(&["create", "--pod", "macpod", "--mac-address", "92:d0:c6:0a:29:35", &img, "true"]);
    assert!(err.contains("network cannot be configured when it is shared with a pod"), "{err}");
    assert_eq!(ok(&w, &["ps", "-aq"]), before);
    ok(&w, &["pod", "rm", "-f", "-t", "0", "macpod"]);
    ok(&w, &["rm", "-f", "-t", "0", &cid]);
}

#[test]
fn an_ipv6_network_gives_its_containers_ipv6_addresses_routes_and_names() {
    let w = World::new();
    let img = busybox(&w);
    ok(&w, &["network", "create", "--ipv6", "six"]);
    let subnets = ok(&w, &["network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}} {{end}}", "six"]);
    let subnet6 = subnets.split_whitespace().find(|s| s.contains(':')).expect("an IPv6 subnet").to_string();
    assert!(subnet6.starts_with("fd") && subnet6.ends_with("::/64"), "{subnets}");
    assert_eq!(ok(&w, &["network", "inspect", "--format", "{{.IPv6Enabled}}", "six"]), "true");

    ok(&w, &["run", "-d", "--name", "a6", "--network", "six", &img, "sleep", "1000"]);
    // busybox ping needs a raw socket
    ok(&w, &["run", "-d", "--name", "b6", "--cap-add", "NET_RAW", "--network", "six", &img, "sleep", "1000"]);
    let field = |ctr: &str, f: &str| {
        ok(&w, &["inspect", "--format", &format!("{{{{.NetworkSettings.Networks.six.{f}}}}}"), ctr])
    };
    let a6 = field("a6", "GlobalIPv6Address");
    let prefix = subnet6.trim_end_matches("/64").trim_end_matches(':');
    assert!(a6.starts_with(prefix), "{a6} in {subnet6}");
    assert_eq!(field("a6", "GlobalIPv6PrefixLen"), "64");
    let gw6 = field("a6", "IPv6Gateway");
    assert_eq!(gw6, format!("{prefix}::1"));
    assert!(ok(&w, &["exec", "a6", "ip", "-6", "addr", "show", "eth0"]).contains(&format!("{a6}/64")));
    let routes = ok(&w, &["exec", "a6", "ip", "-6", "route"]);
    assert!(routes.lines().any(|l| l.starts_with("default via") && l.contains(&gw6)), "{routes}");
    // the other container and the gateway answer over IPv6, by address and by name
    ok(&w, &["exec", "b6", "ping", "-6", "-c", "1", "-W", "5", &a6]);
    ok(&w, &["exec", "b6", "ping", "-6", "-c", "1", "-W", "5", &gw6]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let aaaa = loop {
        let out =
            ok(&w, &["exec", "b6", "sh", "-c", "nslookup -type=AAAA a6 2>/dev/null | grep '^Address:' | tail -1"]);
        if out.contains(&a6) || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(aaaa.contains(&a6), "AAAA of a6: {aaaa}");
    let hosts = ok(&w, &["exec", "a6", "cat", "/etc/hosts"]);
    assert!(hosts.lines().any(|l| l.starts_with(&format!("{a6}\t")) && l.ends_with(" a6")), "{hosts}");

    // a subnet given, and bad ones named
    ok(&w, &["network", "create", "--subnet", "fd00:beef:77::/64", "--subnet", "10.77.6.0/24", "six2"]);
    assert_eq!(
        ok(&w, &["network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}} {{end}}", "six2"]),
        "10.77.6.0/24 fd00:beef:77::/64"
    );
    let err = w.fails(&["network", "create", "--subnet", "fd00:beef:77:0:1::/80", "six3"]);
    assert!(err.contains("overlaps network six2's fd00:beef:77::/64"), "{err}");
    let err = w.fails(&["network", "create", "--subnet", "fd00:beef:78::/125", "six3"]);
    assert!(err.contains("subnet fd00:beef:78::/125 is too small"), "{err}");
    let err = w.fails(&["network", "create", "--subnet", "fd00:beef:78::/64", "--subnet", "fd00:beef:79::/64", "six3"]);
    assert!(err.contains("at most one IPv4 and one IPv6 subnet"), "{err}");
    assert!(w.fails(&["network", "inspect", "six3"]).contains("six3"));

    ok(&w, &["rm", "-f", "-t", "0", "a6", "b6"]);
    ok(&w, &["network", "rm", "six", "six2"]);
    let table = std::process::Command::new("nft").args(["list", "set", "ip6", "berth", "subnets"]).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(!table.contains(prefix) && !table.contains("fd00:beef:77"), "the subnets are forgotten: {table}");
}

#[test]
fn published_ports_move_to_the_next_network_when_the_first_is_left() {
    let w = World::new();
    let img = busybox(&w);
    ok(&w, &["network", "create", "pfirst"]);
    ok(&w, &["network", "create", "psecond"]);
    let port = crate::network::free_port();
    let addr = format!("127.0.0.1:{port}");
    ok(
        &w,
        &[
            "run",
            "-d",
            "--name",
            "pub",
            "-p",
            &format!("{port}:80"),
            "--network",
            "pfirst",
            &img,
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/etc",
        ],
    );
    crate::network::wait_for("httpd", || crate::network::http_get(&addr, "/hostname").is_some());
    ok(&w, &["network", "disconnect", "pfirst", "pub"]);
    assert!(crate::network::http_get(&addr, "/hostname").is_none(), "no network, no port");
    ok(&w, &["network", "connect", "pfirst", "pub"]);
    crate::network::wait_for("httpd again", || crate::network::http_get(&addr, "/hostname").is_some());
    ok(&w, &["network", "connect", "psecond", "pub"]);
    ok(&w, &["network", "disconnect", "pfirst", "pub"]);
    crate::network::wait_for("httpd through the second network", || {
        crate::network::http_get(&addr, "/hostname").is_some()
    });
    ok(&w, &["rm", "-f", "-t", "0", "pub"]);
}
