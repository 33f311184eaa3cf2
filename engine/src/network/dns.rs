//! The name server of a user-defined network (aardvark-dns's role): one small helper process
//! per network (`__berth-dns`), listening on the network's gateway address, port 53, UDP and
//! TCP, for as long as a container on the network runs.
//!
//! It answers, for the containers on its network only, their names, their network aliases
//! (`--network-alias`, compose's service names) and their short ids, with or without the
//! `dns.berth` search domain, and the reverse (PTR) of their addresses. A name with a dot that
//! it does not know goes to the upstream resolvers (`dns_forward` in `[network]` of Berth's
//! config, else the host's /etc/resolv.conf: the helper runs in the host's network namespace,
//! so a resolver on the host's loopback works), and their answer comes back as it is.
//!
//! The first container started on the network starts the helper ([`ensure`], from the
//! monitor's launch, before the container's process runs) and waits until it listens; later
//! ones find it by its lock. The helper leaves when no container on its network has run for a
//! few seconds, or when the network is gone.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{rdata, Name, RData, Record, RecordType};
use rusqlite::{Connection, OptionalExtension};

use super::NetworkRecord;

pub use berth_userns::reexec::DNS_ARG;

/// The search domain the containers of a DNS network get: `web.dns.berth` is `web`.
pub const SEARCH_DOMAIN: &str = "dns.berth";
/// TTL of the answers about containers (they come and go).
const TTL: u32 = 60;
/// How long an upstream resolver may take.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the helper stays with no container running on its network.
const IDLE: Duration = Duration::from_secs(5);

/// The names of one network's containers, as the server answers them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    /// (lower-case name, address): names, aliases and short ids.
    pub names: Vec<(String, Ipv4Addr)>,
    /// (address, the container's name): for PTR.
    pub reverse: Vec<(Ipv4Addr, String)>,
    /// (alias as given, address): what /etc/hosts adds to the names.
    pub aliases: Vec<(String, Ipv4Addr)>,
    /// (lower-case name, IPv6 address): the same names on an IPv6 network, for AAAA.
    pub names6: Vec<(String, Ipv6Addr)>,
}

impl Directory {
    /// The running containers of `network` (running, paused or stopping), from the records.
    pub fn read(conn: &Connection, network: &str) -> rusqlite::Result<Directory> {
        Self::read_where(conn, network, "AND c.state IN ('running', 'paused', 'stopping')")
    }

