//! Images made from layer tarballs and pushed to a registry with `oci-client`.
//!
//! [`ImageSpec::build`] does everything offline (compress, digest, config, manifest) and returns
//! a [`BuiltImage`] whose parts a test may tamper with before pushing it with [`Pusher`]:
//! wrong diff_ids, a manifest that lies about a size, a missing blob.

use std::io::Write;

use anyhow::{bail, Context, Result};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub mod media_type {
    //! The media types this crate writes.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}

/// The creation time written into configs and history unless the spec says otherwise.
pub const DEFAULT_CREATED: &str = "2024-01-01T00:00:00Z";

/// "sha256:HEX" of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Compresses an uncompressed tar.
    pub fn compress(self, tar: &[u8]) -> Result<Vec<u8>> {
        Ok(match self {
            Compression::None => tar.to_vec(),
            Compression::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::with_capacity(tar.len() / 3), flate2::Compression::default());
                enc.write_all(tar)?;
                enc.finish()?
            }
            Compression::Zstd => zstd::encode_all(tar, 3)?,
        })
    }

    /// The layer media type in a manifest of this flavor; Docker schema2 has no zstd type.
    pub fn layer_media_type(self, flavor: Flavor) -> Result<&'static str> {
        use media_type::*;
        Ok(match (flavor, self) {
            (Flavor::Oci, Compression::None) => OCI_LAYER,
            (Flavor::Oci, Compression::Gzip) => OCI_LAYER_GZIP,
            (Flavor::Oci, Compression::Zstd) => OCI_LAYER_ZSTD,
            (Flavor::Docker, Compression::None) => DOCKER_LAYER,
            (Flavor::Docker, Compression::Gzip) => DOCKER_LAYER_GZIP,
            (Flavor::Docker, Compression::Zstd) => {
                bail!("docker schema2 manifests have no zstd layer media type: use Flavor::Oci")
            }
        })
    }
}

/// Which family of media types the manifest, config and index use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OCI image spec media types.
    Oci,
    /// Docker image manifest v2 schema 2 media types.
    Docker,
}

impl Flavor {
    pub fn manifest_media_type(self) -> &'static str {
        match self {
            Flavor::Oci => media_type::OCI_MANIFEST,
            Flavor::Docker => media_type::DOCKER_MANIFEST,
        }
    }

    pub fn config_media_type(self) -> &'static str {
        match self {
            Flavor::Oci => media_type::OCI_CONFIG,
            Flavor::Docker => media_type::DOCKER_CONFIG,
        }
    }

    pub fn index_media_type(self) -> &'static str {
        match self {
            Flavor::Oci => media_type::OCI_INDEX,
            Flavor::Docker => media_type::DOCKER_LIST,
        }
    }
}

/// The host's architecture in OCI terms ("amd64", "arm64", ...) and its variant, if any.
pub fn host_platform() -> (&'static str, Option<&'static str>) {
    match std::env::consts::ARCH {
        "x86_64" => ("amd64", None),
        "x86" => ("386", None),
        "aarch64" => ("arm64", Some("v8")),
        "arm" => ("arm", Some("v7")),
        "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", None),
        "loongarch64" => ("loong64", None),
        other => (other, None),
    }
}

/// What to build: layers plus the image config's fields.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Uncompressed layer tars, bottom first, each with how to compress it.
    pub layers: Vec<(Vec<u8>, Compression)>,
    pub flavor: Flavor,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// The image config's "config" object: Env, Cmd, Entrypoint, WorkingDir, User, Labels,
    /// ExposedPorts, StopSignal, ...
    pub config: Value,
    /// The config's "created" time (RFC 3339).
    pub created: String,
    /// The config's "history"; `None` generates one entry per layer
    /// ("created_by": "berth-testkit layer N").
    pub history: Option<Vec<Value>>,
    /// Manifest annotations (OCI flavor only).
    pub annotations: Option<Value>,
}

impl Default for ImageSpec {
    /// No layers, OCI, linux on the host's architecture, an empty config.
    fn default() -> Self {
        let (arch, variant) = host_platform();
        ImageSpec {
            layers: Vec::new(),
            flavor: Flavor::Oci,
            os: "linux".into(),
            architecture: arch.into(),
            variant: variant.map(Into::into),
            config: json!({}),
            created: DEFAULT_CREATED.into(),
            history: None,
            annotations: None,
        }
    }
}

impl ImageSpec {
    /// Same as `ImageSpec::default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a layer on top.
    pub fn layer(mut self, tar: Vec<u8>, compression: Compression) -> Self {
        self.layers.push((tar, compression));
        self
    }

