//! The Play commands against a real engine: Kubernetes YAML pasted or from a file (the images
//! it lacks, what `kube play` made with its names, `--replace`, the engine's refusals naming
//! the YAML document, `kube down`); a compose run through a stand-in `berth` (the arguments it
//! is given, its output line by line from both streams, its exit code, cancel).

use std::sync::{Arc, Mutex};

use berth_desktop::commands::{self as c};
use berth_desktop::dto::{ComposeAction, ComposeEvent, KubeRequest};

use crate::World;

fn pod_yaml(image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: {image}\n    command: [sleep, '600']\n  - name: side\n    image: {image}\n    command: [sleep, '600']\n"
    )
}

fn pasted(yaml: &str) -> c::KubeArgs {
    c::KubeArgs { request: KubeRequest { yaml: yaml.into(), start: false, ..Default::default() } }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_yaml_is_played_and_taken_down() {
    assert!(nix::unistd::geteuid().is_root(), "a pod's infra container is made as root here: run these tests as root");
    let w = World::new().await;
    let b = w.backend();
    let yaml = pod_yaml(&w.busybox());

    // Before the pull the image is missing; after it, nothing is.
    assert_eq!(c::kube_images(&b, pasted(&yaml)).await.unwrap(), [w.busybox()]);
    w.pull_busybox().await;
    assert!(c::kube_images(&b, pasted(&yaml)).await.unwrap().is_empty());

    // From a file, without starting (the containers' monitor would re-execute this test binary).
    let file = w.dir.path().join("web.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let from_file = || c::KubeArgs {
        request: KubeRequest { path: format!(" {} ", file.display()), start: false, ..Default::default() },
    };
    let played = c::play_kube(&b, from_file()).await.unwrap();
    assert_eq!(played.pods.len(), 1);
    assert_eq!(played.pods[0].name, "web");
    let names: Vec<_> = played.pods[0].containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["web-app", "web-side"]);
    assert!(played.volumes.is_empty());
    let rows = c::list_containers(&b).await.unwrap();
    for name in ["web-app", "web-side"] {
        let row = rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("{name} in {rows:?}"));
        assert_eq!(row.pod_name.as_deref(), Some("web"));
    }
    let made = w.engine.pod("web").unwrap();
    assert!(made.options.create_command.ends_with(&["--start=false".into(), file.display().to_string()]));

    // Again: the pod is there; with --replace it is made anew.
    let e = c::play_kube(&b, from_file()).await.unwrap_err();
    assert!(e.message.contains("web"), "{e}");
    let mut replace = from_file();
    replace.request.replace = true;
    let again = c::play_kube(&b, replace).await.unwrap();
    assert_ne!(again.pods[0].id, played.pods[0].id);

    // The engine's refusals name the document (and the file when there is one).
    let e = c::play_kube(&b, pasted(&format!("{yaml}---\nkind: Service\n"))).await.unwrap_err();
    assert_eq!(e.code, "invalid");
    assert!(e.message.contains("YAML document 2: kind Service is not supported"), "{e}");
    std::fs::write(w.dir.path().join("bad.yaml"), "kind: Pod\nspec: 3\n").unwrap();
    let bad = w.dir.path().join("bad.yaml").display().to_string();
    let e = c::kube_images(&b, c::KubeArgs { request: KubeRequest { path: bad.clone(), ..Default::default() } })
        .await
        .unwrap_err();
    assert!(e.message.starts_with(&format!("{bad}: YAML document 1 (kind Pod)")), "{e}");
    let e = c::play_kube(&b, c::KubeArgs { request: KubeRequest { path: "web.yaml".into(), ..Default::default() } })
        .await
        .unwrap_err();
    assert!(e.message.contains("give an absolute path"), "{e}");
    let e = c::play_kube(&b, pasted("  ")).await.unwrap_err();
    assert_eq!(e.message, "paste the Kubernetes YAML, or enter the path of its file");

    // Down: the YAML's pod goes with its containers; a second down finds nothing.
    assert_eq!(c::kube_down(&b, from_file()).await.unwrap(), ["web"]);
    assert!(c::list_pods(&b).await.unwrap().is_empty());
    assert!(w.engine.container("web-app").is_err());
    assert!(c::kube_down(&b, from_file()).await.unwrap().is_empty());
}