    /// What `network`'s server answers the container at `client`: the running containers of
    /// its network and of every other network that container is on (as aardvark-dns answers:
    /// the first name server of a container on several networks knows all their names).
    pub fn for_client(conn: &Connection, network: &str, client: std::net::IpAddr) -> rusqlite::Result<Directory> {
        let mut d = Self::read(conn, network)?;
        let std::net::IpAddr::V4(client) = client else { return Ok(d) };
        let owner: Option<String> = conn
            .query_row(
                "SELECT container_id FROM network_addresses WHERE network = ? AND address = ?",
                [network.to_string(), client.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(owner) = owner else { return Ok(d) };
        let mut stmt = conn.prepare("SELECT network FROM network_addresses WHERE container_id = ? AND network != ?")?;
        let others: Vec<String> = stmt.query_map([&owner, network], |r| r.get(0))?.flatten().collect();
        for other in others {
            let more = Self::read(conn, &other)?;
            d.names.extend(more.names);
            d.reverse.extend(more.reverse);
            d.aliases.extend(more.aliases);
            d.names6.extend(more.names6);
        }
        Ok(d)
    }

    /// Every container on `network`, whatever its state.
    pub fn read_all(conn: &Connection, network: &str) -> rusqlite::Result<Directory> {
        Self::read_where(conn, network, "")
    }

    fn read_where(conn: &Connection, network: &str, state: &str) -> rusqlite::Result<Directory> {
        let mut stmt = conn.prepare(&format!(
            "SELECT c.id, c.name, c.config, a.address, a.address6 FROM network_addresses a JOIN containers c ON c.id = a.container_id
             WHERE a.network = ? {state} ORDER BY a.address"
        ))?;
        let rows = stmt.query_map([network], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut d = Directory::default();
        for (id, name, config, address, address6) in rows.flatten() {
            let Ok(ip) = address.parse::<Ipv4Addr>() else { continue };
            let aliases: Vec<String> = serde_json::from_str::<serde_json::Value>(&config)
                .ok()
                .and_then(|v| serde_json::from_value(v["network_aliases"].clone()).ok())
                .unwrap_or_default();
            d.aliases.extend(aliases.iter().map(|a| (a.clone(), ip)));
            let names: Vec<String> = std::iter::once(name.to_ascii_lowercase())
                .chain(aliases.iter().map(|a| a.to_ascii_lowercase()))
                .chain(std::iter::once(id[..12.min(id.len())].to_string()))
                .collect();
            if let Some(ip6) = address6.and_then(|a| a.parse::<Ipv6Addr>().ok()) {
                d.names6.extend(names.iter().map(|n| (n.clone(), ip6)));
            }
            d.names.extend(names.into_iter().map(|n| (n, ip)));
            d.reverse.push((ip, name));
        }
        Ok(d)
    }

    fn lookup(&self, name: &str) -> Vec<Ipv4Addr> {
        let mut found: Vec<Ipv4Addr> = self.names.iter().filter(|(n, _)| n == name).map(|(_, ip)| *ip).collect();
        found.dedup();
        found
    }

    fn lookup6(&self, name: &str) -> Vec<Ipv6Addr> {
        let mut found: Vec<Ipv6Addr> = self.names6.iter().filter(|(n, _)| n == name).map(|(_, ip)| *ip).collect();
        found.dedup();
        found
    }
}

/// What to do with a query.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// This response, as bytes.
    Reply(Vec<u8>),
    /// Not ours: the upstream resolvers answer it.
    Forward,
}

/// Answers a query (its bytes) from the directory, or says it is for upstream.
pub fn answer(query: &[u8], dir: &Directory) -> Answer {
    let Ok(msg) = Message::from_vec(query) else {
        // not a DNS message at all: a FORMERR with its id, when it has one
        return match query {
            [a, b, ..] => reply_code(u16::from_be_bytes([*a, *b]), ResponseCode::FormErr, None),
            _ => Answer::Reply(Vec::new()),
        };
    };
    let id = msg.metadata.id;
    if msg.metadata.message_type != MessageType::Query || msg.metadata.op_code != OpCode::Query {
        return reply_code(id, ResponseCode::NotImp, Some(&msg));
    }
    let Some(q) = msg.queries.first() else {
        return reply_code(id, ResponseCode::FormErr, Some(&msg));
    };
    let qname = q.name().to_lowercase().to_ascii();
    let qname = qname.trim_end_matches('.');
    let short = qname.strip_suffix(&format!(".{SEARCH_DOMAIN}")).unwrap_or(qname);
    let mut response = Message::response(id, OpCode::Query);
    response.metadata.recursion_desired = msg.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_query(q.clone());

    if let Some(ip) = reverse_name(qname) {
        return match dir.reverse.iter().find(|(a, _)| *a == ip) {
            Some((_, name)) if q.query_type() == RecordType::PTR => {
                response.metadata.authoritative = true;
                let target = Name::from_ascii(format!("{name}.")).unwrap_or_else(|_| Name::root());
                response.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::PTR(rdata::PTR(target))));
                encode(response)
            }
            Some(_) => {
                response.metadata.authoritative = true;
                encode(response)
            }
            None => Answer::Forward,
        };
    }
    let found = dir.lookup(short);
    if found.is_empty() {
        // a single label nobody on the network has: no resolver upstream knows it either
        if !short.contains('.') || qname.ends_with(SEARCH_DOMAIN) {
            response.metadata.response_code = ResponseCode::NXDomain;
            response.metadata.authoritative = true;
            return encode(response);
        }
        return Answer::Forward;
    }
    response.metadata.authoritative = true;
    // A gets the addresses, AAAA the IPv6 ones (on an IPv6 network), ANY both; other types of
    // a known name none
    if matches!(q.query_type(), RecordType::A | RecordType::ANY) {
        for ip in found {
            response.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::A(rdata::A(ip))));
        }
    }
    if matches!(q.query_type(), RecordType::AAAA | RecordType::ANY) {
        for ip in dir.lookup6(short) {
            response.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::AAAA(rdata::AAAA(ip))));
        }
    }
    encode(response)
}

fn encode(m: Message) -> Answer {
    Answer::Reply(m.to_vec().unwrap_or_default())
}

fn reply_code(id: u16, code: ResponseCode, query: Option<&Message>) -> Answer {
    let mut m = Message::response(id, OpCode::Query);
    m.metadata.response_code = code;
    if let Some(q) = query.and_then(|q| q.queries.first()) {
        m.add_query(q.clone());
    }
    encode(m)
}

/// `4.3.2.1.in-addr.arpa` → 1.2.3.4.
fn reverse_name(name: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let parts: Vec<u8> = rest.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    match parts[..] {
        [d, c, b, a] => Some(Ipv4Addr::new(a, b, c, d)),
        _ => None,
    }
}

