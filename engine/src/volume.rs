//! Volumes and the mounts of a container: `-v HOST:CTR[:ro]` bind mounts, named volumes
//! (`-v NAME:CTR`, created on first use, filled once with the image's content at that path, as
//! Podman does), `--tmpfs`, and the `volume` verbs. A volume is a directory,
//! `$ROOT/volumes/NAME/_data`, bind-mounted into containers.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::host_mount::is_mount_point;
use crate::layers::view::{is_opaque, is_whiteout, LayerView};
use crate::{Engine, Error, Result};

pub use crate::container::mount::MountRequest;

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("invalid volume \"{input}\": {reason}")]
    BadFlag { input: String, reason: String },
    #[error("no volume with name \"{0}\" found: no such volume")]
    NotFound(String),
    #[error("volume with name {0} already exists: volume already exists")]
    Exists(String),
    #[error("invalid volume name \"{0}\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")]
    BadName(String),
    /// Podman's words name the containers by id; `names` are theirs for a front end to show.
    #[error("volume {name} is being used by the following container(s): {containers}: volume is being used")]
    InUse { name: String, containers: String, names: String },
    #[error("invalid mount destination \"{destination}\": {reason}")]
    BadDestination { destination: String, reason: String },
    #[error("invalid bind mount source \"{0}\": it must be an absolute path on the host")]
    RelativeSource(PathBuf),
    #[error("bind mount source {0}: no such file or directory: create it first, or give a named volume")]
    MissingSource(PathBuf),
    #[error("invalid volume option {key} for driver 'local': {reason}")]
    BadOption { key: String, reason: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// A volume, as `volume inspect` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    pub mountpoint: PathBuf,
    pub created: chrono::DateTime<chrono::Utc>,
    pub labels: BTreeMap<String, String>,
    pub anonymous: bool,
    /// The local driver's options (`-o type=tmpfs -o device=tmpfs -o o=size=1m`).
    pub options: BTreeMap<String, String>,
    /// Not yet filled with an image's content (an image with nothing at the path leaves it so).
    pub needs_copy_up: bool,
    /// No container has used it yet (Podman chowns it to the first container's user then).
    pub needs_chown: bool,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

fn absolute_destination(input: &str, dest: &str) -> Result<String, VolumeError> {
    let bad = |reason: &str| VolumeError::BadFlag { input: input.into(), reason: reason.into() };
    if !dest.starts_with('/') {
        return Err(bad(&format!("the container path \"{dest}\" must be absolute")));
    }
    if Path::new(dest).components().any(|c| c == Component::ParentDir) {
        return Err(bad(&format!("the container path \"{dest}\" must not contain \"..\"")));
    }
    if dest == "/" {
        return Err(bad("the container path can't be \"/\""));
    }
    Ok(dest.trim_end_matches('/').to_string())
}

/// Checks a mount however it was asked for (`-v`, `--tmpfs`, the API's `Mounts` and `Binds`,
/// the desktop app's form): the destination an absolute path, not `/`, without `..`; a bind's
/// source absolute; a named volume's name valid.
pub fn check_mount(m: &MountRequest) -> Result<(), VolumeError> {
    let dest = m.destination();
    let bad = |reason: &str| VolumeError::BadDestination { destination: dest.into(), reason: reason.into() };
    if dest.is_empty() {
        return Err(bad("the container path is empty: give an absolute path such as /data"));
    }
    if !dest.starts_with('/') {
        return Err(bad("the container path must be absolute, such as /data"));
    }
    if Path::new(dest).components().any(|c| c == Component::ParentDir) {
        return Err(bad("the container path must not contain \"..\""));
    }
    if dest.trim_end_matches('/').is_empty() {
        return Err(bad("the container path can't be \"/\": mount at a directory below it"));
    }
    match m {
        MountRequest::Bind { source, .. } if !source.is_absolute() => Err(VolumeError::RelativeSource(source.clone())),
        MountRequest::Volume { name, anonymous: false, .. } if !valid_name(name) => {
            Err(VolumeError::BadName(name.clone()))
        }
        _ => Ok(()),
    }
}

/// Parses `-v`: `HOST-DIR:CTR-DIR[:OPTIONS]`, `NAME:CTR-DIR[:OPTIONS]` or `CTR-DIR` (an anonymous
/// volume). Options: `ro`, `rw`, and SELinux's `z`/`Z` (accepted, nothing to relabel here).
/// A relative host path (`./data`) is taken from `cwd`.
pub fn parse_volume_flag(input: &str, cwd: &Path) -> Result<MountRequest, VolumeError> {
    let bad = |reason: String| VolumeError::BadFlag { input: input.into(), reason };
    let parts: Vec<&str> = input.split(':').collect();
    let (source, dest, opts) = match parts.as_slice() {
        [d] => (None, *d, ""),
        [s, d] => (Some(*s), *d, ""),
        [s, d, o] => (Some(*s), *d, *o),
        _ => return Err(bad("use HOST-DIR:CONTAINER-DIR[:ro] or NAME:CONTAINER-DIR[:ro]".into())),
    };
    let mut read_only = false;
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "z" | "Z" => {}
            other => return Err(bad(format!("unknown option \"{other}\": use ro or rw"))),
        }
    }
    let destination = absolute_destination(input, dest)?;
    Ok(match source {
        None => MountRequest::Volume { name: String::new(), destination, read_only, anonymous: true },
        Some("") => return Err(bad("the source is empty".into())),
        Some(s) if s.starts_with('/') || s.starts_with('.') => {
            let path = if s.starts_with('/') { PathBuf::from(s) } else { cwd.join(s) };
            MountRequest::Bind { source: path, destination, read_only }
        }
        Some(name) => {
            if !valid_name(name) {
                return Err(VolumeError::BadName(name.into()));
            }
            MountRequest::Volume { name: name.into(), destination, read_only, anonymous: false }
        }
    })
}

