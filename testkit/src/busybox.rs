//! A tiny real root filesystem from Debian's busybox-static, so container tests run a real
//! shell without pulling anything from the internet.

use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::image::{Compression, ImageSpec};
use crate::layer::LayerBuilder;

/// Where Debian's busybox-static package installs the static binary.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// The image's PATH.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `/etc/passwd` of the busybox root filesystem.
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
app:x:1000:1000:app:/home/app:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";

/// `/etc/group` of the busybox root filesystem: `app` (1000) is also in `staff` (50).
pub const GROUP: &str = "root:x:0:\n\
staff:x:50:app\n\
users:x:100:\n\
app:x:1000:\n\
nogroup:x:65534:\n";

/// The applets `busybox --list` names on this host (every applet gets a `/bin` symlink).
pub fn applets() -> Result<Vec<String>> {
    let out = Command::new(HOST_BUSYBOX)
        .arg("--list")
        .output()
        .with_context(|| format!("running {HOST_BUSYBOX} --list (install busybox-static)"))?;
    if !out.status.success() {
        bail!("{HOST_BUSYBOX} --list failed: {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
        .map(String::from)
        .collect())
}

/// A minimal root filesystem: `/bin/busybox` from the host with a `/bin` symlink per applet,
/// `/etc/passwd` and `/etc/group` (root, `app` 1000:1000 also in `staff` 50, nobody 65534),
/// `/tmp` (1777), `/root` (0700), `/home/app` owned by 1000, and empty `/proc`, `/sys`,
/// `/dev`, `/etc`, `/var`, `/usr/bin` mount points and directories.
///
/// More entries may be added before [`LayerBuilder::build`].
pub fn busybox_rootfs() -> Result<LayerBuilder> {
    busybox_rootfs_with(PASSWD, GROUP, "NAME=\"berth-testkit busybox\"\nID=busybox\n")
}

/// [`busybox_rootfs`] with these `/etc/passwd`, `/etc/group` and `/etc/os-release`.
pub fn busybox_rootfs_with(passwd: &str, group: &str, os_release: &str) -> Result<LayerBuilder> {
    let busybox =
        std::fs::read(HOST_BUSYBOX).with_context(|| format!("reading {HOST_BUSYBOX} (install busybox-static)"))?;
    let applets = applets()?;

    let mut b = LayerBuilder::new();
    b.dir("bin", 0o755).file("bin/busybox", &busybox, 0o755);
    for applet in &applets {
        b.symlink(&format!("bin/{applet}"), "busybox");
    }
    // the directories of an Alpine or Debian root that tests name (/srv as a working directory)
    for dir in ["dev", "proc", "sys", "sbin", "usr", "usr/bin", "usr/sbin", "var", "var/log", "srv", "mnt", "opt"] {
        b.dir(dir, 0o755);
    }
    b.dir("etc", 0o755)
        .file("etc/passwd", passwd, 0o644)
        .file("etc/group", group, 0o644)
        .file("etc/os-release", os_release, 0o644)
        .dir("tmp", 0o1777)
        .dir("var/tmp", 0o1777)
        .dir("root", 0o700)
        .dir("home", 0o755)
        .dir_owned("home/app", 0o755, 1000, 1000);
    Ok(b)
}

/// The busybox root filesystem as a single-layer gzip OCI image for linux on the host's
/// architecture, `Cmd ["sh"]`.
pub fn busybox_image() -> Result<ImageSpec> {
    Ok(ImageSpec::new().layer(busybox_rootfs()?.build(), Compression::Gzip).with_config(json!({
        "Env": [format!("PATH={PATH}")],
        "Cmd": ["sh"],
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_has_a_shell_users_and_sticky_tmp() {
        let tar = busybox_rootfs().unwrap().build();
        let mut ar = tar::Archive::new(&tar[..]);
        let mut seen = std::collections::BTreeMap::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            let link = e.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned());
            seen.insert(
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                (h.entry_type(), h.mode().unwrap(), h.uid().unwrap(), link),
            );
        }
        assert_eq!(seen["bin/busybox"].0, tar::EntryType::Regular);
        for applet in ["sh", "ls", "id", "httpd", "nc", "sleep", "env"] {
            let (kind, _, _, link) = &seen[&format!("bin/{applet}")];
            assert_eq!(*kind, tar::EntryType::Symlink, "{applet}");
            assert_eq!(link.as_deref(), Some("busybox"));
        }
        assert_eq!(seen["tmp/"].1, 0o1777);
        assert_eq!(seen["root/"].1, 0o700);
        assert_eq!(seen["home/app/"].2, 1000);
        assert!(seen.contains_key("etc/passwd"));
        assert!(GROUP.contains("staff:x:50:app\n"));
    }
}
