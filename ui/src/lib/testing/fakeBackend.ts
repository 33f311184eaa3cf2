//! A Backend for tests: canned answers, call counts, a hand-driven event stream, and builds
//! that stream what a test gives them and end when it says (or when cancelled).

import type { Backend } from '../backend/backend';
import { ApiError } from '../backend/errors';
import type { BuildEvent } from '../bindings/BuildEvent';
import type { BuildRequest } from '../bindings/BuildRequest';
import type { ComposeEvent } from '../bindings/ComposeEvent';
import type { ComposeRequest } from '../bindings/ComposeRequest';
import type { ContainerSummary } from '../bindings/ContainerSummary';
import type { DiskUsage } from '../bindings/DiskUsage';
import type { EngineEvent } from '../bindings/EngineEvent';
import type { FirstPaint } from '../bindings/FirstPaint';
import type { HostStats } from '../bindings/HostStats';
import type { ImageSummary } from '../bindings/ImageSummary';
import type { KubePlayed } from '../bindings/KubePlayed';
import type { KubeRequest } from '../bindings/KubeRequest';
import type { NetworkSummary } from '../bindings/NetworkSummary';
import type { PodSummary } from '../bindings/PodSummary';
import type { Settings } from '../bindings/Settings';
import type { VolumeSummary } from '../bindings/VolumeSummary';

export function container(over: Partial<ContainerSummary> = {}): ContainerSummary {
  const id = over.id ?? 'c'.repeat(64);
  return {
    id,
    shortId: id.slice(0, 12),
    name: 'web',
    image: 'docker.io/library/nginx:latest',
    imageId: 'i'.repeat(64),
    command: 'nginx -g daemon off;',
    status: 'running',
    exitCode: null,
    created: 1_700_000_000,
    startedAt: 1_700_000_010,
    finishedAt: null,
    ports: [],
    error: null,
    composeProject: null,
    composeService: null,
    health: null,
    pod: null,
    podName: null,
    podInfra: false,
    ...over,
  };
}

export function image(over: Partial<ImageSummary> = {}): ImageSummary {
  const id = over.id ?? 'a'.repeat(64);
  return {
    id,
    shortId: id.slice(0, 12),
    repository: 'docker.io/library/alpine',
    tag: 'latest',
    names: ['docker.io/library/alpine:latest'],
    created: 1_700_000_000,
    size: 7_345_678,
    inUse: false,
    containers: 0,
    ...over,
  };
}

export function volume(over: Partial<VolumeSummary> = {}): VolumeSummary {
  const name = over.name ?? 'data';
  return { name, driver: 'local', mountpoint: `/var/lib/berth/volumes/${name}/_data`, created: 1_700_000_000, anonymous: false, usedBy: [], ...over };
}

export function network(over: Partial<NetworkSummary> = {}): NetworkSummary {
  const name = over.name ?? 'backend';
  return {
    name,
    id: over.id ?? `${name}-id`.padEnd(64, '0'),
    driver: 'bridge',
    interface: 'berth1',
    subnet: '10.89.1.0/24',
    gateway: '10.89.1.1',
    dns: true,
    created: 1_700_000_000,
    labels: {},
    members: 0,
    isDefault: false,
    internal: false,
    subnet6: '',
    ...over,
  };
}

export function pod(over: Partial<PodSummary> = {}): PodSummary {
  const id = over.id ?? 'p'.repeat(64);
  return {
    id,
    shortId: id.slice(0, 12),
    name: 'web-pod',
    state: 'Running',
    created: 1_700_000_000,
    containers: 1,
    infraId: 'f'.repeat(64),
    labels: {},
    members: [{ id: 'f'.repeat(64), name: `${id.slice(0, 12)}-infra`, status: 'running', infra: true }],
    ...over,
  };
}

