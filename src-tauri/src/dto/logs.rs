//! A container's log: whole (`LogLine`, joined from the log file's records), by pages back
//! from a cursor (`LogPage`), followed (`LogBatch`) and searched (`LogMatch`).

use berth_engine::container::log_reader::{Cursor, Line, LogFile};
use berth_engine::container::logs::{Record, Stream};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::errors::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One line of a container's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// RFC 3339 with nanoseconds, as the log file has it.
    pub time: String,
    #[ts(inline)]
    pub stream: LogStream,
    pub line: String,
}

impl LogLine {
    /// Joins partial records (a line longer than a record, or cut by a rotation) into lines:
    /// a line takes the time of its first record.
    pub fn from_records(records: &[Record]) -> Vec<LogLine> {
        let mut out = Vec::new();
        // One pending partial line per stream: stdout and stderr interleave.
        let mut pending: [Option<(String, Vec<u8>)>; 2] = [None, None];
        for r in records {
            let slot = &mut pending[r.stream as usize];
            let (time, mut bytes) = slot.take().unwrap_or_else(|| {
                (r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true), Vec::with_capacity(r.message.len()))
            });
            bytes.extend_from_slice(&r.message);
            if r.partial {
                *slot = Some((time, bytes));
            } else {
                out.push(LogLine::new(time, r.stream, &bytes));
            }
        }
        // Output that ended without a newline is still a line.
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            if let Some((time, bytes)) = pending[i].take() {
                out.push(LogLine::new(time, stream, &bytes));
            }
        }
        out
    }

    fn new(time: String, stream: Stream, bytes: &[u8]) -> LogLine {
        LogLine { time, stream: stream.into(), line: String::from_utf8_lossy(bytes).into_owned() }
    }
}

impl From<Stream> for LogStream {
    fn from(s: Stream) -> Self {
        match s {
            Stream::Stdout => LogStream::Stdout,
            Stream::Stderr => LogStream::Stderr,
        }
    }
}

/// A place in a container's log, to page back from or follow from: the byte offset of a line
/// in `ctr.log.1` (`file` 0) or `ctr.log` (`file` 1). A rotation (every 64 MiB) renames
/// `ctr.log` to `ctr.log.1`, so cursors are good until the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogCursor {
    pub file: u8,
    pub offset: u64,
}

impl From<Cursor> for LogCursor {
    fn from(c: Cursor) -> Self {
        let file = match c.file {
            LogFile::Rotated => 0,
            LogFile::Current => 1,
        };
        LogCursor { file, offset: c.offset }
    }
}

impl TryFrom<LogCursor> for Cursor {
    type Error = ApiError;

    fn try_from(c: LogCursor) -> Result<Self, ApiError> {
        let file = match c.file {
            0 => LogFile::Rotated,
            1 => LogFile::Current,
            n => {
                return Err(ApiError::invalid(format!(
                    "log cursor {n}:{}: the file is 0 (ctr.log.1) or 1 (ctr.log)",
                    c.offset
                )))
            }
        };
        Ok(Cursor { file, offset: c.offset })
    }
}

/// A line of a container's log and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogEntry {
    pub cursor: LogCursor,
    /// RFC 3339 with nanoseconds; `""` when timestamps were not asked for.
    pub time: String,
    #[ts(inline)]
    pub stream: LogStream,
    pub line: String,
}

impl LogEntry {
    pub fn new(l: Line, timestamps: bool) -> LogEntry {
        LogEntry {
            cursor: l.cursor.into(),
            time: if timestamps { l.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true) } else { String::new() },
            stream: l.stream.into(),
            line: match String::from_utf8(l.message) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            },
        }
    }
}

/// The lines of a log that end at a cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    /// In log order.
    pub entries: Vec<LogEntry>,
    /// Nothing comes before the first entry: the start of the log.
    pub at_start: bool,
}

/// New lines of a followed log, on the subscription's channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogBatch {
    pub entries: Vec<LogEntry>,
}

/// A line that a search found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogMatch {
    pub cursor: LogCursor,
    pub line: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn log_records_join_into_lines_per_stream() {
        let t = |s: u32| Utc.timestamp_opt(1_700_000_000, s).unwrap();
        let rec = |s, stream, partial, m: &str| Record { time: t(s), stream, partial, message: m.as_bytes().to_vec() };
        let lines = LogLine::from_records(&[
            rec(1, Stream::Stdout, true, "hel"),
            rec(2, Stream::Stderr, false, "oops"),
            rec(3, Stream::Stdout, false, "lo"),
            rec(4, Stream::Stdout, true, "no newline at the end"),
        ]);
        let got: Vec<(LogStream, &str, &str)> =
            lines.iter().map(|l| (l.stream, l.line.as_str(), &l.time[..])).collect();
        assert_eq!(
            got,
            [
                (LogStream::Stderr, "oops", "2023-11-14T22:13:20.000000002Z"),
                (LogStream::Stdout, "hello", "2023-11-14T22:13:20.000000001Z"),
                (LogStream::Stdout, "no newline at the end", "2023-11-14T22:13:20.000000004Z"),
            ]
        );
    }
}
