//! Seccomp confinement for container processes.
//!
//! This module exists so that a container gets the same syscall filter Podman would give it:
//! [`default_profile`] rebuilds containers/common's default profile (`pkg/seccomp/seccomp.json`)
//! as Rust data, [`from_file`] reads a Docker/Podman-format profile for
//! `--security-opt seccomp=PROFILE.json`, and [`compile`]/[`load`] turn an OCI
//! [`LinuxSeccomp`] into BPF with libseccomp and install it.
//!
//! Compiling and installing are split on purpose: the runtime compiles in the parent (this
//! allocates and may fail with a readable error) and calls [`CompiledFilter::apply`] in the
//! forked child just before `execve`, where only raw syscalls are safe.
//!
//! Semantics of the default profile (as in containers/common, not as in Docker's):
//! unknown syscalls fail with `ENOSYS` so programs fall back to older calls; a short list of
//! obsolete or dangerous calls fails with `EPERM`; calls guarded by a capability are allowed only
//! when the container has that capability and fail with `EPERM` otherwise. Podman allows
//! `mount`, `umount2`, `unshare`, `pivot_root`, `keyctl`, `clone` and `clone3` without argument
//! filters: the container's missing capabilities (`CAP_SYS_ADMIN`) make the kernel refuse them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompFilterFlag, LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;

/// Errors from building, parsing, compiling or installing a seccomp filter.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("error reading seccomp profile {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("error parsing seccomp profile {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid seccomp profile {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("error compiling seccomp filter: {what}: {source}")]
    Compile {
        what: String,
        #[source]
        source: libseccomp::error::SeccompError,
    },
    #[error("error exporting seccomp filter: {0}")]
    Export(#[source] std::io::Error),
    #[error("unsupported seccomp profile: {0}")]
    Unsupported(String),
    #[error("error installing seccomp filter: {0} (the caller needs CAP_SYS_ADMIN or no_new_privs set)")]
    Install(nix::errno::Errno),
}

/// The capabilities Podman gives a container by default (containers/common `DefaultCapabilities`).
pub const DEFAULT_CAPABILITIES: &[Capability] = &[
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::NetBindService,
    Capability::Setfcap,
    Capability::Setgid,
    Capability::Setpcap,
    Capability::Setuid,
    Capability::SysChroot,
];

const EPERM: u32 = libc::EPERM as u32;
const EINVAL: u32 = libc::EINVAL as u32;
const ENOSYS: u32 = libc::ENOSYS as u32;

/// When a rule of the default profile applies.
#[derive(Clone, Copy)]
enum Gate {
    Always,
    /// Only when the container has the capability.
    WithCap(Capability),
    /// Only when the container lacks the capability.
    WithoutCap(Capability),
    /// Only on these host architectures (Go `GOARCH` names, as in the upstream profile).
    Arches(&'static [&'static str]),
}

#[derive(Clone, Copy)]
enum Act {
    Allow,
    Errno(u32),
}

/// `(argument index, value, operator)`; every argument of a rule must match.
type ArgRule = (usize, u64, LinuxSeccompOperator);

struct Rule {
    names: &'static [&'static str],
    act: Act,
    args: &'static [ArgRule],
    gate: Gate,
}

const fn rule(names: &'static [&'static str], act: Act, gate: Gate) -> Rule {
    Rule { names, act, args: &[], gate }
}

const fn rule_args(names: &'static [&'static str], act: Act, args: &'static [ArgRule], gate: Gate) -> Rule {
    Rule { names, act, args, gate }
}

/// Obsolete, host-affecting or not-namespaced calls: refused with EPERM whatever the capabilities.
const DENIED_EPERM: &[&str] = &[
    "bdflush",
    "io_pgetevents",
    "kexec_file_load",
    "kexec_load",
    "membarrier",
    "migrate_pages",
    "move_pages",
    "nfsservctl",
    "nice",
    "oldfstat",
    "oldlstat",
    "oldolduname",
    "oldstat",
    "olduname",
    "pciconfig_iobase",
    "pciconfig_read",
    "pciconfig_write",
    "sgetmask",
    "ssetmask",
    "swapcontext",
    "swapoff",
    "swapon",
    "sysfs",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
    "vmsplice",
];

