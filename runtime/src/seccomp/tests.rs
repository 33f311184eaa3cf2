use super::*;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

const N: usize = 16;
/// Marks a check slot the child did not fill.
const UNSET: i32 = -1;

fn errno() -> i32 {
    // SAFETY: reads the calling thread's errno.
    unsafe { *libc::__errno_location() }
}

/// 0 on success, else the errno of the failed call.
fn rc(r: libc::c_long) -> i32 {
    if r < 0 {
        errno()
    } else {
        0
    }
}

/// Installs `filter` in a forked child, runs `checks` there and returns their results.
/// The child only makes raw syscalls: the test binary is multi-threaded.
fn in_child(filter: &CompiledFilter, checks: fn() -> [i32; N]) -> [i32; N] {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-int array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child calls only async-signal-safe functions and exits with _exit.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => unsafe {
            libc::close(fds[0]);
            if filter.apply().is_err() {
                libc::_exit(100);
            }
            let out = checks();
            let len = std::mem::size_of_val(&out);
            let n = libc::write(fds[1], out.as_ptr().cast(), len);
            libc::_exit(if n == len as isize { 0 } else { 101 });
        },
        ForkResult::Parent { child } => {
            // SAFETY: closing our copy of the write end.
            unsafe { libc::close(fds[1]) };
            let mut out = [UNSET; N];
            let len = std::mem::size_of_val(&out);
            // SAFETY: reading into a buffer of `len` bytes.
            let n = unsafe { libc::read(fds[0], out.as_mut_ptr().cast(), len) };
            unsafe { libc::close(fds[0]) };
            let status = waitpid(child, None).expect("waitpid");
            assert_eq!(status, WaitStatus::Exited(child, 0), "child failed");
            assert_eq!(n, len as isize);
            out
        }
    }
}

/// 0 when /proc/self/status says `Seccomp:\t2` (filter mode), else 1.
fn seccomp_mode_is_filter() -> i32 {
    let mut buf = [0u8; 4096];
    // SAFETY: raw open/read/close into a stack buffer.
    let n = unsafe {
        let fd = libc::open(c"/proc/self/status".as_ptr(), libc::O_RDONLY);
        if fd < 0 {
            return 2;
        }
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        n
    };
    if n <= 0 {
        return 3;
    }
    let text = &buf[..n as usize];
    let needle = b"\nSeccomp:\t2\n";
    if text.windows(needle.len()).any(|w| w == needle) {
        0
    } else {
        1
    }
}

fn default_checks() -> [i32; N] {
    let mut r = [UNSET; N];
    // SAFETY: raw syscalls with harmless or invalid arguments.
    unsafe {
        r[0] = rc(libc::syscall(libc::SYS_getpid));
        r[1] = rc(libc::syscall(libc::SYS_write, 2, c"".as_ptr(), 0));
        // not in the profile at all: default action, ENOSYS
        r[2] = rc(libc::syscall(libc::SYS_add_key, 0, 0, 0, 0, 0));
        // always refused
        r[3] = rc(libc::syscall(libc::SYS_kexec_load, 0, 0, 0, 0));
        r[4] = rc(libc::syscall(libc::SYS_swapon, 0, 0));
        // listed both as allowed and as CAP_SYS_ADMIN-only upstream: libseccomp keeps the
        // first (allow), so setns(-1) reaches the kernel and fails with EBADF, as in Podman
        r[5] = rc(libc::syscall(libc::SYS_setns, -1, 0));
        r[6] = rc(libc::syscall(libc::SYS_bpf, 0, 0, 0));
        // refused for lack of CAP_SYS_PTRACE / CAP_DAC_READ_SEARCH
        r[7] = rc(libc::syscall(libc::SYS_ptrace, libc::PTRACE_PEEKDATA, 1, 0, 0));
        r[8] = rc(libc::syscall(libc::SYS_open_by_handle_at, -1, 0, 0));
        // audit netlink socket: EINVAL without CAP_AUDIT_WRITE; other sockets fine
        r[9] = rc(libc::syscall(libc::SYS_socket, libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_AUDIT));
        let s = libc::syscall(libc::SYS_socket, libc::AF_UNIX, libc::SOCK_STREAM, 0);
        r[10] = rc(s);
        // personality: query allowed, ADDR_NO_RANDOMIZE not listed
        r[11] = rc(libc::syscall(libc::SYS_personality, 0xffff_ffffu32 as libc::c_ulong));
        r[12] = rc(libc::syscall(libc::SYS_personality, 0x0040000));
        // allowed with CAP_SYS_CHROOT, which Podman's default set has
        r[13] = rc(libc::syscall(libc::SYS_chroot, c"/".as_ptr()));
        r[14] = rc(libc::syscall(libc::SYS_settimeofday, 0, 0));
    }
    r[15] = seccomp_mode_is_filter();
    r
}