/// The resolvers a name the network doesn't know goes to: `configured` (`dns_forward`), else
/// the name servers of the host's resolv.conf text.
pub fn upstreams(configured: &[SocketAddr], host_resolv: &str) -> Vec<SocketAddr> {
    if !configured.is_empty() {
        return configured.to_vec();
    }
    host_resolv
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// Sends the query to each upstream in turn; the first answer with the query's id.
fn forward(query: &[u8], upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    let id = query.get(..2)?;
    for up in upstreams {
        let bind: SocketAddr = if up.is_ipv4() { "0.0.0.0:0".parse().ok()? } else { "[::]:0".parse().ok()? };
        let Ok(sock) = UdpSocket::bind(bind) else { continue };
        if sock.connect(up).is_err() || sock.send(query).is_err() {
            continue;
        }
        let deadline = Instant::now() + FORWARD_TIMEOUT;
        let mut buf = vec![0u8; 65535];
        while let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
            let _ = sock.set_read_timeout(Some(left));
            match sock.recv(&mut buf) {
                Ok(n) if n >= 2 && &buf[..2] == id => return Some(buf[..n].to_vec()),
                Ok(_) => continue,
                Err(_) => break,
            }
        }
    }
    None
}

/// The answer to send for a query: ours, upstream's, or SERVFAIL when upstream is silent.
fn respond(
    query: &[u8],
    conn: &Connection,
    network: &str,
    client: std::net::IpAddr,
    upstreams: &[SocketAddr],
) -> Vec<u8> {
    let dir = Directory::for_client(conn, network, client).unwrap_or_default();
    match answer(query, &dir) {
        Answer::Reply(bytes) => bytes,
        Answer::Forward => forward(query, upstreams).unwrap_or_else(|| {
            let id = query.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            let q = Message::from_vec(query).ok();
            match reply_code(id, ResponseCode::ServFail, q.as_ref()) {
                Answer::Reply(b) => b,
                Answer::Forward => Vec::new(),
            }
        }),
    }
}

/// Where a network's helper keeps its lock: `$RUNROOT/dns/NETWORK.lock`.
fn lock_path(run_root: &Path, network: &str) -> PathBuf {
    run_root.join("dns").join(format!("{network}.lock"))
}

/// Whether the network's helper runs (it holds its lock for as long as it lives).
pub fn running(run_root: &Path, network: &str) -> bool {
    let Ok(f) = std::fs::OpenOptions::new().read(true).open(lock_path(run_root, network)) else { return false };
    match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(_held) => false, // we could take it: nobody holds it (dropping it lets go)
        Err(_) => true,
    }
}

/// Makes sure the network's name server runs, starting it when it doesn't; returns once it
/// listens. Errors say why it could not start (the container then runs without it: its
/// /etc/hosts still names its peers).
pub fn ensure(root: &Path, run_root: &Path, net: &NetworkRecord) -> Result<(), String> {
    if !net.dns || running(run_root, &net.name) {
        return Ok(());
    }
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("creating a pipe: {e}"))?;
    let mut cmd = berth_userns::reexec::helper_command().map_err(|e| format!("finding this binary: {e}"))?;
    let fd = ready_w.as_raw_fd();
    cmd.arg(DNS_ARG)
        .args(["--root".as_ref(), root.as_os_str()])
        .args(["--run-root".as_ref(), run_root.as_os_str()])
        .args(["--network", &net.name, "--ready-fd", &fd.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: clearing FD_CLOEXEC on the ready pipe's write end in the child before exec is
    // async-signal-safe (fcntl only).
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            let flags = nix::libc::fcntl(fd, nix::libc::F_GETFD);
            nix::libc::fcntl(fd, nix::libc::F_SETFD, flags & !nix::libc::FD_CLOEXEC);
            Ok(())
        });
    }
    let mut first = cmd.spawn().map_err(|e| format!("starting the name server of {}: {e}", net.name))?;
    drop(ready_w);
    // the first process forks the server and goes at once
    let _ = first.wait();
    let mut ready = std::fs::File::from(ready_r);
    let mut said = String::new();
    let _ = ready.read_to_string(&mut said);
    match said.trim() {
        "ok" | "running" => Ok(()),
        "" => Err(format!("the name server of {} ended before it listened", net.name)),
        other => Err(other.trim_start_matches("error ").to_string()),
    }
}

