//! The container's filesystem, built inside its own mount namespace: the overlay root, the
//! spec's mounts, the default devices and links, then pivot_root, masked and read-only paths.
//!
//! Mount destinations are resolved inside the root the way securejoin does (symlinks in the
//! image are followed as if the root were `/`), so an image cannot point a mount outside its
//! root filesystem. Nothing of the image runs yet while this happens, so the resolved path
//! cannot change under us.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::SFlag;
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType, Mount};

use crate::error::{FailKind, Failure, Stage};
use crate::mount_options;
use crate::sys::{FileKind, Syscall};

/// The container's root filesystem as overlay layers.
pub struct RootfsLayers {
    /// Directory to chdir into before mounting overlay, so `lower` can be short relative paths.
    pub layers_dir: PathBuf,
    /// Lower dirs, top first, relative to `layers_dir` (e.g. "l/ABCD"); at least one.
    pub lower: Vec<String>,
    pub upper: PathBuf,
    pub work: PathBuf,
    /// The empty directory where the overlay is mounted, inside the container's own mount
    /// namespace only.
    pub target: PathBuf,
    /// Rootless: overlay keeps its own attributes in `user.overlay.*` (`userxattr`), the only
    /// ones a user namespace may set.
    pub userxattr: bool,
    /// A directory bound on `target` as the root instead of the overlay (`--rootfs PATH`
    /// without `:O`: the container writes into it); `lower`, `upper` and `work` are then unused.
    pub bind: Option<PathBuf>,
}

/// Host devices bind-mounted into every container's /dev (binding works where mknod may not).
pub const DEFAULT_DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Links created in every container's /dev.
pub const DEFAULT_LINKS: &[(&str, &str)] = &[
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
    ("core", "/proc/kcore"),
];

const MAX_SYMLINKS: usize = 255;

/// `unsafe_path` as seen from inside `root`: symlinks are followed, but neither they nor `..`
/// can leave `root`. Missing components are fine (they get created later).
pub fn resolve_in_root(sys: &dyn Syscall, root: &Path, unsafe_path: &Path) -> Result<PathBuf, Errno> {
    fn parts(path: &Path) -> Vec<OsString> {
        path.components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect()
    }
    let mut pending = parts(unsafe_path);
    pending.reverse();
    let mut resolved = PathBuf::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = root.join(&resolved).join(&part);
        match sys.read_link(&candidate) {
            Ok(target) => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                if target.is_absolute() {
                    resolved.clear();
                }
                pending.extend(parts(&target).into_iter().rev());
            }
            Err(Errno::EINVAL | Errno::ENOENT) => resolved.push(part),
            Err(e) => return Err(e),
        }
    }
    Ok(root.join(resolved))
}

/// mkdir -p for a path that has no symlinks left in it.
fn mkdir_all(sys: &dyn Syscall, path: &Path) -> Result<(), Errno> {
    match sys.file_kind(path, false) {
        Ok(FileKind::Dir) => Ok(()),
        Ok(_) => Err(Errno::ENOTDIR),
        Err(Errno::ENOENT) => {
            if let Some(parent) = path.parent() {
                mkdir_all(sys, parent)?;
            }
            match sys.mkdir(path, 0o755) {
                Err(Errno::EEXIST) => Ok(()),
                other => other,
            }
        }
        Err(e) => Err(e),
    }
}

/// An empty file to bind a file onto.
fn ensure_file(sys: &dyn Syscall, path: &Path) -> Result<(), Errno> {
    if let Some(parent) = path.parent() {
        mkdir_all(sys, parent)?;
    }
    match sys.create_file(path, 0o644) {
        Err(Errno::EEXIST) => Ok(()),
        other => other,
    }
}

