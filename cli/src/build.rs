//! `berth build`: an image from a Containerfile, built by the engine, its progress printed as
//! Podman prints it (the steps and what RUN prints on stdout, the new image's id last).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use berth_engine::{BuildEvent, BuildOptions, Engine, ImageFormat, PullPolicy};
use clap::Args;

#[derive(Args)]
pub struct BuildArgs {
    /// Name the image (a short name becomes localhost/NAME:latest); may be repeated
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,
    /// The Containerfile (default: Containerfile, else Dockerfile, in the context)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A value for an ARG of the Containerfile (KEY without a value takes it from the environment)
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Stop at this stage (its name in FROM … AS NAME)
    #[arg(long)]
    pub target: Option<String>,
    /// Build every step again: use no cached step
    #[arg(long)]
    pub no_cache: bool,
    /// When to pull base images: always (with no value), missing (default), never
    #[arg(long, num_args = 0..=1, default_missing_value = "always", require_equals = true, value_name = "POLICY")]
    pub pull: Option<String>,
    /// Never pull base images (the same as --pull=never)
    #[arg(long)]
    pub pull_never: bool,
    /// A label for the image (KEY=VALUE); may be repeated
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// The platform to build for: only this machine's (linux/ARCH)
    #[arg(long)]
    pub platform: Option<String>,
    /// Print only the new image's id
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write the new image's id to this file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// The manifest format: oci or docker
    #[arg(long, default_value = "oci", env = "BUILDAH_FORMAT")]
    pub format: String,
    /// The network RUN steps are on: a network's name, none or host (default: the default network)
    #[arg(long)]
    pub network: Option<String>,
    /// Cache steps (the default); --layers=false builds every step again
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true,
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub layers: Option<bool>,
    /// Remove the containers of RUN steps (always done: accepted for Podman's scripts)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true,
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub rm: Option<bool>,
    /// Remove RUN containers also when the build fails (always done)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true,
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub force_rm: Option<bool>,
    /// The build context: the directory COPY and ADD read (default: the current one)
    #[arg(value_name = "CONTEXT")]
    pub context: Option<PathBuf>,
}

/// `KEY=VALUE` pairs; a bare KEY from `env` when it has it (else left out).
fn pairs(
    items: &[String],
    what: &str,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        match item.split_once('=') {
            Some(("", _)) => anyhow::bail!("{what} {item:?}: the key is empty: give KEY=VALUE"),
            Some((k, v)) => {
                out.insert(k.to_string(), v.to_string());
            }
            None => {
                if let Some(v) = env(item) {
                    out.insert(item.clone(), v);
                }
            }
        }
    }
    Ok(out)
}

pub fn options(args: &BuildArgs) -> anyhow::Result<BuildOptions> {
    let context = args.context.clone().unwrap_or_else(|| PathBuf::from("."));
    let pull = if args.pull_never {
        PullPolicy::Never
    } else {
        args.pull.as_deref().map(PullPolicy::parse).transpose()?.unwrap_or_default()
    };
    let labels = pairs(&args.label, "--label", |_| Some(String::new()))?;
    Ok(BuildOptions {
        context,
        file: args.file.clone(),
        tags: args.tags.clone(),
        build_args: pairs(&args.build_args, "--build-arg", |k| std::env::var(k).ok())?,
        target: args.target.clone(),
        no_cache: args.no_cache || args.layers == Some(false),
        pull,
        labels,
        format: ImageFormat::parse(&args.format)?,
        platform: args.platform.clone(),
        network: args.network.clone(),
    })
}

/// A build event as Podman prints it (None: nothing to print).
pub fn render(event: &BuildEvent) -> Option<String> {
    Some(match event {
        BuildEvent::Step { stage, step, steps, text } => match stage {
            Some((n, of)) => format!("[{n}/{of}] STEP {step}/{steps}: {text}"),
            None => format!("STEP {step}/{steps}: {text}"),
        },
        BuildEvent::Output(line) => line.clone(),
        BuildEvent::CacheHit(id) => format!("--> Using cache {id}"),
        BuildEvent::Done(id) => format!("--> {}", &id[..12.min(id.len())]),
        BuildEvent::Commit(Some(name)) => format!("COMMIT {name}"),
        BuildEvent::Commit(None) => "COMMIT".into(),
        BuildEvent::Tagged(name) => format!("Successfully tagged {name}"),
        BuildEvent::Warning(w) => format!("[Warning] {w}"),
    })
}

pub async fn run(engine: Engine, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let opts = options(args)?;
    let quiet = args.quiet;
    let cancel = Arc::new(AtomicBool::new(false));
    let on_signal = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Cancelling the build");
                cancel.store(true, Ordering::SeqCst);
            }
        })
    };
    let built = tokio::task::spawn_blocking(move || {
        let mut print = |e: BuildEvent| {
            if quiet {
                return;
            }
            if let Some(line) = render(&e) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        };
        engine.build(&opts, &mut print, &cancel)
    })
    .await?;
    on_signal.abort();
    let image = built?;
    println!("{}", image.id);
    if let Some(f) = &args.iidfile {
        std::fs::write(f, format!("sha256:{}", image.id))
            .with_context(|| format!("writing the image id to {}", f.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
