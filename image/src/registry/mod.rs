//! Talking to registries: resolve a reference to a platform manifest, fetch configs and layers.
//!
//! The wire protocol and token dance are oci-client's; this module adds what Podman users
//! expect around it: credentials from the auth files, insecure (plain HTTP) registries from
//! `registries.conf`, our own platform resolver (os/arch/variant), and errors that name the
//! reference, the host and what to do.

pub mod auth;
pub mod config;
pub mod platform;
mod upload;

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use oci_client::client::{BlobResponse, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::RegistryOperation;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

pub use auth::{AuthFiles, Credentials};
pub use config::RegistriesConfig;
pub use platform::Platform;

use crate::content::sha256_digest;
use crate::media_type::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use crate::reference::Reference;

const ACCEPT: &[&str] = &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry {host} is unreachable: {cause}")]
    Unreachable { host: String, cause: String },
    #[error(
        "registry {host} answers over plain HTTP only; to allow it, add to {config}:\n\n[[registry]]\nlocation = \"{host}\"\ninsecure = true"
    )]
    HttpOnly { host: String, config: String },
    #[error("registry {host} is blocked in {config}")]
    Blocked { host: String, config: String },
    #[error("{reference}: manifest unknown: the repository or tag does not exist in the registry")]
    NotFound { reference: String },
    #[error("{reference}: authentication required: log in with `berth login {host}`")]
    Unauthorized { reference: String, host: String },
    #[error("{reference}: access denied by {host}: check that these credentials may push to this repository")]
    Denied { reference: String, host: String },
    #[error("{reference}: credentials for {host} were refused: {message}")]
    AuthFailed { reference: String, host: String, message: String },
    #[error("{reference}: no image for platform {wanted} in the manifest list (it has: {available})")]
    NoPlatform { reference: String, wanted: String, available: String },
    #[error("{reference}: {message}")]
    Protocol { reference: String, message: String },
    #[error("{reference}: blob {digest} does not match its digest (got {actual}): refusing to store it")]
    DigestMismatch { reference: String, digest: String, actual: String },
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
}

/// A reference resolved to one image manifest.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub manifest: ImageManifest,
    pub manifest_bytes: Bytes,
    pub manifest_digest: String,
    pub manifest_media_type: String,
    /// Set when the reference named an index: its digest and raw bytes.
    pub index: Option<(String, Bytes)>,
}

/// A layer's bytes as they arrive; `resumed` says the stream starts at the offset asked for.
pub struct BlobStream {
    pub stream: BoxStream<'static, Result<Bytes, std::io::Error>>,
    pub resumed: bool,
}

/// An authenticated connection to one registry, for one reference's repository.
pub struct Registry {
    client: oci_client::Client,
    auth: RegistryAuth,
    host: String,
    reference: Reference,
    config_path: String,
    insecure: bool,
}

impl Registry {
    pub fn connect(
        reference: &Reference,
        config: &RegistriesConfig,
        auth_files: &AuthFiles,
    ) -> Result<Registry, RegistryError> {
        let host = reference.oci().resolve_registry().to_string();
        let config_path = config.suggested_path().display().to_string();
        if config.is_blocked(&reference.to_string()) {
            return Err(RegistryError::Blocked { host, config: config_path });
        }
        Self::connect_endpoint(reference, config.is_insecure(reference.registry()), config, auth_files)
    }

    /// A connection to one place a name is pulled from (a mirror, or the registry that
    /// `registries.conf` rewrites the name to), plain HTTP when `insecure`.
    pub fn connect_endpoint(
        reference: &Reference,
        insecure: bool,
        config: &RegistriesConfig,
        auth_files: &AuthFiles,
    ) -> Result<Registry, RegistryError> {
        let config_path = config.suggested_path().display().to_string();
        let auth = match auth_files.lookup(reference.registry())? {
            Some(c) => RegistryAuth::Basic(c.username, c.password),
            None => RegistryAuth::Anonymous,
        };
        Ok(Self::with_auth(reference, insecure, auth, config_path))
    }

