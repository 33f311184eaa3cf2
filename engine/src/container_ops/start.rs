//! `start`: a monitor spawned for the container, and what the monitor calls inside itself to
//! launch it (mounts, cgroup, seccomp, the runtime's launch).

use std::io::{BufRead, BufReader};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::*;
use crate::container::{self, ContainerPaths, ContainerRecord};
use crate::monitor::{self, EXIT_START_FAILED};
use crate::runtime;
use crate::{image, network, Engine, Error, Result};

impl Engine {
    /// `berth start`: hands the container to a new monitor and waits until its process runs
    /// (or failed to start: then the error says why, with Podman's exit code).
    pub fn start_container(&self, query: &str) -> Result<ContainerRecord> {
        self.start_container_with(query, 0)
    }

    /// [`Engine::start_container`], passing this process's fds 3 to 3+`preserve_fds`-1 on to
    /// the container (`run --preserve-fds`): the ones open without close-on-exec, which is how
    /// a shell hands them over (Berth's own are all close-on-exec).
    pub fn start_container_with(&self, query: &str, preserve_fds: u32) -> Result<ContainerRecord> {
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
        // In a pod: its infra container runs first.
        self.start_pod_infra_of(&c)?;
        // On another container's network: that one runs first, as Podman starts dependencies.
        if let network::Mode::Container(other) = network::Mode::of(&c.options) {
            if !self.container(&other)?.is_running() {
                self.start_container(&other)?;
            }
        }
        // A published host port in use fails the start here, before any monitor, as a typed
        // error (a conflict to the app and the API); the monitor binds the ports for good.
        if let Err(e) = network::reserve_ports(&c) {
            if c.options.remove {
                let _ = self.remove_container(&c.id, true);
            }
            return Err(network::NetworkError::PortInUse(e).into());
        }
        container::set_started_by_user(self.state().conn(), &c.id)?;
        let _ = std::fs::remove_file(self.exit_file(&c.id)); // from an earlier run
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| Error::Invalid(format!("creating a pipe: {e}")))?;
        let write_fd: RawFd = std::os::fd::AsRawFd::as_raw_fd(&write);
        // The monitor inherits only this end (not close-on-exec), and names it by number.
        nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))
            .map_err(|e| Error::Invalid(format!("preparing the monitor pipe: {e}")))?;
        let exe = c.options.runtime.clone().unwrap_or_else(|| std::path::PathBuf::from("/proc/self/exe"));
        // `--runtime`: the monitor (and so the runtime) of another berth binary
        let mut helper = match &c.options.runtime {
            Some(runtime) => berth_userns::reexec::helper_command_of(runtime),
            None => berth_userns::reexec::helper_command().map_err(|source| Error::Io { path: exe.clone(), source })?,
        };
        // The monitor holds the start lock too, until the container runs: if this process is
        // killed meanwhile, the next start waits for that monitor instead of launching again.
        // Inherited by this child only (cleared between its fork and exec), never by another
        // process this one spawns at the same time.
        let lock_fd: RawFd = std::os::fd::AsRawFd::as_raw_fd(&*_lock);
        // SAFETY: fcntl is async-signal-safe and touches only the child's copy of the fd.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut helper, move || {
                if libc::fcntl(lock_fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = helper
            .arg(monitor::MONITOR_ARG)
            .args(["--root".as_ref(), self.config().root.as_os_str()])
            .args(["--run-root".as_ref(), self.config().run_root.as_os_str()])
            .args(["--id", &c.id, "--ready-fd", &write_fd.to_string()])
            .args(["--lock-fd", &lock_fd.to_string()])
            .args(["--preserve-fds", &preserve_fds.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|source| Error::Io { path: exe.clone(), source })?;
        crate::trace::mark("monitor spawned");
        drop(write);
        let _ = child.wait();
        let mut line = String::new();
        BufReader::new(std::fs::File::from(read))
            .read_line(&mut line)
            .map_err(|source| Error::Io { path: exe.clone(), source })?;
        let line = line.trim_end();
        crate::trace::mark(&format!("monitor answered: {line}"));
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

    /// `--network container:ID`: the spec's network namespace becomes the running one of that
    /// container (known only now: its process's).
    fn join_network_of(&self, spec: &mut oci_spec::runtime::Spec, other: &str) -> Result<()> {
        let o = self.container(other)?;
        let pid = o.pid.filter(|_| o.is_running()).ok_or_else(|| {
            Error::StateImproper(format!(
                "container {} is not running, and this container uses its network: start it first",
                o.name
            ))
        })?;
        let path = std::path::PathBuf::from(format!("/proc/{pid}/ns/net"));
        if let Some(namespaces) = spec.linux_mut().as_mut().and_then(|l| l.namespaces_mut().as_mut()) {
            for n in namespaces.iter_mut() {
                if n.typ() == oci_spec::runtime::LinuxNamespaceType::Network {
                    n.set_path(Some(path.clone()));
                }
            }
        }
        Ok(())
    }

    /// Inside the monitor: mounts, cgroup, seccomp and the runtime's launch.
    pub(crate) fn launch_container(
        &self,
        id: &str,
        stdio: [RawFd; 3],
        console: Option<RawFd>,
        preserve_fds: u32,
    ) -> std::result::Result<(runtime::Started, network::Attachment), LaunchError> {
        let prep = |e: &dyn std::fmt::Display| LaunchError::Prepare(e.to_string());
        let c = container::get(self.state().conn(), id)
            .map_err(|e| prep(&e))?
            .ok_or_else(|| prep(&"container vanished"))?;
        let img =
            match &c.options.rootfs {
                Some(_) => None,
                None => Some(image::get(self.state().conn(), &c.image_id).map_err(|e| prep(&e))?.ok_or_else(|| {
                    prep(&format!("image {} of container {} is gone", &c.image_id[..12], c.short_id()))
                })?),
            };
        let mut spec = self.container_spec(id).map_err(|e| prep(&e))?;
        if let network::Mode::Container(other) = network::Mode::of(&c.options) {
            self.join_network_of(&mut spec, &other).map_err(|e| prep(&e))?;
        }
        if let Some((infra_pid, shared)) = self.pod_namespaces_of(&c).map_err(|e| prep(&e))? {
            join_pod_namespaces(&mut spec, infra_pid, &shared);
        }
        self.share_hosts_entry(&c, true);
        // A pod sharing IPC shares the infra's /dev/shm, a tmpfs on the host that the infra's
        // start mounts and its end unmounts (as Podman's).
        if let Some(shm) = self.pod_shm(&c).map_err(|e| prep(&e))? {
            if c.options.pod_infra {
                mount_shm(&shm, c.options.shm_size).map_err(|e| prep(&e))?;
            }
            bind_shm(&mut spec, &shm);
        }
        // Images mounted with `--mount type=image` are mounted on the host (as `image mount`).
        self.hold_image_mounts(&c).map_err(|e| prep(&format!("mounting an image: {e}")))?;
        // Volumes with the local driver's options are mounted on the host, where their
        // containers bind them from; they stay mounted until `volume unmount` or `volume rm`.
        for m in &c.options.mounts {
            if let crate::volume::MountRequest::Volume { name, .. } = m {
                if let Some(v) =
                    crate::volume::get(self.state().conn(), &self.config().root, name).map_err(|e| prep(&e))?
                {
                    crate::volume::mount_options(&v).map_err(|e| prep(&format!("mounting volume {name}: {e}")))?;
                }
            }
        }
        let lower = match (&img, &c.options.rootfs) {
            (Some(img), _) => img
                .layers
                .iter()
                .rev()
                .map(|l| self.layers().short_link(&l.chain_id))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| prep(&e))?,
            (None, Some(r)) => vec![r.path.display().to_string()],
            (None, None) => Vec::new(),
        };
        let paths = ContainerPaths::new(&self.config().root, id);
        let rootfs = runtime::RootfsLayers {
            layers_dir: self.layers().root().to_path_buf(),
            lower,
            upper: paths.upper(),
            work: paths.work(),
            target: paths.rootfs(),
            userxattr: crate::rootless::is_rootless(),
            bind: c.options.rootfs.as_ref().filter(|r| !r.overlay).map(|r| r.path.clone()),
        };
        let resources = spec.linux().as_ref().and_then(|l| l.resources().clone());
        // Rootless without a delegated cgroup, the container runs without one (and its limits;
        // `create` warned about them).
        let rootless = crate::rootless::is_rootless();
        let cgroup = if rootless && crate::rootless::delegated_cgroup().is_none() {
            None
        } else {
            match runtime::cgroup::ContainerCgroup::create(crate::rootless::cgroup_parent(), id, resources.as_ref()) {
                Ok((cg, _warnings)) => Some(cg),
                // Rootless, a delegation that refuses what it seemed to allow: run without (never fail).
                Err(_) if rootless => None,
                Err(e) => return Err(prep(&e)),
            }
        };
        // Compiled here; the child only installs it (one syscall, no allocation).
        crate::trace::mark("cgroup made");
        let filter = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            Some(profile) => match crate::seccomp_cache::compiled(&self.config().run_root, profile) {
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
        crate::trace::mark("seccomp filter compiled");
        let host = network::link::LinuxHostNet;
        let mut attachment = None;
        let mut reserved = Some(network::reserve_ports(&c).map_err(LaunchError::PortInUse)?);
        // Between the clone and the exec: into the cgroup, then the network namespace wired up.
        let mut before_exec = |pid: Pid| {
            crate::trace::mark("cloned");
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
                network::Mode::Slirp4netns(o) => {
                    network::slirp::start(run_root, id, &o, &c.options.ports, pid.as_raw())
                }
                _ => Ok(()),
            }
            .map_err(|e| e.to_string())?;
            crate::trace::mark("in its cgroup");
            let a = network::attach(&host, self.state().conn(), &c, pid.as_raw(), reserved.take().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            attachment = Some(a);
            crate::trace::mark("network attached");
            // a user-defined network's name server listens before the container's process runs
            if let network::Mode::Bridge(_) = network::Mode::of(&c.options) {
                let nets: Vec<network::NetworkRecord> = {
                    let state = self.state(); // one lock for the reads
                    let addresses = network::addresses_of(state.conn(), &c.id).unwrap_or_default();
                    addresses.iter().filter_map(|a| network::get(state.conn(), &a.network).ok().flatten()).collect()
                };
                for net in nets.iter().filter(|n| n.dns) {
                    network::dns::ensure(&self.config().root, run_root, net)?;
                    crate::trace::mark("name server ready");
                }
            }
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
                preserve_fds,
                workdir_must_exist: c.options.workdir.is_some() && c.options.workdir_must_exist,
            },
        );
        if result.is_err() {
            if let Some(cg) = &cgroup {
                let _ = cg.delete();
            }
            if attachment.take().is_some() {
                let names = network::joined_networks(self.state().conn(), &c.options, id);
                let _ = network::detach(&host, id, !c.options.ports.is_empty(), &names);
            }
            network::pasta::stop(&self.config().run_root, id);
            network::slirp::stop(&self.config().run_root, id);
            self.release_pod_shm(id);
        }
        let started = result?;
        crate::trace::mark("launched: the container's process runs");
        Ok((started, attachment.unwrap_or(network::Attachment { reserved: Vec::new() })))
    }
}

