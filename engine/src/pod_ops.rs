//! The pod verbs on `Engine`: create (with its infra container), start, stop, restart, kill,
//! pause, unpause, remove, prune, and what `pod ps` and `pod inspect` show. What a pod is and
//! its rules are data in `pod`.

use std::time::Duration;

use crate::container::{ContainerRecord, CreateOptions, Rootfs, Status};
use crate::pod::{self, Namespace, PodError, PodOptions, PodRecord};
use crate::{Engine, Error, Result};

/// The process name of the pause process, the command an infra container without an image
/// shows.
pub const PAUSE_COMMAND: &str = berth_runtime::process::init::PAUSE_NAME;

impl Engine {
    /// Finds a pod by name, id or unique id prefix.
    pub fn pod(&self, query: &str) -> Result<PodRecord> {
        Ok(pod::find(self.state().conn(), query)?)
    }

    /// Every pod, newest first.
    pub fn pods(&self) -> Result<Vec<PodRecord>> {
        Ok(pod::list(self.state().conn())?)
    }

    /// The pod's containers, its infra container first, the others newest first.
    pub fn pod_containers(&self, p: &PodRecord) -> Result<Vec<ContainerRecord>> {
        let mut members: Vec<ContainerRecord> =
            self.containers()?.into_iter().filter(|c| c.options.pod.as_deref() == Some(p.id.as_str())).collect();
        members.sort_by_key(|c| !c.options.pod_infra);
        Ok(members)
    }