#[test]
fn default_profile_in_a_child() {
    let filter = compile(&default_profile(DEFAULT_CAPABILITIES)).expect("compile");
    let r = in_child(&filter, default_checks);
    let want = [
        ("getpid", 0),
        ("write", 0),
        ("add_key (unlisted)", libc::ENOSYS),
        ("kexec_load", libc::EPERM),
        ("swapon", libc::EPERM),
        ("setns (allowed, as in Podman)", libc::EBADF),
        ("bpf without CAP_SYS_ADMIN", libc::EPERM),
        ("ptrace without CAP_SYS_PTRACE", libc::EPERM),
        ("open_by_handle_at", libc::EPERM),
        ("audit socket", libc::EINVAL),
        ("unix socket", 0),
        ("personality query", 0),
        ("personality ADDR_NO_RANDOMIZE", libc::ENOSYS),
        ("chroot with CAP_SYS_CHROOT", 0),
        ("settimeofday without CAP_SYS_TIME", libc::EPERM),
        ("/proc/self/status Seccomp: 2", 0),
    ];
    for (i, (what, errno)) in want.iter().enumerate() {
        assert_eq!(r[i], *errno, "{what}: got errno {}", r[i]);
    }
}

#[test]
fn a_filter_kept_as_bytes_is_the_same_filter() {
    let filter = compile(&default_profile(DEFAULT_CAPABILITIES)).expect("compile");
    let bytes = filter.to_bytes();
    let back = CompiledFilter::from_bytes(&bytes).expect("its own bytes");
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.len(), filter.len());
    assert_eq!(in_child(&back, default_checks), in_child(&filter, default_checks));
    for bad in [&bytes[..7], &bytes[..8], &bytes[..bytes.len() - 1]] {
        assert!(CompiledFilter::from_bytes(bad).is_none(), "{} bytes", bad.len());
    }
}

fn sys_admin_checks() -> [i32; N] {
    let mut r = [UNSET; N];
    // SAFETY: raw syscalls with invalid arguments.
    unsafe {
        r[0] = rc(libc::syscall(libc::SYS_setns, -1, 0));
        r[1] = rc(libc::syscall(libc::SYS_socket, libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_AUDIT));
        r[2] = rc(libc::syscall(libc::SYS_bpf, -1, 0, 0));
    }
    r
}

#[test]
fn capabilities_unlock_guarded_calls() {
    let mut caps = DEFAULT_CAPABILITIES.to_vec();
    caps.extend([Capability::SysAdmin, Capability::AuditWrite]);
    let filter = compile(&default_profile(&caps)).expect("compile");
    let r = in_child(&filter, sys_admin_checks);
    assert_eq!(r[0], libc::EBADF, "setns reaches the kernel with CAP_SYS_ADMIN");
    assert_ne!(r[2], libc::EPERM, "bpf reaches the kernel with CAP_SYS_ADMIN");
    assert_ne!(r[1], libc::EINVAL, "audit socket allowed with CAP_AUDIT_WRITE");
}

