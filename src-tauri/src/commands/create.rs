//! The create form: a free port to suggest, and `create_container`, the form checked and
//! turned into the engine's options (env file, ports, volumes, healthcheck) before anything
//! exists.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::Path;

use berth_engine::network::PortMapping;
use berth_engine::volume::MountRequest;
use berth_engine::CreateOptions;
use serde::Deserialize;

use berth_engine::container::health::{parse_duration, HealthConfig};

use berth_engine::{ContainerRecord, Engine};

use crate::dto::{ApiError, ContainerSummary, CreateRequest, HealthcheckRequest, PortDto, Protocol};

use super::backend::{blocking, Backend};
use super::containers::summary;

#[derive(Debug, Deserialize)]
pub struct FreePortArgs {
    pub protocol: Protocol,
    pub preferred: Option<u16>,
}

#[derive(Debug, Deserialize)]
pub struct CreateArgs {
    pub request: CreateRequest,
    /// Clone or edit: the container whose recorded options the form is laid over (what the
    /// form has no field for, such as limits or the user, is kept).
    #[serde(default)]
    pub base: Option<String>,
    /// Edit: the base container (stopped) is replaced by the new one, under its name.
    #[serde(default)]
    pub replace: bool,
}

/// `preferred` when it is free on every address of the host, else a port the kernel picks.
pub async fn free_port(a: FreePortArgs) -> Result<u16, ApiError> {
    let bind = |port: u16| -> std::io::Result<u16> {
        let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        match a.protocol {
            Protocol::Tcp => TcpListener::bind(addr)?.local_addr().map(|a| a.port()),
            Protocol::Udp => UdpSocket::bind(addr)?.local_addr().map(|a| a.port()),
        }
    };
    if let Some(port) = a.preferred.filter(|p| *p != 0) {
        if let Ok(port) = bind(port) {
            return Ok(port);
        }
    }
    bind(0).map_err(|e| ApiError::engine(format!("finding a free {} port: {e}", a.protocol.as_str())))
}

