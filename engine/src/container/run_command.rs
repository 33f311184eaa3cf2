//! The `berth run` command line that makes a container again from its recorded create options:
//! the app's "Copy as berth run command", and whatever else wants to show how a container was
//! made. Built from `CreateOptions` (what the user asked for), never from the resolved spec, so
//! the image's own settings are not repeated as flags.
//!
//! Left out, as no flag gives them back as recorded: a seccomp profile read from a file, devices
//! and device cgroup rules, `--runtime`, `--conmon-pidfile`, `--rootfs`, the log driver and
//! the healthcheck's flags apart from the image's (the recorded check is the image's with the
//! flags laid over it, given back whole as flags: the same check).

use super::health::OnFailure;
use super::mount::MountRequest;
use super::{ContainerRecord, CreateOptions, RestartPolicy};

/// `berth run -d …` as one shell-quoted line.
pub fn run_command(c: &ContainerRecord) -> String {
    shell_join(&run_args(&c.name, &c.image_name, &c.options))
}

/// The words of `berth run -d` that recreate a container named `name` of `image` with `o`.
pub fn run_args(name: &str, image: &str, o: &CreateOptions) -> Vec<String> {
    let mut a: Vec<String> = vec!["berth".into(), "run".into(), "-d".into()];
    let mut flag = |f: &str, v: String| {
        a.push(f.to_string());
        a.push(v);
    };
    flag("--name", name.to_string());
    // in a pod, the host name and the network are the pod's (given again, they are refused)
    let in_pod = o.pod.is_some() && !o.pod_infra;
    if let Some(p) = o.pod.as_ref().filter(|_| in_pod) {
        flag("--pod", p.clone());
    }
    if let Some(h) = o.hostname.as_ref().filter(|_| !in_pod) {
        flag("--hostname", h.clone());
    }
    if let Some(u) = &o.user {
        flag("--user", u.clone());
    }
    for g in &o.group_add {
        flag("--group-add", g.clone());
    }
    if let Some(w) = &o.workdir {
        flag("--workdir", w.clone());
    }
    for e in &o.env {
        flag("--env", e.clone());
    }
    for u in &o.unsetenv {
        flag("--unsetenv", u.clone());
    }
    for p in &o.ports {
        let host = match p.host_ip {
            Some(ip) if ip.is_ipv6() => format!("[{ip}]:{}", p.host_port),
            Some(ip) => format!("{ip}:{}", p.host_port),
            None => p.host_port.to_string(),
        };
        flag("--publish", format!("{host}:{}/{}", p.container_port, p.protocol.as_str()));
    }
    if let Some(n) = o.network.as_deref().filter(|n| !n.is_empty() && !in_pod) {
        flag("--network", n.to_string());
    }
    for alias in &o.network_aliases {
        flag("--network-alias", alias.clone());
    }
    for d in &o.dns {
        flag("--dns", d.to_string());
    }
    for d in &o.dns_search {
        flag("--dns-search", d.clone());
    }
    for d in &o.dns_options {
        flag("--dns-opt", d.clone());
    }
    for (host, ip) in &o.add_hosts {
        flag("--add-host", format!("{host}:{ip}"));
    }
    for m in &o.mounts {
        match m {
            MountRequest::Bind { source, destination, read_only } => {
                flag("--volume", format!("{}:{destination}{}", source.display(), ro(*read_only)))
            }
            MountRequest::Volume { destination, anonymous: true, read_only, .. } => {
                flag("--volume", format!("{destination}{}", ro(*read_only)))
            }
            MountRequest::Volume { name, destination, read_only, .. } => {
                flag("--volume", format!("{name}:{destination}{}", ro(*read_only)))
            }
            MountRequest::Tmpfs { destination, options } if options.is_empty() => flag("--tmpfs", destination.clone()),
            MountRequest::Tmpfs { destination, options } => {
                flag("--tmpfs", format!("{destination}:{}", options.join(",")))
            }
            MountRequest::Image { source, destination, read_write, .. } => flag(
                "--mount",
                format!("type=image,src={source},dst={destination}{}", if *read_write { ",rw=true" } else { "" }),
            ),
        }
    }
    for v in &o.volumes_from {
        flag("--volumes-from", v.clone());
    }
    if o.restart != RestartPolicy::No {
        flag("--restart", o.restart.name());
    }
    for (k, v) in &o.labels {
        flag("--label", format!("{k}={v}"));
    }
    let l = &o.limits;
    if let Some(m) = l.memory {
        flag("--memory", m.to_string());
    }
    if let Some(m) = l.memory_swap {
        flag("--memory-swap", m.to_string());
    }
    if let Some(c) = l.cpus {
        flag("--cpus", c.to_string());
    }
    if let Some(c) = l.cpu_shares {
        flag("--cpu-shares", c.to_string());
    }
    if let Some(p) = l.pids {
        flag("--pids-limit", p.to_string());
    }
    if let Some(s) = o.shm_size {
        flag("--shm-size", s.to_string());
    }
    for (k, v) in &o.sysctls {
        flag("--sysctl", format!("{k}={v}"));
    }
    let s = &o.security;
    for c in &s.cap_add {
        flag("--cap-add", c.clone());
    }
    for c in &s.cap_drop {
        flag("--cap-drop", c.clone());
    }
    if s.seccomp.as_deref() == Some("unconfined") {
        flag("--security-opt", "seccomp=unconfined".into());
    }
    if s.no_new_privileges {
        flag("--security-opt", "no-new-privileges".into());
    }
    if let Some(t) = o.stop_timeout {
        flag("--stop-timeout", t.to_string());
    }
    if let Some(sig) = o.stop_signal {
        flag("--stop-signal", sig.to_string());
    }
    if let Some(t) = o.timeout.filter(|t| *t > 0) {
        flag("--timeout", t.to_string());
    }
    if let Some(tz) = &o.tz {
        flag("--tz", tz.clone());
    }
    if let Some(e) = &o.entrypoint {
        flag("--entrypoint", serde_json::to_string(e).unwrap_or_default());
    }
    if let Some(h) = o.healthcheck.as_ref().filter(|_| !o.no_healthcheck) {
        match h.test.split_first() {
            Some((kind, [line])) if kind == "CMD-SHELL" => flag("--health-cmd", line.clone()),
            Some((kind, _)) if kind == "NONE" => {}
            Some(_) => flag("--health-cmd", serde_json::to_string(&h.test).unwrap_or_default()),
            None => {}
        }
        let durations = [
            ("--health-interval", h.interval),
            ("--health-timeout", h.timeout),
            ("--health-start-period", h.start_period),
        ];
        for (f, ns) in durations {
            if let Some(ns) = ns {
                flag(f, duration(ns));
            }
        }
        if let Some(r) = h.retries {
            flag("--health-retries", r.to_string());
        }
    }
    if o.health_on_failure != OnFailure::None {
        flag("--health-on-failure", o.health_on_failure.name().to_string());
    }
    let switches = [
        (o.remove, "--rm"),
        (o.read_only, "--read-only"),
        (o.tty, "--tty"),
        (o.interactive, "--interactive"),
        (o.publish_all, "--publish-all"),
        (o.pid_host, "--pid=host"),
        (o.init, "--init"),
        (o.unsetenv_all, "--unsetenv-all"),
        (o.no_healthcheck, "--no-healthcheck"),
        (o.security.privileged, "--privileged"),
    ];
    a.extend(switches.iter().filter(|(on, _)| *on).map(|(_, f)| f.to_string()));
    a.push(image.to_string());
    a.extend(o.command.iter().cloned());
    a
}

