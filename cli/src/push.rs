//! `berth push`: progress lines on stderr as Podman's copy prints them, none with `-q`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use berth_engine::{BlobPhase, Compression, Credentials, Engine, ImageFormat, PushOptions, PushProgress};
use clap::Args;

#[derive(Args)]
pub struct PushArgs {
    /// The local image: name, id or digest
    pub image: String,
    /// Where to: docker://REF (or a bare REF), dir:PATH, oci:PATH[:TAG]; default the image's name
    pub destination: Option<String>,
    /// Require HTTPS and verify certificates (false pushes over plain HTTP)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Credentials (USERNAME:PASSWORD) for the registry
    #[arg(long, value_name = "USERNAME:PASSWORD")]
    pub creds: Option<String>,
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    pub authfile: Option<PathBuf>,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the digest of the pushed manifest to this file
    #[arg(long)]
    pub digestfile: Option<PathBuf>,
    /// Manifest type: oci or v2s2 (docker); default the image's own
    #[arg(short, long)]
    pub format: Option<String>,
    /// Push without signatures (Berth stores none)
    #[arg(long)]
    pub remove_signatures: bool,
    /// Compress layers with this: gzip or zstd (default: as stored)
    #[arg(long)]
    pub compression_format: Option<String>,
}

pub async fn run(engine: Engine, args: &PushArgs) -> anyhow::Result<ExitCode> {
    let credentials = match &args.creds {
        Some(c) => Some(parse_creds(c)?),
        None => None,
    };
    let opts = PushOptions {
        tls_verify: args.tls_verify,
        credentials,
        format: args.format.as_deref().map(ImageFormat::parse).transpose()?,
        compression: args.compression_format.as_deref().map(Compression::parse).transpose()?,
        remove_signatures: args.remove_signatures,
        progress: None,
    };
    let engine = crate::pull::with_authfile(engine, args.authfile.clone())?;
    let pushed = push_with_progress(&engine, &args.image, args.destination.as_deref(), opts, args.quiet).await?;
    if let Some(f) = &args.digestfile {
        std::fs::write(f, &pushed.manifest_digest)
            .with_context(|| format!("writing the manifest digest to {}", f.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--creds USER:PASS`: the password after the first colon.
pub fn parse_creds(s: &str) -> anyhow::Result<Credentials> {
    match s.split_once(':') {
        Some((u, p)) if !u.is_empty() && !p.is_empty() => {
            Ok(Credentials { username: u.to_string(), password: p.to_string() })
        }
        _ => anyhow::bail!("--creds {s:?}: give USERNAME:PASSWORD, both non-empty"),
    }
}

/// Pushes, printing Podman's lines on stderr as each blob finishes.
pub async fn push_with_progress(
    engine: &Engine,
    image: &str,
    destination: Option<&str>,
    mut opts: PushOptions,
    quiet: bool,
) -> anyhow::Result<berth_engine::Pushed> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    opts.progress = Some(tx);
    let push = engine.push(image, destination, opts);
    let render = async move {
        let mut started = false;
        while let Some(p) = rx.recv().await {
            if quiet {
                continue;
            }
            let mut err = std::io::stderr().lock();
            if !started {
                let _ = writeln!(err, "Getting image source signatures");
                started = true;
            }
            let _ = match p {
                PushProgress::Started { .. } => Ok(()),
                PushProgress::Layer { digest, phase, .. } => match phase {
                    BlobPhase::Uploading => Ok(()),
                    BlobPhase::Done => writeln!(err, "Copying blob {} done", short(&digest)),
                    BlobPhase::Exists | BlobPhase::Mounted { .. } => {
                        writeln!(err, "Copying blob {} skipped: already exists", short(&digest))
                    }
                },
                PushProgress::Config { digest, .. } => writeln!(err, "Copying config {} done", short(&digest)),
                PushProgress::Manifest { .. } => writeln!(err, "Writing manifest to image destination")
                    .and_then(|_| writeln!(err, "Storing signatures")),
            };
        }
    };
    let (result, ()) = tokio::join!(push, render);
    Ok(result?)
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..12.min(hex.len())]
}
