//! The fork/clone chain: from an OCI runtime spec to the container's init, exec'd.
//!
//! [`launch`] must be called from a single-threaded process (Berth's monitor). The child is a
//! clone of the caller's address space; a lock held by another thread at that moment (malloc's,
//! for one) would stay locked forever in the child, which allocates.
//!
//! Stages, in the parent (the caller):
//! 1. Read the spec: which namespaces are new (clone flags) and which are joined (`path`).
//! 2. Make two close-on-exec pipes: `go` (parent to child) and `err` (child to parent); open the
//!    namespaces to join.
//! 3. `clone` the child into its new mount, pid, uts, ipc and network namespaces. A pid
//!    namespace to join is entered around the clone (`setns` only affects children), then left.
//! 4. Run `before_exec(pid)` (the caller puts the child in its cgroup), then write one byte to
//!    `go`. If `before_exec` fails the child is killed and reaped.
//! 5. Read `err` until end of file. The child's copy of its write end closes on execve, so end
//!    of file with nothing read means the container's command is running: return its pid. A
//!    report means the child failed at a stage: reap it and return the error.
//!
//! Stages, in the child (see [`Child::run`]):
//! 1. Close the parent's pipe ends, install `stdio` as fds 0, 1, 2, mark every other fd
//!    close-on-exec, and wait for `go` (so the cgroup is set before anything else happens);
//!    reset signal dispositions and the signal mask.
//! 2. Join the namespaces given by path; unshare the cgroup namespace (now that the process is in
//!    its cgroup, which becomes the namespace's root); `setsid`.
//! 3. The root filesystem, in the new mount namespace: make `/` rslave (nothing propagates back
//!    to the host), mount the overlay on the target, the spec's mounts under it, the default
//!    devices and links, the spec's devices, create the working directory (or fail when it had to
//!    exist: `Launch::workdir_must_exist`); pivot_root into the
//!    target and detach the old root; mask paths, make paths read-only, and make the root
//!    read-only when the spec says so.
//! 4. The hostname (new UTS namespace), `lo` up (new network namespace), rlimits (clamped to
//!    the hard limit when raising it is not allowed), the umask.
//! 5. The caller's seccomp filter, unless no_new_privs is asked for (installing one needs
//!    CAP_SYS_ADMIN then); drop the bounding set (needs CAP_SETPCAP, which the change of user
//!    takes away from the effective set), then with PR_SET_KEEPCAPS: setgroups, setresgid,
//!    setresuid; then capset and the ambient set.
//! 6. chdir to the working directory (as the user), no_new_privs, resolve the command in the
//!    container's PATH, the seccomp filter when no_new_privs, execve. With `--init` (see
//!    [`init`]) the process first names itself `berth-init`, blocks every signal and clones the
//!    child that execs; it stays as pid 1, reaping and forwarding signals.
//!
//! A failing stage writes `Failure` to `err` and exits 1.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::resource::Resource;
use nix::sys::signal::Signal;
use nix::unistd::{AccessFlags, Gid, Pid, Uid};
use oci_spec::runtime::{LinuxNamespaceType, PosixRlimit, PosixRlimitType, Process, Spec};

use crate::capabilities;
use crate::error::{FailKind, Failure, RuntimeError, Stage};
use crate::mount_options;
use crate::rootfs;
pub use crate::rootfs::RootfsLayers;
use crate::sys::{FileKind, Syscall};

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub struct Launch<'a> {
    pub spec: &'a Spec,
    pub rootfs: &'a RootfsLayers,
    /// Become the container's fd 0, 1, 2.
    pub stdio: [RawFd; 3],
    /// With a terminal (`process.terminal`): a unix socket on which the child, once in the
    /// container's root, sends the master of a pseudo-terminal from the container's own devpts;
    /// its other end replaces `stdio`.
    pub console: Option<RawFd>,
    /// Called in the parent with the child's pid after clone and before the child may exec
    /// (the caller puts it in its cgroup here). An Err aborts the launch.
    pub before_exec: &'a mut dyn FnMut(Pid) -> Result<(), String>,
    /// Installs the caller's seccomp filter in the child: before the capabilities are dropped
    /// (installing needs CAP_SYS_ADMIN) or, with no_new_privs, just before execve.
    pub seccomp: &'a dyn Fn() -> Result<(), String>,
    /// The caller's fds 3 to 3+N-1 stay open in the container (`--preserve-fds`), as they are
    /// in the caller (open without close-on-exec); every other fd above 2 is closed.
    pub preserve_fds: u32,
    /// The process's working directory must exist once the mounts are made (a `--workdir`
    /// the user gave); otherwise it is created.
    pub workdir_must_exist: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The container's init, as seen from the caller's pid namespace.
    pub pid: Pid,
}

