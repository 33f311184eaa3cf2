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
  containerLogs: vi.fn(),
  stopPod: vi.fn(),
  startPod: vi.fn(),
  removePod: vi.fn(),
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

  it("groups a compose project's containers under one row that acts on them all", async () => {
    const demo = (name: string, service: string, status: 'running' | 'exited', created: number) =>
      container({ id: name.padEnd(64, '0'), name, status, created, composeProject: 'demo', composeService: service, exitCode: status === 'exited' ? 0 : null });
    state.containers = [
      container({ id: 'p'.repeat(64), name: 'plain', status: 'running', created: 500 }),
      demo('demo_web_1', 'web', 'running', 400),
      demo('demo_db_1', 'db', 'running', 300),
      demo('demo_worker_1', 'worker', 'exited', 200),
    ];
    fake.stopContainer.mockReset().mockResolvedValue(null);
    fake.startContainer.mockReset().mockResolvedValue(null);
    fake.removeContainer.mockReset().mockResolvedValue(null);
    await stores.containers.refresh();
    const { container: root, getByTestId, findByTestId } = render(ContainersPane, { oncreate: () => {}, ongoimages: () => {} });
    const group = await findByTestId('group-row');
    const rowText = () =>
      [...root.querySelectorAll<HTMLElement>('[data-testid=container-row], [data-testid=group-row]')].map((r) =>
        r.dataset.testid === 'group-row' ? `[${r.dataset.project}]` : `${r.dataset.project ? '  ' : ''}${r.dataset.name}`,
      );
    expect(rowText()).toEqual(['plain', '[demo]', '  demo_web_1', '  demo_db_1', '  demo_worker_1']);
    expect(getByTestId('group-count').textContent).toBe('2 of 3 running');
    expect(group.textContent).toContain('web · db · worker');

    // Collapsed, then open again; a sort keeps the group with its first member.
    await fireEvent.click(getByTestId('group-toggle'));
    expect(rowText()).toEqual(['plain', '[demo]']);
    expect(group.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(getByTestId('sort-name'));
    expect(rowText()).toEqual(['[demo]', 'plain']);
    // A search that finds a member shows it under its group, however collapsed.
    await fireEvent.input(getByTestId('container-search'), { target: { value: 'worker' } });
    expect(rowText()).toEqual(['[demo]', '  demo_worker_1']);
    expect(getByTestId('group-count').textContent).toBe('2 of 3 running');
    await fireEvent.input(getByTestId('container-search'), { target: { value: '' } });
    expect(rowText()).toEqual(['[demo]', 'plain']);
    await fireEvent.click(getByTestId('group-toggle'));
    expect(rowText()).toEqual(['[demo]', '  demo_db_1', '  demo_web_1', '  demo_worker_1', 'plain']);

    // Stop stops its running ones, start starts the others: one call each, through the bulk path.
    await fireEvent.click(getByTestId('group-stop'));
    await waitFor(() => expect(fake.stopContainer).toHaveBeenCalledTimes(2));
    expect(fake.stopContainer.mock.calls.map((c) => c[0]).sort()).toEqual(['demo_db_1'.padEnd(64, '0'), 'demo_web_1'.padEnd(64, '0')]);
    await waitFor(() => expect((getByTestId('group-start') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('group-start'));
    await waitFor(() => expect(fake.startContainer).toHaveBeenCalledTimes(1));
    expect(fake.startContainer).toHaveBeenCalledWith('demo_worker_1'.padEnd(64, '0'));

    // Remove asks first, naming the project and each of its containers; plain is left alone.
    await waitFor(() => expect((getByTestId('group-remove') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('group-remove'));
    const dialog = getByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('Remove demo');
    expect(dialog.textContent).toContain('Remove the 3 containers of compose project “demo”: demo_web_1, demo_db_1, demo_worker_1?');
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(fake.removeContainer).toHaveBeenCalledTimes(3));
    expect(fake.removeContainer.mock.calls.every(([id, force]) => id.startsWith('demo_') && force === true)).toBe(true);
  });

  it("hides pods' infra containers unless asked, and groups a pod's containers under a row whose actions are the pod's", async () => {
    const inPod = (name: string, status: 'running' | 'exited', created: number, podInfra = false) =>
      container({ id: name.padEnd(64, '0'), name, status, created, pod: 'shop-id', podName: 'shop', podInfra, exitCode: status === 'exited' ? 0 : null });
    state.containers = [
      inPod('shop-infra', 'running', 600, true),
      inPod('shop-app', 'running', 500),
      container({ id: 'q'.repeat(64), name: 'plain', status: 'running', created: 400 }),
      inPod('shop-job', 'exited', 300),
    ];
    fake.stopPod.mockReset().mockResolvedValue(null);
    fake.startPod.mockReset().mockResolvedValue(null);
    fake.removePod.mockReset().mockResolvedValue(null);
    fake.stopContainer.mockReset().mockResolvedValue(null);
    fake.removeContainer.mockReset().mockResolvedValue(null);
    await stores.containers.refresh();
    const { container: root, getByTestId, findByTestId } = render(ContainersPane, { oncreate: () => {}, ongoimages: () => {} });
    const group = await findByTestId('group-row');
    const rowText = () =>
      [...root.querySelectorAll<HTMLElement>('[data-testid=container-row], [data-testid=group-row]')].map((r) =>
        r.dataset.testid === 'group-row' ? `[${r.dataset.source} ${r.dataset.project}]` : `${r.dataset.project ? '  ' : ''}${r.dataset.name}`,
      );
    expect(rowText()).toEqual(['[pod shop]', '  shop-app', '  shop-job', 'plain']);
    expect(getByTestId('group-tag').textContent).toBe('pod');
    expect(getByTestId('group-count').textContent).toBe('1 of 2 running');
    expect(root.textContent).toContain('2 running · 3 total');
    expect(group.textContent).not.toContain('shop-infra');

    // Asked for, the infra container shows in its pod's group.
    await fireEvent.click(getByTestId('show-infra'));
    expect(rowText()).toEqual(['[pod shop]', '  shop-infra', '  shop-app', '  shop-job', 'plain']);
    await fireEvent.click(getByTestId('show-infra'));
    expect(rowText()).toEqual(['[pod shop]', '  shop-app', '  shop-job', 'plain']);

    // The group's actions are the pod's verbs, by the pod's name: no container is stopped one by one.
    await fireEvent.click(getByTestId('group-stop'));
    await waitFor(() => expect(fake.stopPod).toHaveBeenCalledWith('shop'));
    expect(fake.stopContainer).not.toHaveBeenCalled();
    await waitFor(() => expect((getByTestId('group-start') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('group-start'));
    await waitFor(() => expect(fake.startPod).toHaveBeenCalledWith('shop'));

    // Remove removes the pod, its containers with it (forced: one runs).
    await waitFor(() => expect((getByTestId('group-remove') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('group-remove'));
    const dialog = getByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('Remove pod shop');
    expect(dialog.textContent).toContain('Remove pod “shop” and its 2 containers: shop-app, shop-job?');
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(fake.removePod).toHaveBeenCalledWith('shop', true));
    expect(fake.removeContainer).not.toHaveBeenCalled();
  });

  it("shows a project's logs merged, each line led by its container", async () => {
    const line = (t: number, text: string) => ({ time: `2026-01-01T00:00:0${t}.000000000Z`, stream: 'stdout', line: text });
    state.containers = [
      container({ id: 'w'.repeat(64), name: 'demo_web_1', status: 'exited', exitCode: 0, composeProject: 'demo', composeService: 'web' }),
      container({ id: 'd'.repeat(64), name: 'demo_db_1', status: 'exited', exitCode: 0, composeProject: 'demo', composeService: 'db' }),
    ];
    fake.containerLogs.mockImplementation(async (id: string) => (id.startsWith('w') ? [line(1, 'GET /'), line(3, 'GET /x')] : [line(2, 'ready')]));
    await stores.containers.refresh();
    const { getByTestId, findByTestId } = render(ContainersPane, { oncreate: () => {}, ongoimages: () => {} });
    await fireEvent.click(await findByTestId('group-logs'));
    const content = await findByTestId('logs-content');
    await waitFor(() => expect(content.textContent).toContain('GET /x'));
    expect(content.textContent!.trim().split('\n')).toEqual(['demo_web_1 | GET /', 'demo_db_1  | ready', 'demo_web_1 | GET /x']);
    expect(getByTestId('logs-dialog').textContent).toContain('Logs — demo (2 containers)');
  });
});