/// Allowed for every container. Calls that need a capability the container lacks (mount,
/// unshare of namespaces, pivot_root, reboot, ...) are refused by the kernel, not by the filter.
const ALLOWED: &[&str] = &[
    "_llseek",
    "_newselect",
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "clone",
    "clone3",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsconfig",
    "fsetxattr",
    "fsmount",
    "fsopen",
    "fspick",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futimesat",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "keyctl",
    "kill",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "memfd_create",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mount",
    "move_mount",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "open_tree",
    "pause",
    "pidfd_getfd",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pivot_root",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readdir",
    "readlink",
    "readlinkat",
    "readv",
    "reboot",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setns",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "syslog",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "umount",
    "umount2",
    "uname",
    "unlink",
    "unlinkat",
    "unshare",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// Calls allowed only with a capability (and refused with EPERM without it).
const CAP_GUARDED: &[(Capability, &[&str])] = &[
    (Capability::DacReadSearch, &["open_by_handle_at"]),
    (
        Capability::SysAdmin,
        &[
            "bpf",
            "fanotify_init",
            "lookup_dcookie",
            "perf_event_open",
            "quotactl",
            "setdomainname",
            "sethostname",
            "setns",
        ],
    ),
    (Capability::SysChroot, &["chroot"]),
    (Capability::SysModule, &["delete_module", "init_module", "finit_module", "query_module"]),
    (Capability::SysNice, &["get_mempolicy", "mbind", "set_mempolicy"]),
    (Capability::SysPacct, &["acct"]),
    (Capability::SysPtrace, &["kcmp", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]),
    (Capability::SysRawio, &["iopl", "ioperm"]),
    (Capability::SysTime, &["settimeofday", "stime", "clock_settime", "clock_settime64"]),
    (Capability::SysTtyConfig, &["vhangup"]),
];

use LinuxSeccompOperator::{ScmpCmpEq as EQ, ScmpCmpNe as NE};

const AF_NETLINK: u64 = libc::AF_NETLINK as u64;
const NETLINK_AUDIT: u64 = libc::NETLINK_AUDIT as u64;

/// The remaining rules: argument filters, architecture-specific calls, and the audit socket.
const OTHER_RULES: &[Rule] = &[
    // personality: only the Linux personalities (PER_LINUX, PER_LINUX32, UNAME26 variants) and
    // the query value 0xffffffff; no READ_IMPLIES_EXEC, no ADDR_NO_RANDOMIZE.
    rule_args(&["personality"], Act::Allow, &[(0, 0x0, EQ)], Gate::Always),
    rule_args(&["personality"], Act::Allow, &[(0, 0x0008, EQ)], Gate::Always),
    rule_args(&["personality"], Act::Allow, &[(0, 0x20000, EQ)], Gate::Always),
    rule_args(&["personality"], Act::Allow, &[(0, 0x20008, EQ)], Gate::Always),
    rule_args(&["personality"], Act::Allow, &[(0, 0xffff_ffff, EQ)], Gate::Always),
    rule(&["sync_file_range2"], Act::Allow, Gate::Arches(&["ppc64le"])),
    rule(
        &["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
        Act::Allow,
        Gate::Arches(&["arm", "arm64"]),
    ),
    rule(&["arch_prctl"], Act::Allow, Gate::Arches(&["amd64", "x32"])),
    rule(&["modify_ldt"], Act::Allow, Gate::Arches(&["amd64", "x32", "x86"])),
    rule(
        &["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
        Act::Allow,
        Gate::Arches(&["s390", "s390x"]),
    ),
    // Without CAP_AUDIT_WRITE, audit netlink sockets fail with EINVAL (so tools such as
    // shadow-utils carry on without auditing); every other socket is allowed.
    rule_args(
        &["socket"],
        Act::Errno(EINVAL),
        &[(0, AF_NETLINK, EQ), (2, NETLINK_AUDIT, EQ)],
        Gate::WithoutCap(Capability::AuditWrite),
    ),
    rule_args(&["socket"], Act::Allow, &[(2, NETLINK_AUDIT, NE)], Gate::WithoutCap(Capability::AuditWrite)),
    rule_args(&["socket"], Act::Allow, &[(0, AF_NETLINK, NE)], Gate::WithoutCap(Capability::AuditWrite)),
    rule(&["socket"], Act::Allow, Gate::WithCap(Capability::AuditWrite)),
];

/// The host architecture under its Go name, which the upstream profile's arch filters use.
fn host_goarch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        other => other,
    }
}

/// The architectures a filter for this host covers: the native one and its compat modes.
fn host_arches() -> Vec<Arch> {
    match std::env::consts::ARCH {
        "x86_64" => vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32],
        "aarch64" => vec![Arch::ScmpArchAarch64, Arch::ScmpArchArm],
        "s390x" => vec![Arch::ScmpArchS390x, Arch::ScmpArchS390],
        _ => vec![],
    }
}