/// Mounts the overlay on `rootfs.target`, with short lower paths relative to `layers_dir` (or
/// binds `rootfs.bind` there).
pub fn mount_overlay(sys: &dyn Syscall, rootfs: &RootfsLayers) -> Result<(), Failure> {
    if let Some(dir) = &rootfs.bind {
        return sys
            .mount(Some(dir), &rootfs.target, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)
            .stage(|| format!("binding {} as the root filesystem", dir.display()));
    }
    if rootfs.lower.is_empty() {
        return Err(Failure::new("mounting the root filesystem", "an overlay needs at least one lower layer"));
    }
    sys.chdir(&rootfs.layers_dir).stage(|| format!("entering the layer directory {}", rootfs.layers_dir.display()))?;
    let data = format!(
        "lowerdir={},upperdir={},workdir={}{}",
        rootfs.lower.join(":"),
        rootfs.upper.display(),
        rootfs.work.display(),
        if rootfs.userxattr { ",userxattr" } else { "" }
    );
    let stage = || format!("mounting the root filesystem on {}", rootfs.target.display());
    match sys.mount(Some(Path::new("overlay")), &rootfs.target, Some("overlay"), MsFlags::empty(), Some(&data)) {
        // A kernel without overlay in user namespaces (before 5.11): fuse-overlayfs, which
        // reads the same layers (whiteouts, user.overlay.opaque), mounted from inside the
        // namespace. Its daemon lives in the container's namespaces and dies with them.
        Err(e @ (Errno::EPERM | Errno::EINVAL | Errno::ENODEV)) if rootfs.userxattr => {
            let data = data.trim_end_matches(",userxattr");
            let args = ["-o".to_string(), data.to_string(), rootfs.target.display().to_string()];
            sys.run_program("fuse-overlayfs", &args).map_err(|msg| {
                Failure::new(
                    stage(),
                    format!("the kernel refused overlay in a user namespace ({e}), and fuse-overlayfs failed: {msg}"),
                )
            })
        }
        other => other.stage(stage),
    }
}

/// One mount of the spec, under `root`.
pub fn mount_one(sys: &dyn Syscall, root: &Path, m: &Mount) -> Result<(), Failure> {
    let dest = m.destination();
    let stage = || format!("mounting {}", dest.display());
    let target = resolve_in_root(sys, root, dest).stage(stage)?;
    let opts = mount_options::parse(m.options().as_deref().unwrap_or_default());
    let typ = m.typ().as_deref().unwrap_or("none");
    let bind = opts.flags.contains(MsFlags::MS_BIND) || typ == "bind";
    if bind {
        let Some(source) = m.source() else {
            return Err(Failure::new(stage(), "a bind mount needs a source"));
        };
        let kind = sys
            .file_kind(source, true)
            .stage(|| format!("mounting {}: source {}", dest.display(), source.display()))?;
        if kind == FileKind::Dir { mkdir_all(sys, &target) } else { ensure_file(sys, &target) }.stage(stage)?;
        let first = MsFlags::MS_BIND | (opts.flags & MsFlags::MS_REC);
        sys.mount(Some(source), &target, None, first, None).stage(stage)?;
        let rest = opts.flags - first;
        if !rest.is_empty() {
            remount_bind(sys, &target, rest).stage(stage)?;
        }
    } else {
        mkdir_all(sys, &target).stage(stage)?;
        // `tmpcopyup`: a tmpfs starts with what the image has below it, as with crun.
        let copy_up = typ == "tmpfs" && m.options().as_deref().unwrap_or_default().iter().any(|o| o == "tmpcopyup");
        let below =
            if copy_up { Some(sys.open(&target, OFlag::O_RDONLY | OFlag::O_DIRECTORY).stage(stage)?) } else { None };
        let source = m.source().as_deref().unwrap_or(Path::new(typ));
        match sys.mount(Some(source), &target, Some(typ), opts.flags, opts.data.as_deref()) {
            // A user namespace that maps only root has no tty group (gid 5) for devpts.
            Err(Errno::EINVAL) if typ == "devpts" && opts.data.as_deref().is_some_and(|d| d.contains("gid=")) => {
                let data: Vec<&str> =
                    opts.data.as_deref().unwrap_or_default().split(',').filter(|o| !o.starts_with("gid=")).collect();
                sys.mount(Some(source), &target, Some(typ), opts.flags, Some(&data.join(","))).stage(stage)?
            }
            other => other.stage(stage)?,
        }
        if let Some(fd) = below {
            let copied = sys.copy_tree(fd, &target);
            let _ = sys.close(fd);
            copied.stage(|| format!("copying the image's {} into its tmpfs", dest.display()))?;
        }
    }
    for propagation in opts.propagation {
        sys.mount(None, &target, None, propagation, None).stage(stage)?;
    }
    Ok(())
}

