// The health of containers: the badge in the Containers pane (following health_status
// events), and the details' Health tab.

import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ContainerHealth } from '../bindings/ContainerHealth';
import type { EngineEvent } from '../bindings/EngineEvent';
import { ApiError } from '../backend/errors';
import { container } from '../testing/fakeBackend';

const state = vi.hoisted(() => ({
  containers: [] as unknown[],
  listeners: new Set<(e: unknown) => void>(),
}));
const fake = vi.hoisted(() => ({
  listContainers: vi.fn(async () => state.containers),
  listImages: vi.fn(async () => []),
  listVolumes: vi.fn(async () => []),
  engineInfo: vi.fn(async () => ({ version: '0', root: '/', runRoot: '/', containersRunning: 0, containersTotal: 0, images: 0, rootless: false })),
  containerStats: vi.fn(async () => []),
  containerHealth: vi.fn(),
  runHealthcheck: vi.fn(),
}));
vi.mock('../backend', async () => {
  const errors = await import('../backend/errors');
  return {
    backend: {
      ...fake,
      onEngineEvent: (cb: (e: unknown) => void) => {
        state.listeners.add(cb);
        return () => state.listeners.delete(cb);
      },
    },
    ApiError: errors.ApiError,
    errorMessage: errors.errorMessage,
  };
});

const { stores, toasts } = await import('../stores');
const { default: ContainersPane } = await import('./ContainersPane.svelte');
const { default: HealthTab } = await import('./details/HealthTab.svelte');

function emit(e: Partial<EngineEvent>) {
  const full: EngineEvent = { kind: 'container', action: 'health_status', id: 'x', name: null, ...e };
  state.listeners.forEach((l) => l(full));
}

const ID = 'h'.repeat(64);
const health = (over: Partial<ContainerHealth> = {}): ContainerHealth => ({
  status: 'healthy',
  failingStreak: 0,
  check: { command: { form: 'shell', line: 'curl -f http://localhost/ || exit 1' }, intervalMs: 30_000, timeoutMs: 5000, startPeriodMs: 10_000, retries: 3 },
  onFailure: 'restart',
  log: [
    { startedAt: Date.UTC(2026, 0, 2, 3, 4, 35), durationMs: 12, exitCode: 0, output: 'ok: 200\nsecond line' },
    { startedAt: Date.UTC(2026, 0, 2, 3, 4, 5), durationMs: 5000, exitCode: -1, output: 'Health check exceeded timeout of 5s' },
  ],
  ...over,
});

afterEach(() => vi.clearAllMocks());

describe('health in the Containers pane', () => {
  it('shows each running container with a check its health in words, and follows health_status events', async () => {
    state.containers = [
      container({ id: ID, name: 'web', status: 'running', created: 3, health: 'starting' }),
      container({ id: 'p'.repeat(64), name: 'plain', status: 'running', created: 2, health: null }),
      container({ id: 'e'.repeat(64), name: 'gone', status: 'exited', exitCode: 0, created: 1, health: null }),
    ];
    await stores.start();
    const { findAllByTestId, getAllByTestId } = render(ContainersPane, { oncreate: () => {}, ongoimages: () => {} });
    await findAllByTestId('container-row');
    const badges = () => getAllByTestId('container-health');
    expect(badges()).toHaveLength(1);
    const badge = badges()[0];
    expect(badge.closest('[data-testid=container-row]')?.getAttribute('data-name')).toBe('web');
    expect(badge.dataset.health).toBe('starting');
    // The word is there (with "health:" for screen readers), not only a colour.
    expect(badge.textContent?.trim()).toBe('health: starting');
    expect(badge.classList.contains('warn')).toBe(true);
    expect(badge.title).toBe('Healthcheck starting: no check has passed yet');

    // A check ran in the container's helper: its event refetches the list.
    const calls = fake.listContainers.mock.calls.length;
    state.containers = [{ ...(state.containers[0] as object), health: 'unhealthy' }, ...state.containers.slice(1)];
    emit({ id: ID });
    await waitFor(() => expect(badges()[0].dataset.health).toBe('unhealthy'));
    expect(fake.listContainers.mock.calls.length).toBe(calls + 1);
    expect(badges()[0].classList.contains('danger')).toBe(true);
    expect(badges()[0].textContent?.trim()).toBe('health: unhealthy');

    // The search finds what the row shows.
    const search = getAllByTestId('container-search')[0];
    await fireEvent.input(search, { target: { value: 'unhealthy' } });
    expect(getAllByTestId('container-row').map((r) => r.dataset.name)).toEqual(['web']);
  });
});