fn syscall(names: &[&str], act: Act, args: Vec<LinuxSeccompArg>) -> LinuxSyscall {
    let mut s = LinuxSyscall::default();
    s.set_names(names.iter().map(|n| n.to_string()).collect());
    match act {
        Act::Allow => {
            s.set_action(LinuxSeccompAction::ScmpActAllow);
        }
        Act::Errno(e) => {
            s.set_action(LinuxSeccompAction::ScmpActErrno);
            s.set_errno_ret(Some(e));
        }
    }
    if !args.is_empty() {
        s.set_args(Some(args));
    }
    s
}

fn arg(index: usize, value: u64, value_two: Option<u64>, op: LinuxSeccompOperator) -> LinuxSeccompArg {
    let b = LinuxSeccompArgBuilder::default().index(index).value(value).op(op);
    let b = match value_two {
        Some(v) => b.value_two(v),
        None => b,
    };
    // Every field has a value, so building cannot fail.
    b.build().expect("seccomp argument with all fields set")
}

/// containers/common's default profile for a container holding `caps` (pass
/// [`DEFAULT_CAPABILITIES`] for Podman's default set), for this host's architecture.
///
/// Unknown syscalls fail with `ENOSYS` (so callers such as glibc fall back to older calls);
/// capability-guarded calls are allowed with the capability and fail with `EPERM` without it.
pub fn default_profile(caps: &[Capability]) -> LinuxSeccomp {
    let mut out = vec![syscall(DENIED_EPERM, Act::Errno(EPERM), vec![]), syscall(ALLOWED, Act::Allow, vec![])];
    for rule in OTHER_RULES {
        let applies = match rule.gate {
            Gate::Always => true,
            Gate::WithCap(c) => caps.contains(&c),
            Gate::WithoutCap(c) => !caps.contains(&c),
            Gate::Arches(arches) => arches.contains(&host_goarch()),
        };
        if applies {
            let args = rule.args.iter().map(|&(i, v, op)| arg(i, v, None, op)).collect();
            out.push(syscall(rule.names, rule.act, args));
        }
    }
    for (cap, names) in CAP_GUARDED {
        if caps.contains(cap) {
            out.push(syscall(names, Act::Allow, vec![]));
        } else {
            // setns is in ALLOWED too, as upstream. libseccomp keeps the first rule for a
            // syscall without arguments, so setns stays allowed (as in Podman) and the kernel's
            // own CAP_SYS_ADMIN check is what refuses joining most namespaces.
            out.push(syscall(names, Act::Errno(EPERM), vec![]));
        }
    }
    let mut profile = LinuxSeccomp::default();
    profile.set_default_action(LinuxSeccompAction::ScmpActErrno);
    profile.set_default_errno_ret(Some(ENOSYS));
    let arches = host_arches();
    if !arches.is_empty() {
        profile.set_architectures(Some(arches));
    }
    profile.set_syscalls(Some(out));
    profile
}

