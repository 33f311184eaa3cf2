//! The image store: names (tags), repo digests, configs, layers and sizes, in the state database.
//!
//! An image's id is the hex digest of its config, as in Podman. A name (`registry/repo:tag`)
//! points at exactly one image; tagging or pulling a name that exists moves it, leaving the old
//! image dangling (`<none>`) as Podman does.

use std::collections::HashMap;

use oci_spec::image::ImageConfiguration;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::reference::Reference;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerRecord {
    pub chain_id: String,
    pub diff_id: String,
    pub parent: Option<String>,
    pub blob_digest: String,
    pub blob_size: u64,
    pub media_type: String,
    /// Uncompressed tar size.
    pub size: u64,
}

#[derive(Clone, Debug)]
pub struct ImageRecord {
    pub id: String,
    pub names: Vec<String>,
    /// Every name it has had: its names (oldest first) before earlier ones, newest first.
    pub names_history: Vec<String>,
    pub repo_digests: Vec<String>,
    pub manifest_digest: String,
    pub manifest_media_type: String,
    pub manifest: Vec<u8>,
    pub config_json: String,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub size: u64,
    pub layers: Vec<LayerRecord>,
    /// Containers created from this image.
    pub containers: Vec<String>,
}

impl ImageRecord {
    pub fn config(&self) -> Option<ImageConfiguration> {
        serde_json::from_str(&self.config_json).ok()
    }
    pub fn digest(&self) -> String {
        format!("sha256:{}", self.id)
    }
    pub fn is_dangling(&self) -> bool {
        self.names.is_empty()
    }
}

/// What a new image row needs; layers must already be recorded.
pub struct NewImage<'a> {
    pub id: &'a str,
    pub config_json: &'a str,
    pub manifest_digest: &'a str,
    pub manifest_media_type: &'a str,
    pub manifest: &'a [u8],
    pub created: Option<&'a str>,
    pub os: &'a str,
    pub architecture: &'a str,
    pub variant: Option<&'a str>,
    pub chain_ids: &'a [String],
    pub name: Option<&'a str>,
    pub repo_digests: &'a [String],
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

pub fn layer(conn: &Connection, chain_id: &str) -> rusqlite::Result<Option<LayerRecord>> {
    conn.query_row(
        "SELECT chain_id, diff_id, parent, blob_digest, blob_size, media_type, size FROM layers WHERE chain_id = ?",
        [chain_id],
        layer_row,
    )
    .optional()
}

fn layer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LayerRecord> {
    Ok(LayerRecord {
        chain_id: r.get(0)?,
        diff_id: r.get(1)?,
        parent: r.get(2)?,
        blob_digest: r.get(3)?,
        blob_size: r.get::<_, i64>(4)? as u64,
        media_type: r.get(5)?,
        size: r.get::<_, i64>(6)? as u64,
    })
}

pub fn insert_layer(tx: &Transaction<'_>, l: &LayerRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO layers (chain_id, diff_id, parent, blob_digest, blob_size, media_type, size)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![l.chain_id, l.diff_id, l.parent, l.blob_digest, l.blob_size as i64, l.media_type, l.size as i64],
    )?;
    Ok(())
}

/// Records an image whose layers are all present. Returns false when a layer row has gone
/// missing meanwhile (removed by a concurrent `rmi`), in which case nothing is written.
pub fn insert_image(tx: &Transaction<'_>, img: &NewImage<'_>) -> rusqlite::Result<bool> {
    let mut size = 0i64;
    for chain in img.chain_ids {
        match tx.query_row("SELECT size FROM layers WHERE chain_id = ?", [chain], |r| r.get::<_, i64>(0)).optional()? {
            Some(s) => size += s,
            None => return Ok(false),
        }
    }
    tx.execute(
        "INSERT INTO images (id, config, manifest_digest, manifest_media_type, manifest, created, os, architecture, variant, size, pulled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
            manifest_media_type = excluded.manifest_media_type, manifest = excluded.manifest,
            pulled_at = excluded.pulled_at",
        params![img.id, img.config_json, img.manifest_digest, img.manifest_media_type, img.manifest, img.created,
                img.os, img.architecture, img.variant, size, now()],
    )?;
    tx.execute("DELETE FROM image_layers WHERE image_id = ?", [img.id])?;
    for (i, chain) in img.chain_ids.iter().enumerate() {
        tx.execute(
            "INSERT INTO image_layers (image_id, idx, chain_id) VALUES (?, ?, ?)",
            params![img.id, i as i64, chain],
        )?;
    }
    if let Some(name) = img.name {
        set_name(tx, name, img.id)?;
    }
    for d in img.repo_digests {
        tx.execute("INSERT OR IGNORE INTO image_digests (image_id, name) VALUES (?, ?)", params![img.id, d])?;
    }
    Ok(true)
}

