//! A container's log: whole (`container_logs`), by pages back from a cursor (`log_window`),
//! followed (its lines sent as they are written, until `stop_follow`) and searched.

use berth_engine::container::log_reader::{self, Cursor, Follower, LogFiles, LogReadError};
use berth_engine::container::logs;
use berth_engine::{ContainerRecord, Engine};
use serde::Deserialize;

use crate::channel::Sink;
use crate::dto::{ApiError, LogBatch, LogCursor, LogEntry, LogLine, LogMatch, LogPage};

use super::backend::{blocking, Backend};

#[derive(Debug, Deserialize)]
pub struct LogsArgs {
    pub id: String,
    /// Only the last lines.
    pub tail: Option<usize>,
}

#[derive(Debug, Deserialize)]
pub struct LogWindowArgs {
    pub id: String,
    /// The page ends just before this line; None for the end of the log.
    pub before: Option<LogCursor>,
    pub limit: usize,
    /// Whether entries carry their time (else `""`).
    #[serde(default)]
    pub timestamps: bool,
}

#[derive(Debug, Deserialize)]
pub struct FollowArgs {
    pub id: String,
    /// The first line to send; None for what is written from now on.
    pub from: Option<LogCursor>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionArgs {
    pub subscription: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchArgs {
    pub id: String,
    pub query: String,
    /// `query` is a regular expression (Rust's regex syntax), else plain text.
    #[serde(default)]
    pub regex: bool,
    #[serde(default)]
    pub case_sensitive: bool,
    pub limit: usize,
}

pub async fn container_logs(b: &Backend, a: LogsArgs) -> Result<Vec<LogLine>, ApiError> {
    blocking(&b.engine, move |e| {
        let c = e.container(&a.id)?;
        let path = e.container_paths(&c.id).log();
        let (records, _) = logs::read_all(&path)
            .map_err(|err| ApiError::engine(format!("reading the log of container {}: {err}", c.name)))?;
        let mut lines = LogLine::from_records(&records);
        if let Some(tail) = a.tail {
            lines.drain(..lines.len().saturating_sub(tail));
        }
        Ok(lines)
    })
    .await
}

/// The most lines one page or search gives.
pub const MAX_LINES: usize = 10_000;

fn check_limit(limit: usize) -> Result<usize, ApiError> {
    if limit == 0 || limit > MAX_LINES {
        return Err(ApiError::invalid(format!("limit {limit}: ask for 1 to {MAX_LINES} lines")));
    }
    Ok(limit)
}

/// The container and the files of its log.
fn log_files(e: &Engine, query: &str) -> Result<(ContainerRecord, LogFiles), ApiError> {
    let c = e.container(query)?;
    let files = LogFiles::new(&e.container_paths(&c.id).log());
    Ok((c, files))
}

fn log_error(c: &ContainerRecord, e: LogReadError) -> ApiError {
    let message = format!("the log of container {}: {e}", c.name);
    match e {
        LogReadError::PastEnd { .. } | LogReadError::NotARecord { .. } => ApiError::invalid(message),
        LogReadError::Io { .. } => ApiError::engine(message),
    }
}

/// The `limit` lines of a container's log that end just before `before` (at the end of the
/// log without it): the tail when the viewer opens, then a page further back per call.
pub async fn log_window(b: &Backend, a: LogWindowArgs) -> Result<LogPage, ApiError> {
    let before = a.before.map(Cursor::try_from).transpose()?;
    let limit = check_limit(a.limit)?;
    blocking(&b.engine, move |e| {
        let (c, files) = log_files(e, &a.id)?;
        let page = log_reader::window(&files, before, limit).map_err(|err| log_error(&c, err))?;
        let entries = page.lines.into_iter().map(|l| LogEntry::new(l, a.timestamps)).collect();
        Ok(LogPage { entries, at_start: page.at_start })
    })
    .await
}

/// Sends a container's lines to `sink` as they are written, from the line at `from` (from the
/// end of the log as it is now without it); returns the subscription's id for `stop_follow`.
pub async fn follow_logs(b: &Backend, a: FollowArgs, sink: impl Sink<LogBatch>) -> Result<String, ApiError> {
    let from = a.from.map(Cursor::try_from).transpose()?;
    let (c, follower) = blocking(&b.engine, move |e| {
        let (c, files) = log_files(e, &a.id)?;
        let follower = Follower::new(files, from).map_err(|err| log_error(&c, err))?;
        Ok((c, follower))
    })
    .await?;
    Ok(b.follows.start(b.engine.clone(), c.id, follower, sink))
}

/// Ends a subscription; one that ended already is not an error.
pub async fn stop_follow(b: &Backend, a: SubscriptionArgs) -> Result<(), ApiError> {
    b.follows.stop(&a.subscription);
    Ok(())
}

/// The first `limit` lines of the whole log (both files) that contain `query`, or match it as
/// a regular expression; the log is read as a stream.
pub async fn search_logs(b: &Backend, a: SearchArgs) -> Result<Vec<LogMatch>, ApiError> {
    if a.query.is_empty() {
        return Err(ApiError::invalid("searching a log needs a query"));
    }
    let limit = check_limit(a.limit)?;
    let pattern = if a.regex { a.query.clone() } else { regex::escape(&a.query) };
    let re = regex::bytes::RegexBuilder::new(&pattern).case_insensitive(!a.case_sensitive).build().map_err(|e| {
        let why = e.to_string();
        let why = why.lines().last().unwrap_or_default().trim().trim_start_matches("error: ").to_string();
        ApiError::invalid(format!("invalid regular expression {:?}: {why}", a.query))
    })?;
    blocking(&b.engine, move |e| {
        let (c, files) = log_files(e, &a.id)?;
        let found = log_reader::search(&files, |m| re.is_match(m), limit).map_err(|err| log_error(&c, err))?;
        Ok(found
            .into_iter()
            .map(|l| {
                let entry = LogEntry::new(l, false);
                LogMatch { cursor: entry.cursor, line: entry.line }
            })
            .collect())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_limits_are_bounded() {
        assert_eq!(check_limit(1).unwrap(), 1);
        assert_eq!(check_limit(MAX_LINES).unwrap(), MAX_LINES);
        assert_eq!(check_limit(0).unwrap_err().message, "limit 0: ask for 1 to 10000 lines");
        assert_eq!(check_limit(MAX_LINES + 1).unwrap_err().code, "invalid");
    }
}
