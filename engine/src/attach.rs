//! Attaching to a running container, conmon's attach socket: the monitor listens on
//! `$RUNROOT/attach/ID12` while the container runs, sends its output to every client, and feeds
//! client input to the container's stdin (its terminal with `-t`, a pipe with `-i`).
//!
//! Both directions are framed: one byte of kind, four bytes of length (big-endian), the data.
//! Client to monitor: [`STDIN`] bytes, [`RESIZE`] (rows, columns: two u16), [`CLOSE_STDIN`].
//! Monitor to client: [`STDOUT`] and [`STDERR`] bytes (a terminal's output is all STDOUT).
//! Output from before the first client attached is replayed to it (up to 64 KiB), so
//! `run -it` sees a shell's first prompt.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

pub const STDIN: u8 = 0;
pub const RESIZE: u8 = 1;
pub const CLOSE_STDIN: u8 = 2;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;

/// Ctrl-P Ctrl-Q, Podman's and Docker's default detach keys.
pub const DETACH_KEYS: &[u8] = &[0x10, 0x11];

/// Output kept for the first client, at most.
pub const REPLAY_MAX: usize = 64 * 1024;

pub fn socket_path(run_root: &Path, id: &str) -> PathBuf {
    run_root.join("attach").join(&id[..12.min(id.len())])
}

pub fn frame(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(5 + data.len());
    f.push(kind);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes());
    f.extend_from_slice(data);
    f
}

pub fn write_frame(w: &mut impl Write, kind: u8, data: &[u8]) -> std::io::Result<()> {
    w.write_all(&frame(kind, data))
}

/// Splits a byte stream into frames, however it arrives.
#[derive(Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole frame, if one has arrived.
    pub fn next_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        if self.buf.len() < 5 {
            return None;
        }
        let len = u32::from_be_bytes(self.buf[1..5].try_into().expect("four bytes")) as usize;
        if self.buf.len() < 5 + len {
            return None;
        }
        let kind = self.buf[0];
        let data = self.buf[5..5 + len].to_vec();
        self.buf.drain(..5 + len);
        Some((kind, data))
    }
}

/// Finds the detach sequence in what the user typed: the bytes before it, and whether it came.
/// `pending` carries a partial sequence over from the last call.
pub fn scan_detach(pending: &mut Vec<u8>, input: &[u8], keys: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    for &b in input {
        pending.push(b);
        if keys.starts_with(pending) {
            if pending.len() == keys.len() {
                return (out, true);
            }
            continue;
        }
        out.append(pending);
    }
    (out, false)
}

/// A client's connection to a container's monitor.
pub struct Attached {
    pub stream: UnixStream,
}

impl Attached {
    pub fn connect(run_root: &Path, id: &str) -> std::io::Result<Attached> {
        Ok(Attached { stream: UnixStream::connect(socket_path(run_root, id))? })
    }

    pub fn send_input(&mut self, data: &[u8]) -> std::io::Result<()> {
        write_frame(&mut self.stream, STDIN, data)
    }

    pub fn resize(&mut self, rows: u16, cols: u16) -> std::io::Result<()> {
        let mut d = rows.to_be_bytes().to_vec();
        d.extend_from_slice(&cols.to_be_bytes());
        write_frame(&mut self.stream, RESIZE, &d)
    }

    pub fn close_stdin(&mut self) -> std::io::Result<()> {
        write_frame(&mut self.stream, CLOSE_STDIN, &[])
    }

    /// Reads output frames until the monitor closes the connection (the container exited).
    pub fn read_output(mut stream: UnixStream, mut on: impl FnMut(u8, &[u8])) -> std::io::Result<()> {
        let mut frames = FrameReader::default();
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            frames.push(&buf[..n]);
            while let Some((kind, data)) = frames.next_frame() {
                on(kind, &data);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_any_split() {
        let mut all = frame(STDOUT, b"hello");
        all.extend(frame(STDERR, b""));
        all.extend(frame(STDOUT, &[7u8; 300]));
        for chunk in [1, 2, 5, 7, 64] {
            let mut r = FrameReader::default();
            let mut got = Vec::new();
            for c in all.chunks(chunk) {
                r.push(c);
                while let Some(f) = r.next_frame() {
                    got.push(f);
                }
            }
            assert_eq!(got, vec![(STDOUT, b"hello".to_vec()), (STDERR, vec![]), (STDOUT, vec![7u8; 300])], "{chunk}");
        }
    }

    #[test]
    fn the_detach_sequence_is_found_across_reads_and_a_lone_ctrl_p_passes() {
        let mut pending = Vec::new();
        assert_eq!(scan_detach(&mut pending, b"ls\x10", DETACH_KEYS), (b"ls".to_vec(), false));
        assert_eq!(scan_detach(&mut pending, b"\x11rest", DETACH_KEYS), (vec![], true));
        let mut pending = Vec::new();
        assert_eq!(scan_detach(&mut pending, b"a\x10b", DETACH_KEYS), (b"a\x10b".to_vec(), false));
    }
}
