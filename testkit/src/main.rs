//! `berth-testkit`: the harness as a command, for the benchmark scripts.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use berth_testkit::testimage::podman_testimage;
use berth_testkit::{busybox_image, Compression, ImageSpec, LayerBuilder, Pusher, Registry};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

#[derive(Parser)]
#[command(name = "berth-testkit", about = "Loopback registry and test images for Berth")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a registry on a free 127.0.0.1 port and serve until SIGTERM or SIGINT.
    Registry {
        /// Write "127.0.0.1:PORT" to this file once the registry answers.
        #[arg(long)]
        port_file: PathBuf,
        /// Require HTTP basic auth with these credentials.
        #[arg(long, value_name = "USER:PASS")]
        basic_auth: Option<String>,
    },
    /// Push a directory tree as an image (OCI, linux on the host's architecture).
    PushRootfs {
        /// Registry address, "127.0.0.1:PORT".
        #[arg(long)]
        registry: String,
        /// "REPO:TAG", without the registry host.
        #[arg(long)]
        reference: String,
        /// Spread the first-level entries round-robin over N layers.
        #[arg(long, default_value_t = 1)]
        split: usize,
        #[arg(long, value_enum, default_value_t = CompressionArg::Gzip)]
        compression: CompressionArg,
        /// Basic auth credentials.
        #[arg(long, value_name = "USER:PASS")]
        creds: Option<String>,
        /// Image config "Cmd".
        #[arg(long, default_value = "/bin/sh")]
        cmd: String,
        /// The root of the tree.
        dir: PathBuf,
    },
    /// Push the stand-in for Podman's system-test image under REPO:TAG and REPO:NONLOCAL_TAG
    /// (the id file of each holds its own tag).
    PushPodmanTestimage {
        #[arg(long)]
        registry: String,
        /// The repository, without the registry host.
        #[arg(long, default_value = "libpod/testimage")]
        repo: String,
        #[arg(long, default_value = "20221018")]
        tag: String,
        /// A second tag the tests pull themselves.
        #[arg(long, default_value = "00000004")]
        nonlocal_tag: String,
    },
    /// Push the busybox image (one gzip layer, Cmd ["sh"]).
    PushBusybox {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        reference: String,
        #[arg(long, value_name = "USER:PASS")]
        creds: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CompressionArg {
    None,
    Gzip,
    Zstd,
}

impl From<CompressionArg> for Compression {
    fn from(c: CompressionArg) -> Self {
        match c {
            CompressionArg::None => Compression::None,
            CompressionArg::Gzip => Compression::Gzip,
            CompressionArg::Zstd => Compression::Zstd,
        }
    }
}

fn split_creds(creds: &Option<String>) -> Result<Option<(&str, &str)>> {
    match creds {
        None => Ok(None),
        Some(c) => match c.split_once(':') {
            Some(pair) => Ok(Some(pair)),
            None => bail!("credentials {c:?} must be USER:PASS"),
        },
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Registry { port_file, basic_auth } => serve(&port_file, split_creds(&basic_auth)?).await,
        Cmd::PushRootfs { registry, reference, split, compression, creds, cmd, dir } => {
            let spec = rootfs_image(&dir, split, compression.into(), &cmd)?;
            let pushed = Pusher::new(&registry, split_creds(&creds)?).push_image(&reference, &spec).await?;
            println!("{}", pushed.manifest_digest);
            Ok(())
        }
        Cmd::PushPodmanTestimage { registry, repo, tag, nonlocal_tag } => {
            let pusher = Pusher::new(&registry, None);
            for tag in [tag, nonlocal_tag] {
                let pushed = pusher.push_image(&format!("{repo}:{tag}"), &podman_testimage(&tag)?).await?;
                println!("{registry}/{repo}:{tag} {}", pushed.manifest_digest);
            }
            Ok(())
        }
        Cmd::PushBusybox { registry, reference, creds } => {
            let pushed = Pusher::new(&registry, split_creds(&creds)?).push_image(&reference, &busybox_image()?).await?;
            println!("{}", pushed.manifest_digest);
            Ok(())
        }
    }
}

async fn serve(port_file: &Path, auth: Option<(&str, &str)>) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing a SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing a SIGINT handler")?;
    let registry = match auth {
        Some((user, pass)) => Registry::start_with_basic_auth(user, pass)?,
        None => Registry::start()?,
    };
    // write then rename, so a script polling for the file never reads half an address
    let tmp = port_file.with_extension("tmp");
    std::fs::write(&tmp, registry.addr()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, port_file)
        .with_context(|| format!("renaming {} to {}", tmp.display(), port_file.display()))?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    drop(registry);
    Ok(())
}

/// An image of the tree at `dir`: its first-level entries go round-robin into `split` layers.
fn rootfs_image(dir: &Path, split: usize, compression: Compression, cmd: &str) -> Result<ImageSpec> {
    if split == 0 {
        bail!("--split must be at least 1");
    }
    let mut names: Vec<OsString> = std::fs::read_dir(dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading directory {}", dir.display()))?;
    names.sort();
    let mut groups: Vec<Vec<OsString>> = vec![Vec::new(); split.min(names.len().max(1))];
    let count = groups.len();
    for (i, name) in names.into_iter().enumerate() {
        groups[i % count].push(name);
    }
    let mut spec = ImageSpec::new().with_config(json!({
        "Env": [format!("PATH={}", berth_testkit::busybox::PATH)],
        "Cmd": [cmd],
    }));
    for group in groups {
        let tar = LayerBuilder::from_dir_entries(dir, &group)?.build();
        spec = spec.layer(tar, compression);
    }
    Ok(spec)
}
