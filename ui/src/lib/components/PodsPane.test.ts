import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { get } from 'svelte/store';
import { describe, expect, it, vi } from 'vitest';
import { pod } from '../testing/fakeBackend';

const state = vi.hoisted(() => ({ pods: [] as unknown[] }));
const fake = vi.hoisted(() => ({
  listContainers: vi.fn(async () => []),
  listImages: vi.fn(async () => []),
  listVolumes: vi.fn(async () => []),
  listNetworks: vi.fn(async () => []),
  listPods: vi.fn(async () => state.pods),
  engineInfo: vi.fn(async () => ({ version: '0', root: '/', runRoot: '/', containersRunning: 0, containersTotal: 0, images: 0, rootless: false })),
  createPod: vi.fn(),
  startPod: vi.fn(),
  stopPod: vi.fn(),
  restartPod: vi.fn(),
  removePod: vi.fn(),
  prunePods: vi.fn(),
}));
vi.mock('../backend', async () => {
  const errors = await import('../backend/errors');
  return {
    backend: { ...fake, onEngineEvent: () => () => {} },
    ApiError: errors.ApiError,
    errorMessage: errors.errorMessage,
  };
});

const { stores, toasts } = await import('../stores');
const { default: PodsPane } = await import('./PodsPane.svelte');

function names(root: HTMLElement) {
  return [...root.querySelectorAll<HTMLElement>('[data-testid=pod-row]')].map((r) => r.dataset.name);
}

const infra = (pod: string) => ({ id: `${pod}-infra`.padEnd(64, '0'), name: `${pod}-infra`, status: 'running' as const, infra: true });
const member = (name: string, status: 'running' | 'exited') => ({ id: name.padEnd(64, '0'), name, status, infra: false });

