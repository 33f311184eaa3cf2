//! `events`: what happened to containers, images, volumes and networks, from Berth's event log
//! (`events.jsonl` under the storage root), filtered and printed as Podman prints them.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use berth_engine::{Engine, StateEvent};
use clap::Args;
use serde_json::{json, Value};

use crate::containers::parse_time_arg;
use crate::template::Template;

#[derive(Args)]
pub struct EventsArgs {
    /// Filter: type=, event=, container=, image=, label=KEY[=VALUE], volume=, network= (one key
    /// given twice matches either value)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Show events from this time on (RFC 3339, a Unix timestamp, or a duration like 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show events up to this time, then end
    #[arg(long)]
    pub until: Option<String>,
    /// Keep printing events as they happen (with false: print what happened so far and end)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub stream: bool,
    /// Print full ids (with false: 12 characters)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub no_trunc: bool,
    /// Output format: json, or a template such as "{{.ID}} {{.Status}}"
    #[arg(long)]
    pub format: Option<String>,
}

/// The filters, as key to the values any of which matches.
struct Filters(Vec<(String, Vec<String>)>);

impl Filters {
    fn parse(args: &[String]) -> anyhow::Result<Filters> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for f in args {
            let (k, v) = f.split_once('=').with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
            // `status` is Podman's older name of `event`
            let k = if k == "status" { "event" } else { k };
            if !matches!(k, "type" | "event" | "container" | "image" | "label" | "volume" | "network") {
                bail!("invalid filter {k:?}: use type, event, container, image, label, volume or network");
            }
            match out.iter_mut().find(|(key, _)| key == k) {
                Some((_, values)) => values.push(v.to_string()),
                None => out.push((k.to_string(), vec![v.to_string()])),
            }
        }
        Ok(Filters(out))
    }

    fn matches(&self, e: &StateEvent) -> bool {
        let named = |v: &str| e.id.starts_with(v) || e.name.as_deref() == Some(v);
        self.0.iter().all(|(k, values)| {
            values.iter().any(|v| match k.as_str() {
                "type" => e.kind == *v,
                "event" => e.action == *v || (v == "die" && e.action == "died"),
                "container" => e.kind == "container" && named(v),
                "volume" => e.kind == "volume" && named(v),
                "network" => e.kind == "network" && named(v),
                "image" => (e.kind == "image" && named(v)) || e.attributes.get("image").is_some_and(|i| i == v),
                "label" => {
                    let (lk, lv) = v.split_once('=').map_or((v.as_str(), None), |(a, b)| (a, Some(b)));
                    e.attributes.get(lk).is_some_and(|x| lv.is_none_or(|lv| x == lv))
                }
                _ => false,
            })
        })
    }
}

/// The event as Podman's template and JSON see it: the whole id (`--no-trunc` shortens only
/// the default line, as in Podman).
fn event_value(e: &StateEvent) -> Value {
    let id = e.id.as_str();
    let time = chrono::DateTime::from_timestamp_nanos(e.time);
    json!({
        "ID": id,
        "Image": e.attributes.get("image").cloned().unwrap_or_default(),
        "Name": e.name.clone().unwrap_or_default(),
        "Status": e.action,
        "Type": e.kind,
        "Time": time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        "TimeNano": e.time,
        "ContainerExitCode": e.attributes.get("containerExitCode").and_then(|c| c.parse::<i64>().ok()).unwrap_or(0),
        "Attributes": e.attributes,
    })
}

/// `2026-12-03 19:30:00.123456789 +0000 UTC container start ID (image=..., name=..., k=v)`.
fn event_line(e: &StateEvent, no_trunc: bool) -> String {
    let id = if no_trunc { e.id.as_str() } else { &e.id[..e.id.len().min(12)] };
    let time = chrono::DateTime::from_timestamp_nanos(e.time).with_timezone(&chrono::Local);
    let when = time.format("%Y-%m-%d %H:%M:%S%.9f %z %Z");
    if e.kind == "image" {
        // Podman's image line: the whole id, then the name (a path, for save and load)
        return format!("{when} image {} {} {}", e.action, e.id, e.name.as_deref().unwrap_or_default());
    }
    let mut line = format!("{when} {} {} {id}", e.kind, e.action);
    let mut attrs = Vec::new();
    if let Some(image) = e.attributes.get("image") {
        attrs.push(format!("image={image}"));
    }
    if let Some(name) = &e.name {
        attrs.push(format!("name={name}"));
    }
    attrs.extend(e.attributes.iter().filter(|(k, _)| k.as_str() != "image").map(|(k, v)| format!("{k}={v}")));
    if !attrs.is_empty() {
        line.push_str(&format!(" ({})", attrs.join(", ")));
    }
    line
}

pub fn events(engine: &Engine, args: &EventsArgs) -> anyhow::Result<ExitCode> {
    let filters = Filters::parse(&args.filter)?;
    let nanos = |t: chrono::DateTime<chrono::Utc>| t.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let since = args.since.as_deref().map(parse_time_arg).transpose()?.map(nanos);
    let until = args.until.as_deref().map(parse_time_arg).transpose()?.map(nanos);
    let template = match args.format.as_deref() {
        None | Some("json") => None,
        Some(t) => Some(Template::parse(t).map_err(anyhow::Error::msg)?),
    };
    let bus = engine.events();
    // Streaming without --since starts at the end: what happens from now on.
    let mut offset =
        if args.stream && since.is_none() { std::fs::metadata(bus.file()).map_or(0, |m| m.len()) } else { 0 };
    let stdout = std::io::stdout();
    loop {
        let (events, next) = bus.read_since(offset).with_context(|| format!("reading {}", bus.file().display()))?;
        offset = next;
        let mut out = stdout.lock();
        for e in events.iter().filter(|e| since.is_none_or(|s| e.time >= s)) {
            if until.is_some_and(|u| e.time > u) {
                return Ok(ExitCode::SUCCESS);
            }
            if !filters.matches(e) {
                continue;
            }
            match (&template, args.format.as_deref()) {
                (Some(t), _) => writeln!(out, "{}", t.render(&event_value(e)).map_err(anyhow::Error::msg)?)?,
                (None, Some("json")) => writeln!(out, "{}", event_value(e))?,
                _ => writeln!(out, "{}", event_line(e, args.no_trunc))?,
            }
        }
        out.flush()?;
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        if !args.stream || until.is_some_and(|u| now > u) {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