/// What the spec's namespaces mean for the clone.
#[derive(Debug, PartialEq, Eq)]
struct Namespaces {
    /// New namespaces created by clone itself.
    clone_flags: CloneFlags,
    /// Existing namespaces the child joins, the mount namespace last.
    join: Vec<(PathBuf, CloneFlags)>,
    /// An existing pid namespace: entered by the parent around the clone.
    pid_path: Option<PathBuf>,
    /// A new cgroup namespace, unshared by the child once it is in its cgroup.
    new_cgroup: bool,
    new_uts: bool,
    new_net: bool,
}

impl Namespaces {
    fn from_spec(spec: &Spec) -> Result<Self, RuntimeError> {
        let mut ns = Namespaces {
            clone_flags: CloneFlags::empty(),
            join: Vec::new(),
            pid_path: None,
            new_cgroup: false,
            new_uts: false,
            new_net: false,
        };
        let mut has_mount = false;
        for n in spec.linux().as_ref().and_then(|l| l.namespaces().as_ref()).into_iter().flatten() {
            let flag = match n.typ() {
                LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
                LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
                LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
                LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
                LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
                LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
                other @ (LinuxNamespaceType::User | LinuxNamespaceType::Time) => {
                    return Err(RuntimeError::Unsupported(format!("{other} namespaces are not supported")))
                }
            };
            has_mount |= flag == CloneFlags::CLONE_NEWNS;
            match n.path() {
                Some(path) if flag == CloneFlags::CLONE_NEWPID => ns.pid_path = Some(path.clone()),
                Some(path) => ns.join.push((path.clone(), flag)),
                None if flag == CloneFlags::CLONE_NEWCGROUP => ns.new_cgroup = true,
                None => ns.clone_flags |= flag,
            }
        }
        if !has_mount {
            return Err(RuntimeError::Unsupported("a mount namespace is required".into()));
        }
        ns.join.sort_by_key(|(_, flag)| *flag == CloneFlags::CLONE_NEWNS);
        ns.new_uts = ns.clone_flags.contains(CloneFlags::CLONE_NEWUTS);
        ns.new_net = ns.clone_flags.contains(CloneFlags::CLONE_NEWNET);
        Ok(ns)
    }
}

/// A descriptor of the parent's, closed when dropped.
struct Fd<'s> {
    sys: &'s dyn Syscall,
    fd: RawFd,
}

impl Drop for Fd<'_> {
    fn drop(&mut self) {
        let _ = self.sys.close(self.fd);
    }
}

fn parent_err(stage: &str) -> impl FnOnce(Errno) -> RuntimeError + '_ {
    move |source| RuntimeError::Parent { stage: stage.into(), source }
}

