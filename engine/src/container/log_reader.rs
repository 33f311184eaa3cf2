//! Reading a container's log by place, without loading it: the page of lines that ends at a
//! cursor (read backwards in blocks from there), the lines from a cursor on as they are written
//! (across a rotation), and a search through both files as a stream. A log viewer opens a log
//! of hundreds of megabytes at its tail and pages back only as far as the user scrolls.
//!
//! A [`Cursor`] is the byte offset of a record in one of the two files (`ctr.log.1`, then
//! `ctr.log`). A line is a run of records of one stream in which every record but the last is
//! partial (the writer splits long lines, and a rotation may cut one across the two files); its
//! cursor is its first record's. A record of the other stream between the parts of a line ends
//! that line: rare (16 KiB of output without a newline while the other stream writes), and the
//! rule makes every reader, backwards or forwards, cut lines at the same places, so pages and
//! followed lines fit together.
//!
//! A rotation renames `ctr.log` to `ctr.log.1`: a cursor taken before it that names `ctr.log`
//! then points into the new file. A cursor past the end of its file or not at the start of a
//! record is refused, which catches most of those.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::logs::{rotated, Stream};

/// How much of a file is read at once going backwards.
const BLOCK: usize = 64 * 1024;

/// Which of the two files of a log; the rotated one comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogFile {
    /// `ctr.log.1`.
    Rotated,
    /// `ctr.log`.
    Current,
}

/// A place in a log: the offset of a record in one of its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    pub file: LogFile,
    pub offset: u64,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = match self.file {
            LogFile::Rotated => 0,
            LogFile::Current => 1,
        };
        write!(f, "{file}:{}", self.offset)
    }
}

/// One line of output: its records joined, with the time and place of the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub cursor: Cursor,
    pub time: DateTime<Utc>,
    pub stream: Stream,
    pub message: Vec<u8>,
}

/// The lines that end at a cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// In log order.
    pub lines: Vec<Line>,
    /// No line comes before the first of these.
    pub at_start: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LogReadError {
    #[error(
        "log cursor {cursor} is past the end of {} ({len} bytes): the log was rotated since; open it again at its end",
        path.display()
    )]
    PastEnd { cursor: Cursor, path: PathBuf, len: u64 },
    #[error("log cursor {cursor} is not at the start of a record in {}", path.display())]
    NotARecord { cursor: Cursor, path: PathBuf },
    #[error("reading {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// The two files of a container's log.
#[derive(Clone, Debug)]
pub struct LogFiles {
    current: PathBuf,
    rotated: PathBuf,
}

impl LogFiles {
    /// The files of the log at `log` (`ContainerPaths::log`).
    pub fn new(log: &Path) -> LogFiles {
        LogFiles { current: log.to_path_buf(), rotated: rotated(log) }
    }

    pub fn path(&self, file: LogFile) -> &Path {
        match file {
            LogFile::Rotated => &self.rotated,
            LogFile::Current => &self.current,
        }
    }

    fn io(&self, file: LogFile) -> impl Fn(io::Error) -> LogReadError + '_ {
        move |source| LogReadError::Io { path: self.path(file).to_path_buf(), source }
    }

    /// Opens one file; None when it does not exist (yet, or any more).
    fn open(&self, file: LogFile) -> Result<Option<File>, LogReadError> {
        match File::open(self.path(file)) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(file)(e)),
        }
    }

    /// Checks that `cursor` is the start of a record (or the end of its file).
    fn check(&self, cursor: Cursor, f: Option<&File>) -> Result<(), LogReadError> {
        let len = match f {
            Some(f) => f.metadata().map_err(self.io(cursor.file))?.len(),
            None => 0,
        };
        if cursor.offset > len {
            return Err(LogReadError::PastEnd { cursor, path: self.path(cursor.file).to_path_buf(), len });
        }
        if let (Some(f), Some(before)) = (f, cursor.offset.checked_sub(1)) {
            let mut byte = [0u8];
            f.read_exact_at(&mut byte, before).map_err(self.io(cursor.file))?;
            if byte[0] != b'\n' {
                return Err(LogReadError::NotARecord { cursor, path: self.path(cursor.file).to_path_buf() });
            }
        }
        Ok(())
    }
}

