//! `berth images`, `image inspect|history|prune|…`, `tag`, `untag`, `rmi`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::{Engine, ImageRecord, Reference};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::format::{ago, human_size, Table};
use crate::template::Template;

#[derive(Subcommand)]
pub enum ImageCommand {
    /// List images in local storage
    #[command(alias = "list")]
    Ls(ListArgs),
    /// Build an image from a Containerfile (Dockerfile)
    Build(Box<crate::build::BuildArgs>),
    /// Pull an image from a registry
    Pull(crate::pull::PullArgs),
    /// Push an image to a registry, a dir: directory or an OCI layout
    Push(crate::push::PushArgs),
    /// Display the configuration of one or more images
    Inspect(InspectArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Show the changes of an image's top layer over the layers below it
    Diff(crate::diff::DiffArgs),
    /// Import a tarball of a root filesystem as an image
    Import(crate::import::ImportArgs),
    /// Add an additional name to a local image
    Tag(TagArgs),
    /// Remove a name from a local image
    Untag(UntagArgs),
    /// Remove one or more images
    Rm(RmArgs),
    /// Remove unused images
    Prune(PruneArgs),
    /// Whether an image is in local storage (status 0) or not (1)
    Exists(crate::format::ExistsArgs),
    /// Mount an image's layers read-only on the host and print the path; none lists the mounted
    Mount(crate::mounts::MountArgs),
    /// Undo `image mount`
    #[command(alias = "unmount")]
    Umount(crate::mounts::UmountArgs),
    /// Save image(s) to an archive
    Save(crate::archive::SaveArgs),
    /// Load image(s) from a tar archive
    Load(crate::archive::LoadArgs),
}

#[derive(Args)]
pub struct ListArgs {
    /// Show all images, also the intermediate ones a build keeps for its cache
    #[arg(short, long)]
    pub all: bool,
    /// Show only image ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not print the header
    #[arg(long)]
    pub noheading: bool,
    /// Output format: json, or a template such as "{{.Repository}}:{{.Tag}}"
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: dangling=true|false, label=KEY[=VALUE], reference=PATTERN, before=IMAGE,
    /// since=IMAGE, id=PREFIX
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Sort by created, id, repository, size or tag
    #[arg(long, default_value = "created", value_parser = ["created", "id", "repository", "size", "tag"])]
    pub sort: String,
    /// Show only images whose name contains this text
    pub filter_name: Option<String>,
}

/// Whether `name` (`registry/repo:tag`) matches a `reference=` filter: the whole name, the
/// name without its tag, or its last path components, with `*` matching within a component.
fn reference_matches(pattern: &str, name: &str) -> bool {
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && glob(p, &s[1..])),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let repo = name.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map_or(name, |(r, _)| r);
    let candidates = [name, repo];
    candidates.iter().any(|c| {
        let parts: Vec<&str> = c.split('/').collect();
        (0..parts.len()).any(|i| glob(pattern.as_bytes(), parts[i..].join("/").as_bytes()))
    })
}