/// A pod member's spec joins the namespaces its pod shares (but the network, joined as
/// `container:ID`), held by the infra's process `infra_pid`.
fn join_pod_namespaces(spec: &mut oci_spec::runtime::Spec, infra_pid: i32, shared: &[crate::pod::Namespace]) {
    use crate::pod::Namespace;
    use oci_spec::runtime::LinuxNamespaceType as T;
    if let Some(namespaces) = spec.linux_mut().as_mut().and_then(|l| l.namespaces_mut().as_mut()) {
        for n in namespaces.iter_mut() {
            let ns = match n.typ() {
                T::Ipc => Namespace::Ipc,
                T::Uts => Namespace::Uts,
                T::Pid => Namespace::Pid,
                T::Cgroup => Namespace::Cgroup,
                _ => continue,
            };
            if shared.contains(&ns) {
                n.set_path(Some(std::path::PathBuf::from(format!("/proc/{infra_pid}/ns/{}", ns.proc_name()))));
            }
        }
    }
}

/// Mounts a pod's shared /dev/shm (a tmpfs, 64 MiB unless `--shm-size`) at `dir` on the host,
/// unless it is there already.
fn mount_shm(dir: &std::path::Path, size: Option<u64>) -> std::result::Result<(), String> {
    use nix::mount::{mount, MsFlags};
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let parent = dir.parent().and_then(|p| std::fs::metadata(p).ok()).map(|m| std::os::unix::fs::MetadataExt::dev(&m));
    let here = std::fs::metadata(dir).ok().map(|m| std::os::unix::fs::MetadataExt::dev(&m));
    if parent.is_some() && parent != here {
        return Ok(()); // mounted by an earlier start whose end did not unmount it
    }
    let data = format!("mode=1777,size={}", size.unwrap_or(64 * 1024 * 1024));
    mount(
        Some("shm"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(data.as_str()),
    )
    .map_err(|e| format!("mounting the pod's /dev/shm at {}: {e}", dir.display()))
}

/// The spec's /dev/shm becomes a bind of the pod's.
fn bind_shm(spec: &mut oci_spec::runtime::Spec, shm: &std::path::Path) {
    if let Some(mounts) = spec.mounts_mut().as_mut() {
        for m in mounts.iter_mut().filter(|m| m.destination() == std::path::Path::new("/dev/shm")) {
            m.set_typ(Some("bind".into()));
            m.set_source(Some(shm.to_path_buf()));
            m.set_options(Some(vec!["bind".into(), "rw".into(), "nosuid".into(), "nodev".into(), "noexec".into()]));
        }
    }
}