    /// Replaces the image config's "config" object.
    pub fn with_config(mut self, config: Value) -> Self {
        self.config = config;
        self
    }

    /// Sets the platform.
    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> Self {
        self.os = os.into();
        self.architecture = architecture.into();
        self.variant = variant.map(Into::into);
        self
    }

    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.flavor = flavor;
        self
    }

    /// The image config JSON (with `rootfs.diff_ids` and `history`) for these diff ids.
    pub fn config_json(&self, diff_ids: &[String]) -> Value {
        let history = self.history.clone().unwrap_or_else(|| {
            (0..diff_ids.len())
                .map(|i| {
                    json!({
                        "created": self.created,
                        "created_by": format!("berth-testkit layer {}", i + 1),
                    })
                })
                .collect()
        });
        let mut config = json!({
            "created": self.created,
            "architecture": self.architecture,
            "os": self.os,
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(variant) = &self.variant {
            config["variant"] = json!(variant);
        }
        config
    }

    /// Compresses the layers and makes the config and manifest, without a registry.
    pub fn build(&self) -> Result<BuiltImage> {
        let mut layers = Vec::with_capacity(self.layers.len());
        for (i, (tar, compression)) in self.layers.iter().enumerate() {
            let blob = compression.compress(tar).with_context(|| format!("compressing layer {}", i + 1))?;
            layers.push(BuiltLayer {
                digest: sha256_digest(&blob),
                diff_id: sha256_digest(tar),
                media_type: compression.layer_media_type(self.flavor)?.to_string(),
                blob,
            });
        }
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let config = serde_json::to_vec(&self.config_json(&diff_ids))?;
        let mut image = BuiltImage::from_parts(self.flavor, config, layers);
        if let (Some(annotations), Flavor::Oci) = (&self.annotations, self.flavor) {
            let mut manifest: Value = serde_json::from_slice(&image.manifest)?;
            manifest["annotations"] = annotations.clone();
            image.set_manifest(serde_json::to_vec(&manifest)?);
        }
        image.os = self.os.clone();
        image.architecture = self.architecture.clone();
        image.variant = self.variant.clone();
        Ok(image)
    }
}

/// One compressed layer blob ready to push.
#[derive(Debug, Clone)]
pub struct BuiltLayer {
    pub blob: Vec<u8>,
    /// Digest of `blob`.
    pub digest: String,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    pub media_type: String,
}

/// An image ready to push: blobs, config and manifest bytes.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub flavor: Flavor,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layers: Vec<BuiltLayer>,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub manifest_media_type: String,
    /// The platform an index entry for this image names.
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl BuiltImage {
    /// Assembles an image from a config and layers as given (diff_ids in `config` are not
    /// checked), writing a manifest of the flavor's media types. The platform is the host's.
    pub fn from_parts(flavor: Flavor, config: Vec<u8>, layers: Vec<BuiltLayer>) -> BuiltImage {
        let config_digest = sha256_digest(&config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": flavor.manifest_media_type(),
            "config": {
                "mediaType": flavor.config_media_type(),
                "size": config.len(),
                "digest": config_digest,
            },
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.media_type,
                "size": l.blob.len(),
                "digest": l.digest,
            })).collect::<Vec<_>>(),
        });
        let manifest = serde_json::to_vec(&manifest).expect("json serialises");
        let (arch, variant) = host_platform();
        BuiltImage {
            flavor,
            config,
            config_digest,
            layers,
            manifest_digest: sha256_digest(&manifest),
            manifest,
            manifest_media_type: flavor.manifest_media_type().to_string(),
            os: "linux".into(),
            architecture: arch.into(),
            variant: variant.map(Into::into),
        }
    }

    /// Replaces the manifest bytes (and their digest), e.g. with a tampered manifest.
    pub fn set_manifest(&mut self, manifest: Vec<u8>) {
        self.manifest_digest = sha256_digest(&manifest);
        self.manifest = manifest;
    }

    /// The diff ids of the layers, bottom first.
    pub fn diff_ids(&self) -> Vec<String> {
        self.layers.iter().map(|l| l.diff_id.clone()).collect()
    }

    fn pushed(&self) -> PushedImage {
        PushedImage {
            manifest_digest: self.manifest_digest.clone(),
            config_digest: self.config_digest.clone(),
            layer_digests: self.layers.iter().map(|l| l.digest.clone()).collect(),
            diff_ids: self.diff_ids(),
            manifest: self.manifest.clone(),
            config: self.config.clone(),
        }
    }
}

