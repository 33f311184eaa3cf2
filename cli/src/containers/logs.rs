//! `logs`: a container's recorded output, filtered by time and `--tail`, then followed.

use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::container::logs;
use berth_engine::Engine;
use clap::Args;

use super::follow::{follow_all, print_prefixed, Followed, Follower, Streams};

#[derive(Args)]
pub struct LogsArgs {
    /// The containers; with more than one, each line starts with its container's short id
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Follow the output
    #[arg(short, long)]
    pub follow: bool,
    /// Show only the last N lines
    #[arg(long)]
    pub tail: Option<usize>,
    /// Show lines since a time (RFC 3339, or a duration such as 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show lines until a time (RFC 3339, or a duration such as 10m)
    #[arg(long)]
    pub until: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
}

/// RFC 3339, or a duration back from now ("10m", "2h", "30s"); one that reaches before the
/// earliest date there is an error naming it.
/// A time as Podman takes it: RFC 3339, a Unix timestamp (`1700000000`, `1700000000.5`), or
/// a duration before now (`10m`, `2h`, `30s`).
pub(crate) fn parse_time_arg(s: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    if let Some((secs, frac)) = s.split_once('.').or(Some((s, ""))).filter(|(a, b)| {
        !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
    }) {
        let secs: i64 = secs.parse().with_context(|| format!("invalid time {s:?}: the timestamp is too large"))?;
        let nanos: u32 = format!("{frac:0<9}")[..9].parse().unwrap_or(0);
        return chrono::DateTime::from_timestamp(secs, nanos)
            .with_context(|| format!("invalid time {s:?}: the timestamp is past any date"));
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().with_context(|| format!("invalid time {s:?}: use RFC 3339 or a duration like 10m"))?;
    let unit_secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        _ => bail!("invalid time {s:?}: use RFC 3339 or a duration like 10m"),
    };
    n.checked_mul(unit_secs)
        .and_then(chrono::Duration::try_seconds)
        .and_then(|d| chrono::Utc::now().checked_sub_signed(d))
        .with_context(|| format!("invalid time {s:?}: the duration is too long, it reaches before any date"))
}

pub async fn logs(engine: Engine, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    logs_prefixed(engine, args, false).await
}

/// [`logs`], each line starting with its container's short id when there are several
/// containers or `prefix` asks for it (`pod logs`).
pub async fn logs_prefixed(engine: Engine, args: &LogsArgs, prefix: bool) -> anyhow::Result<ExitCode> {
    let since = args.since.as_deref().map(parse_time_arg).transpose()?;
    let until = args.until.as_deref().map(parse_time_arg).transpose()?;
    let several = args.containers.len() > 1 || prefix;
    let mut shown: Vec<(usize, logs::Record)> = Vec::new();
    let mut followed = Vec::new();
    let mut prefixes = Vec::new();
    for name in &args.containers {
        let c = engine.container(name)?;
        if c.options.log.driver == berth_engine::container::LogDriver::None {
            bail!("{name}: this container is using the 'none' log driver, cannot read logs");
        }
        let path = engine.container_paths(&c.id).log();
        let (mut records, end) = logs::read_all(&path).with_context(|| format!("reading {}", path.display()))?;
        records.retain(|r| since.is_none_or(|s| r.time >= s) && until.is_none_or(|u| r.time <= u));
        if let Some(n) = args.tail {
            tail(&mut records, n);
        }
        let prefix = if several { format!("{} ", c.short_id()) } else { String::new() };
        shown.extend(records.into_iter().map(|r| (prefixes.len(), r)));
        if args.follow && c.is_running() {
            followed.push(Followed { id: c.id.clone(), prefix: prefix.clone(), follower: Follower::open(&path, end)? });
        }
        prefixes.push(prefix);
    }
    // several containers' lines in the order they were written
    if several {
        shown.sort_by_key(|(_, r)| r.time);
    }
    for (i, r) in &shown {
        print_prefixed(r, args.timestamps, &prefixes[*i], Streams::BOTH)?;
    }
    if !followed.is_empty() {
        follow_all(&engine, followed, false, Streams::BOTH, args.timestamps).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Keeps the last `n` whole lines: a line is its partial records plus the full one that ends it.
fn tail(records: &mut Vec<logs::Record>, n: usize) {
    let mut lines = 0;
    let mut start = records.len();
    while start > 0 && lines < n {
        start -= 1;
        if !records[start].partial || start + 1 == records.len() {
            lines += 1;
        }
        while start > 0 && records[start - 1].partial {
            start -= 1;
        }
    }
    records.drain(..start);
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_duration_too_long_is_an_error_naming_it() {
        let err = super::parse_time_arg("99999999999999h").unwrap_err().to_string();
        assert!(err.contains("\"99999999999999h\"") && err.contains("too long"), "{err}");
        let err = super::parse_time_arg("99999999999999999999s").unwrap_err().to_string();
        assert!(err.contains("99999999999999999999s"), "{err}");
        let t = super::parse_time_arg("2h").unwrap();
        assert!((chrono::Utc::now() - t).num_minutes() == 120);
    }
}