/// The create form filled with a container's recorded options, for Clone (named `NAME-copy`)
/// and Edit (`edit`: its own name); `create_container` with it as `base` lays the form over
/// the rest of its options.
pub async fn container_create_request(b: &Backend, a: CloneArgs) -> Result<CreateRequest, ApiError> {
    blocking(&b.engine, move |e| {
        let c = e.container(&a.id)?;
        let name = if a.edit { c.name.clone() } else { format!("{}-copy", c.name) };
        Ok(request_of(&c.image_name, &name, &c.options))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct CloneArgs {
    pub id: String,
    #[serde(default)]
    pub edit: bool,
}

/// The form's fields from recorded options: the `-v` forms of volumes and binds as
/// `berth run` gives them back (`run_args`), the image's command left out when not replaced.
pub fn request_of(image: &str, name: &str, o: &CreateOptions) -> CreateRequest {
    let words = berth_engine::container::run_command::run_args(name, image, o);
    let volumes = words.windows(2).filter(|w| w[0] == "--volume").map(|w| w[1].clone()).collect();
    CreateRequest {
        image: image.to_string(),
        name: Some(name.to_string()),
        command: (!o.command.is_empty()).then(|| o.command.clone()),
        entrypoint: o.entrypoint.clone(),
        ports: o.ports.iter().map(PortDto::from).collect(),
        env: o.env.clone(),
        env_file: None,
        restart: o.restart.into(),
        remove: o.remove,
        start: false,
        volumes,
        healthcheck: None,
        no_healthcheck: o.no_healthcheck,
        health_on_failure: o.health_on_failure.into(),
        network: o.network.clone().filter(|n| !n.is_empty() && (o.pod.is_none() || o.pod_infra)),
        labels: Some(o.labels.iter().map(|(k, v)| format!("{k}={v}")).collect()),
    }
}

/// The form (`form`, from `create_options`) laid over `base`'s recorded options: the fields
/// the form has replace theirs; tmpfs and image mounts (no form field) and the rest are kept,
/// and so is the healthcheck unless the form gives one.
pub fn over_base(base: &CreateOptions, form: CreateOptions) -> CreateOptions {
    let mut o = base.clone();
    let kept: Vec<MountRequest> = base
        .mounts
        .iter()
        .filter(|m| matches!(m, MountRequest::Tmpfs { .. } | MountRequest::Image { .. }))
        .cloned()
        .collect();
    o.name = form.name;
    o.command = form.command;
    o.entrypoint = form.entrypoint;
    o.env = form.env;
    o.ports = form.ports;
    o.restart = form.restart;
    o.remove = form.remove;
    o.mounts = form.mounts.into_iter().chain(kept).collect();
    o.network = form.network;
    o.labels = form.labels;
    if form.healthcheck.is_some() || form.no_healthcheck {
        o.healthcheck = form.healthcheck;
        o.no_healthcheck = form.no_healthcheck;
    }
    o.health_on_failure = form.health_on_failure;
    o
}

/// Creates a container from the form, and starts it when asked. A container that fails to
/// start is removed again: the user gets the error, not a half-made container. With a `base`
/// the form is laid over its options (Clone); with `replace` too (Edit) the new container is
/// made under a temporary name first, then the old one (stopped) removed and the new one given
/// its name: a create that fails leaves the old one as it was.
pub async fn create_container(b: &Backend, a: CreateArgs) -> Result<ContainerSummary, ApiError> {
    let request = a.request;
    let mut options = create_options(&request)?;
    let (base, replace) = (a.base, a.replace);
    blocking(&b.engine, move |e| {
        let old = match &base {
            Some(id) => {
                let old = e.container(id)?;
                options = over_base(&old.options, options);
                Some(old)
            }
            None => None,
        };
        let created = match old.filter(|_| replace) {
            Some(old) => replace_container(e, &old, &request.image, options)?,
            None => e.create_container(&request.image, options)?,
        };
        if !request.start {
            return Ok(summary(e, &created));
        }
        match e.start_container(&created.id) {
            Ok(started) => Ok(summary(e, &started)),
            Err(start_error) => {
                let mut error = ApiError::from(start_error);
                if let Err(cleanup) = e.remove_container(&created.id, true) {
                    // A --rm container may have removed itself already.
                    if !matches!(
                        cleanup,
                        berth_engine::Error::ContainerLookup(berth_engine::container::LookupError::NotFound(_))
                    ) {
                        error.message =
                            format!("{}; removing the container {} failed too: {cleanup}", error.message, created.name);
                    }
                }
                Err(error)
            }
        }
    })
    .await
}

/// Edit's create: under a temporary name, then the old container removed and the new one
/// renamed to the name asked (the old one's by default).
fn replace_container(
    e: &Engine,
    old: &ContainerRecord,
    image: &str,
    mut options: CreateOptions,
) -> Result<ContainerRecord, ApiError> {
    if old.is_running() {
        return Err(ApiError::conflict(format!("container {} is running: stop it before editing it", old.name)));
    }
    let name = options.name.take().unwrap_or_else(|| old.name.clone());
    options.name = Some(format!("{name}-edit-{:06x}", rand::random::<u32>() & 0xff_ffff));
    let created = e.create_container(image, options)?;
    let undo = |error: ApiError| -> ApiError {
        match e.remove_container(&created.id, true) {
            Ok(_) => error,
            Err(cleanup) => ApiError {
                message: format!(
                    "{}; removing the new container {} failed too: {cleanup}",
                    error.message, created.name
                ),
                ..error
            },
        }
    };
    if let Err(err) = e.remove_container(&old.id, false) {
        return Err(undo(ApiError::from(err)));
    }
    e.rename_container(&created.id, &name).map_err(|err| {
        let err = ApiError::from(err);
        ApiError { message: format!("{}; the edited container is {}", err.message, created.name), ..err }
    })
}

/// The engine's options for a create request; bad input fails here, before anything exists.
pub fn create_options(r: &CreateRequest) -> Result<CreateOptions, ApiError> {
    if r.image.trim().is_empty() {
        return Err(ApiError::invalid("an image is required to create a container"));
    }
    let mut env = Vec::new();
    if let Some(text) = &r.env_file {
        env.extend(parse_env_file(text)?);
    }
    for kv in &r.env {
        env.push(parse_env_line(kv).map_err(|why| ApiError::invalid(format!("environment variable {kv:?}: {why}")))?);
    }
    Ok(CreateOptions {
        name: r.name.as_ref().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        command: r.command.clone().unwrap_or_default(),
        entrypoint: r.entrypoint.clone(),
        env,
        remove: r.remove,
        ports: r.ports.iter().map(PortMapping::try_from).collect::<Result<_, _>>()?,
        restart: r.restart.into(),
        mounts: r.volumes.iter().filter(|v| !v.trim().is_empty()).map(|v| parse_volume(v)).collect::<Result<_, _>>()?,
        healthcheck: match &r.healthcheck {
            Some(h) if !r.no_healthcheck => health_config(h)?,
            _ => None,
        },
        no_healthcheck: r.no_healthcheck,
        health_on_failure: r.health_on_failure.into(),
        network: r.network.as_ref().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        labels: r
            .labels
            .iter()
            .flatten()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match l.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
                _ => Err(ApiError::invalid(format!("label {l:?}: use KEY=VALUE"))),
            })
            .collect::<Result<_, _>>()?,
        ..Default::default()
    })
}

/// The form's healthcheck as the `--health-*` flags give it (the engine lays it over the
/// image's): None when every field is blank. Durations in the flags' grammar.
fn health_config(h: &HealthcheckRequest) -> Result<Option<HealthConfig>, ApiError> {
    let duration = |what: &str, v: &Option<String>| -> Result<Option<u64>, ApiError> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => parse_duration(what, v).map(Some).map_err(ApiError::invalid),
            None => Ok(None),
        }
    };
    let timeout = duration("health timeout", &h.timeout)?;
    if timeout == Some(0) {
        return Err(ApiError::invalid(format!(
            "health timeout {}: a check needs some time: give at least 1s",
            h.timeout.as_deref().unwrap_or_default().trim()
        )));
    }
    let line = h.command.trim();
    let config = HealthConfig {
        test: if line.is_empty() { Vec::new() } else { vec!["CMD-SHELL".into(), line.to_string()] },
        interval: duration("health interval", &h.interval)?,
        timeout,
        start_period: duration("health start period", &h.start_period)?,
        retries: h.retries.filter(|r| *r > 0),
    };
    Ok((config != HealthConfig::default()).then_some(config))
}