// ---------------------------------------------------------------------------------------------
// Docker/Podman-format profiles

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileProfile {
    default_action: String,
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Vec<String>,
    #[serde(default)]
    arch_map: Vec<FileArchMap>,
    #[serde(default)]
    syscalls: Vec<FileSyscall>,
    #[serde(default)]
    flags: Vec<String>,
    listener_path: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileArchMap {
    architecture: String,
    #[serde(default)]
    sub_architectures: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileSyscall {
    name: Option<String>,
    #[serde(default)]
    names: Vec<String>,
    action: String,
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Vec<FileArg>,
    #[serde(default)]
    includes: FileFilter,
    #[serde(default)]
    excludes: FileFilter,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileArg {
    index: usize,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FileFilter {
    #[serde(default)]
    arches: Vec<String>,
    #[serde(default)]
    caps: Vec<String>,
    min_kernel: Option<String>,
}

/// Parses an upper-case constant such as `SCMP_ACT_ERRNO` into an oci-spec enum.
fn constant<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn kernel_at_least(min: &str) -> Result<bool, String> {
    fn major_minor(v: &str) -> Option<(u32, u32)> {
        let mut it = v.split(|c: char| !c.is_ascii_digit());
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    }
    let want = major_minor(min).ok_or_else(|| format!("bad minKernel {min:?}, want e.g. \"4.8\""))?;
    let release = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    Ok(major_minor(&release).is_some_and(|have| have >= want))
}

/// Reads a Docker/Podman-format seccomp profile (as taken by `--security-opt seccomp=FILE`)
/// and resolves it for a container holding `caps` on this host, as Podman does: `archMap`
/// picks this host's architectures, and rules whose `includes`/`excludes` (capabilities,
/// architectures, minimum kernel) do not match are dropped. A plain OCI `LinuxSeccomp` JSON
/// is accepted too.
pub fn from_file(path: &Path, caps: &[Capability]) -> Result<LinuxSeccomp, SeccompError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeccompError::Read { path: path.to_owned(), source })?;
    let file: FileProfile =
        serde_json::from_str(&text).map_err(|source| SeccompError::Parse { path: path.to_owned(), source })?;
    resolve(file, caps).map_err(|reason| SeccompError::Invalid { path: path.to_owned(), reason })
}

fn resolve(file: FileProfile, caps: &[Capability]) -> Result<LinuxSeccomp, String> {
    let mut profile = LinuxSeccomp::default();
    let default_action: LinuxSeccompAction =
        constant(&file.default_action).ok_or_else(|| format!("unknown defaultAction {:?}", file.default_action))?;
    profile.set_default_action(default_action);
    profile.set_default_errno_ret(file.default_errno_ret);

    if !file.architectures.is_empty() && !file.arch_map.is_empty() {
        return Err("both architectures and archMap are set; use one".into());
    }
    let arch = |s: &str| constant::<Arch>(s).ok_or_else(|| format!("unknown architecture {s:?}"));
    let mut arches = Vec::new();
    for a in &file.architectures {
        arches.push(arch(a)?);
    }
    let native = host_arches().first().copied();
    for m in &file.arch_map {
        let main = arch(&m.architecture)?;
        let subs = m.sub_architectures.iter().map(|s| arch(s)).collect::<Result<Vec<_>, _>>()?;
        if Some(main) == native {
            arches.push(main);
            arches.extend(subs);
        }
    }
    if !arches.is_empty() {
        profile.set_architectures(Some(arches));
    }

    let mut flags = Vec::new();
    for f in &file.flags {
        flags.push(constant::<LinuxSeccompFilterFlag>(f).ok_or_else(|| format!("unknown flag {f:?}"))?);
    }
    if !flags.is_empty() {
        profile.set_flags(Some(flags));
    }
    if file.listener_path.is_some() {
        return Err("listenerPath (SCMP_ACT_NOTIFY) is not supported".into());
    }

    let cap = |s: &String| -> Result<Capability, String> {
        constant::<Capability>(s).ok_or_else(|| format!("unknown capability {s:?}"))
    };
    let goarch = host_goarch();
    let mut syscalls = Vec::new();
    for (i, s) in file.syscalls.into_iter().enumerate() {
        let mut names = s.names;
        if let Some(n) = s.name {
            if !names.is_empty() {
                return Err(format!("syscalls[{i}]: both name and names are set; use names"));
            }
            names.push(n);
        }
        if names.is_empty() {
            return Err(format!("syscalls[{i}]: no syscall names"));
        }
        let at = format!("syscalls[{i}] ({})", names.join(", "));
        let action: LinuxSeccompAction =
            constant(&s.action).ok_or_else(|| format!("{at}: unknown action {:?}", s.action))?;
        if s.errno_ret.is_some()
            && !matches!(action, LinuxSeccompAction::ScmpActErrno | LinuxSeccompAction::ScmpActTrace)
        {
            return Err(format!("{at}: errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"));
        }
        let mut args = Vec::new();
        for a in &s.args {
            let op: LinuxSeccompOperator =
                constant(&a.op).ok_or_else(|| format!("{at}: unknown operator {:?}", a.op))?;
            if a.index > 5 {
                return Err(format!("{at}: argument index {} out of range 0..=5", a.index));
            }
            let two = (a.value_two != 0 || op == LinuxSeccompOperator::ScmpCmpMaskedEq).then_some(a.value_two);
            args.push(arg(a.index, a.value, two, op));
        }
        // Filters are checked (so typos are caught) before deciding whether the rule applies.
        let inc_caps = s.includes.caps.iter().map(cap).collect::<Result<Vec<_>, _>>()?;
        let exc_caps = s.excludes.caps.iter().map(cap).collect::<Result<Vec<_>, _>>()?;
        let mut applies = inc_caps.iter().all(|c| caps.contains(c))
            && !exc_caps.iter().any(|c| caps.contains(c))
            && (s.includes.arches.is_empty() || s.includes.arches.iter().any(|a| a == goarch))
            && !s.excludes.arches.iter().any(|a| a == goarch);
        if let Some(k) = &s.includes.min_kernel {
            applies &= kernel_at_least(k).map_err(|e| format!("{at}: {e}"))?;
        }
        if let Some(k) = &s.excludes.min_kernel {
            applies &= !kernel_at_least(k).map_err(|e| format!("{at}: {e}"))?;
        }
        if !applies {
            continue;
        }
        let mut out = LinuxSyscall::default();
        out.set_names(names);
        out.set_action(action);
        out.set_errno_ret(s.errno_ret);
        if !args.is_empty() {
            out.set_args(Some(args));
        }
        syscalls.push(out);
    }
    profile.set_syscalls(Some(syscalls));
    Ok(profile)
}

// ---------------------------------------------------------------------------------------------
// Compiling and installing

/// A BPF program ready to install; installing it needs no allocation.
pub struct CompiledFilter {
    program: Vec<libc::sock_filter>,
    flags: libc::c_ulong,
}

fn scmp_arch(a: Arch) -> ScmpArch {
    match a {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

fn scmp_action(action: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, SeccompError> {
    let errno = errno.unwrap_or(EPERM);
    Ok(match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => ScmpAction::KillThread,
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno as i32),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno as u16),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(SeccompError::Unsupported("SCMP_ACT_NOTIFY needs a listener, which berth does not run".into()))
        }
    })
}

fn scmp_compare(a: &LinuxSeccompArg) -> ScmpArgCompare {
    let (op, datum) = match a.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, a.value()),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, a.value()),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, a.value()),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, a.value()),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, a.value()),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, a.value()),
        // OCI/runc convention: value is the mask, valueTwo the expected masked value.
        LinuxSeccompOperator::ScmpCmpMaskedEq => (ScmpCompareOp::MaskedEqual(a.value()), a.value_two().unwrap_or(0)),
    };
    ScmpArgCompare::new(a.index() as u32, op, datum)
}