/// What a push stored, to compare with what the engine pulls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    pub manifest_digest: String,
    pub config_digest: String,
    /// Digests of the compressed layer blobs, bottom first.
    pub layer_digests: Vec<String>,
    /// Digests of the uncompressed layer tars, bottom first.
    pub diff_ids: Vec<String>,
    /// The manifest bytes as pushed.
    pub manifest: Vec<u8>,
    /// The image config bytes as pushed.
    pub config: Vec<u8>,
}

/// Pushes blobs and manifests to one registry over plain HTTP.
pub struct Pusher {
    client: Client,
    registry: String,
    auth: RegistryAuth,
}

impl Pusher {
    /// A pusher for the registry at `registry_addr` ("127.0.0.1:PORT"), with basic auth when
    /// `auth` is given.
    pub fn new(registry_addr: &str, auth: Option<(&str, &str)>) -> Pusher {
        let client = Client::new(ClientConfig { protocol: ClientProtocol::Http, ..ClientConfig::default() });
        let auth = match auth {
            Some((user, pass)) => RegistryAuth::Basic(user.into(), pass.into()),
            None => RegistryAuth::Anonymous,
        };
        Pusher { client, registry: registry_addr.to_string(), auth }
    }

    /// Parses "repo[:tag]" or "repo@digest" (no host) against this registry; the tag defaults
    /// to "latest".
    pub fn reference(&self, reference: &str) -> Result<Reference> {
        let full = format!("{}/{reference}", self.registry);
        full.parse().with_context(|| format!("parsing image reference {full:?}"))
    }

    async fn authenticate(&self, reference: &Reference) -> Result<()> {
        for op in [RegistryOperation::Pull, RegistryOperation::Push] {
            self.client
                .auth(reference, &self.auth, op)
                .await
                .with_context(|| format!("authenticating to {}", self.registry))?;
        }
        Ok(())
    }

    /// Uploads a blob to `repo`; returns its digest.
    pub async fn push_blob(&self, repo: &str, blob: &[u8]) -> Result<String> {
        let reference = self.reference(repo)?;
        self.authenticate(&reference).await?;
        self.upload_blob(&reference, blob).await
    }

    async fn upload_blob(&self, reference: &Reference, blob: &[u8]) -> Result<String> {
        // No HEAD check for an existing blob first: the registry logs every 404 at level error,
        // which would clutter `Registry::log()` with false alarms.
        let digest = sha256_digest(blob);
        self.client
            .push_blob(reference, blob.to_vec(), &digest)
            .await
            .with_context(|| format!("pushing blob {digest} to {}/{}", self.registry, reference.repository()))?;
        Ok(digest)
    }

    /// Puts manifest bytes as given under `reference` ("repo:tag" or "repo@digest") with this
    /// media type; returns the manifest's digest.
    pub async fn push_manifest(&self, reference: &str, media_type: &str, manifest: &[u8]) -> Result<String> {
        let reference = self.reference(reference)?;
        self.authenticate(&reference).await?;
        self.put_manifest(&reference, media_type, manifest).await
    }

    async fn put_manifest(&self, reference: &Reference, media_type: &str, manifest: &[u8]) -> Result<String> {
        let content_type = http::HeaderValue::from_str(media_type)
            .with_context(|| format!("media type {media_type:?} is not a valid header value"))?;
        self.client
            .push_manifest_raw(reference, manifest.to_vec(), content_type)
            .await
            .with_context(|| format!("pushing manifest ({media_type}) to {}", reference.whole()))?;
        Ok(sha256_digest(manifest))
    }

    /// Pushes the layers, the config and the manifest of a built image under `reference`.
    pub async fn push_built(&self, reference: &str, image: &BuiltImage) -> Result<PushedImage> {
        let reference = self.reference(reference)?;
        self.authenticate(&reference).await?;
        for layer in &image.layers {
            self.upload_blob(&reference, &layer.blob).await?;
        }
        self.upload_blob(&reference, &image.config).await?;
        self.put_manifest(&reference, &image.manifest_media_type, &image.manifest).await?;
        Ok(image.pushed())
    }

    /// Builds and pushes an image under `reference` ("repo:tag").
    pub async fn push_image(&self, reference: &str, spec: &ImageSpec) -> Result<PushedImage> {
        let image = spec.build()?;
        self.push_built(reference, &image).await
    }

