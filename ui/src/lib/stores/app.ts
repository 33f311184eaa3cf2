//! The app's stores, built on one Backend. `createStores` is what tests use with a fake;
//! `index.ts` builds the one the app uses on the real backend.

import { derived, readable, type Readable } from 'svelte/store';
import type { Backend, ConnectionState } from '../backend/backend';
import type { ContainerSummary } from '../bindings/ContainerSummary';
import type { EngineInfo } from '../bindings/EngineInfo';
import type { ImageSummary } from '../bindings/ImageSummary';
import type { NetworkSummary } from '../bindings/NetworkSummary';
import type { PodSummary } from '../bindings/PodSummary';
import type { VolumeSummary } from '../bindings/VolumeSummary';
import type { FirstPaintProbe } from '../firstPaint';
import { EngineEvents } from './events';
import { resource, type Resource } from './resource';
import { settingsStore, type SettingsStore } from './settings';
import { statsStore, type StatsStore } from './stats';
import { usageStore, type UsageStore } from './usage';

export interface Stores {
  events: EngineEvents;
  containers: Resource<ContainerSummary[]>;
  /** How many containers the list holds, as the sidebar, the status bar and the Containers
   *  pane count them: pods' infra containers apart, as the pane hides them. (The Dashboard
   *  counts what `berth ps -a` lists, infra containers included.) */
  containerCounts: Readable<ContainerCounts>;
  images: Resource<ImageSummary[]>;
  engine: Resource<EngineInfo | null>;
  volumes: Resource<VolumeSummary[]>;
  networks: Resource<NetworkSummary[]>;
  pods: Resource<PodSummary[]>;
  stats: StatsStore;
  /** The host's load and the disk use, for the Dashboard. */
  usage: UsageStore;
  settings: SettingsStore;
  /** The link to the engine (always connected inside the app). */
  connection: Readable<ConnectionState>;
  /** Loads everything once and starts delivering queued events: call when the app mounted.
   *  `probe` hears when the first list of containers is asked for and answered. */
  start(probe?: Pick<FirstPaintProbe, 'listStarted' | 'listed'>): Promise<void>;
  dispose(): void;
}

export interface ContainerCounts {
  /** Whether the list has been read (the counts are 0 until then). */
  loaded: boolean;
  /** Containers, pods' infra containers not counted. */
  total: number;
  /** Of those, the running ones. */
  running: number;
  /** Pods' infra containers. */
  infra: number;
}

/** One pass over the list for the counts the sidebar, the status bar and the pane show. */
export function countContainers(list: readonly ContainerSummary[], loaded: boolean): ContainerCounts {
  const counts = { loaded, total: 0, running: 0, infra: 0 };
  for (const c of list) {
    if (c.podInfra) {
      counts.infra += 1;
      continue;
    }
    counts.total += 1;
    if (c.status === 'running') counts.running += 1;
  }
  return counts;
}

export function createStores(backend: Backend, debounceMs = 50): Stores {
  const events = new EngineEvents(backend);
  events.connect();
  const containers = resource<ContainerSummary[]>({
    initial: [],
    fetch: () => backend.listContainers(),
    events,
    // A row carries its pod's name.
    kinds: ['container', 'pod'],
    // An event about one container changes its row alone: that row is fetched, not the list.
    patch: { fetch: (ids) => backend.containerRows(ids), id: (c) => c.id, accept: (e) => e.kind === 'container' && e.action !== 'resync' },
    debounceMs,
  });
  const containerCounts = derived(containers, (c) => countContainers(c.data, c.loaded));
  // Creating or removing a container changes an image's "in use".
  const images = resource<ImageSummary[]>({
    initial: [],
    fetch: () => backend.listImages(),
    events,
    kinds: ['image', 'container'],
    accept: (e) => e.kind === 'image' || ['create', 'remove', 'resync'].includes(e.action),
    debounceMs,
  });
  // The status bar counts containers from the list above: the engine's info (its images
  // among it) need not be read again on every container event (every container, at 10 000).
  const engine = resource<EngineInfo | null>({
    initial: null,
    fetch: () => backend.engineInfo(),
    events,
    kinds: ['image'],
    debounceMs,
  });
  // A volume's "used by" changes with containers; created/removed volumes have their own events.
  const volumes = resource<VolumeSummary[]>({
    initial: [],
    fetch: () => backend.listVolumes(),
    events,
    // Its rows are shown in its pane, the Dashboard and details only (the sidebar shows its
    // count, which container events do not change): at 10 000 containers, container events
    // do not refetch it while none of them is open.
    lazy: ['container'],
    kinds: ['volume', 'container'],
    accept: (e) => e.kind === 'volume' || ['create', 'remove', 'resync'].includes(e.action),
    debounceMs,
  });
  // A network's members change with containers (made and removed); networks have their own events.
  const networks = resource<NetworkSummary[]>({
    initial: [],
    fetch: () => backend.listNetworks(),
    events,
    // Its rows are shown in its pane, the Dashboard and details only (the sidebar shows its
    // count, which container events do not change): at 10 000 containers, container events
    // do not refetch it while none of them is open.
    lazy: ['container'],
    kinds: ['network', 'container'],
    accept: (e) => e.kind === 'network' || ['create', 'remove', 'resync'].includes(e.action),
    debounceMs,
  });
  // A pod's state and members follow its containers': pods have their own events too.
  const pods = resource<PodSummary[]>({
    initial: [],
    fetch: () => backend.listPods(),
    events,
    // Its rows are shown in its pane, the Dashboard and details only (the sidebar shows its
    // count, which container events do not change): at 10 000 containers, container events
    // do not refetch it while none of them is open.
    lazy: ['container'],
    kinds: ['pod', 'container'],
    debounceMs,
  });
  const stats = statsStore(backend, events, debounceMs);
  const usage = usageStore(backend, events, debounceMs * 10);
  const settings = settingsStore(backend);
  const connection = readable<ConnectionState>('connected', (set) => backend.onConnection?.(set));
  return {
    events,
    containers,
    containerCounts,
    images,
    engine,
    volumes,
    networks,
    pods,
    stats,
    usage,
    settings,
    connection,
    async start(probe) {
      probe?.listStarted();
      const listed = containers.refresh().then(() => probe?.listed());
      const loads = Promise.all([listed, images.refresh(), engine.refresh(), volumes.refresh(), networks.refresh(), pods.refresh()]);
      events.markReady();
      await loads;
    },
    dispose() {
      events.disconnect();
      containers.dispose();
      images.dispose();
      engine.dispose();
      volumes.dispose();
      networks.dispose();
      pods.dispose();
      stats.dispose();
      usage.dispose();
    },
  };
}

/** The current time in unix seconds, ticking once a second while subscribed. */
export const now = readable(Date.now() / 1000, (set) => {
  const t = setInterval(() => set(Date.now() / 1000), 1000);
  return () => clearInterval(t);
});
