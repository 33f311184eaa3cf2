//! `berth system check`: the store checked against itself, Podman's `system check`.
//!
//! Records against the disk and the disk against the records: blobs against their digests,
//! image records against their manifest, config and layer blobs and their layer directories,
//! container records against their directories, and whatever no record names (layer and
//! container directories, blobs, partial downloads, staging directories, network addresses).
//! Each finding says what is wrong and what repair does about it; `repair` removes what can't
//! be used and restores what the records still hold (a config or manifest blob).
//!
//! Leftovers that a command still running may be using (a pull's partial download, staging
//! directory, blobs and layers not yet named by an image; a create's directory before its row)
//! are reported only when older than `max_age`, as Podman does for unreferenced layers; a
//! partial download whose writer holds its lock is never touched.
//!
//! Low in the layering: it reads and writes the records itself (image, container, network
//! rows) and never calls the verbs, so it finds what a verb would stumble over.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

use crate::container::{self, ContainerPaths, ContainerRecord};
use crate::content::digest_hex;
use crate::image::{self, ImageRecord};
use crate::{network, Engine, Result};

/// What `check` does: look only, or repair too.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Remove what can't be used; restore what the records still hold.
    pub repair: bool,
    /// With `repair`: also remove the containers of images that can't be used, and containers
    /// whose image is gone (their writable layers go with them).
    pub force: bool,
    /// Skip the slow part: hashing every blob.
    pub quick: bool,
    /// Leftovers younger than this may belong to a command still running: not reported.
    pub max_age: Duration,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { repair: false, force: false, quick: false, max_age: Duration::from_secs(24 * 3600) }
    }
}

/// What became of a problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `repair` would fix it, by doing this ("remove it").
    Repairable(String),
    /// Only `repair` with `force` fixes it, by doing this.
    NeedsForce(String),
    /// Fixed: what was done.
    Repaired(String),
    /// Repair can't fix it: why, and what the user can do.
    Manual(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, naming the object (a digest, an image, a container, a path).
    pub what: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    pub problems: Vec<Problem>,
    /// What was not looked at, and why (a pull in progress).
    pub skipped: Vec<String>,
}

impl CheckReport {
    /// Problems that are still there.
    pub fn remaining(&self) -> usize {
        self.problems.iter().filter(|p| !matches!(p.outcome, Outcome::Repaired(_))).count()
    }
}

fn short(hex_or_digest: &str) -> &str {
    let hex = hex_or_digest.strip_prefix("sha256:").unwrap_or(hex_or_digest);
    &hex[..12.min(hex.len())]
}

