//! A store holding one list fetched from the backend, refetched when engine events of the
//! kinds it depends on arrive. Refetches are throttled, not delayed: an event after a quiet
//! spell refetches at once (a container started in a terminal shows without waiting out a
//! timer), and the events that follow within `debounceMs` of that fetch's start ride along on
//! one more fetch when the window ends. So a burst costs two fetches, and a steady stream of
//! events refetches at a bounded rate. A refresh asked for while one is in flight runs once
//! more after it, so the last fetch always sees the latest state.

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
  /** Refreshes now, or at the end of the current fetch's throttle window. */
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
  /** When the last fetch began (Date.now()). */
  let lastFetch = -Infinity;

  async function fetchOnce(): Promise<void> {
    lastFetch = Date.now();
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
    const wait = lastFetch + debounceMs - Date.now();
    if (wait <= 0) {
      void refresh();
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      void refresh();
    }, wait);
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