/// Parses `--mount type=bind|volume|tmpfs,KEY=VALUE,...` as Podman takes it: `source`/`src`,
/// `destination`/`dst`/`target`, `ro`/`readonly` (`=true|false`) and `rw`; for tmpfs
/// `tmpfs-size`, `tmpfs-mode` and `exec`/`noexec`; SELinux's `relabel` and bind's
/// `bind-propagation` (accepted: Berth's binds are rprivate). Other keys are refused by name.
pub fn parse_mount_flag(input: &str, cwd: &Path) -> Result<MountRequest, VolumeError> {
    let bad = |reason: String| VolumeError::BadFlag { input: input.into(), reason };
    let (mut kind, mut source, mut dest, mut read_only) = (None, None, None, None);
    let mut tmpfs_opts: Vec<String> = Vec::new();
    for field in input.split(',').filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=').map_or((field, None), |(k, v)| (k, Some(v)));
        let flag = |v: Option<&str>| match v {
            None | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(bad(format!("{k}={other}: use true or false"))),
        };
        match (k, v) {
            ("type", Some(t)) => kind = Some(t),
            ("source" | "src", Some(s)) => source = Some(s),
            ("destination" | "dst" | "target", Some(d)) => dest = Some(d),
            ("ro" | "readonly", v) => read_only = Some(flag(v)?),
            ("rw" | "readwrite", v) => read_only = Some(!flag(v)?),
            ("tmpfs-size", Some(size)) => tmpfs_opts.push(format!("size={size}")),
            ("tmpfs-mode", Some(mode)) => tmpfs_opts.push(format!("mode={mode}")),
            ("exec" | "noexec" | "suid" | "nosuid" | "dev" | "nodev", None) => tmpfs_opts.push(k.to_string()),
            ("relabel" | "bind-propagation" | "z" | "Z", _) => {}
            _ => {
                return Err(bad(format!(
                    "unknown option \"{field}\": use type, source, destination, ro, tmpfs-size or tmpfs-mode"
                )))
            }
        }
    }
    let dest = dest.ok_or_else(|| bad("destination=PATH is needed: where in the container to mount".into()))?;
    // An image is mounted read-only unless asked otherwise; the rest read-write.
    if kind == Some("image") {
        let destination = absolute_destination(input, dest)?;
        let source = source.filter(|s| !s.is_empty()).ok_or_else(|| bad("an image mount needs source=IMAGE".into()))?;
        let read_write = read_only == Some(false);
        return Ok(MountRequest::Image { source: source.into(), image_id: String::new(), destination, read_write });
    }
    let read_only = read_only.unwrap_or(false);
    let destination = absolute_destination(input, dest)?;
    match kind {
        Some("bind") => {
            let s = source.ok_or_else(|| bad("a bind mount needs source=HOST-PATH".into()))?;
            let path = if s.starts_with('/') { PathBuf::from(s) } else { cwd.join(s) };
            Ok(MountRequest::Bind { source: path, destination, read_only })
        }
        Some("volume") => match source {
            None | Some("") => {
                Ok(MountRequest::Volume { name: String::new(), destination, read_only, anonymous: true })
            }
            Some(name) if valid_name(name) => {
                Ok(MountRequest::Volume { name: name.into(), destination, read_only, anonymous: false })
            }
            Some(name) => Err(VolumeError::BadName(name.into())),
        },
        Some("tmpfs") => {
            if read_only {
                tmpfs_opts.push("ro".into());
            }
            let spec =
                if tmpfs_opts.is_empty() { dest.to_string() } else { format!("{dest}:{}", tmpfs_opts.join(",")) };
            parse_tmpfs_flag(&spec).map_err(|_| bad("invalid tmpfs options".into()))
        }
        Some(other) => Err(bad(format!("type={other} is not supported: use bind, volume, tmpfs or image"))),
        None => Err(bad("type=bind|volume|tmpfs|image is needed".into())),
    }
}

