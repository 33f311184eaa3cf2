//! The OCI runtime spec of a container: the image config and the user's options turned into
//! what the runtime executes, with Podman's defaults (mounts, capabilities, masked and read-only
//! paths, rlimits, namespaces, the default seccomp profile). It is written to the container's
//! directory as config.json, and `inspect` shows it.

use std::collections::HashSet;
use std::path::Path;

use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxDeviceCgroupBuilder, LinuxDeviceType,
    LinuxMemoryBuilder, LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResources,
    LinuxResourcesBuilder, Mount, MountBuilder, PosixRlimitBuilder, PosixRlimitType, ProcessBuilder, RootBuilder, Spec,
    SpecBuilder, UserBuilder,
};

use crate::container::security;
use crate::container::user::ExecUser;
use crate::container::{CreateOptions, Limits};

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub use berth_runtime::defaults::{DEFAULT_CAPS, MASKED_PATHS, READONLY_PATHS};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("no command or entrypoint specified for the container: give a command, or use an image with one")]
    NoCommand,
    #[error("building the runtime spec: {0}")]
    Build(String),
}

fn build_err(e: impl std::fmt::Display) -> SpecError {
    SpecError::Build(e.to_string())
}

/// Entrypoint and command as Podman combines them: `--entrypoint` replaces the image's and
/// drops its Cmd; a command given replaces the image's Cmd.
pub fn command_line(image: &ImageConfiguration, opts: &CreateOptions) -> Result<Vec<String>, SpecError> {
    let config = image.config().clone().unwrap_or_default();
    let (entrypoint, default_cmd) = match &opts.entrypoint {
        Some(e) => (e.clone(), Vec::new()),
        None => (config.entrypoint().clone().unwrap_or_default(), config.cmd().clone().unwrap_or_default()),
    };
    let cmd = if opts.command.is_empty() { default_cmd } else { opts.command.clone() };
    let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if args.is_empty() || args[0].is_empty() {
        return Err(SpecError::NoCommand);
    }
    Ok(args)
}

/// The environment: the image's, then the user's (later wins), plus PATH, HOME, HOSTNAME and
/// `container` when missing.
pub fn environment(image: &ImageConfiguration, opts: &CreateOptions, user: &ExecUser, hostname: &str) -> Vec<String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |kv: &str| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match env.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => env.push((k.to_string(), v.to_string())),
        }
    };
    if let Some(c) = image.config().as_ref().filter(|_| !opts.unsetenv_all) {
        for kv in c.env().iter().flatten() {
            set(kv);
        }
    }
    // `--unsetenv` drops the image's and the defaults, never what `--env` sets.
    env.retain(|(k, _)| !opts.unsetenv.contains(k));
    let mut set = |kv: &str| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match env.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => env.push((k.to_string(), v.to_string())),
        }
    };
    for kv in &opts.env {
        set(kv);
    }
    let mut out: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if opts.unsetenv_all {
        return out;
    }
    let has = |k: &str| env.iter().any(|(key, _)| key == k) || opts.unsetenv.iter().any(|u| u == k);
    if !has("PATH") {
        out.push(format!("PATH={DEFAULT_PATH}"));
    }
    if !has("TERM") {
        out.push("TERM=xterm".into());
    }
    if !has("HOME") {
        out.push(format!("HOME={}", user.home));
    }
    if !has("HOSTNAME") {
        out.push(format!("HOSTNAME={hostname}"));
    }
    if !has("container") {
        out.push("container=berth".into());
    }
    out
}

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Result<Mount, SpecError> {
    MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(build_err)
}

/// Podman's size of /dev/shm when `--shm-size` is not given (or 0).
pub const DEFAULT_SHM_SIZE: u64 = 64 << 20;

/// Podman's default mounts, /dev/shm of `shm_size` bytes.
pub fn default_mounts(shm_size: u64) -> Result<Vec<Mount>, SpecError> {
    let shm = format!("size={}k", shm_size.div_ceil(1024));
    Ok(vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"])?,
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        )?,
        mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", &shm])?,
        mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"])?,
        mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"])?,
    ])
}

