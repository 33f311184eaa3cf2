//! The UI's first paint, reported by the UI itself: logged as one line with the time since
//! this process was exec'd and what the UI waited on, and appended (a JSON line) to the file
//! `$BERTH_FIRST_PAINT_FILE` names, where the benchmark reads it (`bench/app`).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::dto::{ApiError, FirstPaint};
use crate::startup;

use super::backend::Backend;

/// The file the reports go to, for the benchmark.
pub const FIRST_PAINT_FILE: &str = "BERTH_FIRST_PAINT_FILE";

#[derive(Deserialize)]
pub struct FirstPaintArgs {
    pub report: FirstPaint,
}

pub async fn report_first_paint(_b: &Backend, a: FirstPaintArgs) -> Result<(), ApiError> {
    let since_exec = startup::since_exec();
    let marks = startup::marks();
    eprintln!("berth-desktop: {}", first_paint_line(&a.report, since_exec, startup::main_after_exec(), &marks));
    if let Some(path) = std::env::var_os(FIRST_PAINT_FILE) {
        let line = first_paint_record(&a.report, std::process::id(), since_exec, startup::main_after_exec(), &marks);
        if let Err(e) = append_line(Path::new(&path), &line.to_string()) {
            eprintln!("berth-desktop: writing the first paint to {}: {e}", path.to_string_lossy());
        }
    }
    Ok(())
}

/// What the benchmark reads: the process (the window's or `--serve`'s), its times since exec
/// in milliseconds, and the UI's report.
pub fn first_paint_record(
    r: &FirstPaint,
    pid: u32,
    since_exec: Option<Duration>,
    main_after_exec: Option<Duration>,
    marks: &[(&str, Duration)],
) -> serde_json::Value {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    serde_json::json!({
        "pid": pid,
        "sinceExecMs": since_exec.map(ms),
        "mainAfterExecMs": main_after_exec.map(ms),
        "marks": marks.iter().map(|(what, at)| (what.to_string(), serde_json::json!(ms(*at)))).collect::<serde_json::Map<_, _>>(),
        "report": r,
    })
}

/// Appends `line` and a newline to the file at `path` (made when missing).
fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| writeln!(f, "{line}"))
}

/// The log line: the paint's time from exec (when known), the app's steps before the page
/// (`marks`), and the page's own timeline, placed after exec by subtracting the page's clock
/// from the report's arrival.
pub fn first_paint_line(
    r: &FirstPaint,
    since_exec: Option<Duration>,
    main_after_exec: Option<Duration>,
    marks: &[(&str, Duration)],
) -> String {
    let page = |ms: f64| match since_exec {
        // The page began at (arrival - painted_ms) after exec; a page time t is that plus t.
        Some(exec) => format!("{:.0} ms", exec.as_secs_f64() * 1000.0 - r.painted_ms + ms),
        None => format!("page +{ms:.0} ms"),
    };
    let total = match since_exec {
        Some(exec) => format!("{:.0} ms after exec", exec.as_secs_f64() * 1000.0),
        None => format!("{:.0} ms after the page began", r.painted_ms),
    };
    let mut main = main_after_exec.map_or(String::new(), |d| format!("main at {:.0} ms, ", d.as_secs_f64() * 1000.0));
    for (what, at) in marks {
        main.push_str(&format!("{what} at {:.0} ms, ", at.as_secs_f64() * 1000.0));
    }
    let list = match (r.list_started_ms, r.list_ms) {
        (Some(start), Some(took)) => {
            format!("the engine's list asked at {} and answered in {took:.0} ms, ", page(start))
        }
        _ => String::new(),
    };
    format!(
        "Containers pane painted ({} rows) {total} ({main}page began at {}, its script ran at {}, {list}painted at {})",
        r.rows,
        page(0.0),
        page(r.script_ms),
        page(r.painted_ms),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> FirstPaint {
        FirstPaint {
            painted_ms: 500.0,
            script_ms: 200.0,
            list_started_ms: Some(250.0),
            list_ms: Some(120.0),
            rows: 1000,
        }
    }

    #[test]
    fn the_line_places_the_pages_timeline_after_exec() {
        let marks = [("engine opened", Duration::from_millis(80))];
        let line =
            first_paint_line(&report(), Some(Duration::from_millis(900)), Some(Duration::from_millis(30)), &marks);
        assert_eq!(
            line,
            "Containers pane painted (1000 rows) 900 ms after exec (main at 30 ms, engine opened at 80 ms, page began at 400 ms, its script ran at 600 ms, \
             the engine's list asked at 650 ms and answered in 120 ms, painted at 900 ms)"
        );
    }

    #[test]
    fn the_record_is_one_json_line_per_report_appended() {
        let marks = [("engine opened", Duration::from_millis(80))];
        let record = first_paint_record(&report(), 42, Some(Duration::from_millis(900)), None, &marks);
        assert_eq!(
            record,
            serde_json::json!({
                "pid": 42,
                "sinceExecMs": 900.0,
                "mainAfterExecMs": null,
                "marks": { "engine opened": 80.0 },
                "report": { "paintedMs": 500.0, "scriptMs": 200.0, "listStartedMs": 250.0, "listMs": 120.0, "rows": 1000 },
            })
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("paints.jsonl");
        append_line(&file, &record.to_string()).unwrap();
        append_line(&file, &record.to_string()).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines, [record.clone(), record]);
    }

    #[test]
    fn without_the_exec_time_the_line_keeps_the_pages_clock() {
        let mut r = report();
        r.list_ms = None;
        let line = first_paint_line(&r, None, None, &[]);
        assert_eq!(
            line,
            "Containers pane painted (1000 rows) 500 ms after the page began (page began at page +0 ms, its script ran at page +200 ms, painted at page +500 ms)"
        );
    }
}