/// The helper (`__berth-dns --root DIR --run-root DIR --network NAME --ready-fd FD`).
pub(crate) fn helper_main(args: &[String]) -> i32 {
    let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let (Some(root), Some(run_root), Some(network), Some(ready_fd)) =
        (get("--root"), get("--run-root"), get("--network"), get("--ready-fd").and_then(|f| f.parse::<i32>().ok()))
    else {
        eprintln!("{DNS_ARG}: usage: --root DIR --run-root DIR --network NAME --ready-fd FD");
        return 2;
    };
    // SAFETY: the fd was handed to us by the starter for this use alone.
    let ready = unsafe { OwnedFd::from_raw_fd(ready_fd) };
    let say = |line: &str| {
        if let Ok(fd) = ready.try_clone() {
            let _ = writeln!(std::fs::File::from(fd), "{line}");
        }
    };
    // Nobody's child: the starter (a container's monitor) may go before this network's last
    // container does.
    // SAFETY: single-threaded here (just exec'd).
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { .. }) => return 0,
        Ok(nix::unistd::ForkResult::Child) => {}
        Err(e) => {
            say(&format!("error forking the name server: {e}"));
            return 1;
        }
    }
    let _ = nix::unistd::setsid();
    let lock_file = lock_path(Path::new(&run_root), &network);
    let _ = std::fs::create_dir_all(lock_file.parent().unwrap_or(Path::new("/")));
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_file);
    let _lock = match lock.map(|f| nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock)) {
        Ok(Ok(held)) => held,
        Ok(Err(_)) => {
            say("running"); // another one started meanwhile: it serves
            return 0;
        }
        Err(e) => {
            say(&format!("error {}: {e}", lock_file.display()));
            return 1;
        }
    };
    let db = Path::new(&root).join("state.db");
    let open = || Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY);
    let conn = match open() {
        Ok(c) => c,
        Err(e) => {
            say(&format!("error {}: {e}", db.display()));
            return 1;
        }
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let net = match super::get(&conn, &network) {
        Ok(Some(n)) => n,
        _ => {
            say(&format!("error network {network} not found"));
            return 1;
        }
    };
    let addr = SocketAddr::new(IpAddr::V4(net.gateway), 53);
    let (udp, tcp) = match (UdpSocket::bind(addr), TcpListener::bind(addr)) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => {
            say(&format!("error listening on {addr} for network {network}'s names: {e}"));
            return 1;
        }
    };
    let upstreams = {
        let configured = super::NetworkConfig::load_default().map(|c| c.dns_forward).unwrap_or_default();
        upstreams(&configured, &std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
    };
    say("ok");
    drop(ready);
    // stdio to /dev/null: nobody reads what it might print
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        for target in 0..3 {
            // SAFETY: dup2 onto the standard fds, which nothing in this process holds as owned
            unsafe { nix::libc::dup2(null.as_raw_fd(), target) };
        }
    }
    {
        let network = network.clone();
        let upstreams = upstreams.clone();
        let db = db.clone();
        std::thread::spawn(move || serve_tcp(tcp, &db, &network, &upstreams));
    }
    {
        let network = network.clone();
        let upstreams = upstreams.clone();
        let udp = match udp.try_clone() {
            Ok(u) => u,
            Err(_) => return 1,
        };
        let db = db.clone();
        std::thread::spawn(move || serve_udp(udp, &db, &network, &upstreams));
    }
    // stay while the network has a running container (or has had one in the last IDLE)
    let mut last_seen = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        match super::get(&conn, &network) {
            Ok(Some(n)) if n.id == net.id => {}
            Ok(_) => return 0, // removed (or removed and made again: its own helper then)
            Err(_) => continue,
        }
        match Directory::read(&conn, &network) {
            Ok(d) if !d.reverse.is_empty() => last_seen = Instant::now(),
            _ if last_seen.elapsed() > IDLE => return 0,
            _ => {}
        }
    }
}

fn serve_udp(sock: UdpSocket, db: &Path, network: &str, upstreams: &[SocketAddr]) {
    let Ok(conn) = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else { return };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
        let query = buf[..n].to_vec();
        match answer(&query, &Directory::for_client(&conn, network, from.ip()).unwrap_or_default()) {
            Answer::Reply(bytes) => {
                let _ = sock.send_to(&bytes, from);
            }
            Answer::Forward => {
                // upstream may be slow: not on this thread
                let (sock, upstreams, network, db) =
                    (sock.try_clone(), upstreams.to_vec(), network.to_string(), db.to_path_buf());
                std::thread::spawn(move || {
                    let Ok(sock) = sock else { return };
                    let Ok(conn) = Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
                        return;
                    };
                    let bytes = respond(&query, &conn, &network, from.ip(), &upstreams);
                    let _ = sock.send_to(&bytes, from);
                });
            }
        }
    }
}

