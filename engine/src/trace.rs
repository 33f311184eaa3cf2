//! `BERTH_TRACE=1`: a timeline of where a command's time goes, across the processes it starts.
//!
//! The front end that is traced names a trace file in the environment (`BERTH_TRACE_FILE`, a new
//! one in the temporary directory unless given); the monitors and helpers it starts inherit it.
//! Every process appends one line per [`mark`] (the monotonic clock, shared by all processes of
//! a boot, in nanoseconds; its pid and role; what it just did), one `write` each, so lines of
//! several processes never interleave. At its end the front end prints the marks so far,
//! relative to its own first one ([`report`]); a monitor's later marks (a `--rm` removal after
//! the command returned) are still appended to the file.
//!
//! Nothing is recorded, and nothing costs more than an environment lookup, without it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

pub const ENABLE_VAR: &str = "BERTH_TRACE";
pub const FILE_VAR: &str = "BERTH_TRACE_FILE";

/// Whether `BERTH_TRACE` asks for a trace.
fn requested() -> bool {
    std::env::var(ENABLE_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The named trace file, when a trace was asked for (read once).
fn given_file() -> Option<PathBuf> {
    std::env::var_os(FILE_VAR).filter(|f| !f.is_empty()).map(PathBuf::from)
}

fn file() -> Option<&'static PathBuf> {
    static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    FILE.get_or_init(|| requested().then(given_file).flatten()).as_ref()
}

/// Starts a trace in a front end when `BERTH_TRACE` asks for one: names the trace file for this
/// process and the ones it starts. Call first thing in `main`, before any thread exists (it sets
/// an environment variable).
pub fn start() {
    if !requested() {
        return;
    }
    if given_file().is_none() {
        let path = std::env::temp_dir().join(format!("berth-trace.{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        // Safe in this edition; called before any thread starts, as set_var wants.
        std::env::set_var(FILE_VAR, &path);
    }
    mark("main");
}

fn now_ns() -> u128 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u128 * 1_000_000_000 + t.tv_nsec() as u128)
        .unwrap_or(0)
}

/// The role of this process: `berth`, or the helper it is (`monitor`, `exec`, ...).
fn role() -> String {
    let arg = std::env::args().nth(1).unwrap_or_default();
    match arg.strip_prefix("__berth-") {
        Some(helper) => helper.to_string(),
        None => std::env::args()
            .next()
            .and_then(|a| a.rsplit('/').next().map(str::to_string))
            .unwrap_or_else(|| "berth".into()),
    }
}

/// Records that this process just did `what`.
pub fn mark(what: &str) {
    let Some(path) = file() else { return };
    let line = format!("{} {} {} {}\n", now_ns(), std::process::id(), role(), what.replace('\n', " "));
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(line.as_bytes());
    }
}

/// One mark as read back.
#[derive(Debug, Clone, PartialEq)]
struct Mark {
    at_ns: u128,
    pid: u32,
    role: String,
    what: String,
}

fn parse(text: &str) -> Vec<Mark> {
    let mut marks: Vec<Mark> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(4, ' ');
            Some(Mark {
                at_ns: f.next()?.parse().ok()?,
                pid: f.next()?.parse().ok()?,
                role: f.next()?.to_string(),
                what: f.next().unwrap_or("").to_string(),
            })
        })
        .collect();
    marks.sort_by_key(|m| m.at_ns);
    marks
}

/// The timeline of `text` (the trace file's lines), relative to the first mark of `pid`: one
/// line a mark, with the time since the previous one.
fn timeline(text: &str, pid: u32) -> String {
    let marks = parse(text);
    let Some(t0) = marks.iter().find(|m| m.pid == pid).map(|m| m.at_ns) else {
        return String::new();
    };
    let ms = |ns: i128| ns as f64 / 1e6;
    let mut out = String::from("BERTH_TRACE: ms since berth's main, ms since the mark before, process[pid], mark\n");
    let mut prev = t0;
    for m in marks.iter().filter(|m| m.at_ns >= t0) {
        let who = format!("{}[{}]", m.role, m.pid);
        out.push_str(&format!(
            "{:>9.1} {:>+8.1}  {who:<18} {}\n",
            ms(m.at_ns as i128 - t0 as i128),
            ms(m.at_ns as i128 - prev as i128),
            m.what
        ));
        prev = m.at_ns;
    }
    out
}

/// What a front end prints at its end: the timeline so far, and where later marks go.
pub fn report() -> Option<String> {
    mark("exit");
    let path = file()?;
    let text = std::fs::read_to_string(path).ok()?;
    Some(format!(
        "{}BERTH_TRACE: {} (monitors append what they do after this command ended)\n",
        timeline(&text, std::process::id()),
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_merges_processes_by_time_from_the_front_ends_first_mark() {
        let text = "\
3000000 20 monitor launched
1000000 10 berth main
9000000 20 monitor exit recorded
500000 30 other before the start
2500000 10 berth create done
garbage line
";
        let t = timeline(text, 10);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 5, "{t}");
        assert!(lines[1].contains("0.0") && lines[1].ends_with("berth[10]          main"), "{t}");
        assert!(
            lines[2].trim_start().starts_with("1.5") && lines[2].contains("+1.5") && lines[2].ends_with("create done")
        );
        assert!(
            lines[3].trim_start().starts_with("2.0")
                && lines[3].contains("monitor[20]")
                && lines[3].ends_with("launched")
        );
        assert!(lines[4].trim_start().starts_with("8.0") && lines[4].contains("+6.0"), "{t}");
        assert_eq!(timeline(text, 99), "");
    }
}
