//! The one seam between the UI and the engine. Components and stores talk to a `Backend`;
//! `tauri.ts` implements it over Tauri IPC inside the app, `http.ts` over `berth-desktop --serve`
//! in a plain browser. Method names mirror the contract's commands (scratch/app-contract.md).

import type { BuildEvent } from '../bindings/BuildEvent';
import type { ComposeEvent } from '../bindings/ComposeEvent';
import type { ComposeRequest } from '../bindings/ComposeRequest';
import type { KubePlayed } from '../bindings/KubePlayed';
import type { KubeRequest } from '../bindings/KubeRequest';
import type { BuildRequest } from '../bindings/BuildRequest';
import type { ContainerHealth } from '../bindings/ContainerHealth';
import type { ContainerStats } from '../bindings/ContainerStats';
import type { ContainerSummary } from '../bindings/ContainerSummary';
import type { CreateRequest } from '../bindings/CreateRequest';
import type { DiskUsage } from '../bindings/DiskUsage';
import type { EngineEvent } from '../bindings/EngineEvent';
import type { EngineInfo } from '../bindings/EngineInfo';
import type { FileContent } from '../bindings/FileContent';
import type { FileDownload } from '../bindings/FileDownload';
import type { FileEntry } from '../bindings/FileEntry';
import type { FileSource } from '../bindings/FileSource';
import type { FirstPaint } from '../bindings/FirstPaint';
import type { HistoryRow } from '../bindings/HistoryRow';
import type { HostStats } from '../bindings/HostStats';
import type { ImageDetails } from '../bindings/ImageDetails';
import type { ImageSummary } from '../bindings/ImageSummary';
import type { LogLine } from '../bindings/LogLine';
import type { LogBatch } from '../bindings/LogBatch';
import type { LogCursor } from '../bindings/LogCursor';
import type { LogMatch } from '../bindings/LogMatch';
import type { LoadedImage } from '../bindings/LoadedImage';
import type { LogPage } from '../bindings/LogPage';
import type { NetworkDetails } from '../bindings/NetworkDetails';
import type { NetworkSummary } from '../bindings/NetworkSummary';
import type { PodSummary } from '../bindings/PodSummary';
import type { PullEvent } from '../bindings/PullEvent';
import type { PushEvent } from '../bindings/PushEvent';
import type { Pushed } from '../bindings/Pushed';
import type { SaveFormat } from '../bindings/SaveFormat';
import type { Settings } from '../bindings/Settings';
import type { TerminalOutput } from '../bindings/TerminalOutput';
import type { VolumeSummary } from '../bindings/VolumeSummary';

export type Protocol = 'tcp' | 'udp';

/** The Create pod form, as `create_pod` takes it. */
export interface CreatePodRequest {
  name: string;
  labels: string[];
  ports: string[];
  share: string;
  hostname: string;
}