/// What the parent opens before the clone: the kernel's last capability, the go and error
/// pipes, and the namespaces to join (`hint` ends the error when one can't be opened).
#[allow(clippy::type_complexity)]
fn prepare<'s>(
    sys: &'s dyn Syscall,
    ns: &Namespaces,
    hint: &str,
) -> Result<(u32, Fd<'s>, Fd<'s>, Fd<'s>, Fd<'s>, Vec<(Fd<'s>, CloneFlags)>), RuntimeError> {
    let last_cap = sys.last_cap().map_err(parent_err("reading the kernel's last capability"))?;
    let pipe = || sys.pipe().map(|(r, w)| (Fd { sys, fd: r }, Fd { sys, fd: w }));
    let (go_r, go_w) = pipe().map_err(parent_err("creating a pipe"))?;
    let (err_r, err_w) = pipe().map_err(parent_err("creating a pipe"))?;
    let mut joins = Vec::new();
    for (path, flag) in &ns.join {
        let fd = sys.open(path, OFlag::O_RDONLY).map_err(|source| RuntimeError::Parent {
            stage: format!("opening the namespace {}{hint}", path.display()),
            source,
        })?;
        joins.push((Fd { sys, fd }, *flag));
    }
    Ok((last_cap, go_r, go_w, err_r, err_w, joins))
}

/// Starts the spec's process in new namespaces on the overlay root, as described in the module
/// documentation. Only call it from a single-threaded process.
pub fn launch(sys: &dyn Syscall, launch: Launch) -> Result<Started, RuntimeError> {
    let process =
        launch.spec.process().as_ref().ok_or_else(|| RuntimeError::Unsupported("the spec has no process".into()))?;
    if process.args().as_ref().is_none_or(|a| a.is_empty() || a[0].is_empty()) {
        return Err(RuntimeError::Unsupported("the spec's process has no command".into()));
    }
    let ns = Namespaces::from_spec(launch.spec)?;
    let (last_cap, go_r, go_w, err_r, err_w, joins) = prepare(sys, &ns, "")?;

    let child = Child {
        process,
        spec: Some(launch.spec),
        rootfs: Some(launch.rootfs),
        stdio: launch.stdio,
        seccomp: launch.seccomp,
        console: launch.console,
        preserve_fds: launch.preserve_fds,
        workdir_must_exist: launch.workdir_must_exist,
        ns: &ns,
        joins: joins.iter().map(|(fd, flag)| (fd.fd, *flag)).collect(),
        go: go_r.fd,
        go_parent: go_w.fd,
        err: err_w.fd,
        err_parent: err_r.fd,
        last_cap,
        init: init::asked(launch.spec),
        pause: init::pause_asked(launch.spec),
    };
    let mut entry = || child.main(sys);
    let pid = match &ns.pid_path {
        None => sys.clone(&mut entry, ns.clone_flags).map_err(parent_err("creating the container's process"))?,
        Some(path) => clone_in_pid_ns(sys, path, &mut entry, ns.clone_flags)?,
    };
    drop((go_r, err_w, joins));
    release(sys, pid, launch.before_exec, go_w, err_r)
}

/// The parent's side after the clone (stages 4 and 5 of the module doc): the caller's
/// `before_exec`, then the go-ahead, then the child's report: nothing (it exec'd) or a failure.
fn release(
    sys: &dyn Syscall,
    pid: Pid,
    before_exec: &mut dyn FnMut(Pid) -> Result<(), String>,
    go_w: Fd<'_>,
    err_r: Fd<'_>,
) -> Result<Started, RuntimeError> {
    let abort = || {
        let _ = sys.kill(pid, Signal::SIGKILL);
        let _ = sys.waitpid(pid);
    };
    if let Err(message) = before_exec(pid) {
        abort();
        return Err(RuntimeError::BeforeExec(message));
    }
    if let Err(e) = write_all(sys, go_w.fd, &[1]) {
        abort();
        return Err(parent_err("releasing the process")(e));
    }
    drop(go_w);
    let report = read_to_end(sys, err_r.fd).map_err(parent_err("reading the process's start report"))?;
    if report.is_empty() {
        return Ok(Started { pid });
    }
    let _ = sys.waitpid(pid);
    Err(Failure::decode(&String::from_utf8_lossy(&report)))
}

/// What `exec` runs in a running container.
pub struct Exec<'a> {
    /// The container's init, as the caller's pid namespace sees it.
    pub init_pid: Pid,
    /// The process: command, environment, working directory, user, capabilities, rlimits,
    /// no_new_privs, terminal (stdin is then made the controlling terminal).
    pub process: &'a Process,
    pub stdio: [RawFd; 3],
    /// As `Launch::console`.
    pub console: Option<RawFd>,
    /// Runs in the parent once the child exists (the caller puts it in the container's cgroup).
    pub before_exec: &'a mut dyn FnMut(Pid) -> Result<(), String>,
    pub seccomp: &'a dyn Fn() -> Result<(), String>,
}

