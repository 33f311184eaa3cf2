//! What `--serve` lets in, against the server listening for real: only its own address in
//! `Host` and its own page in `Origin` (403 otherwise, token or not), the token moved from the
//! first URL into a cookie, and TLS with the certificate whose fingerprint it printed for an
//! address beyond loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use berth_desktop::serve::{self, Assets};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::World;

/// An HTTP/1.1 answer: status, headers (names lower case), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn parse(raw: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("not HTTP: {text:?}"));
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Answer { status, headers, body: body.to_string() }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// The bytes of a request: `METHOD PATH`, then headers as given (Host among them or not).
fn request(method_path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("{method_path} HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// Sends a request over plain TCP, exactly as written.
async fn send(addr: SocketAddr, method_path: &str, headers: &[(&str, &str)]) -> Answer {
    let bytes = request(method_path, headers);
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&bytes).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        Answer::parse(&raw)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_its_own_address_and_page_are_let_in() {
    let w = World::new().await;
    let s = serve::start(w.backend(), "127.0.0.1:0".parse().unwrap(), Assets::Embedded).await.unwrap();
    let port = s.addr.port();
    let own = format!("127.0.0.1:{port}");
    let bearer = format!("Bearer {}", s.token);
    let invoke = "POST /api/invoke/engine_info";

    // A DNS name rebound to 127.0.0.1: refused, with or without the token, page or API.
    let evil = format!("evil.example:{port}");
    for (what, headers) in [
        ("the page", vec![("Host", evil.as_str())]),
        ("the API", vec![("Host", evil.as_str()), ("Authorization", bearer.as_str())]),
    ] {
        let path = if what == "the page" { "GET /" } else { invoke };
        let a = send(s.addr, path, &headers).await;
        assert_eq!(a.status, 403, "{what}: {a:?}");
        assert_eq!(a.json()["code"], "forbidden");
        let message = a.json()["message"].as_str().unwrap().to_string();
        assert_eq!(
            message,
            format!(
                "forbidden: \"evil.example:{port}\" is not this server's address (a DNS name pointed at it?): open http://127.0.0.1:{port}/"
            )
        );
    }
    assert_eq!(send(s.addr, "GET /", &[("Host", &format!("127.0.0.1:{}", port + 1))]).await.status, 403);
    assert_eq!(send(s.addr, "GET /", &[]).await.status, 403, "no Host at all");

    // Its own address, in every loopback form, is let in.
    for host in [own.clone(), format!("localhost:{port}"), format!("[::1]:{port}")] {
        let a = send(s.addr, invoke, &[("Host", &host), ("Authorization", &bearer)]).await;
        assert_eq!(a.status, 200, "{host}: {a:?}");
        assert_eq!(a.json()["version"], env!("CARGO_PKG_VERSION"));
    }

    // A page of another origin (a site the browser has open) is refused, token or not.
    for origin in ["http://evil.example", "null", &format!("http://localhost:{port}"), &format!("https://{own}")] {
        let a = send(s.addr, invoke, &[("Host", &own), ("Origin", origin), ("Authorization", &bearer)]).await;
        assert_eq!(a.status, 403, "{origin}: {a:?}");
        assert!(a.json()["message"].as_str().unwrap().starts_with(&format!("forbidden: a request from {origin:?}")));
    }
    let a =
        send(s.addr, invoke, &[("Host", &own), ("Origin", &format!("http://{own}")), ("Authorization", &bearer)]).await;
    assert_eq!(a.status, 200, "its own page: {a:?}");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_moves_from_the_address_into_a_cookie() {
    let w = World::new().await;
    let s = serve::start(w.backend(), "127.0.0.1:0".parse().unwrap(), Assets::Embedded).await.unwrap();
    let own = s.addr.to_string();
    let cookie_name = format!("berth-token-{}", s.addr.port());

    let first = send(s.addr, &format!("GET /?token={}", s.token), &[("Host", &own)]).await;
    assert_eq!(first.status, 303, "{first:?}");
    assert_eq!(first.header("location"), Some("/"));
    assert_eq!(
        first.header("set-cookie").map(str::to_string),
        Some(format!("{cookie_name}={}; HttpOnly; SameSite=Strict; Path=/", s.token))
    );
    assert_eq!(first.header("cache-control"), Some("no-store"));
    // Other parameters and the path stay.
    let a = send(s.addr, &format!("GET /images?x=1&token={}&y=2", s.token), &[("Host", &own)]).await;
    assert_eq!((a.status, a.header("location")), (303, Some("/images?x=1&y=2")));
    // A wrong token sets nothing.
    let a = send(s.addr, "GET /?token=0123456789abcdef0123456789abcdef", &[("Host", &own)]).await;
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(a.header("set-cookie"), None);
    assert_eq!(a.json()["code"], "unauthorized");

    // The cookie is the token from then on: the API and the event stream.
    let cookie = format!("theme=dark; {cookie_name}={}", s.token);
    let a = send(s.addr, "POST /api/invoke/list_containers", &[("Host", &own), ("Cookie", &cookie)]).await;
    assert_eq!((a.status, a.json()), (200, serde_json::json!([])), "{a:?}");
    let wrong = format!("{cookie_name}=0123456789abcdef0123456789abcdef");
    let a = send(s.addr, "POST /api/invoke/list_containers", &[("Host", &own), ("Cookie", &wrong)]).await;
    assert_eq!(a.status, 401);
    let other_port = format!("berth-token-{}={}", s.addr.port() + 1, s.token);
    let a = send(s.addr, "POST /api/invoke/list_containers", &[("Host", &own), ("Cookie", &other_port)]).await;
    assert_eq!(a.status, 401, "another server's cookie is not this one's");
    let stream =
        reqwest::Client::new().get(format!("http://{own}/api/stream")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(
        (stream.status().as_u16(), stream.headers()["content-type"].to_str().unwrap()),
        (200, "text/event-stream")
    );
    drop(stream);
    s.stop();
}

/// A non-loopback IPv4 address of this machine (never talked to from elsewhere: the test's
/// client is on this machine too).
fn local_address() -> IpAddr {
    let out = Command::new("ip").args(["-4", "-o", "addr", "show"]).output().expect("running ip");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3)?.split('/').next()?.parse::<IpAddr>().ok())
        .find(|ip| !ip.is_loopback())
        .expect("this test needs a non-loopback IPv4 address on this machine (ip -4 addr shows none)")
}

/// `berth-desktop --serve ADDR` for real: its child, the fingerprint it printed, its URL.
fn serve_for_real(w: &World, addr: &str) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth-desktop"))
        .args(["--serve", addr])
        .env("BERTH_ROOT", w.dir.path().join("root"))
        .env("BERTH_RUNROOT", w.dir.path().join("run"))
        .env("XDG_CONFIG_HOME", w.dir.path().join("config"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let cert = w.dir.path().join("config/berth/serve/cert.pem");
    let fingerprint = first
        .trim()
        .strip_prefix(&format!("TLS certificate (self-signed, {}) SHA-256 fingerprint: ", cert.display()))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let url = second.trim().strip_prefix("Berth is serving on ").unwrap_or_else(|| panic!("{second:?}")).to_string();
    (child, fingerprint, url)
}

/// Accepts exactly the certificate whose SHA-256 is `fingerprint`, as a user who compared it
/// in the browser does; its signatures are checked as usual.
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

fn sha256_fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let presented = sha256_fingerprint(end_entity);
        if presented == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!("presented {presented}, printed {}", self.fingerprint)))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Sends a request over TLS to a server whose certificate must have `fingerprint`.
async fn send_tls(addr: SocketAddr, fingerprint: &str, method_path: &str, headers: &[(&str, &str)]) -> Answer {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { fingerprint: fingerprint.to_string(), provider }))
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::IpAddress(addr.ip().into()), tcp)
        .await
        .expect("the TLS handshake with the printed certificate");
    tls.write_all(&request(method_path, headers)).await.unwrap();
    let mut raw = Vec::new();
    // A close without TLS's close_notify ends the answer as well.
    let _ = tls.read_to_end(&mut raw).await;
    Answer::parse(&raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_it_speaks_tls_with_the_certificate_it_printed() {
    let w = World::new().await;
    let ip = local_address();
    let (mut child, fingerprint, url) = serve_for_real(&w, &format!("{ip}:0"));
    let rest = url.strip_prefix("https://").unwrap_or_else(|| panic!("not https: {url}"));
    let (addr, token) = rest.split_once("/?token=").unwrap();
    let addr: SocketAddr = addr.parse().unwrap();
    assert_eq!(addr.ip(), ip);
    let dir = w.dir.path().join("config/berth/serve");
    assert_eq!(std::fs::metadata(dir.join("key.pem")).unwrap().permissions().mode() & 0o777, 0o600);

    // The handshake presents the certificate printed; the token goes into a Secure cookie.
    let host = addr.to_string();
    let first = send_tls(addr, &fingerprint, &format!("GET /?token={token}"), &[("Host", &host)]).await;
    assert_eq!(first.status, 303, "{first:?}");
    let cookie = format!("berth-token-{}={token}", addr.port());
    assert_eq!(
        first.header("set-cookie").map(str::to_string),
        Some(format!("{cookie}; HttpOnly; SameSite=Strict; Path=/; Secure"))
    );
    let origin = format!("https://{host}");
    let headers = [("Host", host.as_str()), ("Origin", origin.as_str()), ("Cookie", cookie.as_str())];
    let a = send_tls(addr, &fingerprint, "POST /api/invoke/list_containers", &headers).await;
    assert_eq!((a.status, a.json()), (200, serde_json::json!([])), "{a:?}");
    let localhost = format!("localhost:{}", addr.port());
    let a = send_tls(addr, &fingerprint, "GET /", &[("Host", &localhost)]).await;
    assert_eq!(a.status, 403, "beyond loopback, localhost is another name: {a:?}");

    // Plain HTTP gets no answer of HTTP.
    let plain = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&request("GET /", &[("Host", &addr.to_string())])).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        raw
    })
    .await
    .unwrap();
    assert!(!plain.starts_with(b"HTTP/"), "plain HTTP answered: {:?}", String::from_utf8_lossy(&plain));
    let _ = child.kill();
    let _ = child.wait();

    // Started again, it shows the same certificate.
    let (mut again, second, _) = serve_for_real(&w, &format!("{ip}:0"));
    assert_eq!(second, fingerprint, "the certificate is kept");
    let _ = again.kill();
    let _ = again.wait();

    // On loopback, --tls asks for the same.
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth-desktop"))
        .args(["--serve", "127.0.0.1:0", "--tls"])
        .env("BERTH_ROOT", w.dir.path().join("root"))
        .env("BERTH_RUNROOT", w.dir.path().join("run"))
        .env("XDG_CONFIG_HOME", w.dir.path().join("config"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap()).lines().take(2).map(Result::unwrap).collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines[0].ends_with(&format!("SHA-256 fingerprint: {fingerprint}")), "{lines:?}");
    assert!(lines[1].starts_with("Berth is serving on https://127.0.0.1:"), "{lines:?}");

    // In-process, plain HTTP is refused beyond loopback before it listens.
    let e = serve::start(w.backend(), SocketAddr::new(ip, 0), Assets::Embedded).await.err().unwrap();
    assert_eq!(e.to_string(), format!("{ip}:0 is beyond loopback: serving it needs TLS"));
}