fn older_than(path: &Path, max: Duration) -> bool {
    let modified = std::fs::symlink_metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
    SystemTime::now().duration_since(modified).unwrap_or_default() >= max
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

fn names(entries: std::io::Result<std::fs::ReadDir>) -> Vec<String> {
    let mut v: Vec<String> = entries
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn image_label(img: &ImageRecord) -> String {
    match img.names.first() {
        Some(n) => format!("image {n} ({})", short(&img.id)),
        None => format!("image {}", short(&img.id)),
    }
}

fn container_label(c: &ContainerRecord) -> String {
    format!("container {} ({})", c.name, c.short_id())
}

fn running(c: &ContainerRecord) -> bool {
    c.is_running() && container::process_alive(c.pid, c.pid_start)
}

/// Collects problems and applies (or describes) their repairs.
struct Checker<'a> {
    opts: &'a CheckOptions,
    report: CheckReport,
}

impl Checker<'_> {
    /// A problem that `repair` fixes by running `fix`, described as `action` ("remove it").
    fn repairable(&mut self, what: String, action: &str, fix: impl FnOnce() -> std::result::Result<(), String>) {
        let outcome = if !self.opts.repair {
            Outcome::Repairable(action.to_string())
        } else {
            match fix() {
                Ok(()) => Outcome::Repaired(action.to_string()),
                Err(e) => Outcome::Manual(format!("repair failed ({action}): {e}")),
            }
        };
        self.report.problems.push(Problem { what, outcome });
    }

    /// Like `repairable`, but only with `force`.
    fn forced(&mut self, what: String, action: &str, fix: impl FnOnce() -> std::result::Result<(), String>) {
        if self.opts.force {
            return self.repairable(what, action, fix);
        }
        self.report.problems.push(Problem { what, outcome: Outcome::NeedsForce(action.to_string()) });
    }

    fn manual(&mut self, what: String, why: String) {
        self.report.problems.push(Problem { what, outcome: Outcome::Manual(why) });
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Whether another process holds the lock file (a pull writing that blob).
fn lock_held(lock: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(lock) else { return false };
    matches!(
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock),
        Err((_, nix::errno::Errno::EWOULDBLOCK))
    )
}

impl Engine {
    /// Checks the store; with `opts.repair`, repairs what it can. Errors are only for a check
    /// that could not run (the database unreadable); what it finds is in the report.
    pub fn check(&self, opts: &CheckOptions) -> Result<CheckReport> {
        let mut c = Checker { opts, report: CheckReport::default() };
        let integrity: String = self.state().conn().query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            c.manual(
                format!("the state database {} is damaged: {integrity}", self.config().root.join("state.db").display()),
                "repair can't fix it: restore it from a backup, or move it away to start with an empty store".into(),
            );
            return Ok(c.report);
        }
        let writers = self.check_ingest(&mut c);
        self.check_build_scratch(&mut c);
        if writers > 0 {
            c.report.skipped.push(format!(
                "{writers} pull(s) in progress: their staging directories and new blobs and layers were not checked"
            ));
        }
        let corrupt = self.check_blobs(&mut c)?;
        let removed_images = self.check_images(&mut c, &corrupt)?;
        self.check_layers(&mut c, writers > 0)?;
        self.check_unreferenced_blobs(&mut c, writers > 0)?;
        self.check_containers(&mut c, &removed_images)?;
        Ok(c.report)
    }

    /// What an interrupted build left in `build/`: its scratch directory (`b-*`, maybe with a
    /// step's overlay still mounted) or an API build's unpacked context (`ctx-*`).
    fn check_build_scratch(&self, c: &mut Checker<'_>) {
        let dir = self.config().root.join("build");
        for name in names(std::fs::read_dir(&dir)) {
            if !(name.starts_with("b-") || name.starts_with("ctx-")) {
                continue;
            }
            let path = dir.join(&name);
            if !older_than(&path, c.opts.max_age) {
                continue;
            }
            c.repairable(
                format!("{}: left by an interrupted build", path.display()),
                "unmount what is mounted in it and remove it",
                move || {
                    let info = std::fs::read_to_string("/proc/self/mountinfo").map_err(err)?;
                    let prefix = format!("{}/", path.display());
                    let mut mounted: Vec<&str> =
                        info.lines().filter_map(|l| l.split(' ').nth(4)).filter(|m| m.starts_with(&prefix)).collect();
                    mounted.sort_by_key(|m| std::cmp::Reverse(m.len()));
                    for m in mounted {
                        crate::host_mount::unmount(std::path::Path::new(m)).map_err(err)?;
                    }
                    crate::rootless::remove_tree(&path).map_err(err)
                },
            );
        }
    }

    /// Partial downloads no pull is writing; returns how many a pull is writing now.
    fn check_ingest(&self, c: &mut Checker<'_>) -> usize {
        let dir = self.config().root.join("ingest");
        let mut writers = 0;
        for name in names(std::fs::read_dir(&dir)) {
            // The temporary files of a commit, push, load or API upload (`new-PID-N.tmp`) and
            // the staging directories of an import (`import-*`), left by one interrupted.
            let temporary = name.starts_with("new-") && name.ends_with(".tmp");
            if temporary || name.starts_with("import-") {
                let path = dir.join(&name);
                if older_than(&path, c.opts.max_age) {
                    c.repairable(
                        format!("{}: left by an interrupted commit, push, load or import", path.display()),
                        "remove it",
                        move || {
                            if path.is_dir() {
                                crate::rootless::remove_tree(&path).map_err(err)
                            } else {
                                std::fs::remove_file(&path).map_err(err)
                            }
                        },
                    );
                }
                continue;
            }
            let Some(hex) = name.strip_suffix(".data") else { continue };
            let data = dir.join(&name);
            let lock = dir.join(format!("{hex}.lock"));
            if lock_held(&lock) {
                writers += 1;
                continue;
            }
            if !older_than(&data, c.opts.max_age) {
                continue;
            }
            let len = std::fs::metadata(&data).map(|m| m.len()).unwrap_or(0);
            let content = self.content().clone();
            let digest = format!("sha256:{hex}");
            c.repairable(
                format!(
                    "{}: a partial download of blob sha256:{} ({len} bytes) that no pull is writing",
                    data.display(),
                    short(hex)
                ),
                "remove it (a pull of its image downloads it anew)",
                move || {
                    // Under the blob's lock, so no pull starts resuming it meanwhile.
                    let _w = content.ingest_locked(&digest).map_err(err);
                    std::fs::remove_file(&data).map_err(err)
                },
            );
        }
        writers
    }

    /// Every blob against its digest (unless quick); returns the digests found corrupt.
    fn check_blobs(&self, c: &mut Checker<'_>) -> Result<HashSet<String>> {
        let mut corrupt = HashSet::new();
        let dir = self.config().root.join("blobs/sha256");
        for name in names(std::fs::read_dir(&dir)) {
            let path = dir.join(&name);
            let digest = format!("sha256:{name}");
            if digest_hex(&digest).is_err() {
                c.repairable(
                    format!("{}: not a blob (its name is not a sha256 digest)", path.display()),
                    "remove it",
                    || std::fs::remove_file(&path).map_err(err),
                );
                continue;
            }
            if c.opts.quick {
                continue;
            }
            let actual = match hash_file(&path) {
                Ok(a) => a,
                Err(e) => {
                    c.manual(format!("blob {digest}: can't be read: {e}"), "check the file's permissions".into());
                    continue;
                }
            };
            if actual != digest {
                corrupt.insert(digest.clone());
                let content = self.content().clone();
                let d = digest.clone();
                c.repairable(
                    format!("blob {digest} is corrupt: its content hashes to {actual}"),
                    "remove it",
                    move || content.delete(&d).map_err(err),
                );
            }
        }
        Ok(corrupt)
    }

    /// Images against their blobs and layers; returns the ids of the images removed.
    fn check_images(&self, c: &mut Checker<'_>, corrupt: &HashSet<String>) -> Result<HashSet<String>> {
        let images = image::list(self.state().conn())?;
        let containers: HashMap<String, ContainerRecord> =
            container::list(self.state().conn())?.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut removed = HashSet::new();
        // A corrupt blob counts as missing (with repair, it is gone by now).
        let present = |d: &str| self.content().has(d) && !corrupt.contains(d);
        for img in &images {
            let label = image_label(img);
            let mut missing = Vec::new();
            for l in &img.layers {
                if !self.layers().exists(&l.chain_id) {
                    missing.push(format!("the directory of layer {} is missing", short(&l.chain_id)));
                } else if corrupt.contains(&l.blob_digest) {
                    missing.push(format!("the blob of layer {} ({}) is corrupt", short(&l.chain_id), l.blob_digest));
                } else if !present(&l.blob_digest) {
                    missing.push(format!("the blob of layer {} ({}) is missing", short(&l.chain_id), l.blob_digest));
                }
            }
            if !missing.is_empty() {
                let users: Vec<&ContainerRecord> = img.containers.iter().filter_map(|id| containers.get(id)).collect();
                let what = format!("{label}: {}", missing.join("; "));
                let busy: Vec<String> = users.iter().filter(|u| running(u)).map(|u| container_label(u)).collect();
                if !busy.is_empty() {
                    c.manual(what, format!("it is used by running {}: stop them, then repair", busy.join(", ")));
                    continue;
                }
                let engine = self.clone();
                let id = img.id.clone();
                let user_ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
                let remove = move || {
                    for u in &user_ids {
                        engine.remove_container_files(u)?;
                    }
                    engine.remove_image_record(&id)
                };
                let action = "remove the image (pull it again to have it back)";
                if users.is_empty() {
                    c.repairable(what, action, remove);
                } else {
                    let names: Vec<String> = users.iter().map(|u| container_label(u)).collect();
                    c.forced(
                        format!("{what}; it is used by {}", names.join(", ")),
                        &format!("{action}, and its containers"),
                        remove,
                    );
                }
                if c.opts.repair && (users.is_empty() || c.opts.force) {
                    removed.insert(img.id.clone());
                }
                continue;
            }
            // The record holds the config and the manifest: a missing blob is restored from it.
            let config_digest = img.digest();
            for (what, digest, bytes) in [
                ("config", config_digest.as_str(), img.config_json.as_bytes()),
                ("manifest", img.manifest_digest.as_str(), img.manifest.as_slice()),
            ] {
                if present(digest) {
                    continue;
                }
                let state = if corrupt.contains(digest) { "corrupt" } else { "missing" };
                let problem = format!("{label}: its {what} blob {digest} is {state}");
                let actual = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
                if actual != digest {
                    c.manual(problem, format!("the image record's copy does not match either: remove the image (berth rmi {}) and pull it again", short(&img.id)));
                    continue;
                }
                let content = self.content().clone();
                let (digest, bytes) = (digest.to_string(), bytes.to_vec());
                c.repairable(problem, "restore it from the image record", move || {
                    content.put(&digest, &bytes).map_err(err)
                });
            }
        }
        Ok(removed)
    }

    /// Layer records against their directories, and layers no image uses.
    fn check_layers(&self, c: &mut Checker<'_>, pulling: bool) -> Result<()> {
        let rows: Vec<(String, String, bool)> = self
            .state()
            .conn()
            .prepare(
                "SELECT chain_id, blob_digest, EXISTS(SELECT 1 FROM image_layers i WHERE i.chain_id = l.chain_id)
                 FROM layers l ORDER BY chain_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut recorded = HashSet::new();
        for (chain, _blob, used) in &rows {
            recorded.insert(digest_hex(chain).unwrap_or(chain).to_string());
            if *used {
                continue; // checked with its images
            }
            let dir = self.layers().dir(chain);
            if pulling || !older_than(&dir, c.opts.max_age) {
                continue;
            }
            let engine = self.clone();
            let chain = chain.clone();
            c.repairable(format!("layer {} is not used by any image", short(&chain)), "remove it", move || {
                engine.remove_layer_record(&chain)
            });
        }
        let root = self.layers().root().to_path_buf();
        for name in names(std::fs::read_dir(&root)) {
            let path = root.join(&name);
            if name == "l" || recorded.contains(&name) {
                continue;
            }
            if pulling || !older_than(&path, c.opts.max_age) {
                continue;
            }
            let what = if name.starts_with(".tmp-") {
                format!("{}: a staging directory of an interrupted pull", path.display())
            } else {
                format!("{}: a layer directory without a record", path.display())
            };
            c.repairable(what, "remove it", move || crate::rootless::remove_tree(&path).map_err(err));
        }
        Ok(())
    }

    /// Blobs that no image or layer names.
    fn check_unreferenced_blobs(&self, c: &mut Checker<'_>, pulling: bool) -> Result<()> {
        if pulling {
            return Ok(());
        }
        let state = self.state();
        let conn = state.conn();
        let mut named: HashSet<String> = HashSet::new();
        for sql in [
            "SELECT 'sha256:' || id FROM images",
            "SELECT manifest_digest FROM images",
            "SELECT blob_digest FROM layers",
        ] {
            let rows: Vec<String> = conn.prepare(sql)?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            named.extend(rows);
        }
        drop(state);
        for digest in self.content().list().unwrap_or_default() {
            if named.contains(&digest) || digest_hex(&digest).is_err() {
                continue;
            }
            let Ok(path) = self.content().path(&digest) else { continue };
            if !path.exists() || !older_than(&path, c.opts.max_age) {
                continue;
            }
            let content = self.content().clone();
            c.repairable(format!("blob {digest} is not used by any image"), "remove it", move || {
                content.delete(&digest).map_err(err)
            });
        }
        Ok(())
    }

    /// Container records against their directories and images; directories and addresses
    /// without a container.
    fn check_containers(&self, c: &mut Checker<'_>, removed_images: &HashSet<String>) -> Result<()> {
        let state = self.state();
        let conn = state.conn();
        let records = container::list(conn)?;
        let images: HashSet<String> =
            conn.prepare("SELECT id FROM images")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let addresses: Vec<(String, String, String)> = conn
            .prepare("SELECT network, address, container_id FROM network_addresses ORDER BY network, address")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(state);
        let recorded: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        for r in &records {
            if removed_images.contains(&r.image_id) {
                continue; // went with its image
            }
            let label = container_label(r);
            let paths = ContainerPaths::new(&self.config().root, &r.id);
            let lost: Vec<PathBuf> = [paths.dir.clone(), paths.spec(), paths.upper()]
                .into_iter()
                .filter(|p| std::fs::symlink_metadata(p).is_err())
                .collect();
            if let Some(first) = lost.first() {
                let what = format!("{label}: {} is missing; it can't start", first.display());
                if running(r) {
                    c.manual(what, "it is running: stop it, then repair".into());
                    continue;
                }
                let engine = self.clone();
                let id = r.id.clone();
                c.repairable(what, "remove the container", move || engine.remove_container_files(&id));
                continue;
            }
            if !images.contains(&r.image_id) && r.options.rootfs.is_none() {
                let what = format!("{label}: its image {} is gone; it can't start", short(&r.image_id));
                if running(r) {
                    c.manual(what, "it is running: stop it, then repair".into());
                    continue;
                }
                let engine = self.clone();
                let id = r.id.clone();
                c.forced(what, "remove the container, its writable layer with it", move || {
                    engine.remove_container_files(&id)
                });
                continue;
            }
            for dir in [paths.work(), paths.rootfs()] {
                if dir.is_dir() {
                    continue;
                }
                let d = dir.clone();
                c.repairable(
                    format!("{label}: {} is missing", dir.display()),
                    "make it again (it starts empty)",
                    move || std::fs::create_dir_all(&d).map_err(err),
                );
            }
        }
        let root = self.config().root.join("containers");
        for name in names(std::fs::read_dir(&root)) {
            let path = root.join(&name);
            if recorded.contains(name.as_str()) || !older_than(&path, c.opts.max_age) {
                continue;
            }
            c.repairable(
                format!("{}: a container directory without a record", path.display()),
                "remove it",
                move || crate::rootless::remove_tree(&path).map_err(err),
            );
        }
        for (net, address, id) in addresses {
            if recorded.contains(id.as_str()) {
                continue;
            }
            let engine = self.clone();
            c.repairable(
                format!("network {net}: address {address} is held by container {} that does not exist", short(&id)),
                "release it",
                move || engine.state().write(|tx| network::release(tx, &id)).map_err(err),
            );
        }
        Ok(())
    }

    /// A container that can't be used: its record (and address), then its files.
    fn remove_container_files(&self, id: &str) -> std::result::Result<(), String> {
        self.state()
            .write(|tx| -> rusqlite::Result<()> {
                container::delete(tx, id)?;
                network::release(tx, id)
            })
            .map_err(err)?;
        let dir = ContainerPaths::new(&self.config().root, id).dir;
        match crate::rootless::remove_tree(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("{}: {e}", dir.display())),
            _ => Ok(()),
        }
    }

    /// An image's record, then the layers and blobs only it had.
    fn remove_image_record(&self, id: &str) -> std::result::Result<(), String> {
        let released = self.state().write(|tx| image::delete_image(tx, id)).map_err(err)?;
        let errors = released.remove_files(self.layers(), self.content());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// A layer no image uses: its record, directory and (unless shared) blob.
    fn remove_layer_record(&self, chain: &str) -> std::result::Result<(), String> {
        let blob = self
            .state()
            .write(|tx| -> rusqlite::Result<Option<String>> {
                let used: bool =
                    tx.query_row("SELECT EXISTS(SELECT 1 FROM image_layers WHERE chain_id = ?)", [chain], |r| {
                        r.get(0)
                    })?;
                if used {
                    return Ok(None); // an image was pulled meanwhile
                }
                let blob: Option<String> =
                    tx.query_row("SELECT blob_digest FROM layers WHERE chain_id = ?", [chain], |r| r.get(0)).ok();
                tx.execute("DELETE FROM layers WHERE chain_id = ?", [chain])?;
                let shared = match &blob {
                    Some(b) => {
                        tx.query_row("SELECT EXISTS(SELECT 1 FROM layers WHERE blob_digest = ?)", [b], |r| r.get(0))?
                    }
                    None => true,
                };
                Ok(if shared { None } else { blob })
            })
            .map_err(err)?;
        self.layers().remove(chain).map_err(err)?;
        if let Some(b) = blob {
            self.content().delete(&b).map_err(err)?;
        }
        Ok(())
    }
}

/// Reads a duration as Podman's `--max` takes it: `24h`, `90m`, `1h30m`, `45s`, or `0`.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("invalid duration \"{s}\": use a number with a unit, e.g. 24h, 30m, 1h30m or 45s");
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "h" => 3600,
            "m" => 60,
            "s" => 1,
            _ => return Err(bad()),
        };
        total += Duration::from_secs(n.checked_mul(secs).ok_or_else(bad)?);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_podman_writes_them() {
        let check = |input: &str, expected: Option<u64>| {
            assert_eq!(parse_duration(input).ok().map(|d| d.as_secs()), expected, "{input}");
        };
        check("0", Some(0));
        check("24h", Some(86400));
        check("1h30m", Some(5400));
        check("45s", Some(45));
        check("0s", Some(0));
        check("", None);
        check("10", None);
        check("5d", None);
        check("h", None);
    }
}
