//! The Play dialogs. Kubernetes YAML (pasted, or a file's path) planned by the engine's
//! `kube::plan`: the images it names that are missing (`kube_images`, which the dialog pulls
//! as the create form pulls, through `pull_image`), then `Engine::play_kube` or
//! `Engine::kube_down`. A compose file is run by `berth compose -f FILE up -d|down`: the
//! `berth` binary beside the app (as the settings' socket runs `berth system service`) finds
//! the compose provider and the Docker-compatible socket it talks to, so the app does not
//! carry a second copy of that logic; the provider's output streams on the call's channel
//! and `cancel_compose` stops it (its whole process group).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use berth_engine::kube::{Plan, PlayOptions};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::dto::{
    ApiError, ComposeAction, ComposeEvent, ComposeRequest, KubePlayed, KubeRequest, PlayedContainer, PlayedPod,
};

use super::backend::{blocking, user_path, Backend};

#[derive(Debug, Deserialize)]
pub struct KubeArgs {
    pub request: KubeRequest,
}

#[derive(Debug, Deserialize)]
pub struct ComposeArgs {
    pub request: ComposeRequest,
}

#[derive(Debug, Deserialize)]
pub struct CancelComposeArgs {
    /// The id of the run's `started` message.
    pub run: String,
}

/// The YAML's text: the pasted one, else the file's; with what to call it in errors.
fn yaml_text(r: &KubeRequest) -> Result<(String, Option<PathBuf>), ApiError> {
    if !r.yaml.trim().is_empty() {
        return Ok((r.yaml.clone(), None));
    }
    if r.path.trim().is_empty() {
        return Err(ApiError::invalid("paste the Kubernetes YAML, or enter the path of its file"));
    }
    let path = user_path("Kubernetes YAML", &r.path)?;
    if path.is_dir() {
        return Err(ApiError::invalid(format!("{}: is a directory: give the YAML file", path.display())));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ApiError::invalid(format!("{}: {e}: give the path of a Kubernetes YAML file", path.display())))?;
    Ok((text, Some(path)))
}

/// The engine's plan of the request's YAML; its refusal names the file (when there is one),
/// the YAML document and the reason.
pub fn kube_plan(r: &KubeRequest) -> Result<Plan, ApiError> {
    let (text, path) = yaml_text(r)?;
    let opts = PlayOptions { create_command: play_command(r, path.as_deref()), ..Default::default() };
    berth_engine::kube::plan(&text, &opts).map_err(|e| match &path {
        Some(p) => ApiError::invalid(format!("{}: {e}", p.display())),
        None => ApiError::invalid(e),
    })
}

/// The command line the containers record as made by (`berth kube play …`).
fn play_command(r: &KubeRequest, path: Option<&std::path::Path>) -> Vec<String> {
    let mut cmd: Vec<String> = ["berth", "kube", "play"].map(String::from).into();
    if r.replace {
        cmd.push("--replace".into());
    }
    if !r.start {
        cmd.push("--start=false".into());
    }
    cmd.push(path.map_or_else(|| "-".into(), |p| p.display().to_string()));
    cmd
}

/// The images the YAML's containers run that the engine does not have (to pull first).
pub async fn kube_images(b: &Backend, a: KubeArgs) -> Result<Vec<String>, ApiError> {
    let plan = kube_plan(&a.request)?;
    blocking(&b.engine, move |e| {
        let mut missing = Vec::new();
        for image in plan.images() {
            match e.image(&image) {
                Ok(_) => {}
                Err(err) if err.is_not_found() => missing.push(image),
                Err(err) => return Err(err.into()),
            }
        }
        Ok(missing)
    })
    .await
}

/// `berth kube play`: the YAML's volumes, pods and containers (its images must be here).
pub async fn play_kube(b: &Backend, a: KubeArgs) -> Result<KubePlayed, ApiError> {
    let plan = kube_plan(&a.request)?;
    let (start, replace) = (a.request.start, a.request.replace);
    blocking(&b.engine, move |e| {
        let played = e.play_kube(&plan, start, replace)?;
        let mut pods = Vec::new();
        for (pod, ids) in &played.pods {
            let name = e.pod(pod)?.name;
            let containers = ids
                .iter()
                .map(|id| Ok(PlayedContainer { id: id.clone(), name: e.container(id)?.name }))
                .collect::<Result<_, berth_engine::Error>>()?;
            pods.push(PlayedPod { id: pod.clone(), name, containers });
        }
        Ok(KubePlayed { pods, volumes: played.volumes })
    })
    .await
}

/// `berth kube down`: the YAML's pods that are here, stopped and removed (volumes stay).
/// Returns the names of the pods removed.
pub async fn kube_down(b: &Backend, a: KubeArgs) -> Result<Vec<String>, ApiError> {
    let plan = kube_plan(&a.request)?;
    blocking(&b.engine, move |e| {
        let names: Vec<(String, String)> = plan
            .pods
            .iter()
            .filter_map(|p| p.options.name.clone())
            .filter_map(|n| e.pod(&n).ok().map(|p| (p.id, n)))
            .collect();
        let removed = e.kube_down(&plan)?;
        Ok(names.into_iter().filter(|(id, _)| removed.contains(id)).map(|(_, n)| n).collect())
    })
    .await
}

