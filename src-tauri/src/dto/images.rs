//! The images list (`ImageSummary`), what the create form prefills from an image
//! (`ImageDetails`), the progress of a pull on its channel (`PullEvent`), and of a push
//! (`PushEvent`, `Pushed`), the formats of a save (`SaveFormat`), what a load stored
//! (`LoadedImage`), and an image's history (`HistoryRow`).

use berth_engine::layout::Format;
use berth_engine::{BlobPhase, HistoryEntry, ImageRecord, LayerPhase, PullProgress, PushProgress};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::health::HealthCheck;

/// A row of the images list: one per image, named by its first name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageSummary {
    pub id: String,
    pub short_id: String,
    /// `"<none>"` for an image without names.
    pub repository: String,
    /// `"<none>"` for an image without names, or a name without a tag.
    pub tag: String,
    pub names: Vec<String>,
    /// Unix seconds, from the image config.
    pub created: Option<i64>,
    /// Bytes of its layers unpacked.
    pub size: u64,
    pub in_use: bool,
    /// How many containers use it.
    pub containers: u32,
}

/// `repository:tag` split at the last colon after the last slash (a registry port is not a tag).
pub fn split_name(name: &str) -> (String, String) {
    match name.rfind(':').filter(|i| !name[*i..].contains('/')) {
        Some(i) => (name[..i].to_string(), name[i + 1..].to_string()),
        None => (name.to_string(), "<none>".to_string()),
    }
}

impl From<&ImageRecord> for ImageSummary {
    fn from(img: &ImageRecord) -> Self {
        let (repository, tag) = match img.names.first() {
            Some(n) => split_name(n),
            None => ("<none>".to_string(), "<none>".to_string()),
        };
        ImageSummary {
            id: img.id.clone(),
            short_id: img.id[..12.min(img.id.len())].to_string(),
            repository,
            tag,
            names: img.names.clone(),
            created: img.created.map(|t| t.timestamp()),
            size: img.size,
            in_use: !img.containers.is_empty(),
            containers: img.containers.len() as u32,
        }
    }
}

/// What the create form prefills from an image's config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetails {
    pub id: String,
    pub names: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    /// `"80/tcp"`, sorted.
    pub exposed_ports: Vec<String>,
    /// The image's `HEALTHCHECK`, if it has one that runs something.
    pub healthcheck: Option<HealthCheck>,
}

impl From<&ImageRecord> for ImageDetails {
    fn from(img: &ImageRecord) -> Self {
        let config = img.config().and_then(|c| c.config().clone()).unwrap_or_default();
        let mut exposed_ports = config.exposed_ports().clone().unwrap_or_default();
        exposed_ports.sort();
        exposed_ports.dedup();
        ImageDetails {
            id: img.id.clone(),
            names: img.names.clone(),
            cmd: config.cmd().clone().unwrap_or_default(),
            entrypoint: config.entrypoint().clone().unwrap_or_default(),
            env: config.env().clone().unwrap_or_default(),
            working_dir: config.working_dir().clone().unwrap_or_default(),
            exposed_ports,
            healthcheck: image_healthcheck(&img.config_json),
        }
    }
}

/// The image config's `Healthcheck` (which the OCI types leave out: Docker's field).
fn image_healthcheck(config_json: &str) -> Option<HealthCheck> {
    let config: serde_json::Value = serde_json::from_str(config_json).ok()?;
    let check = berth_engine::container::health::HealthConfig::from_docker(config.pointer("/config/Healthcheck")?)?;
    HealthCheck::from_config(&check)
}

/// A layer the pull will fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PullLayer {
    pub digest: String,
    /// Compressed bytes.
    pub size: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PullPhase {
    Waiting,
    Downloading,
    Verifying,
    Extracting,
    Done,
    AlreadyExists,
}

impl From<LayerPhase> for PullPhase {
    fn from(p: LayerPhase) -> Self {
        match p {
            LayerPhase::Waiting => PullPhase::Waiting,
            LayerPhase::Downloading => PullPhase::Downloading,
            LayerPhase::Verifying => PullPhase::Verifying,
            LayerPhase::Extracting => PullPhase::Extracting,
            LayerPhase::Done => PullPhase::Done,
            LayerPhase::AlreadyExists => PullPhase::AlreadyExists,
        }
    }
}