/// Points `name` at `image_id`, taking it from whichever image had it.
pub fn set_name(tx: &Transaction<'_>, name: &str, image_id: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO image_names (name, image_id, added_at) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, added_at = excluded.added_at",
        params![name, image_id, now()],
    )?;
    // containers/storage's rule: the names as they are now, then what the history had
    let mut stmt = tx.prepare("SELECT name FROM image_names WHERE image_id = ? ORDER BY added_at, name")?;
    let mut history: Vec<String> = stmt.query_map([image_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let old: String = tx
        .query_row("SELECT names_history FROM images WHERE id = ?", [image_id], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    for n in serde_json::from_str::<Vec<String>>(&old).unwrap_or_default() {
        if !history.contains(&n) {
            history.push(n);
        }
    }
    tx.execute(
        "UPDATE images SET names_history = ? WHERE id = ?",
        params![serde_json::to_string(&history).expect("json"), image_id],
    )?;
    Ok(())
}

pub fn remove_name(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute("DELETE FROM image_names WHERE name = ?", [name])? > 0)
}

/// What removing an image released: layers no other image uses, and blobs to delete.
#[derive(Debug, Default)]
pub struct Released {
    pub chain_ids: Vec<String>,
    pub blobs: Vec<String>,
}

impl Released {
    /// Removes the released layers and blobs (after the record's transaction committed);
    /// every failure, in words.
    pub fn remove_files(
        &self,
        layers: &crate::layers::LayerStore,
        content: &crate::content::ContentStore,
    ) -> Vec<String> {
        let layer_errors = self.chain_ids.iter().filter_map(|c| layers.remove(c).err().map(|e| e.to_string()));
        let blob_errors = self.blobs.iter().filter_map(|b| content.delete(b).err().map(|e| e.to_string()));
        layer_errors.chain(blob_errors).collect()
    }
}

/// Deletes an image and the layers only it used.
pub fn delete_image(tx: &Transaction<'_>, image_id: &str) -> rusqlite::Result<Released> {
    let mut released = Released::default();
    let (manifest_digest,): (String,) =
        tx.query_row("SELECT manifest_digest FROM images WHERE id = ?", [image_id], |r| Ok((r.get(0)?,)))?;
    let chains: Vec<String> = tx
        .prepare("SELECT chain_id FROM image_layers WHERE image_id = ?")?
        .query_map([image_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    tx.execute("DELETE FROM images WHERE id = ?", [image_id])?;
    released.blobs.push(format!("sha256:{image_id}"));
    released.blobs.push(manifest_digest);
    for chain in chains {
        let still_used: bool =
            tx.query_row("SELECT EXISTS(SELECT 1 FROM image_layers WHERE chain_id = ?)", [&chain], |r| r.get(0))?;
        if still_used {
            continue;
        }
        let blob: Option<String> =
            tx.query_row("SELECT blob_digest FROM layers WHERE chain_id = ?", [&chain], |r| r.get(0)).optional()?;
        tx.execute("DELETE FROM layers WHERE chain_id = ?", [&chain])?;
        // A blob may back a layer at another position of another image's stack.
        if let Some(blob) = blob {
            let shared: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM layers WHERE blob_digest = ?)", [&blob], |r| r.get(0))?;
            if !shared {
                released.blobs.push(blob);
            }
        }
        released.chain_ids.push(chain);
    }
    Ok(released)
}

/// Every image with its names, digests, layers and users.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<ImageRecord>> {
    load(conn, None)
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<ImageRecord>> {
    Ok(load(conn, Some(id))?.into_iter().next())
}

fn load(conn: &Connection, only: Option<&str>) -> rusqlite::Result<Vec<ImageRecord>> {
    // `?1` is the one id to load, or NULL for all of them.
    let filter = |col: &str| format!("WHERE ?1 IS NULL OR {col} = ?1");
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT image_id, name FROM image_names {} ORDER BY added_at DESC, name",
        filter("image_id")
    ))?;
    for row in stmt.query_map([only], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (id, name) = row?;
        names.entry(id).or_default().push(name);
    }
    let mut digests: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt =
        conn.prepare(&format!("SELECT image_id, name FROM image_digests {} ORDER BY name", filter("image_id")))?;
    for row in stmt.query_map([only], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (id, name) = row?;
        digests.entry(id).or_default().push(name);
    }
    let mut layers: HashMap<String, Vec<LayerRecord>> = HashMap::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT il.image_id, l.chain_id, l.diff_id, l.parent, l.blob_digest, l.blob_size, l.media_type, l.size
         FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id {} ORDER BY il.image_id, il.idx",
        filter("il.image_id")
    ))?;
    let mut rows = stmt.query([only])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let l = LayerRecord {
            chain_id: r.get(1)?,
            diff_id: r.get(2)?,
            parent: r.get(3)?,
            blob_digest: r.get(4)?,
            blob_size: r.get::<_, i64>(5)? as u64,
            media_type: r.get(6)?,
            size: r.get::<_, i64>(7)? as u64,
        };
        layers.entry(id).or_default().push(l);
    }
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare(&format!("SELECT image_id, id FROM containers {}", filter("image_id")))?;
    for row in stmt.query_map([only], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (img, c) = row?;
        users.entry(img).or_default().push(c);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT id, config, manifest_digest, manifest_media_type, manifest, created, os, architecture, variant, size,
                names_history
         FROM images {} ORDER BY created DESC, id",
        filter("id")
    ))?;
    let out = stmt
        .query_map([only], |r| {
            let id: String = r.get(0)?;
            let created: Option<String> = r.get(5)?;
            let names = names.remove(&id).unwrap_or_default();
            let history: String = r.get(10)?;
            let mut names_history: Vec<String> = serde_json::from_str(&history).unwrap_or_default();
            if names_history.is_empty() {
                names_history = names.iter().rev().cloned().collect();
            }
            Ok(ImageRecord {
                names,
                names_history,
                repo_digests: digests.remove(&id).unwrap_or_default(),
                layers: layers.remove(&id).unwrap_or_default(),
                containers: users.remove(&id).unwrap_or_default(),
                config_json: r.get(1)?,
                manifest_digest: r.get(2)?,
                manifest_media_type: r.get(3)?,
                manifest: r.get(4)?,
                created: created.and_then(|c| chrono::DateTime::parse_from_rfc3339(&c).ok()).map(|d| d.to_utc()),
                os: r.get(6)?,
                architecture: r.get(7)?,
                variant: r.get(8)?,
                size: r.get::<_, i64>(9)? as u64,
                id,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(out)
}

/// How a user's word for an image matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// By one of its names (`registry/repo:tag`); the name is given.
    Name(String),
    /// By id, id prefix or repo digest.
    Id,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{0}: image not known")]
    NotFound(String),
    #[error("{query}: image name is ambiguous, it matches {candidates}: use the full name or the id")]
    Ambiguous { query: String, candidates: String },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Finds an image by name (short names match any registry, as in Podman), id, id prefix or digest.
pub fn find(conn: &Connection, query: &str) -> Result<(String, Lookup), LookupError> {
    let q = query.strip_prefix("sha256:").unwrap_or(query);
    let is_hex = !q.is_empty() && q.len() <= 64 && q.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex && q.len() == 64 {
        if let Some(id) = conn.query_row("SELECT id FROM images WHERE id = ?", [q], |r| r.get(0)).optional()? {
            return Ok((id, Lookup::Id));
        }
    }
    // A full name as stored needs no parsing (the reference grammar is a large regex to build).
    let as_stored = stored_form(query);
    if has_registry(query) {
        if let Some(id) =
            conn.query_row("SELECT image_id FROM image_names WHERE name = ?", [&as_stored], |r| r.get(0)).optional()?
        {
            return Ok((id, Lookup::Name(as_stored)));
        }
    }
    // A short name in the plain form images are named by (`busybox`, `library/busybox:1.36`) is
    // found without the parse as well: as Docker Hub's name (what the parse would normalise it
    // to), then on any registry. It has no digest, so the parse could find nothing more.
    if !has_registry(query) && is_plain_short_name(query) {
        let hub = match query.contains('/') {
            true => format!("docker.io/{as_stored}"),
            false => format!("docker.io/library/{as_stored}"),
        };
        if let Some(id) =
            conn.query_row("SELECT image_id FROM image_names WHERE name = ?", [&hub], |r| r.get(0)).optional()?
        {
            return Ok((id, Lookup::Name(hub)));
        }
        if let Some(found) = short_name_match(conn, query)? {
            return Ok(found);
        }
    } else if let Ok(r) = Reference::parse(query) {
        if let Some(name) = r.tagged_name() {
            if let Some(id) =
                conn.query_row("SELECT image_id FROM image_names WHERE name = ?", [&name], |r| r.get(0)).optional()?
            {
                return Ok((id, Lookup::Name(name)));
            }
        }
        if let Some(d) = r.digest() {
            let full = r.with_digest_name(d);
            if let Some(id) =
                conn.query_row("SELECT image_id FROM image_digests WHERE name = ?", [&full], |r| r.get(0)).optional()?
            {
                return Ok((id, Lookup::Id));
            }
        }
        // A short name (no registry given) matches the same repository path on any registry.
        if !has_registry(query) && r.digest().is_none() {
            if let Some(found) = short_name_match(conn, query)? {
                return Ok(found);
            }
        }
    }
    if is_hex {
        let ids: Vec<String> = conn
            .prepare("SELECT id FROM images WHERE id LIKE ? || '%'")?
            .query_map([q.to_ascii_lowercase()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [id] => return Ok((id.clone(), Lookup::Id)),
            [] => {}
            many => {
                return Err(LookupError::Ambiguous {
                    query: query.into(),
                    candidates: many.iter().map(|i| &i[..12]).collect::<Vec<_>>().join(", "),
                })
            }
        }
    }
    Err(LookupError::NotFound(query.into()))
}

/// The one image whose name is `query` (a short name) on some registry; an error when several are.
fn short_name_match(conn: &Connection, query: &str) -> Result<Option<(String, Lookup)>, LookupError> {
    let suffix = short_suffix(query);
    let mut stmt = conn.prepare("SELECT name, image_id FROM image_names WHERE name LIKE ? ESCAPE '\\'")?;
    let pattern = format!("%/{}", suffix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let hits: Vec<(String, String)> =
        stmt.query_map([pattern], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    match hits.as_slice() {
        [(name, id)] => Ok(Some((id.clone(), Lookup::Name(name.clone())))),
        [] => Ok(None),
        many => Err(LookupError::Ambiguous {
            query: query.into(),
            candidates: many.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Whether `query` is a repository path of lower-case letters, digits and separators with an
/// optional tag, and nothing else: the form every stored short name has, so that a lookup of
/// it can only find what the parsed query would.
fn is_plain_short_name(query: &str) -> bool {
    let (path, tag) = match query.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, Some(t)),
        _ => (query, None),
    };
    let path_ok = !path.is_empty()
        && path.split('/').all(|c| {
            c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
        });
    let tag_ok = tag.is_none_or(|t| {
        (1..=128).contains(&t.len()) && t.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch))
    });
    path_ok && tag_ok && !query.contains('@')
}

/// `query` as it would be stored when it is a full name: with `:latest` when it has no tag or
/// digest. Comparing this with an image's names needs no parsing of the reference grammar (a
/// large regex to build: tens of milliseconds).
fn stored_form(query: &str) -> String {
    if query.rsplit('/').next().is_some_and(|last| last.contains(':')) || query.contains('@') {
        query.to_string()
    } else {
        format!("{query}:latest")
    }
}

fn has_registry(query: &str) -> bool {
    match query.split_once('/') {
        Some((first, _)) => first.contains('.') || first.contains(':') || first == "localhost",
        None => false,
    }
}

/// `busybox` → `busybox:latest`, `library/busybox:1` stays.
fn short_suffix(query: &str) -> String {
    let last = query.rsplit('/').next().unwrap_or(query);
    if last.contains(':') {
        query.to_string()
    } else {
        format!("{query}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::{find, is_plain_short_name, stored_form, Lookup, LookupError};
    use crate::Reference;

    /// The tables `find` reads (the engine's schema has more columns).
    fn names(names: &[(&str, &str)]) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE images (id TEXT PRIMARY KEY);
             CREATE TABLE image_names (name TEXT PRIMARY KEY, image_id TEXT NOT NULL);
             CREATE TABLE image_digests (image_id TEXT NOT NULL, name TEXT NOT NULL);",
        )
        .unwrap();
        for (name, id) in names {
            conn.execute("INSERT OR IGNORE INTO images (id) VALUES (?)", [id]).unwrap();
            conn.execute("INSERT INTO image_names (name, image_id) VALUES (?, ?)", [name, id]).unwrap();
        }
        conn
    }

    #[test]
    fn short_names_find_docker_hubs_name_first_then_any_registrys() {
        let conn = names(&[
            ("docker.io/library/busybox:latest", "a1"),
            ("127.0.0.1:5000/busybox:latest", "b2"),
            ("127.0.0.1:5000/tools/app:1", "c3"),
            ("reg.example/x/app:1", "d4"),
            ("127.0.0.1:5000/only/here:2", "e5"),
        ]);
        let name = |q: &str| match find(&conn, q) {
            Ok((id, Lookup::Name(n))) => format!("{id} {n}"),
            Ok((id, Lookup::Id)) => format!("{id} by id"),
            Err(e) => e.to_string(),
        };
        assert_eq!(name("busybox"), "a1 docker.io/library/busybox:latest");
        assert_eq!(name("library/busybox:latest"), "a1 docker.io/library/busybox:latest");
        assert_eq!(name("tools/app:1"), "c3 127.0.0.1:5000/tools/app:1");
        assert_eq!(name("here:2"), "e5 127.0.0.1:5000/only/here:2");
        assert!(matches!(find(&conn, "app:1"), Err(LookupError::Ambiguous { .. })));
        assert_eq!(name("127.0.0.1:5000/busybox"), "b2 127.0.0.1:5000/busybox:latest");
        assert_eq!(name("nothing"), "nothing: image not known");
        // Not a plain short name: the parse decides (and refuses upper case).
        assert_eq!(name("BusyBox"), "BusyBox: image not known");
    }

    #[test]
    fn plain_short_names_are_what_stored_short_names_look_like() {
        for plain in ["busybox", "library/busybox:1.36", "a-b.c_d/e:Tag_1.x-y", "0abc"] {
            assert!(is_plain_short_name(plain), "{plain}");
        }
        for not in ["", "Busybox", "a//b", "/a", "a/", "-a", "a@sha256:00", "a:", "a:b/c", "a:b:c", "é"] {
            assert!(!is_plain_short_name(not), "{not}");
        }
    }

    #[test]
    fn a_full_name_in_stored_form_is_what_parsing_it_gives() {
        for (query, stored) in [
            ("127.0.0.1:5000/bench/busybox", "127.0.0.1:5000/bench/busybox:latest"),
            ("127.0.0.1:5000/bench/busybox:1.36", "127.0.0.1:5000/bench/busybox:1.36"),
            ("localhost/app:v2", "localhost/app:v2"),
            ("quay.example/a/b", "quay.example/a/b:latest"),
        ] {
            assert_eq!(stored_form(query), stored, "{query}");
            assert_eq!(Reference::parse(query).unwrap().tagged_name().as_deref(), Some(stored), "{query}");
        }
        // A short name's stored form is no image's name: the caller parses it then.
        assert_eq!(stored_form("busybox"), "busybox:latest");
        let digest = "reg.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(stored_form(digest), digest);
    }
}