/// Starts a process inside a running container, `runc exec`'s job: the child joins the init's
/// ipc, uts, network, cgroup and (last) mount namespaces, is cloned into its pid namespace, and
/// then goes through the same stages as a launch from 4 on (limits, seccomp, user, capabilities,
/// working directory, exec). Only call it from a single-threaded process.
pub fn exec(sys: &dyn Syscall, exec: Exec) -> Result<Started, RuntimeError> {
    if exec.process.args().as_ref().is_none_or(|a| a.is_empty() || a[0].is_empty()) {
        return Err(RuntimeError::Unsupported("no command to execute".into()));
    }
    let ns_path = |name: &str| PathBuf::from(format!("/proc/{}/ns/{name}", exec.init_pid));
    let ns = Namespaces {
        clone_flags: CloneFlags::empty(),
        join: vec![
            (ns_path("ipc"), CloneFlags::CLONE_NEWIPC),
            (ns_path("uts"), CloneFlags::CLONE_NEWUTS),
            (ns_path("net"), CloneFlags::CLONE_NEWNET),
            (ns_path("cgroup"), CloneFlags::CLONE_NEWCGROUP),
            (ns_path("mnt"), CloneFlags::CLONE_NEWNS),
        ],
        pid_path: Some(ns_path("pid")),
        new_cgroup: false,
        new_uts: false,
        new_net: false,
    };
    let (last_cap, go_r, go_w, err_r, err_w, joins) = prepare(sys, &ns, ": is the container running?")?;
    let child = Child {
        process: exec.process,
        spec: None,
        rootfs: None,
        stdio: exec.stdio,
        seccomp: exec.seccomp,
        console: exec.console,
        preserve_fds: 0,
        workdir_must_exist: false,
        ns: &ns,
        joins: joins.iter().map(|(fd, flag)| (fd.fd, *flag)).collect(),
        go: go_r.fd,
        go_parent: go_w.fd,
        err: err_w.fd,
        err_parent: err_r.fd,
        last_cap,
        init: false,
        pause: false,
    };
    let mut entry = || child.main(sys);
    let pid_path = ns.pid_path.as_deref().expect("set above");
    let pid = clone_in_pid_ns(sys, pid_path, &mut entry, CloneFlags::empty())?;
    drop((go_r, err_w, joins));
    release(sys, pid, exec.before_exec, go_w, err_r)
}

/// Clones into the pid namespace at `path`: setns there (it only applies to children), clone,
/// then back to our own.
fn clone_in_pid_ns(
    sys: &dyn Syscall,
    path: &Path,
    entry: &mut dyn FnMut() -> isize,
    flags: CloneFlags,
) -> Result<Pid, RuntimeError> {
    let open = |p: &Path| {
        sys.open(p, OFlag::O_RDONLY)
            .map(|fd| Fd { sys, fd })
            .map_err(|source| RuntimeError::Parent { stage: format!("opening the namespace {}", p.display()), source })
    };
    let own = open(Path::new("/proc/self/ns/pid"))?;
    let target = open(path)?;
    sys.setns(target.fd, CloneFlags::CLONE_NEWPID).map_err(parent_err("joining the pid namespace"))?;
    let pid = sys.clone(entry, flags);
    match sys.setns(own.fd, CloneFlags::CLONE_NEWPID) {
        // In a user namespace, the host's pid namespace can't be entered again; the caller (a
        // single-purpose exec helper) clones nothing more.
        Err(Errno::EPERM) if pid.is_ok() => {}
        other => other.map_err(parent_err("returning to our own pid namespace"))?,
    }
    pid.map_err(parent_err("creating the container's process"))
}

fn write_all(sys: &dyn Syscall, fd: RawFd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match sys.write(fd, buf)? {
            0 => return Err(Errno::EPIPE),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

/// Reads to end of file, keeping at most 64 KiB (a report is a few lines).
fn read_to_end(sys: &dyn Syscall, fd: RawFd) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sys.read(fd, &mut buf)? {
            0 => return Ok(out),
            n if out.len() < 64 * 1024 => out.extend_from_slice(&buf[..n]),
            _ => {}
        }
    }
}