/// Remounts the bind mount at `target` with `flags`. In a user namespace the flags of a mount
/// from the host that it may not clear (read-only, nosuid, nodev, noexec) are kept, as crun does.
fn remount_bind(sys: &dyn Syscall, target: &Path, flags: MsFlags) -> Result<(), Errno> {
    let base = MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
    match sys.mount(None, target, None, base | flags, None) {
        Err(Errno::EPERM) => {
            let locked = sys.locked_flags(target)?;
            sys.mount(None, target, None, base | flags | locked, None)
        }
        other => other,
    }
}

/// The host's null, zero, full, random, urandom and tty bound onto empty files, and the
/// usual links.
pub fn default_devices(sys: &dyn Syscall, root: &Path) -> Result<(), Failure> {
    for name in DEFAULT_DEVICES {
        let host = Path::new("/dev").join(name);
        let stage = || format!("creating /dev/{name}");
        let target = resolve_in_root(sys, root, &host).stage(stage)?;
        ensure_file(sys, &target).stage(stage)?;
        sys.mount(Some(&host), &target, None, MsFlags::MS_BIND, None).stage(stage)?;
    }
    for (name, to) in DEFAULT_LINKS {
        let stage = || format!("creating the link /dev/{name}");
        let link = resolve_in_root(sys, root, &Path::new("/dev").join(name)).stage(stage)?;
        match sys.symlink(Path::new(to), &link) {
            Err(Errno::EEXIST) | Ok(()) => {}
            Err(e) => return Err(Failure::errno(stage(), e)),
        }
    }
    Ok(())
}

/// The spec's `linux.devices`, created with mknod.
pub fn spec_devices(sys: &dyn Syscall, root: &Path, devices: &[LinuxDevice]) -> Result<(), Failure> {
    for d in devices {
        let stage = || format!("creating the device {}", d.path().display());
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            LinuxDeviceType::A => return Err(Failure::new(stage(), "type `a` is for cgroup rules, not a device")),
        };
        let path = resolve_in_root(sys, root, d.path()).stage(stage)?;
        if let Some(parent) = path.parent() {
            mkdir_all(sys, parent).stage(stage)?;
        }
        let dev = nix::sys::stat::makedev(d.major() as u64, d.minor() as u64);
        match sys.mknod(&path, kind, d.file_mode().unwrap_or(0o666), dev) {
            Err(Errno::EEXIST) | Ok(()) => {}
            // A user namespace may not make device nodes: the host's node is bound instead.
            Err(Errno::EPERM) if sys.file_kind(d.path(), true).is_ok() => {
                ensure_file(sys, &path).stage(stage)?;
                sys.mount(Some(d.path()), &path, None, MsFlags::MS_BIND, None).stage(stage)?;
                continue;
            }
            Err(e) => return Err(Failure::errno(stage(), e)),
        }
        if d.uid().is_some() || d.gid().is_some() {
            sys.chown(&path, d.uid().map(Uid::from_raw), d.gid().map(Gid::from_raw)).stage(stage)?;
        }
    }
    Ok(())
}