/// Progress of one pull, on the call's channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PullEvent {
    /// First: the id `cancel_pull` takes.
    Started { pull: String },
    /// The manifest is known: these layers will be fetched.
    #[serde(rename_all = "camelCase")]
    Resolved {
        reference: String,
        manifest_digest: String,
        #[ts(inline)]
        layers: Vec<PullLayer>,
    },
    #[serde(rename_all = "camelCase")]
    Layer {
        reference: String,
        digest: String,
        #[ts(inline)]
        phase: PullPhase,
        current: u64,
        total: u64,
    },
    #[serde(rename_all = "camelCase")]
    Done { reference: String, image_id: String },
}

impl From<PullProgress> for PullEvent {
    fn from(p: PullProgress) -> Self {
        match p {
            PullProgress::Resolved { reference, manifest_digest, layers } => PullEvent::Resolved {
                reference,
                manifest_digest,
                layers: layers.into_iter().map(|(digest, size)| PullLayer { digest, size }).collect(),
            },
            PullProgress::Layer { reference, digest, phase, current, total } => {
                PullEvent::Layer { reference, digest, phase: phase.into(), current, total }
            }
            PullProgress::Done { reference, image_id } => PullEvent::Done { reference, image_id },
        }
    }
}

/// What a push did with a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PushPhase {
    Uploading,
    Done,
    /// The destination had it.
    Exists,
    /// The registry mounted it from another of its repositories.
    Mounted,
}

impl From<&BlobPhase> for PushPhase {
    fn from(p: &BlobPhase) -> Self {
        match p {
            BlobPhase::Uploading => PushPhase::Uploading,
            BlobPhase::Done => PushPhase::Done,
            BlobPhase::Exists => PushPhase::Exists,
            BlobPhase::Mounted { .. } => PushPhase::Mounted,
        }
    }
}

/// Progress of one push, on the call's channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PushEvent {
    /// These layers will be copied.
    Started {
        #[ts(inline)]
        layers: Vec<PullLayer>,
    },
    Layer {
        digest: String,
        #[ts(inline)]
        phase: PushPhase,
        current: u64,
        total: u64,
    },
    Config {
        digest: String,
    },
    /// The manifest is written: the push is complete.
    Manifest {
        digest: String,
    },
}

impl From<PushProgress> for PushEvent {
    fn from(p: PushProgress) -> Self {
        match p {
            PushProgress::Started { layers } => PushEvent::Started {
                layers: layers.into_iter().map(|(digest, size)| PullLayer { digest, size }).collect(),
            },
            PushProgress::Layer { digest, phase, current, total } => {
                PushEvent::Layer { digest, phase: (&phase).into(), current, total }
            }
            PushProgress::Config { digest, .. } => PushEvent::Config { digest },
            PushProgress::Manifest { digest, .. } => PushEvent::Manifest { digest },
        }
    }
}

/// A finished push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub destination: String,
    pub manifest_digest: String,
}

/// The file a save writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum SaveFormat {
    DockerArchive,
    OciArchive,
}

impl From<SaveFormat> for Format {
    fn from(f: SaveFormat) -> Self {
        match f {
            SaveFormat::DockerArchive => Format::DockerArchive,
            SaveFormat::OciArchive => Format::OciArchive,
        }
    }
}

/// An image a load stored, with the names the archive gave it (none: loaded by id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoadedImage {
    pub id: String,
    pub names: Vec<String>,
}

impl From<&berth_engine::Loaded> for LoadedImage {
    fn from(l: &berth_engine::Loaded) -> Self {
        LoadedImage { id: l.image.id.clone(), names: l.names.clone() }
    }
}

/// A step of an image's history, as `berth history` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
    /// Unix seconds.
    pub created: Option<i64>,
    /// The command of the step (`/bin/sh -c #(nop) CMD ["sh"]`, `ADD file:… in /`).
    pub created_by: String,
    /// Bytes of its layer unpacked; 0 for a step without one.
    pub size: u64,
    pub comment: String,
    /// The step changed only the config (ENV, CMD, ...): it has no layer.
    pub empty_layer: bool,
}

