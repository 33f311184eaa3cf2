//! Following a container's log file as it is written: for `run`, `logs --follow` and the API
//! service's logs and attach.

use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use berth_engine::container::logs::{self, Record, Stream};
use berth_engine::{ContainerRecord, Engine};

pub(super) fn print_record(r: &Record, timestamps: bool) -> std::io::Result<()> {
    let mut line = Vec::with_capacity(r.message.len() + 40);
    if timestamps {
        line.extend_from_slice(r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).as_bytes());
        line.push(b' ');
    }
    line.extend_from_slice(&r.message);
    if !r.partial {
        line.push(b'\n');
    }
    match r.stream {
        Stream::Stdout => {
            let mut o = std::io::stdout().lock();
            o.write_all(&line)?;
            o.flush()
        }
        Stream::Stderr => std::io::stderr().lock().write_all(&line),
    }
}

/// Follows a log file across rotation, through an open descriptor (so a `--rm` removal after
/// the exit loses nothing).
pub(crate) struct Follower {
    path: PathBuf,
    file: std::fs::File,
    pending: Vec<u8>,
}

impl Follower {
    /// Opens (creating it if the monitor has not yet) the log and starts at `offset`.
    pub(crate) fn open(path: &Path, offset: u64) -> anyhow::Result<Follower> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.seek(std::io::SeekFrom::Start(offset))?;
        Ok(Follower { path: path.to_path_buf(), file, pending: Vec::new() })
    }

    pub(crate) fn poll(&mut self) -> std::io::Result<Vec<Record>> {
        // Rotated when the name points at another file: this one is then complete, so read it
        // to its end before switching.
        let current = self.file.metadata()?.ino();
        let rotated = std::fs::metadata(&self.path).is_ok_and(|m| m.ino() != current);
        self.file.read_to_end(&mut self.pending)?;
        let end = self.pending.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let out = self.pending[..end].split(|b| *b == b'\n').filter_map(logs::parse_line).collect();
        self.pending.drain(..end);
        if rotated {
            if let Ok(f) = std::fs::File::open(&self.path) {
                self.file = f;
            }
        }
        Ok(out)
    }
}

/// Prints the container's output as it comes until it exits; returns its exit code. Ctrl-C and
/// SIGTERM are passed on to the container when `proxy_signals`, as Podman's sig-proxy does.
pub(super) async fn follow_until_exit(
    engine: &Engine,
    c: &ContainerRecord,
    mut follower: Follower,
    proxy_signals: bool,
) -> anyhow::Result<i32> {
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let exit_file = engine.exit_file(&c.id);
    let mut tick = 0u32;
    loop {
        // The monitor writes the exit file after recording the exit; the database is asked
        // only now and then (to notice a monitor that died without writing it).
        tick += 1;
        let exited = if exit_file.exists() || tick.is_multiple_of(100) { engine.exit_code(&c.id)? } else { None };
        for r in follower.poll()? {
            print_record(&r, false)?;
        }
        if let Some(code) = exited {
            berth_engine::trace::mark("exit seen");
            // everything was written before the exit was recorded: one last read
            for r in follower.poll()? {
                print_record(&r, false)?;
            }
            return Ok(code);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(2)) => {}
            _ = sigint.recv() => {
                if proxy_signals { let _ = engine.kill_container(&c.id, "INT"); } else { return Ok(0); }
            }
            _ = sigterm.recv() => {
                if proxy_signals { let _ = engine.kill_container(&c.id, "TERM"); } else { return Ok(0); }
            }
        }
    }
}