/// Everything the child needs, prepared by the parent; in the child it is a copy.
struct Child<'a> {
    process: &'a Process,
    /// The container's spec and layers, to build its root; None for an exec, which joins a
    /// root that exists.
    spec: Option<&'a Spec>,
    rootfs: Option<&'a RootfsLayers>,
    stdio: [RawFd; 3],
    seccomp: &'a dyn Fn() -> Result<(), String>,
    console: Option<RawFd>,
    /// Fds 3 to 3+N-1 are left as they are (see `Launch::preserve_fds`).
    preserve_fds: u32,
    workdir_must_exist: bool,
    ns: &'a Namespaces,
    joins: Vec<(RawFd, CloneFlags)>,
    go: RawFd,
    go_parent: RawFd,
    err: RawFd,
    err_parent: RawFd,
    last_cap: u32,
    /// `--init` (the spec's `init::ANNOTATION`): this process stays as pid 1 and runs the
    /// command as its child.
    init: bool,
    /// A pod's infra container (the spec's `init::PAUSE_ANNOTATION`): this process stays as
    /// pid 1 and runs no command.
    pause: bool,
}

impl Child<'_> {
    /// The child's entry point: only returns (the exit code) when a stage failed.
    fn main(&self, sys: &dyn Syscall) -> isize {
        let mut err = self.err;
        match self.run(sys, &mut err) {
            Ok(init_exit) => init_exit,
            Err(failure) => {
                let _ = write_all(sys, err, failure.encode().as_bytes());
                1
            }
        }
    }

    /// Returns only when a stage failed, or (`--init`) with the init's exit code.
    fn run(&self, sys: &dyn Syscall, err: &mut RawFd) -> Result<isize, Failure> {
        // 1. Descriptors, then wait for the parent.
        let stdio_stage = || "setting up the standard streams".to_string();
        let _ = sys.close(self.go_parent);
        let _ = sys.close(self.err_parent);
        *err = move_above_stdio(sys, self.err).stage(stdio_stage)?;
        let go = move_above_stdio(sys, self.go).stage(stdio_stage)?;
        let console = match self.console {
            Some(fd) => Some(move_above_stdio(sys, fd).stage(stdio_stage)?),
            None => None,
        };
        let mut moved = [0; 3];
        for (m, fd) in moved.iter_mut().zip(self.stdio) {
            *m = sys.dup_above(fd, 3).stage(stdio_stage)?;
        }
        for (target, fd) in moved.into_iter().enumerate() {
            sys.dup2(fd, target as RawFd).stage(stdio_stage)?;
            let _ = sys.close(fd);
        }
        let first_closed = 3i32.saturating_add(i32::try_from(self.preserve_fds).unwrap_or(i32::MAX));
        sys.cloexec_from(first_closed).stage(stdio_stage)?;
        let wait_stage = || "waiting for the parent".to_string();
        if sys.read(go, &mut [0u8; 1]).stage(wait_stage)? == 0 {
            return Err(Failure::new(wait_stage(), "the parent gave up on the launch"));
        }
        let _ = sys.close(go);
        sys.reset_signals().stage(|| "resetting signal handlers".into())?;

        // 2. Namespaces and session.
        for &(fd, flag) in &self.joins {
            sys.setns(fd, flag).stage(|| format!("joining the namespace {flag:?}"))?;
        }
        if self.ns.new_cgroup {
            sys.unshare(CloneFlags::CLONE_NEWCGROUP).stage(|| "creating the cgroup namespace".into())?;
        }
        sys.setsid().stage(|| "starting a session".into())?;

        // 3. The root filesystem (an exec has joined the container's, and is at its root).
        if let (Some(spec), Some(rootfs)) = (self.spec, self.rootfs) {
            self.root_filesystem(sys, spec, rootfs)?;
        }
        let user = self.process.user();
        let (uid, gid) = (Uid::from_raw(user.uid()), Gid::from_raw(user.gid()));
        let cwd = self.process.cwd();
        if self.process.terminal().unwrap_or(false) {
            // The terminal comes from the container's own devpts (so `tty` and /dev/pts agree
            // inside); its master goes to whoever holds the other end of the console socket.
            if let Some(socket) = console {
                let stage = || "creating the container's terminal".to_string();
                let (master, slave) = sys.open_console().stage(stage)?;
                sys.send_fd(socket, master).stage(stage)?;
                let _ = sys.close(master);
                let _ = sys.close(socket);
                for target in 0..3 {
                    sys.dup2(slave, target).stage(stage)?;
                }
                if slave > 2 {
                    let _ = sys.close(slave);
                }
            }
            sys.set_controlling_terminal(0).stage(|| "making the terminal the controlling one".into())?;
        }

        // 4. Host name, loopback, limits.
        if let (true, Some(name)) = (self.ns.new_uts, self.spec.and_then(|s| s.hostname().as_ref())) {
            sys.sethostname(name).stage(|| format!("setting the hostname {name:?}"))?;
        }
        if self.ns.new_net {
            sys.set_link_up("lo").stage(|| "bringing up lo".into())?;
        }
        set_rlimits(sys, self.process.rlimits().as_deref().unwrap_or_default())?;
        if let Some(mask) = user.umask() {
            sys.umask(mask);
        }

        // 5. Seccomp, user and capabilities. Without no_new_privs, installing a filter needs
        //    CAP_SYS_ADMIN, which is about to go: install it now (as runc does); with it, as
        //    late as possible, just before exec.
        let no_new_privs = self.process.no_new_privileges().unwrap_or(false);
        if !no_new_privs {
            (self.seccomp)().map_err(|e| Failure::new("installing the seccomp filter", e))?;
        }
        let caps = self.process.capabilities().as_ref();
        capabilities::drop_bounding(sys, caps, self.last_cap)?;
        let groups: Vec<Gid> = user.additional_gids().iter().flatten().map(|&g| Gid::from_raw(g)).collect();
        let user_stage = || format!("changing to user {uid}:{gid}");
        sys.set_keep_caps(true).stage(user_stage)?;
        match sys.setgroups(&groups) {
            // A user namespace mapped without newgidmap denies setgroups; with no groups to
            // set, there is nothing to lose.
            Err(Errno::EPERM) if groups.is_empty() => {}
            other => other.stage(user_stage)?,
        }
        sys.setresgid(gid).stage(user_stage)?;
        sys.setresuid(uid).stage(user_stage)?;
        sys.set_keep_caps(false).stage(user_stage)?;
        capabilities::apply(sys, caps)?;

        // 6. Working directory, no_new_privs, command, the caller's last step, exec.
        sys.chdir(cwd).stage(|| format!("entering the working directory {}", cwd.display()))?;
        if no_new_privs {
            sys.set_no_new_privs().stage(|| "setting no_new_privs".into())?;
        }
        if self.pause {
            // only what `ps` shows: no reason to fail the start
            let _ = sys.set_name(init::PAUSE_NAME);
            sys.block_signals().stage(|| "blocking the pause process's signals".into())?;
            // end of file on `err`: the parent sees the container running
            let _ = sys.close(*err);
            return Ok(init::pause(sys));
        }
        let args = self.process.args().as_deref().unwrap_or_default();
        let env = self.process.env().as_deref().unwrap_or_default();
        let path_var = env.iter().rev().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
        let command = &args[0];
        let program = resolve_command(sys, command, path_var)?;
        if no_new_privs {
            (self.seccomp)().map_err(|e| Failure::new("installing the seccomp filter", e))?;
        }
        let cstrings = |items: &[String]| {
            items.iter().map(|s| CString::new(s.as_str())).collect::<Result<Vec<_>, _>>().map_err(|_| {
                Failure::new("preparing the command", "arguments and environment may not contain NUL bytes")
            })
        };
        let program_c = CString::new(program.as_os_str().as_encoded_bytes())
            .map_err(|_| Failure::new("preparing the command", "the command may not contain NUL bytes"))?;
        let (args_c, env_c) = (cstrings(args)?, cstrings(env)?);
        let exec_command = || {
            let errno = sys.execve(&program_c, &args_c, &env_c);
            if errno == Errno::ENOEXEC {
                // As execvp does: a file that is no binary and has no #! line is a shell script.
                let mut sh_args = vec![c"/bin/sh".to_owned(), program_c.clone()];
                sh_args.extend(args_c.iter().skip(1).cloned());
                // returns only if that fails too: the script's own error is the one to report
                let _ = sys.execve(c"/bin/sh", &sh_args, &env_c);
            }
            match errno {
                Errno::ENOENT => Failure::command(FailKind::NotFound, command),
                Errno::EACCES => Failure::command(FailKind::NotExecutable, command),
                e => Failure::errno(format!("executing {}", program.display()), e),
            }
        };
        if !self.init {
            return Err(exec_command());
        }
        // `--init`: this process stays as the container's pid 1 and the command runs as its
        // child, which reports a failure to exec on `err` as this process would have.
        // only what `ps` shows: no reason to fail the start
        let _ = sys.set_name(init::NAME);
        sys.block_signals().stage(|| "blocking the init's signals".into())?;
        let report = *err;
        let terminal = self.process.terminal().unwrap_or(false);
        let mut command_child = || -> isize {
            // With a terminal the command's group is the foreground one: what the terminal
            // sends (^C) reaches the command once, not also through the init.
            if terminal {
                if let Err(e) = sys.foreground_group(0) {
                    let failure = Failure::errno("giving the command the terminal", e);
                    let _ = write_all(sys, report, failure.encode().as_bytes());
                    return 1;
                }
            }
            let failure = match sys.reset_signals() {
                Err(e) => Failure::errno("resetting signal handlers", e),
                Ok(()) => exec_command(),
            };
            let _ = write_all(sys, report, failure.encode().as_bytes());
            1
        };
        let pid = sys
            .clone(&mut command_child, CloneFlags::empty())
            .stage(|| "starting the command under the init".into())?;
        let _ = sys.close(report);
        Ok(init::serve(sys, pid))
    }
}