fn serve_tcp(listener: TcpListener, db: &Path, network: &str, upstreams: &[SocketAddr]) {
    for stream in listener.incoming().flatten() {
        let (upstreams, network, db) = (upstreams.to_vec(), network.to_string(), db.to_path_buf());
        std::thread::spawn(move || {
            let Ok(conn) = Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
                return;
            };
            let _ = conn.busy_timeout(Duration::from_secs(5));
            serve_tcp_client(stream, &conn, &network, &upstreams);
        });
    }
}

/// DNS over TCP: each message after its two-byte length, as long as the client sends them.
fn serve_tcp_client(mut stream: TcpStream, conn: &Connection, network: &str, upstreams: &[SocketAddr]) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let client = stream.peer_addr().map_or(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        let reply = respond(&query, conn, network, client, upstreams);
        let Ok(n) = u16::try_from(reply.len()) else { return };
        if stream.write_all(&n.to_be_bytes()).and_then(|()| stream.write_all(&reply)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn query(name: &str, t: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.id = 4242;
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
        m.to_vec().unwrap()
    }

    fn dir() -> Directory {
        let web = Ipv4Addr::new(10, 90, 3, 2);
        Directory {
            names: vec![("proj_web_1".into(), web), ("web".into(), web), ("abcdef012345".into(), web)],
            reverse: vec![(web, "proj_web_1".into())],
            aliases: vec![("web".into(), web)],
            names6: Vec::new(),
        }
    }

    fn reply(bytes: Vec<u8>) -> Message {
        match answer(&bytes, &dir()) {
            Answer::Reply(b) => Message::from_vec(&b).unwrap(),
            Answer::Forward => panic!("forwarded"),
        }
    }

    #[test]
    fn names_aliases_and_ids_answer_with_the_address() {
        for name in ["web.", "WEB.", "proj_web_1.", "abcdef012345.", "web.dns.berth."] {
            let m = reply(query(name, RecordType::A));
            assert_eq!(m.metadata.id, 4242);
            assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{name}");
            assert!(m.metadata.authoritative && m.metadata.recursion_available);
            let ips: Vec<_> = m.answers.iter().map(|r| r.data.clone()).collect();
            assert_eq!(ips, [RData::A(rdata::A(Ipv4Addr::new(10, 90, 3, 2)))], "{name}");
        }
        // a known name has no IPv6 address: an empty answer, not a failure
        let m = reply(query("web.", RecordType::AAAA));
        assert_eq!((m.metadata.response_code, m.answers.len()), (ResponseCode::NoError, 0));
        // on an IPv6 network it has
        let mut d = dir();
        let web6: Ipv6Addr = "fd00:9::2".parse().unwrap();
        d.names6 = vec![("web".into(), web6)];
        let Answer::Reply(b) = answer(&query("web.", RecordType::AAAA), &d) else { panic!("forwarded") };
        let m = Message::from_vec(&b).unwrap();
        let ips: Vec<_> = m.answers.iter().map(|r| r.data.clone()).collect();
        assert_eq!(ips, [RData::AAAA(rdata::AAAA(web6))]);
    }

    #[test]
    fn unknown_single_labels_fail_here_and_dotted_names_go_upstream() {
        let m = reply(query("nosuch.", RecordType::A));
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        let m = reply(query("nosuch.dns.berth.", RecordType::A));
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        assert_eq!(answer(&query("example.test.", RecordType::A), &dir()), Answer::Forward);
        assert_eq!(answer(&query("9.9.9.10.in-addr.arpa.", RecordType::PTR), &dir()), Answer::Forward);
    }

    #[test]
    fn reverse_lookups_name_the_container() {
        let m = reply(query("2.3.90.10.in-addr.arpa.", RecordType::PTR));
        let data = &m.answers[0].data;
        assert_eq!(data, &RData::PTR(rdata::PTR(Name::from_ascii("proj_web_1.").unwrap())));
    }

    #[test]
    fn garbage_gets_a_format_error_with_its_id() {
        let Answer::Reply(b) = answer(&[0x12, 0x34, 0xff], &dir()) else { panic!() };
        let m = Message::from_vec(&b).unwrap();
        assert_eq!((m.metadata.id, m.metadata.response_code), (0x1234, ResponseCode::FormErr));
    }

    #[test]
    fn upstreams_are_the_configured_or_the_hosts() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver 192.0.2.1\noptions edns0\n";
        assert_eq!(upstreams(&[], host), ["127.0.0.53:53".parse().unwrap(), "192.0.2.1:53".parse().unwrap()]);
        let mine: SocketAddr = "127.0.0.1:5353".parse().unwrap();
        assert_eq!(upstreams(&[mine], host), [mine]);
    }
}
