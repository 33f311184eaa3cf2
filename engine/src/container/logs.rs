//! Container logs in the k8s-file format Podman's conmon writes: one record per line,
//! `TIMESTAMP STREAM TAG MESSAGE`, where TAG is `F` for a full line and `P` for a partial one
//! (a line longer than the buffer, or output that ended without a newline). The monitor writes;
//! `logs` reads, across one rotation (`ctr.log.1`).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

/// The longest line written as one record; longer output is split into partial records.
const MAX_RECORD: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub time: DateTime<Utc>,
    pub stream: Stream,
    pub partial: bool,
    pub message: Vec<u8>,
}

/// Appends records to the log file, rotating it when it grows past `max_size`.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    pub fn open(path: &Path, max_size: u64) -> io::Result<LogWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter { path: path.to_path_buf(), file, size, max_size, pending: [Vec::new(), Vec::new()] })
    }

    /// Takes output as it comes; writes every complete line, keeps the rest for later.
    pub fn write(&mut self, stream: Stream, mut data: &[u8]) -> io::Result<()> {
        let i = stream as usize;
        while let Some(nl) = data.iter().position(|b| *b == b'\n') {
            let mut line = std::mem::take(&mut self.pending[i]);
            line.extend_from_slice(&data[..nl]);
            self.records(stream, &line, false)?;
            data = &data[nl + 1..];
        }
        self.pending[i].extend_from_slice(data);
        if self.pending[i].len() >= MAX_RECORD {
            let chunk = std::mem::take(&mut self.pending[i]);
            self.records(stream, &chunk, true)?;
        }
        Ok(())
    }

    /// Writes out what is left without a newline (the stream ended), as partial records.
    pub fn flush_partial(&mut self) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.pending[stream as usize]);
            if !rest.is_empty() {
                self.records(stream, &rest, true)?;
            }
        }
        Ok(())
    }

    fn records(&mut self, stream: Stream, line: &[u8], last_partial: bool) -> io::Result<()> {
        let chunks: Vec<&[u8]> = if line.is_empty() { vec![line] } else { line.chunks(MAX_RECORD).collect() };
        let n = chunks.len();
        for (k, chunk) in chunks.into_iter().enumerate() {
            let partial = k + 1 < n || last_partial;
            let mut rec = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true).into_bytes();
            rec.push(b' ');
            rec.extend_from_slice(stream.name().as_bytes());
            rec.extend_from_slice(if partial { b" P " } else { b" F " });
            rec.extend_from_slice(chunk);
            rec.push(b'\n');
            self.rotate_if_needed(rec.len() as u64)?;
            self.file.write_all(&rec)?;
            self.size += rec.len() as u64;
        }
        Ok(())
    }

    fn rotate_if_needed(&mut self, incoming: u64) -> io::Result<()> {
        if self.max_size == 0 || self.size + incoming <= self.max_size || self.size == 0 {
            return Ok(());
        }
        std::fs::rename(&self.path, rotated(&self.path))?;
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

pub fn rotated(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

pub fn parse_line(line: &[u8]) -> Option<Record> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time = std::str::from_utf8(parts.next()?).ok()?;
    let time = DateTime::parse_from_rfc3339(time).ok()?.to_utc();
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
    Some(Record { time, stream, partial, message: parts.next().unwrap_or(b"").to_vec() })
}

/// Reads the log from the start (the rotated file first); returns the records and where the
/// current file ended, to follow from there.
pub fn read_all(path: &Path) -> io::Result<(Vec<Record>, u64)> {
    let mut out = Vec::new();
    if let Ok(f) = File::open(rotated(path)) {
        read_from(f, &mut out)?;
    }
    let end = match File::open(path) {
        Ok(f) => read_from(f, &mut out)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    Ok((out, end))
}

/// Reads whole records after `offset` of the current file; returns the new offset. When the
/// file was rotated under us (it is now shorter than `offset`), starts again from its beginning.
pub fn read_since(path: &Path, offset: u64) -> io::Result<(Vec<Record>, u64)> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    let start = if len < offset { 0 } else { offset };
    f.seek(SeekFrom::Start(start))?;
    let mut out = Vec::new();
    let read = read_from(f, &mut out)?;
    Ok((out, start + read))
}

fn read_from(f: File, out: &mut Vec<Record>) -> io::Result<u64> {
    let mut reader = BufReader::new(f);
    let mut consumed = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            break; // a record still being written is read next time
        }
        consumed += n as u64;
        if let Some(r) = parse_line(&line) {
            out.push(r);
        }
    }
    Ok(consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_partials_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 300).unwrap();
        w.write(Stream::Stdout, b"hello\nwor").unwrap();
        w.write(Stream::Stderr, b"oops\n").unwrap();
        w.write(Stream::Stdout, b"ld\n").unwrap();
        w.write(Stream::Stdout, b"no newline").unwrap();
        w.flush_partial().unwrap();
        let (recs, _) = read_all(&path).unwrap();
        let got: Vec<(Stream, bool, &[u8])> = recs.iter().map(|r| (r.stream, r.partial, &r.message[..])).collect();
        assert_eq!(
            got,
            vec![
                (Stream::Stdout, false, &b"hello"[..]),
                (Stream::Stderr, false, &b"oops"[..]),
                (Stream::Stdout, false, &b"world"[..]),
                (Stream::Stdout, true, &b"no newline"[..]),
            ]
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().next().unwrap().ends_with("Z stdout F hello"), "{text}");
        for i in 0..20 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes()).unwrap();
        }
        assert!(rotated(&path).exists(), "rotated past max size");
        assert!(std::fs::metadata(&path).unwrap().len() <= 300);
        let (recs, _) = read_all(&path).unwrap();
        assert_eq!(recs.last().unwrap().message, b"line 19");
    }

    #[test]
    fn long_lines_become_partial_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0).unwrap();
        let long = vec![b'x'; MAX_RECORD * 2 + 5];
        w.write(Stream::Stdout, &long).unwrap();
        w.write(Stream::Stdout, b"\n").unwrap();
        let (recs, _) = read_all(&path).unwrap();
        let joined: Vec<u8> = recs.iter().flat_map(|r| r.message.clone()).collect();
        assert_eq!(joined, long);
        assert!(recs[..recs.len() - 1].iter().all(|r| r.partial) && !recs.last().unwrap().partial);
    }
}