/// Parses `--tmpfs CTR-DIR[:OPTIONS]`.
pub fn parse_tmpfs_flag(input: &str) -> Result<MountRequest, VolumeError> {
    let (dest, opts) = input.split_once(':').unwrap_or((input, ""));
    let destination = absolute_destination(input, dest)?;
    let mut options: Vec<String> = opts.split(',').filter(|o| !o.is_empty()).map(str::to_string).collect();
    for default in ["rw", "noexec", "nosuid", "nodev"] {
        let opposite = match default {
            "rw" => "ro",
            "noexec" => "exec",
            "nosuid" => "suid",
            _ => "dev",
        };
        if !options.iter().any(|o| o == default || o == opposite) {
            options.push(default.into());
        }
    }
    Ok(MountRequest::Tmpfs { destination, options })
}

const COLUMNS: &str = "name, driver, created, labels, anonymous, options, needs_copy_up, needs_chown";

fn row(root: &Path) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<VolumeRecord> + '_ {
    move |r| {
        let name: String = r.get(0)?;
        Ok(VolumeRecord {
            mountpoint: data_dir(root, &name),
            driver: r.get(1)?,
            created: chrono::DateTime::parse_from_rfc3339(&r.get::<_, String>(2)?)
                .map(|t| t.to_utc())
                .unwrap_or_default(),
            labels: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
            anonymous: r.get(4)?,
            options: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
            needs_copy_up: r.get(6)?,
            needs_chown: r.get(7)?,
            name,
        })
    }
}

pub fn data_dir(root: &Path, name: &str) -> PathBuf {
    root.join("volumes").join(name).join("_data")
}

pub fn get(conn: &Connection, root: &Path, name: &str) -> rusqlite::Result<Option<VolumeRecord>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM volumes WHERE name = ?"), [name], row(root)).optional()
}

pub fn list(conn: &Connection, root: &Path) -> rusqlite::Result<Vec<VolumeRecord>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM volumes ORDER BY name"))?;
    let rows = stmt.query_map([], row(root))?.collect();
    rows
}

/// Whether the volume still waits for its first container's image content (then clears it, and
/// marks it used: no chown is owed any more).
pub fn take_copy_up(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<bool> {
    tx.execute("UPDATE volumes SET needs_chown = 0 WHERE name = ?", [name])?;
    Ok(tx.execute("UPDATE volumes SET needs_copy_up = 0 WHERE name = ? AND needs_copy_up = 1", [name])? > 0)
}

/// The image had nothing at the volume's path: the next container's image may fill it.
pub fn restore_copy_up(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    conn.execute("UPDATE volumes SET needs_copy_up = 1 WHERE name = ?", [name]).map(drop)
}

fn insert(tx: &Transaction<'_>, v: &VolumeRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO volumes (name, driver, created, labels, anonymous, options, needs_copy_up, needs_chown)
         VALUES (?, ?, ?, ?, ?, ?, 1, 1)",
        params![
            v.name,
            v.driver,
            v.created.to_rfc3339(),
            serde_json::to_string(&v.labels).expect("labels"),
            v.anonymous,
            serde_json::to_string(&v.options).expect("options"),
        ],
    )?;
    Ok(())
}