describe('the Health tab', () => {
  const web = container({ id: ID, name: 'web', status: 'running', health: 'healthy' });

  it('shows the health, the check, and the last results with their output in monospace', async () => {
    fake.containerHealth.mockResolvedValue(health());
    const { findByTestId, getByTestId, getAllByTestId } = render(HealthTab, { container: web });
    await findByTestId('health-check');
    expect(fake.containerHealth).toHaveBeenCalledWith(ID);
    expect(getByTestId('container-health').dataset.health).toBe('healthy');
    expect(getByTestId('health-streak').textContent?.trim()).toBe('No failures in a row');
    expect(getByTestId('health-command').textContent).toBe('curl -f http://localhost/ || exit 1');
    expect(getByTestId('health-interval').textContent).toBe('every 30s');
    expect(getByTestId('health-timeout').textContent).toBe('5s');
    expect(getByTestId('health-start-period').textContent).toBe('10s (failures in it do not count)');
    expect(getByTestId('health-retries').textContent).toBe('3 failures in a row make it unhealthy');
    expect(getByTestId('health-on-failure').textContent).toBe('restart the container');

    const rows = getAllByTestId('health-result');
    expect(rows.map((r) => r.dataset.exitCode)).toEqual(['0', '-1']);
    expect(rows.map((r) => r.querySelector('[data-testid=health-exit-code]')?.textContent?.trim())).toEqual(['0 passed', '-1 failed']);
    expect(rows[1].textContent).toContain('5 s');
    const outputs = getAllByTestId('health-output');
    expect(outputs[0].tagName).toBe('PRE');
    expect(outputs[0].classList.contains('mono')).toBe(true);
    expect(outputs[0].textContent).toBe('ok: 200\nsecond line');
  });

  it('runs the check now, and says in a toast why it could not', async () => {
    fake.containerHealth.mockResolvedValue(health({ status: 'starting', log: [] }));
    fake.runHealthcheck.mockResolvedValueOnce(health({ status: 'unhealthy', failingStreak: 3 }));
    fake.runHealthcheck.mockRejectedValueOnce(new ApiError('conflict', 'container web is not running: it is exited: start it first'));
    const { findByTestId, getByTestId } = render(HealthTab, { container: web });
    await findByTestId('health-no-results');
    expect(getByTestId('health-no-results').textContent).toBe('No check has run yet.');

    await fireEvent.click(getByTestId('health-run'));
    await waitFor(() => expect(getByTestId('container-health').dataset.health).toBe('unhealthy'));
    expect(fake.runHealthcheck).toHaveBeenCalledWith(ID);
    expect(getByTestId('health-streak').textContent?.trim()).toBe('3 of 3 failures in a row');

    await fireEvent.click(getByTestId('health-run'));
    await waitFor(() =>
      expect(get(toasts).map((t) => [t.kind, t.message])).toContainEqual([
        'error',
        'cannot run the healthcheck of web: container web is not running: it is exited: start it first',
      ]),
    );
    expect((getByTestId('health-run') as HTMLButtonElement).disabled).toBe(false);
  });

  it('reads the health again when the container has news', async () => {
    fake.containerHealth.mockResolvedValueOnce(health({ status: 'starting', log: [] })).mockResolvedValue(health());
    const { findByTestId, getByTestId } = render(HealthTab, { container: web });
    await findByTestId('health-no-results');
    emit({ id: 'another'.padEnd(64, '0') });
    emit({ id: ID });
    await waitFor(() => expect(getByTestId('container-health').dataset.health).toBe('healthy'));
    expect(fake.containerHealth).toHaveBeenCalledTimes(2);
  });

  it('says so plainly for a container without a check, and offers no run for a stopped one', async () => {
    fake.containerHealth.mockResolvedValueOnce(null);
    const none = render(HealthTab, { container: web });
    const empty = await none.findByTestId('health-none');
    expect(empty.textContent).toContain('No healthcheck');
    expect(none.queryByTestId('health-run')).toBeNull();
    none.unmount();

    fake.containerHealth.mockResolvedValueOnce(health({ status: 'unhealthy' }));
    const stopped = render(HealthTab, { container: { ...web, status: 'exited', exitCode: 0, health: null } });
    await stopped.findByTestId('health-not-running');
    expect(stopped.queryByTestId('container-health')).toBeNull();
    expect((stopped.getByTestId('health-run') as HTMLButtonElement).disabled).toBe(true);
    expect(stopped.getAllByTestId('health-result')).toHaveLength(2);
  });
});
