//! `berth mount`/`umount` and `image mount`/`umount`: a container's or an image's files
//! mounted on the host, printed as Podman prints them.

use std::process::ExitCode;

use anyhow::bail;
use berth_engine::Engine;
use clap::Args;

#[derive(Args)]
pub struct MountArgs {
    /// Mount every container (images: every image)
    #[arg(short, long)]
    pub all: bool,
    /// Full ids in the list of mounts
    #[arg(long)]
    pub notruncate: bool,
    /// Containers (images) to mount; none lists what is mounted
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct UmountArgs {
    /// Unmount every mounted one
    #[arg(short, long)]
    pub all: bool,
    /// Unmount at once, however many times it was mounted
    #[arg(short, long)]
    pub force: bool,
    pub names: Vec<String>,
}

pub fn mount(engine: &Engine, a: &MountArgs) -> anyhow::Result<ExitCode> {
    if a.all && !a.names.is_empty() {
        bail!("when using the --all switch, you may not pass any containers");
    }
    let names: Vec<String> =
        if a.all { engine.containers()?.into_iter().map(|c| c.id).collect() } else { a.names.clone() };
    if names.is_empty() {
        for (id, path) in engine.mounted_containers()? {
            let id = if a.notruncate { id.as_str() } else { &id[..12] };
            println!("{id} {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    for n in &names {
        let path = engine.mount_container(n)?;
        if a.all {
            let id = engine.container(n)?.id;
            println!("{} {}", if a.notruncate { &id } else { &id[..12] }, path.display());
        } else {
            println!("{}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn umount(engine: &Engine, a: &UmountArgs) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = match (a.all, a.names.is_empty()) {
        (true, true) => engine.mounted_containers()?.into_iter().map(|(id, _)| id).collect(),
        (true, false) => bail!("when using the --all switch, you may not pass any containers"),
        (false, true) => bail!("specify one or more containers to unmount, or --all"),
        (false, false) => a.names.clone(),
    };
    for n in &names {
        let (id, _) = engine.unmount_container(n, a.force || a.all)?;
        println!("{id}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn image_mount(engine: &Engine, a: &MountArgs) -> anyhow::Result<ExitCode> {
    if a.all && !a.names.is_empty() {
        bail!("when using the --all switch, you may not pass any images");
    }
    if a.all {
        for img in engine.images()? {
            engine.mount_image(&img.id)?;
        }
    }
    if a.all || a.names.is_empty() {
        for (img, path) in engine.mounted_images()? {
            let name = img.names.last().cloned().unwrap_or_else(|| img.id[..12].to_string());
            println!("{name} {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    for n in &a.names {
        println!("{}", engine.mount_image(n)?.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn image_umount(engine: &Engine, a: &UmountArgs) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = match (a.all, a.names.is_empty()) {
        (true, true) => engine.mounted_images()?.into_iter().map(|(i, _)| i.id).collect(),
        (true, false) => bail!("when using the --all switch, you may not pass any images"),
        (false, true) => bail!("specify one or more images to unmount, or --all"),
        (false, false) => a.names.clone(),
    };
    for n in &names {
        // nothing printed for an image that was not mounted
        if let Some(id) = engine.unmount_image(n, a.force || a.all)? {
            println!("{id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