    fn with_auth(reference: &Reference, insecure: bool, auth: RegistryAuth, config_path: String) -> Registry {
        let host = reference.oci().resolve_registry().to_string();
        let client = oci_client::Client::new(ClientConfig {
            protocol: if insecure { ClientProtocol::Http } else { ClientProtocol::Https },
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(15)),
            read_timeout: Some(Duration::from_secs(60)),
            max_concurrent_download: 6,
            // a push knows each blob's size: one PUT per blob, not a PATCH per chunk
            use_monolithic_push: true,
            user_agent: concat!("berth/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        });
        Registry { client, auth, host, reference: reference.clone(), config_path, insecure }
    }

    /// Checks credentials against a registry, as `berth login` does.
    pub async fn verify_login(host: &str, creds: &Credentials, config: &RegistriesConfig) -> Result<(), RegistryError> {
        // Any repository will do: the registry answers the /v2/ challenge for the whole host.
        let reference = Reference::parse(&format!("{host}/berth-login-check"))
            .map_err(|e| RegistryError::Protocol { reference: host.into(), message: e.to_string() })?;
        let auth = RegistryAuth::Basic(creds.username.clone(), creds.password.clone());
        let reg = Self::with_auth(
            &reference,
            config.is_insecure(host),
            auth.clone(),
            config.suggested_path().display().to_string(),
        );
        // A pull-scope token (or basic credentials) that the registry accepts, checked on /v2/.
        if let Err(e) = reg.client.auth(reference.oci(), &auth, RegistryOperation::Pull).await {
            return Err(reg.fail(e).await);
        }
        match reg.client.list_tags(reference.oci(), &auth, Some(1), None).await {
            Ok(_) => Ok(()),
            Err(OciDistributionError::UnauthorizedError { .. }) => Err(RegistryError::AuthFailed {
                reference: host.into(),
                host: host.into(),
                message: "invalid username or password".into(),
            }),
            // Unknown repository, denied scope and the like still prove the credentials work.
            Err(OciDistributionError::RegistryError { .. }) => Ok(()),
            Err(OciDistributionError::ServerError { code, .. }) if code == 404 || code == 403 => Ok(()),
            Err(e) => Err(reg.fail(e).await),
        }
    }

    /// Resolves the reference to the image manifest for `platform`.
    pub async fn resolve(&self, platform: &Platform) -> Result<Resolved, RegistryError> {
        let (bytes, digest) = self.manifest(&self.reference).await?;
        let kind = media_type_of(&bytes);
        if kind == OCI_INDEX || kind == DOCKER_LIST || is_index(&bytes) {
            let index: ImageIndex =
                serde_json::from_slice(&bytes).map_err(|e| self.protocol(format!("bad manifest list: {e}")))?;
            let chosen = choose(&index, platform).ok_or_else(|| RegistryError::NoPlatform {
                reference: self.reference.to_string(),
                wanted: platform.to_string(),
                available: available(&index),
            })?;
            let at = self.reference.at_digest(chosen.digest().as_ref());
            let (mbytes, mdigest) = self.manifest(&at).await?;
            let mut resolved = self.image_manifest(mbytes, mdigest)?;
            resolved.index = Some((digest, bytes));
            return Ok(resolved);
        }
        self.image_manifest(bytes, digest)
    }

    fn image_manifest(&self, bytes: Bytes, digest: String) -> Result<Resolved, RegistryError> {
        let media_type = media_type_of(&bytes);
        let manifest: ImageManifest =
            serde_json::from_slice(&bytes).map_err(|e| self.protocol(format!("bad image manifest: {e}")))?;
        if manifest.schema_version() != 2 {
            return Err(self.protocol(format!("unsupported manifest schema version {}", manifest.schema_version())));
        }
        let media_type = if media_type.is_empty() { OCI_MANIFEST.to_string() } else { media_type };
        Ok(Resolved {
            manifest,
            manifest_bytes: bytes,
            manifest_digest: digest,
            manifest_media_type: media_type,
            index: None,
        })
    }

    async fn manifest(&self, reference: &Reference) -> Result<(Bytes, String), RegistryError> {
        let result = self.client.pull_manifest_raw(reference.oci(), &self.auth, ACCEPT).await;
        let (bytes, digest) = match result {
            Ok(ok) => ok,
            Err(e) => return Err(self.fail(e).await),
        };
        let actual = sha256_digest(&bytes);
        if let Some(want) = reference.digest() {
            if want != actual {
                return Err(RegistryError::DigestMismatch {
                    reference: self.reference.to_string(),
                    digest: want.into(),
                    actual,
                });
            }
        }
        if digest.starts_with("sha256:") && digest != actual {
            return Err(RegistryError::DigestMismatch { reference: self.reference.to_string(), digest, actual });
        }
        Ok((bytes, actual))
    }

    /// A small blob (an image config) in memory, verified against its digest.
    pub async fn blob_bytes(&self, desc: &Descriptor) -> Result<Vec<u8>, RegistryError> {
        let mut out = Vec::with_capacity(desc.size() as usize);
        if let Err(e) = self.client.pull_blob(self.reference.oci(), &oci_desc(desc), &mut out).await {
            return Err(self.fail(e).await);
        }
        let actual = sha256_digest(&out);
        if actual != desc.digest().to_string() {
            return Err(RegistryError::DigestMismatch {
                reference: self.reference.to_string(),
                digest: desc.digest().to_string(),
                actual,
            });
        }
        Ok(out)
    }

    /// A layer as a stream, from `offset` when the registry supports ranges.
    pub async fn blob_stream(&self, desc: &Descriptor, offset: u64) -> Result<BlobStream, RegistryError> {
        let d = oci_desc(desc);
        if offset > 0 {
            match self.client.pull_blob_stream_partial(self.reference.oci(), &d, offset, None).await {
                Ok(BlobResponse::Partial(s)) => return Ok(BlobStream { stream: s.stream, resumed: true }),
                Ok(BlobResponse::Full(s)) => return Ok(BlobStream { stream: s.stream, resumed: false }),
                Err(_) => {} // fall back to a whole download below
            }
        }
        match self.client.pull_blob_stream(self.reference.oci(), &d).await {
            Ok(s) => Ok(BlobStream { stream: s.stream, resumed: false }),
            Err(e) => Err(self.fail(e).await),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn protocol(&self, message: String) -> RegistryError {
        RegistryError::Protocol { reference: self.reference.to_string(), message }
    }

    async fn fail(&self, err: OciDistributionError) -> RegistryError {
        let c = self.classify(err);
        if c.maybe_http_only && speaks_plain_http(&self.host).await {
            return RegistryError::HttpOnly { host: self.host.clone(), config: self.config_path.clone() };
        }
        c.error
    }

    /// A 401: no credentials sent (log in), or these were refused.
    fn refused(&self, reference: String, host: String) -> RegistryError {
        match self.auth {
            RegistryAuth::Anonymous => RegistryError::Unauthorized { reference, host },
            _ => RegistryError::AuthFailed { reference, host, message: "unauthorized".into() },
        }
    }

    /// Turns oci-client's errors into ones a user can act on.
    fn classify(&self, err: OciDistributionError) -> Classified {
        let reference = self.reference.to_string();
        let host = self.host.clone();
        let e = match err {
            OciDistributionError::UnauthorizedError { .. } => match self.auth {
                RegistryAuth::Anonymous => RegistryError::Unauthorized { reference, host },
                _ => RegistryError::AuthFailed { reference, host, message: "unauthorized".into() },
            },
            OciDistributionError::AuthenticationFailure(message) => {
                RegistryError::AuthFailed { reference, host, message: message.trim().to_string() }
            }
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(c, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound)
                }) {
                    RegistryError::NotFound { reference }
                } else if codes.iter().any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                    RegistryError::Unauthorized { reference, host }
                } else {
                    RegistryError::Protocol { reference, message: envelope.to_string() }
                }
            }
            OciDistributionError::ServerError { code: 404, .. } => RegistryError::NotFound { reference },
            OciDistributionError::ServerError { code: 401, .. } => self.refused(reference, host),
            OciDistributionError::ServerError { code: 403, .. } => RegistryError::Denied { reference, host },
            OciDistributionError::RequestError(e) if e.status().is_some_and(|s| s.as_u16() == 401) => {
                self.refused(reference, host)
            }
            OciDistributionError::RequestError(e) if e.status().is_some_and(|s| s.as_u16() == 403) => {
                RegistryError::Denied { reference, host }
            }
            OciDistributionError::ServerError { code, message, .. } => RegistryError::Protocol {
                reference,
                message: format!("registry {host} answered HTTP {code}: {}", message.trim()),
            },
            OciDistributionError::RequestError(e) => {
                let cause = error_chain(&e);
                return Classified {
                    error: RegistryError::Unreachable { host, cause },
                    maybe_http_only: !self.insecure,
                };
            }
            OciDistributionError::IoError(e) => RegistryError::Unreachable { host, cause: e.to_string() },
            OciDistributionError::DigestError(e) => RegistryError::Protocol { reference, message: e.to_string() },
            other => RegistryError::Protocol { reference, message: other.to_string() },
        };
        Classified { error: e, maybe_http_only: false }
    }
}

