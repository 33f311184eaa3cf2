//! `inspect`: containers' records as JSON or through a template, falling back to images.

use std::process::ExitCode;

use anyhow::bail;
use berth_engine::Engine;
use clap::Args;

use crate::template::Template;

#[derive(Args)]
pub struct InspectArgs {
    #[arg(required_unless_present = "latest")]
    pub names: Vec<String>,
    /// The container created last
    #[arg(short, long)]
    pub latest: bool,
    /// Output format: json (default) or a template such as "{{.State.Status}}"
    #[arg(short, long)]
    pub format: Option<String>,
}

/// `berth inspect` and `container inspect`: containers first, then images, as Podman does.
pub fn inspect(engine: &Engine, args: &InspectArgs, images_too: bool) -> anyhow::Result<ExitCode> {
    if args.latest && !args.names.is_empty() {
        anyhow::bail!("--latest and arguments cannot be used together: name containers or use --latest");
    }
    let mut found = Vec::new();
    let latest;
    let names = if args.latest {
        let newest = engine.containers()?.into_iter().max_by_key(|c| c.created_at);
        latest = vec![newest
            .map(|c| c.id)
            .ok_or_else(|| anyhow::anyhow!("no containers to inspect: --latest needs one"))?];
        &latest
    } else {
        &args.names
    };
    for n in names {
        match engine.container(n) {
            Ok(c) => found.push(engine.inspect_record(&c)),
            Err(e) if !images_too => return Err(e.into()),
            Err(_) => match engine.image(n) {
                Ok(_) => {
                    return crate::images::inspect(
                        engine,
                        &crate::images::InspectArgs { images: args.names.clone(), format: args.format.clone() },
                    )
                }
                Err(_) => bail!("inspecting object: no such object: \"{n}\""),
            },
        }
    }
    match args.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&found)?),
        Some(t) => {
            let t = Template::parse(t).map_err(anyhow::Error::msg)?;
            for v in &found {
                // the Go field is ID, its JSON name Id
                let mut row = v.clone();
                row["ID"] = v["Id"].clone();
                println!("{}", t.render(&row).map_err(anyhow::Error::msg)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