/// A compose run going on: its process group, and whether it was asked to stop.
type Run = (i32, Arc<AtomicBool>);

/// The compose runs going on, by the id their `started` message gave. Process-wide, as the
/// processes are.
static RUNS: LazyLock<Mutex<HashMap<String, Run>>> = LazyLock::new(Default::default);

/// Takes a run out of the table when its call ends, however it ends.
struct Registered(String);

impl Drop for Registered {
    fn drop(&mut self) {
        RUNS.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.0);
    }
}

/// The arguments of `berth` for a request: the app's storage, then `compose -f FILE up -d`.
pub fn compose_args(config: &berth_engine::EngineConfig, file: &std::path::Path, action: ComposeAction) -> Vec<String> {
    let mut args = vec![
        "--root".to_string(),
        config.root.display().to_string(),
        "--runroot".into(),
        config.run_root.display().to_string(),
        "compose".into(),
        "-f".into(),
        file.display().to_string(),
    ];
    match action {
        ComposeAction::Up => args.extend(["up".into(), "-d".into()]),
        ComposeAction::Down => args.push("down".into()),
    }
    args
}

/// Runs `berth compose -f FILE up -d` (or `down`). `progress` gets `started` (the id
/// `cancel_compose` takes) first, then each line the provider prints, all before this returns.
/// A run that exits non-zero fails with its code; a cancelled one with the code `cancelled`.
pub async fn run_compose<P>(b: &Backend, a: ComposeArgs, progress: P) -> Result<(), ApiError>
where
    P: Fn(ComposeEvent) + Send + Sync + 'static,
{
    let file = user_path("compose file", &a.request.file)?;
    if !file.is_file() {
        let why = if file.is_dir() { "is a directory: give the compose file in it" } else { "no such file" };
        return Err(ApiError::invalid(format!("compose file {}: {why}", file.display())));
    }
    let berth = crate::socket::berth_binary().ok_or_else(|| {
        ApiError::new("unsupported", "the `berth` command is not installed: run scripts/app, or put berth on PATH")
    })?;
    run_compose_with(&berth, b.engine.config(), a.request.action, &file, progress).await
}

/// `run_compose` with the `berth` program given (tests give a stand-in).
pub async fn run_compose_with<P>(
    berth: &std::path::Path,
    config: &berth_engine::EngineConfig,
    action: ComposeAction,
    file: &std::path::Path,
    progress: P,
) -> Result<(), ApiError>
where
    P: Fn(ComposeEvent) + Send + Sync + 'static,
{
    let args = compose_args(config, file, action);
    let shown = match action {
        ComposeAction::Up => format!("berth compose -f {} up -d", file.display()),
        ComposeAction::Down => format!("berth compose -f {} down", file.display()),
    };
    let mut cmd = tokio::process::Command::new(berth);
    cmd.args(&args)
        .current_dir(file.parent().unwrap_or(std::path::Path::new("/")))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| ApiError::engine(format!("starting {}: {e}", berth.display())))?;
    let pgid = child.id().map_or(0, |p| p as i32);
    let id = crate::id::new_id();
    let cancelled = Arc::new(AtomicBool::new(false));
    RUNS.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), (pgid, cancelled.clone()));
    let _registered = Registered(id.clone());
    let progress = Arc::new(progress);
    progress(ComposeEvent::Started { run: id, command: shown.clone() });
    let out = forward(child.stdout.take(), progress.clone());
    let err = forward(child.stderr.take(), progress.clone());
    let status = child.wait().await;
    let _ = tokio::join!(out, err);
    let status = status.map_err(|e| ApiError::engine(format!("{shown}: {e}")))?;
    if cancelled.load(Ordering::SeqCst) {
        return Err(ApiError::new("cancelled", format!("{shown} was cancelled")));
    }
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        let how = match (status.code(), status.signal()) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(sig)) => format!("was killed by signal {sig}"),
            _ => "failed".into(),
        };
        return Err(ApiError::engine(format!("{shown} {how}: its output says why")));
    }
    Ok(())
}

/// Each line of `stream` to `progress`, until it closes.
fn forward<R, P>(stream: Option<R>, progress: Arc<P>) -> tauri::async_runtime::JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    P: Fn(ComposeEvent) + Send + Sync + 'static,
{
    tauri::async_runtime::spawn(async move {
        let Some(stream) = stream else { return };
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            progress(ComposeEvent::Output { line });
        }
    })
}

/// Stops a compose run: SIGTERM to its process group (berth and the provider), SIGKILL 5 s
/// later if it is still running. A run that ended already is not an error.
pub async fn cancel_compose(a: CancelComposeArgs) -> Result<(), ApiError> {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    let Some((pgid, flag)) = RUNS.lock().unwrap_or_else(|e| e.into_inner()).get(&a.run).cloned() else {
        return Ok(());
    };
    if pgid <= 1 {
        return Ok(());
    }
    flag.store(true, Ordering::SeqCst);
    let _ = killpg(Pid::from_raw(pgid), Signal::SIGTERM);
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        // Only while the run is still registered: its group can't have been reused then.
        if RUNS.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&a.run) {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    });
    Ok(())
}