export class FakeBackend {
  containers: ContainerSummary[] = [];
  images: ImageSummary[] = [];
  volumes: VolumeSummary[] = [];
  networks: NetworkSummary[] = [];
  pods: PodSummary[] = [];
  /** The pod verbs called: `start:NAME`, `remove:NAME:force`, ... */
  podCalls: string[] = [];
  settings: Settings = {
    storageRoot: '/var/lib/berth',
    runRoot: '/run/berth',
    registriesConf: '/etc/containers/registries.conf',
    registries: [],
    socket: null,
    version: '0.1.0',
  };
  calls: Record<string, number> = {};
  firstPaints: FirstPaint[] = [];
  disk: DiskUsage = {
    images: { total: 2, active: 1, size: 9_000_000, reclaimable: 4_000_000 },
    containers: { total: 1, active: 1, size: 12_000, reclaimable: 0 },
    volumes: { total: 1, active: 0, size: 2_048, reclaimable: 2_048 },
  };
  host: HostStats = { cpuPercent: 12.5, cpus: 4, memUsed: 2_000_000_000, memTotal: 8_000_000_000 };
  private listeners = new Set<(e: EngineEvent) => void>();
  /** What a build streams after `started`. */
  buildEvents: BuildEvent[] = [];
  /** The requests of every build, in order. */
  buildRequests: BuildRequest[] = [];
  /** The ids cancelBuild was called with. */
  cancelledBuilds: string[] = [];
  /** A build's failure: it rejects with this after streaming its events. */
  buildError: ApiError | null = null;
  private running = new Map<string, { resolve: (i: ImageSummary) => void; reject: (e: ApiError) => void }>();
  /** Every Kubernetes YAML call, in order, with what it was asked. */
  kubeCalls: { verb: 'images' | 'play' | 'down'; request: KubeRequest }[] = [];
  /** The images kubeImages says are missing. */
  kubeMissing: string[] = [];
  /** What playKube made; kubeDown removes these pods' names. */
  kubePlayed: KubePlayed = { pods: [], volumes: [] };
  /** The engine's refusal of the YAML: every Kubernetes YAML call rejects with it. */
  kubeError: ApiError | null = null;
  /** The references pulled, in order. */
  pulled: string[] = [];
  /** The requests of every compose run, in order. */
  composeRequests: ComposeRequest[] = [];
  /** The lines a compose run prints after `started`. */
  composeLines: string[] = [];
  /** The ids cancelCompose was called with. */
  cancelledComposes: string[] = [];
  private composing = new Map<string, { resolve: (v: null) => void; reject: (e: ApiError) => void }>();

  /** Ends the running compose run (the last one) with an exit code: 0 resolves. */
  finishCompose(code = 0) {
    const id = [...this.composing.keys()].pop();
    if (!id) throw new Error('no compose run');
    const run = this.composing.get(id)!;
    this.composing.delete(id);
    if (code === 0) run.resolve(null);
    else run.reject(new ApiError('engine', `berth compose exited with code ${code}: its output says why`));
  }

  /** Ends the running build `build` (the last one when not given) with `result`. */
  finishBuild(result: ImageSummary, build?: string) {
    const id = build ?? [...this.running.keys()].pop();
    if (id === undefined) throw new Error('no build is running');
    this.running.get(id)!.resolve(result);
    this.running.delete(id);
  }

