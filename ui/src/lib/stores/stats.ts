//! Resource usage of running containers. Stats are a time series (CPU % is computed from the
//! backend's previous sample), so unlike the lists they are polled, and only while someone
//! looks at them (the Containers pane); container events also refresh them at once.

import { writable, type Readable } from 'svelte/store';
import type { Backend } from '../backend/backend';
import type { ContainerStats } from '../bindings/ContainerStats';
import type { EngineEvents } from './events';

export interface StatsStore extends Readable<Map<string, ContainerStats>> {
  refresh(): Promise<void>;
  /** Polls every `intervalMs` until the returned function is called (nested calls count). */
  watch(intervalMs?: number): () => void;
  dispose(): void;
}

export function statsStore(backend: Pick<Backend, 'containerStats'>, events?: EngineEvents, debounceMs = 50): StatsStore {
  const state = writable(new Map<string, ContainerStats>());
  let watchers = 0;
  let interval: ReturnType<typeof setInterval> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight = false;
  let last = '';

  async function refresh(): Promise<void> {
    if (inFlight) return;
    inFlight = true;
    try {
      const list = await backend.containerStats();
      // A sample like the last one (idle containers) changes nothing: the rows are not drawn again.
      const key = JSON.stringify(list);
      if (key === last) return;
      last = key;
      state.set(new Map(list.map((s) => [s.id, s])));
    } catch {
      // Stats are decoration: a failed sample keeps the last one; the lists report errors.
    } finally {
      inFlight = false;
    }
  }

  const off = events?.on((event) => {
    if (event.kind !== 'container' || watchers === 0 || timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void refresh();
    }, debounceMs);
  });

  return {
    subscribe: state.subscribe,
    refresh,
    watch(intervalMs = 2000) {
      watchers += 1;
      if (watchers === 1) {
        void refresh();
        // A hidden window (minimised, another tab) skips samples.
        interval = setInterval(() => {
          if (typeof document === 'undefined' || !document.hidden) void refresh();
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
