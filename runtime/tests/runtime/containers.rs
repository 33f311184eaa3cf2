use berth_runtime::RuntimeError;
use nix::sys::wait::WaitStatus;

use crate::fixture::{assert_unmounted, fixture, run, sh, spec, start, Opts};

type Test = (&'static str, fn());

pub const TESTS: &[Test] = &[
    ("echo_prints_hello", echo_prints_hello),
    ("id_shows_user_and_groups", id_shows_user_and_groups),
    ("hostname_is_the_specs", hostname_is_the_specs),
    ("capabilities_are_podmans_defaults", capabilities_are_podmans_defaults),
    ("a_user_has_no_effective_capabilities", a_user_has_no_effective_capabilities),
    ("masked_paths_are_empty", masked_paths_are_empty),
    ("proc_sys_is_read_only", proc_sys_is_read_only),
    ("dev_has_exactly_the_default_devices", dev_has_exactly_the_default_devices),
    ("the_shell_is_pid_1", the_shell_is_pid_1),
    ("signals_start_at_their_defaults", signals_start_at_their_defaults),
    ("loopback_is_up_and_alone", loopback_is_up_and_alone),
    ("a_missing_command_is_not_found", a_missing_command_is_not_found),
    ("a_plain_file_is_not_executable", a_plain_file_is_not_executable),
    ("mounts_stay_in_the_container", mounts_stay_in_the_container),
    ("nofile_above_the_hard_limit_is_clamped", nofile_above_the_hard_limit_is_clamped),
    ("a_missing_working_directory_is_created", a_missing_working_directory_is_created),
    ("a_failing_mount_names_its_destination", a_failing_mount_names_its_destination),
    ("a_failing_before_exec_leaves_nothing_behind", a_failing_before_exec_leaves_nothing_behind),
];

fn echo_prints_hello() {
    let out = run(&Opts::new(&["echo", "hello"])).unwrap();
    assert_eq!(out.stdout, "hello\n");
    assert!(matches!(out.status, WaitStatus::Exited(_, 0)), "{:?}", out.status);
}

fn id_shows_user_and_groups() {
    let out = run(&Opts { uid: 1000, gid: 1000, groups: &[50, 1000], ..Opts::new(&["id"]) }).unwrap();
    assert_eq!(out.stdout, "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)\n", "stderr {:?}", out.stderr);
}

fn hostname_is_the_specs() {
    let out = run(&Opts { hostname: "box-42", ..Opts::new(&["hostname"]) }).unwrap();
    assert_eq!(out.stdout, "box-42\n");
}

fn cap_line(status: &str, name: &str) -> String {
    status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {status}")).to_string()
}

/// Podman's eleven default capabilities; 0xa80425fb would be Docker's set (plus MKNOD,
/// NET_RAW, AUDIT_WRITE).
const PODMAN_MASK: &str = "00000000800405fb";

fn capabilities_are_podmans_defaults() {
    let status = sh("cat /proc/self/status");
    for name in ["CapEff", "CapPrm", "CapBnd"] {
        assert_eq!(cap_line(&status, name), format!("{name}:\t{PODMAN_MASK}"));
    }
    assert_eq!(cap_line(&status, "CapInh"), "CapInh:\t0000000000000000");
    assert_eq!(cap_line(&status, "CapAmb"), "CapAmb:\t0000000000000000");
    assert_eq!(cap_line(&status, "NoNewPrivs"), "NoNewPrivs:\t0");
}

fn a_user_has_no_effective_capabilities() {
    let out = run(&Opts { uid: 1000, gid: 1000, ..Opts::new(&["cat", "/proc/self/status"]) }).unwrap();
    assert_eq!(cap_line(&out.stdout, "CapEff"), "CapEff:\t0000000000000000");
    assert_eq!(cap_line(&out.stdout, "CapBnd"), format!("CapBnd:\t{PODMAN_MASK}"));
}

fn masked_paths_are_empty() {
    assert_eq!(sh("cat /proc/kcore; ls -A /sys/firmware; echo done"), "done\n");
    assert_eq!(sh("grep -c . /proc/keys || true"), "0\n");
}

fn proc_sys_is_read_only() {
    let out = sh("echo other > /proc/sys/kernel/hostname 2>/dev/null; echo rc=$?; hostname");
    assert_eq!(out, "rc=1\nberth-test\n");
    assert!(sh("grep ' /proc/sys ' /proc/self/mounts").contains(" ro,"));
}

fn dev_has_exactly_the_default_devices() {
    let out = sh("ls /dev");
    let got: Vec<&str> = out.split_whitespace().collect();
    let expected = [
        "core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty",
        "urandom", "zero",
    ];
    assert_eq!(got, expected);
    // The host's character devices (major 1: null 3, zero 5, full 7, random 8, urandom 9; tty 5:0).
    assert_eq!(
        sh("echo x > /dev/null && stat -c %t:%T /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty"),
        "1:3\n1:5\n1:7\n1:8\n1:9\n5:0\n"
    );
    assert_eq!(sh("for l in fd stdout ptmx; do readlink /dev/$l; done"), "/proc/self/fd\n/proc/self/fd/1\npts/ptmx\n");
}

fn the_shell_is_pid_1() {
    assert_eq!(sh("echo $$"), "1\n");
}

fn signals_start_at_their_defaults() {
    // The test binary ignores SIGPIPE (Rust does); the container must not inherit that. Signals
    // 32 and 33 belong to the C library, which refuses to touch them: what the caller's parent
    // set for them stays (bits 31 and 32 of the mask).
    let status = run(&Opts::new(&["cat", "/proc/self/status"])).unwrap().stdout;
    let ignored = u64::from_str_radix(cap_line(&status, "SigIgn").trim_start_matches("SigIgn:\t"), 16).unwrap();
    assert_eq!(ignored & !(0b11 << 31), 0, "{ignored:#x}");
    assert_eq!(cap_line(&status, "SigBlk"), "SigBlk:\t0000000000000000");
}

fn loopback_is_up_and_alone() {
    assert_eq!(sh("ls /sys/class/net; cat /sys/class/net/lo/flags"), "lo\n0x9\n");
    assert!(sh("cat /proc/net/dev").contains("lo:"));
}

fn a_missing_command_is_not_found() {
    let err = run(&Opts::new(&["no-such-command"])).err().expect("launch should fail");
    assert_eq!(err, RuntimeError::NotFound { command: "no-such-command".into() });
    let err = run(&Opts::new(&["/bin/missing"])).err().expect("launch should fail");
    assert_eq!(err, RuntimeError::NotFound { command: "/bin/missing".into() });
}

fn a_plain_file_is_not_executable() {
    let err = run(&Opts::new(&["/etc/passwd"])).err().expect("launch should fail");
    assert_eq!(err, RuntimeError::NotExecutable { command: "/etc/passwd".into() });
}

fn mounts_stay_in_the_container() {
    let fx = fixture();
    let target = fx.rootfs.target.clone();
    let running =
        start(&fx.rootfs, &spec(&Opts::new(&["sh", "-c", "read x; grep -c ' / / ' /proc/self/mountinfo"]))).unwrap();
    // While it runs: its root is an overlay in its own namespace, absent from ours.
    let theirs = std::fs::read_to_string(format!("/proc/{}/mountinfo", running.pid)).unwrap();
    assert!(theirs.lines().any(|l| l.contains(" / / ") && l.contains(" - overlay ")), "{theirs}");
    assert_unmounted(&target);
    let out = running.wait();
    assert_eq!(out.stdout, "1\n", "stderr {:?}", out.stderr);
    assert_unmounted(&target);
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0, "{} is not empty", target.display());
}

