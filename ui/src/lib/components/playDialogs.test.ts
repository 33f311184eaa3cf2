import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../backend/errors';
import { FakeBackend } from '../testing/fakeBackend';

// The dialogs reach the engine through the app's backend module: the fake backend instead.
const state = vi.hoisted(() => ({ fake: null as FakeBackend | null, written: [] as string[] }));
vi.mock('../backend', async () => {
  const errors = await import('../backend/errors');
  const { FakeBackend } = await import('../testing/fakeBackend');
  state.fake = new FakeBackend();
  return { backend: state.fake.backend(), ApiError: errors.ApiError, errorMessage: errors.errorMessage };
});
// xterm.js draws on a canvas-less DOM it measures: a terminal that keeps what it is given.
vi.mock('@xterm/xterm', () => ({
  Terminal: class {
    open() {}
    loadAddon() {}
    write(data: string) {
      state.written.push(data);
    }
    dispose() {}
  },
}));
vi.mock('@xterm/addon-fit', () => ({ FitAddon: class { fit() {} } }));

const { default: PlayKubeDialog } = await import('./PlayKubeDialog.svelte');
const { default: ComposeDialog } = await import('./ComposeDialog.svelte');
const fake = state.fake!;
const log = () => state.written.join('');

afterEach(() => {
  fake.kubeCalls = [];
  fake.kubeMissing = [];
  fake.kubePlayed = { pods: [], volumes: [] };
  fake.kubeError = null;
  fake.pulled = [];
  fake.composeRequests = [];
  fake.composeLines = [];
  fake.cancelledComposes = [];
  state.written = [];
});

const POD = { id: 'p'.repeat(64), name: 'web', containers: [{ id: 'a'.repeat(64), name: 'web-app' }, { id: 'b'.repeat(64), name: 'web-side' }] };

describe('PlayKubeDialog', () => {
  it('checks the path, pulls the missing images, plays the YAML and lists what it made', async () => {
    const { getByTestId, getAllByTestId } = render(PlayKubeDialog, { onclose: () => {} });
    await fireEvent.click(getByTestId('play-kube-submit'));
    await waitFor(() => expect(getByTestId('play-kube-path-error').textContent).toBe('enter the path of the Kubernetes YAML'));
    await fireEvent.input(getByTestId('play-kube-path'), { target: { value: 'web.yaml' } });
    await waitFor(() => expect(getByTestId('play-kube-path-error').textContent).toMatch(/^web.yaml: give an absolute path/));
    expect(fake.kubeCalls).toEqual([]);

    fake.kubeMissing = ['localhost:5000/busybox:1'];
    fake.kubePlayed = { pods: [POD], volumes: ['data'] };
    await fireEvent.input(getByTestId('play-kube-path'), { target: { value: '~/kube/web.yaml' } });
    await fireEvent.click(getByTestId('play-kube-replace'));
    await fireEvent.click(getByTestId('play-kube-start'));
    await fireEvent.click(getByTestId('play-kube-submit'));
    await waitFor(() => getByTestId('play-kube-result'));
    const request = { path: '~/kube/web.yaml', yaml: '', replace: true, start: false };
    expect(fake.kubeCalls).toEqual([
      { verb: 'images', request },
      { verb: 'play', request },
    ]);
    expect(fake.pulled).toEqual(['localhost:5000/busybox:1']);
    expect(getByTestId('play-kube-result').querySelector('.dialog-done')!.textContent).toBe('Played pod web (2 containers) and 1 volume');
    expect(getAllByTestId('played-pod').map((li) => li.dataset.name)).toEqual(['web']);
    expect(getByTestId('played-containers').textContent).toBe('web-app · web-side');
    expect(getByTestId('played-volume').textContent).toMatch(/volume data/);
    expect(getByTestId('play-kube-close').textContent).toBe('Close');
  });

  it("shows the engine's refusal, and takes a pasted YAML's pods down", async () => {
    const { getByTestId, queryByTestId } = render(PlayKubeDialog, { onclose: () => {} });
    await fireEvent.click(getByTestId('play-kube-source-paste'));
    await fireEvent.click(getByTestId('play-kube-down'));
    await waitFor(() => expect(getByTestId('play-kube-yaml-error').textContent).toBe('paste the Kubernetes YAML (a Pod, a Deployment, …)'));
    const yaml = 'kind: Service\n';
    await fireEvent.input(getByTestId('play-kube-yaml'), { target: { value: yaml } });
    fake.kubeError = new ApiError('invalid', 'YAML document 1: kind Service is not supported: use Pod, Deployment, ConfigMap and PersistentVolumeClaim');
    await fireEvent.click(getByTestId('play-kube-submit'));
    await waitFor(() => expect(getByTestId('play-kube-error').textContent).toMatch(/^YAML document 1: kind Service is not supported/));
    expect(fake.kubeCalls.map((c) => c.verb)).toEqual(['images']);
    expect(fake.pulled).toEqual([]);
    expect(queryByTestId('play-kube-result')).toBeNull();

    fake.kubeError = null;
    fake.kubePlayed = { pods: [POD], volumes: [] };
    await fireEvent.click(getByTestId('play-kube-down'));
    await waitFor(() => expect(getByTestId('play-kube-removed').textContent!.trim()).toBe('Removed pod web (volumes stay).'));
    expect(getByTestId('play-kube-error').textContent).toBe('');
    expect(fake.kubeCalls.at(-1)).toEqual({ verb: 'down', request: { path: '', yaml, replace: false, start: true } });
    fake.kubePlayed = { pods: [], volumes: [] };
    await fireEvent.click(getByTestId('play-kube-down'));
    await waitFor(() => expect(getByTestId('play-kube-removed').textContent!.trim()).toBe('None of the YAML’s pods is here.'));
  });
});

