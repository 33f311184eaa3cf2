//! `berth kube play|down|generate` (and the older `play kube`, `generate kube`): Kubernetes
//! YAML as Podman runs it, over the engine's `kube` plan and `kube_ops`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::kube::{Plan, PlayOptions};
use berth_engine::Engine;
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum KubeCommand {
    /// Create pods, containers and volumes from Kubernetes YAML
    Play(PlayArgs),
    /// Remove the pods a Kubernetes YAML made
    Down(DownArgs),
    /// Write pods or containers as Kubernetes YAML
    Generate(GenerateArgs),
}

#[derive(Subcommand)]
pub enum PlayCommand {
    /// Create pods, containers and volumes from Kubernetes YAML
    Kube(PlayArgs),
}

#[derive(Subcommand)]
pub enum GenerateCommand {
    /// Write pods or containers as Kubernetes YAML
    Kube(GenerateArgs),
}

#[derive(Args)]
pub struct PlayArgs {
    /// The YAML: a file, - for standard input, or an http(s) URL
    #[arg(value_name = "KUBEFILE")]
    pub file: String,
    /// Start the pods (--start=false: create them only)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub start: bool,
    /// Remove pods of the same names first
    #[arg(long)]
    pub replace: bool,
    /// Remove the pods the YAML made, instead of making them (as `kube down`)
    #[arg(long)]
    pub down: bool,
    /// The pods' network: bridge, host, none, slirp4netns[:OPTIONS], pasta, or a network's name
    #[arg(long, alias = "net")]
    pub network: Option<String>,
    /// Add an annotation to every container (KEY=VALUE)
    #[arg(long, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// A YAML file of ConfigMaps the pods' env may name
    #[arg(long, value_name = "FILE")]
    pub configmap: Vec<PathBuf>,
    /// Build images from CONTEXT/NAME/Containerfile (NAME: the image's last path component)
    /// when there is one
    #[arg(long)]
    pub build: bool,
    /// Where --build looks for the images' directories (default: the working directory)
    #[arg(long, value_name = "DIR")]
    pub context_dir: Option<PathBuf>,
    /// Where the containers' output goes: k8s-file (the default), json-file or none
    #[arg(long, value_parser = berth_engine::container::LogDriver::parse)]
    pub log_driver: Option<berth_engine::container::LogDriver>,
}

#[derive(Args)]
pub struct DownArgs {
    /// The YAML: a file, - for standard input, or an http(s) URL
    #[arg(value_name = "KUBEFILE")]
    pub file: String,
}

#[derive(Args)]
pub struct GenerateArgs {
    #[arg(required = true, value_name = "{CONTAINER...|POD...|VOLUME...}")]
    pub names: Vec<String>,
    /// Write the YAML to this file instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub filename: Option<PathBuf>,
    /// Also write a Service for the pods' published ports (not supported: refused)
    #[arg(short, long)]
    pub service: bool,
}

/// The YAML's text: a file, standard input, or a URL.
async fn read_yaml(file: &str) -> anyhow::Result<String> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading the YAML from standard input")?;
        return Ok(text);
    }
    if file.starts_with("http://") || file.starts_with("https://") {
        let resp = reqwest::get(file).await.with_context(|| format!("downloading {file}"))?;
        let resp = resp.error_for_status().with_context(|| format!("downloading {file}"))?;
        return resp.text().await.with_context(|| format!("downloading {file}"));
    }
    std::fs::read_to_string(file).with_context(|| format!("reading {file}: give a YAML file, - or a URL"))
}

async fn plan_of(file: &str, opts: &PlayOptions) -> anyhow::Result<Plan> {
    let text = read_yaml(file).await?;
    berth_engine::kube::plan(&text, opts).map_err(anyhow::Error::msg)
}