  private count(name: string) {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  private async podVerb(verb: string, name: string): Promise<PodSummary & null> {
    this.count(`${verb.split(':')[0]}Pod`);
    this.podCalls.push(`${verb}:${name}`);
    const p = this.pods.find((p) => p.name === name);
    if (!p) throw new ApiError('not_found', `no pod with name or ID ${name} found`);
    return structuredClone(p) as PodSummary & null;
  }

  emit(event: Partial<EngineEvent> & Pick<EngineEvent, 'kind'>) {
    const full: EngineEvent = { action: 'create', id: 'x', name: null, ...event };
    this.listeners.forEach((l) => l(full));
  }

  get listenerCount() {
    return this.listeners.size;
  }

  backend(): Backend {
    const notUsed = (name: string) => () => Promise.reject(new Error(`${name} not faked`));
    return {
      engineInfo: async () => {
        this.count('engineInfo');
        return { version: '0.1.0', root: '/r', runRoot: '/run', containersRunning: 0, containersTotal: this.containers.length, images: this.images.length, rootless: false };
      },
      diskUsage: async () => {
        this.count('diskUsage');
        return structuredClone(this.disk);
      },
      hostStats: async () => {
        this.count('hostStats');
        return { ...this.host };
      },
      runCommand: async (id) => {
        this.count('runCommand');
        const c = this.containers.find((c) => c.id === id);
        if (!c) throw new ApiError('not_found', `no container ${id}`);
        return `berth run -d --name ${c.name} ${c.image}`;
      },
      listContainers: async () => {
        this.count('listContainers');
        return this.containers.map((c) => ({ ...c }));
      },
      containerRows: async (ids) => {
        this.count('containerRows');
        return this.containers.filter((c) => ids.includes(c.id)).map((c) => ({ ...c }));
      },
      containerStats: async () => {
        this.count('containerStats');
        return this.containers.filter((c) => c.status === 'running').map((c) => ({ id: c.id, cpuPercent: 1.5, memUsage: 1000, memLimit: null, pids: 1 }));
      },
      listImages: async () => {
        this.count('listImages');
        return this.images.map((i) => ({ ...i }));
      },
      onEngineEvent: (cb) => {
        this.listeners.add(cb);
        return () => this.listeners.delete(cb);
      },
      listVolumes: async () => {
        this.count('listVolumes');
        return this.volumes.map((v) => ({ ...v, usedBy: [...v.usedBy] }));
      },
      listNetworks: async () => {
        this.count('listNetworks');
        return this.networks.map((n) => ({ ...n, labels: { ...n.labels } }));
      },
      listPods: async () => {
        this.count('listPods');
        return structuredClone(this.pods);
      },
      startPod: async (name) => this.podVerb('start', name),
      stopPod: async (name) => this.podVerb('stop', name),
      restartPod: async (name) => this.podVerb('restart', name),
      removePod: async (name, force) => {
        await this.podVerb(force ? 'remove:force' : 'remove', name);
        this.pods = this.pods.filter((p) => p.name !== name);
        return null;
      },
      createPod: async (r) => {
        this.count('createPod');
        this.podCalls.push(`create:${JSON.stringify(r)}`);
        const p = pod({ id: `${r.name || 'new'}`.padEnd(64, '0'), name: r.name || 'new', state: 'Created' });
        this.pods.push(p);
        return structuredClone(p);
      },
      getSettings: async () => {
        this.count('getSettings');
        return structuredClone(this.settings);
      },
      setRegistry: async (host, insecure) => {
        this.count('setRegistry');
        const existing = this.settings.registries.find((r) => r.host === host);
        if (existing) existing.insecure = insecure;
        else this.settings.registries.push({ host, insecure, loggedIn: false });
        return structuredClone(this.settings);
      },
      registryLogin: async (host) => {
        this.count('registryLogin');
        const r = this.settings.registries.find((r) => r.host === host);
        if (r) r.loggedIn = true;
        else this.settings.registries.push({ host, insecure: false, loggedIn: true });
        return null;
      },
      registryLogout: async (host) => {
        this.count('registryLogout');
        const r = this.settings.registries.find((r) => r.host === host);
        if (r) r.loggedIn = false;
        return null;
      },
      setSocket: async (enabled) => {
        this.count('setSocket');
        if (!this.settings.socket) throw Object.assign(new Error('the Docker-compatible socket is not available yet'), { code: 'unsupported' });
        this.settings.socket.enabled = enabled;
        return structuredClone(this.settings);
      },
      reportFirstPaint: async (report) => {
        this.count('reportFirstPaint');
        this.firstPaints.push(structuredClone(report));
        return null;
      },
      startContainer: notUsed('startContainer'),
      stopContainer: notUsed('stopContainer'),
      restartContainer: notUsed('restartContainer'),
      buildImage: (request, onProgress) => {
        this.count('buildImage');
        this.buildRequests.push(structuredClone(request));
        const build = `build-${this.buildRequests.length}`;
        onProgress({ type: 'started', build });
        this.buildEvents.forEach((e) => onProgress(e));
        if (this.buildError) return Promise.reject(this.buildError);
        return new Promise<ImageSummary>((resolve, reject) => this.running.set(build, { resolve, reject }));
      },
      cancelBuild: async (build) => {
        this.count('cancelBuild');
        this.cancelledBuilds.push(build);
        this.running.get(build)?.reject(new ApiError('cancelled', 'the build was cancelled'));
        this.running.delete(build);
        return null;
      },
      kubeImages: async (request) => {
        this.kubeCalls.push({ verb: 'images', request: structuredClone(request) });
        if (this.kubeError) throw this.kubeError;
        return [...this.kubeMissing];
      },
      playKube: async (request) => {
        this.kubeCalls.push({ verb: 'play', request: structuredClone(request) });
        if (this.kubeError) throw this.kubeError;
        return structuredClone(this.kubePlayed);
      },
      kubeDown: async (request) => {
        this.kubeCalls.push({ verb: 'down', request: structuredClone(request) });
        if (this.kubeError) throw this.kubeError;
        return this.kubePlayed.pods.map((p) => p.name);
      },
      runCompose: (request, onProgress: (e: ComposeEvent) => void) => {
        this.count('runCompose');
        this.composeRequests.push(structuredClone(request));
        const run = `compose-${this.composeRequests.length}`;
        onProgress({ type: 'started', run, command: `berth compose -f ${request.file} ${request.action === 'up' ? 'up -d' : 'down'}` });
        this.composeLines.forEach((line) => onProgress({ type: 'output', line }));
        return new Promise<null>((resolve, reject) => this.composing.set(run, { resolve, reject }));
      },
      cancelCompose: async (run) => {
        this.cancelledComposes.push(run);
        this.composing.get(run)?.reject(new ApiError('cancelled', 'berth compose was cancelled'));
        this.composing.delete(run);
        return null;
      },
      removeContainer: notUsed('removeContainer'),
      inspectContainer: notUsed('inspectContainer'),
      containerHealth: notUsed('containerHealth'),
      runHealthcheck: notUsed('runHealthcheck'),
      containerLogs: notUsed('containerLogs'),
      imageDetails: notUsed('imageDetails'),
      pullImage: async (reference, onProgress) => {
        this.pulled.push(reference);
        onProgress({ type: 'started', pull: `pull-${this.pulled.length}` });
        onProgress({ type: 'resolved', reference, manifestDigest: 'sha256:' + 'm'.repeat(64), layers: [{ digest: 'sha256:' + 'l'.repeat(64), size: 1000 }] });
        onProgress({ type: 'layer', reference, digest: 'sha256:' + 'l'.repeat(64), phase: 'done', current: 1000, total: 1000 });
        return image({ names: [reference] });
      },
      cancelPull: notUsed('cancelPull'),
      pushImage: notUsed('pushImage'),
      exportContainer: notUsed('exportContainer'),
      inspectImage: notUsed('inspectImage'),
      imageHistory: notUsed('imageHistory'),
      saveImage: notUsed('saveImage'),
      loadImage: notUsed('loadImage'),
      importImage: notUsed('importImage'),
      removeImage: notUsed('removeImage'),
      freePort: notUsed('freePort'),
      createContainer: notUsed('createContainer'),
      containerCreateRequest: notUsed('containerCreateRequest'),
      listFiles: notUsed('listFiles'),
      readFile: notUsed('readFile'),
      downloadFiles: notUsed('downloadFiles'),
      uploadFile: notUsed('uploadFile'),
      logWindow: notUsed('logWindow'),
      followLogs: notUsed('followLogs'),
      stopFollow: notUsed('stopFollow'),
      searchLogs: notUsed('searchLogs'),
      openTerminal: notUsed('openTerminal'),
      terminalInput: notUsed('terminalInput'),
      terminalResize: notUsed('terminalResize'),
      closeTerminal: notUsed('closeTerminal'),
      createVolume: notUsed('createVolume'),
      removeVolume: notUsed('removeVolume'),
      pruneVolumes: notUsed('pruneVolumes'),
      networkDetails: notUsed('networkDetails'),
      inspectNetwork: notUsed('inspectNetwork'),
      createNetwork: notUsed('createNetwork'),
      removeNetwork: notUsed('removeNetwork'),
      pruneNetworks: notUsed('pruneNetworks'),
      inspectPod: notUsed('inspectPod'),
      prunePods: notUsed('prunePods'),
    };
  }
}
