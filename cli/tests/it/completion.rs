//! Shell completion as Podman's (`__complete`, `__completeNoDesc`, `berth completion SHELL`) and
//! `berth unshare` as root.

use crate::World;

/// `berth __completeNoDesc WORDS`: the candidates, and the directive's number.
fn complete(w: &World, words: &[&str]) -> (Vec<String>, String) {
    let mut args = vec!["__completeNoDesc"];
    args.extend_from_slice(words);
    let out = w.berth(&args);
    assert!(out.status.success(), "{words:?}: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<String> = stdout.lines().map(String::from).collect();
    let directive = lines.pop().expect("a directive line");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("Completion ended with directive: ShellCompDirective"), "{stderr}");
    (lines, directive)
}

fn has(list: &[String], want: &str) -> bool {
    list.iter().any(|l| l == want)
}

#[test]
fn completion_offers_commands_flags_objects_and_paths_inside_images_and_containers() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["tag", &img, "localhost/short:v1"]);
    w.ok(&["volume", "create", "vol-one"]);
    w.ok(&["network", "create", "net-one"]);
    w.ok(&["run", "--name", "done", &img, "sh", "-c", "touch /tmp/mark /tmp/mark2 && mkdir /emptydir"]);

    // Subcommands and flags, from the command tree; the hidden commands are not offered.
    let (c, d) = complete(&w, &["im"]);
    assert_eq!((c, d.as_str()), (vec!["images".to_string(), "image".to_string(), "import".to_string()], ":4"));
    let (c, _) = complete(&w, &["__"]);
    assert!(c.is_empty(), "{c:?}");
    let (c, d) = complete(&w, &["rm", "--"]);
    assert!(has(&c, "--force") && has(&c, "--root"), "{c:?}");
    assert_eq!(d, ":4");
    // A flag's value: its possible values; a value taken by the flag is not an argument.
    let (c, _) = complete(&w, &["completion", ""]);
    assert!(has(&c, "bash") && has(&c, "zsh") && has(&c, "fish"), "{c:?}");

    // Objects by what the argument's value name says.
    let (c, d) = complete(&w, &["start", ""]);
    assert!(has(&c, "done"), "{c:?}");
    assert_eq!(d, ":4");
    let (c, _) = complete(&w, &["rmi", ""]);
    assert!(has(&c, "localhost/short:v1"), "{c:?}");
    let (c, _) = complete(&w, &["rmi", "s"]);
    assert!(has(&c, "short:v1"), "{c:?}");
    let id = w.ok(&["images", "-q", "localhost/short:v1"]).trim().to_string();
    let (c, _) = complete(&w, &["rmi", &id[..2]]);
    assert!(has(&c, &id), "{c:?} has {id}");
    let (c, _) = complete(&w, &["volume", "inspect", ""]);
    assert!(has(&c, "vol-one"), "{c:?}");
    let (c, _) = complete(&w, &["network", "rm", ""]);
    assert!(has(&c, "net-one"), "{c:?}");
    // No argument left: nothing, and no file completion.
    assert_eq!(complete(&w, &["rename", "done", "new", ""]), (vec![], ":4".to_string()));

    // Paths inside the image after run's IMAGE: directories with a slash, no space after.
    let (c, d) = complete(&w, &["run", &img, ""]);
    assert!(has(&c, "/etc/") && has(&c, "/root/") && has(&c, "/home/"), "{c:?}");
    assert_eq!(d, ":6");
    let (c, _) = complete(&w, &["create", "--name", "x", &img, "/etc"]);
    assert!(has(&c, "/etc/") && has(&c, "/etc/os-release"), "{c:?}");
    let (c, d) = complete(&w, &["run", &img, "/etc/os-"]);
    assert_eq!((c, d.as_str()), (vec!["/etc/os-release".to_string()], ":4"));
    // `..` stops at the image's root: the host's files never show.
    std::fs::write("/tmp/berth-completion-host-only", "").unwrap();
    let (c, _) = complete(&w, &["run", &img, "../../"]);
    assert!(has(&c, "../../etc/") && has(&c, "../../home/"), "{c:?}");
    let (c, _) = complete(&w, &["run", &img, "../../tmp/berth-completion-"]);
    assert!(c.is_empty(), "{c:?}");
    std::fs::remove_file("/tmp/berth-completion-host-only").unwrap();

    // cp: containers with a colon, then the (stopped) container's own files.
    let (c, d) = complete(&w, &["cp", ""]);
    assert!(has(&c, "done:"), "{c:?}");
    assert_eq!(d, ":2");
    let (c, _) = complete(&w, &["cp", "done:"]);
    assert!(has(&c, "done:/etc/"), "{c:?}");
    let (c, _) = complete(&w, &["cp", "done:/tmp/mark"]);
    assert!(has(&c, "done:/tmp/mark") && has(&c, "done:/tmp/mark2"), "{c:?}");
    let (c, d) = complete(&w, &["cp", "done:/emptydir"]);
    assert_eq!((c, d.as_str()), (vec!["done:/emptydir/".to_string()], ":6"));
    let (c, _) = complete(&w, &["cp", "/etc/hostname", "done:/tm"]);
    assert_eq!(c, ["done:/tmp/"]);

    // A running container's files through its own root: its volume's content shows too.
    w.ok(&["run", "-d", "--name", "up", "-v", "vol-one:/data", &img, "sleep", "1000"]);
    w.ok(&["exec", "up", "sh", "-c", "touch /data/in-volume && ln -s / /data/top"]);
    let (c, _) = complete(&w, &["cp", "up:/data/"]);
    assert_eq!(c, ["up:/data/in-volume", "up:/data/top/"]);
    let (c, _) = complete(&w, &["cp", "up:/data/top/../../../e"]);
    assert_eq!(c, ["up:/data/top/../../../etc/"], "links and .. stay in the container");
    // `__complete` is a request only as the command itself
    assert_eq!(w.ok(&["exec", "up", "echo", "__complete", "x"]), "__complete x\n");
    w.ok(&["rm", "-f", "-t", "0", "up"]);

    // With descriptions, for shells that show them.
    let out = w.ok(&["__complete", "im"]);
    assert!(out.contains("images\tList images in local storage\n"), "{out}");
}

