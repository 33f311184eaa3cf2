//! `berth diff`, `container diff` and `image diff`: the changes of a container over its image,
//! or of an image's top layer, as Podman prints them (`C /etc`, or JSON with `--format json`).

use std::process::ExitCode;

use anyhow::bail;
use berth_engine::layers::changes::{Change, ChangeKind};
use berth_engine::Engine;
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Args)]
pub struct DiffArgs {
    /// The container or image
    #[arg(required_unless_present = "latest", value_name = "CONTAINER|IMAGE")]
    pub name: Option<String>,
    /// The container created last
    #[arg(short, long)]
    pub latest: bool,
    /// Output format: json (the changes under "changed", "added" and "deleted")
    #[arg(long)]
    pub format: Option<String>,
}

/// Which of the two `diff` looks at: `berth diff` either (containers first).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Only {
    Any,
    Containers,
    Images,
}

pub fn diff(engine: &Engine, args: &DiffArgs, only: Only) -> anyhow::Result<ExitCode> {
    let json = match args.format.as_deref() {
        None | Some("") => false,
        Some("json") => true,
        Some(other) => bail!("--format {other}: diff prints json only (--format json), or lines without --format"),
    };
    let query = match (&args.name, args.latest) {
        (Some(_), true) => bail!("--latest and arguments cannot be used together: name a container or use --latest"),
        (Some(n), false) => n.clone(),
        (None, _) => engine
            .containers()?
            .into_iter()
            .max_by_key(|c| c.created_at)
            .map(|c| c.id)
            .ok_or_else(|| anyhow::anyhow!("no containers: --latest needs one"))?,
    };
    let changes = match only {
        Only::Any => engine.diff(&query)?.1,
        Only::Containers => engine.container_changes(&engine.container(&query)?)?,
        Only::Images => engine.image_changes(&engine.image(&query)?)?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&as_json(&changes))?);
    } else {
        for c in &changes {
            println!("{} {}", c.kind.letter(), c.path);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Podman's JSON: the paths by kind, a kind without any left out.
fn as_json(changes: &[Change]) -> Value {
    let mut out = Map::new();
    for (key, kind) in
        [("changed", ChangeKind::Changed), ("added", ChangeKind::Added), ("deleted", ChangeKind::Deleted)]
    {
        let paths: Vec<&str> = changes.iter().filter(|c| c.kind == kind).map(|c| c.path.as_str()).collect();
        if !paths.is_empty() {
            out.insert(key.into(), json!(paths));
        }
    }
    Value::Object(out)
}