/// Creates the volume's row, in the caller's transaction; its directory comes with [`make_dir`].
pub fn create(
    tx: &Transaction<'_>,
    root: &Path,
    name: &str,
    labels: BTreeMap<String, String>,
    options: BTreeMap<String, String>,
    anonymous: bool,
) -> Result<VolumeRecord, VolumeError> {
    if !valid_name(name) {
        return Err(VolumeError::BadName(name.into()));
    }
    if get(tx, root, name)?.is_some() {
        return Err(VolumeError::Exists(name.into()));
    }
    let v = VolumeRecord {
        name: name.into(),
        driver: "local".into(),
        mountpoint: data_dir(root, name),
        created: chrono::Utc::now(),
        labels,
        anonymous,
        options,
        needs_copy_up: true,
        needs_chown: true,
    };
    insert(tx, &v)?;
    Ok(v)
}

/// The volume's directory, made after its row committed.
pub fn make_dir(v: &VolumeRecord) -> Result<(), VolumeError> {
    std::fs::create_dir_all(&v.mountpoint).map_err(|source| VolumeError::Io { path: v.mountpoint.clone(), source })
}

/// The names of the containers that mount each volume.
pub fn users(containers: &[crate::ContainerRecord]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in containers {
        for m in &c.options.mounts {
            if let MountRequest::Volume { name, .. } = m {
                let names = map.entry(name.clone()).or_default();
                if !names.contains(&c.name) {
                    names.push(c.name.clone());
                }
            }
        }
    }
    map
}

/// Copies what the image has at `dest` (its layers, top first, with overlay's whiteouts and
/// opaque directories honoured) into an empty volume directory, keeping owners and modes.
pub fn copy_up(layer_dirs_top_first: &[PathBuf], dest: &str, target: &Path) -> std::io::Result<()> {
    use std::collections::HashSet;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // The mount point as the runtime mounts it: links in the image resolved inside the image.
    let view = LayerView::new(layer_dirs_top_first);
    let rel = view.resolve(dest).map_err(std::io::Error::other)?;
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut hidden: Vec<PathBuf> = Vec::new(); // whited-out paths and opaque directories' lower content
    for base in view.dirs_at(&rel) {
        let mut opaque_here = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(sub) = stack.pop() {
            let dir = base.join(&sub);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let relp = sub.join(e.file_name());
                if hidden.iter().any(|h| relp.starts_with(h)) {
                    continue;
                }
                let src = dir.join(e.file_name());
                let m = std::fs::symlink_metadata(&src)?;
                let ft = m.file_type();
                if seen.contains(&relp) {
                    // An upper layer has it: a directory in both merges; anything else is shadowed.
                    if ft.is_dir() && target.join(&relp).is_dir() && !target.join(&relp).is_symlink() {
                        stack.push(relp);
                    }
                    continue;
                }
                if is_whiteout(&m) {
                    hidden.push(relp);
                    continue;
                }
                let out = target.join(&relp);
                seen.insert(relp.clone());
                if ft.is_dir() {
                    std::fs::create_dir_all(&out)?;
                    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
                    if is_opaque(&src) {
                        opaque_here.push(relp.clone());
                    }
                    stack.push(relp);
                } else if ft.is_symlink() {
                    std::os::unix::fs::symlink(std::fs::read_link(&src)?, &out)?;
                } else if ft.is_file() {
                    std::fs::copy(&src, &out)?;
                } else {
                    continue; // devices, fifos, sockets: not volume content
                }
                std::os::unix::fs::lchown(&out, Some(m.uid()), Some(m.gid()))?;
            }
        }
        // Below an opaque directory, lower layers show nothing.
        hidden.extend(opaque_here);
    }
    Ok(())
}

/// Checks the local driver's options (`volume create -o`) as Podman does: `type` (a filesystem
/// type, or `bind`), `device` (what to mount; a bind's must exist) and `o` (mount options).
pub fn check_options(options: &BTreeMap<String, String>) -> Result<(), VolumeError> {
    let bad = |key: &str, reason: String| VolumeError::BadOption { key: key.into(), reason };
    for key in options.keys() {
        if !matches!(key.as_str(), "type" | "device" | "o") {
            return Err(bad(key, "the local driver takes type, device and o".into()));
        }
    }
    match (options.get("type").map(String::as_str), options.get("device")) {
        (Some("bind"), Some(device)) => {
            if let Err(e) = std::fs::metadata(device) {
                return Err(bad("device", format!("stat {device}: {}", errno_text(&e))));
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(bad("type", "type and device go together: -o type=tmpfs -o device=tmpfs".into()))
        }
        (None, None) if options.contains_key("o") => {
            return Err(bad("o", "mount options need a type and a device to mount: -o type=… -o device=…".into()))
        }
        _ => {}
    }
    Ok(())
}

/// An error as Go's stat prints it ("no such file or directory"), which Podman's messages carry.
fn errno_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_lowercase(),
        None => e.to_string(),
    }
}

