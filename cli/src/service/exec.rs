//! `/containers/{id}/exec`, `/exec/{id}/start|resize|json`: Docker's two-step exec, on the
//! engine's exec helper; a pseudo-terminal for `Tty`, pipes (multiplexed frames) otherwise.
//!
//! A session starts once (a second start is Docker's 409). Sessions go with their container
//! (when it is removed through this service, or found gone on a lookup or a sweep), and one
//! that has ended, or was never started, is kept for [`EXEC_KEEP`] to be inspected, then
//! dropped, as Docker keeps exited execs a while: the table never grows without bound.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::containers::mux;
use super::{empty, json_reply, ok_json, ApiError, Ctx, Reply, Req};

/// How long a session that ended, or was never started, stays inspectable.
pub const EXEC_KEEP: Duration = Duration::from_secs(300);
/// How often sessions past their time, or of removed containers, are swept.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

pub struct ExecSession {
    pub id: String,
    pub container_id: String,
    pub options: berth_engine::exec::ExecOptions,
    pub attach_stdin: bool,
    pub created: Instant,
    pub state: Mutex<ExecState>,
}

impl ExecSession {
    /// Ended (or never started) longer ago than [`EXEC_KEEP`].
    fn expired(&self, now: Instant) -> bool {
        let st = self.state.lock().expect("state");
        match (st.started, st.ended) {
            (false, _) => now.duration_since(self.created) > EXEC_KEEP,
            (true, Some(ended)) => now.duration_since(ended) > EXEC_KEEP,
            (true, None) => false,
        }
    }
}

#[derive(Default)]
pub struct ExecState {
    /// Started once: a session never starts twice.
    pub started: bool,
    /// When its process ended.
    pub ended: Option<Instant>,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub pid: Option<u32>,
    /// The terminal, for resizes.
    pub master: Option<Arc<OwnedFd>>,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

pub async fn create(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let body = r.json()?;
    let q = id.to_string();
    let c = ctx.blocking(move |e| e.container(&q)).await?;
    if c.status != berth_engine::ContainerStatus::Running {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("Container {} is not running", c.id)));
    }
    let cmd = strings(&body["Cmd"]);
    if cmd.is_empty() {
        return Err(ApiError::bad("No exec command specified"));
    }
    let exec_id = {
        use rand::RngExt;
        let b: [u8; 32] = rand::rng().random();
        hex_string(&b)
    };
    let options = berth_engine::exec::ExecOptions {
        command: cmd,
        env: strings(&body["Env"]),
        user: body["User"].as_str().filter(|s| !s.is_empty()).map(str::to_string),
        workdir: body["WorkingDir"].as_str().filter(|s| !s.is_empty()).map(str::to_string),
        tty: body["Tty"].as_bool().unwrap_or(false),
        kill_after_ms: None,
    };
    let session = Arc::new(ExecSession {
        id: exec_id.clone(),
        container_id: c.id,
        options,
        attach_stdin: body["AttachStdin"].as_bool().unwrap_or(false),
        created: Instant::now(),
        state: Mutex::new(ExecState::default()),
    });
    ctx.execs.lock().expect("execs").insert(exec_id.clone(), session);
    json_reply(StatusCode::CREATED, &json!({"Id": exec_id}))
}

fn hex_string(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A session whose container still exists; one whose container is gone goes with it.
async fn session(ctx: &Ctx, id: &str) -> Result<Arc<ExecSession>, ApiError> {
    let missing = || ApiError::not_found(format!("No such exec instance: {id}"));
    let s = ctx.execs.lock().expect("execs").get(id).cloned().ok_or_else(missing)?;
    let cid = s.container_id.clone();
    match ctx.blocking(move |e| e.container(&cid)).await {
        Ok(_) => Ok(s),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            forget_container(ctx, &s.container_id);
            Err(missing())
        }
        Err(e) => Err(e),
    }
}

/// Drops the sessions of a removed container.
pub fn forget_container(ctx: &Ctx, container_id: &str) {
    ctx.execs.lock().expect("execs").retain(|_, s| s.container_id != container_id);
}