describe('ComposeDialog', () => {
  it("checks the file, streams the provider's output, says when the stack is up", async () => {
    const { getByTestId, queryByTestId } = render(ComposeDialog, { onclose: () => {} });
    await fireEvent.click(getByTestId('compose-up'));
    await waitFor(() => expect(getByTestId('compose-file-error').textContent).toBe('enter the path of the compose file'));
    expect(fake.composeRequests).toEqual([]);

    fake.composeLines = ['Creating network "demo_default"', 'Creating demo_web_1 ... done'];
    await fireEvent.input(getByTestId('compose-file'), { target: { value: ' /srv/demo/compose.yaml ' } });
    await fireEvent.click(getByTestId('compose-up'));
    await waitFor(() => getByTestId('compose-cancel'));
    expect(fake.composeRequests).toEqual([{ file: '/srv/demo/compose.yaml', action: 'up' }]);
    await waitFor(() => expect(log()).toContain('Creating demo_web_1 ... done\r\n'));
    expect(log()).toContain('$ berth compose -f /srv/demo/compose.yaml up -d');
    expect((getByTestId('compose-file') as HTMLInputElement).disabled).toBe(true);
    fake.finishCompose(0);
    await waitFor(() => expect(getByTestId('compose-done').textContent).toMatch(/The stack is up/));
    expect(queryByTestId('compose-cancel')).toBeNull();

    // Down, failing: the error under the form and in the log.
    await fireEvent.click(getByTestId('compose-down'));
    expect(fake.composeRequests.at(-1)).toEqual({ file: '/srv/demo/compose.yaml', action: 'down' });
    fake.finishCompose(1);
    await waitFor(() => expect(getByTestId('compose-error').textContent).toBe('berth compose exited with code 1: its output says why'));
    expect(log()).toContain('Error: berth compose exited with code 1');
  });

  it('cancels the provider; closing while it runs leaves it running in Tasks', async () => {
    const closed = vi.fn();
    const { getByTestId } = render(ComposeDialog, { onclose: closed });
    await fireEvent.input(getByTestId('compose-file'), { target: { value: '~/demo/compose.yaml' } });
    await fireEvent.click(getByTestId('compose-up'));
    await waitFor(() => expect((getByTestId('compose-cancel') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('compose-cancel'));
    await waitFor(() => getByTestId('compose-cancelled'));
    expect(fake.cancelledComposes).toEqual(['compose-1']);

    await fireEvent.click(getByTestId('compose-up'));
    await waitFor(() => expect((getByTestId('compose-cancel') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('dialog-close'));
    expect(closed).toHaveBeenCalled();
    const { tasks } = await import('../stores');
    // (the fake's ids start again with each test: the last task is this one)
    expect(get(tasks).at(-1)).toMatchObject({ name: 'Compose up ~/demo/compose.yaml', handle: 'compose-2', state: 'running', background: true });
    expect(fake.cancelledComposes).toEqual(['compose-1']);
    fake.finishCompose(0);
    await waitFor(() => expect(get(tasks).at(-1)?.state).toBe('done'));
  });
});