fn nofile_above_the_hard_limit_is_clamped() {
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    let nr_open: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open").unwrap().trim().parse().unwrap();
    // Above nr_open even CAP_SYS_RESOURCE cannot raise it, so this is clamped on every machine.
    let out = run(&Opts { nofile: nr_open + 1, ..Opts::new(&["sh", "-c", "ulimit -n; ulimit -Hn"]) }).unwrap();
    assert_eq!(out.stdout, format!("{hard}\n{hard}\n"), "stderr {:?}", out.stderr);
}

fn a_missing_working_directory_is_created() {
    let out = run(&Opts { uid: 1000, gid: 1000, cwd: "/srv/app", ..Opts::new(&["sh", "-c", "pwd; stat -c %u:%g ."]) })
        .unwrap();
    assert_eq!(out.stdout, "/srv/app\n1000:1000\n", "stderr {:?}", out.stderr);
}

fn a_failing_mount_names_its_destination() {
    let bogus =
        oci_spec::runtime::MountBuilder::default().destination("/data").typ("no-such-fs").source("x").build().unwrap();
    let err = run(&Opts { extra_mounts: vec![bogus], ..Opts::new(&["true"]) }).err().expect("launch should fail");
    assert_eq!(err.to_string(), "mounting /data: ENODEV: No such device");
}

fn a_failing_before_exec_leaves_nothing_behind() {
    let fx = fixture();
    let spec = spec(&Opts::new(&["true"]));
    let mut seen = None;
    let mut before_exec = |pid| {
        seen = Some(pid);
        Err("cgroup refused".to_string())
    };
    let err = berth_runtime::launch(
        &berth_runtime::sys::LinuxSyscall,
        berth_runtime::Launch {
            spec: &spec,
            rootfs: &fx.rootfs,
            stdio: [0, 1, 2],
            console: None,
            before_exec: &mut before_exec,
            seccomp: &|| Ok(()),
            preserve_fds: 0,
            workdir_must_exist: false,
        },
    )
    .expect_err("launch should fail");
    assert_eq!(err, RuntimeError::BeforeExec("cgroup refused".into()));
    let pid = seen.expect("before_exec saw the pid");
    assert_eq!(nix::sys::wait::waitpid(pid, None), Err(nix::errno::Errno::ECHILD), "the child was reaped");
    assert_unmounted(&fx.rootfs.target);
}
