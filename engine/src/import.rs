//! `import`: a tarball of a root filesystem (`export`'s, or any) becomes a one-layer image, as
//! `podman import` makes it: the config is empty but for the platform, the `--change`
//! instructions and the message, and the history says where the layer came from.
//!
//! The tarball (plain, gzip or zstd; a file, a pipe or a request body) is spooled into a plain
//! tar, and with a config and a manifest made for it laid out as a `dir:` image in a temporary
//! directory of the store. From there it is stored as any loaded image is (`archive`): the layer
//! unpacked and checked against its diff id, the rows written last, nothing left on failure.

use std::io::{self, Read, Write};

use serde_json::{json, Map, Value};

use crate::commit::Change;
use crate::content::Hashing;
use crate::layout::{self, Source};
use crate::media_type;
use crate::reference::Reference;
use crate::{Engine, Error, ImageRecord, LoadStep, Result};

/// What `import` makes of the tarball besides its one layer.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// `--change`: Dockerfile instructions applied to the config (CMD, ENV, ...).
    pub changes: Vec<String>,
    /// `--message`: the history entry's comment.
    pub message: Option<String>,
    /// The image's name; none for a nameless image.
    pub reference: Option<String>,
    /// `--os`, `--arch`, `--variant`: the platform recorded (the host's by default).
    pub os: Option<String>,
    pub arch: Option<String>,
    pub variant: Option<String>,
}

impl Engine {
    /// Stores the tarball read from `input` (`source` names it in messages, the history and
    /// the event) as a new image.
    pub fn import(
        &self,
        input: &mut dyn Read,
        source: &str,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(LoadStep),
    ) -> Result<ImageRecord> {
        // everything the user typed is checked before a byte is read
        let changes = opts.changes.iter().map(|c| Change::parse(c)).collect::<Result<Vec<_>>>()?;
        let name = match &opts.reference {
            Some(n) => {
                let r = Reference::parse_local(n)?;
                if r.digest().is_some() {
                    return Err(Error::Invalid(format!("{n}: the name of an imported image cannot contain a digest")));
                }
                Some(r.tagged_name().expect("a reference without digest has a tag"))
            }
            None => None,
        };
        let ingest = self.config().root.join("ingest");
        let io_at = |e: io::Error| Error::Io { path: ingest.clone(), source: e };
        let dir = tempfile::Builder::new().prefix("import-").tempdir_in(&ingest).map_err(io_at)?;

        // the layer: the tarball as a plain tar, its digest its diff id
        let layer_tmp = dir.path().join("layer");
        let mut file = std::fs::File::create(&layer_tmp).map_err(io_at)?;
        let unreadable = |e: io::Error| Error::Invalid(format!("{source}: reading the tarball: {e}"));
        layout::spool(input, &mut file).map_err(unreadable)?;
        drop(file);
        // one read: its first block checked to be a tar header, all of it hashed
        let (diff_id, size) = {
            let mut f = Hashing::new(std::fs::File::open(&layer_tmp).map_err(io_at)?);
            let mut first = Vec::with_capacity(512);
            (&mut f).take(512).read_to_end(&mut first).map_err(unreadable)?;
            if first.len() < 512 || !(first[257..262] == *b"ustar" || first.iter().all(|b| *b == 0)) {
                return Err(Error::Invalid(format!(
                    "{source} is not a tar archive (plain, gzip or zstd): give a tarball of a root filesystem, e.g. one `export` wrote"
                )));
            }
            io::copy(&mut f, &mut io::sink()).map_err(io_at)?;
            let (_, digest, size) = f.finish();
            (digest, size)
        };
        let diff_hex = crate::content::digest_hex(&diff_id)?.to_string();
        std::fs::rename(&layer_tmp, dir.path().join(&diff_hex)).map_err(io_at)?;

        // the config
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let host = oci_spec::image::Arch::default().to_string();
        let mut inner = Map::new();
        for change in &changes {
            change.apply(&mut inner);
        }
        let mut history = Map::new();
        history.insert("created".into(), json!(now));
        history.insert("created_by".into(), json!(format!("/bin/sh -c #(nop) ADD file:{diff_hex} in / ")));
        if let Some(m) = &opts.message {
            history.insert("comment".into(), json!(m));
        }
        let mut config = json!({
            "created": now,
            "architecture": opts.arch.clone().unwrap_or(host),
            "os": opts.os.clone().unwrap_or_else(|| "linux".into()),
            "config": Value::Object(inner),
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [Value::Object(history)],
        });
        if let Some(v) = &opts.variant {
            config["variant"] = json!(v);
        }
        if let Some(m) = &opts.message {
            config["comment"] = json!(m);
        }
        let config_bytes = serde_json::to_vec(&config).expect("json");
        let config_digest = crate::content::sha256_digest(&config_bytes);
        let config_hex = crate::content::digest_hex(&config_digest)?.to_string();
        let layer = layout::WrittenLayer {
            diff_id: diff_id.clone(),
            digest: diff_id.clone(),
            size,
            media_type: media_type::DOCKER_LAYER.into(),
        };
        let manifest = layout::manifest_json(media_type::DOCKER_MANIFEST, &config_digest, config_bytes.len(), &[layer]);
        for (file, bytes) in [
            (config_hex.as_str(), config_bytes.as_slice()),
            ("manifest.json", manifest.as_slice()),
            ("version", layout::dir::DIR_VERSION.as_bytes()),
        ] {
            std::fs::File::create(dir.path().join(file)).and_then(|mut f| f.write_all(bytes)).map_err(io_at)?;
        }

        let src = Source::Dir(dir.path().to_path_buf());
        let (_, images) = layout::read_images(&src)?;
        let names: Vec<String> = name.into_iter().collect();
        let image = self.store_archived(&src, &images[0], &names, progress)?;
        self.events().state("image", "import", &image.id, Some(source));
        Ok(image)
    }
}
