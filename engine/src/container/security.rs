//! What a container may do: its capabilities (`--cap-add`, `--cap-drop`), `--privileged`,
//! `--security-opt seccomp=…|no-new-privileges`, and host devices (`--device`). Checked at
//! `create`, turned into the spec by `spec::build`.

use std::collections::BTreeSet;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Capability, LinuxDevice, LinuxDeviceBuilder, LinuxDeviceType};
use serde::{Deserialize, Serialize};

use crate::runtime::capabilities;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// `--cap-add`: names without `CAP_`, upper case, or `ALL`.
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    #[serde(default)]
    pub privileged: bool,
    /// `--security-opt seccomp=`: `unconfined`, or a profile file (read at create).
    #[serde(default)]
    pub seccomp: Option<String>,
    #[serde(default)]
    pub no_new_privileges: bool,
    #[serde(default)]
    pub devices: Vec<DeviceRequest>,
    /// `--device-cgroup-rule`: device numbers the container may use (kept in the spec; Berth
    /// puts no device cgroup on containers, so every device node in one is usable already).
    #[serde(default)]
    pub device_cgroup_rules: Vec<DeviceCgroupRule>,
}

/// `--device-cgroup-rule "TYPE MAJOR:MINOR ACCESS"`: `c 1:3 rwm`, `b 7:* rw`, `a 7 m`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCgroupRule {
    /// `a` (all), `b` (block) or `c` (character).
    pub kind: char,
    /// None for `*`.
    pub major: Option<i64>,
    pub minor: Option<i64>,
    /// Letters of `rwm`.
    pub access: String,
}

/// Parses a `--device-cgroup-rule`; the errors are Podman's words.
pub fn parse_device_cgroup_rule(rule: &str) -> Result<DeviceCgroupRule, SecurityError> {
    let bad = |reason: String| SecurityError::BadCgroupRule(reason);
    let parts: Vec<&str> = rule.split_whitespace().collect();
    let [kind, numbers, access] = parts.as_slice() else {
        return Err(bad(format!(
            "invalid device cgroup rule requires type, major:Minor, and access rules: \"{rule}\""
        )));
    };
    let kind = match *kind {
        "a" | "b" | "c" => kind.chars().next().unwrap_or('a'),
        other => return Err(bad(format!("invalid device type in device-access-add: {other}"))),
    };
    let number = |n: &str| -> Result<Option<i64>, SecurityError> {
        if n == "*" {
            return Ok(None);
        }
        n.parse::<u32>()
            .map(|v| Some(i64::from(v)))
            .map_err(|_| bad(format!("strconv.ParseUint: parsing \"{n}\": invalid syntax")))
    };
    let (major, minor) = match numbers.split_once(':') {
        Some((major, minor)) => (number(major)?, number(minor)?),
        None => (number(numbers)?, None),
    };
    if let Some(c) = access.chars().find(|c| !"rwm".contains(*c)) {
        return Err(bad(format!("invalid device access in device-access-add: {c}")));
    }
    Ok(DeviceCgroupRule { kind, major, minor, access: access.to_string() })
}

/// `--device HOST[:CONTAINER][:PERMISSIONS]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRequest {
    pub host: PathBuf,
    pub container: PathBuf,
    pub permissions: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("unknown capability \"{0}\": use a name such as NET_ADMIN, or ALL")]
    UnknownCapability(String),
    #[error("invalid --security-opt \"{0}\": use seccomp=unconfined, seccomp=PROFILE.json or no-new-privileges")]
    BadOption(String),
    #[error("invalid --device \"{input}\": {reason}")]
    BadDevice { input: String, reason: String },
    /// A `--device-cgroup-rule` that does not parse (Podman's words).
    #[error("{0}")]
    BadCgroupRule(String),
    #[error("error gathering device information while adding custom device \"{path}\": {reason}")]
    DeviceInfo { path: PathBuf, reason: String },
}

/// Parses one `--security-opt` into `sec`.
pub fn apply_security_opt(sec: &mut Security, opt: &str) -> Result<(), SecurityError> {
    match opt.split_once(['=', ':']) {
        Some(("seccomp", v)) if !v.is_empty() => sec.seccomp = Some(v.to_string()),
        Some(("no-new-privileges", "true")) | None
            if opt == "no-new-privileges" || opt.starts_with("no-new-privileges") =>
        {
            sec.no_new_privileges = true
        }
        Some(("no-new-privileges", "false")) => sec.no_new_privileges = false,
        Some(("label", _)) | Some(("apparmor", _)) => {} // no SELinux or AppArmor here
        _ => return Err(SecurityError::BadOption(opt.into())),
    }
    Ok(())
}

pub fn parse_device(input: &str) -> Result<DeviceRequest, SecurityError> {
    let bad = |reason: &str| SecurityError::BadDevice { input: input.into(), reason: reason.into() };
    let parts: Vec<&str> = input.split(':').collect();
    let is_perms = |s: &str| !s.is_empty() && s.chars().all(|c| "rwm".contains(c));
    let (host, container, permissions) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if is_perms(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] if is_perms(p) => (*h, *c, *p),
        _ => return Err(bad("use HOST-DEVICE[:CONTAINER-DEVICE][:PERMISSIONS], permissions from rwm")),
    };
    if !host.starts_with('/') || !container.starts_with('/') {
        return Err(bad("device paths must be absolute"));
    }
    Ok(DeviceRequest { host: host.into(), container: container.into(), permissions: permissions.into() })
}

fn capability(name: &str) -> Result<Capability, SecurityError> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    bare.parse::<Capability>().map_err(|_| SecurityError::UnknownCapability(name.into()))
}

