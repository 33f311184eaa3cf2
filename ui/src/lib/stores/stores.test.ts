import { get } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { container, FakeBackend, image } from '../testing/fakeBackend';
import { createStores } from './app';
import { EngineEvents } from './events';
import { resource } from './resource';

beforeEach(() => vi.useFakeTimers());

/** A fake backend and its events, delivered as they come (the app has started). */
function liveEvents() {
  const fake = new FakeBackend();
  const events = new EngineEvents(fake.backend());
  events.connect();
  events.markReady();
  return { fake, events };
}
afterEach(() => vi.useRealTimers());

describe('EngineEvents', () => {
  it('queues events until ready, then delivers them in order', () => {
    const fake = new FakeBackend();
    const events = new EngineEvents(fake.backend());
    events.connect();
    const seen: string[] = [];
    events.on((e) => seen.push(e.action));
    fake.emit({ kind: 'container', action: 'create' });
    fake.emit({ kind: 'container', action: 'start' });
    expect(seen).toEqual([]);
    expect(events.pending).toBe(2);
    events.markReady();
    expect(seen).toEqual(['create', 'start']);
    fake.emit({ kind: 'image', action: 'pull' });
    expect(seen).toEqual(['create', 'start', 'pull']);
    events.disconnect();
    expect(fake.listenerCount).toBe(0);
  });
});