    /// Pushes each image by digest into the repository of `reference`, then an index (OCI, or
    /// a Docker manifest list when the first image is of the Docker flavor) naming each
    /// image's platform, under `reference`. Returns the index digest and the images.
    pub async fn push_index(&self, reference: &str, images: &[ImageSpec]) -> Result<(String, Vec<PushedImage>)> {
        let Some(first) = images.first() else {
            bail!("an index needs at least one image");
        };
        let built = images.iter().map(ImageSpec::build).collect::<Result<Vec<_>>>()?;
        let index = index_json(first.flavor, &built);
        self.push_built_index(reference, first.flavor.index_media_type(), &index, &built).await
    }

    /// Pushes each image by digest into the repository of `reference`, then the index bytes as
    /// given under `reference`.
    pub async fn push_built_index(
        &self,
        reference: &str,
        media_type: &str,
        index: &[u8],
        images: &[BuiltImage],
    ) -> Result<(String, Vec<PushedImage>)> {
        let repo = self.reference(reference)?.repository().to_string();
        let mut pushed = Vec::with_capacity(images.len());
        for image in images {
            pushed.push(self.push_built(&format!("{repo}@{}", image.manifest_digest), image).await?);
        }
        let digest = self.push_manifest(reference, media_type, index).await?;
        Ok((digest, pushed))
    }
}

/// An index (or Docker manifest list) of these images with their platforms.
pub fn index_json(flavor: Flavor, images: &[BuiltImage]) -> Vec<u8> {
    let manifests: Vec<Value> = images
        .iter()
        .map(|image| {
            let mut platform = json!({"architecture": image.architecture, "os": image.os});
            if let Some(variant) = &image.variant {
                platform["variant"] = json!(variant);
            }
            json!({
                "mediaType": image.manifest_media_type,
                "size": image.manifest.len(),
                "digest": image.manifest_digest,
                "platform": platform,
            })
        })
        .collect();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": flavor.index_media_type(),
        "manifests": manifests,
    });
    serde_json::to_vec(&index).expect("json serialises")
}

/// Builds and pushes an image to the registry at `registry_addr` under `reference` ("repo:tag",
/// no host).
pub async fn push_image(
    registry_addr: &str,
    auth: Option<(&str, &str)>,
    reference: &str,
    spec: &ImageSpec,
) -> Result<PushedImage> {
    Pusher::new(registry_addr, auth).push_image(reference, spec).await
}

/// Pushes each platform image by digest, then an index of them under `reference`; see
/// [`Pusher::push_index`].
pub async fn push_index(
    registry_addr: &str,
    auth: Option<(&str, &str)>,
    reference: &str,
    images: &[ImageSpec],
) -> Result<(String, Vec<PushedImage>)> {
    Pusher::new(registry_addr, auth).push_index(reference, images).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::LayerBuilder;

    #[test]
    fn config_records_diff_ids_and_history() {
        let mut layer = LayerBuilder::new();
        layer.file("hello", b"hi\n", 0o644);
        let tar = layer.build();
        let spec = ImageSpec::new()
            .layer(tar.clone(), Compression::Gzip)
            .layer(tar.clone(), Compression::Zstd)
            .with_config(json!({"Cmd": ["sh"]}));
        let image = spec.build().unwrap();
        let config: Value = serde_json::from_slice(&image.config).unwrap();
        let diff_id = sha256_digest(&tar);
        assert_eq!(config["rootfs"]["diff_ids"], json!([diff_id, diff_id]));
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        assert_eq!(config["config"]["Cmd"], json!(["sh"]));
        assert_eq!(config["os"], "linux");

        let manifest: Value = serde_json::from_slice(&image.manifest).unwrap();
        assert_eq!(manifest["mediaType"], media_type::OCI_MANIFEST);
        assert_eq!(manifest["config"]["digest"], json!(image.config_digest));
        assert_eq!(manifest["layers"][0]["mediaType"], media_type::OCI_LAYER_GZIP);
        assert_eq!(manifest["layers"][1]["mediaType"], media_type::OCI_LAYER_ZSTD);
        assert_eq!(image.manifest_digest, sha256_digest(&image.manifest));
        // the gzip blob decompresses to the tar
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&image.layers[0].blob[..]), &mut out).unwrap();
        assert_eq!(out, tar);
        assert_eq!(zstd::decode_all(&image.layers[1].blob[..]).unwrap(), tar);
    }

    #[test]
    fn docker_flavor_has_no_zstd() {
        let spec = ImageSpec::new().flavor(Flavor::Docker).layer(LayerBuilder::new().build(), Compression::Zstd);
        let err = spec.build().unwrap_err().to_string();
        assert!(err.contains("zstd"), "{err}");
    }
}