/// A `-v` value of the form. The app has no working directory: host paths are absolute.
fn parse_volume(v: &str) -> Result<MountRequest, ApiError> {
    let v = v.trim();
    if v.starts_with('.') {
        return Err(ApiError::invalid(format!("invalid volume {v:?}: give the host path from / (such as /srv/data)")));
    }
    berth_engine::volume::parse_volume_flag(v, Path::new("/")).map_err(|e| ApiError::invalid(e.to_string()))
}

/// `KEY=VALUE` lines of an env file; blank lines and `#` comments are skipped.
pub fn parse_env_file(text: &str) -> Result<Vec<String>, ApiError> {
    let mut env = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        env.push(
            parse_env_line(line)
                .map_err(|why| ApiError::invalid(format!("env file line {}: {line:?}: {why}", n + 1)))?,
        );
    }
    Ok(env)
}

fn parse_env_line(line: &str) -> Result<String, &'static str> {
    match line.split_once('=') {
        Some(("", _)) => Err("it has no variable name"),
        Some((key, _)) if key.chars().any(char::is_whitespace) => Err("a variable name has no spaces"),
        Some(_) => Ok(line.to_string()),
        None => Err("use KEY=VALUE"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::{PortDto, RestartPolicy};

    #[test]
    fn a_clone_is_the_form_over_the_recorded_options() {
        let base = create_options(&CreateRequest {
            image: "busybox".into(),
            name: Some("web".into()),
            command: Some(vec!["sleep".into(), "9".into()]),
            env: vec!["A=1".into()],
            ports: vec![PortDto { host_ip: "".into(), host_port: 8080, container_port: 80, protocol: Protocol::Tcp }],
            volumes: vec!["data:/data:ro".into(), "/anon".into(), "/srv:/srv".into()],
            restart: RestartPolicy::OnFailure,
            network: Some("back".into()),
            labels: Some(vec!["tier=web".into()]),
            ..Default::default()
        })
        .unwrap();
        let mut base = base;
        base.user = Some("1000".into());
        base.limits.memory = Some(64 << 20);
        base.mounts.push(MountRequest::Tmpfs { destination: "/run".into(), options: vec![] });
        let form = request_of("busybox", "web-copy", &base);
        assert_eq!(form.name.as_deref(), Some("web-copy"));
        assert_eq!(form.volumes, ["data:/data:ro", "/anon", "/srv:/srv"], "the -v forms, no tmpfs");
        assert_eq!((form.restart, form.network.as_deref()), (RestartPolicy::OnFailure, Some("back")));
        assert_eq!(form.labels, Some(vec!["tier=web".to_string()]));
        assert_eq!(
            (form.command.clone(), form.env.clone(), form.start),
            (Some(vec!["sleep".into(), "9".into()]), vec!["A=1".into()], false)
        );
        // Sent back unchanged, the options are the same but for the name
        let again = over_base(&base, create_options(&form).unwrap());
        assert_eq!(again, CreateOptions { name: Some("web-copy".into()), ..base.clone() });
        // The form's fields replace; what it has no field for stays
        let edited = CreateRequest { env: vec!["A=2".into()], volumes: vec![], network: None, ..form };
        let o = over_base(&base, create_options(&edited).unwrap());
        assert_eq!(
            (o.env, o.network, o.user, o.limits.memory),
            (vec!["A=2".into()], None, Some("1000".into()), Some(64 << 20))
        );
        assert_eq!(o.mounts, [MountRequest::Tmpfs { destination: "/run".into(), options: vec![] }]);
    }

    #[test]
    fn env_files_are_key_value_lines_with_comments() {
        let env = parse_env_file("# settings\nA=1\n\n  B=two words \nC=\nD=x=y\n").unwrap();
        assert_eq!(env, ["A=1", "B=two words", "C=", "D=x=y"]);
        let e = parse_env_file("B = 1\n").unwrap_err();
        assert_eq!(e.message, "env file line 1: \"B = 1\": a variable name has no spaces");
        let e = parse_env_file("A=1\n=nameless\n").unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid", "env file line 2: \"=nameless\": it has no variable name")
        );
        let e = parse_env_file("JUSTAKEY\n").unwrap_err();
        assert_eq!(e.message, "env file line 1: \"JUSTAKEY\": use KEY=VALUE");
    }

    #[test]
    fn create_requests_become_engine_options() {
        let r = CreateRequest {
            image: "busybox".into(),
            name: Some(" web ".into()),
            command: Some(vec!["sleep".into(), "1".into()]),
            entrypoint: Some(vec![]),
            env: vec!["B=3".into()],
            env_file: Some("A=1\n# comment\nB=2\n".into()),
            remove: true,
            start: true,
            ports: vec![PortDto { host_ip: "".into(), host_port: 0, container_port: 80, protocol: Protocol::Tcp }],
            ..Default::default()
        };
        let o = create_options(&r).unwrap();
        assert_eq!(
            o.ports,
            [PortMapping {
                host_ip: None,
                host_port: 0,
                container_port: 80,
                protocol: berth_engine::network::Protocol::Tcp
            }]
        );
        assert_eq!(o.name.as_deref(), Some("web"));
        assert_eq!(o.command, ["sleep", "1"]);
        assert_eq!(o.entrypoint, Some(vec![]));
        // The form's variables come after the file's, so they win.
        assert_eq!(o.env, ["A=1", "B=2", "B=3"]);
        assert!(o.remove);
        let always = CreateRequest { image: "busybox".into(), restart: RestartPolicy::Always, ..Default::default() };
        assert_eq!(create_options(&always).unwrap().restart, berth_engine::container::RestartPolicy::Always);
        let unnamed =
            create_options(&CreateRequest { image: "busybox".into(), name: Some("".into()), ..Default::default() });
        assert_eq!(unnamed.unwrap().name, None);
    }

    #[test]
    fn form_volumes_become_mounts() {
        let r = CreateRequest {
            image: "busybox".into(),
            volumes: vec!["cache:/var/cache:ro".into(), " ".into(), "/srv/site:/www".into(), "/data".into()],
            ..Default::default()
        };
        let mounts = create_options(&r).unwrap().mounts;
        assert_eq!(
            mounts,
            [
                MountRequest::Volume {
                    name: "cache".into(),
                    destination: "/var/cache".into(),
                    read_only: true,
                    anonymous: false
                },
                MountRequest::Bind { source: "/srv/site".into(), destination: "/www".into(), read_only: false },
                MountRequest::Volume {
                    name: "".into(),
                    destination: "/data".into(),
                    read_only: false,
                    anonymous: true
                },
            ]
        );
        let bad = |v: &str| {
            let e = create_options(&CreateRequest { image: "x".into(), volumes: vec![v.into()], ..Default::default() })
                .unwrap_err();
            assert_eq!(e.code, "invalid", "{v}");
            e.message
        };
        assert_eq!(bad("./site:/www"), "invalid volume \"./site:/www\": give the host path from / (such as /srv/data)");
        assert_eq!(bad("cache:data"), "invalid volume \"cache:data\": the container path \"data\" must be absolute");
    }

    #[test]
    fn bad_create_requests_are_invalid() {
        let check = |r: CreateRequest, message: &str| {
            let e = create_options(&r).unwrap_err();
            assert_eq!((e.code.as_str(), e.message.as_str()), ("invalid", message));
        };
        check(CreateRequest::default(), "an image is required to create a container");
        check(
            CreateRequest { image: "x".into(), env: vec!["NOVALUE".into()], ..Default::default() },
            "environment variable \"NOVALUE\": use KEY=VALUE",
        );
        check(
            CreateRequest { image: "x".into(), env: vec!["MY VAR=1".into()], ..Default::default() },
            "environment variable \"MY VAR=1\": a variable name has no spaces",
        );
    }

    #[test]
    fn form_healthchecks_become_the_flags() {
        let with = |h: HealthcheckRequest| {
            create_options(&CreateRequest { image: "x".into(), healthcheck: Some(h), ..Default::default() })
        };
        let o = with(HealthcheckRequest {
            command: " curl -f http://localhost/ || exit 1 ".into(),
            interval: Some("1m30s".into()),
            timeout: Some("500ms".into()),
            start_period: Some(" ".into()),
            retries: Some(2),
        })
        .unwrap();
        assert_eq!(
            o.healthcheck,
            Some(HealthConfig {
                test: vec!["CMD-SHELL".into(), "curl -f http://localhost/ || exit 1".into()],
                interval: Some(90_000_000_000),
                timeout: Some(500_000_000),
                start_period: None,
                retries: Some(2),
            })
        );
        // Timings alone: the image's command with them.
        let o = with(HealthcheckRequest { interval: Some("disable".into()), ..Default::default() }).unwrap();
        assert_eq!(o.healthcheck, Some(HealthConfig { interval: Some(0), ..Default::default() }));
        assert_eq!(with(HealthcheckRequest::default()).unwrap().healthcheck, None, "all blank: no flags");

        let bad = |h: HealthcheckRequest| with(h).unwrap_err();
        let e = bad(HealthcheckRequest { interval: Some("5x".into()), ..Default::default() });
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid", "health interval 5x: not a duration: give a number and a unit, like 30s, 1m30s or 500ms")
        );
        let e = bad(HealthcheckRequest { timeout: Some("0".into()), ..Default::default() });
        assert_eq!(e.message, "health timeout 0: a check needs some time: give at least 1s");
        let e = bad(HealthcheckRequest { start_period: Some("soon".into()), ..Default::default() });
        assert!(e.message.starts_with("health start period soon: not a duration"), "{e}");

        // Disabled: the form's check is not sent, whatever it holds.
        let off = create_options(&CreateRequest {
            image: "x".into(),
            healthcheck: Some(HealthcheckRequest { command: "true".into(), ..Default::default() }),
            no_healthcheck: true,
            health_on_failure: crate::dto::HealthOnFailure::Kill,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (off.healthcheck, off.no_healthcheck, off.health_on_failure),
            (None, true, berth_engine::container::health::OnFailure::Kill)
        );
    }

    #[tokio::test]
    async fn free_port_prefers_the_asked_port_when_free() {
        let busy = TcpListener::bind("0.0.0.0:0").unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        let got = free_port(FreePortArgs { protocol: Protocol::Tcp, preferred: Some(busy_port) }).await.unwrap();
        assert_ne!(got, busy_port, "the asked port is taken: another one");
        assert!(TcpListener::bind(("0.0.0.0", got)).is_ok(), "the answer is free");
        drop(busy);
        let got = free_port(FreePortArgs { protocol: Protocol::Tcp, preferred: Some(busy_port) }).await.unwrap();
        assert_eq!(got, busy_port, "free now");
        let udp = UdpSocket::bind("0.0.0.0:0").unwrap();
        let udp_port = udp.local_addr().unwrap().port();
        let got = free_port(FreePortArgs { protocol: Protocol::Udp, preferred: Some(udp_port) }).await.unwrap();
        assert_ne!(got, udp_port);
        assert_ne!(free_port(FreePortArgs { protocol: Protocol::Udp, preferred: None }).await.unwrap(), 0);
    }
}
