//! Following a container's log file as it is written: for `run`, `logs --follow` and the API
//! service's logs and attach.

use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use berth_engine::container::logs::{self, Record, Stream};
use berth_engine::{ContainerRecord, Engine};

/// Which of a container's streams are shown (`run --attach stdout|stderr`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Streams {
    pub stdout: bool,
    pub stderr: bool,
}

impl Streams {
    pub const BOTH: Streams = Streams { stdout: true, stderr: true };
}

/// A record as a line of output, after `prefix` (the short id, when `logs` shows several
/// containers), to the stream it came from when `streams` shows that one.
pub(super) fn print_prefixed(r: &Record, timestamps: bool, prefix: &str, streams: Streams) -> std::io::Result<()> {
    let shown = match r.stream {
        Stream::Stdout => streams.stdout,
        Stream::Stderr => streams.stderr,
    };
    if !shown {
        return Ok(());
    }
    let mut line = Vec::with_capacity(r.message.len() + 40 + prefix.len());
    line.extend_from_slice(prefix.as_bytes());
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
    follower: Follower,
    proxy_signals: bool,
) -> anyhow::Result<i32> {
    follow_streams(engine, c, follower, proxy_signals, Streams::BOTH).await
}

/// [`follow_until_exit`], showing only the streams asked for.
pub(super) async fn follow_streams(
    engine: &Engine,
    c: &ContainerRecord,
    follower: Follower,
    proxy_signals: bool,
    streams: Streams,
) -> anyhow::Result<i32> {
    let followed = vec![Followed { id: c.id.clone(), prefix: String::new(), follower }];
    let codes = follow_all(engine, followed, proxy_signals, streams, false).await?;
    Ok(codes.first().copied().unwrap_or(0))
}

/// One container's log being followed, and what goes in front of its lines.
pub(super) struct Followed {
    pub id: String,
    pub prefix: String,
    pub follower: Follower,
}

/// Prints the output of every container as it comes until each has exited; returns their exit
/// codes in the order given.
pub(super) async fn follow_all(
    engine: &Engine,
    mut followed: Vec<Followed>,
    proxy_signals: bool,
    streams: Streams,
    timestamps: bool,
) -> anyhow::Result<Vec<i32>> {
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let exit_files: Vec<PathBuf> = followed.iter().map(|f| engine.exit_file(&f.id)).collect();
    let mut codes: Vec<Option<i32>> = vec![None; followed.len()];
    let mut tick = 0u32;
    loop {
        // The monitor writes the exit file after recording the exit; the database is asked
        // only now and then (to notice a monitor that died without writing it).
        tick += 1;
        for (i, f) in followed.iter_mut().enumerate() {
            if codes[i].is_some() {
                continue;
            }
            // The file is read first: an `rm -f` removes the container (and then the file)
            // right after the exit, and the code must not be lost meanwhile.
            let exited = match std::fs::read_to_string(&exit_files[i]).ok().and_then(|t| t.trim().parse().ok()) {
                Some(code) => Some(code),
                None if tick.is_multiple_of(100) => engine.exit_code(&f.id)?,
                None => None,
            };
            for r in f.follower.poll()? {
                print_prefixed(&r, timestamps, &f.prefix, streams)?;
            }
            if let Some(code) = exited {
                berth_engine::trace::mark("exit seen");
                // everything was written before the exit was recorded: one last read
                for r in f.follower.poll()? {
                    print_prefixed(&r, timestamps, &f.prefix, streams)?;
                }
                codes[i] = Some(code);
            }
        }
        if codes.iter().all(Option::is_some) {
            return Ok(codes.into_iter().flatten().collect());
        }
        let running = || followed.iter().zip(&codes).filter(|(_, c)| c.is_none()).map(|(f, _)| f.id.as_str());
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(2)) => {}
            _ = sigint.recv() => {
                if !proxy_signals { return Ok(codes.into_iter().map(|c| c.unwrap_or(0)).collect()); }
                for id in running() { let _ = engine.kill_container(id, "INT"); }
            }
            _ = sigterm.recv() => {
                if !proxy_signals { return Ok(codes.into_iter().map(|c| c.unwrap_or(0)).collect()); }
                for id in running() { let _ = engine.kill_container(id, "TERM"); }
            }
        }
    }
}
