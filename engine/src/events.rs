//! Typed engine events: an in-process broadcast for subscribers in this process (the app),
//! and an append-only JSON-lines file so other processes see what the CLI did.
//!
//! Pull progress travels on the broadcast only; state changes (pulled, tagged, removed, …)
//! go to both. Each line of the file is written with one `write` on an `O_APPEND` descriptor,
//! which keeps lines whole when several processes append at once.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// What a layer of a pull is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerPhase {
    Waiting,
    Downloading,
    Verifying,
    Extracting,
    Done,
    AlreadyExists,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PullProgress {
    /// The manifest is known: these layers (digest, compressed size) will be fetched.
    Resolved {
        reference: String,
        manifest_digest: String,
        layers: Vec<(String, u64)>,
    },
    Layer {
        reference: String,
        digest: String,
        phase: LayerPhase,
        current: u64,
        total: u64,
    },
    Done {
        reference: String,
        image_id: String,
    },
}

/// A change of state that other processes care about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEvent {
    /// Unix time in nanoseconds.
    pub time: i64,
    /// `image`, later `container`, `volume`, `network`.
    pub kind: String,
    /// `pull`, `tag`, `untag`, `remove`, …
    pub action: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What `events` shows in parentheses: a container's image and labels, an exit code.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub enum Event {
    Pull(PullProgress),
    State(StateEvent),
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
    file: PathBuf,
    /// Whether state events are appended to the file (`--events-backend none`: not)
    record: bool,
}

impl EventBus {
    pub fn new(file: &Path) -> EventBus {
        Self::with_recording(file, true)
    }

    /// A bus that appends state events to `file` only when `record`; subscribers in this
    /// process see them either way.
    pub fn with_recording(file: &Path, record: bool) -> EventBus {
        let (tx, _) = broadcast::channel(4096);
        EventBus { tx, file: file.to_path_buf(), record }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn progress(&self, p: PullProgress) {
        let _ = self.tx.send(Event::Pull(p));
    }

    /// Records a state change: broadcast here, appended to the events file for others.
    /// Failing to append is not fatal to the action that already happened.
    pub fn state(&self, kind: &str, action: &str, id: &str, name: Option<&str>) {
        self.record(kind, action, id, name, Default::default());
    }

    /// A container's event, with its image and labels (and more `attributes`, such as the exit
    /// code of `died`), as Podman records them.
    pub fn container(
        &self,
        action: &str,
        c: &crate::ContainerRecord,
        more: impl IntoIterator<Item = (String, String)>,
    ) {
        let mut attributes: std::collections::BTreeMap<String, String> =
            c.options.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        attributes.insert("image".into(), c.image_name.clone());
        attributes.extend(more);
        self.record("container", action, &c.id, Some(&c.name), attributes);
    }

    fn record(
        &self,
        kind: &str,
        action: &str,
        id: &str,
        name: Option<&str>,
        attributes: std::collections::BTreeMap<String, String>,
    ) {
        let ev = StateEvent {
            time: chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
            kind: kind.into(),
            action: action.into(),
            id: id.into(),
            name: name.map(str::to_string),
            attributes,
        };
        let mut line = serde_json::to_vec(&ev).expect("event serialises");
        line.push(b'\n');
        if self.record {
            if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&self.file) {
                let _ = f.write_all(&line);
            }
        }
        let _ = self.tx.send(Event::State(ev));
    }

    /// Reads the events recorded in the file since byte `offset`; returns them and the new offset.
    pub fn read_since(&self, offset: u64) -> std::io::Result<(Vec<StateEvent>, u64)> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = match std::fs::File::open(&self.file) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e),
        };
        f.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        // Only whole lines; a line still being written is read next time.
        let end = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let events = buf[..end]
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect();
        Ok((events, offset + end as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_events_reach_the_file_and_subscribers() {
        let dir = tempfile::tempdir().unwrap();
        let bus = EventBus::new(&dir.path().join("events.jsonl"));
        let mut rx = bus.subscribe();
        bus.state("image", "pull", "abc", Some("docker.io/library/x:1"));
        bus.state("image", "remove", "abc", None);
        let (events, off) = bus.read_since(0).unwrap();
        assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["pull", "remove"]);
        assert!(off > 0);
        assert_eq!(bus.read_since(off).unwrap().0, vec![]);
        assert!(matches!(rx.try_recv().unwrap(), Event::State(e) if e.action == "pull"));
    }
}