/// Compiles `profile` to BPF with libseccomp. Syscall names this libseccomp does not know are
/// skipped (profiles list calls of newer kernels and other architectures).
pub fn compile(profile: &LinuxSeccomp) -> Result<CompiledFilter, SeccompError> {
    let compile_err = |what: String| move |source| SeccompError::Compile { what, source };
    let default = scmp_action(profile.default_action(), profile.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default).map_err(compile_err("creating filter".into()))?;
    for &a in profile.architectures().iter().flatten() {
        let arch = scmp_arch(a);
        let present = ctx.is_arch_present(arch).map_err(compile_err(format!("checking architecture {a}")))?;
        if !present {
            ctx.add_arch(arch).map_err(compile_err(format!("adding architecture {a}")))?;
        }
    }
    for rule in profile.syscalls().iter().flatten() {
        let action = scmp_action(rule.action(), rule.errno_ret())?;
        if action == default {
            // libseccomp refuses rules that repeat the default action; they change nothing.
            continue;
        }
        let args = rule.args().clone().unwrap_or_default();
        // libseccomp takes one comparison per argument index in a rule; runc splits rules that
        // compare the same argument twice into one rule per comparison, and so do we.
        let mut by_index: BTreeMap<usize, usize> = BTreeMap::new();
        for a in &args {
            *by_index.entry(a.index()).or_default() += 1;
        }
        let groups: Vec<Vec<ScmpArgCompare>> = if by_index.values().any(|&n| n > 1) {
            args.iter().map(|a| vec![scmp_compare(a)]).collect()
        } else {
            vec![args.iter().map(scmp_compare).collect()]
        };
        for name in rule.names() {
            let Ok(sys) = ScmpSyscall::from_name(name) else {
                continue; // unknown to this libseccomp: skipped, as runc and crun do
            };
            for cmps in &groups {
                let res = if cmps.is_empty() {
                    ctx.add_rule(action, sys)
                } else {
                    ctx.add_rule_conditional(action, sys, cmps)
                };
                res.map_err(compile_err(format!("adding rule for {name:?}")))?;
            }
        }
    }
    let bytes = export_bpf(&ctx)?;
    let size = std::mem::size_of::<libc::sock_filter>();
    let program = bytes
        .chunks_exact(size)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    let mut flags = 0;
    for f in profile.flags().iter().flatten() {
        flags |= match f {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            other => return Err(SeccompError::Unsupported(format!("filter flag {other}"))),
        };
    }
    Ok(CompiledFilter { program, flags })
}

