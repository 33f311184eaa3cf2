//! `berth import` and `image import`: a tarball of a root filesystem (a file, an http(s) URL or
//! `-` for stdin) becomes a one-layer image, with Podman's progress lines and then its id.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::{Engine, ImportOptions, LoadStep};
use clap::Args;

use crate::archive::{download, is_url, print_step, RemoveOnDrop};

#[derive(Args)]
pub struct ImportArgs {
    /// The tarball: a file, an http(s) URL, or - for stdin
    #[arg(value_name = "PATH|URL|-")]
    pub source: String,
    /// The new image's name
    #[arg(value_name = "REFERENCE")]
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction to the image's config (CMD, ENTRYPOINT, ENV, EXPOSE,
    /// LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    pub changes: Vec<String>,
    /// The history entry's comment
    #[arg(short, long)]
    pub message: Option<String>,
    /// Print only the image id
    #[arg(short, long)]
    pub quiet: bool,
    /// The operating system recorded in the image (default linux)
    #[arg(long)]
    pub os: Option<String>,
    /// The architecture recorded in the image (default the host's)
    #[arg(long)]
    pub arch: Option<String>,
    /// The architecture's variant recorded in the image
    #[arg(long)]
    pub variant: Option<String>,
}

pub fn import(engine: &Engine, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let opts = ImportOptions {
        changes: args.changes.clone(),
        message: args.message.clone(),
        reference: args.reference.clone(),
        os: args.os.clone(),
        arch: args.arch.clone(),
        variant: args.variant.clone(),
    };
    let quiet = args.quiet;
    let mut err = std::io::stderr().lock();
    if !quiet {
        let _ = writeln!(err, "Getting image source signatures");
    }
    let mut progress = |s: LoadStep| {
        if !quiet {
            print_step(&mut err, &s);
        }
    };
    let source = std::path::Path::new(&args.source);
    let image = if args.source == "-" {
        let mut stdin = std::io::stdin().lock();
        if stdin.is_terminal() {
            bail!("cannot read a tarball from a terminal: redirect one into `import -`, or name a file");
        }
        engine.import(&mut stdin, "-", &opts, &mut progress)?
    } else if is_url(source) {
        let (path, file) = engine.content().temp_file()?;
        let _gone = RemoveOnDrop(path.clone());
        download(&args.source, file)?;
        let mut f = std::fs::File::open(&path)?;
        engine.import(&mut f, &args.source, &opts, &mut progress)?
    } else {
        let mut f = std::fs::File::open(source)
            .with_context(|| format!("{}: can't open the tarball: name an existing file, a URL or -", args.source))?;
        engine.import(&mut f, &args.source, &opts, &mut progress)?
    };
    println!("{}", image.id);
    Ok(ExitCode::SUCCESS)
}