/// Keeps the images that match every `--filter`.
fn filter_images(engine: &Engine, images: &mut Vec<ImageRecord>, filters: &[String]) -> anyhow::Result<()> {
    for f in filters {
        let (k, v) = f.split_once('=').with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
        match k {
            "dangling" => {
                let want = match v {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => bail!("invalid filter {f:?}: dangling is true or false"),
                };
                images.retain(|i| i.is_dangling() == want)
            }
            "label" => {
                let (lk, lv) = v.split_once('=').map_or((v, None), |(a, b)| (a, Some(b)));
                images.retain(|i| {
                    let config: Value = serde_json::from_str(&i.config_json).unwrap_or(Value::Null);
                    let got = config.pointer(&format!("/config/Labels/{}", lk.replace('~', "~0").replace('/', "~1")));
                    got.and_then(Value::as_str).is_some_and(|x| lv.is_none_or(|lv| x == lv))
                })
            }
            "reference" => images.retain(|i| i.names.iter().any(|n| reference_matches(v, n))),
            "id" => images.retain(|i| i.id.starts_with(v.trim_start_matches("sha256:"))),
            "before" | "since" | "after" => {
                let pivot = engine.image(v)?;
                let at = pivot.created;
                images.retain(|i| i.id != pivot.id && if k == "before" { i.created < at } else { i.created > at })
            }
            other => bail!("invalid filter {other:?}: use dangling, label, reference, before, since (after) or id"),
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct InspectArgs {
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Output format: json (default), or a template such as "{{.Id}}"
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct HistoryArgs {
    pub image: String,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Show only the ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Display sizes and dates in human-readable form (--human=false: bytes and RFC 3339)
    #[arg(short = 'H', long, default_value_t = true, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set, require_equals = true)]
    pub human: bool,
    /// Output format: json, or a template such as "{{.ID}} {{.CreatedSince}}"
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct TagArgs {
    pub image: String,
    #[arg(required = true)]
    pub targets: Vec<String>,
}

#[derive(Args)]
pub struct CommitArgs {
    /// Print only the new image's id
    #[arg(short, long)]
    pub quiet: bool,
    /// A Dockerfile instruction to apply to the image's config: CMD, ENTRYPOINT, ENV, EXPOSE,
    /// LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR ("CMD /bin/sh" or "CMD=/bin/sh")
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// The comment of the new layer's history entry
    #[arg(short, long)]
    pub message: Option<String>,
    /// The image's author
    #[arg(short, long)]
    pub author: Option<String>,
    /// Freeze a running container while its changes are read (without it they are read as
    /// they are, as Podman does by default)
    #[arg(short, long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub pause: Option<bool>,
    /// The manifest format: oci or docker
    #[arg(short, long, default_value = "oci")]
    pub format: String,
    /// Also write the new image's id to this file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<std::path::PathBuf>,
    pub container: String,
    /// The new image's name (a short name becomes localhost/NAME:latest); without one it is
    /// dangling
    pub image: Option<String>,
}

#[derive(Args)]
pub struct UntagArgs {
    pub image: String,
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct RmArgs {
    /// Images to remove, by name or id
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Remove all images
    #[arg(short, long)]
    pub all: bool,
    /// Remove images even if they have several names or are in use
    #[arg(short, long)]
    pub force: bool,
    /// Do not fail for images that do not exist
    #[arg(short, long)]
    pub ignore: bool,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Remove every image no container uses, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

pub async fn run(engine: Engine, cmd: &ImageCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ImageCommand::Ls(a) => list(&engine, a),
        ImageCommand::Pull(a) => crate::pull::run(engine, a).await,
        ImageCommand::Push(a) => crate::push::run(engine, a).await,
        ImageCommand::Inspect(a) => inspect(&engine, a),
        ImageCommand::History(a) => history(&engine, a),
        ImageCommand::Diff(a) => crate::diff::diff(&engine, a, crate::diff::Only::Images),
        ImageCommand::Tag(a) => tag(&engine, a),
        ImageCommand::Untag(a) => untag(&engine, a),
        ImageCommand::Rm(a) => remove(&engine, a),
        ImageCommand::Prune(a) => prune(&engine, a),
        ImageCommand::Exists(a) => crate::format::exists(engine.image(&a.name)),
        ImageCommand::Mount(a) => crate::mounts::image_mount(&engine, a),
        ImageCommand::Umount(a) => crate::mounts::image_umount(&engine, a),
        ImageCommand::Save(_) | ImageCommand::Load(_) | ImageCommand::Import(_) | ImageCommand::Build(_) => {
            unreachable!("dispatched in main")
        }
    }
}

/// (repository, tag) pairs as `images` lists them: one row per name, `<none>` for dangling.
pub(crate) fn repo_tags(img: &ImageRecord) -> Vec<(String, String)> {
    if img.names.is_empty() {
        return vec![("<none>".into(), "<none>".into())];
    }
    // oldest name first, as Podman lists an image's names (the store keeps the newest first)
    img.names
        .iter()
        .rev()
        .map(|n| match n.rfind(':').filter(|i| !n[*i..].contains('/')) {
            Some(i) => (n[..i].to_string(), n[i + 1..].to_string()),
            None => (n.clone(), "<none>".into()),
        })
        .collect()
}

fn short_id(id: &str, no_trunc: bool) -> String {
    if no_trunc {
        format!("sha256:{id}")
    } else {
        id[..12.min(id.len())].to_string()
    }
}

fn summary_json(img: &ImageRecord) -> Value {
    let config = img.config();
    let labels = config.as_ref().and_then(|c| c.config().as_ref()).and_then(|c| c.labels().clone()).unwrap_or_default();
    let created = img.created.map(|c| c.timestamp()).unwrap_or(0);
    json!({
        "Id": img.id,
        "ParentId": "",
        "RepoTags": img.names,
        "RepoDigests": img.repo_digests,
        "Size": img.size,
        "SharedSize": 0,
        "VirtualSize": img.size,
        "Labels": labels,
        "Containers": img.containers.len(),
        "Names": img.names,
        "History": img.names_history,
        "Digest": img.manifest_digest,
        "Dangling": img.is_dangling(),
        "Created": created,
        "CreatedAt": img.created.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)).unwrap_or_default(),
    })
}

pub fn list(engine: &Engine, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let mut images = engine.images()?;
    if !args.all {
        let intermediate = engine.intermediate_images()?;
        images.retain(|i| !intermediate.contains(&i.id));
    }
    if let Some(f) = &args.filter_name {
        images.retain(|i| i.names.iter().any(|n| n.contains(f.as_str())) || i.id.starts_with(f.as_str()));
        // the rows of the names asked for only, as Podman lists them
        for i in images.iter_mut().filter(|i| !i.id.starts_with(f.as_str())) {
            i.names.retain(|n| n.contains(f.as_str()));
        }
    }
    filter_images(engine, &mut images, &args.filter)?;
    match args.sort.as_str() {
        "id" => images.sort_by(|a, b| a.id.cmp(&b.id)),
        "size" => images.sort_by_key(|i| std::cmp::Reverse(i.size)),
        "repository" | "tag" => images.sort_by_key(|i| i.names.last().cloned().unwrap_or_default()),
        _ => images.sort_by_key(|i| std::cmp::Reverse(i.created)),
    }
    let out = std::io::stdout();
    let mut out = out.lock();
    if args.format.as_deref() == Some("json") {
        let list: Vec<Value> = images.iter().map(summary_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.quiet {
        let mut seen = std::collections::HashSet::new();
        for img in &images {
            if seen.insert(&img.id) {
                writeln!(out, "{}", short_id(&img.id, args.no_trunc))?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(template) = &args.format {
        let mut template = Template::parse(template).map_err(anyhow::Error::msg)?;
        template.table &= !args.noheading;
        let mut rows = Vec::new();
        for img in &images {
            let config: Value = serde_json::from_str(&img.config_json).unwrap_or(Value::Null);
            for (repo, tag) in repo_tags(img) {
                let row = json!({
                    "ID": short_id(&img.id, args.no_trunc),
                    "Id": short_id(&img.id, args.no_trunc),
                    "Repository": repo,
                    "Tag": tag,
                    "Digest": img.manifest_digest,
                    "Size": human_size(img.size),
                    "VirtualSize": human_size(img.size),
                    "Created": ago(img.created),
                    "CreatedSince": ago(img.created),
                    "CreatedAt": img.created.map(|c| c.to_string()).unwrap_or_default(),
                    "CreatedTime": img.created.map(|c| c.to_string()).unwrap_or_default(),
                    "Labels": config.pointer("/config/Labels").cloned().unwrap_or(json!({})),
                    "Names": img.names,
                    "History": img.names_history.join(", "),
                    "Dangling": img.names.is_empty(),
                    "ReadOnly": false,
                    "IsReadOnly": false,
                });
                rows.push(row);
            }
        }
        // by each row's own name: an image's names sort apart
        match args.sort.as_str() {
            "tag" => rows.sort_by(|a, b| a["Tag"].as_str().cmp(&b["Tag"].as_str())),
            "repository" => rows.sort_by(|a, b| a["Repository"].as_str().cmp(&b["Repository"].as_str())),
            _ => {}
        }
        template.write_rows(&rows, &[("ID", "IMAGE ID"), ("Id", "IMAGE ID")], &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut header = vec!["REPOSITORY", "TAG"];
    if args.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let mut table = if args.noheading { Table::headless() } else { Table::new(&header) };
    for img in &images {
        for (repo, tag) in repo_tags(img) {
            let mut row = vec![repo, tag];
            if args.digests {
                row.push(img.manifest_digest.clone());
            }
            row.extend([short_id(&img.id, args.no_trunc), ago(img.created), human_size(img.size)]);
            table.row(row);
        }
    }
    table.print(&mut out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn inspect(engine: &Engine, args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for q in &args.images {
        match engine.image(q) {
            Ok(img) => found.push(berth_engine::image_inspect(&img)),
            Err(e) => errors.push(e.to_string()),
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
    if let Some(last) = errors.pop() {
        for e in errors {
            eprintln!("Error: {e}");
        }
        bail!(last);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn history(engine: &Engine, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let img = engine.image(&args.image)?;
    struct Row {
        id: String,
        created: Option<chrono::DateTime<chrono::Utc>>,
        by: String,
        size: u64,
        comment: String,
    }
    let mut rows: Vec<Row> = berth_engine::image_history(&img)
        .into_iter()
        .map(|h| Row { id: "<missing>".into(), created: h.created, by: h.created_by, size: h.size, comment: h.comment })
        .collect();
    // newest first
    rows.reverse();
    let rfc3339 = |c: &chrono::DateTime<chrono::Utc>| c.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    if args.format.as_deref() == Some("json") {
        // the full id, as Podman's json has it
        let v: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let id = if i == 0 { img.id.clone() } else { r.id.clone() };
                let tags = if i == 0 { img.names.clone() } else { Vec::new() };
                json!({"id": id, "created": r.created.as_ref().map(rfc3339), "CreatedBy": r.by, "tags": tags,
                       "size": r.size, "comment": r.comment})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(first) = rows.first_mut() {
        first.id = short_id(&img.id, args.no_trunc);
    }
    if let Some(t) = &args.format {
        let t = Template::parse(t).map_err(anyhow::Error::msg)?;
        let values: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "ID": r.id,
                    "Created": if args.human { ago(r.created) } else { r.created.as_ref().map(rfc3339).unwrap_or_default() },
                    "CreatedSince": ago(r.created),
                    // as `images` prints it
                    "CreatedAt": r.created.map(|c| c.to_string()).unwrap_or_default(),
                    "CreatedBy": r.by,
                    "Size": if args.human { human_size(r.size) } else { r.size.to_string() },
                    "Comment": r.comment,
                })
            })
            .collect();
        if !t.table {
            // without `table`, tabs stay tabs, as Podman prints them
            for v in &values {
                println!("{}", t.render(v).map_err(anyhow::Error::msg)?);
            }
            return Ok(ExitCode::SUCCESS);
        }
        t.write_rows(
            &values,
            &[
                ("ID", "ID"),
                ("Created", "CREATED"),
                ("CreatedBy", "CREATED BY"),
                ("Size", "SIZE"),
                ("Comment", "COMMENT"),
            ],
            &mut std::io::stdout().lock(),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.quiet {
        for r in &rows {
            println!("{}", r.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&["ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
    for Row { id, created, by, size, comment } in rows {
        let by = by.replace('\t', " ");
        let by = if !args.no_trunc && by.chars().count() > 45 {
            format!("{}...", by.chars().take(42).collect::<String>())
        } else {
            by
        };
        let when = if args.human { ago(created) } else { created.as_ref().map(rfc3339).unwrap_or_default() };
        let size = if args.human { human_size(size) } else { size.to_string() };
        table.row(vec![id, when, by, size, comment]);
    }
    table.print(&mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

pub fn tag(engine: &Engine, args: &TagArgs) -> anyhow::Result<ExitCode> {
    for t in &args.targets {
        engine.tag(&args.image, t)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `berth commit`: progress on stderr as Podman's copy reports it, the id on stdout.
pub fn commit(engine: &Engine, args: &CommitArgs) -> anyhow::Result<ExitCode> {
    let opts = berth_engine::CommitOptions {
        image: args.image.clone(),
        changes: args.change.clone(),
        message: args.message.clone(),
        author: args.author.clone(),
        pause: args.pause.unwrap_or(false),
        format: berth_engine::ImageFormat::parse(&args.format)?,
    };
    let short = |d: &str| d.strip_prefix("sha256:").unwrap_or(d).chars().take(12).collect::<String>();
    let quiet = args.quiet;
    let mut err = std::io::stderr().lock();
    if !quiet {
        let _ = writeln!(err, "Getting image source signatures");
    }
    let img = engine.commit(&args.container, &opts, &mut |step| {
        if quiet {
            return;
        }
        let _ = match step {
            berth_engine::CommitStep::BlobExists(d) => {
                writeln!(err, "Copying blob {} skipped: already exists", short(&d))
            }
            berth_engine::CommitStep::BlobWritten(d) => writeln!(err, "Copying blob {} done", short(&d)),
            berth_engine::CommitStep::Config(d) => writeln!(err, "Copying config {} done", short(&d)),
            berth_engine::CommitStep::Manifest => {
                writeln!(err, "Writing manifest to image destination").and_then(|_| writeln!(err, "Storing signatures"))
            }
        };
    })?;
    if let Some(f) = &args.iidfile {
        std::fs::write(f, img.digest()).with_context(|| format!("writing the image id to {}", f.display()))?;
    }
    println!("{}", img.id);
    Ok(ExitCode::SUCCESS)
}

pub fn untag(engine: &Engine, args: &UntagArgs) -> anyhow::Result<ExitCode> {
    // Looked up once: untagging the name the image was given by would make it unfindable.
    let image = engine.image(&args.image)?;
    let names = if args.names.is_empty() { image.names.clone() } else { args.names.clone() };
    for n in &names {
        let reference = Reference::parse(n).ok();
        if let Some(r) = reference.as_ref().filter(|r| r.digest().is_some()) {
            // a digested name (`repo:tag@sha256:…` is `repo@sha256:…`) is one of the image's repo
            // digests, which Berth keeps apart from its tags: there is no tag to remove
            let digested = r.with_digest_name(r.digest().unwrap_or_default());
            if !image.repo_digests.contains(&digested) {
                bail!("{n}: tag not known");
            }
            continue;
        }
        // A short name is the local one (localhost/, as `tag` gives it) or a registry's.
        let full = [Reference::parse_local(n).ok(), reference]
            .into_iter()
            .filter_map(|r| r.and_then(|r| r.tagged_name()))
            .find(|full| image.names.contains(full));
        let Some(full) = full else { bail!("{n}: tag not known") };
        engine.untag(&full)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(engine: &Engine, args: &RmArgs) -> anyhow::Result<ExitCode> {
    let targets: Vec<String> = if args.all {
        engine.images()?.into_iter().map(|i| i.id).collect()
    } else if args.images.is_empty() {
        bail!("image name or id must be specified");
    } else {
        args.images.clone()
    };
    let mut errors = Vec::new();
    let mut reclaimed = BTreeMap::new();
    for t in &targets {
        match engine.remove_image(t, args.force || args.all) {
            Ok(report) => {
                for img in report.images {
                    for n in img.untagged {
                        println!("Untagged: {n}");
                    }
                    if let Some(id) = img.deleted {
                        println!("Deleted: {id}");
                        reclaimed.insert(id, ());
                    }
                }
            }
            // --ignore, and --force as in Podman: an image that is not there is no error
            Err(berth_engine::Error::Lookup(berth_engine::image::LookupError::NotFound(_)))
                if args.ignore || args.force => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if let Some(last) = errors.pop() {
        for e in errors {
            eprintln!("Error: {e}");
        }
        eprintln!("Error: {last}");
        // Podman: 1 when an image was not found, 2 when one is in use, 125 otherwise.
        let code = if last.ends_with("image not known") {
            1
        } else if last.contains("in use") {
            2
        } else {
            125
        };
        return Ok(ExitCode::from(code));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn prune(engine: &Engine, args: &PruneArgs) -> anyhow::Result<ExitCode> {
    if !args.force {
        let what = if args.all { "all images not used by a container" } else { "all dangling images" };
        if !crate::format::confirm(&format!("This command removes {what}."))? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let report = engine.prune_images(args.all)?;
    for img in &report.images {
        if let Some(id) = &img.deleted {
            println!("{id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
