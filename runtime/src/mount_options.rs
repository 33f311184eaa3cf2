//! The `options` of an OCI mount turned into mount(2) flags, propagation changes and the data
//! string the filesystem gets, the way crun reads them: known flag names set or clear a flag,
//! propagation names become separate calls, everything else (`mode=755`, `size=65536k`,
//! `gid=5`) goes to the filesystem.

use nix::mount::MsFlags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount call, including MS_BIND and MS_REC for `bind` and `rbind`.
    pub flags: MsFlags,
    /// Propagation changes, applied after the mount in order (each a separate mount call).
    pub propagation: Vec<MsFlags>,
    /// Filesystem-specific options, comma-separated, or None when there are none.
    pub data: Option<String>,
}

enum Effect {
    Set(MsFlags),
    Clear(MsFlags),
    Propagation(MsFlags),
    /// Not a mount flag: `tmpcopyup` is read by `rootfs::mount_one`; `notmpcopyup` and
    /// `copy-symlink` ask for nothing it does.
    Ignore,
}

fn effect(option: &str) -> Option<Effect> {
    use Effect::*;
    Some(match option {
        "defaults" => Ignore,
        "ro" => Set(MsFlags::MS_RDONLY),
        "rw" => Clear(MsFlags::MS_RDONLY),
        "nosuid" => Set(MsFlags::MS_NOSUID),
        "suid" => Clear(MsFlags::MS_NOSUID),
        "nodev" => Set(MsFlags::MS_NODEV),
        "dev" => Clear(MsFlags::MS_NODEV),
        "noexec" => Set(MsFlags::MS_NOEXEC),
        "exec" => Clear(MsFlags::MS_NOEXEC),
        "sync" => Set(MsFlags::MS_SYNCHRONOUS),
        "async" => Clear(MsFlags::MS_SYNCHRONOUS),
        "dirsync" => Set(MsFlags::MS_DIRSYNC),
        "remount" => Set(MsFlags::MS_REMOUNT),
        "mand" => Set(MsFlags::MS_MANDLOCK),
        "nomand" => Clear(MsFlags::MS_MANDLOCK),
        "noatime" => Set(MsFlags::MS_NOATIME),
        "atime" => Clear(MsFlags::MS_NOATIME),
        "nodiratime" => Set(MsFlags::MS_NODIRATIME),
        "diratime" => Clear(MsFlags::MS_NODIRATIME),
        "relatime" => Set(MsFlags::MS_RELATIME),
        "norelatime" => Clear(MsFlags::MS_RELATIME),
        "strictatime" => Set(MsFlags::MS_STRICTATIME),
        "nostrictatime" => Clear(MsFlags::MS_STRICTATIME),
        "lazytime" => Set(MsFlags::MS_LAZYTIME),
        "nolazytime" => Clear(MsFlags::MS_LAZYTIME),
        "silent" => Set(MsFlags::MS_SILENT),
        "loud" => Clear(MsFlags::MS_SILENT),
        "bind" => Set(MsFlags::MS_BIND),
        "rbind" => Set(MsFlags::MS_BIND | MsFlags::MS_REC),
        "private" => Propagation(MsFlags::MS_PRIVATE),
        "rprivate" => Propagation(MsFlags::MS_PRIVATE | MsFlags::MS_REC),
        "shared" => Propagation(MsFlags::MS_SHARED),
        "rshared" => Propagation(MsFlags::MS_SHARED | MsFlags::MS_REC),
        "slave" => Propagation(MsFlags::MS_SLAVE),
        "rslave" => Propagation(MsFlags::MS_SLAVE | MsFlags::MS_REC),
        "unbindable" => Propagation(MsFlags::MS_UNBINDABLE),
        "runbindable" => Propagation(MsFlags::MS_UNBINDABLE | MsFlags::MS_REC),
        "tmpcopyup" | "notmpcopyup" | "copy-symlink" => Ignore,
        _ => return None,
    })
}

pub fn parse<S: AsRef<str>>(options: &[S]) -> MountOptions {
    let mut out = MountOptions { flags: MsFlags::empty(), propagation: Vec::new(), data: None };
    let mut data = Vec::new();
    for option in options.iter().map(AsRef::as_ref).filter(|o| !o.is_empty()) {
        match effect(option) {
            Some(Effect::Set(f)) => out.flags.insert(f),
            Some(Effect::Clear(f)) => out.flags.remove(f),
            Some(Effect::Propagation(f)) => out.propagation.push(f),
            Some(Effect::Ignore) => {}
            None => data.push(option),
        }
    }
    out.data = (!data.is_empty()).then(|| data.join(","));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[&str], flags: MsFlags, propagation: &[MsFlags], data: Option<&str>) {
        let expected = MountOptions { flags, propagation: propagation.to_vec(), data: data.map(String::from) };
        assert_eq!(parse(input), expected, "{input:?}");
    }

    #[test]
    fn options_become_flags_propagation_and_data() {
        use MsFlags as F;
        check(&[], F::empty(), &[], None);
        check(&["nosuid", "noexec", "nodev"], F::MS_NOSUID | F::MS_NOEXEC | F::MS_NODEV, &[], None);
        check(
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
            F::MS_NOSUID | F::MS_STRICTATIME,
            &[],
            Some("mode=755,size=65536k"),
        );
        check(
            &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            F::MS_NOSUID | F::MS_NOEXEC,
            &[],
            Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
        );
        check(
            &["nosuid", "noexec", "nodev", "ro"],
            F::MS_NOSUID | F::MS_NOEXEC | F::MS_NODEV | F::MS_RDONLY,
            &[],
            None,
        );
        check(&["rbind", "ro", "rprivate"], F::MS_BIND | F::MS_REC | F::MS_RDONLY, &[F::MS_PRIVATE | F::MS_REC], None);
        check(
            &["bind", "nodev", "relatime", "shared"],
            F::MS_BIND | F::MS_NODEV | F::MS_RELATIME,
            &[F::MS_SHARED],
            None,
        );
        check(&["rslave", "private"], F::empty(), &[F::MS_SLAVE | F::MS_REC, F::MS_PRIVATE], None);
        // later options win, as in mount(8)
        check(&["ro", "rw"], F::empty(), &[], None);
        check(&["noexec", "exec", "suid", "dev"], F::empty(), &[], None);
        check(&["defaults", "tmpcopyup", ""], F::empty(), &[], None);
        check(
            &["noatime", "nodiratime", "sync", "dirsync"],
            F::MS_NOATIME | F::MS_NODIRATIME | F::MS_SYNCHRONOUS | F::MS_DIRSYNC,
            &[],
            None,
        );
        check(&["uid=1000", "ro", "context=\"x\""], F::MS_RDONLY, &[], Some("uid=1000,context=\"x\""));
    }
}