/// Mounts a volume with options (`-o type=… -o device=…`) on its `_data`, once: the volume's
/// containers bind that. Volumes without options are plain directories.
pub fn mount_options(v: &VolumeRecord) -> Result<(), VolumeError> {
    use nix::mount::{mount, MsFlags};
    let (Some(kind), Some(device)) = (v.options.get("type"), v.options.get("device")) else { return Ok(()) };
    if is_mount_point(&v.mountpoint) {
        return Ok(());
    }
    let data = v.options.get("o").map(String::as_str).filter(|o| !o.is_empty());
    let io = |e: nix::Error| VolumeError::Io { path: v.mountpoint.clone(), source: std::io::Error::from(e) };
    if kind == "bind" {
        let rec = data.is_some_and(|o| o.split(',').any(|o| o == "rbind"));
        let flags = if rec { MsFlags::MS_BIND | MsFlags::MS_REC } else { MsFlags::MS_BIND };
        mount(Some(device.as_str()), &v.mountpoint, None::<&str>, flags, None::<&str>).map_err(io)?;
        if data.is_some_and(|o| o.split(',').any(|o| o == "ro")) {
            let ro = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            mount(None::<&str>, &v.mountpoint, None::<&str>, ro, None::<&str>).map_err(io)?;
        }
    } else {
        mount(Some(device.as_str()), &v.mountpoint, Some(kind.as_str()), MsFlags::empty(), data).map_err(io)?;
    }
    Ok(())
}

/// Undoes [`mount_options`] (nothing when it is not mounted).
pub fn unmount_options(v: &VolumeRecord) -> Result<(), VolumeError> {
    if v.options.is_empty() || !is_mount_point(&v.mountpoint) {
        return Ok(());
    }
    nix::mount::umount2(&v.mountpoint, nix::mount::MntFlags::MNT_DETACH)
        .map_err(|e| VolumeError::Io { path: v.mountpoint.clone(), source: std::io::Error::from(e) })
}

impl Engine {
    /// `berth volume create`.
    pub fn create_volume(&self, name: Option<&str>, labels: BTreeMap<String, String>) -> Result<VolumeRecord> {
        self.create_volume_with(name, labels, BTreeMap::new())
    }

