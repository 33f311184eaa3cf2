//! `GET /containers/{id}/logs`: the log's lines as Docker's raw or multiplexed stream.
//!
//! Read with the engine's log reader on a blocking thread: `tail` reads the last lines
//! backwards from the end (a log of hundreds of megabytes is not loaded for its last ten
//! lines), and `follow` goes on from there until the container stops or the client goes away.

use std::time::Duration;

use berth_engine::container::log_reader::{self, Cursor, Line, LogFile, LogFiles};
use berth_engine::container::logs::Stream;
use berth_engine::ContainerStatus;
use bytes::Bytes;
use hyper::{Response, StatusCode};

use super::mux;
use crate::service::{channel_body, ApiError, Ctx, Reply, Req};

/// How much of the log one read takes before its lines are sent.
const BATCH: usize = 1 << 20;

fn line_bytes(l: &Line, timestamps: bool, tty: bool, newline: bool) -> Bytes {
    let mut out = Vec::with_capacity(l.message.len() + 40);
    if timestamps {
        out.extend_from_slice(l.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(&l.message);
    if newline {
        out.push(b'\n');
    }
    if tty {
        Bytes::from(out)
    } else {
        mux(if l.stream == Stream::Stderr { 2 } else { 1 }, &out)
    }
}

/// `tail`: a number of lines, or `all` (also a negative number, as Docker takes it).
fn tail(r: &Req) -> Result<Option<usize>, ApiError> {
    match r.q("tail").filter(|t| !t.is_empty() && *t != "all") {
        None => Ok(None),
        Some(t) => match t.parse::<i64>() {
            Ok(n) if n < 0 => Ok(None),
            Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            Err(_) => Err(ApiError::bad(format!("invalid tail \"{t}\": use a number of lines, or all"))),
        },
    }
}

pub async fn logs(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    let (stdout, stderr) = (r.flag("stdout"), r.flag("stderr"));
    let follow = r.flag("follow");
    let timestamps = r.flag("timestamps");
    let tail = tail(r)?;
    let since = r.time("since")?;
    let until = r.time("until")?;
    let tty = c.options.tty;
    let files = LogFiles::new(&ctx.engine.container_paths(&c.id).log());
    let engine = ctx.engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let wanted = move |l: &Line| {
        (l.stream == Stream::Stderr && stderr || l.stream != Stream::Stderr && stdout)
            && since.is_none_or(|s| l.time >= s)
            && until.is_none_or(|u| l.time <= u)
    };
    let gone = tx.clone();
    // Sends a line; false once the client has gone.
    let send =
        move |l: &Line, newline: bool| !wanted(l) || tx.blocking_send(line_bytes(l, timestamps, tty, newline)).is_ok();
    tokio::task::spawn_blocking(move || {
        let start = Cursor { file: LogFile::Rotated, offset: 0 };
        let (mut follower, skip) = match tail {
            Some(0) => (log_reader::Follower::new(files, None), None),
            Some(n) => {
                let Ok(page) = log_reader::window(&files, None, n) else { return };
                for l in &page.lines {
                    if !send(l, true) {
                        return;
                    }
                }
                // Followed from the last line sent (which the follower gives again first).
                match page.lines.last() {
                    Some(last) => (log_reader::Follower::new(files, Some(last.cursor)), Some(last.cursor)),
                    None => (log_reader::Follower::new(files, Some(start)), None),
                }
            }
            None => (log_reader::Follower::new(files, Some(start)), None),
        };
        let Ok(follower) = follower.as_mut() else { return };
        let mut skip = skip;
        let mut running = true;
        loop {
            // Read to the end of what is there, then (when following) wait for more.
            loop {
                let Ok((lines, more)) = follower.poll(BATCH) else { return };
                for l in &lines {
                    if skip.take().is_some_and(|c| c == l.cursor) {
                        continue;
                    }
                    if !send(l, true) {
                        return;
                    }
                }
                if !more {
                    break;
                }
            }
            if !follow || !running || gone.is_closed() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            running = engine.container(&c.id).is_ok_and(|c| c.is_running() || c.status == ContainerStatus::Created);
        }
        if let Some(l) = follower.take_partial().filter(|l| skip != Some(l.cursor)) {
            send(&l, false);
        }
    });
    let ct = if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", ct)
        .body(channel_body(rx))
        .expect("a valid response"))
}
