//! docker-archive, `docker save`'s tar: `manifest.json`, `repositories`, the config as
//! `<hex>.json`, each layer as the uncompressed `<diff id hex>.tar`, and the legacy
//! `<id>/{VERSION,json,layer.tar}` beside.

use std::io::{self, Read};

use serde_json::{json, Value};

use super::sink::Sink;
use super::{hex_of, io_err, put_once, BlobSink, Result, WrittenLayer};
use crate::content::sha256_digest;

/// One image as docker-archive's `manifest.json` lists it.
pub struct WrittenImage {
    /// Full names (`registry/repo:tag`), none for an image saved by id.
    pub names: Vec<String>,
    pub config_digest: String,
    pub config: Vec<u8>,
    pub layers: Vec<WrittenLayer>,
}

/// Images being written as a docker-archive: layers first (by diff id), then
/// [`DockerArchiveWriter::finish`].
pub struct DockerArchiveWriter<'a> {
    sink: &'a mut dyn Sink,
}

impl<'a> DockerArchiveWriter<'a> {
    pub fn new(sink: &'a mut dyn Sink) -> DockerArchiveWriter<'a> {
        DockerArchiveWriter { sink }
    }

    /// `manifest.json`, `repositories`, each config as `<hex>.json` and the legacy per-layer
    /// directories (`VERSION`, `json`, `layer.tar` as a link) that older readers look for.
    pub fn finish(self, images: &[WrittenImage]) -> Result<()> {
        self.write_index(images).map_err(io_err("manifest.json"))
    }

    fn write_index(self, images: &[WrittenImage]) -> io::Result<()> {
        let sink = self.sink;
        let mut manifest = Vec::new();
        let mut repositories = serde_json::Map::new();
        let mut legacy_done = std::collections::HashSet::new();
        for img in images {
            let hex = img.config_digest.trim_start_matches("sha256:");
            sink.file(&format!("{hex}.json"), img.config.len() as u64, &mut &img.config[..])?;
            let config: Value = serde_json::from_slice(&img.config).unwrap_or(json!({}));
            let mut parent: Option<String> = None;
            let mut chain = String::new();
            for (i, l) in img.layers.iter().enumerate() {
                chain =
                    if i == 0 { l.diff_id.clone() } else { sha256_digest(format!("{chain} {}", l.diff_id).as_bytes()) };
                // an id per layer of this stack, unique to the image's config too
                let id = sha256_digest(format!("{chain} {}", img.config_digest).as_bytes())
                    .trim_start_matches("sha256:")
                    .to_string();
                if legacy_done.insert(id.clone()) {
                    let mut json = serde_json::Map::new();
                    json.insert("id".into(), json!(id));
                    if let Some(p) = &parent {
                        json.insert("parent".into(), json!(p));
                    }
                    if i + 1 == img.layers.len() {
                        for k in [
                            "architecture",
                            "config",
                            "container",
                            "container_config",
                            "created",
                            "docker_version",
                            "os",
                        ] {
                            json.insert(k.into(), config.get(k).cloned().unwrap_or(Value::Null));
                        }
                    }
                    let json = serde_json::to_vec(&Value::Object(json)).expect("json");
                    sink.file(&format!("{id}/VERSION"), 3, &mut &b"1.0"[..])?;
                    sink.file(&format!("{id}/json"), json.len() as u64, &mut &json[..])?;
                    sink.symlink(
                        &format!("{id}/layer.tar"),
                        &format!("../{}.tar", l.diff_id.trim_start_matches("sha256:")),
                    )?;
                }
                parent = Some(id);
            }
            for n in &img.names {
                if let (Some(top), Some((repo, tag))) = (&parent, n.rsplit_once(':').filter(|(r, _)| !r.is_empty())) {
                    let entry = repositories.entry(repo.to_string()).or_insert_with(|| json!({}));
                    entry[tag] = json!(top);
                }
            }
            manifest.push(json!({
                "Config": format!("{hex}.json"),
                "RepoTags": img.names,
                "Layers": img.layers.iter().map(|l| format!("{}.tar", l.diff_id.trim_start_matches("sha256:"))).collect::<Vec<_>>(),
            }));
        }
        let manifest = serde_json::to_vec(&manifest).expect("json");
        sink.file("manifest.json", manifest.len() as u64, &mut &manifest[..])?;
        let repositories = serde_json::to_vec(&Value::Object(repositories)).expect("json");
        sink.file("repositories", repositories.len() as u64, &mut &repositories[..])
    }
}

/// Layers go in by their diff id: the uncompressed tar.
impl BlobSink for DockerArchiveWriter<'_> {
    fn has_blob(&self, diff_id: &str) -> Result<bool> {
        Ok(self.sink.has(&format!("{}.tar", hex_of(diff_id)?)))
    }

    fn put_blob(&mut self, diff_id: &str, size: u64, data: &mut dyn Read) -> Result<bool> {
        put_once(self.sink, &format!("{}.tar", hex_of(diff_id)?), size, data)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;
    use crate::layout::{read_images, Kind, Source, TarSink};
    use crate::media_type::OCI_LAYER;

    #[test]
    fn a_docker_archive_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tar");
        let layer = b"layer bytes".to_vec();
        let diff = sha256_digest(&layer);
        let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
        let img = WrittenImage {
            names: vec!["localhost/a:1".into()],
            config_digest: sha256_digest(&config),
            config: config.clone(),
            layers: vec![WrittenLayer {
                diff_id: diff.clone(),
                digest: diff.clone(),
                size: 11,
                media_type: OCI_LAYER.into(),
            }],
        };
        let mut sink = TarSink::new(File::create(&p).unwrap());
        let mut w = DockerArchiveWriter::new(&mut sink);
        assert!(w.put_blob(&diff, 11, &mut &layer[..]).unwrap());
        assert!(!w.put_blob(&diff, 11, &mut &layer[..]).unwrap(), "a layer is written once");
        w.finish(&[img]).unwrap();
        sink.finish().unwrap();
        let src = Source::tar(&p, File::open(&p).unwrap()).unwrap();
        let (kind, images) = read_images(&src).unwrap();
        assert_eq!(kind, Kind::DockerArchive);
        assert_eq!(images[0].names, ["localhost/a:1"]);
        assert_eq!(images[0].config, config);
        let file = images[0].layers[0].file.clone();
        let (mut r, size) = src.open(&file).unwrap();
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!((got, size), (layer, 11));
        // the legacy directory's layer.tar is a link to the same bytes
        let Source::Tar { entries, .. } = &src else { panic!("a tar") };
        let legacy_link = entries.keys().find(|k| k.ends_with("/layer.tar")).expect("a legacy layer.tar").clone();
        let (mut r, _) = src.open(&legacy_link).unwrap();
        let mut again = Vec::new();
        r.read_to_end(&mut again).unwrap();
        assert_eq!(again, b"layer bytes");
        assert!(!src.has("nonexistent"));
    }
}
