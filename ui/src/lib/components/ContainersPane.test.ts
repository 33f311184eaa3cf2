import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { container } from '../testing/fakeBackend';

const state = vi.hoisted(() => ({ containers: [] as unknown[] }));
const fake = vi.hoisted(() => ({
  listContainers: vi.fn(async () => state.containers),
  listImages: vi.fn(async () => []),
  engineInfo: vi.fn(async () => ({ version: '0', root: '/', runRoot: '/', containersRunning: 0, containersTotal: 0, images: 0, rootless: false })),
  containerStats: vi.fn(async () => []),
  stopContainer: vi.fn(),
  startContainer: vi.fn(),
  restartContainer: vi.fn(),
  removeContainer: vi.fn(),
}));
vi.mock('../backend', async () => {
  const errors = await import('../backend/errors');
  return {
    backend: { ...fake, onEngineEvent: () => () => {} },
    ApiError: errors.ApiError,
    errorMessage: errors.errorMessage,
  };
});

const { stores } = await import('../stores');
const { default: ContainersPane } = await import('./ContainersPane.svelte');

function names(root: HTMLElement) {
  return [...root.querySelectorAll<HTMLElement>('[data-testid=container-row]')].map((r) => r.dataset.name);
}

describe('ContainersPane', () => {
  it('lists, filters, acts on a row and removes a selection after confirming', async () => {
    state.containers = [
      container({ id: 'a'.repeat(64), name: 'web', status: 'running', created: 300, ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }),
      container({ id: 'b'.repeat(64), name: 'db', status: 'exited', exitCode: 1, created: 200 }),
      container({ id: 'c'.repeat(64), name: 'cache', status: 'created', created: 100 }),
    ];
    await stores.start();
    const { container: root, getByTestId, findAllByTestId, getAllByTestId } = render(ContainersPane, { oncreate: () => {}, ongoimages: () => {} });
    await findAllByTestId('container-row');
    expect(names(root)).toEqual(['web', 'db', 'cache']);

    const link = getByTestId('port-link') as HTMLAnchorElement;
    expect(link.href).toBe('http://localhost:8080/');
    expect(link.target).toBe('_blank');
    expect(getAllByTestId('container-status').map((s) => s.textContent?.trim())).toEqual(['running', 'exited (1)', 'created']);

    await fireEvent.click(getByTestId('filter-running'));
    expect(names(root)).toEqual(['web']);
    await fireEvent.click(getByTestId('filter-stopped'));
    expect(names(root)).toEqual(['db', 'cache']);
    await fireEvent.click(getByTestId('filter-all'));
    await fireEvent.input(getByTestId('container-search'), { target: { value: 'CAC' } });
    expect(names(root)).toEqual(['cache']);
    // Ids are hidden: only their start matches (web's id is all "a", cache's all "c").
    await fireEvent.input(getByTestId('container-search'), { target: { value: 'aaaa' } });
    expect(names(root)).toEqual(['web']);
    await fireEvent.input(getByTestId('container-search'), { target: { value: '' } });

    await fireEvent.click(getByTestId('sort-name'));
    expect(names(root)).toEqual(['cache', 'db', 'web']);

    // A stop in flight shows as "stopping" until its answer is back.
    let stopped!: () => void;
    fake.stopContainer.mockImplementation(() => new Promise((resolve) => (stopped = () => resolve(state.containers[0]))));
    const web = root.querySelector('[data-name=web]')!;
    await fireEvent.click(web.querySelector('[data-testid=row-stop]')!);
    expect(fake.stopContainer).toHaveBeenCalledWith('a'.repeat(64));
    await waitFor(() => expect((web.querySelector('[data-testid=container-status]') as HTMLElement).dataset.status).toBe('stopping'));
    stopped();
    await waitFor(() => expect((web.querySelector('[data-testid=container-status]') as HTMLElement).dataset.status).toBe('running'));
    expect(web.querySelector('[data-testid=row-start]')).toBeNull();

    // select two, remove them; one removal fails and the dialog says why
    await fireEvent.click(root.querySelector('[data-name=web] [data-testid=row-select]')!);
    await fireEvent.click(root.querySelector('[data-name=db] [data-testid=row-select]')!);
    expect(getByTestId('selection-count').textContent).toBe('2 selected');
    fake.removeContainer.mockImplementation(async (id: string) => {
      if (id === 'b'.repeat(64)) throw { code: 'conflict', message: 'container db is being stopped' };
      return null;
    });
    await fireEvent.click(getByTestId('bulk-remove'));
    const force = getByTestId('confirm-force') as HTMLInputElement;
    expect(force.checked).toBe(true); // web is running
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(getByTestId('confirm-error').textContent).toBe('db: container db is being stopped'));
    expect(fake.removeContainer.mock.calls).toEqual([
      ['a'.repeat(64), true],
      ['b'.repeat(64), true],
    ]);
  });
});