/// A record, split but not copied.
struct Raw<'a> {
    time: DateTime<Utc>,
    stream: Stream,
    partial: bool,
    message: &'a [u8],
}

/// `TIMESTAMP STREAM TAG MESSAGE` without its newline; None for anything else (skipped).
fn split(record: &[u8]) -> Option<Raw<'_>> {
    let mut parts = record.splitn(4, |b| *b == b' ');
    let time = DateTime::parse_from_rfc3339(std::str::from_utf8(parts.next()?).ok()?).ok()?.to_utc();
    let stream = match parts.next()? {
        b"stdout" => Stream::Stdout,
        b"stderr" => Stream::Stderr,
        _ => return None,
    };
    let partial = match parts.next()? {
        b"P" => true,
        b"F" => false,
        _ => return None,
    };
    Some(Raw { time, stream, partial, message: parts.next().unwrap_or(b"") })
}

/// A line being put together from its records.
struct Building {
    cursor: Cursor,
    time: DateTime<Utc>,
    stream: Stream,
    /// Forwards: the message so far. Backwards: the parts, last first.
    parts: Vec<Vec<u8>>,
    /// Forwards: the last record so far was partial, so the line may go on.
    open: bool,
}

impl Building {
    fn new(cursor: Cursor, r: &Raw<'_>) -> Building {
        Building { cursor, time: r.time, stream: r.stream, parts: vec![r.message.to_vec()], open: r.partial }
    }

    /// Going forwards: whether `r` continues this line.
    fn continued_by(&self, r: &Raw<'_>) -> bool {
        self.open && r.stream == self.stream
    }

    fn push(&mut self, r: &Raw<'_>) {
        self.parts[0].extend_from_slice(r.message);
        self.open = r.partial;
    }

    /// Going backwards: whether `r` (the record before this line) is its first part.
    fn preceded_by(&self, r: &Raw<'_>) -> bool {
        r.partial && r.stream == self.stream
    }

    fn prepend(&mut self, cursor: Cursor, r: &Raw<'_>) {
        self.cursor = cursor;
        self.time = r.time;
        self.parts.push(r.message.to_vec());
    }

    fn finish(mut self) -> Line {
        let message = if self.parts.len() == 1 {
            self.parts.pop().unwrap_or_default()
        } else {
            self.parts.iter().rev().flatten().copied().collect()
        };
        Line { cursor: self.cursor, time: self.time, stream: self.stream, message }
    }
}

/// Reads one file's records backwards from a record boundary, a block at a time.
struct Backwards {
    file: File,
    /// The file offset of `buf[0]`; `start + buf.len()` is a record boundary.
    start: u64,
    buf: Vec<u8>,
}

impl Backwards {
    /// Records before `end` (a record boundary); `None` for the end of the file's last whole
    /// record (one still being written is left out).
    fn new(file: File, end: Option<u64>) -> io::Result<Backwards> {
        let end = match end {
            Some(end) => end,
            None => {
                let len = file.metadata()?.len();
                last_boundary(&file, len)?
            }
        };
        Ok(Backwards { file, start: end, buf: Vec::new() })
    }

    fn prev(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        loop {
            if let Some(body_end) = self.buf.len().checked_sub(1) {
                if let Some(nl) = self.buf[..body_end].iter().rposition(|b| *b == b'\n') {
                    let record = self.buf[nl + 1..body_end].to_vec();
                    self.buf.truncate(nl + 1);
                    return Ok(Some((self.start + nl as u64 + 1, record)));
                }
                if self.start == 0 {
                    let record = self.buf[..body_end].to_vec();
                    self.buf.clear();
                    return Ok(Some((0, record)));
                }
            } else if self.start == 0 {
                return Ok(None);
            }
            let n = BLOCK.min(self.start as usize);
            let mut block = vec![0u8; n + self.buf.len()];
            self.file.read_exact_at(&mut block[..n], self.start - n as u64)?;
            block[n..].copy_from_slice(&self.buf);
            self.buf = block;
            self.start -= n as u64;
        }
    }
}

