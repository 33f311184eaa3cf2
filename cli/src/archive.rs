//! `berth save` and `berth load`, and the progress lines of the archive transports
//! (`pull docker-archive:PATH`), as Podman prints them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use berth_engine::layout::Format;
use berth_engine::{Engine, LoadInput, SaveOptions, SaveStep, SaveTarget};
use clap::Args;

#[derive(Args)]
pub struct SaveArgs {
    /// Images to save (by name or id)
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
    /// Write to a file (or, for the dir formats, a directory), default is STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive,
    /// docker-dir (directory with v2s2 manifest type)
    #[arg(long, default_value = "docker-archive")]
    pub format: String,
    /// Suppress the output
    #[arg(short, long)]
    pub quiet: bool,
    /// Interpret additional arguments as images not tags and create a multi-image-archive
    /// (only for docker-archive)
    #[arg(short, long)]
    pub multi_image_archive: bool,
    /// Compress tarball image layers when saving to a directory using the 'dir' transport
    #[arg(long)]
    pub compress: bool,
    /// Accept uncompressed layers when copying OCI images
    #[arg(long)]
    pub uncompressed: bool,
}

#[derive(Args)]
pub struct LoadArgs {
    /// Read from specified archive file (default: stdin)
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    /// Suppress the output
    #[arg(short, long)]
    pub quiet: bool,
}

/// A step as containers/image prints it on a pipe.
pub fn print_step(err: &mut impl Write, step: &SaveStep) {
    let _ = match step {
        SaveStep::Blob(d) => writeln!(err, "Copying blob {d}"),
        SaveStep::Config(d) => writeln!(err, "Copying config {d}"),
        SaveStep::Manifest => {
            writeln!(err, "Writing manifest to image destination").and_then(|_| writeln!(err, "Storing signatures"))
        }
    };
}

pub fn save(engine: &Engine, args: &SaveArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&args.format)?;
    if args.compress && format != Format::DockerDir {
        bail!("--compress can only be set when --format is 'docker-dir'");
    }
    if args.multi_image_archive && format != Format::DockerArchive && args.images.len() > 1 {
        bail!("--multi-image-archive can only be used with --format docker-archive");
    }
    let opts = SaveOptions { format, compress: args.compress, uncompressed: args.uncompressed };
    let quiet = args.quiet || args.output.is_none();
    let mut err = std::io::stderr().lock();
    let mut progress = |s: SaveStep| {
        if !quiet {
            print_step(&mut err, &s);
        }
    };
    match &args.output {
        Some(path) => engine.save(&args.images, SaveTarget::Path(path), &opts, &mut progress)?,
        None => {
            if std::io::stdout().is_terminal() {
                bail!("refusing to save to terminal. Use -o flag or redirect");
            }
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            engine.save(&args.images, SaveTarget::Writer(&mut out), &opts, &mut progress)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn load(engine: &Engine, args: &LoadArgs) -> anyhow::Result<ExitCode> {
    let mut err = std::io::stderr().lock();
    let quiet = args.quiet;
    if !quiet {
        let _ = writeln!(err, "Getting image source signatures");
    }
    let mut progress = |s: SaveStep| {
        if !quiet {
            print_step(&mut err, &s);
        }
    };
    let loaded = match &args.input {
        Some(p) if is_url(p) => {
            let (path, file) = engine.content().temp_file()?;
            let _gone = RemoveOnDrop(path.clone());
            download(&p.to_string_lossy(), file)?;
            engine.load(LoadInput::Path(&path), &mut progress)?
        }
        Some(p) => engine.load(LoadInput::Path(p), &mut progress)?,
        None => {
            let mut stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                bail!("cannot read from terminal, use command-line redirection or the --input flag");
            }
            engine.load(LoadInput::Reader(&mut stdin), &mut progress)?
        }
    };
    for l in loaded {
        if l.names.is_empty() {
            println!("Loaded image: {}", l.image.digest());
        }
        for n in &l.names {
            println!("Loaded image: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn is_url(p: &std::path::Path) -> bool {
    let s = p.to_string_lossy();
    s.starts_with("http://") || s.starts_with("https://")
}

pub(crate) struct RemoveOnDrop(pub(crate) PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `load -i URL`: the archive downloaded into `file` first, as Podman does.
pub(crate) fn download(url: &str, file: std::fs::File) -> anyhow::Result<()> {
    use anyhow::Context;
    use futures_util::StreamExt;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let resp = reqwest::get(url).await.with_context(|| format!("downloading {url}"))?;
        if !resp.status().is_success() {
            bail!("downloading {url}: the server answered {}", resp.status());
        }
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.with_context(|| format!("downloading {url}"))?;
            out.write_all(&chunk).with_context(|| format!("downloading {url}: writing it down"))?;
        }
        out.flush()?;
        Ok(())
    })
}

/// `pull`/`create`/`run` of an archive transport: Podman's progress lines on stderr.
pub fn pull_transport(engine: &Engine, reference: &str, quiet: bool) -> anyhow::Result<berth_engine::Loaded> {
    let mut err = std::io::stderr().lock();
    if !quiet {
        let _ = writeln!(err, "Getting image source signatures");
    }
    Ok(engine.pull_transport(reference, &mut |s| {
        if !quiet {
            print_step(&mut err, &s);
        }
    })?)
}
