//! A store holding one list fetched from the backend, refetched when engine events of the
//! kinds it depends on arrive. Refetches are throttled, not delayed: an event after a quiet
//! spell refetches at once (a container started in a terminal shows without waiting out a
//! timer), and the events that follow within `debounceMs` of that fetch's start ride along on
//! one more fetch when the window ends. So a burst costs two fetches, and a steady stream of
//! events refetches at a bounded rate. A refresh asked for while one is in flight runs once
//! more after it, so the last fetch always sees the latest state.
//!
//! A list of rows with ids can be patched instead (`patch`): an event about one row fetches
//! that row alone (at 10 000 containers the whole list is megabytes of JSON), on the same
//! throttle. Every fetch takes a number when it starts, and a row is written only by a fetch
//! newer than the one that wrote it last, so a slow whole-list fetch that began before an
//! event never brings back the row's old state, nor a row that was removed since.
//!
//! A `lazy` store (a pane's list that nothing else shows) only marks itself stale on the
//! events of its `lazy` kinds (another kind's, which change what its rows say but not how many
//! there are) while nobody subscribes, and refetches when the pane subscribes again. Its
//! `count` (the sidebar's) can be watched without that.

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
  /** How many items the list holds (0 for data that is no list); watching it is not watching
   *  the list (`lazy`). */
  count: Readable<number>;
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
  /** Events of `kinds` that this accepts patch the rows they name instead of refetching. */
  patch?: T extends (infer R)[] ? RowPatches<R> : never;
  /** Events of these kinds refetch only while the list is subscribed to; otherwise it is
   *  fetched when next subscribed to. */
  lazy?: EventKind[];
}

export interface RowPatches<R> {
  /** The rows of `ids` as they are now; an id without a row is gone. */
  fetch: (ids: string[]) => Promise<R[]>;
  id: (row: R) => string;
  /** Whether an event is about its row alone (its `id`); others refetch the list. */
  accept: (event: EngineEvent) => boolean;
  /** More ids than this waiting at once refetch the list instead (default 100). */
  max?: number;
}

export function resource<T>(options: ResourceOptions<T>): Resource<T> {
  const debounceMs = options.debounceMs ?? 50;
  let watched = false;
  let stale = false;
  const state = writable<ResourceState<T>>({ data: options.initial, loaded: false, error: null }, () => {
    watched = true;
    if (stale) invalidate();
    return () => {
      watched = false;
    };
  });
  // Kept by every change of the state, not by subscribing to it (that would be watching it).
  const count = writable(0);
  const change = (f: (s: ResourceState<T>) => ResourceState<T>) =>
    state.update((s) => {
      const next = f(s);
      count.set(Array.isArray(next.data) ? next.data.length : 0);
      return next;
    });
  let inFlight: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let disposed = false;
  /** When the last fetch began (Date.now()). */
  let lastFetch = -Infinity;
  const rows = options.patch as RowPatches<unknown> | undefined;
  /** Ids waiting for a row patch, and whether one runs. */
  const waiting = new Set<string>();
  let patching: Promise<void> | null = null;
  /** Fetches are numbered as they start; `base` is the number of the list shown, `written`
   *  the number of the patch that wrote a row (or removed it) after it. */
  let started = 0;
  let base = 0;
  const written = new Map<string, number>();

  async function fetchOnce(): Promise<void> {
    lastFetch = Date.now();
    stale = false;
    const n = ++started;
    try {
      const data = await options.fetch();
      if (disposed) return;
      change((s) => ({ data: rows ? (mergeList(s.data as unknown[], data as unknown[], n) as T) : data, loaded: true, error: null }));
    } catch (e) {
      if (!disposed) change((s) => ({ ...s, error: errorMessage(e) }));
    }
  }

  /** The list fetched as fetch number `n`, with the rows patched by newer fetches kept. */
  function mergeList(shown: unknown[], fetched: unknown[], n: number): unknown[] {
    const id = rows!.id;
    base = n;
    const newer = new Set<string>();
    for (const [key, at] of written) {
      if (at > n) newer.add(key);
      else written.delete(key);
    }
    if (newer.size === 0) return fetched;
    const kept = fetched.filter((r) => !newer.has(id(r)));
    return [...shown.filter((r) => newer.has(id(r))), ...kept];
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
      void run();
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      void run();
    }, wait);
  }

  /** What the throttle window's end does: patch the rows asked for, or fetch the list. */
  function run(): Promise<void> {
    if (waiting.size > 0 && !stale && waiting.size <= (rows?.max ?? 100)) return patchRows();
    waiting.clear();
    return refresh();
  }

  function patchRows(): Promise<void> {
    if (patching) return patching;
    patching = (async () => {
      while (waiting.size > 0 && !disposed) {
        const ids = [...waiting];
        waiting.clear();
        lastFetch = Date.now();
        const n = ++started;
        let got: unknown[];
        try {
          got = await rows!.fetch(ids);
        } catch {
          // The list says it all again (and any error it meets).
          if (!disposed) void refresh();
          break;
        }
        if (!disposed) change((s) => ({ ...s, data: patchList(s.data as unknown[], ids, got, n) as T }));
      }
      patching = null;
    })();
    return patching;
  }

  /** `shown` with the rows of `ids` as patch number `n` found them, where it is the newest. */
  function patchList(shown: unknown[], ids: string[], got: unknown[], n: number): unknown[] {
    const id = rows!.id;
    const fresh = new Map(got.map((r) => [id(r), r]));
    const mine = new Set(ids.filter((key) => n > (written.get(key) ?? base)));
    if (mine.size === 0) return shown;
    // Only a list already on its way can be older than this patch: kept for it alone.
    if (inFlight) for (const key of mine) written.set(key, n);
    else written.clear();
    const out: unknown[] = [];
    // New rows first, as the list puts the newest first.
    const present = new Set(shown.map(id));
    for (const key of mine) if (fresh.has(key) && !present.has(key)) out.push(fresh.get(key));
    for (const r of shown) {
      const key = id(r);
      if (!mine.has(key)) out.push(r);
      else if (fresh.has(key)) out.push(fresh.get(key));
    }
    return out;
  }

  const kinds = new Set(options.kinds ?? []);
  const off = options.events?.on((event) => {
    if (!kinds.has(event.kind)) return;
    if (options.accept && !options.accept(event)) return;
    if (options.lazy?.includes(event.kind) && !watched) {
      stale = true;
      waiting.clear();
      return;
    }
    if (rows && event.id !== '' && rows.accept(event)) waiting.add(event.id);
    else stale = true;
    invalidate();
  });

  return {
    subscribe: state.subscribe,
    count: { subscribe: count.subscribe },
    refresh,
    invalidate() {
      stale = true;
      invalidate();
    },
    dispose() {
      disposed = true;
      off?.();
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
