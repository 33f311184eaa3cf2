//! The push side of a registry connection: whether the registry has a blob, a cross-repository
//! mount, a blob upload (streamed, one `PUT`), and the manifest last.
//!
//! oci-client speaks the protocol; this adds the credentials of a push (`--creds` over the
//! auth files), and errors that name the destination and say what to do.

use bytes::Bytes;
use futures_util::Stream;
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::RegistryOperation;

use super::{Registry, RegistryError};
use crate::reference::Reference;
use crate::registry::{AuthFiles, Credentials, RegistriesConfig};

impl Registry {
    /// A connection to push to `reference`: plain HTTP when `insecure`, with `credentials`
    /// when given, else those of the auth files for its registry.
    pub fn connect_push(
        reference: &Reference,
        insecure: bool,
        credentials: Option<&Credentials>,
        config: &RegistriesConfig,
        auth_files: &AuthFiles,
    ) -> Result<Registry, RegistryError> {
        let auth = match credentials {
            Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
            None => match auth_files.lookup(reference.registry())? {
                Some(c) => RegistryAuth::Basic(c.username, c.password),
                None => RegistryAuth::Anonymous,
            },
        };
        Ok(Self::with_auth(reference, insecure, auth, config.suggested_path().display().to_string()))
    }

    /// Asks for the right to push (a token with the push scope, where the registry hands out
    /// tokens), so that refused credentials fail before any upload.
    pub async fn authorize_push(&self) -> Result<(), RegistryError> {
        match self.client.auth(self.reference.oci(), &self.auth, RegistryOperation::Push).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Whether the destination repository already has this blob.
    pub async fn has_blob(&self, digest: &str) -> Result<bool, RegistryError> {
        match self.client.blob_exists(self.reference.oci(), digest).await {
            Ok(b) => Ok(b),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Asks the registry to mount a blob of another of its repositories into the destination
    /// (no bytes sent). `false` when it would not: the blob is then uploaded.
    pub async fn mount_blob(&self, digest: &str, from_repository: &str) -> bool {
        let Ok(source) = Reference::parse(&format!("{}/{from_repository}", self.reference.registry())) else {
            return false;
        };
        match self.client.mount_blob(self.reference.oci(), source.oci(), digest).await {
            Ok(()) => true,
            Err(e) => {
                log::debug!("Mounting {digest} from {from_repository} into {}: {e}", self.reference);
                false
            }
        }
    }

    /// Uploads a blob from a stream of `size` bytes, in one request.
    pub async fn upload_blob<S>(&self, digest: &str, size: u64, stream: S) -> Result<(), RegistryError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        use futures_util::StreamExt;
        let stream = stream.map(|r| r.map_err(OciDistributionError::IoError));
        match self.client.push_blob_stream(self.reference.oci(), stream, digest, Some(size)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Uploads a small blob (an image config) from memory.
    pub async fn upload_bytes(&self, digest: &str, bytes: Vec<u8>) -> Result<(), RegistryError> {
        match self.client.push_blob(self.reference.oci(), bytes, digest).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Puts the manifest under the reference's tag, as its bytes are (so its digest is theirs).
    pub async fn put_manifest(&self, bytes: Vec<u8>, media_type: &str) -> Result<(), RegistryError> {
        let content_type = media_type
            .parse()
            .map_err(|_| self.protocol(format!("manifest media type {media_type:?} is not a valid header value")))?;
        match self.client.push_manifest_raw(self.reference.oci(), bytes, content_type).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail(e).await),
        }
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }
}
