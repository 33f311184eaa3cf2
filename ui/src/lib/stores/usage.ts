//! The Dashboard's live figures: the host's CPU and memory, polled like the containers' stats
//! (the same interval, only while someone watches, skipped while the window is hidden), and the
//! disk use (`berth system df`), fetched when watching starts and again after engine events of
//! images, containers and volumes (debounced: a disk walk is not free), never on a timer.

import { writable, type Readable } from 'svelte/store';
import type { Backend } from '../backend/backend';
import { errorMessage } from '../backend/errors';
import type { DiskUsage } from '../bindings/DiskUsage';
import type { HostStats } from '../bindings/HostStats';
import type { EngineEvents } from './events';

export interface Usage {
  host: HostStats | null;
  disk: DiskUsage | null;
  /** The last failure of either fetch, cleared by the next success. */
  error: string | null;
}

export interface UsageStore extends Readable<Usage> {
  /** Polls the host every `intervalMs` and follows the disk until the returned function is called. */
  watch(intervalMs?: number): () => void;
  dispose(): void;
}

export function usageStore(backend: Pick<Backend, 'hostStats' | 'diskUsage'>, events?: EngineEvents, debounceMs = 500): UsageStore {
  const state = writable<Usage>({ host: null, disk: null, error: null });
  let watchers = 0;
  let interval: ReturnType<typeof setInterval> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let hostInFlight = false;
  let diskInFlight = false;

  async function host(): Promise<void> {
    if (hostInFlight) return;
    hostInFlight = true;
    try {
      const h = await backend.hostStats();
      state.update((s) => ({ ...s, host: h, error: null }));
    } catch (e) {
      state.update((s) => ({ ...s, error: errorMessage(e) }));
    } finally {
      hostInFlight = false;
    }
  }

  async function disk(): Promise<void> {
    if (diskInFlight) return;
    diskInFlight = true;
    try {
      const d = await backend.diskUsage();
      state.update((s) => ({ ...s, disk: d, error: null }));
    } catch (e) {
      state.update((s) => ({ ...s, error: errorMessage(e) }));
    } finally {
      diskInFlight = false;
    }
  }

  const off = events?.on((event) => {
    if (watchers === 0 || timer !== null || !['image', 'container', 'volume'].includes(event.kind)) return;
    timer = setTimeout(() => {
      timer = null;
      if (watchers > 0) void disk();
    }, debounceMs);
  });

  return {
    subscribe: state.subscribe,
    watch(intervalMs = 2000) {
      watchers += 1;
      if (watchers === 1) {
        void host();
        void disk();
        interval = setInterval(() => {
          if (typeof document === 'undefined' || !document.hidden) void host();
        }, intervalMs);
      }
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        watchers -= 1;
        if (watchers === 0 && interval !== null) {
          clearInterval(interval);
          interval = null;
        }
      };
    },
    dispose() {
      off?.();
      if (interval !== null) clearInterval(interval);
      if (timer !== null) clearTimeout(timer);
    },
  };
}