describe('resource', () => {
  it('refetches at once after a quiet spell, and a burst rides along on one more fetch', async () => {
    const { fake, events } = liveEvents();
    fake.containers = [container()];
    const fetch = vi.fn(async () => fake.containers.length);
    const r = resource({ initial: -1, fetch, events, kinds: ['container'], debounceMs: 50 });
    fake.emit({ kind: 'container' });
    expect(fetch, 'no timer to wait out').toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(get(r).data).toBe(1);
    expect(get(r).loaded).toBe(true);
    for (let i = 0; i < 20; i++) fake.emit({ kind: 'container' });
    fake.emit({ kind: 'image' }); // not a kind it depends on
    await vi.advanceTimersByTimeAsync(49);
    expect(fetch).toHaveBeenCalledTimes(1);
    fake.containers = [container(), container()];
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch, 'the burst: one more fetch at the window\'s end').toHaveBeenCalledTimes(2);
    expect(get(r).data).toBe(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('keeps refetching at a bounded rate under a steady stream of events', async () => {
    const { fake, events } = liveEvents();
    const fetch = vi.fn(async () => 0);
    resource({ initial: 0, fetch, events, kinds: ['container'], debounceMs: 50 });
    for (let t = 0; t < 500; t += 10) {
      fake.emit({ kind: 'container' });
      await vi.advanceTimersByTimeAsync(10);
    }
    // one fetch per 50 ms window, not none (a trailing debounce would starve) and not 50
    expect(fetch.mock.calls.length).toBeGreaterThanOrEqual(9);
    expect(fetch.mock.calls.length).toBeLessThanOrEqual(11);
  });

  it('ignores events of other kinds', async () => {
    const { fake, events } = liveEvents();
    const fetch = vi.fn(async () => 0);
    resource({ initial: 0, fetch, events, kinds: ['image'] });
    fake.emit({ kind: 'container' });
    fake.emit({ kind: 'volume' });
    await vi.advanceTimersByTimeAsync(500);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('runs once more when asked to refresh during a fetch, so the last fetch is fresh', async () => {
    let resolveFirst!: (v: number) => void;
    const results = [new Promise<number>((r) => (resolveFirst = r)), Promise.resolve(2)];
    const fetch = vi.fn(() => results.shift()!);
    const r = resource({ initial: 0, fetch });
    const first = r.refresh();
    void r.refresh();
    void r.refresh();
    resolveFirst(1);
    await first;
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(get(r).data).toBe(2);
  });

  it('keeps the data and reports the error when a fetch fails', async () => {
    let fail = false;
    const r = resource({
      initial: [] as number[],
      fetch: async () => {
        if (fail) throw { code: 'engine', message: 'database is locked' };
        return [1, 2];
      },
    });
    await r.refresh();
    fail = true;
    await r.refresh();
    expect(get(r)).toEqual({ data: [1, 2], loaded: true, error: 'database is locked' });
    fail = false;
    await r.refresh();
    expect(get(r).error).toBeNull();
  });
});

describe('createStores', () => {
  it('holds events that arrive before start, then refetches once for them', async () => {
    const fake = new FakeBackend();
    fake.containers = [container()];
    fake.images = [image()];
    const stores = createStores(fake.backend());
    fake.emit({ kind: 'container', action: 'create' });
    await vi.advanceTimersByTimeAsync(200);
    expect(fake.calls.listContainers).toBeUndefined();

    await stores.start();
    expect(fake.calls.listContainers).toBe(1);
    expect(get(stores.containers).data).toHaveLength(1);
    expect(get(stores.images).data).toHaveLength(1);
    expect(get(stores.engine).data?.containersTotal).toBe(1);

    await vi.advanceTimersByTimeAsync(50);
    // the queued event, delivered at start, fetched its container's row once more
    expect(fake.calls.listContainers).toBe(1);
    expect(fake.calls.containerRows).toBe(1);
    stores.dispose();
  });

  it('counts containers once for every place that shows the count: pods\' infra containers apart', async () => {
    const fake = new FakeBackend();
    fake.containers = [
      container({ id: 'a'.repeat(64) }),
      container({ id: 'b'.repeat(64), status: 'exited' }),
      container({ id: 'i'.repeat(64), podInfra: true }),
    ];
    const stores = createStores(fake.backend());
    expect(get(stores.containerCounts)).toEqual({ loaded: false, total: 0, running: 0, infra: 0 });
    await stores.start();
    expect(get(stores.containerCounts)).toEqual({ loaded: true, total: 2, running: 1, infra: 1 });
    // A row patch (b started) moves the counts with it.
    fake.containers[1] = { ...fake.containers[1], status: 'running' };
    fake.emit({ kind: 'container', action: 'start', id: 'b'.repeat(64) });
    await vi.advanceTimersByTimeAsync(60);
    expect(get(stores.containerCounts)).toMatchObject({ total: 2, running: 2 });
    stores.dispose();
  });

  it('refetches images when a container is created or removed, not when one starts', async () => {
    const fake = new FakeBackend();
    const stores = createStores(fake.backend());
    await stores.start();
    expect(fake.calls.listImages).toBe(1);
    fake.emit({ kind: 'container', action: 'start' });
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.listImages).toBe(1);
    expect(fake.calls.containerRows).toBe(1);
    fake.emit({ kind: 'container', action: 'remove' });
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.listImages).toBe(2);
    stores.dispose();
  });

  it('refetches networks on network events and when containers come or go', async () => {
    const fake = new FakeBackend();
    const stores = createStores(fake.backend());
    await stores.start();
    const off = stores.networks.subscribe(() => {}); // the Networks pane is open
    expect(fake.calls.listNetworks).toBe(1);
    fake.emit({ kind: 'container', action: 'start' });
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.listNetworks).toBe(1);
    fake.emit({ kind: 'network', action: 'create', name: 'backend' });
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.listNetworks).toBe(2);
    fake.emit({ kind: 'container', action: 'remove' });
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.listNetworks).toBe(3);
    // Closed (the sidebar shows its count only), container events only make the list stale;
    // opened again, it is fetched once. A network's own event still refetches: the count changes.
    off();
    const counts: number[] = [];
    const offCount = stores.networks.count.subscribe((n) => counts.push(n));
    for (const action of ['create', 'remove', 'create']) {
      fake.emit({ kind: 'container', action });
      await vi.advanceTimersByTimeAsync(60);
    }
    expect(fake.calls.listNetworks).toBe(3);
    const again = stores.networks.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls.listNetworks).toBe(4);
    again();
    fake.networks = [...fake.networks, { ...fake.networks[0], name: 'more', id: 'n'.repeat(64) }];
    fake.emit({ kind: 'network', action: 'create', name: 'more' });
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.listNetworks).toBe(5);
    expect(counts.at(-1)).toBe(fake.networks.length);
    offCount();
    stores.dispose();
  });

  it('patches the row an event names, and the rows of a burst in one call', async () => {
    const fake = new FakeBackend();
    const a = container({ id: 'a'.repeat(64), name: 'a' });
    const b = container({ id: 'b'.repeat(64), name: 'b', status: 'exited' });
    fake.containers = [a, b];
    const stores = createStores(fake.backend());
    await stores.start();
    expect(fake.calls.listContainers).toBe(1);
    // `berth run -d` in a terminal: created, then started.
    const c = container({ id: 'c'.repeat(64), name: 'c', status: 'created' });
    fake.containers = [c, a, b];
    fake.emit({ kind: 'container', action: 'create', id: c.id });
    await vi.advanceTimersByTimeAsync(60);
    expect(get(stores.containers).data.map((r) => r.name)).toEqual(['c', 'a', 'b']);
    fake.containers[0] = { ...c, status: 'running' };
    fake.containers[2] = { ...b, status: 'running' };
    fake.emit({ kind: 'container', action: 'start', id: c.id });
    fake.emit({ kind: 'container', action: 'start', id: b.id });
    await vi.advanceTimersByTimeAsync(60);
    expect(get(stores.containers).data.map((r) => `${r.name} ${r.status}`)).toEqual(['c running', 'a running', 'b running']);
    expect(fake.calls.containerRows).toBe(2);
    // Removed: the row goes.
    fake.containers = [fake.containers[0], b];
    fake.emit({ kind: 'container', action: 'remove', id: a.id });
    await vi.advanceTimersByTimeAsync(60);
    expect(get(stores.containers).data.map((r) => r.name)).toEqual(['c', 'b']);
    expect(fake.calls.listContainers).toBe(1);
    // A resync, or a pod's event, is the whole list again.
    fake.emit({ kind: 'container', action: 'resync', id: '' });
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.listContainers).toBe(2);
    stores.dispose();
  });
});

