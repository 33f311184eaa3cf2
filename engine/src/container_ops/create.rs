//! `create`: the user's options checked (limits, mounts, ports, user), the image's config and
//! layers, the OCI spec written, the container's directory, volumes and address made, in one
//! transaction; nothing is left half made when a step fails, and a kill leaves no record
//! without its files (the directory comes first, the row last).

use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::Spec;

use super::*;
use crate::container::mount::MountRequest;
use crate::container::{self, user, ContainerPaths, ContainerRecord, CreateOptions, Status};
use crate::runtime;
use crate::spec;
use crate::{network, Engine, Error, Result};

/// Podman's checks of resource limits, before anything is created.
fn check_limits(l: &container::Limits) -> Result<()> {
    const MIN_MEMORY: i64 = 6 * 1024 * 1024;
    if let Some(m) = l.memory {
        if m < MIN_MEMORY {
            return Err(Error::Invalid(format!("--memory {m}: the minimum memory limit allowed is 6MB")));
        }
        if let Some(swap) = l.memory_swap {
            if swap != -1 && swap < m {
                return Err(Error::Invalid(format!(
                    "--memory-swap {swap}: it must be larger than --memory {m} (memory plus swap), or -1 for unlimited swap"
                )));
            }
        }
    } else if l.memory_swap.is_some() {
        return Err(Error::Invalid("--memory-swap needs --memory: it is the total of memory and swap".into()));
    }
    if let Some(cpus) = l.cpus {
        let host = std::thread::available_parallelism().map_or(1, |n| n.get());
        if !(cpus >= 0.01 && cpus <= host as f64) {
            return Err(Error::Invalid(format!(
                "--cpus {cpus}: the range of CPUs is from 0.01 to {host}.00, as there are only {host} CPUs available"
            )));
        }
    }
    if let Some(shares) = l.cpu_shares {
        if !(2..=262_144).contains(&shares) {
            return Err(Error::Invalid(format!("--cpu-shares {shares}: use a weight from 2 to 262144")));
        }
    }
    if let Some(pids) = l.pids {
        if pids == 0 || pids < -1 {
            return Err(Error::Invalid(format!("--pids-limit {pids}: use a positive number, or -1 for no limit")));
        }
    }
    Ok(())
}