    /// Podman's state of a pod (`Running`, `Degraded`, `Exited`, ...), from its containers.
    pub fn pod_state(&self, p: &PodRecord) -> Result<&'static str> {
        let statuses: Vec<Status> = self.pod_containers(p)?.iter().map(|c| c.status).collect();
        Ok(pod::state(&statuses))
    }

    /// `berth pod create`: the pod and its infra container (unless `--infra=false`), which is
    /// made from `--infra-image` when given (pulled by the caller) or else runs the runtime's
    /// pause process on an empty root. Nothing is left when the infra can't be made.
    pub fn create_pod(&self, mut opts: PodOptions) -> Result<PodRecord> {
        if let Some(name) = &opts.name {
            if !crate::network::valid_name(name) {
                return Err(Error::Invalid(format!(
                    "invalid pod name \"{name}\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
                )));
            }
        }
        if !opts.infra {
            if !opts.share.is_empty() {
                return Err(Error::Invalid(
                    "you cannot share kernel namespaces on the pod level without an infra container: drop --share or --infra=false".into(),
                ));
            }
            if !opts.ports.is_empty() {
                return Err(Error::Invalid(
                    "you must have an infra container to publish port bindings to the host: drop -p or --infra=false"
                        .into(),
                ));
            }
        }
        if opts.infra_command.is_some() && opts.infra_image.is_none() && !opts.infra {
            return Err(Error::Invalid("--infra-command needs an infra container: drop --infra=false".into()));
        }
        let id = super_new_id();
        let name = match opts.name.take() {
            Some(n) => n,
            None => loop {
                let n = crate::container::names::random_name();
                if pod::name_taken(self.state().conn(), &n)?.is_none() {
                    break n;
                }
            },
        };
        let mut record = PodRecord {
            id: id.clone(),
            name: name.clone(),
            created_at: chrono::Utc::now(),
            options: opts,
            infra_id: None,
        };
        self.state().write(|tx| -> Result<()> {
            if let Some(other) = pod::name_taken(tx, &name)? {
                return Err(PodError::NameInUse { name: name.clone(), id: other }.into());
            }
            pod::insert(tx, &record)?;
            Ok(())
        })?;
        if record.options.infra {
            match self.create_infra(&record) {
                Ok(infra) => {
                    pod::set_infra(self.state().conn(), &id, &infra.id)?;
                    record.infra_id = Some(infra.id);
                }
                Err(e) => {
                    let _ = pod::delete(self.state().conn(), &id);
                    return Err(e);
                }
            }
        }
        self.events().state("pod", "create", &id, Some(&name));
        Ok(record)
    }

    /// The infra container of a new pod: the pod's network, ports, names and host name.
    fn create_infra(&self, p: &PodRecord) -> Result<ContainerRecord> {
        let o = &p.options;
        let mut opts = CreateOptions {
            name: Some(o.infra_name.clone().unwrap_or_else(|| format!("{}-infra", p.short_id()))),
            network: o.network.clone(),
            network_aliases: o.network_aliases.clone(),
            mac_address: o.mac_address.clone(),
            ports: o.ports.clone(),
            dns: o.dns.clone(),
            dns_search: o.dns_search.clone(),
            dns_options: o.dns_options.clone(),
            add_hosts: o.add_hosts.clone(),
            hostname: o.share.contains(&Namespace::Uts).then(|| p.hostname()),
            pod: Some(p.id.clone()),
            pod_infra: true,
            // it is stopped with the pod, and stops at once
            stop_timeout: Some(10),
            ..Default::default()
        };
        match &o.infra_image {
            Some(image) => {
                opts.entrypoint = o.infra_command.clone();
                self.create_container(image, opts)
            }
            None => {
                let root = self.config().root.join("pause");
                std::fs::create_dir_all(&root).map_err(|source| Error::Io { path: root.clone(), source })?;
                opts.rootfs = Some(Rootfs { path: root, overlay: true });
                opts.entrypoint = Some(o.infra_command.clone().unwrap_or_else(|| vec![PAUSE_COMMAND.to_string()]));
                opts.pause = o.infra_command.is_none();
                self.create_container("", opts)
            }
        }
    }

    /// What a new container of a pod takes from it (`create --pod`): the pod's id, and the
    /// infra's network and host name when the pod shares them. Podman's errors for what a
    /// shared namespace makes the pod's to set.
    pub(crate) fn join_pod(&self, opts: &mut CreateOptions) -> Result<()> {
        let Some(query) = opts.pod.clone() else { return Ok(()) };
        let p = self.pod(&query)?;
        opts.pod = Some(p.id.clone());
        if opts.pod_infra {
            return Ok(());
        }
        let Some(infra) = &p.infra_id else { return Ok(()) };
        if p.options.shares(Namespace::Net) {
            if opts.network.is_some() || opts.mac_address.is_some() {
                return Err(Error::Invalid(
                    "invalid config provided: networks must be defined when the pod is created: network cannot be configured when it is shared with a pod".into(),
                ));
            }
            if !opts.ports.is_empty() || opts.publish_all {
                return Err(Error::Invalid(
                    "invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod".into(),
                ));
            }
            opts.network = Some(format!("container:{infra}"));
        }
        if p.options.shares(Namespace::Uts) {
            if opts.hostname.is_some() {
                return Err(Error::Invalid(
                    "invalid config provided: cannot set hostname when joining the pod UTS namespace: invalid configuration"
                        .into(),
                ));
            }
            opts.hostname = Some(p.hostname());
        }
        Ok(())
    }

    /// For a member's start: its pod's infra container, running (started when it was not),
    /// and the namespaces the member joins there (the network is joined as `container:ID`).
    pub(crate) fn pod_namespaces_of(&self, c: &ContainerRecord) -> Result<Option<(i32, Vec<Namespace>)>> {
        let Some(pod_id) = c.options.pod.as_deref().filter(|_| !c.options.pod_infra) else { return Ok(None) };
        let Some(p) = pod::get(self.state().conn(), pod_id)? else { return Ok(None) };
        let Some(infra) = p.infra_id.as_deref() else { return Ok(None) };
        let shared: Vec<Namespace> =
            p.options.share.iter().copied().filter(|n| *n != Namespace::Net && p.options.infra).collect();
        let infra = self.container(infra)?;
        let pid = infra.pid.filter(|_| infra.is_running()).ok_or_else(|| {
            Error::StateImproper(format!("the infra container of pod {} is not running: start the pod first", p.name))
        })?;
        Ok(Some((pid, shared)))
    }

    /// Where the /dev/shm of a container of a pod that shares IPC is on the host: its infra
    /// container's `shm` directory.
    pub(crate) fn pod_shm(&self, c: &ContainerRecord) -> Result<Option<std::path::PathBuf>> {
        let Some(pod_id) = c.options.pod.as_deref() else { return Ok(None) };
        let Some(p) = pod::get(self.state().conn(), pod_id)? else { return Ok(None) };
        let infra = match (&p.infra_id, c.options.pod_infra) {
            (_, true) => c.id.clone(),
            (Some(i), false) => i.clone(),
            (None, false) => return Ok(None),
        };
        Ok(p.options.shares(Namespace::Ipc).then(|| self.container_paths(&infra).dir.join("shm")))
    }

    /// Unmounts an infra container's /dev/shm (when its run ends, and at its removal).
    pub(crate) fn release_pod_shm(&self, id: &str) {
        let dir = self.container_paths(id).dir.join("shm");
        if dir.exists() {
            let _ = nix::mount::umount2(&dir, nix::mount::MntFlags::MNT_DETACH);
        }
    }

    /// Starts a member's infra container first, when it is not running.
    pub(crate) fn start_pod_infra_of(&self, c: &ContainerRecord) -> Result<()> {
        let Some(pod_id) = c.options.pod.as_deref().filter(|_| !c.options.pod_infra) else { return Ok(()) };
        let Some(p) = pod::get(self.state().conn(), pod_id)? else { return Ok(()) };
        if let Some(infra) = &p.infra_id {
            if !self.container(infra)?.is_running() {
                self.start_container(infra)?;
                self.events().state("pod", "start", &p.id, Some(&p.name));
            }
        }
        Ok(())
    }

    /// Called by a member's monitor when its container is done (exited for good, or removed):
    /// with the `stop` exit policy, the pod stops once no other member runs.
    pub(crate) fn pod_member_done(&self, c: &ContainerRecord) {
        let Some(pod_id) = c.options.pod.as_deref().filter(|_| !c.options.pod_infra) else { return };
        let Ok(Some(p)) = pod::get(self.state().conn(), pod_id) else { return };
        if p.options.exit_policy != pod::ExitPolicy::Stop {
            return;
        }
        let Ok(members) = self.pod_containers(&p) else { return };
        if members.iter().any(|m| !m.options.pod_infra && m.id != c.id && m.is_running()) {
            return;
        }
        if let Some(infra) = members.iter().find(|m| m.options.pod_infra && m.is_running()) {
            let _ = self.stop_container_reporting(&infra.id, None);
            self.events().state("pod", "stop", &p.id, Some(&p.name));
        }
    }

    /// `berth pod start`: the infra container, then the others; the first error is returned
    /// once every container was tried.
    pub fn start_pod(&self, query: &str) -> Result<PodRecord> {
        let p = self.pod(query)?;
        let members = self.pod_containers(&p)?;
        let mut first_error = None;
        for c in members.iter().filter(|c| !c.is_running()) {
            if let Err(e) = self.start_container(&c.id) {
                first_error.get_or_insert(e);
            }
        }
        self.events().state("pod", "start", &p.id, Some(&p.name));
        first_error.map_or(Ok(p), Err)
    }

    /// `berth pod stop`: the members, then the infra container (whose end would kill a shared
    /// pid namespace's processes); `timeout` as `stop -t`, else each container's own.
    pub fn stop_pod(&self, query: &str, timeout: Option<Duration>) -> Result<PodRecord> {
        let p = self.pod(query)?;
        let mut members = self.pod_containers(&p)?;
        members.reverse(); // the infra last
        let mut first_error = None;
        for c in &members {
            match self.stop_container_reporting(&c.id, timeout) {
                Ok(_) | Err(Error::ContainerLookup(crate::container::LookupError::NotFound(_))) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        self.events().state("pod", "stop", &p.id, Some(&p.name));
        first_error.map_or(Ok(p), Err)
    }

    /// `berth pod restart`: stopped, then started.
    pub fn restart_pod(&self, query: &str) -> Result<PodRecord> {
        let p = self.stop_pod(query, None)?;
        self.start_pod(&p.id)
    }

    /// `berth pod kill`: the signal to every running container of the pod.
    pub fn kill_pod(&self, query: &str, signal: &str) -> Result<PodRecord> {
        let p = self.pod(query)?;
        let mut members = self.pod_containers(&p)?;
        members.reverse();
        let running: Vec<_> = members.into_iter().filter(|c| c.is_running()).collect();
        if running.is_empty() {
            return Err(Error::StateImproper(format!("no containers in pod {} are running: pod state improper", p.id)));
        }
        for c in running {
            self.kill_container(&c.id, signal)?;
        }
        self.events().state("pod", "kill", &p.id, Some(&p.name));
        Ok(p)
    }

    /// `berth pod pause` and `unpause`: every running (or paused) container of the pod.
    pub fn pause_pod(&self, query: &str, pause: bool) -> Result<PodRecord> {
        let p = self.pod(query)?;
        for c in self.pod_containers(&p)? {
            match (pause, c.status) {
                (true, Status::Running) => drop(self.pause_container(&c.id)?),
                (false, Status::Paused) => drop(self.unpause_container(&c.id)?),
                _ => {}
            }
        }
        self.events().state("pod", if pause { "pause" } else { "unpause" }, &p.id, Some(&p.name));
        Ok(p)
    }

    /// `berth pod rm`: every container of the pod (running ones only with `force`, stopped
    /// first with `timeout`), then the pod. A running infra container is stopped: it holds
    /// only namespaces.
    pub fn remove_pod(&self, query: &str, force: bool, timeout: Option<Duration>) -> Result<PodRecord> {
        let p = self.pod(query)?;
        let members = self.pod_containers(&p)?;
        if !force {
            if let Some(c) = members.iter().find(|c| !c.options.pod_infra && c.is_running()) {
                return Err(Error::StateImproper(format!(
                    "pod {} has containers that are not ready to be removed: cannot remove container {} as it is running - running or paused containers cannot be removed without force: container state improper",
                    p.id, c.id
                )));
            }
        }
        // members first (the infra is first in the list)
        for c in members.iter().rev() {
            if c.is_running() {
                let t = if c.options.pod_infra { Some(Duration::from_secs(10)) } else { timeout };
                match self.stop_container_reporting(&c.id, t) {
                    Ok(_) | Err(Error::ContainerLookup(crate::container::LookupError::NotFound(_))) => {}
                    Err(e) => return Err(e),
                }
            }
            match self.remove_pod_container(&c.id, true) {
                Ok(_) | Err(Error::ContainerLookup(crate::container::LookupError::NotFound(_))) => {}
                Err(e) => return Err(e),
            }
        }
        pod::delete(self.state().conn(), &p.id)?;
        self.events().state("pod", "remove", &p.id, Some(&p.name));
        Ok(p)
    }

    /// `berth pod prune`: removes every pod none of whose containers run.
    pub fn prune_pods(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for p in self.pods()? {
            if !self.pod_containers(&p)?.iter().any(|c| c.is_running()) && self.remove_pod(&p.id, false, None).is_ok() {
                removed.push(p.id);
            }
        }
        Ok(removed)
    }

    /// `berth rm --depend` (or `--all`) of an infra container: the pod goes with it, after its
    /// other containers (which the caller removed first).
    pub fn remove_infra_container(&self, query: &str, force: bool) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        let removed = self.remove_pod_container(&c.id, force)?;
        if let Some(pod_id) = c.options.pod.as_deref().filter(|_| c.options.pod_infra) {
            let found = pod::get(self.state().conn(), pod_id); // the lock let go before the delete
            if let Ok(Some(p)) = found {
                // its other containers stay, in no pod's namespaces any more
                pod::delete(self.state().conn(), pod_id)?;
                self.events().state("pod", "remove", &p.id, Some(&p.name));
            }
        }
        Ok(removed)
    }

    /// `berth pod inspect`: Podman's object.
    pub fn pod_inspect(&self, query: &str) -> Result<serde_json::Value> {
        let p = self.pod(query)?;
        let members = self.pod_containers(&p)?;
        let statuses: Vec<Status> = members.iter().map(|c| c.status).collect();
        let o = &p.options;
        let infra = members.iter().find(|c| c.options.pod_infra);
        let mut ports = serde_json::Map::new();
        for m in infra.map(|c| c.options.ports.as_slice()).unwrap_or(&o.ports) {
            let key = format!("{}/{}", m.container_port, m.protocol);
            let entry = ports.entry(key).or_insert_with(|| serde_json::json!([]));
            if let Some(list) = entry.as_array_mut() {
                list.push(serde_json::json!({
                    "HostIp": m.host_ip.map(|i| i.to_string()).unwrap_or_default(),
                    "HostPort": m.host_port.to_string(),
                }));
            }
        }
        let network = o.network.as_deref().unwrap_or("bridge");
        Ok(serde_json::json!({
            "Id": p.id,
            "Name": p.name,
            "Created": p.created_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            "CreateCommand": o.create_command,
            "ExitPolicy": o.exit_policy.name(),
            "State": pod::state(&statuses),
            "Hostname": if o.share.contains(&Namespace::Uts) && o.infra { p.hostname() } else { String::new() },
            "Labels": o.labels,
            "CreateCgroup": false,
            "CgroupParent": crate::rootless::cgroup_parent(),
            "CreateInfra": o.infra,
            "InfraContainerID": p.infra_id.clone().unwrap_or_default(),
            "InfraConfig": if o.infra {
                serde_json::json!({
                    "PortBindings": ports,
                    "HostNetwork": network == "host",
                    "StaticIP": "",
                    "StaticMAC": "",
                    "NoManageResolvConf": false,
                    "DNSServer": o.dns.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                    "DNSSearch": o.dns_search,
                    "DNSOption": o.dns_options,
                    "NoManageHosts": false,
                    "HostAdd": o.add_hosts.iter().map(|(h, ip)| format!("{h}:{ip}")).collect::<Vec<_>>(),
                    "Networks": [network],
                    "infra_image": o.infra_image.clone().unwrap_or_default(),
                    "pid_ns": if o.share.contains(&Namespace::Pid) { "pod" } else { "private" },
                    "userns": "host",
                })
            } else {
                serde_json::Value::Null
            },
            "SharedNamespaces": if o.infra { o.share.iter().map(|n| n.name()).collect::<Vec<_>>() } else { Vec::new() },
            "NumContainers": members.len(),
            "Containers": members.iter().map(|c| serde_json::json!({
                "Id": c.id,
                "Name": c.name,
                "State": c.status.as_str(),
            })).collect::<Vec<_>>(),
        }))
    }
}

fn super_new_id() -> String {
    crate::container_ops::new_id()
}