/// What `--mount type=image` needs: where images are mounted on the host, and where the
/// container keeps the writable layers of those mounted read-write.
pub struct ImageMounts {
    pub storage_root: std::path::PathBuf,
    pub container_dir: std::path::PathBuf,
}

impl ImageMounts {
    /// Where `image mount` mounts an image.
    pub fn mount_point(&self, image_id: &str) -> std::path::PathBuf {
        self.storage_root.join("image-mounts").join(image_id)
    }

    /// `upper/` and `work/` of the image mounted read-write at `destination`.
    pub fn writable_dir(&self, destination: &str) -> std::path::PathBuf {
        use sha2::Digest;
        let key = hex::encode(&sha2::Sha256::digest(destination.as_bytes())[..8]);
        self.container_dir.join("image-mounts").join(key)
    }
}

/// The default mounts, then the container's own files (hosts, resolv.conf, hostname) bound over
/// the image's.
pub fn mounts(
    files: &[(std::path::PathBuf, &'static str)],
    opts: &CreateOptions,
    storage_root: &Path,
    image_mounts: &ImageMounts,
) -> Result<Vec<Mount>, SpecError> {
    use crate::volume::MountRequest;
    let utf8 = |p: &Path| -> Result<String, SpecError> {
        p.to_str().map(str::to_string).ok_or_else(|| SpecError::Build(format!("{} is not UTF-8", p.display())))
    };
    let mut all = default_mounts(opts.shm_size.filter(|s| *s > 0).unwrap_or(DEFAULT_SHM_SIZE))?;
    if opts.security.privileged {
        // A privileged container may write to /sys, as with Podman.
        for m in all.iter_mut().filter(|m| m.destination() == Path::new("/sys")) {
            m.set_options(Some(["nosuid", "noexec", "nodev", "rw"].map(String::from).to_vec()));
        }
    }
    let rootless = crate::rootless::is_rootless();
    if rootless && crate::network::Mode::of(opts) == crate::network::Mode::Host {
        // A user namespace may mount sysfs only for a network namespace of its own: the host's
        // /sys is bound instead, as crun does.
        let ro = if opts.security.privileged { "rw" } else { "ro" };
        for m in all.iter_mut().filter(|m| m.destination() == Path::new("/sys")) {
            *m = mount("/sys", "bind", "/sys", &["rbind", "rprivate", "nosuid", "noexec", "nodev", ro])?;
        }
    }
    // Files under /run go with the user's mounts, after a tmpfs there (`--read-only`'s).
    let mut run_files = Vec::new();
    for (source, dest) in files {
        if !opts.mounts.iter().any(|m| m.destination() == *dest) {
            let m = mount(dest, "bind", &utf8(source)?, &["bind", "rprivate"])?;
            if dest.starts_with("/run/") {
                run_files.push(m)
            } else {
                all.push(m)
            }
        }
    }
    if rootless {
        // A user namespace may not make device nodes: the host's are bound, as Podman does.
        let mut binds: Vec<(String, String)> = Vec::new();
        if opts.security.privileged {
            for d in security::host_devices() {
                let p = utf8(d.path())?;
                binds.push((p.clone(), p));
            }
        }
        for d in &opts.security.devices {
            binds.push((utf8(&d.host)?, utf8(&d.container)?));
        }
        for (host, container) in binds {
            all.push(mount(&container, "bind", &host, &["bind", "rprivate"])?);
        }
    }
    let mut user: Vec<Mount> = run_files;
    for m in &opts.mounts {
        user.push(match m {
            MountRequest::Bind { source, destination, read_only } => {
                let o: &[&str] = if *read_only { &["rbind", "rprivate", "ro"] } else { &["rbind", "rprivate"] };
                mount(destination, "bind", &utf8(source)?, o)?
            }
            MountRequest::Volume { name, destination, read_only, .. } => {
                let source = crate::volume::data_dir(storage_root, name);
                let o: &[&str] = if *read_only { &["rbind", "rprivate", "ro"] } else { &["rbind", "rprivate"] };
                mount(destination, "bind", &utf8(&source)?, o)?
            }
            MountRequest::Tmpfs { destination, options } => {
                let mut o: Vec<&str> = options.iter().map(String::as_str).collect();
                // As Podman: a tmpfs starts with the image's files below it.
                if !o.iter().any(|x| *x == "notmpcopyup" || *x == "tmpcopyup") {
                    o.push("tmpcopyup");
                }
                o.retain(|x| *x != "notmpcopyup");
                mount(destination, "tmpfs", "tmpfs", &o)?
            }
            MountRequest::Image { image_id, destination, read_write, .. } => {
                // The image's mount on the host (`image mount`'s, made when the container starts):
                // bound read-only, or the lower layer of an overlay with the container's writable one.
                let host = utf8(&image_mounts.mount_point(image_id))?;
                if *read_write {
                    let dir = image_mounts.writable_dir(destination);
                    let mut o = vec![
                        format!("lowerdir={host}"),
                        format!("upperdir={}", utf8(&dir.join("upper"))?),
                        format!("workdir={}", utf8(&dir.join("work"))?),
                    ];
                    if crate::rootless::is_rootless() {
                        o.push("userxattr".into());
                    }
                    let o: Vec<&str> = o.iter().map(String::as_str).collect();
                    mount(destination, "overlay", "overlay", &o)?
                } else {
                    mount(destination, "bind", &host, &["rbind", "rprivate", "ro"])?
                }
            }
        });
    }
    // `--read-only` keeps the places programs write to writable, as Podman's --read-only-tmpfs.
    if opts.read_only {
        for (dest, mode) in [("/run", "mode=755"), ("/tmp", "mode=1777"), ("/var/tmp", "mode=1777")] {
            if !opts.mounts.iter().any(|m| m.destination() == dest) {
                user.push(mount(dest, "tmpfs", "tmpfs", &["rw", "nosuid", "nodev", mode])?);
            }
        }
    }
    // Parents before children, as a mount over a mount needs.
    user.sort_by_key(|m| m.destination().components().count());
    all.extend(user);
    Ok(all)
}

/// The cgroup limits of the spec, when any are asked for.
pub fn resources(limits: &Limits) -> Result<Option<LinuxResources>, SpecError> {
    if *limits == Limits::default() {
        return Ok(None);
    }
    let mut r = LinuxResourcesBuilder::default();
    if let Some(memory) = limits.memory {
        let swap = limits.memory_swap.unwrap_or(memory.saturating_mul(2));
        r = r.memory(LinuxMemoryBuilder::default().limit(memory).swap(swap).build().map_err(build_err)?);
    }
    if limits.cpus.is_some() || limits.cpu_shares.is_some() {
        let mut cpu = LinuxCpuBuilder::default();
        if let Some(cpus) = limits.cpus {
            const PERIOD: u64 = 100_000;
            cpu = cpu.period(PERIOD).quota((cpus * PERIOD as f64).round() as i64);
        }
        if let Some(shares) = limits.cpu_shares {
            cpu = cpu.shares(shares);
        }
        r = r.cpu(cpu.build().map_err(build_err)?);
    }
    if let Some(pids) = limits.pids {
        r = r.pids(LinuxPidsBuilder::default().limit(pids).build().map_err(build_err)?);
    }
    Ok(Some(r.build().map_err(build_err)?))
}

pub struct SpecInputs<'a> {
    pub id: &'a str,
    pub image: &'a ImageConfiguration,
    pub opts: &'a CreateOptions,
    pub user: &'a ExecUser,
    pub rootfs: &'a Path,
    pub hostname: &'a str,
    pub network: &'a crate::network::Mode,
    /// The storage root, where named volumes live.
    pub storage_root: &'a Path,
    /// Files bind-mounted over the image's: (host path, path in the container).
    pub files: &'a [(std::path::PathBuf, &'static str)],
    /// The images mounted with `--mount type=image`.
    pub image_mounts: &'a ImageMounts,
}

