import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../backend/errors';
import { FakeBackend, image } from '../testing/fakeBackend';

// The dialog reaches the engine through the app's backend module: the fake backend instead.
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

const { default: BuildImageDialog } = await import('./BuildImageDialog.svelte');
const fake = state.fake!;
const log = () => state.written.join('');

afterEach(() => {
  fake.buildEvents = [];
  fake.buildRequests = [];
  fake.cancelledBuilds = [];
  fake.buildError = null;
  state.written = [];
});

describe('BuildImageDialog', () => {
  it('checks the form before building: the Containerfile path, the context, the arguments', async () => {
    const { getByTestId, getAllByTestId, queryAllByTestId } = render(BuildImageDialog, { onclose: () => {} });
    await fireEvent.click(getByTestId('build-submit'));
    await waitFor(() => expect(getByTestId('build-containerfile-error').textContent).toBe('enter the path of the Containerfile'));
    expect(fake.buildRequests).toEqual([]);

    await fireEvent.input(getByTestId('build-containerfile'), { target: { value: 'src/Containerfile' } });
    await waitFor(() => expect(getByTestId('build-containerfile-error').textContent).toMatch(/give an absolute path for the Containerfile/));
    await fireEvent.input(getByTestId('build-containerfile'), { target: { value: '/src/app/Containerfile' } });
    await waitFor(() => expect(getByTestId('build-containerfile-error').textContent).toBe(''));
    // the context defaults to the Containerfile's folder
    expect((getByTestId('build-context') as HTMLInputElement).placeholder).toBe('/src/app');
    await fireEvent.input(getByTestId('build-context'), { target: { value: 'ctx' } });
    await waitFor(() => expect(getByTestId('build-context-error').textContent).toMatch(/^ctx: give an absolute path/));
    await fireEvent.input(getByTestId('build-context'), { target: { value: '' } });

    await fireEvent.click(getByTestId('build-arg-add'));
    await fireEvent.click(getByTestId('build-arg-add'));
    await fireEvent.click(getByTestId('build-arg-add'));
    expect(getAllByTestId('build-arg-row')).toHaveLength(3);
    const keys = getAllByTestId('build-arg-key');
    const values = getAllByTestId('build-arg-value');
    await fireEvent.input(values[0], { target: { value: 'orphan' } });
    await fireEvent.input(keys[1], { target: { value: 'WHO' } });
    await fireEvent.input(values[1], { target: { value: 'me' } });
    await fireEvent.click(getByTestId('build-submit'));
    await waitFor(() => expect(getAllByTestId('build-arg-error')[0].textContent).toBe('give the name of the ARG this value is for'));
    expect(fake.buildRequests).toEqual([]);
    await fireEvent.click(getAllByTestId('build-arg-remove')[0]);
    expect(queryAllByTestId('build-arg-row')).toHaveLength(2);

    await fireEvent.input(getByTestId('build-name'), { target: { value: 'app:1' } });
    await fireEvent.click(getByTestId('build-no-cache'));
    await fireEvent.click(getByTestId('build-submit'));
    await waitFor(() => expect(fake.buildRequests).toHaveLength(1));
    expect(fake.buildRequests[0]).toEqual({
      containerfile: '/src/app/Containerfile',
      context: null,
      name: 'app:1',
      buildArgs: [{ key: 'WHO', value: 'me' }],
      target: null,
      noCache: true,
      pull: 'missing',
    });
    fake.finishBuild(image({ names: ['localhost/app:1'], repository: 'localhost/app', tag: '1' }));
  });

  it('shows the streamed lines in the log, then the new image', async () => {
    fake.buildEvents = [
      { type: 'step', stage: null, step: 1, steps: 2, text: 'FROM busybox', line: 'STEP 1/2: FROM busybox' },
      { type: 'step', stage: null, step: 2, steps: 2, text: 'RUN echo marker-42', line: 'STEP 2/2: RUN echo marker-42' },
      { type: 'output', line: 'marker-42' },
      { type: 'commit', name: 'localhost/app:latest', line: 'COMMIT localhost/app:latest' },
      { type: 'tagged', name: 'localhost/app:latest', line: 'Successfully tagged localhost/app:latest' },
    ];
    const { getByTestId, queryByTestId } = render(BuildImageDialog, { onclose: () => {} });
    await fireEvent.input(getByTestId('build-containerfile'), { target: { value: '~/app/Containerfile' } });
    await fireEvent.input(getByTestId('build-name'), { target: { value: 'app' } });
    await fireEvent.click(getByTestId('build-submit'));
    await waitFor(() => expect(log()).toContain('Successfully tagged localhost/app:latest\r\n'));
    expect(log()).toContain('\x1b[1mSTEP 2/2: RUN echo marker-42\x1b[0m\r\n');
    expect(log()).toContain('marker-42\r\n');
    expect(getByTestId('build-log')).toBeTruthy();
    expect((getByTestId('build-submit') as HTMLButtonElement).disabled).toBe(true);
    expect(queryByTestId('build-success')).toBeNull();
    fake.finishBuild(image({ id: 'b'.repeat(64), names: ['localhost/app:latest'], repository: 'localhost/app', tag: 'latest' }));
    await waitFor(() => expect(getByTestId('build-success').textContent).toMatch(/Built localhost\/app:latest\s+\(bbbbbbbbbbbb\)/));
    expect(getByTestId('build-close')).toBeTruthy();
    expect((getByTestId('build-containerfile') as HTMLInputElement).disabled).toBe(true);
  });

  it('cancels a running build by its id, and says it was cancelled', async () => {
    fake.buildEvents = [{ type: 'step', stage: null, step: 1, steps: 2, text: 'RUN sleep 60', line: 'STEP 1/2: RUN sleep 60' }];
    const { getByTestId, queryByTestId } = render(BuildImageDialog, { onclose: () => {} });
    await fireEvent.input(getByTestId('build-containerfile'), { target: { value: '/src/Containerfile' } });
    await fireEvent.click(getByTestId('build-submit'));
    await waitFor(() => expect((getByTestId('build-cancel') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('build-cancel'));
    await waitFor(() => expect(getByTestId('build-cancelled').textContent).toMatch(/Build cancelled/));
    expect(fake.cancelledBuilds).toEqual(['build-1']);
    expect(log()).toContain('Build cancelled');
    expect(getByTestId('build-error').textContent).toBe('');
    expect(queryByTestId('build-success')).toBeNull();
    // the form is back, to build again
    expect((getByTestId('build-submit') as HTMLButtonElement).disabled).toBe(false);
    expect(queryByTestId('build-cancel')).toBeNull();
  });

  it('shows the engine error, and closing during a build leaves it running in Tasks', async () => {
    fake.buildError = new ApiError('invalid', 'Containerfile:2: unknown instruction FROBNICATE');
    const { getByTestId, unmount } = render(BuildImageDialog, { onclose: () => {} });
    await fireEvent.input(getByTestId('build-containerfile'), { target: { value: '/src/Containerfile' } });
    await fireEvent.click(getByTestId('build-submit'));
    await waitFor(() => expect(getByTestId('build-error').textContent).toBe('Containerfile:2: unknown instruction FROBNICATE'));
    expect(log()).toContain('Error: Containerfile:2: unknown instruction FROBNICATE');

    expect((getByTestId('build-submit') as HTMLButtonElement).disabled).toBe(false);
    unmount();

    // (one dialog at a time: the form's id is the dialog's)
    fake.buildError = null;
    const onclose = vi.fn();
    const second = within(render(BuildImageDialog, { onclose }).container);
    await fireEvent.input(second.getByTestId('build-containerfile'), { target: { value: '/src/Containerfile' } });
    await fireEvent.click(second.getByTestId('build-submit'));
    await waitFor(() => expect((second.getByTestId('build-cancel') as HTMLButtonElement).disabled).toBe(false));
    expect(second.getByTestId('build-background-hint')).toBeTruthy();
    await fireEvent.click(second.getByTestId('dialog-close'));
    expect(onclose).toHaveBeenCalled();
    const { tasks } = await import('../stores');
    // (the fake's ids start again with each test: the last task is this one)
    const task = () => get(tasks).at(-1);
    expect(task()).toMatchObject({ handle: 'build-2', kind: 'build', name: 'Build /src/Containerfile', state: 'running', background: true });
    expect(fake.cancelledBuilds).toEqual([]);
    // The Tasks panel's Cancel reaches the build.
    await tasks.cancel(task()!.id);
    await waitFor(() => expect(task()?.state).toBe('cancelled'));
    expect(fake.cancelledBuilds).toEqual(['build-2']);
  });
});
