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
    /// The Containerfile (default: Containerfile, else Dockerfile, in the context); given
    /// more than once, the files are read one after the other; `-` reads standard input
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
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
          action = clap::ArgAction::Set, value_name = "BOOL", env = "BUILDAH_LAYERS",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub layers: Option<bool>,
    /// Remove the containers of RUN steps (always done: accepted for Podman's scripts)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true,
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub rm: Option<bool>,
    /// Remove RUN containers also when the build fails (always done)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true,
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub force_rm: Option<bool>,
    /// How the layers the build writes are compressed: gzip (the default) or zstd
    #[arg(long, value_name = "FORMAT")]
    pub compression_format: Option<String>,
    /// Seconds since the epoch: the image's and its history's created time, and every file's
    /// mtime in the layers the build writes (the same build gives the same image)
    #[arg(long, value_name = "SECONDS")]
    pub timestamp: Option<i64>,
    /// The ignore file (default: .containerignore or .dockerignore in the context)
    #[arg(long, value_name = "FILE")]
    pub ignorefile: Option<PathBuf>,
    /// Write the build's output to this file instead of the terminal
    #[arg(long, value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// A resource limit of RUN steps (TYPE=SOFT[:HARD], as run's --ulimit)
    #[arg(long, value_name = "TYPE=LIMIT")]
    pub ulimit: Vec<String>,
    /// A security option of RUN steps (seccomp=…, apparmor=…, no-new-privileges, label=…)
    #[arg(long, value_name = "OPTION")]
    pub security_opt: Vec<String>,
    /// Path of the authentication file for pulling base images
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    pub authfile: Option<PathBuf>,
    /// Stages built at once (Berth builds them one after another; accepted for Podman's scripts)
    #[arg(long, value_name = "N")]
    pub jobs: Option<u32>,
    /// Keep the image in local storage (always done; buildx's flag, accepted)
    #[arg(long, hide = true)]
    pub load: bool,
    /// The build context: the directory COPY and ADD read (default: the current one); `-`
    /// reads the Containerfile from standard input, with an empty context
    #[arg(value_name = "CONTEXT")]
    pub context: Option<PathBuf>,
}

/// `podman buildx build`: the same as build.
#[derive(clap::Subcommand)]
pub enum BuildxCommand {
    /// Build an image from a Containerfile (Dockerfile)
    Build(Box<BuildArgs>),
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

pub fn options(args: &BuildArgs, runtime_flags: &[String]) -> anyhow::Result<BuildOptions> {
    // no context: the Containerfile's directory, else the current one
    let context = args.context.clone().unwrap_or_else(|| match args.file.first() {
        Some(f) if f.as_os_str() != "-" && f.is_file() => {
            f.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), PathBuf::from)
        }
        _ => PathBuf::from("."),
    });
    let security = {
        use berth_engine::container::security;
        let mut sec = security::Security::default();
        for o in &args.security_opt {
            security::apply_security_opt(&mut sec, o)?;
        }
        sec
    };
    let ulimits = args
        .ulimit
        .iter()
        .map(|u| berth_engine::container::kernel::Ulimit::parse(u))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let pull = if args.pull_never {
        PullPolicy::Never
    } else {
        args.pull.as_deref().map(PullPolicy::parse).transpose()?.unwrap_or_default()
    };
    let labels = pairs(&args.label, "--label", |_| Some(String::new()))?;
    Ok(BuildOptions {
        context,
        file: args.file.first().cloned(),
        tags: args.tags.clone(),
        build_args: pairs(&args.build_args, "--build-arg", |k| std::env::var(k).ok())?,
        target: args.target.clone(),
        no_cache: args.no_cache || args.layers == Some(false),
        pull,
        labels,
        format: ImageFormat::parse(&args.format)?,
        platform: args.platform.clone(),
        network: args.network.clone(),
        ignore_file: args.ignorefile.clone(),
        ulimits,
        security,
        runtime_flags: runtime_flags.to_vec(),
        timestamp: args.timestamp,
        compression: args.compression_format.as_deref().map(berth_engine::Compression::parse).transpose()?,
    })
}

pub async fn run(engine: Engine, args: &BuildArgs, runtime_flags: &[String]) -> anyhow::Result<ExitCode> {
    if let Some(f) = &args.authfile {
        if !f.exists() {
            anyhow::bail!("checking authfile: stat {}: no such file or directory", f.display());
        }
    }
    let engine = crate::pull::with_authfile(engine, args.authfile.clone())?;
    let mut opts = options(args, runtime_flags)?;
    // `-f -` and a context of `-`: the Containerfile on standard input (read only then: what
    // follows `build` in a pipeline keeps the rest)
    let stdin_dir = if opts.file.as_deref() == Some(std::path::Path::new("-")) || opts.context.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("reading the Containerfile from stdin")?;
        let dir = tempfile::Builder::new().prefix("berth-build-stdin-").tempdir()?;
        std::fs::write(dir.path().join("Containerfile"), text)?;
        if opts.context.as_os_str() == "-" {
            opts.context = dir.path().to_path_buf();
        }
        opts.file = Some(dir.path().join("Containerfile"));
        Some(dir)
    } else {
        None
    };
    // several -f: one Containerfile of them all, in order
    let joined_dir = if args.file.len() > 1 {
        let mut text = String::new();
        for f in &args.file {
            let f = if f.is_relative() && !f.exists() { opts.context.join(f) } else { f.clone() };
            text.push_str(
                &std::fs::read_to_string(&f)
                    .map_err(|_| anyhow::anyhow!("the Containerfile {}: no such file or directory", f.display()))?,
            );
            text.push('\n');
        }
        let dir = tempfile::Builder::new().prefix("berth-build-files-").tempdir()?;
        std::fs::write(dir.path().join("Containerfile"), text)?;
        opts.file = Some(dir.path().join("Containerfile"));
        Some(dir)
    } else {
        None
    };
    let quiet = args.quiet;
    let mut log: Box<dyn Write + Send> = match &args.logfile {
        Some(f) => Box::new(std::fs::File::create(f).with_context(|| format!("--logfile {}", f.display()))?),
        None => Box::new(std::io::stdout()),
    };
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
    let (built, mut log) = tokio::task::spawn_blocking(move || {
        let mut print = |e: BuildEvent| {
            if quiet {
                return;
            }
            let _ = writeln!(log, "{}", e.line());
            let _ = log.flush();
        };
        let built = engine.build(&opts, &mut print, &cancel);
        (built, log)
    })
    .await?;
    on_signal.abort();
    drop(stdin_dir);
    drop(joined_dir);
    let image = match built {
        Ok(image) => image,
        Err(berth_engine::Error::BuildStepFailed { code, message }) => {
            eprintln!("Error: {message}");
            return Ok(ExitCode::from(code.clamp(1, 255) as u8));
        }
        Err(e) => return Err(e.into()),
    };
    writeln!(log, "{}", image.id)?;
    if let Some(f) = &args.iidfile {
        std::fs::write(f, format!("sha256:{}", image.id))
            .with_context(|| format!("writing the image id to {}", f.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
