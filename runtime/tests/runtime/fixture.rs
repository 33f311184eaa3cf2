//! A busybox root filesystem from the host's busybox-static, an overlay for it, a spec with
//! Podman's defaults, and a way to run a container and collect its output.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use berth_runtime::sys::LinuxSyscall;
use berth_runtime::{launch, Launch, RootfsLayers, RuntimeError, DEFAULT_PATH};
use nix::fcntl::OFlag;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{pipe2, Pid};
use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxNamespaceBuilder, LinuxNamespaceType, Mount, MountBuilder,
    PosixRlimitBuilder, PosixRlimitType, ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
};
use tempfile::TempDir;

pub const HOST_BUSYBOX: &str = "/bin/busybox";
const APPLETS: &[&str] = &[
    "sh", "cat", "id", "ls", "hostname", "grep", "echo", "sleep", "true", "mount", "stat", "ps", "head", "pwd",
    "readlink",
];

pub use berth_runtime::defaults::{DEFAULT_CAPS as PODMAN_CAPS, MASKED_PATHS, READONLY_PATHS};

/// A container's directories: `lower` (busybox), `upper`, `work`, and the empty `root`.
pub struct Fixture {
    /// Removed, with everything in it, when the fixture is dropped.
    _dir: TempDir,
    pub rootfs: RootfsLayers,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let lower = dir.path().join("lower");
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/app"] {
        std::fs::create_dir_all(lower.join(d)).unwrap();
    }
    std::fs::copy(HOST_BUSYBOX, lower.join("bin/busybox"))
        .unwrap_or_else(|e| panic!("copying {HOST_BUSYBOX} (install busybox-static): {e}"));
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", lower.join("bin").join(applet)).unwrap();
    }
    std::fs::write(lower.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
        .unwrap();
    std::fs::write(lower.join("etc/group"), "root:x:0:\nstaff:x:50:app\napp:x:1000:\n").unwrap();
    for d in ["upper", "work", "root"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    let rootfs = RootfsLayers {
        bind: None,
        layers_dir: dir.path().to_path_buf(),
        lower: vec!["lower".into()],
        upper: dir.path().join("upper"),
        work: dir.path().join("work"),
        target: dir.path().join("root"),
        userxattr: false,
    };
    Fixture { _dir: dir, rootfs }
}

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .build()
        .unwrap()
}

/// What a test changes in the spec.
pub struct Opts<'a> {
    pub args: &'a [&'a str],
    pub uid: u32,
    pub gid: u32,
    pub groups: &'a [u32],
    pub hostname: &'a str,
    pub cwd: &'a str,
    pub nofile: u64,
    pub extra_mounts: Vec<Mount>,
}

impl<'a> Opts<'a> {
    pub fn new(args: &'a [&'a str]) -> Self {
        Opts {
            args,
            uid: 0,
            gid: 0,
            groups: &[],
            hostname: "berth-test",
            cwd: "/",
            nofile: 1024,
            extra_mounts: Vec::new(),
        }
    }
}

/// A spec as Podman makes it: its mounts, capabilities, masked and read-only paths, namespaces.
pub fn spec(o: &Opts) -> Spec {
    let caps: HashSet<Capability> = PODMAN_CAPS.iter().copied().collect();
    let running = if o.uid == 0 { caps.clone() } else { HashSet::new() };
    let process = ProcessBuilder::default()
        .user(
            UserBuilder::default()
                .uid(o.uid)
                .gid(o.gid)
                .additional_gids(o.groups.to_vec())
                .umask(0o022u32)
                .build()
                .unwrap(),
        )
        .args(o.args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .env(vec![format!("PATH={DEFAULT_PATH}"), "HOME=/root".into(), format!("HOSTNAME={}", o.hostname)])
        .cwd(o.cwd)
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps)
                .effective(running.clone())
                .permitted(running)
                .inheritable(HashSet::new())
                .ambient(HashSet::new())
                .build()
                .unwrap(),
        )
        .rlimits(vec![PosixRlimitBuilder::default()
            .typ(PosixRlimitType::RlimitNofile)
            .soft(o.nofile)
            .hard(o.nofile)
            .build()
            .unwrap()])
        .no_new_privileges(false)
        .build()
        .unwrap();
    let mut mounts = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
    ];
    mounts.extend(o.extra_mounts.iter().cloned());
    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
    ]
    .into_iter()
    .map(|t| LinuxNamespaceBuilder::default().typ(t).build().unwrap())
    .collect::<Vec<_>>();
    SpecBuilder::default()
        .version("1.0.2")
        .process(process)
        .root(RootBuilder::default().path("rootfs").readonly(false).build().unwrap())
        .hostname(o.hostname)
        .mounts(mounts)
        .linux(
            LinuxBuilder::default()
                .namespaces(namespaces)
                .masked_paths(MASKED_PATHS.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .readonly_paths(READONLY_PATHS.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// A started container with its stdin's write end and its stdout and stderr read ends.
pub struct Running {
    pub pid: Pid,
    pub stdin: Option<OwnedFd>,
    stdout: File,
    stderr: File,
}

pub struct Output {
    pub status: WaitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Running {
    pub fn wait(mut self) -> Output {
        drop(self.stdin.take());
        let (mut stdout, mut stderr) = (String::new(), String::new());
        self.stdout.read_to_string(&mut stdout).unwrap();
        self.stderr.read_to_string(&mut stderr).unwrap();
        let status = waitpid(self.pid, None).unwrap();
        Output { status, stdout, stderr }
    }
}

pub fn start(rootfs: &RootfsLayers, spec: &Spec) -> Result<Running, RuntimeError> {
    let cloexec_pipe = || pipe2(OFlag::O_CLOEXEC).unwrap();
    let ((in_r, in_w), (out_r, out_w), (err_r, err_w)) = (cloexec_pipe(), cloexec_pipe(), cloexec_pipe());
    let mut before_exec = |_| Ok(());
    let started = launch(
        &LinuxSyscall,
        Launch {
            spec,
            rootfs,
            stdio: [in_r.as_raw_fd(), out_w.as_raw_fd(), err_w.as_raw_fd()],
            console: None,
            before_exec: &mut before_exec,
            seccomp: &|| Ok(()),
            preserve_fds: 0,
            workdir_must_exist: false,
        },
    )?;
    Ok(Running { pid: started.pid, stdin: Some(in_w), stdout: File::from(out_r), stderr: File::from(err_r) })
}

/// Runs a container to its end.
pub fn run(o: &Opts) -> Result<Output, RuntimeError> {
    let fx = fixture();
    let out = start(&fx.rootfs, &spec(o))?.wait();
    assert_unmounted(&fx.rootfs.target);
    Ok(out)
}

/// Runs `sh -c script` as root and expects it to succeed.
pub fn sh(script: &str) -> String {
    let out = run(&Opts::new(&["sh", "-c", script])).unwrap();
    assert_eq!(out.status, WaitStatus::Exited(out_pid(&out), 0), "{script}: stderr {:?}", out.stderr);
    out.stdout
}

fn out_pid(out: &Output) -> Pid {
    out.status.pid().unwrap()
}

/// Nothing is mounted on or under `target` in our mount namespace.
pub fn assert_unmounted(target: &Path) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let target = target.to_str().unwrap();
    assert!(!mountinfo.contains(target), "{target} is mounted in the host's namespace:\n{mountinfo}");
}
