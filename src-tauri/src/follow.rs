//! Followed logs: each subscription is a thread that polls the container's log every 50 ms (a
//! `stat` and a read from where it stopped, through the engine's `log_reader::Follower`) and
//! sends what came in batches of at most 2000 lines. The log file is the buffer: a listener
//! that falls behind slows the reading down, and no line is dropped.
//!
//! A subscription ends on `stop_follow`, when nobody listens any more, or once the container
//! is gone and its last lines were sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_engine::container::log_reader::Follower;
use berth_engine::Engine;

use crate::channel::Sink;
use crate::dto::{LogBatch, LogEntry};

/// How often the log is looked at when nothing new was there.
pub const POLL: Duration = Duration::from_millis(50);

/// The most lines in one batch.
pub const MAX_BATCH: usize = 2000;

/// The most bytes read from the log in one go.
const READ: usize = 1024 * 1024;

/// How long output without a newline is held back, waiting for the rest of its line.
const PARTIAL_WAIT: Duration = Duration::from_millis(200);

/// How often a quiet subscription checks that its container and its listener still exist.
const CHECK: Duration = Duration::from_secs(1);

/// The running subscriptions, by id.
#[derive(Clone, Default)]
pub struct Subscriptions {
    running: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
}

impl Subscriptions {
    /// Starts sending the lines `follower` reads from container `id`'s log to `sink`; returns
    /// the subscription's id.
    pub fn start(&self, engine: Engine, id: String, follower: Follower, sink: impl Sink<LogBatch>) -> String {
        let key = crate::id::new_id();
        let stop = Arc::new(AtomicBool::new(false));
        self.lock().insert(key.clone(), stop.clone());
        let running = self.clone();
        let name = format!("follow-{}", &id[..12.min(id.len())]);
        let k = key.clone();
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            if let Err(e) = run(&engine, &id, follower, &sink, &stop) {
                eprintln!("berth-desktop: following the log of container {id}: {e}");
            }
            running.lock().remove(&k);
        });
        if let Err(e) = spawned {
            eprintln!("berth-desktop: following a log: {e}");
            self.lock().remove(&key);
        }
        key
    }

    /// Ends a subscription; false when there is none by that id (it ended already).
    pub fn stop(&self, key: &str) -> bool {
        match self.lock().remove(key) {
            Some(stop) => {
                stop.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// How many are running.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AtomicBool>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn run(
    engine: &Engine,
    id: &str,
    mut follower: Follower,
    sink: &impl Sink<LogBatch>,
    stop: &AtomicBool,
) -> Result<(), berth_engine::container::log_reader::LogReadError> {
    let mut partial_since: Option<Instant> = None;
    let mut checked = Instant::now();
    let mut gone = false;
    while !stop.load(Ordering::SeqCst) {
        let (lines, more) = follower.poll(READ)?;
        let mut entries: Vec<LogEntry> = lines.into_iter().map(|l| LogEntry::new(l, true)).collect();
        if follower.has_partial() {
            let since = *partial_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= PARTIAL_WAIT || gone {
                entries.extend(follower.take_partial().map(|l| LogEntry::new(l, true)));
            }
        }
        if !follower.has_partial() {
            partial_since = None;
        }
        while !entries.is_empty() {
            let rest = entries.split_off(MAX_BATCH.min(entries.len()));
            if stop.load(Ordering::SeqCst) || !sink.send(LogBatch { entries }) {
                return Ok(());
            }
            entries = rest;
        }
        if more {
            continue;
        }
        if gone {
            return Ok(()); // its last lines were read after it was gone
        }
        if checked.elapsed() >= CHECK {
            checked = Instant::now();
            if !sink.listening() {
                return Ok(());
            }
            // Removed: one more read for what it wrote last.
            gone = matches!(
                engine.container(id),
                Err(berth_engine::Error::ContainerLookup(berth_engine::container::LookupError::NotFound(_)))
            );
            if gone {
                continue;
            }
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}