    /// `berth volume create -o …`: a volume of the local driver with options, checked first.
    pub fn create_volume_with(
        &self,
        name: Option<&str>,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<VolumeRecord> {
        check_options(&options)?;
        let name = name.map(str::to_string).unwrap_or_else(random_name);
        let root = self.config().root.clone();
        let v = self.state().write(|tx| create(tx, &root, &name, labels, options, false).map_err(Error::from))?;
        make_dir(&v)?;
        self.events().state("volume", "create", &v.name, Some(&v.name));
        Ok(v)
    }

    pub fn volumes(&self) -> Result<Vec<VolumeRecord>> {
        Ok(list(self.state().conn(), &self.config().root)?)
    }

    pub fn volume(&self, name: &str) -> Result<VolumeRecord> {
        Ok(get(self.state().conn(), &self.config().root, name)?.ok_or_else(|| VolumeError::NotFound(name.into()))?)
    }

    /// Which containers use each volume, by name.
    pub fn volume_users(&self) -> Result<BTreeMap<String, Vec<String>>> {
        Ok(users(&crate::container::list(self.state().conn())?))
    }

    /// `berth volume rm`: refused while containers use it, unless `force` removes them first.
    pub fn remove_volume(&self, name: &str, force: bool) -> Result<VolumeRecord> {
        let v = self.volume(name)?;
        let using: Vec<crate::ContainerRecord> = crate::container::list(self.state().conn())?
            .into_iter()
            .filter(|c| {
                c.options.mounts.iter().any(|m| matches!(m, MountRequest::Volume { name, .. } if *name == v.name))
            })
            .collect();
        if !using.is_empty() {
            if !force {
                let ids: Vec<&str> = using.iter().map(|c| c.id.as_str()).collect();
                let names: Vec<&str> = using.iter().map(|c| c.name.as_str()).collect();
                return Err(VolumeError::InUse {
                    name: v.name.clone(),
                    containers: ids.join(", "),
                    names: names.join(", "),
                }
                .into());
            }
            for c in &using {
                self.remove_container(&c.id, true)?;
            }
        }
        unmount_options(&v)?;
        self.state().write(|tx| tx.execute("DELETE FROM volumes WHERE name = ?", [&v.name]))?;
        let dir = self.config().root.join("volumes").join(&v.name);
        if let Err(source) = berth_userns::remove_tree(&dir) {
            if source.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::Io { path: dir, source });
            }
        }
        self.events().state("volume", "remove", &v.name, Some(&v.name));
        Ok(v)
    }

    /// `berth volume mount`: the volume's directory on the host, with a volume of options
    /// (`-o type=…`) mounted there first.
    pub fn mount_volume(&self, name: &str) -> Result<PathBuf> {
        let v = self.volume(name)?;
        if berth_userns::is_rootless() {
            return Err(Error::Invalid(
                "cannot run command \"berth volume mount\" in rootless mode: a rootless user can't mount on the host"
                    .into(),
            ));
        }
        mount_options(&v)?;
        Ok(v.mountpoint)
    }

    /// `berth volume unmount`: undoes `volume mount` for a volume of options (a plain volume is
    /// a directory and has nothing to undo).
    pub fn unmount_volume(&self, name: &str) -> Result<VolumeRecord> {
        let v = self.volume(name)?;
        unmount_options(&v)?;
        Ok(v)
    }

    /// `berth volume export`: the volume's content as a tar stream.
    pub fn export_volume(&self, name: &str, out: &mut dyn std::io::Write) -> Result<()> {
        let v = self.volume(name)?;
        mount_options(&v)?;
        let io = |source| Error::Io { path: v.mountpoint.clone(), source };
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        tar.append_dir_all(".", &v.mountpoint).map_err(io)?;
        tar.finish().map_err(io)
    }

    /// `berth volume import`: unpacks a tar stream into the volume, over what it holds. Entries
    /// that would land outside it (`..`, through a link) are refused by the unpacker.
    pub fn import_volume(&self, name: &str, input: &mut dyn std::io::Read) -> Result<()> {
        let v = self.volume(name)?;
        mount_options(&v)?;
        let mut tar = tar::Archive::new(input);
        tar.set_preserve_permissions(true);
        tar.set_preserve_ownerships(!berth_userns::is_rootless());
        tar.set_overwrite(true);
        tar.unpack(&v.mountpoint).map_err(|source| Error::Io { path: v.mountpoint.clone(), source })?;
        self.state().write(|tx| tx.execute("UPDATE volumes SET needs_copy_up = 0 WHERE name = ?", [&v.name]))?;
        Ok(())
    }

    /// `berth volume prune`: removes every volume no container uses.
    pub fn prune_volumes(&self) -> Result<Vec<String>> {
        let used = self.volume_users()?;
        let mut removed = Vec::new();
        for v in self.volumes()? {
            if !used.contains_key(&v.name) {
                self.remove_volume(&v.name, false)?;
                removed.push(v.name);
            }
        }
        Ok(removed)
    }
}