export interface Backend {
  engineInfo(): Promise<EngineInfo>;
  /** `berth system df`: images, containers and volumes, in use or not, and their bytes. */
  diskUsage(): Promise<DiskUsage>;
  /** The host's CPU since the previous call (percent of all its CPUs) and memory in use. */
  hostStats(): Promise<HostStats>;
  listContainers(): Promise<ContainerSummary[]>;
  /** The rows of these containers (full ids) as they are now; one without a row is gone. */
  containerRows(ids: string[]): Promise<ContainerSummary[]>;
  containerStats(): Promise<ContainerStats[]>;
  startContainer(id: string): Promise<ContainerSummary>;
  stopContainer(id: string, timeout?: number): Promise<ContainerSummary>;
  restartContainer(id: string): Promise<ContainerSummary>;
  removeContainer(id: string, force: boolean): Promise<null>;
  inspectContainer(id: string): Promise<unknown>;
  /** The `berth run -d` line that makes the container again, shell-quoted. */
  runCommand(id: string): Promise<string>;
  /** The container's healthcheck and its last results (newest first); null without a check. */
  containerHealth(id: string): Promise<ContainerHealth | null>;
  /** Runs the container's check now (and its on-failure action); the health after it. */
  runHealthcheck(id: string): Promise<ContainerHealth | null>;
  /** Writes the container's files as one tar into `path` (absolute or `~/…`), whole or not at all. */
  exportContainer(id: string, path: string): Promise<null>;
  containerLogs(id: string, tail?: number): Promise<LogLine[]>;
  listImages(): Promise<ImageSummary[]>;
  imageDetails(reference: string): Promise<ImageDetails>;
  /** The object `berth image inspect` prints. */
  inspectImage(reference: string): Promise<unknown>;
  /** The image's history, newest first, as `berth history` lists it. */
  imageHistory(reference: string): Promise<HistoryRow[]>;
  /** Writes the image (an id or a name: a name is kept in the archive) into `path`. */
  saveImage(id: string, path: string, format: SaveFormat): Promise<null>;
  /** Stores every image of the archive at `path`. */
  loadImage(path: string): Promise<LoadedImage[]>;
  /** Makes a one-layer image of the tarball at `path`; `changes` are Dockerfile instructions. */
  importImage(path: string, reference: string | null, changes: string[], message: string | null): Promise<ImageSummary>;
  /**
   * Pulls `reference`; `onProgress` receives every PullEvent of this pull, in order: `started`
   * first (the id `cancelPull` takes). A cancelled pull rejects with the code `cancelled`.
   */
  pullImage(reference: string, onProgress: (event: PullEvent) => void): Promise<ImageSummary>;
  /** Stops the pull of that `started` id and removes its partial downloads; one that ended is not an error. */
  cancelPull(pull: string): Promise<null>;
  /**
   * Pushes the image `id` to `destination` (a registry reference, `dir:PATH`, `oci:PATH[:TAG]`;
   * null: its own name) with the credentials of Settings; `onProgress` receives every PushEvent.
   * `tlsVerify` false pushes over plain HTTP; null leaves it to the registries' settings.
   */
  pushImage(id: string, destination: string | null, tlsVerify: boolean | null, onProgress: (event: PushEvent) => void): Promise<Pushed>;
  /**
   * Builds an image from a Containerfile; `onProgress` receives every BuildEvent: `started`
   * first (the id `cancelBuild` takes), then each step, the RUN output, and the tags. A
   * cancelled build rejects with the code `cancelled`.
   */
  buildImage(request: BuildRequest, onProgress: (event: BuildEvent) => void): Promise<ImageSummary>;
  /** Stops the build of that `started` id; one that ended already is not an error. */
  cancelBuild(build: string): Promise<null>;
  /** The images the Kubernetes YAML's containers run that the engine lacks (to pull first);
   *  rejects with the engine's reading of the YAML (the document and the reason). */
  kubeImages(request: KubeRequest): Promise<string[]>;
  /** `berth kube play`: the YAML's volumes, pods and containers (its images must be here). */
  playKube(request: KubeRequest): Promise<KubePlayed>;
  /** `berth kube down`: removes the YAML's pods that are here; their names. */
  kubeDown(request: KubeRequest): Promise<string[]>;
  /**
   * `berth compose -f FILE up -d` (or `down`); `onProgress` receives `started` first (the id
   * `cancelCompose` takes), then each line the provider prints. Rejects when it exits non-zero,
   * with the code `cancelled` when cancelled.
   */
  runCompose(request: ComposeRequest, onProgress: (event: ComposeEvent) => void): Promise<null>;
  /** Stops the compose run of that `started` id; one that ended already is not an error. */
  cancelCompose(run: string): Promise<null>;
  removeImage(id: string, force: boolean): Promise<null>;
  freePort(protocol: Protocol, preferred?: number): Promise<number>;
  /**
   * Creates a container from the form. With `base` (a container) the form is laid over its
   * recorded options (Clone); with `replace` too, that stopped container is replaced (Edit).
   */
  createContainer(request: CreateRequest, base?: { id: string; replace: boolean }): Promise<ContainerSummary>;
  /** The create form filled from a container's recorded options (Clone: named NAME-copy; Edit: its name). */
  containerCreateRequest(id: string, edit: boolean): Promise<CreateRequest>;