/// A stand-in for `berth`: prints its arguments, a line on each stream, then sleeps when
/// asked (`SLEEP` in the file's directory) or exits with the code in `CODE`.
fn stand_in(dir: &std::path::Path) -> std::path::PathBuf {
    let berth = dir.join("berth");
    std::fs::write(
        &berth,
        "#!/bin/sh\necho \"args: $*\"\necho \"cwd: $(pwd)\"\necho 'Creating demo_web_1 ... done' >&2\n\
         [ -e SLEEP ] && exec sleep 600\nexit $(cat CODE 2>/dev/null || echo 0)\n",
    )
    .unwrap();
    std::fs::set_permissions(&berth, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    berth
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compose_run_streams_its_output_and_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let berth = stand_in(dir.path());
    let project = dir.path().join("demo");
    std::fs::create_dir(&project).unwrap();
    let file = project.join("compose.yaml");
    std::fs::write(&file, "services: {}\n").unwrap();
    let config = berth_engine::EngineConfig::new(dir.path().join("root"), dir.path().join("run")).unwrap();

    let run = |action| {
        let seen = Arc::new(Mutex::new(Vec::<ComposeEvent>::new()));
        let s = seen.clone();
        let (berth, config, file) = (berth.clone(), config.clone(), file.clone());
        let task = tokio::spawn(async move {
            c::run_compose_with(&berth, &config, action, &file, move |e| s.lock().unwrap().push(e)).await
        });
        (task, seen)
    };

    let (task, seen) = run(ComposeAction::Up);
    task.await.unwrap().unwrap();
    let seen = seen.lock().unwrap().clone();
    let ComposeEvent::Started { command, .. } = &seen[0] else { panic!("{seen:?}") };
    assert_eq!(command, &format!("berth compose -f {} up -d", file.display()));
    let lines: Vec<_> = seen[1..]
        .iter()
        .map(|e| match e {
            ComposeEvent::Output { line } => line.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let root = dir.path().join("root");
    let expected_args = format!(
        "args: --root {} --runroot {} compose -f {} up -d",
        root.display(),
        config.run_root.display(),
        file.display()
    );
    assert!(lines.contains(&expected_args), "{lines:?}");
    assert!(lines.contains(&format!("cwd: {}", project.display())), "the file's directory: {lines:?}");
    assert!(lines.contains(&"Creating demo_web_1 ... done".to_string()), "stderr too: {lines:?}");

    // A failing provider: the code, and the output that says why has gone to the channel.
    std::fs::write(project.join("CODE"), "3").unwrap();
    let (task, seen) = run(ComposeAction::Down);
    let e = task.await.unwrap().unwrap_err();
    assert_eq!(e.message, format!("berth compose -f {} down exited with code 3: its output says why", file.display()));
    let down = format!("compose -f {} down", file.display());
    assert!(seen.lock().unwrap().iter().any(|e| matches!(e, ComposeEvent::Output { line } if line.ends_with(&down))));
    std::fs::remove_file(project.join("CODE")).unwrap();

    // Cancel: the whole process group stops (sh and its sleep), the call says so.
    std::fs::write(project.join("SLEEP"), "").unwrap();
    let (task, seen) = run(ComposeAction::Up);
    let id = loop {
        if let Some(ComposeEvent::Started { run, .. }) = seen.lock().unwrap().first() {
            break run.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let started = std::time::Instant::now();
    c::cancel_compose(c::CancelComposeArgs { run: id.clone() }).await.unwrap();
    let e = tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("the run ended")
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, "cancelled");
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "SIGTERM was enough: {:?}", started.elapsed());
    // Cancelling a run that ended is no error.
    c::cancel_compose(c::CancelComposeArgs { run: id }).await.unwrap();

    // The file is checked first.
    let b = berth_desktop::commands::Backend::new(berth_engine::Engine::open(config.clone()).unwrap());
    let request = |f: &str| c::ComposeArgs {
        request: berth_desktop::dto::ComposeRequest { file: f.into(), action: ComposeAction::Up },
    };
    let e = c::run_compose(&b, request(&project.display().to_string()), |_| {}).await.unwrap_err();
    assert!(e.message.ends_with("is a directory: give the compose file in it"), "{e}");
    let e = c::run_compose(&b, request("compose.yaml"), |_| {}).await.unwrap_err();
    assert!(e.message.contains("give an absolute path for the compose file"), "{e}");
}