fn random_name() -> String {
    use rand::RngExt;
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// [`copy_up`], inside the user namespace when Berth is rootless, so owners are kept.
pub fn copy_up_as_owner(layer_dirs_top_first: &[PathBuf], dest: &str, target: &Path) -> std::io::Result<()> {
    if !berth_userns::outside() {
        return copy_up(layer_dirs_top_first, dest, target);
    }
    let mut c = berth_userns::reexec::userns_command("copy-up")?;
    c.arg(target).arg(dest).args(layer_dirs_top_first);
    berth_userns::reexec::run_userns(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_checked_however_they_were_asked_for() {
        let vol = |d: &str| MountRequest::Volume {
            name: "v".into(),
            destination: d.into(),
            read_only: false,
            anonymous: false,
        };
        let check = |m: MountRequest, want: Option<&str>| match (check_mount(&m), want) {
            (Ok(()), None) => {}
            (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{m:?}: {e} does not say {w:?}"),
            (got, want) => panic!("{m:?}: got {got:?}, expected {want:?}"),
        };
        check(vol("/data"), None);
        check(vol(""), Some("invalid mount destination \"\": the container path is empty"));
        check(vol("/"), Some("can't be \"/\""));
        check(vol("//"), Some("can't be \"/\""));
        check(vol("data"), Some("must be absolute"));
        check(vol("/a/../b"), Some("must not contain"));
        check(
            MountRequest::Volume {
                name: "bad name".into(),
                destination: "/d".into(),
                read_only: false,
                anonymous: false,
            },
            Some("invalid volume name \"bad name\""),
        );
        check(
            MountRequest::Bind { source: "rel".into(), destination: "/d".into(), read_only: false },
            Some("absolute path on the host"),
        );
        check(MountRequest::Tmpfs { destination: "/".into(), options: vec![] }, Some("can't be \"/\""));
    }

    fn check(input: &str, expected: Result<MountRequest, &str>) {
        let got = parse_volume_flag(input, Path::new("/work"));
        match expected {
            Ok(m) => assert_eq!(got.unwrap(), m, "{input}"),
            Err(fragment) => {
                let e = got.unwrap_err().to_string();
                assert!(e.contains(fragment), "{input}: {e}");
            }
        }
    }

    #[test]
    fn mount_flags_as_podman_takes_them() {
        let cwd = Path::new("/work");
        let m = |s: &str| parse_mount_flag(s, cwd);
        assert_eq!(
            m("type=bind,src=./data,dst=/data,ro=true").unwrap(),
            MountRequest::Bind { source: "/work/./data".into(), destination: "/data".into(), read_only: true }
        );
        assert_eq!(
            m("type=volume,source=cache,target=/cache").unwrap(),
            MountRequest::Volume {
                name: "cache".into(),
                destination: "/cache".into(),
                read_only: false,
                anonymous: false
            }
        );
        assert!(matches!(m("type=volume,dst=/anon").unwrap(), MountRequest::Volume { anonymous: true, .. }));
        assert!(matches!(m("type=image,src=alpine,dst=/i").unwrap(), MountRequest::Image { read_write: false, .. }));
        for rw in ["rw=true", "readwrite=true", "rw"] {
            let input = format!("type=image,src=alpine,dst=/i,{rw}");
            assert!(matches!(m(&input).unwrap(), MountRequest::Image { read_write: true, .. }), "{input}");
        }
        let MountRequest::Tmpfs { destination, options } =
            m("type=tmpfs,dst=/scratch,tmpfs-size=1m,tmpfs-mode=0700").unwrap()
        else {
            panic!("a tmpfs")
        };
        assert_eq!(destination, "/scratch");
        assert!(options.contains(&"size=1m".to_string()) && options.contains(&"mode=0700".to_string()), "{options:?}");
        for (input, says) in [
            ("type=bind,dst=/x", "needs source"),
            ("type=image,dst=/x", "an image mount needs source=IMAGE"),
            ("type=nfs,src=img,dst=/x", "type=nfs is not supported"),
            ("src=/a,dst=/x", "type=bind|volume|tmpfs|image is needed"),
            ("type=bind,src=/a", "destination=PATH is needed"),
            ("type=bind,src=/a,dst=/x,colour=red", "unknown option \"colour=red\""),
            ("type=bind,src=/a,dst=/", "can't be \"/\""),
        ] {
            let err = m(input).unwrap_err().to_string();
            assert!(err.contains(says), "{input}: {err}");
        }
    }

    #[test]
    fn volume_flags_as_podman_takes_them() {
        let bind = |s: &str, d: &str, ro| MountRequest::Bind { source: s.into(), destination: d.into(), read_only: ro };
        let vol = |n: &str, d: &str, ro| MountRequest::Volume {
            name: n.into(),
            destination: d.into(),
            read_only: ro,
            anonymous: n.is_empty(),
        };
        check("/srv:/data", Ok(bind("/srv", "/data", false)));
        check("/srv:/data:ro", Ok(bind("/srv", "/data", true)));
        check("./site:/www:ro,Z", Ok(bind("/work/./site", "/www", true)));
        check("cache:/var/cache/", Ok(vol("cache", "/var/cache", false)));
        check("/data", Ok(vol("", "/data", false)));
        check("cache:data", Err("must be absolute"));
        check("cache:/a/../b", Err("\"..\""));
        check("/srv:/data:rx", Err("unknown option \"rx\""));
        check("bad name:/data", Err("invalid volume name \"bad name\""));
        check("a:b:c:d", Err("invalid volume \"a:b:c:d\""));
    }

    #[test]
    fn local_driver_options_are_checked_as_podman_does() {
        let opts = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        for (given, says) in [
            (&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m")][..], None),
            (&[("type", "bind"), ("device", "/")][..], None),
            (&[][..], None),
            (
                &[("type", "bind"), ("device", "/bogus")][..],
                Some("option device for driver 'local': stat /bogus: no such file or directory"),
            ),
            (&[("type", "tmpfs")][..], Some("type and device go together")),
            (&[("o", "uid=1")][..], Some("need a type and a device")),
            (&[("colour", "red")][..], Some("option colour for driver 'local'")),
        ] {
            let r = check_options(&opts(given));
            match says {
                None => assert!(r.is_ok(), "{given:?}: {r:?}"),
                Some(s) => assert!(r.as_ref().unwrap_err().to_string().contains(s), "{given:?}: {r:?}"),
            }
        }
    }

    #[test]
    fn tmpfs_gets_safe_defaults_unless_told_otherwise() {
        let MountRequest::Tmpfs { destination, options } = parse_tmpfs_flag("/run:size=1m,exec").unwrap() else {
            panic!()
        };
        assert_eq!(destination, "/run");
        assert_eq!(options, ["size=1m", "exec", "rw", "nosuid", "nodev"]);
    }

    #[test]
    fn copy_up_merges_layers_with_whiteouts_and_opaque_dirs() {
        use std::os::unix::fs::MetadataExt;
        let t = tempfile::tempdir().unwrap();
        let (top, bottom, out) = (t.path().join("top"), t.path().join("bottom"), t.path().join("out"));
        for d in [&top, &bottom, &out] {
            std::fs::create_dir_all(d.join("data")).unwrap();
        }
        std::fs::write(bottom.join("data/a"), "bottom a").unwrap();
        std::fs::write(bottom.join("data/gone"), "deleted above").unwrap();
        std::fs::create_dir_all(bottom.join("data/dir")).unwrap();
        std::fs::write(bottom.join("data/dir/old"), "hidden by opaque").unwrap();
        std::fs::write(top.join("data/a"), "top a").unwrap();
        nix::sys::stat::mknod(&top.join("data/gone"), nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0)
            .unwrap();
        std::fs::create_dir_all(top.join("data/dir")).unwrap();
        xattr::set(top.join("data/dir"), "trusted.overlay.opaque", b"y").unwrap();
        std::fs::write(top.join("data/dir/new"), "new").unwrap();
        std::os::unix::fs::symlink("a", top.join("data/link")).unwrap();
        std::os::unix::fs::lchown(top.join("data/a"), Some(1000), Some(1000)).unwrap();
        copy_up(&[top.clone(), bottom.clone()], "/data", &out.join("data")).unwrap();
        let o = out.join("data");
        assert_eq!(std::fs::read_to_string(o.join("a")).unwrap(), "top a");
        assert!(!o.join("gone").exists());
        assert_eq!(std::fs::read_to_string(o.join("dir/new")).unwrap(), "new");
        assert!(!o.join("dir/old").exists());
        assert_eq!(std::fs::read_link(o.join("link")).unwrap(), Path::new("a"));
        assert_eq!(std::fs::metadata(o.join("a")).unwrap().uid(), 1000);
    }

    #[test]
    fn copy_up_resolves_links_inside_the_image_and_never_reads_the_host() {
        let t = tempfile::tempdir().unwrap();
        let (top, bottom, out) = (t.path().join("top"), t.path().join("bottom"), t.path().join("out"));
        for d in [&top, &bottom, &out] {
            std::fs::create_dir_all(d).unwrap();
        }
        // The image's /data is a link to /usr: the volume at /data/share holds the image's
        // /usr/share, not the host's (which has hundreds of entries).
        std::os::unix::fs::symlink("/usr", top.join("data")).unwrap();
        std::fs::create_dir_all(bottom.join("usr/share")).unwrap();
        std::fs::write(bottom.join("usr/share/from-image"), "image").unwrap();
        copy_up(&[top.clone(), bottom.clone()], "/data/share", &out).unwrap();
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["from-image"]);
        // The image has no /etc: a link to it copies nothing of the host's.
        std::os::unix::fs::symlink("/etc", top.join("conf")).unwrap();
        let empty = t.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        copy_up(&[top.clone(), bottom.clone()], "/conf", &empty).unwrap();
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
        // Rootless overlay's opaque mark hides the lower layer as root's does.
        std::fs::create_dir_all(top.join("usr/share")).unwrap();
        xattr::set(top.join("usr/share"), "user.overlay.opaque", b"y").unwrap();
        let opaque = t.path().join("opaque");
        std::fs::create_dir_all(&opaque).unwrap();
        copy_up(&[top, bottom], "/usr/share", &opaque).unwrap();
        assert_eq!(std::fs::read_dir(&opaque).unwrap().count(), 0, "user.overlay.opaque hides /usr/share below");
    }
}