/// An error that may still turn out to be "this registry only speaks HTTP".
struct Classified {
    error: RegistryError,
    maybe_http_only: bool,
}

/// Whether `host` answers a plain HTTP request (after HTTPS failed).
async fn speaks_plain_http(host: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = if host.contains(':') { host.to_string() } else { format!("{host}:80") };
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(&addr).await.ok()?;
        s.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes()).await.ok()?;
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.ok()?;
        Some(&buf == b"HTTP/")
    };
    tokio::time::timeout(Duration::from_secs(3), probe).await.ok().flatten().unwrap_or(false)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn oci_desc(desc: &Descriptor) -> OciDescriptor {
    OciDescriptor {
        media_type: desc.media_type().to_string(),
        digest: desc.digest().to_string(),
        size: desc.size() as i64,
        ..Default::default()
    }
}

fn media_type_of(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct M {
        #[serde(rename = "mediaType", default)]
        media_type: String,
    }
    serde_json::from_slice::<M>(bytes).map(|m| m.media_type).unwrap_or_default()
}

fn is_index(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .is_ok_and(|v| v.get("manifests").is_some() && v.get("layers").is_none())
}

fn choose<'a>(index: &'a ImageIndex, want: &Platform) -> Option<&'a Descriptor> {
    index
        .manifests()
        .iter()
        .filter_map(|d| {
            let p = d.platform().as_ref()?;
            Some((want.score(p.os(), p.architecture(), p.variant().as_deref())?, d))
        })
        .max_by_key(|(score, _)| *score)
        .map(|(_, d)| d)
}

fn available(index: &ImageIndex) -> String {
    let list: Vec<String> = index
        .manifests()
        .iter()
        .filter_map(|d| d.platform().as_ref())
        .map(|p| {
            let mut s = format!("{}/{}", p.os(), p.architecture());
            if let Some(v) = p.variant() {
                s = format!("{s}/{v}");
            }
            s
        })
        .collect();
    if list.is_empty() {
        "no platforms".into()
    } else {
        list.join(", ")
    }
}