/// Drops CAP_SYS_ADMIN from the effective set, as the runtime does for a default container.
unsafe fn drop_sys_admin() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut hdr = Header { version: 0x2008_0522, pid: 0 };
    let mut data = [Data { effective: 0, permitted: 0, inheritable: 0 }; 2];
    if libc::syscall(libc::SYS_capget, &mut hdr as *mut Header, data.as_mut_ptr()) != 0 {
        return false;
    }
    data[0].effective &= !(1 << 21); // CAP_SYS_ADMIN
    libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()) == 0
}

fn container_checks() -> [i32; N] {
    let mut r = [UNSET; N];
    // SAFETY: raw syscalls; the mount target does not matter as it must fail.
    unsafe {
        if !drop_sys_admin() {
            return r;
        }
        r[0] = rc(libc::syscall(libc::SYS_mount, c"none".as_ptr(), c"/tmp".as_ptr(), c"tmpfs".as_ptr(), 0, 0));
        r[1] = rc(libc::syscall(libc::SYS_unshare, libc::CLONE_NEWNS));
        r[2] = rc(libc::syscall(libc::SYS_umount2, c"/proc".as_ptr(), 0));
        r[3] = rc(libc::syscall(libc::SYS_getpid));
    }
    r
}

/// Podman's profile lets mount/unshare/umount2 through the filter; what stops them in a
/// default container is the missing CAP_SYS_ADMIN. This checks the combination.
#[test]
fn mount_and_unshare_fail_in_a_default_container() {
    let filter = compile(&default_profile(DEFAULT_CAPABILITIES)).expect("compile");
    let r = in_child(&filter, container_checks);
    assert_eq!(r[0], libc::EPERM, "mount");
    assert_eq!(r[1], libc::EPERM, "unshare(CLONE_NEWNS)");
    assert_eq!(r[2], libc::EPERM, "umount2");
    assert_eq!(r[3], 0, "getpid");
}

const DOCKER_STYLE: &str = r#"{
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [
        {"names": ["mount", "umount2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"name": "unshare", "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 131072, "valueTwo": 131072, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["s390x"]}},
        {"names": ["no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO"}
    ]
}"#;

fn docker_style_checks() -> [i32; N] {
    let mut r = [UNSET; N];
    // SAFETY: raw syscalls that fail or do nothing.
    unsafe {
        r[0] = rc(libc::syscall(libc::SYS_mount, c"none".as_ptr(), c"/tmp".as_ptr(), c"tmpfs".as_ptr(), 0, 0));
        r[1] = rc(libc::syscall(libc::SYS_unshare, libc::CLONE_NEWNS | libc::CLONE_NEWUTS));
        r[2] = rc(libc::syscall(libc::SYS_unshare, 0));
        r[3] = rc(libc::syscall(libc::SYS_keyctl, 0, -2, 0));
        r[4] = rc(libc::syscall(libc::SYS_getppid));
    }
    r
}

#[test]
fn profile_from_file_with_arguments_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    std::fs::write(&path, DOCKER_STYLE).unwrap();
    let profile = from_file(&path, DEFAULT_CAPABILITIES).expect("parse");
    // the s390x-only rule is dropped on other hosts, the unknown name is kept (and skipped later)
    let names: Vec<_> = profile.syscalls().iter().flatten().map(|s| s.names().join(",")).collect();
    if std::env::consts::ARCH != "s390x" {
        assert!(!names.iter().any(|n| n == "getppid"), "{names:?}");
    }
    let filter = compile(&profile).expect("unknown syscall names are skipped");
    let r = in_child(&filter, docker_style_checks);
    assert_eq!(r[0], libc::EPERM, "mount");
    assert_eq!(r[1], libc::EPERM, "unshare(CLONE_NEWNS|CLONE_NEWUTS) by masked compare");
    assert_eq!(r[2], 0, "unshare(0)");
    assert_eq!(r[3], libc::EACCES, "keyctl with errnoRet 13");
    assert_eq!(r[4], 0, "getppid");

    // with CAP_SYS_ADMIN the keyctl rule is excluded
    let with_admin = from_file(&path, &[Capability::SysAdmin]).unwrap();
    assert!(!with_admin.syscalls().iter().flatten().any(|s| s.names()[0] == "keyctl"));
}

