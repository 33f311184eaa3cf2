//! `berth pull`: progress bars per layer on a terminal, plain lines otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use berth_engine::{AuthFiles, Engine, LayerPhase, Platform, PullOptions, PullProgress};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Args)]
pub struct PullArgs {
    /// Image reference: [registry/]repository[:tag][@digest]
    pub reference: String,
    /// Print only the image id
    #[arg(short, long)]
    pub quiet: bool,
    /// Pull the image for this platform (os/arch[/variant]) instead of the host's
    #[arg(long)]
    pub platform: Option<String>,
    /// Override the architecture of the platform
    #[arg(long)]
    pub arch: Option<String>,
    /// Override the OS of the platform
    #[arg(long)]
    pub os: Option<String>,
    /// Override the architecture variant of the platform
    #[arg(long)]
    pub variant: Option<String>,
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    pub authfile: Option<PathBuf>,
}

impl PullArgs {
    pub fn platform(&self) -> anyhow::Result<Option<Platform>> {
        let mut p = match &self.platform {
            Some(s) => Platform::parse(s)?,
            None if self.arch.is_none() && self.os.is_none() && self.variant.is_none() => return Ok(None),
            None => Platform::host(),
        };
        if let Some(a) = &self.arch {
            p.architecture = a.clone();
            p.variant = None;
        }
        if let Some(o) = &self.os {
            p.os = o.clone();
        }
        if let Some(v) = &self.variant {
            p.variant = Some(v.clone());
        }
        Ok(Some(p))
    }
}

pub async fn run(engine: Engine, args: &PullArgs) -> anyhow::Result<ExitCode> {
    if berth_engine::layout::TransportRef::parse(&args.reference).is_some() {
        let loaded = crate::archive::pull_transport(&engine, &args.reference, args.quiet)?;
        println!("{}", loaded.image.id);
        return Ok(ExitCode::SUCCESS);
    }
    let engine = with_authfile(engine, args.authfile.clone())?;
    let image = pull_with_progress(&engine, &args.reference, args.platform()?, args.quiet).await?;
    println!("{}", image.id);
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds the engine with an explicit auth file, when one was given.
pub fn with_authfile(engine: Engine, authfile: Option<PathBuf>) -> anyhow::Result<Engine> {
    if authfile.is_none() {
        return Ok(engine);
    }
    let mut config = engine.config().clone();
    config.auth = AuthFiles::new(authfile);
    drop(engine);
    Ok(Engine::open(config)?)
}

/// Pulls `image` when it is not here yet.
pub async fn pull_if_missing(engine: &Engine, image: &str) -> anyhow::Result<()> {
    let missing =
        matches!(engine.image(image), Err(berth_engine::Error::Lookup(berth_engine::image::LookupError::NotFound(_))));
    if missing {
        pull_with_progress(engine, image, None, false).await?;
    }
    Ok(())
}

/// Pulls, drawing progress on stderr (as Podman does), and returns the image.
pub async fn pull_with_progress(
    engine: &Engine,
    reference: &str,
    platform: Option<Platform>,
    quiet: bool,
) -> anyhow::Result<berth_engine::ImageRecord> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    if !quiet {
        // a short name's alias, or the name as Docker Hub's (search registries say themselves)
        let name = match engine.config().registries.short_name_candidates(reference).as_slice() {
            [one] => one.clone(),
            [] => berth_engine::Reference::parse(reference)
                .map(|r| r.to_string())
                .unwrap_or_else(|_| reference.to_string()),
            _ => reference.to_string(),
        };
        eprintln!("Trying to pull {name}...");
    }
    let pull = engine.pull(reference, PullOptions { platform, progress: Some(tx), cancel: None });
    let render = async move {
        let mut view: Box<dyn ProgressView> = if quiet {
            Box::new(Silent)
        } else if std::io::stderr().is_terminal() {
            Box::new(Bars::new())
        } else {
            Box::new(Lines::default())
        };
        while let Some(p) = rx.recv().await {
            view.update(&p);
        }
        view.finish();
    };
    let (result, ()) = tokio::join!(pull, render);
    Ok(result?)
}

trait ProgressView {
    fn update(&mut self, p: &PullProgress);
    fn finish(&mut self) {}
}

struct Silent;
impl ProgressView for Silent {
    fn update(&mut self, _: &PullProgress) {}
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..12.min(hex.len())]
}

/// One line per finished step, for logs and pipes.
#[derive(Default)]
struct Lines {
    printed: HashMap<String, LayerPhase>,
}

impl ProgressView for Lines {
    fn update(&mut self, p: &PullProgress) {
        match p {
            PullProgress::Resolved { manifest_digest, .. } => eprintln!("Resolved manifest {manifest_digest}"),
            PullProgress::Layer { digest, phase, .. } => {
                let line = match phase {
                    LayerPhase::Done => "done",
                    LayerPhase::AlreadyExists => "skipped: already exists",
                    _ => return,
                };
                if self.printed.insert(digest.clone(), *phase).is_none() {
                    eprintln!("Copying blob {} {line}", short(digest));
                }
            }
            PullProgress::Done { .. } => eprintln!("Writing manifest to image destination"),
        }
    }
}

/// A bar per layer: bytes, speed and phase.
struct Bars {
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
}

impl Bars {
    fn new() -> Bars {
        Bars { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)), bars: HashMap::new() }
    }

    fn bar(&mut self, digest: &str, total: u64) -> &ProgressBar {
        let multi = &self.multi;
        self.bars.entry(digest.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    "Copying blob {prefix} [{bar:30}] {bytes:>10} / {total_bytes:<10} {binary_bytes_per_sec:>12} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(short(digest).to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        })
    }
}

impl ProgressView for Bars {
    fn update(&mut self, p: &PullProgress) {
        match p {
            PullProgress::Resolved { layers, .. } => {
                for (digest, size) in layers {
                    self.bar(digest, *size).set_message("waiting");
                }
            }
            PullProgress::Layer { digest, phase, current, total, .. } => {
                let bar = self.bar(digest, *total).clone();
                bar.set_position(*current);
                match phase {
                    LayerPhase::Waiting => bar.set_message("waiting"),
                    LayerPhase::Downloading => bar.set_message("downloading"),
                    LayerPhase::Verifying => bar.set_message("verifying"),
                    LayerPhase::Extracting => bar.set_message("extracting"),
                    LayerPhase::Done => bar.finish_with_message("done"),
                    LayerPhase::AlreadyExists => bar.finish_with_message("already exists"),
                }
            }
            PullProgress::Done { .. } => {}
        }
    }

    fn finish(&mut self) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}
