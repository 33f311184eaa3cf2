//! `/containers/{id}/archive`: `docker cp`. `HEAD` tells what is at a path (Docker's
//! `X-Docker-Container-Path-Stat` header), `GET` sends a tar of it, `PUT` unpacks a tar into a
//! directory. The engine's copy helper does the work inside the container, running or stopped,
//! as for `berth cp`; the differences are Docker's: a link named by the path is stat'ed and
//! sent as a link (the client follows it itself for `-L`), and an upload is unpacked as it is
//! (the client has already named its entries for the destination).

use base64::Engine as _;
use berth_engine::copy::{archive, CopyError, PathStat, Place, Request};
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::json;

use crate::service::{channel_body, empty, full, ApiError, ChannelWriter, Ctx, Reply, Req};

/// The header that carries a [`PathStat`] as Docker's clients read it.
const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// The `path` parameter: absolute (Docker takes a relative one from the container's root).
fn container_path(r: &Req) -> Result<String, ApiError> {
    match r.q("path") {
        None | Some("") => {
            Err(ApiError::bad("the \"path\" parameter is missing: give the path in the container, as ?path=/etc/hosts"))
        }
        Some(p) if p.contains('\0') => Err(ApiError::bad(format!("invalid path {p:?}: it holds a NUL byte"))),
        Some(p) if p.starts_with('/') => Ok(p.to_string()),
        Some(p) => Ok(format!("/{p}")),
    }
}

/// The container (its id and name) and what is at `path` in it; 404 when nothing is there.
async fn find(ctx: &Ctx, id: &str, path: &str, follow: bool) -> Result<(String, String, PathStat), ApiError> {
    let (q, p) = (id.to_string(), path.to_string());
    let (c, found) = ctx
        .blocking(move |e| {
            let c = e.container(&q)?;
            let found = e.stat_path(&c.id, &p, follow)?;
            Ok((c, found))
        })
        .await?;
    match found {
        Some(stat) => Ok((c.id, c.name, stat)),
        None => Err(ApiError::not_found(
            CopyError::NotFound { path: path.to_string(), place: Place::Container(c.name) }.to_string(),
        )),
    }
}

/// Go's `os.FileMode` bits for a `st_mode`, as Docker's clients decode them.
fn go_file_mode(st_mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    const IRREGULAR: u32 = 1 << 19;
    let kind = match st_mode & 0o170000 {
        0o100000 => 0,
        0o040000 => DIR,
        0o120000 => SYMLINK,
        0o060000 => DEVICE,
        0o020000 => DEVICE | CHAR_DEVICE,
        0o010000 => NAMED_PIPE,
        0o140000 => SOCKET,
        _ => IRREGULAR,
    };
    let special = [(0o4000, SETUID), (0o2000, SETGID), (0o1000, STICKY)]
        .iter()
        .filter(|(bit, _)| st_mode & bit != 0)
        .fold(0, |m, (_, go)| m | go);
    kind | special | (st_mode & 0o777)
}

/// The header's value: base64 of `{name, size, mode, mtime, linkTarget}`.
fn stat_header(stat: &PathStat) -> String {
    let mtime = chrono::DateTime::from_timestamp(stat.mtime, stat.mtime_nsec)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let v = json!({
        "name": stat.name,
        "size": stat.size,
        "mode": go_file_mode(stat.mode),
        "mtime": mtime,
        "linkTarget": stat.link_target.as_deref().unwrap_or(""),
    });
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}

fn with_stat(stat: &PathStat, content_type: Option<&str>, body: crate::service::Body) -> Reply {
    let mut b = Response::builder().status(StatusCode::OK).header(STAT_HEADER, stat_header(stat));
    if let Some(t) = content_type {
        b = b.header("Content-Type", t);
    }
    Ok(b.body(body).expect("a valid response"))
}

/// `HEAD /containers/{id}/archive?path=P`: what is at P (a link as itself), in the header.
pub async fn stat_archive(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let path = container_path(r)?;
    let (_, _, stat) = find(ctx, id, &path, false).await?;
    with_stat(&stat, None, full(Bytes::new()))
}

/// `GET /containers/{id}/archive?path=P`: a tar of P, streamed, with P's stat in the header. A
/// directory's tar has the directory's name as its root; `P/.` has `.` (its contents).
pub async fn get_archive(ctx: &Ctx, id: &str, r: &Req) -> Reply {
    let path = container_path(r)?;
    let (id, _, stat) = find(ctx, id, &path, false).await?; // 404 before any byte
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let engine = ctx.engine.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, ChannelWriter { tx });
        // the status is sent: a failure now ends the stream early, as Docker's does
        let _ = engine.copy_out(&id, Request::Out { path: &path, shown: &path, follow: false }, &mut out);
    });
    with_stat(&stat, Some("application/x-tar"), channel_body(rx))
}

/// `PUT /containers/{id}/archive?path=DIR`: the body, a tar (plain or compressed), unpacked
/// into DIR, which must be a directory (a link to one is followed). `noOverwriteDirNonDir`
/// refuses a file over a directory and the reverse; `copyUIDGID` makes what is written the
/// container's user's, else the archive's owners are kept, as Docker does.
pub async fn put_archive(ctx: &Ctx, id: &str, r: &Req, body: hyper::body::Incoming) -> Reply {
    let path = container_path(r)?;
    let (id, name, stat) = find(ctx, id, &path, true).await?;
    if stat.mode & 0o170000 != 0o040000 {
        return Err(ApiError::bad(format!(
            "extraction point \"{path}\" on container {name} is not a directory: give a directory to copy into"
        )));
    }
    let spooled = crate::service::images::spool_body(ctx, body).await?;
    let overwrite = !r.flag("noOverwriteDirNonDir");
    let chown = r.flag("copyUIDGID");
    let engine = ctx.engine.clone();
    let unpacked = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(spooled.path()).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("reading the spooled archive: {e}"))
        })?;
        let mut tar = archive::open_stdin_archive(file).map_err(|e| match e {
            CopyError::NotAnArchive => ApiError::bad("the request body must be a tar archive (plain, gzip or zstd)"),
            CopyError::UnsupportedCompression(c) => ApiError::bad(format!(
                "the request body is compressed with {c}, which berth cannot read: send a plain, gzip or zstd tar"
            )),
            other => ApiError::bad(other.to_string()),
        })?;
        engine.copy_in(&id, Request::Archive { path: &path, overwrite, chown }, &mut tar).map_err(|e| match e {
            // what the helper refused: the archive, or what is in the way of it
            berth_engine::Error::Copy(message) => ApiError::bad(message),
            other => ApiError::from(other),
        })
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    unpacked?;
    empty(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_go_file_modes() {
        assert_eq!(go_file_mode(0o040755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(0o100644), 0o644);
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o041777), (1 << 31) | (1 << 20) | 0o777);
        assert_eq!(go_file_mode(0o104755), (1 << 23) | 0o755);
        assert_eq!(go_file_mode(0o020666), (1 << 26) | (1 << 21) | 0o666);
    }

    #[test]
    fn the_stat_header_is_base64_json_with_go_names() {
        let stat = PathStat {
            name: "hosts".into(),
            size: 12,
            mode: 0o100644,
            mtime: 1_700_000_000,
            mtime_nsec: 500_000_000,
            link_target: None,
        };
        let decoded = base64::engine::general_purpose::STANDARD.decode(stat_header(&stat)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(
            v,
            json!({"name": "hosts", "size": 12, "mode": 0o644, "mtime": "2023-11-14T22:13:20.500Z", "linkTarget": ""})
        );
    }
}