#[test]
fn completion_scripts_call_back_and_help_hides_the_requests() {
    let w = World::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = w.ok(&["completion", shell]);
        assert!(script.contains("__complete"), "{shell}: {script}");
    }
    // bash reads what it prints
    let file = w.dir.path().join("berth.bash");
    w.ok(&["completion", "bash", "-f", file.to_str().unwrap()]);
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p berth", file.display()))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("-F _berth_complete berth"), "{out:?}");
    let err = w.fails(&["completion", "powershell"]);
    assert!(err.contains("completion for powershell is not available: choose bash, zsh or fish"), "{err}");

    let help = w.ok(&["help"]);
    assert!(!help.contains("__complete"), "{help}");
    assert!(help.contains("completion") && help.contains("unshare"), "{help}");
    assert!(w.ok(&["completion", "--help"]).contains("completion [options] SHELL\n"));
    assert!(w.ok(&["unshare", "--help"]).contains("unshare [options] [COMMAND [ARG...]]\n"));
}

#[test]
fn unshare_as_root_is_refused_as_podman_refuses_it() {
    let w = World::new();
    let out = w.berth(&["unshare", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Error: please use unshare with rootless\n");
}

/// The app's "Copy as berth run" line (the engine's `run_command`) uses only flags `berth run`
/// takes: every option set, each `--flag` it writes found in `berth run --help`.
#[test]
fn every_flag_of_a_containers_run_command_is_one_berth_run_takes() {
    use berth_engine::container::health::{HealthConfig, OnFailure};
    use berth_engine::container::mount::MountRequest;
    use berth_engine::container::port::{PortMapping, Protocol};
    let mut o = berth_engine::CreateOptions {
        command: vec!["sh".into()],
        entrypoint: Some(vec!["/init".into()]),
        env: vec!["A=1".into()],
        workdir: Some("/w".into()),
        user: Some("1000".into()),
        hostname: Some("h".into()),
        remove: true,
        labels: [("a".to_string(), "b".to_string())].into(),
        ports: vec![PortMapping { host_ip: None, host_port: 8080, container_port: 80, protocol: Protocol::Tcp }],
        publish_all: true,
        network: Some("net".into()),
        network_aliases: vec!["web".into()],
        dns: vec!["10.0.0.1".parse().unwrap()],
        dns_search: vec!["example.org".into()],
        add_hosts: vec![("db".into(), "10.0.0.2".parse().unwrap())],
        restart: berth_engine::container::RestartPolicy::Always,
        mounts: vec![
            MountRequest::Volume { name: "v".into(), destination: "/v".into(), read_only: true, anonymous: false },
            MountRequest::Tmpfs { destination: "/t".into(), options: vec!["size=1m".into()] },
            MountRequest::Image {
                source: "busybox".into(),
                image_id: "x".into(),
                destination: "/i".into(),
                read_write: true,
            },
        ],
        read_only: true,
        tty: true,
        interactive: true,
        stop_timeout: Some(3),
        timeout: Some(9),
        tz: Some("UTC".into()),
        pid_host: true,
        volumes_from: vec!["other".into()],
        stop_signal: Some(15),
        unsetenv: vec!["PATH".into()],
        unsetenv_all: true,
        dns_options: vec!["ndots:2".into()],
        group_add: vec!["wheel".into()],
        shm_size: Some(1 << 20),
        sysctls: [("net.ipv4.ip_forward".to_string(), "1".to_string())].into(),
        init: true,
        healthcheck: Some(HealthConfig {
            test: vec!["CMD-SHELL".into(), "true".into()],
            interval: Some(1_000_000_000),
            timeout: Some(1_000_000_000),
            start_period: Some(1_000_000_000),
            retries: Some(2),
        }),
        health_on_failure: OnFailure::Kill,
        ..Default::default()
    };
    o.limits.memory = Some(1 << 26);
    o.limits.memory_swap = Some(1 << 27);
    o.limits.cpus = Some(1.5);
    o.limits.cpu_shares = Some(512);
    o.limits.pids = Some(100);
    o.security.cap_add = vec!["NET_ADMIN".into()];
    o.security.cap_drop = vec!["CHOWN".into()];
    o.security.privileged = true;
    o.security.seccomp = Some("unconfined".into());
    o.security.no_new_privileges = true;
    let mut with_no_check = o.clone();
    with_no_check.no_healthcheck = true;
    let out = std::process::Command::new(crate::BERTH).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for o in [o, with_no_check] {
        let words = berth_engine::container::run_command::run_args("web", "busybox", &o);
        let flags: Vec<&String> = words.iter().filter(|w| w.starts_with("--")).collect();
        assert!(flags.len() > 40, "{words:?}");
        for flag in flags {
            let name = flag.split('=').next().unwrap();
            assert!(
                help.contains(&format!("{name} ")) || help.contains(&format!("{name}\n")),
                "{name} is not a flag of berth run"
            );
        }
    }
}
