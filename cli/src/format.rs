//! Output helpers that print what Podman prints: tab-aligned tables, sizes, ages.

use std::io::Write;
use std::sync::LazyLock;
use std::time::Instant;

/// When this command began: a warning says how many seconds in, as Podman's (logrus) do.
pub static STARTED: LazyLock<Instant> = LazyLock::new(Instant::now);

/// A warning on stderr as Podman prints one: `WARN[0001] message`.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("WARN[{:04}] {message}", STARTED.elapsed().as_secs());
}

/// Columns aligned like Go's tabwriter with Podman's settings (min width 12, padding 2).
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table { rows: vec![header.iter().map(|s| s.to_string()).collect()] }
    }

    pub fn headless() -> Table {
        Table { rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                let max = self.rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0);
                (max + 2).max(12)
            })
            .collect();
        // one buffer for every line: 10 000 rows of `ps` are 70 000 cells
        let mut line = String::new();
        for row in &self.rows {
            line.clear();
            for (c, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < row.len() {
                    let pad = widths[c].saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Sizes as Podman prints them: decimal units, three significant digits ("7.35 MB").
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    format!("{} {}", sig3(v), UNITS[u])
}

fn sig3(v: f64) -> String {
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Go's units.HumanDuration, as Podman uses it for "CREATED".
pub fn human_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds();
    let mins = d.num_minutes();
    let hours = ((d.num_seconds() as f64) / 3600.0 + 0.5) as i64;
    if secs < 1 {
        "Less than a second".into()
    } else if secs == 1 {
        "1 second".into()
    } else if secs < 60 {
        format!("{secs} seconds")
    } else if mins == 1 {
        "About a minute".into()
    } else if mins < 60 {
        format!("{mins} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", hours / 24 / 365)
    }
}

pub fn ago(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    match t {
        Some(t) => format!("{} ago", human_duration(chrono::Utc::now() - t)),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_podman() {
        for (bytes, want) in [
            (0, "0 B"),
            (999, "999 B"),
            (7_345_678, "7.35 MB"),
            (975_100, "975 kB"),
            (12_000, "12 kB"),
            (1_210_000_000, "1.21 GB"),
        ] {
            assert_eq!(human_size(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn durations_match_go_units() {
        let d = chrono::Duration::seconds;
        for (secs, want) in [
            (0, "Less than a second"),
            (30, "30 seconds"),
            (90, "About a minute"),
            (600, "10 minutes"),
            (3600, "About an hour"),
            (5 * 3600, "5 hours"),
            (3 * 86400, "3 days"),
            (20 * 86400, "2 weeks"),
            (90 * 86400, "3 months"),
            (800 * 86400, "2 years"),
        ] {
            assert_eq!(human_duration(d(secs)), want, "{secs}");
        }
    }

    #[test]
    fn table_pads_like_tabwriter() {
        let mut t = Table::new(&["REPOSITORY", "TAG", "IMAGE ID"]);
        t.row(vec!["docker.io/library/alpine".into(), "latest".into(), "9ed4aefc74f6".into()]);
        let mut out = Vec::new();
        t.print(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "REPOSITORY                TAG         IMAGE ID\ndocker.io/library/alpine  latest      9ed4aefc74f6\n"
        );
    }
}

/// `--label KEY=VALUE` flags (a bare `KEY` has an empty value), as Podman takes them.
pub fn labels(flags: &[String]) -> std::collections::BTreeMap<String, String> {
    flags
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// `container|image|volume|network exists NAME`: status 0 when it does, 1 when it does not.
#[derive(clap::Args)]
pub struct ExistsArgs {
    pub name: String,
}

/// The status `exists` gives for a lookup: any other error than "not found" is an error.
pub fn exists<T>(lookup: berth_engine::Result<T>) -> anyhow::Result<std::process::ExitCode> {
    match lookup {
        Ok(_) => Ok(std::process::ExitCode::SUCCESS),
        Err(e) if e.is_not_found() => Ok(std::process::ExitCode::from(1)),
        Err(e) => Err(e.into()),
    }
}

/// Podman's prune prompt: `WARNING! {what}` and "Are you sure you want to continue? [y/N]" on
/// stderr; whether the answer on stdin is yes.
pub fn confirm(what: &str) -> std::io::Result<bool> {
    eprint!("WARNING! {what}\nAre you sure you want to continue? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
