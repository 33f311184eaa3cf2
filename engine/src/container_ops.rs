//! Container verbs on `Engine`: create, start (through a monitor), stop, kill, remove, wait,
//! list and inspect, with state reconciled against the processes that really exist.

use std::io::{BufRead, BufReader};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::Spec;
use rand::RngExt;

use crate::container::{self, spec, user, ContainerPaths, ContainerRecord, CreateOptions, Status};
use crate::monitor::{self, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_START_FAILED};
use crate::runtime::{self, RuntimeError};
use crate::{image, network, Engine, Error, Result};

/// Why the monitor could not start a container's process.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("{0}")]
    Prepare(String),
}

impl LaunchError {
    pub fn exit_code(&self) -> i32 {
        match self {
            LaunchError::Runtime(RuntimeError::NotFound { .. }) => EXIT_NOT_FOUND,
            LaunchError::Runtime(RuntimeError::NotExecutable { .. }) => EXIT_NOT_EXECUTABLE,
            _ => EXIT_START_FAILED,
        }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

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

fn new_id() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn parse_signal(s: &str) -> Option<Signal> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    name.parse().ok()
}

impl Engine {
    /// `berth create`: records the container and prepares its directory; nothing runs yet.
    /// Bad input (name in use, unknown user, no command) fails before anything is created.
    pub fn create_container(&self, image_query: &str, mut opts: CreateOptions) -> Result<ContainerRecord> {
        let img = self.image(image_query)?;
        let config: ImageConfiguration = serde_json::from_str(&img.config_json)
            .map_err(|e| Error::Invalid(format!("image {image_query}: bad config: {e}")))?;
        if let Some(name) = &opts.name {
            if !valid_name(name) {
                return Err(Error::Invalid(format!(
                    "invalid container name \"{name}\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
                )));
            }
        }
        check_limits(&opts.limits)?;
        if opts.remove && opts.restart != container::RestartPolicy::No {
            return Err(Error::Invalid(format!(
                "the --rm option conflicts with --restart {}: a container removed when it exits can't be restarted",
                opts.restart.name()
            )));
        }
        let mode = self.plan_network(&config, &mut opts)?;
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
        let layer_dirs: Vec<_> = img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)).collect();
        let user_spec =
            opts.user.clone().or_else(|| config.config().as_ref().and_then(|c| c.user().clone())).unwrap_or_default();
        let passwd = user::read_image_file(&layer_dirs, "etc/passwd");
        let group = user::read_image_file(&layer_dirs, "etc/group");
        let exec_user = user::resolve(&user_spec, passwd.as_deref(), group.as_deref())?;
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
        let paths = ContainerPaths::new(&self.config().root, &id);
        let files = network::container_files(&paths.dir);
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
        })?;
        let record = ContainerRecord {
            id: id.clone(),
            name: name.clone(),
            image_id: img.id.clone(),
            // The name the user gave, when it is one of the image's; else its first.
            image_name: crate::Reference::parse(image_query)
                .ok()
                .and_then(|r| r.tagged_name())
                .filter(|n| img.names.contains(n))
                .or_else(|| img.names.first().cloned())
                .unwrap_or_else(|| img.id.clone()),
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
        let (new_volumes, copy_up) = self.state().write(|tx| -> Result<_> {
            if let Some(other) = container::name_taken(tx, &name)? {
                return Err(Error::NameInUse { name: name.clone(), id: other });
            }
            container::insert(tx, &record)?;
            let mut new_volumes = Vec::new();
            let mut copy_up = Vec::new();
            for m in &record.options.mounts {
                if let crate::volume::MountRequest::Volume { name: vname, destination, anonymous, .. } = m {
                    if crate::volume::get(tx, &storage_root, vname)?.is_none() {
                        let v = crate::volume::create(tx, &storage_root, vname, Default::default(), *anonymous)?;
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
            }
            Ok((new_volumes, copy_up))
        })?;
        let prepared = (|| -> Result<()> {
            for d in [paths.upper(), paths.work(), paths.rootfs()] {
                std::fs::create_dir_all(&d).map_err(|source| Error::Io { path: d.clone(), source })?;
            }
            self.write_network_files(&record, &hostname)?;
            for v in &new_volumes {
                crate::volume::make_dir(v)?;
            }
            // A volume's first container fills it with what the image has at its path.
            let top_first: Vec<_> = img.layers.iter().rev().map(|l| self.layers().diff_dir(&l.chain_id)).collect();
            for (vname, dest) in &copy_up {
                let data = crate::volume::data_dir(&storage_root, vname);
                let empty = std::fs::read_dir(&data).map(|mut d| d.next().is_none()).unwrap_or(false);
                if empty {
                    crate::rootless::copy_up(&top_first, dest, &data)
                        .map_err(|source| Error::Io { path: data.clone(), source })?;
                }
            }
            let spec_json = serde_json::to_vec_pretty(&oci).map_err(|e| Error::Invalid(e.to_string()))?;
            std::fs::write(paths.spec(), spec_json).map_err(|source| Error::Io { path: paths.spec(), source })
        })();
        if let Err(e) = prepared {
            let cleanup = crate::rootless::remove_tree(&paths.dir);
            let _ = container::delete(self.state().conn(), &id);
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
        }
        self.events().state("container", "create", &id, Some(&name));
        Ok(record)
    }

    /// Checks the mounts of a new container before anything exists: bind sources exist, no
    /// two mounts share a path; anonymous volumes get their names.
    fn check_mounts(&self, opts: &mut CreateOptions) -> Result<()> {
        use crate::volume::{MountRequest, VolumeError};
        let mut seen = std::collections::HashSet::new();
        for m in opts.mounts.iter_mut() {
            if !seen.insert(m.destination().to_string()) {
                return Err(Error::Invalid(format!(
                    "duplicate mount destination {}: mount one thing at each path",
                    m.destination()
                )));
            }
            match m {
                MountRequest::Bind { source, .. } if std::fs::symlink_metadata(&*source).is_err() => {
                    return Err(VolumeError::MissingSource(source.clone()).into());
                }
                MountRequest::Volume { name, anonymous: true, .. } if name.is_empty() => *name = new_id(),
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

    /// Finds a container by name or id, with its state reconciled.
    pub fn container(&self, query: &str) -> Result<ContainerRecord> {
        let c = container::find(self.state().conn(), query)?;
        self.reconcile(c)
    }

    /// Every container, with state reconciled.
    pub fn containers(&self) -> Result<Vec<ContainerRecord>> {
        let list = container::list(self.state().conn())?;
        list.into_iter().map(|c| self.reconcile(c)).collect()
    }

    /// A container recorded as running whose process and monitor are gone (a reboot, a killed
    /// monitor) has exited: record it so, instead of showing it running forever.
    fn reconcile(&self, c: ContainerRecord) -> Result<ContainerRecord> {
        if c.status == Status::Stopping && container::process_alive(c.pid, c.pid_start) {
            // Nobody holds the stop lock: the stop was interrupted, and it still runs.
            if let Ok(_free) = self.stop_lock(&c.id, false) {
                container::set_status(self.state().conn(), &c.id, Status::Running)?;
                return Ok(container::get(self.state().conn(), &c.id)?.unwrap_or(c));
            }
        }
        if !c.is_running() || container::process_alive(c.pid, c.pid_start) {
            return Ok(c);
        }
        let monitor_alive = c.monitor_pid.is_some_and(|p| container::process_start_time(p).is_some());
        if monitor_alive {
            return Ok(c); // it is recording the exit right now
        }
        if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(runtime::cgroup_parent(), &c.id) {
            let _ = cg.delete();
        }
        // What the monitor would have taken down: NAT rules, the host end of the veth.
        let _ = self.detach_network(&c);
        container::set_exited(
            self.state().conn(),
            &c.id,
            255,
            Some("the container's monitor died; exit status unknown"),
        )?;
        self.events().state("container", "died", &c.id, Some(&c.name));
        Ok(container::get(self.state().conn(), &c.id)?.unwrap_or(c))
    }

    /// `berth start`: hands the container to a new monitor and waits until its process runs
    /// (or failed to start: then the error says why, with Podman's exit code).
    pub fn start_container(&self, query: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        // One start at a time per container, across processes: a second `start` waits, then
        // finds it running.
        let _lock = self.start_lock(&c.id)?;
        let c = self.container(&c.id)?;
        if c.is_running() {
            return Ok(c);
        }
        // A monitor waiting to restart it (its restart policy) gives way to this start.
        if let Some(pending) = c.monitor_pid.filter(|p| container::process_start_time(*p).is_some()) {
            let _ = kill(Pid::from_raw(pending), Signal::SIGKILL);
            let deadline = Instant::now() + Duration::from_secs(2);
            while container::process_start_time(pending).is_some() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        container::set_started_by_user(self.state().conn(), &c.id)?;
        let _ = std::fs::remove_file(self.exit_file(&c.id)); // from an earlier run
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| Error::Invalid(format!("creating a pipe: {e}")))?;
        let write_fd: RawFd = std::os::fd::AsRawFd::as_raw_fd(&write);
        // The monitor inherits only this end (not close-on-exec), and names it by number.
        nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))
            .map_err(|e| Error::Invalid(format!("preparing the monitor pipe: {e}")))?;
        let exe = std::path::PathBuf::from("/proc/self/exe");
        let mut helper = crate::monitor::helper_command().map_err(|source| Error::Io { path: exe.clone(), source })?;
        let mut child = helper
            .arg(monitor::MONITOR_ARG)
            .args(["--root".as_ref(), self.config().root.as_os_str()])
            .args(["--run-root".as_ref(), self.config().run_root.as_os_str()])
            .args(["--id", &c.id, "--ready-fd", &write_fd.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|source| Error::Io { path: exe.clone(), source })?;
        drop(write);
        let _ = child.wait();
        let mut line = String::new();
        BufReader::new(std::fs::File::from(read))
            .read_line(&mut line)
            .map_err(|source| Error::Io { path: exe.clone(), source })?;
        let line = line.trim_end();
        if line.starts_with("ok ") {
            // A quick `--rm` container may already be gone again.
            return match self.container(&c.id) {
                Err(Error::ContainerLookup(container::LookupError::NotFound(_))) => Ok(c),
                other => other,
            };
        }
        let (code, message) = match line.strip_prefix("error ").and_then(|r| r.split_once(' ')) {
            Some((code, message)) => (code.parse().unwrap_or(EXIT_START_FAILED), message.to_string()),
            None => {
                (EXIT_START_FAILED, format!("the monitor of container {} exited without starting it", c.short_id()))
            }
        };
        Err(Error::StartFailed { code, message })
    }

    fn start_lock(&self, id: &str) -> Result<nix::fcntl::Flock<std::fs::File>> {
        self.lock_file(id, "", nix::fcntl::FlockArg::LockExclusive)
    }

    /// Held by whoever is stopping the container: a container left "stopping" by a stop that
    /// was interrupted is found out by the missing lock.
    fn stop_lock(&self, id: &str, wait: bool) -> Result<nix::fcntl::Flock<std::fs::File>> {
        let arg = if wait { nix::fcntl::FlockArg::LockExclusive } else { nix::fcntl::FlockArg::LockExclusiveNonblock };
        self.lock_file(id, ".stop", arg)
    }

    fn lock_file(&self, id: &str, suffix: &str, arg: nix::fcntl::FlockArg) -> Result<nix::fcntl::Flock<std::fs::File>> {
        let dir = self.config().run_root.join("locks");
        let path = dir.join(format!("{id}{suffix}"));
        let io = |source| Error::Io { path: path.clone(), source };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        nix::fcntl::Flock::lock(file, arg).map_err(|(_, e)| Error::Io { path: path.clone(), source: e.into() })
    }

    /// Inside the monitor: mounts, cgroup, seccomp and the runtime's launch.
    pub(crate) fn launch_container(
        &self,
        id: &str,
        stdio: [RawFd; 3],
        console: Option<RawFd>,
    ) -> std::result::Result<(runtime::Started, network::Attachment), LaunchError> {
        let prep = |e: &dyn std::fmt::Display| LaunchError::Prepare(e.to_string());
        let c = container::get(self.state().conn(), id)
            .map_err(|e| prep(&e))?
            .ok_or_else(|| prep(&"container vanished"))?;
        let img = image::get(self.state().conn(), &c.image_id)
            .map_err(|e| prep(&e))?
            .ok_or_else(|| prep(&format!("image {} of container {} is gone", &c.image_id[..12], c.short_id())))?;
        let spec = self.container_spec(id).map_err(|e| prep(&e))?;
        let lower = img
            .layers
            .iter()
            .rev()
            .map(|l| self.layers().short_link(&l.chain_id))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| prep(&e))?;
        let paths = ContainerPaths::new(&self.config().root, id);
        let rootfs = runtime::RootfsLayers {
            layers_dir: self.layers().root().to_path_buf(),
            lower,
            upper: paths.upper(),
            work: paths.work(),
            target: paths.rootfs(),
            userxattr: crate::rootless::is_rootless(),
        };
        let resources = spec.linux().as_ref().and_then(|l| l.resources().clone());
        // Rootless without a delegated cgroup, the container runs without one (and its limits;
        // `create` warned about them).
        let rootless = crate::rootless::is_rootless();
        let cgroup = if rootless && crate::rootless::delegated_cgroup().is_none() {
            None
        } else {
            match runtime::cgroup::ContainerCgroup::create(runtime::cgroup_parent(), id, resources.as_ref()) {
                Ok((cg, _warnings)) => Some(cg),
                // Rootless, a delegation that refuses what it seemed to allow: run without (never fail).
                Err(_) if rootless => None,
                Err(e) => return Err(prep(&e)),
            }
        };
        // Compiled here; the child only installs it (one syscall, no allocation).
        let filter = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            Some(profile) => match runtime::seccomp::compile(profile) {
                Ok(f) => Some(f),
                Err(e) => {
                    if let Some(cg) = &cgroup {
                        let _ = cg.delete();
                    }
                    return Err(prep(&e));
                }
            },
            None => None,
        };
        let host = network::link::LinuxHostNet;
        let mut attachment = None;
        // Between the clone and the exec: into the cgroup, then the network namespace wired up.
        let mut before_exec = |pid: Pid| {
            if let Some(cg) = &cgroup {
                match cg.add_task(pid.as_raw() as u32) {
                    Ok(()) => {}
                    Err(_) if rootless => {
                        let _ = cg.delete();
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            let run_root = &self.config().run_root;
            match network::Mode::of(&c.options) {
                network::Mode::Pasta => network::pasta::start(run_root, id, &c.options.ports, pid.as_raw()),
                network::Mode::Slirp4netns => network::slirp::start(run_root, id, &c.options.ports, pid.as_raw()),
                _ => Ok(()),
            }
            .map_err(|e| e.to_string())?;
            let a = network::attach(&host, self.state().conn(), &c, pid.as_raw()).map_err(|e| e.to_string())?;
            attachment = Some(a);
            Ok(())
        };
        let seccomp = || filter.as_ref().map_or(Ok(()), |f| f.apply().map_err(|e| e.to_string()));
        let sys = runtime::sys::LinuxSyscall;
        let result = runtime::launch(
            &sys,
            runtime::Launch {
                spec: &spec,
                rootfs: &rootfs,
                stdio,
                console,
                before_exec: &mut before_exec,
                seccomp: &seccomp,
            },
        );
        if result.is_err() {
            if let Some(cg) = &cgroup {
                let _ = cg.delete();
            }
            if attachment.take().is_some() {
                let _ = network::detach(&host, id, !c.options.ports.is_empty());
            }
            network::pasta::stop(&self.config().run_root, id);
            network::slirp::stop(&self.config().run_root, id);
        }
        let started = result?;
        Ok((started, attachment.unwrap_or(network::Attachment { reserved: Vec::new() })))
    }

    /// `berth stop`: the image's stop signal (SIGTERM by default), then SIGKILL after `timeout`.
    pub fn stop_container(&self, query: &str, timeout: Duration) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        // Before anything else: its restart policy must not bring it back (nor a pending restart).
        container::set_stopped_by_user(self.state().conn(), &c.id)?;
        if !c.is_running() {
            return Ok(c);
        }
        self.thaw(&c)?;
        let signal = self.stop_signal(&c);
        let _stopping = self.stop_lock(&c.id, true)?;
        container::set_status(self.state().conn(), &c.id, Status::Stopping)?;
        if let Some(pid) = c.pid {
            let _ = kill(Pid::from_raw(pid), signal);
        }
        if !self.wait_gone(&c, timeout) {
            if let Some(pid) = c.pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(runtime::cgroup_parent(), &c.id) {
                let _ = cg.kill_all(Signal::SIGKILL);
            }
        }
        self.wait_exited(&c.id)
    }

    fn stop_signal(&self, c: &ContainerRecord) -> Signal {
        image::get(self.state().conn(), &c.image_id)
            .ok()
            .flatten()
            .and_then(|i| i.config())
            .and_then(|cfg| cfg.config().as_ref().and_then(|c| c.stop_signal().clone()))
            .and_then(|s| parse_signal(&s))
            .unwrap_or(Signal::SIGTERM)
    }

    fn wait_gone(&self, c: &ContainerRecord, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if !container::process_alive(c.pid, c.pid_start) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the monitor recorded the exit (it reaps the process right away).
    fn wait_exited(&self, id: &str) -> Result<ContainerRecord> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let c = match container::get(self.state().conn(), id)? {
                Some(c) => c,
                None => return Err(container::LookupError::NotFound(id.into()).into()), // --rm removed it
            };
            let c = self.reconcile(c)?;
            if !c.is_running() || Instant::now() >= deadline {
                return Ok(c);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `berth pause`: freezes every process of the container (the cgroup freezer).
    pub fn pause_container(&self, query: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if c.status != Status::Running {
            return Err(Error::StateImproper(format!(
                "\"{}\" is not running, can't pause it: container state improper",
                c.name
            )));
        }
        let cg = runtime::cgroup::ContainerCgroup::load(runtime::cgroup_parent(), &c.id).map_err(|e| {
            match crate::rootless::limits_warning() {
                Some(_) => Error::Invalid(format!(
                    "pausing {}: pausing needs the container's cgroup (its freezer), and rootless containers get none on this host: that takes cgroup v2 with a delegated user cgroup",
                    c.name
                )),
                None => Error::Invalid(format!("pausing {}: {e}", c.name)),
            }
        })?;
        cg.freeze().map_err(|e| Error::Invalid(format!("pausing {}: {e}", c.name)))?;
        container::set_status(self.state().conn(), &c.id, Status::Paused)?;
        self.events().state("container", "pause", &c.id, Some(&c.name));
        self.container(&c.id)
    }

    /// `berth unpause`: thaws a paused container.
    pub fn unpause_container(&self, query: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if c.status != Status::Paused {
            return Err(Error::StateImproper(format!(
                "\"{}\" is not paused, can't unpause: container state improper",
                c.name
            )));
        }
        self.thaw(&c)?;
        self.events().state("container", "unpause", &c.id, Some(&c.name));
        self.container(&c.id)
    }

    /// Thaws a paused container so that signals reach it again.
    fn thaw(&self, c: &ContainerRecord) -> Result<()> {
        if c.status == Status::Paused {
            let cg = runtime::cgroup::ContainerCgroup::load(runtime::cgroup_parent(), &c.id)
                .map_err(|e| Error::Invalid(format!("unpausing {}: {e}", c.name)))?;
            cg.thaw().map_err(|e| Error::Invalid(format!("unpausing {}: {e}", c.name)))?;
            container::set_status(self.state().conn(), &c.id, Status::Running)?;
        }
        Ok(())
    }

    /// `berth rename`.
    pub fn rename_container(&self, query: &str, new_name: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if !valid_name(new_name) {
            return Err(Error::Invalid(format!(
                "invalid container name \"{new_name}\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
            )));
        }
        if !container::rename(self.state().conn(), &c.id, new_name)? {
            let other = container::name_taken(self.state().conn(), new_name)?.unwrap_or_default();
            return Err(Error::NameInUse { name: new_name.into(), id: other });
        }
        self.events().state("container", "rename", &c.id, Some(new_name));
        self.container(&c.id)
    }

    /// `berth kill`: a signal to the container's init.
    pub fn kill_container(&self, query: &str, signal: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        let sig = parse_signal(signal).ok_or_else(|| {
            Error::Invalid(format!("invalid signal \"{signal}\": use a name such as TERM or a number"))
        })?;
        if !c.is_running() {
            return Err(Error::StateImproper(format!(
                "can only kill running containers. {} is in state {}: container state improper",
                c.short_id(),
                c.status.as_str()
            )));
        }
        if matches!(sig, Signal::SIGKILL | Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT) {
            // Killed by the user: its restart policy must not bring it back.
            container::set_stopped_by_user(self.state().conn(), &c.id)?;
        }
        if sig == Signal::SIGKILL {
            self.thaw(&c)?; // a frozen process dies only once thawed
        }
        if let Some(pid) = c.pid {
            kill(Pid::from_raw(pid), sig).map_err(|e| Error::Invalid(format!("sending {sig} to {}: {e}", c.name)))?;
        }
        Ok(c)
    }

    /// The exit code once the container has exited (also after a `--rm` removed it), or None
    /// while it has not.
    pub fn exit_code(&self, id: &str) -> Result<Option<i32>> {
        match container::get(self.state().conn(), id)? {
            Some(c) => {
                let c = self.reconcile(c)?;
                Ok((c.status == Status::Exited).then(|| c.exit_code.unwrap_or(0)))
            }
            None => match std::fs::read_to_string(self.exit_file(id)) {
                Ok(code) => Ok(Some(code.trim().parse().unwrap_or(0))),
                Err(_) => Err(container::LookupError::NotFound(id.into()).into()),
            },
        }
    }

    /// `berth wait`: blocks until the container exits; returns its exit code.
    pub fn wait_container(&self, query: &str) -> Result<i32> {
        let c = self.container(query)?;
        loop {
            if let Some(code) = self.exit_code(&c.id)? {
                return Ok(code);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `berth rm`: removes a stopped container and everything it had (writable layer, log,
    /// cgroup, state); `force` stops a running one first.
    pub fn remove_container(&self, query: &str, force: bool) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if c.is_running() {
            if !force {
                return Err(Error::StateImproper(format!(
                    "cannot remove container {} as it is running - running or paused containers cannot be removed without force: container state improper",
                    c.id
                )));
            }
            container::set_stopped_by_user(self.state().conn(), &c.id)?;
            self.thaw(&c)?;
            if let Some(pid) = c.pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            self.wait_gone(&c, Duration::from_secs(10));
            // Let the monitor finish its bookkeeping (exit file, --rm) before removing.
            match self.wait_exited(&c.id) {
                Err(Error::ContainerLookup(container::LookupError::NotFound(_))) => return Ok(c),
                other => drop(other?),
            }
        }
        if let Ok(cg) = runtime::cgroup::ContainerCgroup::load(runtime::cgroup_parent(), &c.id) {
            let _ = cg.kill_all(Signal::SIGKILL);
            let _ = cg.delete();
        }
        let address = network::address_of(self.state().conn(), &c.id)?;
        if !container::delete(self.state().conn(), &c.id)? {
            return Ok(c); // removed meanwhile (by its own --rm)
        }
        if let Some(a) = address {
            self.refresh_network_hosts(&a.network);
        }
        // Anonymous volumes belong to their container and go with it.
        for m in &c.options.mounts {
            if let crate::volume::MountRequest::Volume { name, anonymous: true, .. } = m {
                let _ = self.remove_volume(name, false);
            }
        }
        // A --rm container's exit file stays for whoever waits on it (it is in the run root,
        // gone at reboot); anyone else's goes with the container.
        if !c.options.remove {
            let _ = std::fs::remove_file(self.exit_file(&c.id));
        }
        let _ = std::fs::remove_file(self.config().run_root.join("locks").join(&c.id));
        let _ = std::fs::remove_file(self.config().run_root.join("locks").join(format!("{}.stop", c.id)));
        let dir = ContainerPaths::new(&self.config().root, &c.id).dir;
        if let Err(e) = crate::rootless::remove_tree(&dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::Io { path: dir, source: e });
            }
        }
        self.events().state("container", "remove", &c.id, Some(&c.name));
        Ok(c)
    }

    /// `berth container prune`: removes every container that is not running.
    pub fn prune_containers(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for c in self.containers()? {
            if !c.is_running() && self.remove_container(&c.id, false).is_ok() {
                removed.push(c.id);
            }
        }
        Ok(removed)
    }

    /// Written by the monitor when the container exits (before a `--rm` removal): watching for
    /// it is cheaper than asking the database.
    pub fn exit_file(&self, id: &str) -> std::path::PathBuf {
        self.config().run_root.join("exits").join(id)
    }

    pub fn container_paths(&self, id: &str) -> ContainerPaths {
        ContainerPaths::new(&self.config().root, id)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signals_by_name_or_number() {
        use nix::sys::signal::Signal;
        assert_eq!(super::parse_signal("SIGQUIT"), Some(Signal::SIGQUIT));
        assert_eq!(super::parse_signal("term"), Some(Signal::SIGTERM));
        assert_eq!(super::parse_signal("9"), Some(Signal::SIGKILL));
        assert_eq!(super::parse_signal("NOPE"), None);
    }

    #[test]
    fn names_follow_podmans_rule() {
        assert!(super::valid_name("web-1.a_b"));
        assert!(!super::valid_name("-web"));
        assert!(!super::valid_name("a b"));
        assert!(!super::valid_name(""));
    }
}