impl From<HistoryEntry> for HistoryRow {
    fn from(h: HistoryEntry) -> Self {
        HistoryRow {
            created: h.created.map(|t| t.timestamp()),
            created_by: h.created_by,
            size: h.size,
            comment: h.comment,
            empty_layer: h.empty_layer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    #[test]
    fn image_names_split_into_repository_and_tag() {
        let check = |name: &str, repo: &str, tag: &str| {
            assert_eq!(split_name(name), (repo.to_string(), tag.to_string()), "{name}");
        };
        check("docker.io/library/busybox:1.36", "docker.io/library/busybox", "1.36");
        check("localhost:5000/app:v2", "localhost:5000/app", "v2");
        check("localhost:5000/app", "localhost:5000/app", "<none>");
        check("app", "app", "<none>");
    }

    fn image(names: &[&str], containers: &[&str]) -> ImageRecord {
        ImageRecord {
            id: "a".repeat(64),
            names: names.iter().map(|s| s.to_string()).collect(),
            names_history: vec![],
            repo_digests: vec![],
            manifest_digest: "sha256:m".into(),
            manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            manifest: vec![],
            config_json: json!({
                "architecture": "amd64", "os": "linux",
                "config": {"Cmd": ["nginx", "-g", "daemon off;"], "Entrypoint": ["/docker-entrypoint.sh"],
                           "Env": ["PATH=/usr/bin"], "WorkingDir": "/srv",
                           "ExposedPorts": {"443/tcp": {}, "80/tcp": {}},
                           "Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 10_000_000_000u64}},
                "rootfs": {"type": "layers", "diff_ids": []}
            })
            .to_string(),
            created: Some(Utc.timestamp_opt(1_600_000_000, 0).unwrap()),
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            size: 4096,
            layers: vec![],
            containers: containers.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn image_summaries_and_details() {
        let s = ImageSummary::from(&image(&["docker.io/library/nginx:1", "nginx:web"], &["c1", "c2"]));
        assert_eq!((s.repository.as_str(), s.tag.as_str()), ("docker.io/library/nginx", "1"));
        assert_eq!(
            (s.short_id.len(), s.in_use, s.containers, s.size, s.created),
            (12, true, 2, 4096, Some(1_600_000_000))
        );
        let dangling = ImageSummary::from(&image(&[], &[]));
        assert_eq!((dangling.repository.as_str(), dangling.tag.as_str(), dangling.in_use), ("<none>", "<none>", false));
        let d = ImageDetails::from(&image(&["nginx:1"], &[]));
        assert_eq!(d.cmd, ["nginx", "-g", "daemon off;"]);
        assert_eq!(d.entrypoint, ["/docker-entrypoint.sh"]);
        assert_eq!((d.env, d.working_dir), (vec!["PATH=/usr/bin".to_string()], "/srv".to_string()));
        assert_eq!(d.exposed_ports, ["443/tcp", "80/tcp"]);
        let check = d.healthcheck.unwrap();
        assert_eq!(check.command, super::super::health::HealthCommand::Shell { line: "curl -f localhost".into() });
        assert_eq!((check.interval_ms, check.timeout_ms), (Some(10_000), 30_000));
        let mut plain = image(&[], &[]);
        plain.config_json = json!({"config": {"Cmd": ["sh"]}}).to_string();
        assert_eq!(ImageDetails::from(&plain).healthcheck, None);
    }

    #[test]
    fn pull_progress_in_the_contracts_json() {
        let check = |p: PullProgress, expected: serde_json::Value| {
            assert_eq!(serde_json::to_value(PullEvent::from(p)).unwrap(), expected);
        };
        check(
            PullProgress::Resolved {
                reference: "r".into(),
                manifest_digest: "sha256:m".into(),
                layers: vec![("sha256:l".into(), 9)],
            },
            json!({"type": "resolved", "reference": "r", "manifestDigest": "sha256:m", "layers": [{"digest": "sha256:l", "size": 9}]}),
        );
        check(
            PullProgress::Layer {
                reference: "r".into(),
                digest: "sha256:l".into(),
                phase: LayerPhase::AlreadyExists,
                current: 3,
                total: 9,
            },
            json!({"type": "layer", "reference": "r", "digest": "sha256:l", "phase": "already_exists", "current": 3, "total": 9}),
        );
        check(
            PullProgress::Done { reference: "r".into(), image_id: "abc".into() },
            json!({"type": "done", "reference": "r", "imageId": "abc"}),
        );
    }
}
