//! `--log-level` and `--debug`: the engine's `log` records on stderr, in the text form Podman
//! (logrus) prints them (`time="…" level=debug msg="…"`), so what a Podman user greps for works.
//! Below `info` nothing is printed: Podman's default level is `warn`, and Berth prints its own
//! warnings as `Warning: …` lines whatever the level.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// The levels `--log-level` takes, as Podman's.
pub const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"];

struct Logrus;

static LOGGER: Logrus = Logrus;

/// Installs the logger for `level` (one of `LEVELS`); at `info` and below it says so, as Podman.
pub fn init(level: &str) {
    let filter = match level {
        "trace" => LevelFilter::Trace,
        "debug" => LevelFilter::Debug,
        "info" => LevelFilter::Info,
        // warnings and errors are printed by the commands themselves
        _ => LevelFilter::Off,
    };
    if filter == LevelFilter::Off || log::set_logger(&LOGGER).is_err() {
        return;
    }
    log::set_max_level(filter);
    log::info!("berth filtering at log level {level}");
}

impl Log for Logrus {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        eprintln!("{}", line(&chrono::Local::now(), level, &record.args().to_string()));
    }

    fn flush(&self) {}
}

/// One record as logrus's text formatter writes it: RFC 3339 time, the level, the quoted message.
fn line<Tz: chrono::TimeZone>(time: &chrono::DateTime<Tz>, level: &str, msg: &str) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let time = time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Go's %q and JSON escape a string alike for the text a message holds
    let msg = serde_json::to_string(msg).unwrap_or_default();
    format!("time=\"{time}\" level={level} msg={msg}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn records_read_as_logrus_writes_them() {
        let time = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 20, 10, 41).unwrap();
        assert_eq!(
            super::line(&time, "debug", "Using graph root \"/var/lib/berth\""),
            r#"time="2026-12-06T20:10:41Z" level=debug msg="Using graph root \"/var/lib/berth\"""#
        );
    }
}