  /** A directory of a container's or a volume's files: directories first. */
  listFiles(source: FileSource, path: string): Promise<FileEntry[]>;
  /** A regular file for the read-only viewer (at most 1 MiB; binary detected). */
  readFile(source: FileSource, path: string): Promise<FileContent>;
  /** A tar of a file or directory (at most 64 MiB), base64. */
  downloadFiles(source: FileSource, path: string): Promise<FileDownload>;
  /** Writes a file (base64, at most 16 MiB) into the directory `path`. */
  uploadFile(source: FileSource, path: string, name: string, dataBase64: string): Promise<null>;

  /** The `limit` log lines ending just before `before` (null: the end of the log). */
  logWindow(id: string, before: LogCursor | null, limit: number, timestamps: boolean): Promise<LogPage>;
  /** Streams lines written from `from` (null: the current end) in batches; returns the subscription. */
  followLogs(id: string, from: LogCursor | null, onLines: (batch: LogBatch) => void): Promise<string>;
  stopFollow(subscription: string): Promise<null>;
  /** Searches the whole log on the engine's side. */
  searchLogs(id: string, query: string, options: LogSearchOptions): Promise<LogMatch[]>;

  /** A shell in the running container on a pseudo-terminal; returns the session. */
  openTerminal(id: string, cols: number, rows: number, onOutput: (output: TerminalOutput) => void): Promise<string>;
  terminalInput(session: string, data: string): Promise<null>;
  terminalResize(session: string, cols: number, rows: number): Promise<null>;
  closeTerminal(session: string): Promise<null>;

  listVolumes(): Promise<VolumeSummary[]>;
  createVolume(name: string | null): Promise<VolumeSummary>;
  removeVolume(name: string, force: boolean): Promise<null>;
  /** Removes every volume no container uses; returns their names. */
  pruneVolumes(): Promise<string[]>;

  listNetworks(): Promise<NetworkSummary[]>;
  /** The network (a name or an id) and its members, by address. */
  networkDetails(name: string): Promise<NetworkDetails>;
  /** The object `berth network inspect` prints, with the members under `containers`. */
  inspectNetwork(name: string): Promise<unknown>;
  /** Blank subnet and gateway: the engine's choice; labels are `KEY=VALUE`. */
  createNetwork(
    name: string,
    subnet: string | null,
    gateway: string | null,
    labels: string[],
    internal?: boolean,
    ipv6?: boolean,
  ): Promise<NetworkSummary>;
  /** Refused for the default network and while containers are on it. */
  removeNetwork(name: string): Promise<null>;
  /** Removes every network but the default that no container is on; returns their names. */
  pruneNetworks(): Promise<string[]>;

  /** Every pod with its state and containers (the infra one included). */
  listPods(): Promise<PodSummary[]>;
  /** The object `berth pod inspect` prints. */
  inspectPod(name: string): Promise<unknown>;
  /** Blank name, share, hostname: `pod create`'s defaults; ports as `-p`, labels `KEY=VALUE`. */
  createPod(request: CreatePodRequest): Promise<PodSummary>;
  startPod(name: string): Promise<PodSummary>;
  stopPod(name: string): Promise<PodSummary>;
  restartPod(name: string): Promise<PodSummary>;
  /** Without force, refused while a container of the pod runs. */
  removePod(name: string, force: boolean): Promise<null>;
  /** Removes every pod none of whose containers run; returns their ids. */
  prunePods(): Promise<string[]>;

  getSettings(): Promise<Settings>;
  setRegistry(host: string, insecure: boolean): Promise<Settings>;
  registryLogin(host: string, username: string, password: string): Promise<null>;
  registryLogout(host: string): Promise<null>;
  setSocket(enabled: boolean): Promise<Settings>;
  /** The Containers pane's first paint, for the app's log and the benchmark (`firstPaint.ts`). */
  reportFirstPaint(report: FirstPaint): Promise<null>;

  /** Subscribes to the engine's state invalidations; returns the unsubscribe function. */
  onEngineEvent(cb: (event: EngineEvent) => void): () => void;
  /** Subscribes to the link to the engine, for a transport that can lose it (the browser's):
   *  `cb` gets the current state at once and every change. Absent: always connected. */
  onConnection?(cb: (state: ConnectionState) => void): () => void;
}

/** The link to the engine: up; lost and being retried; or refused (the token is not the
 *  server's any more, as after `berth-desktop --serve` restarted). */