/// Creates the working directory when the image lacks it, owned by the process's user.
/// With `create` false, a missing one is an error (a `--workdir` the user gave: only the
/// image's is made, as Podman does).
pub fn ensure_cwd(sys: &dyn Syscall, root: &Path, cwd: &Path, uid: Uid, gid: Gid, create: bool) -> Result<(), Failure> {
    let stage = || format!("creating the working directory {}", cwd.display());
    let path = resolve_in_root(sys, root, cwd).stage(stage)?;
    match sys.file_kind(&path, false) {
        Ok(FileKind::Dir) => Ok(()),
        Ok(_) => Err(Failure::errno(stage(), Errno::ENOTDIR)),
        Err(Errno::ENOENT) if !create => Err(Failure {
            kind: FailKind::NoWorkdir,
            stage: "checking the working directory".into(),
            message: cwd.display().to_string(),
            errno: None,
        }),
        Err(Errno::ENOENT) => {
            mkdir_all(sys, &path).stage(stage)?;
            sys.chown(&path, Some(uid), Some(gid)).stage(stage)
        }
        Err(e) => Err(Failure::errno(stage(), e)),
    }
}

/// Makes `root` the process's `/`; the old root is detached (it stays mounted for the host).
pub fn pivot_root(sys: &dyn Syscall, root: &Path) -> Result<(), Failure> {
    let stage = || format!("pivoting to {}", root.display());
    sys.chdir(root).stage(stage)?;
    // put_old is `.` too: the old root ends up stacked under the new one, then detached.
    sys.pivot_root(Path::new("."), Path::new(".")).stage(stage)?;
    sys.umount2(Path::new("."), MntFlags::MNT_DETACH).stage(stage)?;
    sys.chdir(Path::new("/")).stage(stage)
}

/// Hides each path: /dev/null over files, an empty read-only tmpfs over directories.
pub fn mask_paths(sys: &dyn Syscall, paths: &[String]) -> Result<(), Failure> {
    for p in paths {
        let path = Path::new(p);
        let stage = || format!("masking {p}");
        match sys.file_kind(path, true) {
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(Failure::errno(stage(), e)),
            Ok(FileKind::Dir) => {
                sys.mount(Some(Path::new("tmpfs")), path, Some("tmpfs"), MsFlags::MS_RDONLY, None).stage(stage)?
            }
            Ok(_) => sys.mount(Some(Path::new("/dev/null")), path, None, MsFlags::MS_BIND, None).stage(stage)?,
        }
    }
    Ok(())
}