/// Drops sessions past [`EXEC_KEEP`] and those of containers that no longer exist.
pub async fn sweep(ctx: &Ctx) {
    let now = Instant::now();
    let containers: std::collections::BTreeSet<String> = {
        let mut execs = ctx.execs.lock().expect("execs");
        execs.retain(|_, s| !s.expired(now));
        execs.values().map(|s| s.container_id.clone()).collect()
    };
    if containers.is_empty() {
        return;
    }
    let gone = ctx
        .blocking(move |e| {
            Ok(containers
                .into_iter()
                .filter(|c| {
                    matches!(
                        e.container(c),
                        Err(berth_engine::Error::ContainerLookup(berth_engine::container::LookupError::NotFound(_)))
                    )
                })
                .collect::<Vec<_>>())
        })
        .await
        .unwrap_or_default();
    for c in gone {
        forget_container(ctx, &c);
    }
}

fn code_of(s: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
}

pub async fn start(ctx: &Ctx, id: &str, mut r: Req) -> Reply {
    let s = session(ctx, id).await?;
    let body = r.json()?;
    let detach = body["Detach"].as_bool().unwrap_or(false);
    let tty = s.options.tty;
    let upgrade = if detach {
        None
    } else {
        Some(
            r.upgrade
                .take()
                .ok_or_else(|| ApiError::bad("exec start needs an upgraded connection (Connection: Upgrade)"))?,
        )
    };
    {
        let mut st = s.state.lock().expect("state");
        if st.running {
            return Err(ApiError::conflict(format!("Error: Exec command {id} is already running")));
        }
        if st.started {
            return Err(ApiError::conflict(format!("Error: Exec command {id} has already run")));
        }
        st.started = true;
    }
    // Started now (on the blocking pool: the engine reads the container's state and forks), so
    // a failure to start is this request's error; the session then counts as ended.
    let (cid, opts, attach_stdin) = (s.container_id.clone(), s.options.clone(), s.attach_stdin);
    let started = ctx
        .blocking(move |e| -> berth_engine::Result<(std::process::Child, Option<Arc<OwnedFd>>)> {
            let spawn_error =
                |err: std::io::Error| berth_engine::Error::Invalid(format!("starting the exec helper: {err}"));
            if detach {
                let mut cmd = e.exec_command(&cid, &opts)?;
                cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
                return Ok((cmd.spawn().map_err(spawn_error)?, None));
            }
            if opts.tty {
                let (child, master) = e.exec_tty(&cid, &opts)?;
                return Ok((child, Some(Arc::new(master))));
            }
            let mut cmd = e.exec_command(&cid, &opts)?;
            cmd.stdin(if attach_stdin { Stdio::piped() } else { Stdio::null() })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            Ok((cmd.spawn().map_err(spawn_error)?, None))
        })
        .await;
    let (mut child, master) = match started {
        Ok(x) => x,
        Err(e) => {
            s.state.lock().expect("state").ended = Some(Instant::now());
            return Err(e);
        }
    };
    {
        let mut st = s.state.lock().expect("state");
        st.running = true;
        st.pid = Some(child.id());
        st.master = master.clone();
    }
    let Some(upgrade) = upgrade else {
        let s2 = s.clone();
        std::thread::spawn(move || {
            let code = child.wait().map(code_of).unwrap_or(-1);
            let mut st = s2.state.lock().expect("state");
            st.running = false;
            st.exit_code = Some(code);
            st.ended = Some(Instant::now());
        });
        return empty(StatusCode::OK);
    };
    let s2 = s.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            let _ = child.kill();
            return;
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let (mut client_r, mut client_w) = tokio::io::split(io);
        let (otx, mut orx) = tokio::sync::mpsc::channel::<Bytes>(64);
        let mut stdin_pipe = child.stdin.take();
        let master_in = master.clone();
        // Process output, read on blocking threads.
        if let Some(m) = master.clone() {
            let otx = otx.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::File::from(m.try_clone().expect("a terminal clone"));
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = std::io::Read::read(&mut f, &mut buf) {
                    if n == 0 || otx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                        break;
                    }
                }
            });
        } else {
            for (stream, pipe) in [
                (1u8, child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>)),
                (2, child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>)),
            ] {
                let Some(mut pipe) = pipe else { continue };
                let otx = otx.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = pipe.read(&mut buf) {
                        if n == 0 || otx.blocking_send(mux(stream, &buf[..n])).is_err() {
                            break;
                        }
                    }
                });
            }
        }
        drop(otx);
        let input = async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match client_r.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        stdin_pipe.take(); // end of input
                        return std::future::pending::<()>().await;
                    }
                    Ok(n) => {
                        if let Some(m) = &master_in {
                            let _ = nix::unistd::write(m.as_ref(), &buf[..n]);
                        } else if let Some(p) = stdin_pipe.as_mut() {
                            let _ = std::io::Write::write_all(p, &buf[..n]);
                        }
                    }
                }
            }
        };
        let output = async {
            while let Some(b) = orx.recv().await {
                if client_w.write_all(&b).await.is_err() {
                    break;
                }
                let _ = client_w.flush().await;
            }
        };
        let waited = tokio::task::spawn_blocking(move || child.wait().map(code_of).unwrap_or(-1));
        tokio::select! {
            _ = output => {}
            _ = input => {}
        }
        let code = waited.await.unwrap_or(-1);
        {
            let mut st = s2.state.lock().expect("state");
            st.running = false;
            st.exit_code = Some(code);
            st.ended = Some(Instant::now());
            st.master = None;
        }
        let _ = client_w.shutdown().await;
    });
    let ct = if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" };
    Ok(Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", ct)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(super::full(Bytes::new()))
        .expect("a valid response"))
}