describe('PodsPane', () => {
  it('lists the pods, newest first, with their state, containers and members; opens one', async () => {
    state.pods = [
      pod({ id: 'a'.repeat(64), name: 'shop', state: 'Degraded', created: 200, containers: 3, members: [infra('shop'), member('app', 'running'), member('job', 'exited')], labels: { team: 'web' } }),
      pod({ id: 'b'.repeat(64), name: 'idle', state: 'Exited', created: 300, containers: 1, members: [{ ...infra('idle'), status: 'exited' }] }),
      pod({ id: 'c'.repeat(64), name: 'api', state: 'Running', created: 100, containers: 2, members: [infra('api'), member('server', 'running')] }),
    ];
    await stores.start();
    const onopen = vi.fn();
    const { container: root, findAllByTestId, getByTestId } = render(PodsPane, { onopen });
    await findAllByTestId('pod-row');
    expect(names(root)).toEqual(['idle', 'shop', 'api']);
    const cells = (testid: string) => [...root.querySelectorAll(`[data-testid=${testid}]`)].map((e) => e.textContent?.trim());
    expect(cells('pod-state')).toEqual(['Exited', 'Degraded', 'Running']);
    expect([...root.querySelectorAll<HTMLElement>('[data-testid=pod-state]')].map((b) => b.className.split(' ').find((c) => ['ok', 'warn', 'idle'].includes(c)))).toEqual(['idle', 'warn', 'ok']);
    expect(cells('pod-containers')).toEqual(['1', '3', '2']);
    // The second line names the containers, the infra one left out.
    expect(cells('pod-row-members')).toEqual(['no containers but its infra', 'app · job', 'server']);
    expect(root.textContent).toContain('3 pods · 2 running');
    // Start is for a pod not all running; stop for one where something runs.
    const button = (pod: string, testid: string) => root.querySelector<HTMLButtonElement>(`[data-name=${pod}] [data-testid=${testid}]`)!;
    expect([button('idle', 'pod-start').disabled, button('idle', 'pod-stop').disabled]).toEqual([false, true]);
    expect([button('api', 'pod-start').disabled, button('api', 'pod-stop').disabled]).toEqual([true, false]);

    await fireEvent.input(getByTestId('pod-search'), { target: { value: 'team=web' } });
    expect(names(root)).toEqual(['shop']);
    await fireEvent.input(getByTestId('pod-search'), { target: { value: 'server' } });
    expect(names(root)).toEqual(['api']);
    await fireEvent.input(getByTestId('pod-search'), { target: { value: '' } });

    await fireEvent.click(root.querySelector('[data-name=shop] [data-testid=pod-open]')!);
    expect(onopen).toHaveBeenCalledWith('shop');
    const table = getByTestId('pods-table');
    await fireEvent.keyDown(table, { key: 'ArrowDown' });
    await fireEvent.keyDown(table, { key: 'ArrowDown' });
    await fireEvent.keyDown(table, { key: 'ArrowDown' });
    await fireEvent.keyDown(table, { key: 'Enter' });
    expect(onopen).toHaveBeenLastCalledWith('api');
  });

  it("acts on a row with the pod's verbs, and shows the engine's refusal", async () => {
    state.pods = [pod({ name: 'shop', state: 'Running', members: [infra('shop'), member('app', 'running')], containers: 2 })];
    await stores.pods.refresh();
    const { container: root, getByTestId, findAllByTestId, findByTestId } = render(PodsPane, {});
    await findAllByTestId('pod-row');
    fake.stopPod.mockResolvedValueOnce(state.pods[0]);
    const lists = fake.listPods.mock.calls.length;
    await fireEvent.click(root.querySelector('[data-testid=pod-stop]')!);
    await waitFor(() => expect(fake.stopPod).toHaveBeenCalledWith('shop'));
    await waitFor(() => expect(fake.listPods.mock.calls.length).toBeGreaterThan(lists));
    fake.restartPod.mockRejectedValueOnce({ code: 'conflict', message: 'pod shop: container app: port 8080 is in use' });
    await fireEvent.click(root.querySelector('[data-testid=pod-restart]')!);
    await waitFor(() => expect(get(toasts).map((t) => [t.kind, t.message])).toContainEqual(['error', 'cannot restart pod shop: pod shop: container app: port 8080 is in use']));

    // Remove asks first, forced as something runs; the engine's answer then.
    await fireEvent.click(root.querySelector('[data-testid=pod-remove-row]')!);
    expect(getByTestId('confirm-dialog').textContent).toContain('Remove pod “shop” and its 2 containers (its infra container included)?');
    expect((getByTestId('pod-confirm-force') as HTMLInputElement).checked).toBe(true);
    fake.removePod.mockResolvedValueOnce(null);
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(fake.removePod).toHaveBeenLastCalledWith('shop', true));
    await waitFor(() => expect(() => getByTestId('confirm-dialog')).toThrow());

    // Create: fields checked as typed, the engine's refusal shown, then created.
    await fireEvent.click(getByTestId('pod-create'));
    await findByTestId('pod-create-dialog');
    await fireEvent.input(getByTestId('pod-name'), { target: { value: 'web' } });
    await fireEvent.input(getByTestId('pod-ports'), { target: { value: '8080:x' } });
    expect(getByTestId('pod-ports-error').textContent).toContain('"8080:x" is not a port to publish');
    await fireEvent.click(getByTestId('pod-create-submit'));
    expect(fake.createPod).not.toHaveBeenCalled();
    await fireEvent.input(getByTestId('pod-ports'), { target: { value: '8080:80\n' } });
    await fireEvent.input(getByTestId('pod-share'), { target: { value: '+pid' } });
    await fireEvent.input(getByTestId('pod-labels'), { target: { value: 'team=web' } });
    fake.createPod.mockRejectedValueOnce({ code: 'conflict', message: 'the pod name "web" is already in use by a1b2c3d4e5f6: choose another name' });
    await fireEvent.click(getByTestId('pod-create-submit'));
    await waitFor(() => expect(getByTestId('pod-create-error').textContent).toContain('already in use'));
    expect(fake.createPod).toHaveBeenLastCalledWith({ name: 'web', ports: ['8080:80'], share: '+pid', hostname: '', labels: ['team=web'] });
    fake.createPod.mockResolvedValueOnce(pod({ name: 'web2' }));
    await fireEvent.input(getByTestId('pod-name'), { target: { value: 'web2' } });
    await fireEvent.click(getByTestId('pod-create-submit'));
    await waitFor(() => expect(() => getByTestId('pod-create-dialog')).toThrow());
  });
});