/// The offset just after the last newline before `len` (0 when there is none).
fn last_boundary(file: &File, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut block = vec![0u8; BLOCK];
    while end > 0 {
        let n = BLOCK.min(end as usize);
        file.read_exact_at(&mut block[..n], end - n as u64)?;
        if let Some(nl) = block[..n].iter().rposition(|b| *b == b'\n') {
            return Ok(end - n as u64 + nl as u64 + 1);
        }
        end -= n as u64;
    }
    Ok(0)
}

/// The `limit` lines (at least one) that end just before `before`, or before the end of the log.
pub fn window(files: &LogFiles, before: Option<Cursor>, limit: usize) -> Result<Page, LogReadError> {
    let limit = limit.max(1);
    let order: &[LogFile] = match before.map_or(LogFile::Current, |c| c.file) {
        LogFile::Current => &[LogFile::Current, LogFile::Rotated],
        LogFile::Rotated => &[LogFile::Rotated],
    };
    let mut lines = Vec::new();
    let mut building: Option<Building> = None;
    for (k, &which) in order.iter().enumerate() {
        let f = files.open(which)?;
        let end = match before {
            Some(c) if k == 0 => {
                files.check(c, f.as_ref())?;
                Some(c.offset)
            }
            _ => None,
        };
        let Some(f) = f else { continue };
        let mut back = Backwards::new(f, end).map_err(files.io(which))?;
        while let Some((offset, record)) = back.prev().map_err(files.io(which))? {
            let Some(r) = split(&record) else { continue };
            let cursor = Cursor { file: which, offset };
            if let Some(b) = building.as_mut().filter(|b| b.preceded_by(&r)) {
                b.prepend(cursor, &r);
                continue;
            }
            if let Some(b) = building.take() {
                lines.push(b.finish());
                if lines.len() == limit {
                    // `r` is a line before these.
                    lines.reverse();
                    return Ok(Page { lines, at_start: false });
                }
            }
            building = Some(Building::new(cursor, &r));
        }
    }
    lines.extend(building.map(Building::finish));
    lines.reverse();
    Ok(Page { lines, at_start: true })
}

/// The first `limit` lines, in log order, whose message `matches`; the whole log is read as a
/// stream, one line in memory at a time.
pub fn search(
    files: &LogFiles,
    mut matches: impl FnMut(&[u8]) -> bool,
    limit: usize,
) -> Result<Vec<Line>, LogReadError> {
    let mut found = Vec::new();
    let mut building: Option<Building> = None;
    let mut record = Vec::new();
    for which in [LogFile::Rotated, LogFile::Current] {
        let Some(f) = files.open(which)? else { continue };
        let mut reader = io::BufReader::with_capacity(256 * 1024, f);
        let mut offset = 0u64;
        while found.len() < limit {
            record.clear();
            let n = io::BufRead::read_until(&mut reader, b'\n', &mut record).map_err(files.io(which))?;
            if n == 0 || record.last() != Some(&b'\n') {
                break; // the end, or a record still being written
            }
            let cursor = Cursor { file: which, offset };
            offset += n as u64;
            let Some(r) = split(&record[..n - 1]) else { continue };
            match building.as_mut() {
                Some(b) if b.continued_by(&r) => {
                    b.push(&r);
                    if !b.open {
                        offer(&mut matches, building.take(), &mut found);
                    }
                }
                _ => {
                    offer(&mut matches, building.take(), &mut found);
                    if r.partial {
                        building = Some(Building::new(cursor, &r));
                    } else if found.len() < limit && matches(r.message) {
                        // The common case, a line in one record: copied only when it matches.
                        found.push(Building::new(cursor, &r).finish());
                    }
                }
            }
        }
    }
    offer(&mut matches, building.take(), &mut found);
    found.truncate(limit);
    Ok(found)
}

/// Keeps a whole line that matches.
fn offer(matches: &mut impl FnMut(&[u8]) -> bool, line: Option<Building>, found: &mut Vec<Line>) {
    if let Some(b) = line.filter(|b| matches(&b.parts[0])) {
        found.push(b.finish());
    }
}

