//! TLS for `--serve` beyond loopback: the token, the cookie and registry passwords never cross
//! a network in the clear. The certificate is self-signed, made on first use and kept in the
//! app's config directory (`$XDG_CONFIG_HOME/berth/serve/`, the key 0600), so the browser
//! meets the same one every time; its SHA-256 fingerprint, printed at start, is what the user
//! compares with the one the browser shows before trusting it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use sha2::Digest;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A server's certificate and key, ready to serve.
#[derive(Clone)]
pub struct Identity {
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the certificate, as browsers show it: `AB:CD:…`, 32 pairs.
    pub fingerprint: String,
}

/// Where the certificate is kept: `$XDG_CONFIG_HOME/berth/serve`, else `~/.config/berth/serve`.
pub fn default_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("XDG_CONFIG_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".config")))
        .unwrap_or_else(|| PathBuf::from("/etc"))
        .join("berth/serve")
}

/// The SHA-256 fingerprint of a certificate (DER), upper-case pairs joined by colons.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = sha2::Sha256::digest(der);
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The identity kept in `dir` (`cert.pem`, `key.pem`), made there first when there is none
/// (or only half of one): for the names `localhost`, this host's name and `ip`.
pub fn load_or_make(dir: &Path, ip: std::net::IpAddr) -> anyhow::Result<Identity> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !(cert.is_file() && key.is_file()) {
        make(dir, &cert, &key, ip)?;
    }
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(&cert).and_then(|i| i.collect()).with_context(|| {
            format!("reading {}: remove it and key.pem beside it to make a new certificate", cert.display())
        })?;
    let first = certs.first().with_context(|| format!("{} holds no certificate", cert.display()))?;
    let fingerprint = fingerprint(first);
    let private = PrivateKeyDer::from_pem_file(&key).with_context(|| {
        format!("reading {}: remove it and cert.pem beside it to make a new certificate", key.display())
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .with_context(|| format!("{} and {} do not make a certificate and its key", cert.display(), key.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Identity { config: Arc::new(config), fingerprint })
}

fn make(dir: &Path, cert: &Path, key: &Path, ip: std::net::IpAddr) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut names = vec!["localhost".to_string()];
    if let Ok(host) = nix::unistd::gethostname() {
        names.extend(host.into_string().ok().filter(|h| !h.is_empty() && h != "localhost"));
    }
    if !ip.is_unspecified() {
        names.push(ip.to_string());
    }
    let made = rcgen::generate_simple_self_signed(names).context("making a self-signed certificate")?;
    // The key first, 0600 from its creation; each file appears under its name whole.
    write_new(key, made.signing_key.serialize_pem().as_bytes(), 0o600)?;
    write_new(cert, made.cert.pem().as_bytes(), 0o644)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("pem.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// How long a client may take over its handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A TCP listener whose connections are TLS, for `axum::serve`: handshakes run in tasks of
/// their own, so a slow or broken client never holds up the others.
pub struct TlsListener {
    addr: std::net::SocketAddr,
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, std::net::SocketAddr)>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, identity: &Identity) -> std::io::Result<TlsListener> {
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(identity.config.clone());
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(c) => c,
                    // Out of descriptors and the like: wait a moment, as axum's own listener does.
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { addr, ready, accepting })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accepting task ended only by being aborted, with this listener.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_certificate_is_made_once_and_kept_with_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let serve = dir.path().join("berth/serve");
        let first = load_or_make(&serve, "192.0.2.2".parse().unwrap()).unwrap();
        let mode = |f: &str| std::fs::metadata(serve.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("key.pem"), 0o600, "the key is the user's alone");
        assert_eq!(mode("cert.pem"), 0o644);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        assert!(first.fingerprint.bytes().all(|c| c == b':' || c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        let der = CertificateDer::from_pem_file(serve.join("cert.pem")).unwrap();
        assert_eq!(fingerprint(&der), first.fingerprint, "the fingerprint is the kept certificate's");
        let again = load_or_make(&serve, "192.0.2.2".parse().unwrap()).unwrap();
        assert_eq!(again.fingerprint, first.fingerprint, "kept, not made again");
        assert_eq!(std::fs::read_dir(&serve).unwrap().count(), 2, "no temporary file left");

        // Half of one (the key lost): a new pair.
        std::fs::remove_file(serve.join("key.pem")).unwrap();
        let new = load_or_make(&serve, "192.0.2.2".parse().unwrap()).unwrap();
        assert_ne!(new.fingerprint, first.fingerprint);
        std::fs::write(serve.join("key.pem"), "not a key").unwrap();
        let e = load_or_make(&serve, "192.0.2.2".parse().unwrap()).err().unwrap().to_string();
        assert!(e.contains("key.pem") && e.contains("remove it"), "{e}");
    }
}
