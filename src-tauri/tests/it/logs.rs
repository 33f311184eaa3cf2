//! The logs commands on generated logs: pages back by cursor through a rotated log of several
//! megabytes, follow (in-process and over the `--serve` stream), search. The log is written
//! with the engine's own `LogWriter`, into a container that exists but never ran.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use berth_desktop::channel::Sink;
use berth_desktop::commands::{self as c, Backend};
use berth_desktop::dto::{LogBatch, LogCursor, LogEntry, LogStream};
use berth_desktop::serve::Assets;
use berth_engine::container::logs::{LogWriter, Stream};
use berth_engine::CreateOptions;
use serde_json::{json, Value};

use crate::http::{post, post_once, Events};
use crate::World;

/// A container that never ran, and its log file's path.
fn container(w: &World, name: &str) -> (String, std::path::PathBuf) {
    let opts = CreateOptions { name: Some(name.into()), command: vec!["true".into()], ..Default::default() };
    let c = w.engine.create_container(&w.busybox(), opts).unwrap();
    let log = w.engine.container_paths(&c.id).log();
    (c.id, log)
}

/// Writes `n` numbered lines (every 7th on stderr, every 1000th longer than a record); rotates
/// at `max` bytes. Returns the lines.
fn write_lines(log: &std::path::Path, from: usize, n: usize, max: u64) -> Vec<String> {
    let mut w = LogWriter::open(log, max).unwrap();
    let mut lines = Vec::new();
    for i in from..from + n {
        let line = if i % 1000 == 999 {
            format!("line {i} {}", "long ".repeat(5000))
        } else {
            format!("line {i} \x1b[32mgreen\x1b[0m and some words to make it longer")
        };
        let stream = if i % 7 == 0 { Stream::Stderr } else { Stream::Stdout };
        w.write(stream, format!("{line}\n").as_bytes()).unwrap();
        lines.push(line);
    }
    lines
}

