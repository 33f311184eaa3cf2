//! The state database: SQLite (bundled) in WAL mode, shared by every process that opens the
//! same root (the CLI, the app, the API service). Every change runs in one `IMMEDIATE`
//! transaction, so concurrent writers queue on SQLite's lock instead of interleaving.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE images (
    id TEXT PRIMARY KEY,            -- config digest hex (podman's image id)
    config TEXT NOT NULL,           -- image config JSON
    manifest_digest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    manifest BLOB NOT NULL,
    created TEXT,                   -- from the config, RFC 3339
    os TEXT NOT NULL,
    architecture TEXT NOT NULL,
    variant TEXT,
    size INTEGER NOT NULL,          -- unpacked bytes of all layers
    pulled_at TEXT NOT NULL
);
CREATE TABLE image_names (          -- tags: registry/repo:tag -> image
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    added_at TEXT NOT NULL
);
CREATE INDEX image_names_image ON image_names(image_id);
CREATE TABLE image_digests (        -- repo digests: registry/repo@sha256:…
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
);
CREATE TABLE layers (
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT,
    blob_digest TEXT NOT NULL,
    blob_size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    chain_id TEXT NOT NULL REFERENCES layers(chain_id),
    PRIMARY KEY (image_id, idx)
);
CREATE INDEX image_layers_chain ON image_layers(chain_id);
CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"#,
    r#"
ALTER TABLE containers ADD COLUMN image_name TEXT NOT NULL DEFAULT '';
ALTER TABLE containers ADD COLUMN config TEXT NOT NULL DEFAULT '{}';   -- CreateOptions as JSON
ALTER TABLE containers ADD COLUMN state TEXT NOT NULL DEFAULT 'created';
ALTER TABLE containers ADD COLUMN pid INTEGER;                          -- container init, host pid ns
ALTER TABLE containers ADD COLUMN pid_start INTEGER;                    -- its start time (/proc/PID/stat field 22)
ALTER TABLE containers ADD COLUMN monitor_pid INTEGER;
ALTER TABLE containers ADD COLUMN started_at TEXT;
ALTER TABLE containers ADD COLUMN finished_at TEXT;
ALTER TABLE containers ADD COLUMN exit_code INTEGER;
ALTER TABLE containers ADD COLUMN error TEXT;                           -- why the last start failed
"#,
    r#"
ALTER TABLE containers ADD COLUMN command TEXT NOT NULL DEFAULT '[]';   -- the process args, for listings
"#,
    NETWORK_TABLES,
    r#"
ALTER TABLE containers ADD COLUMN stopped_by_user INTEGER NOT NULL DEFAULT 0;  -- the restart policy stays away
ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL,
    created TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    anonymous INTEGER NOT NULL DEFAULT 0,
    needs_copy_up INTEGER NOT NULL DEFAULT 1   -- filled from the first container's image, once
);
"#,
    // Listings come in this order: read from the index, never sorted (in a temporary file,
    // with thousands of containers).
    r#"
CREATE INDEX containers_by_created ON containers(created_at DESC, id);
"#,
    // The local driver's options; whether a container has used the volume yet.
    r#"
ALTER TABLE volumes ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
ALTER TABLE volumes ADD COLUMN needs_chown INTEGER NOT NULL DEFAULT 1;
"#,
    // Every name an image has had, as containers/storage keeps it (`images --format {{.History}}`).
    r#"
ALTER TABLE images ADD COLUMN names_history TEXT NOT NULL DEFAULT '[]';
"#,
    // `build`'s layer cache: the image each step made, by the key of the step and all before
    // it; the image it was made on makes that one an intermediate image (hidden by `images`).
    r#"
CREATE TABLE build_cache (
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    parent TEXT,
    created TEXT NOT NULL
);
CREATE INDEX build_cache_image ON build_cache(image_id);
CREATE INDEX build_cache_parent ON build_cache(parent);
"#,
    // Pods (`pod::PodRecord`); a container's pod is in its options.
    r#"
CREATE TABLE pods (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    options TEXT NOT NULL,         -- PodOptions as JSON
    infra_id TEXT                  -- its infra container, once made
);
"#,
    // `network create --internal`: no way out of the network but to its members and gateway.
    r#"
ALTER TABLE networks ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;
"#,
    // IPv6 (`network create --ipv6`): a network's IPv6 subnet, a member's IPv6 address.
    NETWORK_IPV6,
    // The address a network handed out last: the next goes to the one after it.
    NETWORK_LAST_ADDRESS,
];