describe('row patches and the whole list', () => {
  it('never let a list fetched before an event undo the patch the event made', async () => {
    const { fake, events } = liveEvents();
    type Row = { id: string; status: string };
    let listAnswer!: (rows: Row[]) => void;
    const list = vi.fn(() => new Promise<Row[]>((resolve) => (listAnswer = resolve)));
    let now: Row[] = [];
    const rows = vi.fn(async (ids: string[]) => now.filter((r) => ids.includes(r.id)));
    const r = resource<Row[]>({
      initial: [],
      fetch: list,
      events,
      kinds: ['container'],
      patch: { fetch: rows, id: (row) => row.id, accept: (e) => e.action !== 'resync' },
      debounceMs: 0,
    });
    const first = r.refresh();
    listAnswer([{ id: 'a', status: 'running' }, { id: 'b', status: 'running' }]);
    await first;
    // A list is asked for; while it is on its way, b stops, c is made and a is removed.
    const second = r.refresh();
    now = [{ id: 'b', status: 'exited' }, { id: 'c', status: 'created' }];
    for (const id of ['b', 'c', 'a']) fake.emit({ kind: 'container', action: 'change', id });
    await vi.advanceTimersByTimeAsync(0);
    expect(get(r).data).toEqual([{ id: 'c', status: 'created' }, { id: 'b', status: 'exited' }]);
    // The list answers with the state from before the events.
    listAnswer([{ id: 'a', status: 'running' }, { id: 'b', status: 'running' }]);
    await second;
    expect(get(r).data).toEqual([{ id: 'c', status: 'created' }, { id: 'b', status: 'exited' }]);
    // A list asked for after the patches is the truth again.
    const third = r.refresh();
    listAnswer([{ id: 'c', status: 'running' }]);
    await third;
    expect(get(r).data).toEqual([{ id: 'c', status: 'running' }]);
    expect(list).toHaveBeenCalledTimes(3);
    r.dispose();
  });

  it('fetch the list when a row patch fails', async () => {
    const { fake, events } = liveEvents();
    const list = vi.fn(async () => [{ id: 'a' }]);
    const r = resource<{ id: string }[]>({
      initial: [],
      fetch: list,
      events,
      kinds: ['container'],
      patch: { fetch: async () => Promise.reject(new Error('unknown command')), id: (row) => row.id, accept: () => true },
      debounceMs: 0,
    });
    fake.emit({ kind: 'container', action: 'start', id: 'a' });
    await vi.advanceTimersByTimeAsync(0);
    expect(list).toHaveBeenCalledTimes(1);
    expect(get(r).data).toEqual([{ id: 'a' }]);
    r.dispose();
  });

  it('polls stats only while watched', async () => {
    const fake = new FakeBackend();
    fake.containers = [container({ id: 'r'.repeat(64) }), container({ id: 's'.repeat(64), status: 'exited' })];
    const stores = createStores(fake.backend());
    await stores.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.calls.containerStats).toBeUndefined();
    const stop = stores.stats.watch(2000);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls.containerStats).toBe(1);
    expect([...get(stores.stats).keys()]).toEqual(['r'.repeat(64)]);
    // A sample like the last one is not a change.
    let changes = 0;
    const off = stores.stats.subscribe(() => (changes += 1));
    await vi.advanceTimersByTimeAsync(4000);
    expect(fake.calls.containerStats).toBe(3);
    expect(changes).toBe(1);
    fake.containers[1].status = 'running';
    await vi.advanceTimersByTimeAsync(2000);
    expect(changes).toBe(2);
    expect(get(stores.stats).size).toBe(2);
    off();
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.calls.containerStats).toBe(4);
    stores.dispose();
  });
});
