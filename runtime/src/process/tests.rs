use std::cell::RefCell;
use std::collections::HashSet;

use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxNamespaceBuilder, MountBuilder, PosixRlimitBuilder,
    ProcessBuilder, RootBuilder, SpecBuilder, UserBuilder,
};

use super::*;
use crate::sys::TestSyscall;

const ALL_NEW: &[(LinuxNamespaceType, Option<&str>)] = &[
    (LinuxNamespaceType::Pid, None),
    (LinuxNamespaceType::Network, None),
    (LinuxNamespaceType::Ipc, None),
    (LinuxNamespaceType::Uts, None),
    (LinuxNamespaceType::Mount, None),
    (LinuxNamespaceType::Cgroup, None),
];

fn spec(namespaces: &[(LinuxNamespaceType, Option<&str>)]) -> Spec {
    let caps: HashSet<Capability> = [Capability::Chown, Capability::Setpcap, Capability::NetBindService].into();
    let process = ProcessBuilder::default()
        .user(UserBuilder::default().uid(1000u32).gid(1000u32).additional_gids(vec![50u32]).build().unwrap())
        .args(vec!["sh".to_string(), "-c".into(), "true".into()])
        .env(vec!["PATH=/usr/bin:/bin".to_string()])
        .cwd("/work")
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(HashSet::new())
                .permitted(HashSet::new())
                .inheritable(HashSet::new())
                .ambient(HashSet::new())
                .build()
                .unwrap(),
        )
        .rlimits(vec![PosixRlimitBuilder::default()
            .typ(PosixRlimitType::RlimitNofile)
            .soft(1_048_576u64)
            .hard(1_048_576u64)
            .build()
            .unwrap()])
        .no_new_privileges(true)
        .build()
        .unwrap();
    let mount = |dest: &str, typ: &str, options: &[&str]| {
        MountBuilder::default()
            .destination(dest)
            .typ(typ)
            .source(typ)
            .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .build()
            .unwrap()
    };
    let namespaces = namespaces
        .iter()
        .map(|(t, p)| {
            let b = LinuxNamespaceBuilder::default().typ(*t);
            match p {
                Some(p) => b.path(*p).build().unwrap(),
                None => b.build().unwrap(),
            }
        })
        .collect::<Vec<_>>();
    SpecBuilder::default()
        .process(process)
        .hostname("box")
        .root(RootBuilder::default().path("/unused").readonly(true).build().unwrap())
        .mounts(vec![
            mount("/proc", "proc", &["nosuid", "noexec", "nodev"]),
            mount("/dev", "tmpfs", &["nosuid", "mode=755"]),
        ])
        .linux(
            LinuxBuilder::default()
                .namespaces(namespaces)
                .masked_paths(vec!["/proc/kcore".to_string(), "/sys/firmware".into(), "/proc/missing".into()])
                .readonly_paths(vec!["/proc/sys".to_string()])
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn rootfs() -> RootfsLayers {
    RootfsLayers {
        bind: None,
        layers_dir: "/layers".into(),
        lower: vec!["l/A".into(), "l/B".into()],
        upper: "/c/upper".into(),
        work: "/c/work".into(),
        target: "/c/root".into(),
        userxattr: false,
    }
}

fn fake() -> TestSyscall {
    let sys = TestSyscall::new().with_files(&[
        ("/c/root", FileKind::Dir),
        ("/c/root/proc", FileKind::Dir),
        ("/dev/null", FileKind::File),
        ("/proc/kcore", FileKind::File),
        ("/sys/firmware", FileKind::Dir),
        ("/bin/sh", FileKind::File),
    ]);
    sys.reads.borrow_mut().push_back(vec![1]);
    sys
}

/// Runs the child's stages against `sys` until execve (which the fake fails with ENOSYS).
fn run_child(sys: &TestSyscall, spec: &Spec) -> Failure {
    run_child_keeping(sys, spec, 0, false)
}

/// [`run_child`] with `preserve_fds` fds above stdio kept open.
fn run_child_keeping(sys: &TestSyscall, spec: &Spec, preserve_fds: u32, workdir_must_exist: bool) -> Failure {
    let ns = Namespaces::from_spec(spec).unwrap();
    let rootfs = rootfs();
    let seccomp = || {
        sys.calls.borrow_mut().push("seccomp".into());
        Ok(())
    };
    let child = Child {
        process: spec.process().as_ref().unwrap(),
        spec: Some(spec),
        rootfs: Some(&rootfs),
        stdio: [10, 11, 12],
        seccomp: &seccomp,
        console: None,
        preserve_fds,
        workdir_must_exist,
        ns: &ns,
        joins: Vec::new(),
        go: 20,
        go_parent: 21,
        err: 22,
        err_parent: 23,
        last_cap: 40,
        init: false,
        pause: false,
    };
    let mut err = 0;
    child.run(sys, &mut err).expect_err("the fake's execve fails")
}

/// Each expected entry is the start of a recorded call; they must appear in this order.
fn assert_in_order(calls: &[String], expected: &[&str]) {
    let mut from = 0;
    for e in expected {
        match calls[from..].iter().position(|c| c.starts_with(e)) {
            Some(i) => from += i + 1,
            None => panic!("{e:?} missing or out of order in:\n{}", calls.join("\n")),
        }
    }
}

#[test]
fn preserved_fds_stay_open_in_the_child() {
    let sys = fake();
    run_child_keeping(&sys, &spec(ALL_NEW), 2, false);
    assert_in_order(&sys.calls(), &["dup2", "cloexec_from 5", "read"]);
}

#[test]
fn a_working_directory_that_must_exist_is_not_made() {
    let sys = fake();
    let failure = run_child_keeping(&sys, &spec(ALL_NEW), 0, true);
    assert_eq!(failure.kind, FailKind::NoWorkdir);
    assert!(matches!(RuntimeError::from(failure), RuntimeError::NoWorkdir { path } if path == "/work"));
    assert!(!sys.calls().iter().any(|c| c.starts_with("mkdir /c/root/work")), "{:?}", sys.calls());
}

#[test]
fn child_stages_run_in_order() {
    let sys = fake();
    let failure = run_child(&sys, &spec(ALL_NEW));
    assert_eq!(failure, Failure::errno("executing /bin/sh", Errno::ENOSYS));
    assert_in_order(
        &sys.calls(),
        &[
            "close 21",
            "close 23",
            "dup_above 22 3",
            "dup2",
            "cloexec_from 3",
            "read",
            "reset_signals",
            "unshare CloneFlags(CLONE_NEWCGROUP)",
            "setsid",
            "mount - / - MsFlags(MS_REC | MS_SLAVE)",
            "chdir /layers",
            "mount overlay /c/root overlay MsFlags(0x0) lowerdir=l/A:l/B,upperdir=/c/upper,workdir=/c/work",
            "mount proc /c/root/proc proc MsFlags(MS_NOSUID | MS_NODEV | MS_NOEXEC) -",
            "mkdir /c/root/dev 755",
            "mount tmpfs /c/root/dev tmpfs MsFlags(MS_NOSUID) mode=755",
            "create_file /c/root/dev/null",
            "mount /dev/null /c/root/dev/null - MsFlags(MS_BIND)",
            "mount /dev/tty /c/root/dev/tty",
            "symlink /proc/self/fd /c/root/dev/fd",
            "symlink pts/ptmx /c/root/dev/ptmx",
            "mkdir /c/root/work",
            "chown /c/root/work Some(Uid(1000)) Some(Gid(1000))",
            "chdir /c/root",
            "pivot_root . .",
            "umount2 . MntFlags(MNT_DETACH)",
            "chdir /",
            "mount /dev/null /proc/kcore - MsFlags(MS_BIND)",
            "mount tmpfs /sys/firmware tmpfs MsFlags(MS_RDONLY)",
            "mount /proc/sys /proc/sys - MsFlags(MS_BIND | MS_REC)",
            "mount - /proc/sys - MsFlags(MS_RDONLY | MS_REMOUNT | MS_BIND | MS_REC)",
            "mount - / - MsFlags(MS_RDONLY | MS_REMOUNT | MS_BIND)",
            "sethostname box",
            "set_link_up lo",
            "setrlimit RLIMIT_NOFILE",
            "drop_bounding_cap 1",
            "drop_bounding_cap 40",
            "set_keep_caps true",
            "setgroups [50]",
            "setresgid 1000",
            "setresuid 1000",
            "set_keep_caps false",
            "capset 0x0 0x0 0x0",
            "clear_ambient_caps",
            "chdir /work",
            "set_no_new_privs",
            "access /bin/sh",
            "seccomp",
            "execve /bin/sh [\"sh\", \"-c\", \"true\"]",
        ],
    );
    let calls = sys.calls();
    // The kept capabilities (CHOWN 0, SETPCAP 8, NET_BIND_SERVICE 10) stay in the bounding set.
    for kept in ["drop_bounding_cap 0", "drop_bounding_cap 8", "drop_bounding_cap 10"] {
        assert!(!calls.iter().any(|c| c == kept), "{kept}");
    }
    // A missing masked path is skipped.
    assert!(!calls.iter().any(|c| c.contains("/proc/missing") && c.starts_with("mount")));
}

#[test]
fn a_failing_stage_is_named_and_stops_the_child() {
    let mut sys = fake();
    sys.fail = Some(("mount proc".into(), Errno::EPERM));
    let failure = run_child(&sys, &spec(ALL_NEW));
    assert_eq!(RuntimeError::from(failure).to_string(), "mounting /proc: EPERM: Operation not permitted");
    assert!(!sys.calls().iter().any(|c| c.starts_with("pivot_root") || c.starts_with("execve")));
}

#[test]
fn the_child_stops_when_the_parent_gives_up() {
    let sys = fake();
    sys.reads.borrow_mut().clear();
    let failure = run_child(&sys, &spec(ALL_NEW));
    assert_eq!(failure.stage, "waiting for the parent");
    assert!(!sys.calls().iter().any(|c| c.starts_with("mount")));
}

#[test]
fn joined_namespaces_skip_hostname_and_loopback() {
    let sys = fake();
    let spec = spec(&[(LinuxNamespaceType::Mount, None), (LinuxNamespaceType::Network, Some("/run/netns/x"))]);
    run_child(&sys, &spec);
    let calls = sys.calls();
    assert!(!calls
        .iter()
        .any(|c| c.starts_with("sethostname") || c.starts_with("set_link_up") || c.starts_with("unshare")));
}

#[test]
fn rlimits_above_the_hard_limit_are_clamped() {
    let sys = fake();
    run_child(&sys, &spec(ALL_NEW));
    assert_in_order(
        &sys.calls(),
        &["setrlimit RLIMIT_NOFILE 1048576 1048576", "getrlimit RLIMIT_NOFILE", "setrlimit RLIMIT_NOFILE 4096 4096"],
    );
}

#[test]
fn namespaces_become_clone_flags_and_joins() {
    let ns = Namespaces::from_spec(&spec(&[
        (LinuxNamespaceType::Network, Some("/run/netns/x")),
        (LinuxNamespaceType::Mount, Some("/proc/9/ns/mnt")),
        (LinuxNamespaceType::Pid, Some("/proc/9/ns/pid")),
        (LinuxNamespaceType::Uts, None),
        (LinuxNamespaceType::Ipc, None),
    ]))
    .unwrap();
    assert_eq!(ns.clone_flags, CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWIPC);
    assert_eq!(
        ns.join,
        vec![("/run/netns/x".into(), CloneFlags::CLONE_NEWNET), ("/proc/9/ns/mnt".into(), CloneFlags::CLONE_NEWNS)]
    );
    assert_eq!(ns.pid_path, Some("/proc/9/ns/pid".into()));
    assert!(ns.new_uts && !ns.new_net && !ns.new_cgroup);

    let all = Namespaces::from_spec(&spec(ALL_NEW)).unwrap();
    let expected = CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWNS;
    assert_eq!(all.clone_flags, expected, "the cgroup namespace is unshared later, not cloned");
    assert!(all.new_cgroup);

    let unsupported = |t| Namespaces::from_spec(&spec(&[(LinuxNamespaceType::Mount, None), (t, None)])).unwrap_err();
    assert_eq!(
        unsupported(LinuxNamespaceType::User).to_string(),
        "unsupported runtime spec: user namespaces are not supported"
    );
    assert!(Namespaces::from_spec(&spec(&[(LinuxNamespaceType::Pid, None)])).is_err(), "no mount namespace");
}

fn check_command(
    files: &[(&str, FileKind)],
    not_executable: Option<&str>,
    command: &str,
    expected: Result<&str, FailKind>,
) {
    let mut sys = TestSyscall::new().with_files(files);
    sys.fail = not_executable.map(|p| (format!("access {p}"), Errno::EACCES));
    let got = resolve_command(&sys, command, "/usr/bin:/bin").map_err(|f| f.kind);
    assert_eq!(got, expected.map(PathBuf::from), "{command}");
}

#[test]
fn commands_resolve_in_the_containers_path() {
    use FileKind::*;
    check_command(&[("/bin/sh", File)], None, "sh", Ok("/bin/sh"));
    check_command(&[("/usr/bin/sh", File), ("/bin/sh", File)], None, "sh", Ok("/usr/bin/sh"));
    check_command(&[("/usr/bin/sh", Dir), ("/bin/sh", File)], None, "sh", Ok("/bin/sh"));
    check_command(&[("/bin/sh", File)], None, "nope", Err(FailKind::NotFound));
    check_command(&[("/bin/x", File)], Some("/bin/x"), "x", Err(FailKind::NotExecutable));
    check_command(&[("/etc/passwd", File)], Some("/etc/passwd"), "/etc/passwd", Err(FailKind::NotExecutable));
    check_command(&[("/etc", Dir)], None, "/etc", Err(FailKind::NotExecutable));
    check_command(&[], None, "/bin/nope", Err(FailKind::NotFound));
    check_command(&[("/opt/run", File)], None, "/opt/run", Ok("/opt/run"));
}

fn noop_seccomp() -> Result<(), String> {
    Ok(())
}

#[test]
fn launch_returns_the_pid_when_the_error_pipe_closes_empty() {
    let sys = TestSyscall::new();
    let spec = spec(ALL_NEW);
    let seen = RefCell::new(None);
    let mut before_exec = |pid| {
        *seen.borrow_mut() = Some(pid);
        Ok(())
    };
    let launch_args = Launch {
        spec: &spec,
        rootfs: &rootfs(),
        stdio: [0, 1, 2],
        console: None,
        before_exec: &mut before_exec,
        seccomp: &noop_seccomp,
        preserve_fds: 0,
        workdir_must_exist: false,
    };
    let started = launch(&sys, launch_args).unwrap();
    assert_eq!(started.pid, Pid::from_raw(4242));
    assert_eq!(*seen.borrow(), Some(Pid::from_raw(4242)));
    // pipes 101/102 (go) and 103/104 (err); the child's ends close after clone, go is written.
    assert_in_order(
        &sys.calls(),
        &["pipe 101 102", "pipe 103 104", "clone", "close 101", "close 104", "write 102", "close 102", "read 103"],
    );
}

#[test]
fn launch_reports_the_childs_failure_and_reaps_it() {
    let sys = TestSyscall::new();
    sys.reads.borrow_mut().push_back(Failure::errno("mounting /proc", Errno::EPERM).encode().into_bytes());
    let spec = spec(ALL_NEW);
    let mut before_exec = |_| Ok(());
    let launch_args = Launch {
        spec: &spec,
        rootfs: &rootfs(),
        stdio: [0, 1, 2],
        console: None,
        before_exec: &mut before_exec,
        seccomp: &noop_seccomp,
        preserve_fds: 0,
        workdir_must_exist: false,
    };
    let err = launch(&sys, launch_args).unwrap_err();
    assert_eq!(err.to_string(), "mounting /proc: EPERM: Operation not permitted");
    assert!(sys.calls().contains(&"waitpid 4242".to_string()));
}

#[test]
fn a_failing_before_exec_kills_the_child() {
    let sys = TestSyscall::new();
    let spec = spec(ALL_NEW);
    let mut before_exec = |_| Err("no cgroup for you".to_string());
    let launch_args = Launch {
        spec: &spec,
        rootfs: &rootfs(),
        stdio: [0, 1, 2],
        console: None,
        before_exec: &mut before_exec,
        seccomp: &noop_seccomp,
        preserve_fds: 0,
        workdir_must_exist: false,
    };
    let err = launch(&sys, launch_args).unwrap_err();
    assert_eq!(err, RuntimeError::BeforeExec("no cgroup for you".into()));
    assert_in_order(&sys.calls(), &["clone", "kill 4242 SIGKILL", "waitpid 4242"]);
    assert!(!sys.calls().iter().any(|c| c.starts_with("write")));
}

#[test]
fn an_exec_joins_namespaces_mounts_nothing_and_takes_its_terminal() {
    let sys = fake();
    let mut spec = spec(ALL_NEW);
    let mut process = spec.process().clone().unwrap();
    process.set_terminal(Some(true));
    spec.set_process(Some(process));
    let ns = Namespaces {
        clone_flags: CloneFlags::empty(),
        join: vec![
            (PathBuf::from("/proc/7/ns/net"), CloneFlags::CLONE_NEWNET),
            (PathBuf::from("/proc/7/ns/mnt"), CloneFlags::CLONE_NEWNS),
        ],
        pid_path: Some(PathBuf::from("/proc/7/ns/pid")),
        new_cgroup: false,
        new_uts: false,
        new_net: false,
    };
    let seccomp = || Ok(());
    let child = Child {
        process: spec.process().as_ref().unwrap(),
        spec: None,
        rootfs: None,
        stdio: [10, 11, 12],
        seccomp: &seccomp,
        console: None,
        preserve_fds: 0,
        workdir_must_exist: false,
        ns: &ns,
        joins: vec![(30, CloneFlags::CLONE_NEWNET), (31, CloneFlags::CLONE_NEWNS)],
        go: 20,
        go_parent: 21,
        err: 22,
        err_parent: 23,
        last_cap: 40,
        init: false,
        pause: false,
    };
    let failure = child.run(&sys, &mut 0).expect_err("the fake's execve fails");
    assert_eq!(failure, Failure::errno("executing /bin/sh", Errno::ENOSYS));
    let calls = sys.calls();
    assert_in_order(
        &calls,
        &[
            "setns 30 CloneFlags(CLONE_NEWNET)",
            "setns 31 CloneFlags(CLONE_NEWNS)",
            "setsid",
            "set_controlling_terminal 0",
            "setrlimit",
            "setresuid",
            "chdir /work",
            "execve",
        ],
    );
    assert!(!calls.iter().any(|c| c.starts_with("mount") || c.starts_with("pivot_root")), "{calls:?}");
    assert!(!calls.iter().any(|c| c.starts_with("unshare") || c.starts_with("sethostname")), "{calls:?}");
}

#[test]
fn a_terminal_is_made_in_the_container_and_its_master_sent_to_the_console_socket() {
    let sys = fake();
    let mut spec = spec(ALL_NEW);
    let mut process = spec.process().clone().unwrap();
    process.set_terminal(Some(true));
    spec.set_process(Some(process));
    let ns = Namespaces::from_spec(&spec).unwrap();
    let rootfs = rootfs();
    let seccomp = || Ok(());
    let child = Child {
        process: spec.process().as_ref().unwrap(),
        spec: Some(&spec),
        rootfs: Some(&rootfs),
        stdio: [10, 11, 12],
        seccomp: &seccomp,
        console: Some(30),
        preserve_fds: 0,
        workdir_must_exist: false,
        ns: &ns,
        joins: Vec::new(),
        go: 20,
        go_parent: 21,
        err: 22,
        err_parent: 23,
        last_cap: 40,
        init: false,
        pause: false,
    };
    let _ = child.run(&sys, &mut 0).expect_err("the fake's execve fails");
    // After pivot_root (the container's own /dev/ptmx), before the user changes.
    assert_in_order(
        &sys.calls(),
        &[
            "pivot_root",
            "open_console",
            "send_fd",
            "close 60",
            "dup2 61 0",
            "dup2 61 1",
            "dup2 61 2",
            "set_controlling_terminal 0",
            "setresuid",
        ],
    );
}