/// Follows a log as it is written: each [`Follower::poll`] returns the whole lines written since
/// the previous one, across a rotation (the old file is read to its end, then the new one from
/// its start). A line whose last record so far is partial is held back until the record that
/// ends it arrives, or the caller gives up waiting ([`Follower::take_partial`]).
pub struct Follower {
    files: LogFiles,
    /// The file being read (None until `ctr.log` exists), which of the two it is now, and the
    /// offset of `pending[0]` in it.
    file: Option<File>,
    which: LogFile,
    offset: u64,
    /// Bytes read that do not make a whole record yet.
    pending: Vec<u8>,
    building: Option<Building>,
}

impl Follower {
    /// Follows from `from` (the line at it first), or from the end of the log as it is now.
    pub fn new(files: LogFiles, from: Option<Cursor>) -> Result<Follower, LogReadError> {
        let (which, cursor) = match from {
            Some(c) => (c.file, Some(c)),
            None => (LogFile::Current, None),
        };
        let file = files.open(which)?;
        let offset = match (cursor, &file) {
            (Some(c), f) => {
                files.check(c, f.as_ref())?;
                c.offset
            }
            (None, Some(f)) => {
                let len = f.metadata().map_err(files.io(which))?.len();
                last_boundary(f, len).map_err(files.io(which))?
            }
            (None, None) => 0,
        };
        let mut file = file;
        if let Some(f) = file.as_mut() {
            f.seek(SeekFrom::Start(offset)).map_err(files.io(which))?;
        }
        if file.is_none() && which == LogFile::Rotated {
            // Rotated away entirely (the cursor was 0): go on with the current file.
            return Ok(Follower {
                files,
                file: None,
                which: LogFile::Current,
                offset: 0,
                pending: Vec::new(),
                building: None,
            });
        }
        Ok(Follower { files, file, which, offset, pending: Vec::new(), building: None })
    }

    /// The lines written since the last call, reading at most about `max_bytes`; the flag says
    /// whether more is there to read already.
    pub fn poll(&mut self, max_bytes: usize) -> Result<(Vec<Line>, bool), LogReadError> {
        let mut lines = Vec::new();
        let mut budget = max_bytes.max(1) as u64;
        loop {
            if self.file.is_none() {
                match self.files.open(LogFile::Current)? {
                    Some(f) => {
                        self.file = Some(f);
                        self.which = LogFile::Current;
                        self.offset = 0;
                        self.pending.clear();
                    }
                    None => return Ok((lines, false)), // not written yet
                }
            }
            let Some(f) = self.file.as_mut() else { return Ok((lines, false)) };
            // Once `ctr.log` names another file, this one was renamed to `ctr.log.1` and is
            // complete: read it to its end, then go on with the new one.
            let complete = match self.which {
                LogFile::Rotated => true,
                LogFile::Current => {
                    let ino = f.metadata().map_err(self.files.io(LogFile::Current))?.ino();
                    std::fs::metadata(&self.files.current).is_ok_and(|m| m.ino() != ino)
                }
            };
            if complete {
                self.which = LogFile::Rotated;
            }
            let before = self.pending.len();
            let read =
                Read::by_ref(f).take(budget).read_to_end(&mut self.pending).map_err(self.files.io(self.which))? as u64;
            budget -= read.min(budget);
            if read > 0 {
                self.records(before, &mut lines);
            }
            if budget == 0 {
                return Ok((lines, true));
            }
            if !complete {
                return Ok((lines, false));
            }
            // The end of the old file: a record it did not finish never will be.
            self.pending.clear();
            self.file = None;
        }
    }

    /// Splits the whole records out of `pending` (its first `scanned` bytes have no newline).
    fn records(&mut self, scanned: usize, lines: &mut Vec<Line>) {
        let mut start = 0;
        let mut from = scanned;
        while let Some(nl) = self.pending[from..].iter().position(|b| *b == b'\n') {
            let end = from + nl;
            let cursor = Cursor { file: self.which, offset: self.offset + start as u64 };
            if let Some(r) = split(&self.pending[start..end]) {
                match self.building.as_mut() {
                    Some(b) if b.continued_by(&r) => b.push(&r),
                    _ => {
                        lines.extend(self.building.take().map(Building::finish));
                        self.building = Some(Building::new(cursor, &r));
                    }
                }
                if self.building.as_ref().is_some_and(|b| !b.open) {
                    lines.extend(self.building.take().map(Building::finish));
                }
            }
            start = end + 1;
            from = start;
        }
        self.pending.drain(..start);
        self.offset += start as u64;
    }