/// Makes each path read-only: bound on itself, then remounted read-only.
pub fn readonly_paths(sys: &dyn Syscall, paths: &[String]) -> Result<(), Failure> {
    for p in paths {
        let path = Path::new(p);
        let stage = || format!("making {p} read-only");
        match sys.mount(Some(path), path, None, MsFlags::MS_BIND | MsFlags::MS_REC, None) {
            Err(Errno::ENOENT) => continue,
            other => other.stage(stage)?,
        }
        remount_bind(sys, path, MsFlags::MS_RDONLY | MsFlags::MS_REC).stage(stage)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::TestSyscall;

    fn check(links: &[(&str, &str)], input: &str, expected: &str) {
        let sys = TestSyscall::new();
        sys.links.borrow_mut().extend(links.iter().map(|(l, t)| (PathBuf::from(l), PathBuf::from(t))));
        assert_eq!(resolve_in_root(&sys, Path::new("/r"), Path::new(input)), Ok(PathBuf::from(expected)), "{input}");
    }

    #[test]
    fn destinations_stay_inside_the_root() {
        check(&[], "/proc", "/r/proc");
        check(&[], "/a/../../../etc", "/r/etc");
        check(&[("/r/etc", "/../../host-etc")], "/etc/passwd", "/r/host-etc/passwd");
        check(&[("/r/etc", "../../host")], "/etc/x", "/r/host/x");
        check(&[("/r/data", "/var/lib/data"), ("/r/var", "/srv")], "/data/db", "/r/srv/lib/data/db");
        check(&[("/r/a/b", "c")], "/a/b/d", "/r/a/c/d");
        check(&[("/r/a/b", "../../../..")], "/a/b/x", "/r/x");
    }

    fn layers(userxattr: bool) -> RootfsLayers {
        RootfsLayers {
            bind: None,
            layers_dir: "/l".into(),
            lower: vec!["l/A".into(), "l/B".into()],
            upper: "/c/u".into(),
            work: "/c/w".into(),
            target: "/c/r".into(),
            userxattr,
        }
    }

    #[test]
    fn rootless_overlay_uses_user_xattrs_and_falls_back_to_fuse_overlayfs() {
        let sys = TestSyscall::new();
        mount_overlay(&sys, &layers(true)).unwrap();
        assert!(sys.calls.borrow().iter().any(|c| c.ends_with("workdir=/c/w,userxattr")), "{:?}", sys.calls);

        let sys = TestSyscall { fail: Some(("mount overlay".into(), Errno::EPERM)), ..TestSyscall::new() };
        mount_overlay(&sys, &layers(true)).unwrap();
        let calls = sys.calls.borrow();
        assert_eq!(calls.last().unwrap(), "run fuse-overlayfs -o lowerdir=l/A:l/B,upperdir=/c/u,workdir=/c/w /c/r");

        // As root, a refused overlay is an error, not a reason to go through FUSE.
        let sys = TestSyscall { fail: Some(("mount overlay".into(), Errno::EPERM)), ..TestSyscall::new() };
        let e = mount_overlay(&sys, &layers(false)).unwrap_err();
        assert!(!sys.calls.borrow().iter().any(|c| c.starts_with("run ")), "{e:?}");
    }

    #[test]
    fn a_bound_root_is_the_directory_itself_without_an_overlay() {
        let sys = TestSyscall::new();
        mount_overlay(&sys, &RootfsLayers { bind: Some("/srv/root".into()), ..layers(false) }).unwrap();
        let calls = sys.calls.borrow();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert!(calls[0].starts_with("mount /srv/root /c/r") && calls[0].contains("MS_BIND | MS_REC"), "{calls:?}");
    }

    #[test]
    fn a_tmpfs_with_tmpcopyup_gets_what_was_below_it() {
        let tmpfs = |options: &[&str]| {
            oci_spec::runtime::MountBuilder::default()
                .destination("/tmp")
                .typ("tmpfs")
                .source("tmpfs")
                .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
                .build()
                .unwrap()
        };
        let sys = TestSyscall::new().with_files(&[("/r/tmp", FileKind::Dir)]);
        mount_one(&sys, Path::new("/r"), &tmpfs(&["nosuid", "tmpcopyup"])).unwrap();
        let calls: Vec<String> = sys.calls().into_iter().filter(|c| !c.starts_with("close")).collect();
        let at = |prefix: &str| calls.iter().position(|c| c.starts_with(prefix)).unwrap_or_else(|| panic!("{calls:?}"));
        assert!(at("open /r/tmp") < at("mount tmpfs") && at("mount tmpfs") < at("copy_tree"), "{calls:?}");
        assert!(calls[at("copy_tree")].ends_with(" /r/tmp"), "{calls:?}");

        let sys = TestSyscall::new().with_files(&[("/r/tmp", FileKind::Dir)]);
        mount_one(&sys, Path::new("/r"), &tmpfs(&["nosuid"])).unwrap();
        assert!(!sys.calls().iter().any(|c| c.starts_with("copy_tree") || c.starts_with("open")), "{:?}", sys.calls());
    }

    #[test]
    fn symlink_loops_are_refused() {
        let sys = TestSyscall::new();
        sys.links.borrow_mut().insert("/r/a".into(), "/b".into());
        sys.links.borrow_mut().insert("/r/b".into(), "/a".into());
        assert_eq!(resolve_in_root(&sys, Path::new("/r"), Path::new("/a/x")), Err(Errno::ELOOP));
    }
}