#[test]
fn default_profile_shape() {
    let p = default_profile(DEFAULT_CAPABILITIES);
    assert_eq!(p.default_action(), LinuxSeccompAction::ScmpActErrno);
    assert_eq!(p.default_errno_ret(), Some(38));
    if std::env::consts::ARCH == "x86_64" {
        assert_eq!(
            p.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
    }
    let action_of = |name: &str| -> Vec<(LinuxSeccompAction, Option<u32>)> {
        p.syscalls()
            .iter()
            .flatten()
            .filter(|s| s.names().iter().any(|n| n == name))
            .map(|s| (s.action(), s.errno_ret()))
            .collect()
    };
    let allow = (LinuxSeccompAction::ScmpActAllow, None);
    let eperm = (LinuxSeccompAction::ScmpActErrno, Some(1));
    assert_eq!(action_of("chroot"), vec![allow]);
    assert_eq!(action_of("keyctl"), vec![allow]);
    assert_eq!(action_of("clone3"), vec![allow]);
    assert_eq!(action_of("ptrace"), vec![eperm]);
    assert_eq!(action_of("kexec_load"), vec![eperm]);
    assert_eq!(action_of("add_key"), vec![]);
    assert_eq!(action_of("personality").len(), 5);
    let no_chroot = default_profile(&[]);
    assert!(no_chroot
        .syscalls()
        .iter()
        .flatten()
        .any(|s| s.names() == &["chroot"] && s.action() == LinuxSeccompAction::ScmpActErrno));
}

#[test]
fn oci_json_round_trips_through_from_file() {
    let p = default_profile(DEFAULT_CAPABILITIES);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oci.json");
    std::fs::write(&path, serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(from_file(&path, DEFAULT_CAPABILITIES).unwrap(), p);
}

#[test]
fn from_file_errors_name_the_file_and_the_problem() {
    let cases: &[(&str, &str)] = &[
        ("{", "error parsing seccomp profile"),
        ("{}", "missing field `defaultAction`"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":{}}"#, "invalid type: map"),
        (r#"{"defaultAction":"SCMP_ACT_NOPE"}"#, r#"unknown defaultAction "SCMP_ACT_NOPE""#),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"ALLOW"}]}"#,
            r#"syscalls[0] (getpid): unknown action "ALLOW""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"EQ"}]}]}"#,
            r#"syscalls[0] (a): unknown operator "EQ""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
            "argument index 6 out of range 0..=5",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}"#,
            "syscalls[0]: both name and names are set",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"action":"SCMP_ACT_ERRNO"}]}"#,
            "syscalls[0]: no syscall names",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}"#,
            r#"unknown architecture "SCMP_ARCH_Z80""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_NOPE"]}}]}"#,
            r#"unknown capability "CAP_NOPE""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}"#,
            "errnoRet is only valid with SCMP_ACT_ERRNO",
        ),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NOPE"]}"#, "unknown flag"),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"four"}}]}"#,
            r#"bad minKernel "four""#,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (json, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.json"));
        std::fs::write(&path, json).unwrap();
        let err = from_file(&path, DEFAULT_CAPABILITIES).expect_err(json).to_string();
        assert!(err.contains(want), "case {i}: {err:?} lacks {want:?}");
        assert!(err.contains(&path.display().to_string()), "case {i}: {err:?} lacks the path");
    }
    let missing = dir.path().join("missing.json");
    let err = from_file(&missing, &[]).unwrap_err().to_string();
    assert!(err.starts_with("error reading seccomp profile "), "{err}");
    assert!(err.contains("missing.json"), "{err}");
}