fn window(id: &str, before: Option<LogCursor>, limit: usize, timestamps: bool) -> c::LogWindowArgs {
    c::LogWindowArgs { id: id.into(), before, limit, timestamps }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_back_by_cursor_through_a_rotated_log() {
    let w = World::new().await;
    w.pull_busybox().await;
    let b = w.backend();
    let (id, log) = container(&w, "chatty");
    let written = write_lines(&log, 0, 40_000, 2 * 1024 * 1024);
    let rotated = berth_engine::container::logs::rotated(&log);
    let size = std::fs::metadata(&log).unwrap().len() + std::fs::metadata(&rotated).unwrap().len();
    assert!(size > 2 * 1024 * 1024, "a multi-MB log in two files: {size}");

    // The tail first, then a page further back per call, until the start.
    let tail = c::log_window(&b, window(&id, None, 500, true)).await.unwrap();
    assert_eq!(tail.entries.len(), 500);
    assert!(!tail.at_start);
    assert_eq!(tail.entries.last().unwrap().line, *written.last().unwrap());
    let mut all: Vec<LogEntry> = tail.entries;
    let mut pages = 1;
    loop {
        let before = all[0].cursor;
        let page = c::log_window(&b, window(&id, Some(before), 777, false)).await.unwrap();
        pages += 1;
        assert!(page.entries.iter().all(|e| e.time.is_empty()), "no timestamps asked for");
        assert!(page.entries.last().unwrap().cursor != before);
        let at_start = page.at_start;
        all.splice(0..0, page.entries);
        if at_start {
            break;
        }
    }
    assert!(pages > 10, "{pages}");
    // What the two files hold: the newest lines, each once, in order, from the rotated file on.
    assert_eq!(all[0].cursor, LogCursor { file: 0, offset: 0 });
    assert!(all.iter().any(|e| e.cursor.file == 1));
    let got: Vec<&str> = all.iter().map(|e| e.line.as_str()).collect();
    let expected: Vec<&str> = written[written.len() - got.len()..].iter().map(String::as_str).collect();
    assert!(got == expected, "the pages differ from the lines written");
    assert!(got.len() > 20_000 && got.len() < 40_000, "{}", got.len());
    for e in &all {
        let n: usize = e.line.split(' ').nth(1).unwrap().parse().unwrap();
        let expected = if n.is_multiple_of(7) { LogStream::Stderr } else { LogStream::Stdout };
        assert_eq!(e.stream, expected, "{}", &e.line[..20]);
    }
    assert!(tail_times_are_rfc3339(&c::log_window(&b, window(&id, None, 3, true)).await.unwrap().entries));

    // Bad cursors and limits name themselves.
    let e = c::log_window(&b, window(&id, Some(LogCursor { file: 1, offset: size * 2 }), 10, true)).await.unwrap_err();
    assert_eq!(e.code, "invalid");
    assert!(e.message.starts_with("the log of container chatty: log cursor 1:"), "{}", e.message);
    assert!(e.message.contains("the log was rotated since"), "{}", e.message);
    let e = c::log_window(&b, window(&id, Some(LogCursor { file: 1, offset: 5 }), 10, true)).await.unwrap_err();
    assert!(e.message.contains("log cursor 1:5 is not at the start of a record"), "{}", e.message);
    let e = c::log_window(&b, window(&id, Some(LogCursor { file: 2, offset: 0 }), 10, true)).await.unwrap_err();
    assert_eq!(e.message, "log cursor 2:0: the file is 0 (ctr.log.1) or 1 (ctr.log)");
    let e = c::log_window(&b, window(&id, None, 0, true)).await.unwrap_err();
    assert_eq!(e.message, "limit 0: ask for 1 to 10000 lines");
    let e = c::log_window(&b, window("nosuch", None, 10, true)).await.unwrap_err();
    assert_eq!(e.code, "not_found");

    // A container without a log yet: an empty page at the start.
    let (quiet, _) = container(&w, "quiet");
    let page = c::log_window(&b, window(&quiet, None, 10, true)).await.unwrap();
    assert!(page.entries.is_empty() && page.at_start);
}

fn tail_times_are_rfc3339(entries: &[LogEntry]) -> bool {
    entries.iter().all(|e| chrono::DateTime::parse_from_rfc3339(&e.time).is_ok() && e.time.ends_with('Z'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_lines_in_the_whole_log() {
    let w = World::new().await;
    w.pull_busybox().await;
    let b = w.backend();
    let (id, log) = container(&w, "searched");
    write_lines(&log, 0, 20_000, 1024 * 1024);
    let search = |query: &str, regex: bool, case_sensitive: bool, limit: usize| c::SearchArgs {
        id: id.clone(),
        query: query.into(),
        regex,
        case_sensitive,
        limit,
    };
    let found = c::search_logs(&b, search("line 19876 ", false, true, 10)).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].line.starts_with("line 19876 \x1b[32mgreen"));
    // The match's cursor is where a page ending with it starts.
    let page = c::log_window(&b, window(&id, Some(found[0].cursor), 1, true)).await.unwrap();
    assert!(page.entries[0].line.starts_with("line 19875 "));

    assert_eq!(c::search_logs(&b, search("LINE 19876 ", false, true, 10)).await.unwrap().len(), 0);
    assert_eq!(c::search_logs(&b, search("LINE 19876 ", false, false, 10)).await.unwrap().len(), 1);
    let found = c::search_logs(&b, search(r"^line 1999\d ", true, true, 100)).await.unwrap();
    let numbers: Vec<&str> = found.iter().map(|m| m.line.split(' ').nth(1).unwrap()).collect();
    assert_eq!(numbers, ["19990", "19991", "19992", "19993", "19994", "19995", "19996", "19997", "19998", "19999"]);
    // A long line (three records) is found whole.
    let found = c::search_logs(&b, search("line 19999 long", false, true, 5)).await.unwrap();
    assert_eq!(found[0].line.len(), "line 19999 ".len() + 5 * 5000);
    // At most `limit`, the first ones.
    let found = c::search_logs(&b, search("green", false, true, 3)).await.unwrap();
    assert_eq!(found.len(), 3);
    assert!(found.windows(2).all(|m| (m[0].cursor.file, m[0].cursor.offset) < (m[1].cursor.file, m[1].cursor.offset)));

    let e = c::search_logs(&b, search("(unclosed", true, true, 10)).await.unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("invalid", "invalid regular expression \"(unclosed\": unclosed group")
    );
    // Plain text is plain, even with regex characters in it.
    assert_eq!(c::search_logs(&b, search("(unclosed", false, true, 10)).await.unwrap().len(), 0);
    let e = c::search_logs(&b, search("", false, true, 10)).await.unwrap_err();
    assert_eq!(e.message, "searching a log needs a query");
}

/// Collects a channel's messages.
struct Collect<T>(mpsc::Sender<T>);

impl<T: Send + 'static> Sink<T> for Collect<T> {
    fn send(&self, message: T) -> bool {
        self.0.send(message).is_ok()
    }
}