/// `--build`: each image with a directory of its name under the context that holds a
/// Containerfile (or Dockerfile) is built from it, under that image's name.
async fn build_images(engine: &Engine, plan: &Plan, context: &std::path::Path) -> anyhow::Result<()> {
    for image in plan.images() {
        let repo = image.rsplit('/').next().unwrap_or(&image);
        let base = repo.split([':', '@']).next().unwrap_or(repo);
        let dir = context.join(base);
        let file = ["Containerfile", "Dockerfile"].iter().map(|f| dir.join(f)).find(|f| f.is_file());
        let Some(file) = file else { continue };
        let opts = berth_engine::build::BuildOptions {
            context: dir.clone(),
            file: Some(file),
            tags: vec![image.clone()],
            ..Default::default()
        };
        let engine = engine.clone();
        let built = tokio::task::spawn_blocking(move || {
            let cancel = std::sync::atomic::AtomicBool::new(false);
            let mut print = |e: berth_engine::build::BuildEvent| eprintln!("{}", e.line());
            engine.build(&opts, &mut print, &cancel)
        })
        .await?;
        built.with_context(|| format!("building {image} from {}", dir.display()))?;
    }
    Ok(())
}

async fn play(engine: Engine, a: &PlayArgs) -> anyhow::Result<ExitCode> {
    let mut annotations = std::collections::BTreeMap::new();
    for arg in &a.annotation {
        let (k, v) = berth_engine::kube::parse_annotation(arg).map_err(anyhow::Error::msg)?;
        annotations.insert(k, v);
    }
    let mut configmaps = Vec::new();
    for f in &a.configmap {
        configmaps.push(std::fs::read_to_string(f).with_context(|| format!("reading --configmap {}", f.display()))?);
    }
    let opts = PlayOptions {
        network: a.network.clone(),
        annotations,
        configmaps,
        log_driver: a.log_driver,
        create_command: std::env::args().collect(),
    };
    let plan = plan_of(&a.file, &opts).await?;
    if a.down {
        return down_plan(&engine, &plan);
    }
    if a.build {
        let context = match &a.context_dir {
            Some(d) => d.clone(),
            None => std::env::current_dir()?,
        };
        build_images(&engine, &plan, &context).await?;
    } else if a.context_dir.is_some() {
        bail!("--context-dir is for --build: add --build, or drop it");
    }
    for image in plan.images() {
        crate::pull::pull_if_missing(&engine, &image).await?;
    }
    let played = {
        let engine = engine.clone();
        let (start, replace) = (a.start, a.replace);
        tokio::task::spawn_blocking(move || engine.play_kube(&plan, start, replace)).await??
    };
    if !played.volumes.is_empty() {
        println!("Volume:");
        for v in &played.volumes {
            println!("{v}");
        }
    }
    for (pod, containers) in &played.pods {
        println!("Pod:\n{pod}\nContainer:");
        for c in containers {
            println!("{c}");
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

fn down_plan(engine: &Engine, plan: &Plan) -> anyhow::Result<ExitCode> {
    let removed = engine.kube_down(plan)?;
    if !removed.is_empty() {
        println!("Pods stopped:");
        for id in &removed {
            println!("{id}");
        }
        println!("Pods removed:");
        for id in &removed {
            println!("{id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn generate(engine: &Engine, a: &GenerateArgs) -> anyhow::Result<ExitCode> {
    if a.service {
        bail!("--service: Berth writes no Kubernetes Services; drop it");
    }
    let yaml = engine.kube_generate(&a.names)?;
    match &a.filename {
        Some(f) => {
            if f.exists() {
                bail!("{}: the file exists: give another with --filename", f.display());
            }
            std::fs::write(f, yaml).with_context(|| format!("writing {}", f.display()))?;
        }
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(engine: Engine, cmd: &KubeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KubeCommand::Play(a) => play(engine, a).await,
        KubeCommand::Down(a) => {
            let plan = plan_of(&a.file, &PlayOptions::default()).await?;
            down_plan(&engine, &plan)
        }
        KubeCommand::Generate(a) => generate(&engine, a),
    }
}

pub async fn run_play(engine: Engine, cmd: &PlayCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PlayCommand::Kube(a) => play(engine, a).await,
    }
}

pub fn run_generate(engine: &Engine, cmd: &GenerateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        GenerateCommand::Kube(a) => generate(engine, a),
    }
}