pub async fn resize(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let s = session(ctx, id).await?;
    let (h, w) = (
        r.q("h").and_then(|v| v.parse::<u16>().ok()).unwrap_or(0),
        r.q("w").and_then(|v| v.parse::<u16>().ok()).unwrap_or(0),
    );
    if let Some(m) = s.state.lock().expect("state").master.clone() {
        let ws = nix::pty::Winsize { ws_row: h, ws_col: w, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads one winsize.
        unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
    empty(StatusCode::OK)
}

pub async fn inspect(ctx: &Ctx, id: &str) -> Reply {
    let s = session(ctx, id).await?;
    let st = s.state.lock().expect("state");
    ok_json(json!({
        "ID": s.id,
        "Running": st.running,
        "ExitCode": st.exit_code,
        "ContainerID": s.container_id,
        "Pid": st.pid.unwrap_or(0),
        "OpenStdin": s.attach_stdin,
        "OpenStdout": true,
        "OpenStderr": true,
        "ProcessConfig": {"tty": s.options.tty, "entrypoint": s.options.command.first(), "arguments": s.options.command.get(1..).unwrap_or(&[]), "privileged": false, "user": s.options.user.clone().unwrap_or_default()},
        "CanRemove": false,
        "DetachKeys": "",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(created_ago: Duration, started: bool, ended_ago: Option<Duration>) -> ExecSession {
        let now = Instant::now();
        ExecSession {
            id: "e".into(),
            container_id: "c".into(),
            options: berth_engine::exec::ExecOptions {
                command: vec!["true".into()],
                env: vec![],
                user: None,
                workdir: None,
                tty: false,
                kill_after_ms: None,
            },
            attach_stdin: false,
            created: now - created_ago,
            state: Mutex::new(ExecState {
                started,
                ended: ended_ago.map(|a| now - a),
                running: started && ended_ago.is_none(),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn sessions_are_kept_a_while_after_they_end_and_no_longer() {
        let minute = Duration::from_secs(60);
        let now = Instant::now();
        assert!(!session(minute, false, None).expired(now), "a new session waits for its start");
        assert!(session(6 * minute, false, None).expired(now), "never started");
        assert!(!session(60 * minute, true, None).expired(now), "still running");
        assert!(!session(10 * minute, true, Some(minute)).expired(now), "ended a minute ago: inspectable");
        assert!(session(10 * minute, true, Some(6 * minute)).expired(now), "ended past EXEC_KEEP");
    }
}