export type ConnectionState = 'connected' | 'disconnected' | 'unauthorized';

export interface LogSearchOptions {
  regex: boolean;
  caseSensitive: boolean;
  limit: number;
}

/** Sends one contract command with its (camelCase) arguments; rejects with an ApiError. */
export type Invoke = (command: string, args: Record<string, unknown>) => Promise<unknown>;

/** A per-call channel: `arg` goes into the command's arguments, `close` stops delivery. */
export interface OpenChannel {
  arg: unknown;
  close(): void;
}

/** What a transport provides: commands, and channels for the commands that stream. */
export interface Transport {
  invoke: Invoke;
  /** Opens a channel whose messages go to `onMessage` until closed. */
  channel<T>(onMessage: (message: T) => void): Promise<OpenChannel>;
}

/**
 * The command methods of a Backend on top of a transport, so both transports agree on names,
 * argument keys and channel lifetimes. Engine events differ per transport and are added by each.
 *
 * Channel lifetimes: a pull's (a push's, a build's) ends when the pull (the push, the build) returns; a log follow's when `stopFollow` is
 * called for its subscription; a terminal's when `closeTerminal` is called or it says `exited`.
 */
export function commandMethods(transport: Transport): Omit<Backend, 'onEngineEvent' | 'onConnection'> {
  const { invoke } = transport;
  const call = <T>(command: string, args: Record<string, unknown> = {}) => invoke(command, args) as Promise<T>;
  const open = new Map<string, OpenChannel>();

  async function streaming<T>(
    command: string,
    args: Record<string, unknown>,
    key: string,
    onMessage: (message: T) => void,
    isLast: (message: T) => boolean = () => false,
  ): Promise<string> {
    let id: string | null = null;
    let ended = false;
    const channel = await transport.channel<T>((message) => {
      onMessage(message);
      if (isLast(message)) {
        ended = true;
        if (id !== null) open.delete(id);
        channel.close();
      }
    });
    try {
      id = (await invoke(command, { ...args, [key]: channel.arg })) as string;
    } catch (e) {
      channel.close();
      throw e;
    }
    if (!ended) open.set(id, channel);
    return id;
  }

  async function closing(id: string, command: string, args: Record<string, unknown>): Promise<null> {
    try {
      return await call<null>(command, args);
    } finally {
      open.get(id)?.close();
      open.delete(id);
    }
  }

  return {
    engineInfo: () => call('engine_info'),
    diskUsage: () => call('disk_usage'),
    hostStats: () => call('host_stats'),
    listContainers: () => call('list_containers'),
    containerRows: (ids) => call('container_rows', { ids }),
    containerStats: () => call('container_stats'),
    startContainer: (id) => call('start_container', { id }),
    stopContainer: (id, timeout) => call('stop_container', timeout === undefined ? { id } : { id, timeout }),
    restartContainer: (id) => call('restart_container', { id }),
    removeContainer: (id, force) => call('remove_container', { id, force }),
    inspectContainer: (id) => call('inspect_container', { id }),
    runCommand: (id) => call('run_command', { id }),
    containerHealth: (id) => call('container_health', { id }),
    runHealthcheck: (id) => call('run_healthcheck', { id }),
    exportContainer: (id, path) => call('export_container', { id, path }),
    containerLogs: (id, tail) => call('container_logs', tail === undefined ? { id } : { id, tail }),
    listImages: () => call('list_images'),
    imageDetails: (reference) => call('image_details', { reference }),
    inspectImage: (reference) => call('inspect_image', { reference }),
    imageHistory: (reference) => call('image_history', { reference }),
    saveImage: (id, path, format) => call('save_image', { id, path, format }),
    loadImage: (path) => call('load_image', { path }),
    importImage: (path, reference, changes, message) => call('import_image', { path, reference, changes, message }),
    async pullImage(reference, onProgress) {
      const channel = await transport.channel<PullEvent>(onProgress);
      try {
        return (await invoke('pull_image', { reference, onProgress: channel.arg })) as ImageSummary;
      } finally {
        channel.close();
      }
    },
    cancelPull: (pull) => call('cancel_pull', { pull }),
    async pushImage(id, destination, tlsVerify, onProgress) {
      const channel = await transport.channel<PushEvent>(onProgress);
      try {
        return (await invoke('push_image', { id, destination, tlsVerify, onProgress: channel.arg })) as Pushed;
      } finally {
        channel.close();
      }
    },
    async buildImage(request, onProgress) {
      const channel = await transport.channel<BuildEvent>(onProgress);
      try {
        return (await invoke('build_image', { request, onProgress: channel.arg })) as ImageSummary;
      } finally {
        channel.close();
      }
    },
    cancelBuild: (build) => call('cancel_build', { build }),
    kubeImages: (request) => call('kube_images', { request }),
    playKube: (request) => call('play_kube', { request }),
    kubeDown: (request) => call('kube_down', { request }),
    async runCompose(request, onProgress) {
      const channel = await transport.channel<ComposeEvent>(onProgress);
      try {
        return (await invoke('run_compose', { request, onProgress: channel.arg })) as null;
      } finally {
        channel.close();
      }
    },
    cancelCompose: (run) => call('cancel_compose', { run }),
    removeImage: (id, force) => call('remove_image', { id, force }),
    freePort: (protocol, preferred) =>
      call('free_port', preferred === undefined ? { protocol } : { protocol, preferred }),
    createContainer: (request, base) =>
      call('create_container', base ? { request, base: base.id, replace: base.replace } : { request }),
    containerCreateRequest: (id, edit) => call('container_create_request', { id, edit }),
    listFiles: (source, path) => call('list_files', { source, path }),
    readFile: (source, path) => call('read_file', { source, path }),
    downloadFiles: (source, path) => call('download_files', { source, path }),
    uploadFile: (source, path, name, dataBase64) => call('upload_file', { source, path, name, dataBase64 }),

    logWindow: (id, before, limit, timestamps) => call('log_window', { id, before, limit, timestamps }),
    followLogs: (id, from, onLines) => streaming<LogBatch>('follow_logs', { id, from }, 'onLines', onLines),
    stopFollow: (subscription) => closing(subscription, 'stop_follow', { subscription }),
    searchLogs: (id, query, o) =>
      call('search_logs', { id, query, regex: o.regex, caseSensitive: o.caseSensitive, limit: o.limit }),

    openTerminal: (id, cols, rows, onOutput) =>
      streaming<TerminalOutput>('open_terminal', { id, cols, rows }, 'onOutput', onOutput, (m) => 'exited' in m),
    terminalInput: (session, data) => call('terminal_input', { session, data }),
    terminalResize: (session, cols, rows) => call('terminal_resize', { session, cols, rows }),
    closeTerminal: (session) => closing(session, 'close_terminal', { session }),

    listVolumes: () => call('list_volumes'),
    createVolume: (name) => call('create_volume', { name }),
    removeVolume: (name, force) => call('remove_volume', { name, force }),
    pruneVolumes: () => call('prune_volumes'),

    listNetworks: () => call('list_networks'),
    networkDetails: (name) => call('network_details', { name }),
    inspectNetwork: (name) => call('inspect_network', { name }),
    createNetwork: (name, subnet, gateway, labels, internal = false, ipv6 = false) =>
      call('create_network', { name, subnet, gateway, labels, internal, ipv6 }),
    removeNetwork: (name) => call('remove_network', { name }),
    pruneNetworks: () => call('prune_networks'),

    listPods: () => call('list_pods'),
    inspectPod: (name) => call('inspect_pod', { name }),
    createPod: (r) => call('create_pod', { name: r.name, labels: r.labels, ports: r.ports, share: r.share, hostname: r.hostname }),
    startPod: (name) => call('start_pod', { name }),
    stopPod: (name) => call('stop_pod', { name }),
    restartPod: (name) => call('restart_pod', { name }),
    removePod: (name, force) => call('remove_pod', { name, force }),
    prunePods: () => call('prune_pods'),

    getSettings: () => call('get_settings'),
    setRegistry: (host, insecure) => call('set_registry', { host, insecure }),
    registryLogin: (host, username, password) => call('registry_login', { host, username, password }),
    registryLogout: (host) => call('registry_logout', { host }),
    setSocket: (enabled) => call('set_socket', { enabled }),
    reportFirstPaint: (report) => call('report_first_paint', { report }),
  };
}