pub fn build(input: &SpecInputs<'_>) -> Result<Spec, SpecError> {
    let args = command_line(input.image, input.opts)?;
    let config = input.image.config().clone().unwrap_or_default();
    let cwd = input
        .opts
        .workdir
        .clone()
        .or_else(|| config.working_dir().clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    let sec = &input.opts.security;
    let cap_list = security::capabilities(sec, DEFAULT_CAPS).map_err(build_err)?;
    let caps: HashSet<Capability> = cap_list.iter().copied().collect();
    let running_caps = if input.user.uid == 0 { caps.clone() } else { HashSet::new() };
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(running_caps.clone())
        .permitted(running_caps)
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()
        .map_err(build_err)?;
    let rlimits = crate::container::kernel::ulimits(&input.opts.ulimits, input.opts.ulimit_host)
        .iter()
        .map(|u| {
            let typ = serde_json::from_value::<PosixRlimitType>(serde_json::json!(format!(
                "RLIMIT_{}",
                u.name.to_ascii_uppercase()
            )))
            .map_err(build_err)?;
            PosixRlimitBuilder::default().typ(typ).hard(u.hard).soft(u.soft).build().map_err(build_err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let user = UserBuilder::default()
        .uid(input.user.uid)
        .gid(input.user.gid)
        .additional_gids(input.user.additional_gids.clone())
        .umask(0o022u32)
        .build()
        .map_err(build_err)?;
    let process = ProcessBuilder::default()
        .terminal(input.opts.tty)
        .user(user)
        .args(args)
        .env(environment(input.image, input.opts, input.user, input.hostname))
        .cwd(cwd)
        .capabilities(capabilities)
        .rlimits(rlimits)
        .no_new_privileges(sec.no_new_privileges)
        .build()
        .map_err(build_err)?;
    // `--network host` shares the host's network namespace, `--pid host` its pid namespace;
    // every other mode gets its own.
    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
    ]
    .into_iter()
    .filter(|t| !(*t == LinuxNamespaceType::Network && *input.network == crate::network::Mode::Host))
    .filter(|t| !(*t == LinuxNamespaceType::Pid && input.opts.pid_host))
    .map(|t| LinuxNamespaceBuilder::default().typ(t).build().map_err(build_err))
    .collect::<Result<Vec<_>, _>>()?;
    let mut linux = LinuxBuilder::default();
    let mut res = resources(&input.opts.limits)?;
    if !input.opts.security.device_cgroup_rules.is_empty() {
        let rules = input
            .opts
            .security
            .device_cgroup_rules
            .iter()
            .map(|r| {
                let typ = match r.kind {
                    'b' => LinuxDeviceType::B,
                    'c' => LinuxDeviceType::C,
                    _ => LinuxDeviceType::A,
                };
                let mut b = LinuxDeviceCgroupBuilder::default().allow(true).typ(typ).access(r.access.clone());
                if let Some(m) = r.major {
                    b = b.major(m);
                }
                if let Some(m) = r.minor {
                    b = b.minor(m);
                }
                b.build().map_err(build_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        res.get_or_insert_with(Default::default).set_devices(Some(rules));
    }
    if let Some(r) = res {
        linux = linux.resources(r);
    }
    // --privileged: every capability, no seccomp, nothing masked, the host's devices.
    let (masked, readonly): (&[&str], &[&str]) =
        if sec.privileged { (&[], &[]) } else { (MASKED_PATHS, READONLY_PATHS) };
    let seccomp = match sec.seccomp.as_deref() {
        Some("unconfined") => None,
        None if sec.privileged => None,
        None => Some(crate::runtime::seccomp::default_profile(&cap_list)),
        Some(path) => Some(crate::runtime::seccomp::from_file(Path::new(path), &cap_list).map_err(build_err)?),
    };
    let mut devices = if sec.privileged { security::host_devices() } else { Vec::new() };
    for d in &sec.devices {
        devices.push(security::device(&d.host, &d.container, &d.permissions).map_err(build_err)?);
    }
    if crate::rootless::is_rootless() {
        devices.clear(); // bound instead (see `mounts`)
    }
    if !input.opts.sysctls.is_empty() {
        linux = linux.sysctl(
            input.opts.sysctls.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<std::collections::HashMap<_, _>>(),
        );
    }
    linux = linux
        .namespaces(namespaces)
        .masked_paths(masked.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .readonly_paths(readonly.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .cgroups_path(format!("{}/{}", crate::rootless::cgroup_parent(), input.id))
        .devices(devices);
    if let Some(profile) = seccomp {
        linux = linux.seccomp(profile);
    }
    let linux = linux.build().map_err(build_err)?;
    let mut annotations = std::collections::HashMap::new();
    if input.opts.init {
        annotations.insert(berth_runtime::process::init::ANNOTATION.to_string(), "true".to_string());
    }
    // the user's, but never one of Berth's own (those below decide what runs)
    for (k, v) in input.opts.annotations.iter().filter(|(k, _)| !k.starts_with("run.berth.")) {
        annotations.insert(k.clone(), v.clone());
    }
    if input.opts.pause {
        annotations.insert(berth_runtime::process::init::PAUSE_ANNOTATION.to_string(), "true".to_string());
    }
    SpecBuilder::default()
        .version("1.0.2")
        .annotations(annotations)
        .process(process)
        .root(RootBuilder::default().path(input.rootfs).readonly(input.opts.read_only).build().map_err(build_err)?)
        .hostname(input.hostname)
        .mounts(mounts(input.files, input.opts, input.storage_root, input.image_mounts)?)
        .linux(linux)
        .build()
        .map_err(build_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageConfiguration {
        let mut v = serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}, "config": {}});
        if let Some(e) = entrypoint {
            v["config"]["Entrypoint"] = serde_json::json!(e);
        }
        if let Some(c) = cmd {
            v["config"]["Cmd"] = serde_json::json!(c);
        }
        serde_json::from_value(v).unwrap()
    }

    fn check(img: ImageConfiguration, entrypoint: Option<&[&str]>, command: &[&str], expected: Result<&[&str], ()>) {
        let opts = CreateOptions {
            entrypoint: entrypoint.map(|e| e.iter().map(|s| s.to_string()).collect()),
            command: command.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let got = command_line(&img, &opts).map_err(|_| ());
        assert_eq!(
            got,
            expected.map(|e| e.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            "{entrypoint:?} {command:?}"
        );
    }

    #[test]
    fn entrypoint_and_cmd_combine_like_podman() {
        check(image(None, Some(&["sh"])), None, &[], Ok(&["sh"]));
        check(image(None, Some(&["sh"])), None, &["echo", "hi"], Ok(&["echo", "hi"]));
        check(image(Some(&["/ep"]), Some(&["a"])), None, &[], Ok(&["/ep", "a"]));
        check(image(Some(&["/ep"]), Some(&["a"])), None, &["b"], Ok(&["/ep", "b"]));
        check(image(Some(&["/ep"]), Some(&["a"])), Some(&["/other"]), &[], Ok(&["/other"]));
        check(image(None, Some(&["a"])), Some(&["/other"]), &["x"], Ok(&["/other", "x"]));
        check(image(None, None), None, &[], Err(()));
        check(image(None, Some(&["sh"])), Some(&[""]), &[], Err(()));
    }

    #[test]
    fn environment_merges_and_fills_defaults() {
        let mut img = image(None, Some(&["sh"]));
        let mut cfg = img.config().clone().unwrap();
        cfg.set_env(Some(vec!["A=1".into(), "PATH=/bin".into()]));
        img.set_config(Some(cfg));
        let opts = CreateOptions { env: vec!["A=2".into(), "B=3".into()], ..Default::default() };
        let user = ExecUser { uid: 0, gid: 0, additional_gids: vec![], home: "/root".into() };
        assert_eq!(
            environment(&img, &opts, &user, "h"),
            ["A=2", "PATH=/bin", "B=3", "TERM=xterm", "HOME=/root", "HOSTNAME=h", "container=berth"]
        );
        let opts = CreateOptions { unsetenv: vec!["A".into(), "TERM".into()], ..opts };
        assert_eq!(
            environment(&img, &opts, &user, "h"),
            ["PATH=/bin", "A=2", "B=3", "HOME=/root", "HOSTNAME=h", "container=berth"]
        );
        let opts = CreateOptions { unsetenv_all: true, env: vec!["TERM=abc".into()], ..Default::default() };
        assert_eq!(environment(&img, &opts, &user, "h"), ["TERM=abc"]);
    }
}
