//! `/containers/…`: create (Docker's config to `CreateOptions`), list, inspect, the verbs,
//! wait, logs, stats, top, export, `docker cp`'s archive, and the hijacked attach stream.
//!
//! A handler (or a few small ones that go together) a file; here the entry points the router
//! calls, and what several handlers share.

mod archive;
mod attach;
mod changes;
mod create;
mod export;
mod inspect;
mod lifecycle;
mod list;
mod logs;
mod stats;
mod top;
mod wait;

use berth_engine::container::logs::{Record, Stream};
use berth_engine::volume::MountRequest;
use berth_engine::{ContainerRecord, ContainerStatus};
use bytes::Bytes;
use serde_json::{json, Value};

pub use archive::{get_archive, put_archive, stat_archive};
pub use attach::{attach, resize};
pub use changes::changes;
pub use create::create;
pub use export::export;
pub use inspect::inspect;
pub use lifecycle::{kill, pause, prune, remove, rename, restart, start, stop};
pub use list::list;
pub use logs::logs;
pub use stats::stats;
pub use top::top;
pub use wait::wait;

fn docker_state(c: &ContainerRecord) -> &'static str {
    match c.status {
        ContainerStatus::Stopping => "running",
        s => s.as_str(),
    }
}

fn mounts_json(c: &ContainerRecord) -> Vec<Value> {
    c.options
        .mounts
        .iter()
        .map(|m| match m {
            MountRequest::Bind { source, destination, read_only } => {
                json!({"Type": "bind", "Source": source, "Destination": destination, "RW": !read_only, "Mode": "", "Propagation": "rprivate"})
            }
            MountRequest::Volume { name, destination, read_only, .. } => {
                json!({"Type": "volume", "Name": name, "Destination": destination, "Driver": "local", "RW": !read_only, "Mode": ""})
            }
            MountRequest::Tmpfs { destination, .. } => json!({"Type": "tmpfs", "Destination": destination, "RW": true}),
            MountRequest::Image { source, destination, read_write, .. } => {
                json!({"Type": "image", "Source": source, "Destination": destination, "RW": read_write})
            }
        })
        .collect()
}

/// Docker's multiplexed frame: stream (1 stdout, 2 stderr), three zeros, the length.
pub fn mux(stream: u8, data: &[u8]) -> Bytes {
    let mut f = Vec::with_capacity(8 + data.len());
    f.push(stream);
    f.extend_from_slice(&[0, 0, 0]);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes());
    f.extend_from_slice(data);
    Bytes::from(f)
}

fn record_bytes(r: &Record, timestamps: bool, tty: bool) -> Bytes {
    let mut line = Vec::with_capacity(r.message.len() + 40);
    if timestamps {
        line.extend_from_slice(r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).as_bytes());
        line.push(b' ');
    }
    line.extend_from_slice(&r.message);
    if !r.partial {
        line.push(b'\n');
    }
    if tty {
        Bytes::from(line)
    } else {
        mux(if r.stream == Stream::Stderr { 2 } else { 1 }, &line)
    }
}
