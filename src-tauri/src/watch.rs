//! Engine events for the UI, from both places they happen: this process's engine (the
//! in-process `EventBus`) and every other process that shares the storage root (the `berth`
//! CLI, the containers' monitors, the API service), which append to `$ROOT/events.jsonl`.
//!
//! The file is polled (its size, every 50 ms: one `stat`), not watched with inotify: cheap,
//! and it works on every filesystem. The interval is half of the wait a container started in a
//! terminal has before the app hears of it (issue 18: its row within 200 ms of the CLI's return). This process's own events reach both sources; each event
//! is forwarded once (events are equal by value, and carry a nanosecond time). Debouncing is
//! the UI's business: everything is forwarded as it comes. A container's `died` carries its
//! exit code, for the UI's notifications. The containers of builds' RUN steps are not the
//! user's (the app does not list them): their events are not forwarded.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use berth_engine::{Engine, Event, StateEvent};
use tokio::sync::broadcast::error::RecvError;

use crate::dto::{EngineEvent, EventKind};

const POLL: Duration = Duration::from_millis(50);

/// How many forwarded events are remembered to drop their second copy.
const REMEMBERED: usize = 1024;

/// Events already forwarded, to drop the copy that arrives from the other source.
#[derive(Default)]
pub struct Seen {
    set: HashSet<Key>,
    order: VecDeque<Key>,
}

/// An event's identity: all of it.
type Key = (i64, String, String, String, Option<String>);

impl Seen {
    /// True the first time an event is offered, false for its copies.
    pub fn first_time(&mut self, e: &StateEvent) -> bool {
        let key = (e.time, e.kind.clone(), e.action.clone(), e.id.clone(), e.name.clone());
        if self.set.contains(&key) {
            return false;
        }
        if self.order.len() == REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

/// Forwards every state event of the engine to `sink` until the runtime shuts down. Events
/// appended to the file before this starts are history, not news: they are skipped.
pub fn spawn<F>(engine: Engine, sink: F) -> tauri::async_runtime::JoinHandle<()>
where
    F: Fn(EngineEvent) + Send + Sync + 'static,
{
    // Subscribe before measuring the file, so that nothing falls between the two.
    let mut rx = engine.events().subscribe();
    let file = engine.events().file().to_path_buf();
    let mut offset = std::fs::metadata(&file).map_or(0, |m| m.len());
    tauri::async_runtime::spawn(async move {
        let mut seen = Seen::default();
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let forward = |seen: &mut Seen, e: &StateEvent| {
            if seen.first_time(e) && !of_a_build(e) {
                if let Some(mut ev) = EngineEvent::from_state(e) {
                    if ev.kind == EventKind::Container && ev.action == "died" {
                        ev.exit_code = exit_code(&engine, &ev.id);
                    }
                    sink(ev);
                }
            }
        };
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Ok(Event::State(e)) => forward(&mut seen, &e),
                    Ok(Event::Pull(_)) => {} // progress goes to the pull's own channel
                    Err(RecvError::Lagged(_)) => {} // the file has them too
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    let len = match std::fs::metadata(&file) {
                        Ok(m) => m.len(),
                        Err(_) => continue, // not written yet
                    };
                    if len < offset {
                        offset = 0; // replaced by a new file
                    }
                    if len == offset {
                        continue;
                    }
                    if let Ok((events, next)) = engine.events().read_since(offset) {
                        offset = next;
                        for e in &events {
                            forward(&mut seen, e);
                        }
                    }
                }
            }
        }
    })
}

/// An event of a build's RUN container (its labels are among the attributes).
fn of_a_build(e: &StateEvent) -> bool {
    e.kind == "container" && e.attributes.contains_key(berth_engine::BUILD_LABEL)
}

/// The exit code of a container that died: from its exit file, which the monitor writes before
/// it records the exit and announces it (and keeps after a `--rm` removal), else its record.
fn exit_code(engine: &Engine, id: &str) -> Option<i32> {
    match std::fs::read_to_string(engine.exit_file(id)) {
        Ok(code) => code.trim().parse().ok(),
        Err(_) => engine.container(id).ok().and_then(|c| c.exit_code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time: i64, action: &str) -> StateEvent {
        StateEvent {
            time,
            kind: "container".into(),
            action: action.into(),
            id: "abc".into(),
            name: None,
            attributes: Default::default(),
        }
    }

    #[test]
    fn the_events_of_builds_run_containers_are_left_out() {
        let mut e = event(1, "died");
        assert!(!of_a_build(&e));
        e.attributes.insert(berth_engine::BUILD_LABEL.into(), "Containerfile".into());
        assert!(of_a_build(&e));
        e.kind = "image".into();
        assert!(!of_a_build(&e), "only containers");
    }

    #[test]
    fn an_event_is_forwarded_once_whichever_source_brings_it_first() {
        let mut seen = Seen::default();
        assert!(seen.first_time(&event(1, "start")));
        assert!(!seen.first_time(&event(1, "start")), "the copy from the other source");
        assert!(seen.first_time(&event(2, "start")), "the same action later is news");
        assert!(seen.first_time(&event(1, "died")));
    }

    #[test]
    fn memory_of_seen_events_is_bounded() {
        let mut seen = Seen::default();
        for t in 0..(REMEMBERED as i64 + 10) {
            assert!(seen.first_time(&event(t, "create")));
        }
        assert_eq!(seen.set.len(), REMEMBERED);
        assert!(seen.first_time(&event(0, "create")), "the oldest was forgotten");
        assert!(!seen.first_time(&event(REMEMBERED as i64 + 9, "create")));
    }
}