/// Nanoseconds as a duration the `--health-*` flags read: whole seconds, else milliseconds.
fn duration(ns: u64) -> String {
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else {
        format!("{}ms", ns / 1_000_000)
    }
}

fn ro(read_only: bool) -> &'static str {
    if read_only {
        ":ro"
    } else {
        ""
    }
}

/// The words as a POSIX shell reads them back: a word of only safe characters as it is, any
/// other in single quotes (a `'` in it as `'\''`).
pub fn shell_join(words: &[String]) -> String {
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
}

pub fn shell_quote(w: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@,+%^".contains(c);
    if !w.is_empty() && w.chars().all(safe) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::port::{PortMapping, Protocol};

    fn check(o: CreateOptions, want: &str) {
        assert_eq!(shell_join(&run_args("web", "docker.io/library/nginx:latest", &o)), want);
    }

    #[test]
    fn quoting_is_what_a_shell_reads_back() {
        assert_eq!(shell_quote("plain-word_1.2:/x=y"), "plain-word_1.2:/x=y");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("*"), "'*'");
    }

    #[test]
    fn a_bare_container_is_its_name_and_image() {
        check(CreateOptions::default(), "berth run -d --name web docker.io/library/nginx:latest");
    }

    #[test]
    fn every_option_the_create_form_knows_comes_back() {
        let o = CreateOptions {
            command: vec!["sh".into(), "-c".into(), "echo \"hi\" > /x; sleep 1d".into()],
            env: vec!["A=1".into(), "GREETING=hello world".into()],
            ports: vec![
                PortMapping { host_ip: None, host_port: 8080, container_port: 80, protocol: Protocol::Tcp },
                PortMapping {
                    host_ip: Some("127.0.0.1".parse().unwrap()),
                    host_port: 5353,
                    container_port: 53,
                    protocol: Protocol::Udp,
                },
            ],
            mounts: vec![
                MountRequest::Volume {
                    name: "data".into(),
                    destination: "/data".into(),
                    read_only: false,
                    anonymous: false,
                },
                MountRequest::Volume {
                    name: "0f3a".into(),
                    destination: "/cache".into(),
                    read_only: false,
                    anonymous: true,
                },
                MountRequest::Bind {
                    source: "/srv/my site".into(),
                    destination: "/usr/share/html".into(),
                    read_only: true,
                },
                MountRequest::Tmpfs { destination: "/run".into(), options: vec!["size=64m".into()] },
            ],
            network: Some("front".into()),
            restart: RestartPolicy::OnFailure { max_retries: Some(3) },
            labels: [("app".to_string(), "shop".to_string()), ("note".to_string(), "it's on".to_string())].into(),
            entrypoint: Some(vec!["/bin/sh".into()]),
            remove: true,
            healthcheck: Some(crate::container::health::HealthConfig {
                test: vec!["CMD-SHELL".into(), "test -e /ready".into()],
                interval: Some(2_000_000_000),
                timeout: Some(500_000_000),
                start_period: None,
                retries: Some(3),
            }),
            health_on_failure: OnFailure::Restart,
            ..Default::default()
        };
        check(
            o,
            "berth run -d --name web --env A=1 --env 'GREETING=hello world' --publish 8080:80/tcp \
             --publish 127.0.0.1:5353:53/udp --network front --volume data:/data --volume /cache \
             --volume '/srv/my site:/usr/share/html:ro' --tmpfs /run:size=64m --restart on-failure:3 \
             --label app=shop --label 'note=it'\\''s on' --entrypoint '[\"/bin/sh\"]' --health-cmd 'test -e /ready' \
             --health-interval 2s --health-timeout 500ms --health-retries 3 --health-on-failure restart --rm \
             docker.io/library/nginx:latest sh -c 'echo \"hi\" > /x; sleep 1d'",
        );
    }
}