impl Child<'_> {
    /// Stage 3 of a launch: the overlay, the spec's mounts and devices, pivot_root, masked and
    /// read-only paths, a read-only root.
    fn root_filesystem(&self, sys: &dyn Syscall, spec: &Spec, rootfs: &RootfsLayers) -> Result<(), Failure> {
        let linux = spec.linux().as_ref();
        let propagation = linux
            .and_then(|l| l.rootfs_propagation().as_ref())
            .and_then(|p| mount_options::parse(&[p]).propagation.first().copied())
            .unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC);
        sys.mount(None, Path::new("/"), None, propagation, None).stage(|| "setting the propagation of /".into())?;
        rootfs::mount_overlay(sys, rootfs)?;
        let root = rootfs.target.as_path();
        for m in spec.mounts().as_deref().unwrap_or_default() {
            rootfs::mount_one(sys, root, m)?;
        }
        rootfs::default_devices(sys, root)?;
        rootfs::spec_devices(sys, root, linux.and_then(|l| l.devices().as_deref()).unwrap_or_default())?;
        let user = self.process.user();
        let (uid, gid) = (Uid::from_raw(user.uid()), Gid::from_raw(user.gid()));
        rootfs::ensure_cwd(sys, root, self.process.cwd(), uid, gid, !self.workdir_must_exist)?;
        rootfs::pivot_root(sys, root)?;
        // Sysctls go through the container's /proc, before /proc/sys is made read-only.
        for (key, value) in linux.and_then(|l| l.sysctl().as_ref()).into_iter().flatten() {
            write_sysctl(sys, key, value)?;
        }
        rootfs::mask_paths(sys, linux.and_then(|l| l.masked_paths().as_deref()).unwrap_or_default())?;
        rootfs::readonly_paths(sys, linux.and_then(|l| l.readonly_paths().as_deref()).unwrap_or_default())?;
        if spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false) {
            let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
            sys.mount(None, Path::new("/"), None, flags, None).stage(|| "making the root read-only".into())?;
        }
        Ok(())
    }
}