/// The capabilities this process may hand out: its own bounding set (a sandbox may lack some,
/// such as CAP_SYS_RESOURCE), within what the kernel knows.
fn grantable() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(u64::MAX)
}

/// The container's capability set: the defaults (or all this process has, `--privileged`), then the
/// drops and adds (Podman's order: `--cap-drop ALL --cap-add X` leaves X).
pub fn capabilities(sec: &Security, defaults: &[Capability]) -> Result<Vec<Capability>, SecurityError> {
    let grantable = grantable();
    let all = || capabilities::ALL.iter().copied().filter(|c| grantable & (1 << capabilities::number(*c)) != 0);
    let mut set: BTreeSet<u32> = if sec.privileged {
        all().map(capabilities::number).collect()
    } else {
        defaults.iter().map(|c| capabilities::number(*c)).collect()
    };
    for d in &sec.cap_drop {
        if d.eq_ignore_ascii_case("all") {
            set.clear();
        } else {
            set.remove(&capabilities::number(capability(d)?));
        }
    }
    for a in &sec.cap_add {
        if a.eq_ignore_ascii_case("all") {
            set.extend(all().map(capabilities::number));
        } else {
            set.insert(capabilities::number(capability(a)?));
        }
    }
    Ok(capabilities::ALL.iter().copied().filter(|c| set.contains(&capabilities::number(*c))).collect())
}

/// A host device as the spec describes it.
pub fn device(host: &Path, container: &Path, permissions: &str) -> Result<LinuxDevice, SecurityError> {
    let info = |reason: String| SecurityError::DeviceInfo { path: host.into(), reason };
    let meta = std::fs::metadata(host).map_err(|e| info(e.to_string()))?;
    let ft = meta.file_type();
    let typ = if ft.is_char_device() {
        LinuxDeviceType::C
    } else if ft.is_block_device() {
        LinuxDeviceType::B
    } else {
        return Err(info("not a device node".into()));
    };
    let rdev = meta.rdev();
    let mut mode = meta.mode() & 0o777;
    if !permissions.contains('w') {
        mode &= !0o222;
    }
    if !permissions.contains('r') {
        mode &= !0o444;
    }
    LinuxDeviceBuilder::default()
        .path(container)
        .typ(typ)
        .major(nix::sys::stat::major(rdev) as i64)
        .minor(nix::sys::stat::minor(rdev) as i64)
        .file_mode(mode)
        .uid(meta.uid())
        .gid(meta.gid())
        .build()
        .map_err(|e| info(e.to_string()))
}

/// Every device node of the host's /dev (but the terminals and shared memory of its own
/// session), for `--privileged`.
pub fn host_devices() -> Vec<LinuxDevice> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from("/dev")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !["/dev/pts", "/dev/shm", "/dev/mqueue"].contains(&path.to_str().unwrap_or_default()) {
                    stack.push(path);
                }
            } else if (ft.is_char_device() || ft.is_block_device())
                && !["/dev/console", "/dev/ptmx", "/dev/tty"].contains(&path.to_str().unwrap_or_default())
            {
                if let Ok(d) = device(&path, &path, "rwm") {
                    out.push(d);
                }
            }
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    fn caps(add: &[&str], drop: &[&str], privileged: bool) -> Result<Vec<Capability>, String> {
        let sec = Security {
            cap_add: add.iter().map(|s| s.to_string()).collect(),
            cap_drop: drop.iter().map(|s| s.to_string()).collect(),
            privileged,
            ..Default::default()
        };
        capabilities(&sec, &[Chown, Kill, NetBindService]).map_err(|e| e.to_string())
    }

    #[test]
    fn capabilities_add_and_drop_as_podman_does() {
        assert_eq!(caps(&[], &[], false).unwrap(), [Chown, Kill, NetBindService]);
        assert_eq!(
            caps(&["net_admin", "CAP_SYS_TIME"], &["kill"], false).unwrap(),
            [Chown, NetBindService, NetAdmin, SysTime]
        );
        assert_eq!(caps(&["NET_RAW"], &["ALL"], false).unwrap(), [NetRaw]);
        assert!(caps(&[], &[], true).unwrap().len() > 30);
        assert!(caps(&["NOPE"], &[], false).unwrap_err().contains("unknown capability \"NOPE\""));
    }

    #[test]
    fn security_opts_and_devices_parse() {
        let mut s = Security::default();
        apply_security_opt(&mut s, "seccomp=unconfined").unwrap();
        apply_security_opt(&mut s, "no-new-privileges").unwrap();
        assert_eq!((s.seccomp.as_deref(), s.no_new_privileges), (Some("unconfined"), true));
        assert!(apply_security_opt(&mut s, "bogus=1").unwrap_err().to_string().contains("\"bogus=1\""));
        assert_eq!(parse_device("/dev/fuse").unwrap().container, PathBuf::from("/dev/fuse"));
        let d = parse_device("/dev/null:/dev/mynull:r").unwrap();
        assert_eq!((d.container, d.permissions), (PathBuf::from("/dev/mynull"), "r".to_string()));
        assert!(parse_device("null").is_err());
        let e = device(Path::new("/dev/nope"), Path::new("/dev/nope"), "rwm").unwrap_err().to_string();
        assert!(e.contains("custom device \"/dev/nope\""), "{e}");
        let null = device(Path::new("/dev/null"), Path::new("/dev/x"), "r").unwrap();
        assert_eq!((null.major(), null.minor(), null.file_mode()), (1, 3, Some(0o444)));
    }
}