/// The lines of the batches that arrive within `within`, until there are `n`.
fn receive(rx: &mpsc::Receiver<LogBatch>, n: usize, within: Duration) -> Vec<LogEntry> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(batch) => {
                assert!(!batch.entries.is_empty() && batch.entries.len() <= 2000, "{}", batch.entries.len());
                got.extend(batch.entries);
            }
            Err(e) => panic!("{} of {n} lines, then {e}", got.len()),
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_delivers_appended_lines_in_order_across_a_rotation() {
    let w = World::new().await;
    w.pull_busybox().await;
    let b = w.backend();
    let (id, log) = container(&w, "followed");
    write_lines(&log, 0, 100, 0);

    // From the end: only what comes next.
    let (tx, rx) = mpsc::channel();
    let sub = c::follow_logs(&b, c::FollowArgs { id: id.clone(), from: None }, Collect(tx)).await.unwrap();
    assert_eq!(b.follows().len(), 1);
    let written = write_lines(&log, 100, 5000, 512 * 1024);
    assert!(berth_engine::container::logs::rotated(&log).exists(), "rotated while followed");
    let got = receive(&rx, written.len(), Duration::from_secs(20));
    let lines: Vec<&String> = got.iter().map(|e| &e.line).collect();
    assert_eq!(lines, written.iter().collect::<Vec<_>>());
    assert!(tail_times_are_rfc3339(&got));
    c::stop_follow(&b, c::SubscriptionArgs { subscription: sub.clone() }).await.unwrap();
    // Stopped: nothing more, and stopping again is no error.
    write_lines(&log, 5100, 10, 512 * 1024);
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
    c::stop_follow(&b, c::SubscriptionArgs { subscription: sub }).await.unwrap();
    assert!(b.follows().is_empty());

    // From a cursor: the line at it first (what a viewer passes after its first page).
    let page = c::log_window(&b, window(&id, None, 3, true)).await.unwrap();
    let (tx, rx) = mpsc::channel();
    let from = Some(page.entries[0].cursor);
    let sub = c::follow_logs(&b, c::FollowArgs { id: id.clone(), from }, Collect(tx)).await.unwrap();
    let got = receive(&rx, 3, Duration::from_secs(5));
    assert_eq!(got, page.entries);
    c::stop_follow(&b, c::SubscriptionArgs { subscription: sub }).await.unwrap();

    // Removing the container ends its subscriptions.
    let (tx, rx) = mpsc::channel();
    c::follow_logs(&b, c::FollowArgs { id: id.clone(), from: None }, Collect(tx)).await.unwrap();
    w.engine.remove_container(&id, true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !b.follows().is_empty() {
        assert!(Instant::now() < deadline, "the subscription outlived its container");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(rx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_lines_travel_on_the_stream_over_http() {
    let w = World::new().await;
    w.pull_busybox().await;
    let backend: std::sync::Arc<Backend> = w.backend();
    let s =
        berth_desktop::serve::start(backend.clone(), "127.0.0.1:0".parse().unwrap(), Assets::Embedded).await.unwrap();
    let mut events = Events::open(s.addr, &s.token).await;
    let (id, log) = container(&w, "web");

    let follow = json!({"id": "web", "from": null, "onLines": "logs-7"});
    let (status, sub) = post_once(&s, "follow_logs", Some(&s.token), Some("call-1"), follow.clone()).await;
    assert_eq!(status, 200, "{sub}");
    let sub = sub.as_str().unwrap().to_string();
    // The same request again (a browser resends a POST whose connection a network change cut):
    // the same subscription, not a second one sending every line twice.
    let (status, again) = post_once(&s, "follow_logs", Some(&s.token), Some("call-1"), follow).await;
    assert_eq!((status, again.as_str()), (200, Some(sub.as_str())));
    assert_eq!(backend.follows().len(), 1);
    let written = write_lines(&log, 0, 3000, 0);
    let mut got: Vec<Value> = Vec::new();
    while got.len() < written.len() {
        let (name, data) = events.next(Duration::from_secs(10)).await;
        if name != "channel" {
            continue;
        }
        assert_eq!(data["channel"], "logs-7", "{data}");
        got.extend(data["message"]["entries"].as_array().unwrap().iter().cloned());
    }
    // Nothing more than what was written comes (a second follow's copies would).
    while let Some((name, data)) = events.try_next(Duration::from_millis(300)).await {
        if name == "channel" {
            got.extend(data["message"]["entries"].as_array().unwrap().iter().cloned());
        }
    }
    let lines: Vec<&str> = got.iter().map(|e| e["line"].as_str().unwrap()).collect();
    assert_eq!(lines, written.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got[0]["cursor"], json!({"file": 1, "offset": 0}));
    assert_eq!(got[0]["stream"], "stderr");
    assert!(got[1]["time"].as_str().unwrap().ends_with('Z'));

    let (status, _) = post(&s, "stop_follow", Some(&s.token), json!({"subscription": sub})).await;
    assert_eq!(status, 200);
    assert!(backend.follows().is_empty());

    // The page's other commands, over HTTP too.
    let (status, page) =
        post(&s, "log_window", Some(&s.token), json!({"id": id, "before": null, "limit": 2, "timestamps": true})).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["atStart"], false);
    assert_eq!(page["entries"][1]["line"].as_str(), written.last().map(String::as_str));
    let (status, found) = post(
        &s,
        "search_logs",
        Some(&s.token),
        json!({"id": "web", "query": "LINE 2999 ", "regex": false, "caseSensitive": false, "limit": 5}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (status, e) = post(
        &s,
        "log_window",
        Some(&s.token),
        json!({"id": "web", "before": {"file": 1, "offset": 3}, "limit": 2, "timestamps": true}),
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    s.stop();
}