impl Engine {
    /// `berth create`: records the container and prepares its directory; nothing runs yet.
    /// Bad input (name in use, unknown user, no command) fails before anything is created.
    /// With `--rootfs` (`opts.rootfs`) there is no image: `image_query` is not read.
    pub fn create_container(&self, image_query: &str, mut opts: CreateOptions) -> Result<ContainerRecord> {
        self.join_pod(&mut opts)?;
        let (img, found_as) = match &opts.rootfs {
            Some(_) => (None, None),
            None => {
                let (img, found_as) = self.image_found(image_query)?;
                (Some(img), found_as)
            }
        };
        crate::trace::mark("image found");
        let config: ImageConfiguration = match &img {
            Some(img) => serde_json::from_str(&img.config_json)
                .map_err(|e| Error::Invalid(format!("image {image_query}: bad config: {e}")))?,
            None => rootfs_config(),
        };
        if let Some(name) = &opts.name {
            if !valid_name(name) {
                return Err(Error::Invalid(format!(
                    "invalid container name \"{name}\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
                )));
            }
        }
        check_limits(&opts.limits)?;
        for d in &opts.dns_search {
            network::check_dns_search(d)?;
        }
        if opts.remove && opts.restart != container::RestartPolicy::No {
            return Err(Error::Invalid(format!(
                "the --rm option conflicts with --restart {}: a container removed when it exits can't be restarted",
                opts.restart.name()
            )));
        }
        resolve_healthcheck(img.as_ref().map(|i| i.config_json.as_str()), &mut opts)?;
        let mode = self.plan_network(&config, &mut opts)?;
        for key in opts.sysctls.keys() {
            let own_network = !matches!(mode, network::Mode::Host | network::Mode::Container(_));
            container::kernel::check_sysctl(key, own_network).map_err(Error::Invalid)?;
        }
        for spec in opts.volumes_from.clone() {
            let (name, mode) = match spec.rsplit_once(':') {
                Some((n, m)) if ["ro", "rw", "z", "Z"].iter().any(|o| m.split(',').any(|x| x == *o)) => (n, Some(m)),
                _ => (spec.as_str(), None),
            };
            let read_only = match mode {
                Some(m) if m.split(',').any(|x| x == "ro") => Some(true),
                Some(m) if m.split(',').any(|x| x == "rw") => Some(false),
                _ => None,
            };
            let other = self.container(name).map_err(|e| match e {
                Error::ContainerLookup(_) => Error::Invalid(format!(
                    "--volumes-from {spec}: no container named {name}: give the container whose volumes to mount"
                )),
                e => e,
            })?;
            for m in &other.options.mounts {
                let shared = match m {
                    MountRequest::Volume { name, destination, read_only: ro, .. } => MountRequest::Volume {
                        name: name.clone(),
                        destination: destination.clone(),
                        read_only: read_only.unwrap_or(*ro),
                        // the other container's: not removed with this one
                        anonymous: false,
                    },
                    MountRequest::Bind { source, destination, read_only: ro } => MountRequest::Bind {
                        source: source.clone(),
                        destination: destination.clone(),
                        read_only: read_only.unwrap_or(*ro),
                    },
                    _ => continue,
                };
                if !opts.mounts.iter().any(|x| x.destination() == shared.destination()) {
                    opts.mounts.push(shared);
                }
            }
        }
        // The image's VOLUMEs: an anonymous volume each, where the user mounted nothing (as
        // Podman's default --image-volume=anonymous)
        if let Some(volumes) = config.config().as_ref().and_then(|c| c.volumes().clone()) {
            for dest in volumes {
                let dest = if dest.starts_with('/') { dest } else { format!("/{dest}") };
                let taken =
                    opts.mounts.iter().any(|m| m.destination().trim_end_matches('/') == dest.trim_end_matches('/'));
                if !taken {
                    opts.mounts.push(MountRequest::Volume {
                        name: String::new(),
                        destination: dest,
                        read_only: false,
                        anonymous: true,
                    });
                }
            }
        }
        self.check_mounts(&mut opts)?;
        // Capabilities and devices are checked here, so their errors come out as they are.
        container::security::capabilities(&opts.security, spec::DEFAULT_CAPS)?;
        for d in &opts.security.devices {
            container::security::device(&d.host, &d.container, &d.permissions)?;
        }
        if let Some(profile) = opts.security.seccomp.as_deref().filter(|p| *p != "unconfined") {
            if let Err(e) = runtime::seccomp::from_file(std::path::Path::new(profile), spec::DEFAULT_CAPS) {
                return Err(Error::Invalid(format!("--security-opt seccomp={profile}: {e}")));
            }
        }
        let id = new_id();
        let name = match &opts.name {
            Some(n) => n.clone(),
            None => loop {
                let n = container::names::random_name();
                if container::name_taken(self.state().conn(), &n)?.is_none() {
                    break n;
                }
            },
        };
        // The user must exist in the image (unless numeric), as in Podman.
        let layer_dirs: Vec<_> = match (&img, &opts.rootfs) {
            (Some(img), _) => img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)).collect(),
            (None, Some(r)) => vec![r.path.clone()],
            (None, None) => Vec::new(),
        };
        let user_spec =
            opts.user.clone().or_else(|| config.config().as_ref().and_then(|c| c.user().clone())).unwrap_or_default();
        // A named user needs the image's account files; for a numeric one they only add the
        // home directory and groups, so a broken file (a device, a FIFO, too big) is skipped.
        let accounts = |rel: &str| match user::read_image_file(&layer_dirs, rel) {
            Ok(text) => Ok(text),
            Err(e) if user::needs_lookup(&user_spec) => {
                Err(Error::Invalid(format!("user \"{user_spec}\" can't be looked up: {e}")))
            }
            Err(_) => Ok(None),
        };
        let passwd = accounts("etc/passwd")?;
        let group = accounts("etc/group")?;
        let mut exec_user = user::resolve(&user_spec, passwd.as_deref(), group.as_deref())?;
        user::add_groups(&mut exec_user, &opts.group_add, group.as_deref())?;
        if crate::rootless::is_rootless() && (exec_user.uid != 0 || exec_user.gid != 0) {
            let maps = crate::rootless::IdMaps::of_current_user();
            if !maps.has_sub_ids() {
                return Err(Error::Invalid(format!(
                    "user \"{user_spec}\" ({}:{}) does not exist in rootless containers of {}: only root is mapped without subordinate ids; add them with `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {}`",
                    exec_user.uid, exec_user.gid, maps.user, maps.user
                )));
            }
        }
        let hostname = opts.hostname.clone().unwrap_or_else(|| match mode {
            // Sharing the host's network, the container has the host's name too (as with Podman).
            network::Mode::Host => nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| id[..12].to_string()),
            _ => id[..12].to_string(),
        });
        if let Some(rt) = &opts.runtime {
            container::check_runtime(rt).map_err(Error::Invalid)?;
        }
        let paths = ContainerPaths::new(&self.config().root, &id);
        let zone = match opts.tz.as_deref() {
            Some(tz) => Some(container::zone_file(tz).map_err(Error::Invalid)?),
            None => None,
        };
        let mut files = network::container_files(&paths.dir).to_vec();
        if let network::Mode::Container(other) = &mode {
            // on another container's network: its hosts and resolv.conf, as Podman shares them
            let theirs = network::container_files(&ContainerPaths::new(&self.config().root, other).dir);
            for (mine, theirs) in files.iter_mut().zip(theirs) {
                if mine.1 != "/etc/hostname" {
                    *mine = theirs;
                }
            }
        }
        files.push((paths.containerenv(), "/run/.containerenv"));
        if zone.is_some() {
            files.push((paths.localtime(), "/etc/localtime"));
        }
        let image_mounts =
            spec::ImageMounts { storage_root: self.config().root.clone(), container_dir: paths.dir.clone() };
        crate::trace::mark("options checked");
        let oci = spec::build(&spec::SpecInputs {
            id: &id,
            image: &config,
            opts: &opts,
            user: &exec_user,
            rootfs: &paths.rootfs(),
            hostname: &hostname,
            network: &mode,
            storage_root: &self.config().root,
            files: &files,
            image_mounts: &image_mounts,
        })?;
        let record = ContainerRecord {
            id: id.clone(),
            name: name.clone(),
            // none with --rootfs
            image_id: img.as_ref().map(|i| i.id.clone()).unwrap_or_default(),
            // The name the user gave: the one it was found by, else (found by id or digest) the
            // name in the query when it is one of the image's; else its first.
            image_name: img
                .as_ref()
                .map(|img| {
                    found_as
                        .filter(|n| img.names.contains(n))
                        .or_else(|| {
                            crate::Reference::parse(image_query)
                                .ok()
                                .and_then(|r| r.tagged_name())
                                .filter(|n| img.names.contains(n))
                        })
                        .or_else(|| img.names.first().cloned())
                        .unwrap_or_else(|| img.id.clone())
                })
                .unwrap_or_default(),
            created_at: chrono::Utc::now(),
            options: opts,
            status: Status::Created,
            pid: None,
            pid_start: None,
            monitor_pid: None,
            started_at: None,
            finished_at: None,
            exit_code: None,
            error: None,
            command: oci.process().as_ref().and_then(|p| p.args().clone()).unwrap_or_default(),
            restart_count: 0,
        };
        let net_config = self.config().network.clone();
        let storage_root = self.config().root.clone();
        // The directory and the spec first, then the row with the files that need it (the
        // address in /etc/hosts) in the row's transaction: a kill at any point leaves either
        // nothing recorded (and a directory `system check` finds), or the whole container.
        let made = (|| -> Result<()> {
            let mut dirs = vec![paths.upper(), paths.work(), paths.rootfs()];
            for m in &record.options.mounts {
                if let MountRequest::Image { destination, read_write: true, .. } = m {
                    let dir = image_mounts.writable_dir(destination);
                    dirs.extend([dir.join("upper"), dir.join("work")]);
                }
            }
            for d in dirs {
                std::fs::create_dir_all(&d).map_err(|source| Error::Io { path: d.clone(), source })?;
            }
            // the container's `/` is the upper directory's: the image's root mode
            let mode = crate::layers::LayerStore::root_mode(&layer_dirs);
            std::fs::set_permissions(paths.upper(), std::os::unix::fs::PermissionsExt::from_mode(mode))
                .map_err(|source| Error::Io { path: paths.upper(), source })?;
            let env_file = paths.containerenv();
            std::fs::write(&env_file, container::containerenv(&record, crate::rootless::is_rootless()))
                .map_err(|source| Error::Io { path: env_file, source })?;
            if let Some(zone) = &zone {
                // a copy: the container keeps its zone whatever the host's files do
                std::fs::copy(zone, paths.localtime()).map_err(|source| Error::Io { path: zone.clone(), source })?;
            }
            let spec_json = serde_json::to_vec_pretty(&oci).map_err(|e| Error::Invalid(e.to_string()))?;
            std::fs::write(paths.spec(), spec_json).map_err(|source| Error::Io { path: paths.spec(), source })
        })();
        let recorded = made.and_then(|()| {
            self.state().write(|tx| -> Result<_> {
                if let Some(other) = container::name_taken(tx, &name)? {
                    return Err(Error::NameInUse { name: name.clone(), id: other });
                }
                container::insert(tx, &record)?;
                let mut new_volumes = Vec::new();
                let mut copy_up = Vec::new();
                for m in &record.options.mounts {
                    if let crate::volume::MountRequest::Volume { name: vname, destination, anonymous, .. } = m {
                        if crate::volume::get(tx, &storage_root, vname)?.is_none() {
                            let v = crate::volume::create(
                                tx,
                                &storage_root,
                                vname,
                                Default::default(),
                                Default::default(),
                                *anonymous,
                            )?;
                            new_volumes.push(v);
                        }
                        if crate::volume::take_copy_up(tx, vname)? {
                            copy_up.push((vname.clone(), destination.clone()));
                        }
                    }
                }
                if let network::Mode::Bridge(net_name) = &mode {
                    let net = if net_name == network::DEFAULT_NETWORK {
                        network::ensure_default(tx, &net_config)?
                    } else {
                        network::get(tx, net_name)?.ok_or_else(|| network::NetworkError::NotFound(net_name.clone()))?
                    };
                    network::allocate(tx, &net, &id)?;
                    for extra in &record.options.networks {
                        let net =
                            network::get(tx, extra)?.ok_or_else(|| network::NetworkError::NotFound(extra.clone()))?;
                        network::allocate(tx, &net, &id)?;
                    }
                }
                self.write_network_files_with(tx, &record, &hostname)?;
                for v in &new_volumes {
                    crate::volume::make_dir(v)?;
                }
                Ok((new_volumes, copy_up))
            })
        });
        let (new_volumes, copy_up) = match recorded {
            Ok(r) => r,
            Err(e) => {
                if let Err(c) = crate::rootless::remove_tree(&paths.dir) {
                    if c.kind() != std::io::ErrorKind::NotFound {
                        return Err(Error::Invalid(format!(
                            "{e}; cleaning up {} failed too: {c}",
                            paths.dir.display()
                        )));
                    }
                }
                return Err(e);
            }
        };
        // A volume's first container fills it with what the image has at its path.
        let prepared = (|| -> Result<()> {
            let top_first = &layer_dirs;
            for (vname, dest) in &copy_up {
                let data = crate::volume::data_dir(&storage_root, vname);
                let empty = std::fs::read_dir(&data).map(|mut d| d.next().is_none()).unwrap_or(false);
                if empty {
                    crate::volume::copy_up_as_owner(top_first, dest, &data)
                        .map_err(|source| Error::Io { path: data.clone(), source })?;
                    // Nothing at that path in the image: the volume still waits for content.
                    if std::fs::read_dir(&data).map(|mut d| d.next().is_none()).unwrap_or(false) {
                        crate::volume::restore_copy_up(self.state().conn(), vname)?;
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = prepared {
            let cleanup = crate::rootless::remove_tree(&paths.dir);
            let _ = self.delete_record(&id);
            for v in &new_volumes {
                let _ = self.state().write(|tx| tx.execute("DELETE FROM volumes WHERE name = ?", [&v.name]));
                let _ = crate::rootless::remove_tree(v.mountpoint.parent().unwrap_or(&v.mountpoint));
            }
            let mut message = format!("preparing container {}: {e}", &id[..12]);
            if let Err(c) = cleanup {
                message.push_str(&format!("; cleaning up {} failed too: {c}", paths.dir.display()));
            }
            return Err(Error::Invalid(message));
        }
        if let network::Mode::Bridge(net_name) = &mode {
            self.refresh_network_hosts(net_name);
            self.refresh_networks_hosts(&record.options.networks);
        }
        // Volumes it made by naming them: as `volume create` says, and as Podman does.
        for v in &new_volumes {
            self.events().state("volume", "create", &v.name, Some(&v.name));
        }
        self.events().container("create", &record, []);
        crate::trace::mark("created");
        Ok(record)
    }

    /// Checks the mounts of a new container before anything exists (`volume::check_mount`):
    /// bind sources exist, no two mounts share a path (the same mount asked for twice counts
    /// once, as in Podman); anonymous volumes get their names.
    pub(super) fn check_mounts(&self, opts: &mut CreateOptions) -> Result<()> {
        use crate::volume::VolumeError;
        let mut seen: Vec<MountRequest> = Vec::new();
        opts.mounts.retain(|m| {
            let again = seen.contains(m);
            if !again {
                seen.push(m.clone());
            }
            !again
        });
        let mut seen = std::collections::HashSet::new();
        for m in opts.mounts.iter_mut() {
            crate::volume::check_mount(m)?;
            if !seen.insert(m.destination().to_string()) {
                // Podman's words
                return Err(Error::Invalid(format!("{}: duplicate mount destination", m.destination())));
            }
            match m {
                MountRequest::Bind { source, .. } if std::fs::symlink_metadata(&*source).is_err() => {
                    return Err(VolumeError::MissingSource(source.clone()).into());
                }
                MountRequest::Volume { name, anonymous: true, .. } if name.is_empty() => *name = new_id(),
                MountRequest::Image { source, image_id, .. } if image_id.is_empty() => {
                    *image_id = self.image(source)?.id
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The stored runtime spec of a container.
    pub fn container_spec(&self, id: &str) -> Result<Spec> {
        let path = ContainerPaths::new(&self.config().root, id).spec();
        let text = std::fs::read(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        serde_json::from_slice(&text).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
    }
}

/// The configuration of a `--rootfs` container's missing image: nothing but the platform, so
/// the command, environment defaults and working directory are the user's and Podman's.
fn rootfs_config() -> ImageConfiguration {
    oci_spec::image::ImageConfigurationBuilder::default()
        .architecture(oci_spec::image::Arch::default())
        .os(oci_spec::image::Os::default())
        .rootfs(
            oci_spec::image::RootFsBuilder::default()
                .typ("layers")
                .diff_ids(Vec::<String>::new())
                .build()
                .expect("a valid rootfs"),
        )
        .build()
        .expect("a valid image configuration")
}

/// The container's healthcheck: the image's `HEALTHCHECK` under the `--health-*` flags, or
/// none (`--no-healthcheck`, `NONE`). Podman's error for an on-failure action with no check.
fn resolve_healthcheck(image_config: Option<&str>, opts: &mut CreateOptions) -> Result<()> {
    use crate::container::health::{HealthConfig, OnFailure};
    let from_image = image_config
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|c| c.pointer("/config/Healthcheck").and_then(HealthConfig::from_docker));
    let flags = opts.healthcheck.take();
    let resolved = match (opts.no_healthcheck, from_image, flags) {
        (true, _, Some(f)) if !f.test.is_empty() => {
            return Err(Error::Invalid("--no-healthcheck conflicts with --health-cmd: give one of them".into()))
        }
        (true, _, _) => None,
        (false, Some(img), Some(f)) => Some(img.overlaid(&f)),
        (false, Some(img), None) => Some(img),
        (false, None, Some(f)) if !f.test.is_empty() => Some(f),
        (false, None, _) => None,
    };
    opts.healthcheck = resolved.filter(|h| h.command().is_some());
    if opts.healthcheck.is_none() && opts.health_on_failure != OnFailure::None {
        return Err(Error::Invalid(format!(
            "cannot set on-failure action to {} without a health check",
            opts.health_on_failure.name()
        )));
    }
    Ok(())
}