    /// The line held back because its last record so far is partial, if any: output that ended
    /// without a newline. Records that continue it later start a line of their own.
    pub fn take_partial(&mut self) -> Option<Line> {
        self.building.take().map(Building::finish)
    }

    /// Whether a line is held back.
    pub fn has_partial(&self) -> bool {
        self.building.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::logs::LogWriter;

    fn lines_of(page: &[Line]) -> Vec<String> {
        page.iter().map(|l| String::from_utf8_lossy(&l.message).into_owned()).collect()
    }

    /// Every line, paging back from the end `limit` at a time.
    fn page_back(files: &LogFiles, limit: usize) -> Vec<Line> {
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let page = window(files, before, limit).unwrap();
            assert!(page.lines.len() <= limit);
            before = page.lines.first().map(|l| l.cursor);
            let mut lines = page.lines;
            lines.append(&mut all);
            all = lines;
            if page.at_start {
                return all;
            }
        }
    }

    #[test]
    fn pages_back_through_both_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 4096).unwrap();
        let mut expected = Vec::new();
        for i in 0..300 {
            let line = format!("line {i} {}", "x".repeat(i % 37));
            w.write(Stream::Stdout, format!("{line}\n").as_bytes()).unwrap();
            expected.push(line);
        }
        assert!(rotated(&path).exists());
        let files = LogFiles::new(&path);
        // Only what the two files still hold: the oldest lines were rotated away.
        let all = page_back(&files, 7);
        let got = lines_of(&all);
        assert_eq!(got, expected[expected.len() - got.len()..], "each line once, in order");
        assert!(all.iter().any(|l| l.cursor.file == LogFile::Rotated));
        assert_eq!(all[0].cursor, Cursor { file: LogFile::Rotated, offset: 0 });
        assert!(all.windows(2).all(|w| w[0].cursor < w[1].cursor));
        for limit in [1, 2, 50, 1000] {
            assert_eq!(lines_of(&page_back(&files, limit)), got, "limit {limit}");
        }
        // A page from a cursor in the middle ends just before it.
        let mid = &all[all.len() / 2];
        let page = window(&files, Some(mid.cursor), 3).unwrap();
        assert_eq!(lines_of(&page.lines), got[all.len() / 2 - 3..all.len() / 2]);
    }

    #[test]
    fn long_lines_and_partials_join_the_same_way_backwards_and_forwards() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0).unwrap();
        let long = "y".repeat(40_000); // three records
        w.write(Stream::Stdout, b"first\n").unwrap();
        w.write(Stream::Stdout, format!("{long}\n").as_bytes()).unwrap();
        w.write(Stream::Stderr, b"err\n").unwrap();
        w.write(Stream::Stdout, b"no newline").unwrap();
        w.flush_partial().unwrap();
        w.write(Stream::Stdout, b"after\n").unwrap();
        let files = LogFiles::new(&path);
        let back = page_back(&files, 1);
        let mut follower = Follower::new(files.clone(), Some(Cursor { file: LogFile::Current, offset: 0 })).unwrap();
        let (forward, more) = follower.poll(1 << 20).unwrap();
        assert!(!more);
        assert_eq!(back, forward);
        assert_eq!(lines_of(&back), ["first", long.as_str(), "err", "no newlineafter"]);
        assert_eq!(back[2].stream, Stream::Stderr);
        let found = search(&files, |m| m.starts_with(b"yyy"), 10).unwrap();
        assert_eq!(found, [back[1].clone()]);
    }

    #[test]
    fn bad_cursors_name_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0).unwrap();
        w.write(Stream::Stdout, b"one\ntwo\n").unwrap();
        let files = LogFiles::new(&path);
        let len = std::fs::metadata(&path).unwrap().len();
        let e = window(&files, Some(Cursor { file: LogFile::Current, offset: len + 5 }), 5).unwrap_err();
        assert!(e.to_string().starts_with(&format!("log cursor 1:{} is past the end of", len + 5)), "{e}");
        let e = window(&files, Some(Cursor { file: LogFile::Current, offset: 3 }), 5).unwrap_err();
        assert!(e.to_string().starts_with("log cursor 1:3 is not at the start of a record"), "{e}");
        let e = Follower::new(files.clone(), Some(Cursor { file: LogFile::Rotated, offset: 9 })).err().unwrap();
        assert!(e.to_string().contains("ctr.log.1 (0 bytes)"), "{e}");
        let page = window(&files, Some(Cursor { file: LogFile::Current, offset: len }), 5).unwrap();
        assert_eq!((lines_of(&page.lines), page.at_start), (vec!["one".to_string(), "two".to_string()], true));
    }

    #[test]
    fn following_reads_new_lines_across_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let files = LogFiles::new(&path);
        let mut f = Follower::new(files.clone(), None).unwrap();
        assert_eq!(f.poll(1024).unwrap(), (vec![], false), "no log yet");
        let mut w = LogWriter::open(&path, 2000).unwrap();
        w.write(Stream::Stdout, b"before\n").unwrap();
        let mut got = lines_of(&f.poll(1 << 20).unwrap().0);
        let mut expected = vec!["before".to_string()];
        for i in 0..200 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes()).unwrap();
            expected.push(format!("line {i}"));
            if i % 30 == 0 {
                got.extend(lines_of(&f.poll(1 << 20).unwrap().0));
            }
        }
        // Small reads: several polls.
        loop {
            let (lines, more) = f.poll(100).unwrap();
            got.extend(lines_of(&lines));
            if !more && lines.is_empty() {
                break;
            }
        }
        assert_eq!(got, expected);
        w.write(Stream::Stderr, b"late\n").unwrap();
        assert_eq!(lines_of(&f.poll(1 << 20).unwrap().0), ["late"]);
        // From the end of the log as it is now: only what comes later.
        let mut late = Follower::new(files.clone(), None).unwrap();
        w.write(Stream::Stderr, b"later\n").unwrap();
        assert_eq!(lines_of(&late.poll(1 << 20).unwrap().0), ["later"]);
        // From a cursor in the rotated file: its rest, then the current file, with the same
        // cursors as a page gives.
        let page = window(&files, None, 10_000).unwrap();
        let first = page.lines[0].clone();
        assert_eq!(first.cursor.file, LogFile::Rotated);
        let mut from = Follower::new(files, Some(first.cursor)).unwrap();
        let all = from.poll(1 << 20).unwrap().0;
        assert_eq!(all, page.lines);
        assert_eq!(lines_of(&all[all.len() - 2..]), ["late", "later"]);
    }

    #[test]
    fn output_without_a_newline_is_held_until_the_caller_stops_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0).unwrap();
        let mut f = Follower::new(LogFiles::new(&path), None).unwrap();
        w.write(Stream::Stdout, &[b'z'; 16 * 1024]).unwrap();
        assert_eq!(f.poll(1 << 20).unwrap().0, vec![]);
        assert!(f.has_partial());
        assert_eq!(f.take_partial().unwrap().message.len(), 16 * 1024, "what was written so far");
        w.write(Stream::Stdout, b"end\n").unwrap();
        assert_eq!(lines_of(&f.poll(1 << 20).unwrap().0), ["end"], "a line of its own now");
        assert!(!f.has_partial());
    }

    #[test]
    fn search_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 1000).unwrap();
        for i in 0..100 {
            w.write(Stream::Stdout, format!("n{i}\n").as_bytes()).unwrap();
        }
        let files = LogFiles::new(&path);
        let found = search(&files, |m| m.ends_with(b"7"), 3).unwrap();
        let first = window(&files, None, 1000).unwrap().lines[0].clone();
        let first_n: u32 = String::from_utf8_lossy(&first.message)[1..].parse().unwrap();
        let expected: Vec<String> =
            (first_n..100).map(|i| format!("n{i}")).filter(|s| s.ends_with('7')).take(3).collect();
        assert_eq!(lines_of(&found), expected);
        assert_eq!(search(&files, |_| true, 0).unwrap(), vec![]);
    }
}
