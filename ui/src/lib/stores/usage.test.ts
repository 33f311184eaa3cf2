import { get } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeBackend } from '../testing/fakeBackend';
import { EngineEvents } from './events';
import { usageStore } from './usage';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup() {
  const fake = new FakeBackend();
  const events = new EngineEvents(fake.backend());
  events.connect();
  events.markReady();
  return { fake, events, usage: usageStore(fake.backend(), events, 500) };
}

describe('usageStore', () => {
  it('samples the host on its interval only while watched, and the disk once', async () => {
    const { fake, usage } = setup();
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.calls.hostStats).toBeUndefined();
    const stop = usage.watch(2000);
    await vi.advanceTimersByTimeAsync(0);
    expect(get(usage).host?.cpus).toBe(4);
    expect(get(usage).disk?.images.total).toBe(2);
    await vi.advanceTimersByTimeAsync(4000);
    expect(fake.calls.hostStats).toBe(3);
    expect(fake.calls.diskUsage).toBe(1);
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.calls.hostStats).toBe(3);
  });

  it('measures the disk again after a burst of events, debounced, and not when unwatched', async () => {
    const { fake, usage } = setup();
    fake.emit({ kind: 'image' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls.diskUsage).toBeUndefined();
    const stop = usage.watch(60_000);
    await vi.advanceTimersByTimeAsync(0);
    fake.disk = { ...fake.disk, volumes: { total: 2, active: 0, size: 10, reclaimable: 10 } };
    for (let i = 0; i < 10; i++) fake.emit({ kind: 'container' });
    fake.emit({ kind: 'network' }); // no disk of its own
    await vi.advanceTimersByTimeAsync(499);
    expect(fake.calls.diskUsage).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls.diskUsage).toBe(2);
    expect(get(usage).disk?.volumes.total).toBe(2);
    stop();
  });
});