/// A close-on-exec copy of `fd` above 0, 1 and 2, so installing stdio cannot clobber it.
fn move_above_stdio(sys: &dyn Syscall, fd: RawFd) -> Result<RawFd, Errno> {
    let moved = sys.dup_above(fd, 3)?;
    let _ = sys.close(fd);
    Ok(moved)
}

fn resource(typ: PosixRlimitType) -> Resource {
    use PosixRlimitType::*;
    match typ {
        RlimitCpu => Resource::RLIMIT_CPU,
        RlimitFsize => Resource::RLIMIT_FSIZE,
        RlimitData => Resource::RLIMIT_DATA,
        RlimitStack => Resource::RLIMIT_STACK,
        RlimitCore => Resource::RLIMIT_CORE,
        RlimitRss => Resource::RLIMIT_RSS,
        RlimitNproc => Resource::RLIMIT_NPROC,
        RlimitNofile => Resource::RLIMIT_NOFILE,
        RlimitMemlock => Resource::RLIMIT_MEMLOCK,
        RlimitAs => Resource::RLIMIT_AS,
        RlimitLocks => Resource::RLIMIT_LOCKS,
        RlimitSigpending => Resource::RLIMIT_SIGPENDING,
        RlimitMsgqueue => Resource::RLIMIT_MSGQUEUE,
        RlimitNice => Resource::RLIMIT_NICE,
        RlimitRtprio => Resource::RLIMIT_RTPRIO,
        RlimitRttime => Resource::RLIMIT_RTTIME,
    }
}