/// libseccomp 2.5 (Debian 12) has no in-memory export: export into a memfd and read it back.
fn export_bpf(ctx: &ScmpFilterContext) -> Result<Vec<u8>, SeccompError> {
    use std::io::{Read, Seek};
    let io_err = |e: std::io::Error| SeccompError::Export(e);
    // SAFETY: plain syscall with a valid C string; the fd is owned by the File below.
    let fd = unsafe { libc::memfd_create(c"berth-seccomp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io_err(std::io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh descriptor we own.
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    ctx.export_bpf(&file).map_err(|source| SeccompError::Compile { what: "exporting bpf".into(), source })?;
    let mut bytes = Vec::new();
    file.rewind().map_err(io_err)?;
    file.read_to_end(&mut bytes).map_err(io_err)?;
    Ok(bytes)
}

impl CompiledFilter {
    /// Installs the filter on the calling thread (all threads with the TSYNC flag). Makes one
    /// syscall and no allocation, so it is safe between `fork` and `exec`. The caller needs
    /// CAP_SYS_ADMIN or must have set `PR_SET_NO_NEW_PRIVS`.
    pub fn apply(&self) -> Result<(), SeccompError> {
        let prog = libc::sock_fprog {
            len: self.program.len() as u16,
            filter: self.program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: prog points at a valid BPF program that outlives the call.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(SeccompError::Install(nix::errno::Errno::last()));
        }
        Ok(())
    }

    /// The filter as bytes (its flags, then its instructions), to keep a compiled filter for the
    /// next container with the same profile: compiling takes libseccomp milliseconds.
    pub fn to_bytes(&self) -> Vec<u8> {
        #[allow(clippy::unnecessary_cast)] // c_ulong is u32 on 32-bit targets
        let mut out = (self.flags as u64).to_le_bytes().to_vec();
        for i in &self.program {
            out.extend(i.code.to_le_bytes());
            out.extend([i.jt, i.jf]);
            out.extend(i.k.to_le_bytes());
        }
        out
    }

    /// The filter [`to_bytes`](Self::to_bytes) gave; None for bytes that are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<CompiledFilter> {
        let (flags, rest) = bytes.split_first_chunk::<8>()?;
        if rest.is_empty() || rest.len() % 8 != 0 || rest.len() / 8 > u16::MAX as usize {
            return None;
        }
        let program = rest
            .chunks_exact(8)
            .map(|c| libc::sock_filter {
                code: u16::from_le_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        #[allow(clippy::unnecessary_cast)]
        let flags = u64::from_le_bytes(*flags) as libc::c_ulong;
        Some(CompiledFilter { program, flags })
    }

    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }
}

/// Compiles `profile` and installs it on the calling thread.
pub fn load(profile: &LinuxSeccomp) -> Result<(), SeccompError> {
    compile(profile)?.apply()
}

#[cfg(test)]
mod tests;
