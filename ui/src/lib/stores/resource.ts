//! A store holding one list fetched from the backend, refetched when engine events of the
//! kinds it depends on arrive. Events are coalesced: the first one starts a short timer
//! (debounceMs) and every event until it fires rides along, so a burst costs one fetch and a
//! steady stream of events still refetches at a bounded rate. A refresh asked for while one is
//! in flight runs once more after it, so the last fetch always sees the latest state.

import { writable, type Readable } from 'svelte/store';
import { errorMessage } from '../backend/errors';
import type { EngineEvent } from '../bindings/EngineEvent';
import type { EngineEvents, EventKind } from './events';

export interface ResourceState<T> {
  data: T;
  /** True once a fetch succeeded. */
  loaded: boolean;
  /** The last fetch's error, cleared by the next success. */
  error: string | null;
}

export interface Resource<T> extends Readable<ResourceState<T>> {
  /** Fetches now (or once more after the fetch in flight). */
  refresh(): Promise<void>;
  /** Schedules a debounced refresh. */
  invalidate(): void;
  dispose(): void;
}

export interface ResourceOptions<T> {
  initial: T;
  fetch: () => Promise<T>;
  events?: EngineEvents;
  kinds?: EventKind[];
  /** Only events for which this returns true invalidate (default: all of `kinds`). */
  accept?: (event: EngineEvent) => boolean;
  debounceMs?: number;
}

export function resource<T>(options: ResourceOptions<T>): Resource<T> {
  const debounceMs = options.debounceMs ?? 50;
  const state = writable<ResourceState<T>>({ data: options.initial, loaded: false, error: null });
  let inFlight: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let disposed = false;

  async function fetchOnce(): Promise<void> {
    try {
      const data = await options.fetch();
      if (!disposed) state.set({ data, loaded: true, error: null });
    } catch (e) {
      if (!disposed) state.update((s) => ({ ...s, error: errorMessage(e) }));
    }
  }

  function refresh(): Promise<void> {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        await fetchOnce();
      } while (again && !disposed);
      inFlight = null;
    })();
    return inFlight;
  }

  function invalidate(): void {
    if (timer !== null || disposed) return;
    timer = setTimeout(() => {
      timer = null;
      void refresh();
    }, debounceMs);
  }

  const kinds = new Set(options.kinds ?? []);
  const off = options.events?.on((event) => {
    if (!kinds.has(event.kind)) return;
    if (options.accept && !options.accept(event)) return;
    invalidate();
  });

  return {
    subscribe: state.subscribe,
    refresh,
    invalidate,
    dispose() {
      disposed = true;
      off?.();
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