/// Writes `value` to /proc/sys/`key` (`net.ipv4.ip_forward` is net/ipv4/ip_forward).
fn write_sysctl(sys: &dyn Syscall, key: &str, value: &str) -> Result<(), Failure> {
    let stage = || format!("setting the sysctl {key}={value}");
    if key.contains("..") || key.contains('/') {
        return Err(Failure::new(stage(), "the key may not contain / or .."));
    }
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    let fd = sys.open(&path, OFlag::O_WRONLY | OFlag::O_CLOEXEC).stage(stage)?;
    let written = sys.write(fd, value.as_bytes()).stage(stage);
    let _ = sys.close(fd);
    written.map(drop)
}

/// Sets each limit; when raising the hard limit is not allowed (no CAP_SYS_RESOURCE), clamps
/// both limits to the current hard limit instead of failing.
fn set_rlimits(sys: &dyn Syscall, rlimits: &[PosixRlimit]) -> Result<(), Failure> {
    for r in rlimits {
        let res = resource(r.typ());
        let stage = || format!("setting {res:?}");
        match sys.setrlimit(res, r.soft(), r.hard()) {
            Err(Errno::EPERM) => {
                let (_, hard_now) = sys.getrlimit(res).stage(stage)?;
                let hard = r.hard().min(hard_now);
                sys.setrlimit(res, r.soft().min(hard), hard).stage(stage)?;
            }
            other => other.stage(stage)?,
        }
    }
    Ok(())
}

/// The program to execute: `command` itself when it has a slash, else the first executable
/// regular file named `command` in `path_var`. A match that is not executable makes it
/// NotExecutable rather than NotFound, as crun reports it.
fn resolve_command(sys: &dyn Syscall, command: &str, path_var: &str) -> Result<PathBuf, Failure> {
    let executable = |p: &Path| match sys.file_kind(p, true) {
        Ok(FileKind::File) => Some(sys.access(p, AccessFlags::X_OK).is_ok()),
        Ok(_) => Some(false),
        Err(_) => None,
    };
    if command.contains('/') {
        return match executable(Path::new(command)) {
            Some(true) => Ok(command.into()),
            Some(false) => Err(Failure::command(FailKind::NotExecutable, command)),
            None => Err(Failure::command(FailKind::NotFound, command)),
        };
    }
    let mut found_unexecutable = false;
    for dir in path_var.split(':') {
        let candidate = Path::new(if dir.is_empty() { "." } else { dir }).join(command);
        if sys.file_kind(&candidate, true) == Ok(FileKind::Dir) {
            continue;
        }
        match executable(&candidate) {
            Some(true) => return Ok(candidate),
            Some(false) => found_unexecutable = true,
            None => {}
        }
    }
    let kind = if found_unexecutable { FailKind::NotExecutable } else { FailKind::NotFound };
    Err(Failure::command(kind, command))
}

#[cfg(test)]
mod tests;

pub mod init;