/// Addresses handed out in turn (migration 13).
pub(crate) const NETWORK_LAST_ADDRESS: &str = "ALTER TABLE networks ADD COLUMN last_address TEXT;";

/// IPv6 on networks (migration 12).
pub(crate) const NETWORK_IPV6: &str = r#"
ALTER TABLE networks ADD COLUMN subnet6 TEXT;
ALTER TABLE network_addresses ADD COLUMN address6 TEXT;
CREATE UNIQUE INDEX network_addresses6 ON network_addresses(network, address6) WHERE address6 IS NOT NULL;
"#;

/// Networks and the addresses handed out on them (migration 4).
pub(crate) const NETWORK_TABLES: &str = r#"
CREATE TABLE networks (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL,
    bridge TEXT NOT NULL UNIQUE,
    subnet TEXT NOT NULL UNIQUE,
    gateway TEXT NOT NULL,
    dns INTEGER NOT NULL,
    created TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE network_addresses (       -- one row per address handed out; released on removal
    network TEXT NOT NULL,
    address TEXT NOT NULL,
    container_id TEXT NOT NULL,
    PRIMARY KEY (network, address)
);
CREATE INDEX network_addresses_container ON network_addresses(container_id);
"#;

pub struct State {
    conn: Connection,
}

impl State {
    /// Opens (creating and migrating when new) the database at `path`. Several processes may
    /// open a fresh root at once (four `berth pull`s, the app and the API service): switching a
    /// new file to WAL and the first migration take locks for which SQLite answers "busy"
    /// without calling the busy handler, so the whole opening is retried for up to 30 s.
    pub fn open(path: &Path) -> Result<State, StateError> {
        let open_err = |source| StateError::Open { path: path.display().to_string(), source };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut pause = Duration::from_millis(2);
        loop {
            match Self::open_once(path) {
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                other => return other.map_err(open_err),
            }
        }
    }

    fn open_once(path: &Path) -> Result<State, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        // WAL is a property of the file: set once, by whoever opens it first.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // read through a mapping of the file, not copied page by page into SQLite's cache: a
        // list of 10 000 containers reads the whole table
        conn.pragma_update(None, "mmap_size", 256i64 << 20)?;
        let mut state = State { conn };
        state.migrate().map_err(|e| match e {
            StateError::Sql(s) | StateError::Open { source: s, .. } => s,
        })?;
        Ok(state)
    }

    fn migrate(&mut self) -> Result<(), StateError> {
        // Up to date (every open but the first): no write transaction, which would wait behind
        // another process's writer (a monitor removing a `--rm` container) for nothing.
        // A newer Berth's database (a monitor of the old binary still running after an upgrade)
        // is used as it is: migrations only add, and its version must never go back, or the
        // next newer process would run its migrations again.
        let current = self.conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?;
        if current as usize >= MIGRATIONS.len() {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version = tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
        if version >= MIGRATIONS.len() {
            return Ok(());
        }
        for sql in &MIGRATIONS[version..] {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
        tx.commit()?;
        Ok(())
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in an IMMEDIATE transaction and commits when it returns Ok.
    pub fn write<T, E: From<rusqlite::Error>>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        State::open(&db).unwrap();
        let s = State::open(&db).unwrap();
        let v: i64 = s.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
        let mode: String = s.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn the_container_list_is_read_in_index_order_not_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let s = State::open(&dir.path().join("state.db")).unwrap();
        let plan: Vec<String> = s
            .conn()
            .prepare("EXPLAIN QUERY PLAN SELECT * FROM containers ORDER BY created_at DESC, id")
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|p| p.contains("containers_by_created")), "{plan:?}");
        assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
    }

    #[test]
    fn a_newer_berths_database_keeps_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let newer = MIGRATIONS.len() as i64 + 3;
        State::open(&db).unwrap().conn().pragma_update(None, "user_version", newer).unwrap();
        let s = State::open(&db).unwrap();
        let v: i64 = s.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, newer, "an older binary leaves a newer database's version alone");
    }

    #[test]
    fn processes_opening_a_fresh_database_at_once_all_get_it() {
        for _ in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("state.db");
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let db = db.clone();
                    std::thread::spawn(move || State::open(&db).map(|_| ()).map_err(|e| e.to_string()))
                })
                .collect();
            for t in threads {
                t.join().unwrap().unwrap();
            }
        }
    }
}
