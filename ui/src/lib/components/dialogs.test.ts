import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CreateRequest } from '../bindings/CreateRequest';
import type { PullEvent } from '../bindings/PullEvent';
import type { PushEvent } from '../bindings/PushEvent';
import { ApiError } from '../backend/errors';
import { container, image } from '../testing/fakeBackend';

// The dialogs reach the engine through the app's backend module: replace it for these tests.
const fake = vi.hoisted(() => ({
  imageDetails: vi.fn(),
  freePort: vi.fn(),
  createContainer: vi.fn(),
  pullImage: vi.fn(),
  cancelPull: vi.fn(),
  pushImage: vi.fn(),
  setRegistry: vi.fn(),
  getSettings: vi.fn(),
  listImages: vi.fn(async () => []),
}));
vi.mock('../backend', async () => {
  const errors = await import('../backend/errors');
  return {
    backend: { ...fake, onEngineEvent: () => () => {} },
    ApiError: errors.ApiError,
    errorMessage: errors.errorMessage,
  };
});

const { default: CreateDialog } = await import('./CreateDialog.svelte');
const { default: PullDialog } = await import('./PullDialog.svelte');
const { default: PushDialog } = await import('./PushDialog.svelte');

afterEach(() => vi.clearAllMocks());

describe('CreateDialog', () => {
  it('prefills from the image, suggests host ports, validates as typed and sends the request', async () => {
    fake.imageDetails.mockResolvedValue({
      id: 'sha256:1',
      names: ['docker.io/library/nginx:latest'],
      cmd: ['nginx', '-g', 'daemon off;'],
      entrypoint: [],
      env: [],
      workingDir: '/',
      exposedPorts: ['80/tcp'],
    });
    fake.freePort.mockImplementation(async (_p: string, preferred?: number) => (preferred === 80 ? 8081 : 40000));
    fake.createContainer.mockRejectedValueOnce(new ApiError('conflict', 'the container name "web" is already in use'));
    fake.createContainer.mockResolvedValueOnce(container({ name: 'web2' }));
    const oncreated = vi.fn();
    const { getByTestId, getAllByTestId } = render(CreateDialog, { reference: 'nginx', onclose: () => {}, oncreated });

    await waitFor(() => expect((getByTestId('port-host') as HTMLInputElement).value).toBe('8081'));
    expect(fake.imageDetails).toHaveBeenCalledWith('nginx');
    expect((getByTestId('create-command') as HTMLInputElement).value).toBe(`nginx -g 'daemon off;'`);
    expect(getAllByTestId('port-row')).toHaveLength(1);

    // a second row with the same host port is flagged while typing
    await fireEvent.click(getByTestId('add-port'));
    const hosts = getAllByTestId('port-host') as HTMLInputElement[];
    const containers = getAllByTestId('port-container') as HTMLInputElement[];
    await fireEvent.input(hosts[1], { target: { value: '8081' } });
    await fireEvent.input(containers[1], { target: { value: '443' } });
    await waitFor(() => expect(getAllByTestId('port-error')[1].textContent).toContain('8081/tcp is used twice'));
    await fireEvent.input(hosts[1], { target: { value: '8443' } });
    await waitFor(() => expect(getAllByTestId('port-error')[1].textContent).toBe(''));

    await fireEvent.click(getByTestId('env-add'));
    await fireEvent.input(getByTestId('env-key'), { target: { value: 'MODE' } });
    await fireEvent.input(getByTestId('env-value'), { target: { value: 'prod' } });
    await fireEvent.input(getByTestId('create-name'), { target: { value: 'web' } });

    await fireEvent.submit(getByTestId('create-form'));
    await waitFor(() => expect(getByTestId('create-error').textContent).toBe('the container name "web" is already in use'));
    expect(oncreated).not.toHaveBeenCalled();

    await fireEvent.input(getByTestId('create-name'), { target: { value: 'web2' } });
    await fireEvent.submit(getByTestId('create-form'));
    await waitFor(() => expect(oncreated).toHaveBeenCalledTimes(1));
    const request: CreateRequest = fake.createContainer.mock.calls[1][0];
    expect(request).toEqual({
      image: 'nginx',
      name: 'web2',
      command: null,
      entrypoint: null,
      ports: [
        { hostIp: '', hostPort: 8081, containerPort: 80, protocol: 'tcp' },
        { hostIp: '', hostPort: 8443, containerPort: 443, protocol: 'tcp' },
      ],
      env: ['MODE=prod'],
      envFile: null,
      restart: 'no',
      remove: false,
      start: true,
      volumes: [],
      healthcheck: null,
      noHealthcheck: false,
      healthOnFailure: 'none',
    });
  });

  it('shows an unknown image under the field and sends nothing for an invalid form', async () => {
    fake.imageDetails.mockRejectedValue(new ApiError('not_found', 'no such image "nope"'));
    const { getByTestId } = render(CreateDialog, { reference: 'nope', onclose: () => {}, oncreated: () => {} });
    await waitFor(() => expect(getByTestId('create-image-error').textContent).toBe('no such image "nope"'));
    await fireEvent.input(getByTestId('create-name'), { target: { value: '-bad name' } });
    await fireEvent.submit(getByTestId('create-form'));
    await waitFor(() => expect(getByTestId('create-error').textContent).toBe('fix the highlighted fields first'));
    expect(fake.createContainer).not.toHaveBeenCalled();
  });
});

describe('CreateDialog healthcheck', () => {
  it("shows the image's check, checks durations as typed and sends the flags", async () => {
    fake.imageDetails.mockResolvedValue({
      id: 'sha256:1',
      names: ['docker.io/library/busybox:latest'],
      cmd: ['sh'],
      entrypoint: [],
      env: [],
      workingDir: '/',
      exposedPorts: [],
      healthcheck: { command: { form: 'shell', line: 'test -f /ready' }, intervalMs: 10_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 },
    });
    fake.createContainer.mockResolvedValue(container({ name: 'checked' }));
    const oncreated = vi.fn();
    const { getByTestId } = render(CreateDialog, { reference: 'busybox', onclose: () => {}, oncreated });
    await waitFor(() => expect(getByTestId('create-health-state').textContent).toBe("the image's"));
    expect(getByTestId('create-health-image').textContent).toContain('test -f /ready (every 10s, timeout 30s, 3 retries)');
    expect((getByTestId('create-health-cmd') as HTMLInputElement).placeholder).toBe('test -f /ready');
    expect((getByTestId('create-health-interval') as HTMLInputElement).placeholder).toBe('10s');

    await fireEvent.input(getByTestId('create-health-cmd'), { target: { value: 'wget -q -O- localhost:8080/health' } });
    await fireEvent.input(getByTestId('create-health-interval'), { target: { value: '5x' } });
    await fireEvent.input(getByTestId('create-health-retries'), { target: { value: 'many' } });
    expect(getByTestId('create-health-state').textContent).toBe('set here');
    await waitFor(() =>
      expect(getByTestId('create-health-timing-error').textContent).toBe(
        'interval "5x" is not a duration: give a number and a unit, like 30s, 1m30s or 500ms; retries: a whole number, 1 or more',
      ),
    );
    await fireEvent.submit(getByTestId('create-form'));
    await waitFor(() => expect(getByTestId('create-error').textContent).toBe('fix the highlighted fields first'));
    expect((getByTestId('create-health') as HTMLDetailsElement).open).toBe(true);
    expect(fake.createContainer).not.toHaveBeenCalled();

    await fireEvent.input(getByTestId('create-health-interval'), { target: { value: '1m30s' } });
    await fireEvent.input(getByTestId('create-health-retries'), { target: { value: '2' } });
    // (The on-failure select's binding is not testable here: happy-dom's `:checked` matches no
    // option. forms/health.test.ts covers what it sends.)
    await waitFor(() => expect(getByTestId('create-health-timing-error').textContent).toBe(''));
    await fireEvent.submit(getByTestId('create-form'));
    await waitFor(() => expect(oncreated).toHaveBeenCalledTimes(1));
    const request: CreateRequest = fake.createContainer.mock.calls[0][0];
    expect([request.healthcheck, request.noHealthcheck, request.healthOnFailure]).toEqual([
      { command: 'wget -q -O- localhost:8080/health', interval: '1m30s', timeout: null, startPeriod: null, retries: 2 },
      false,
      'none',
    ]);
  });

  it("disables the image's check: its fields are off and nothing of them is sent", async () => {
    fake.imageDetails.mockResolvedValue({ id: 'sha256:1', names: ['x'], cmd: ['sh'], entrypoint: [], env: [], workingDir: '/', exposedPorts: [], healthcheck: null });
    fake.createContainer.mockResolvedValue(container());
    const oncreated = vi.fn();
    const { getByTestId } = render(CreateDialog, { reference: 'x', onclose: () => {}, oncreated });
    await waitFor(() => expect(getByTestId('create-health-state').textContent).toBe('none'));
    expect(getByTestId('create-health-image').textContent).toContain('The image defines no healthcheck');
    // Timings without a command, for an image without a check: said at once.
    await fireEvent.input(getByTestId('create-health-timeout'), { target: { value: '5s' } });
    await waitFor(() => expect(getByTestId('create-health-cmd-error').textContent).toBe('the image has no healthcheck: give the command these timings are for'));
    await fireEvent.click(getByTestId('create-health-disable'));
    await waitFor(() => expect(getByTestId('create-health-cmd-error').textContent).toBe(''));
    expect((getByTestId('create-health-cmd') as HTMLInputElement).closest('fieldset')?.disabled).toBe(true);
    expect(getByTestId('create-health-state').textContent).toBe('disabled');
    await fireEvent.submit(getByTestId('create-form'));
    await waitFor(() => expect(oncreated).toHaveBeenCalled());
    const request: CreateRequest = fake.createContainer.mock.calls[0][0];
    expect([request.healthcheck, request.noHealthcheck, request.healthOnFailure]).toEqual([null, true, 'none']);
  });
});

describe('CreateDialog with an image that is not here', () => {
  it('offers to pull it, shows the progress, then reads it as if it had been there', async () => {
    fake.imageDetails
      .mockRejectedValueOnce(new ApiError('not_found', 'no image busybox:1.36 here'))
      .mockResolvedValue({ id: 'sha256:1', names: ['docker.io/library/busybox:1.36'], cmd: ['sh'], entrypoint: [], env: [], workingDir: '/', exposedPorts: [] });
    let finish!: () => void;
    fake.pullImage.mockImplementation(async (reference: string, onProgress: (e: PullEvent) => void) => {
      onProgress({ type: 'resolved', reference, manifestDigest: 'sha256:m', layers: [{ digest: 'sha256:a', size: 1 }, { digest: 'sha256:b', size: 1 }] });
      onProgress({ type: 'layer', reference, digest: 'sha256:a', phase: 'done', current: 1, total: 1 });
      await new Promise<void>((r) => (finish = r));
      return image({ names: ['docker.io/library/busybox:1.36'] });
    });
    const { getByTestId, queryByTestId } = render(CreateDialog, { reference: 'busybox:1.36', onclose: () => {}, oncreated: () => {} });
    await waitFor(() => expect(getByTestId('create-pull').textContent).toContain('busybox:1.36'));
    await fireEvent.click(getByTestId('create-pull'));
    await waitFor(() => expect(getByTestId('create-pull-progress').textContent).toContain('1 of 2 layers'));
    finish();
    await waitFor(() => expect((getByTestId('create-command') as HTMLInputElement).value).toBe('sh'));
    expect(fake.pullImage.mock.calls[0][0]).toBe('busybox:1.36');
    expect(queryByTestId('create-pull')).toBeNull();
    expect(getByTestId('create-image-error').textContent).toBe('');
  });
});

describe('PullDialog', () => {
  it('draws a bar per layer from the progress events and reports success', async () => {
    let finish!: () => void;
    fake.pullImage.mockImplementation(async (reference: string, onProgress: (e: PullEvent) => void) => {
      onProgress({ type: 'resolved', reference, manifestDigest: 'sha256:m', layers: [{ digest: 'sha256:aaa', size: 100 }, { digest: 'sha256:bbb', size: 50 }] });
      onProgress({ type: 'layer', reference, digest: 'sha256:aaa', phase: 'downloading', current: 50, total: 100 });
      await new Promise<void>((r) => (finish = r));
      onProgress({ type: 'done', reference, imageId: 'sha256:i' });
      return image({ names: ['docker.io/library/alpine:latest'] });
    });
    const { getByTestId, getAllByTestId, queryByTestId } = render(PullDialog, { onclose: () => {}, onrun: () => {} });
    await fireEvent.input(getByTestId('pull-reference'), { target: { value: 'alpine' } });
    await fireEvent.click(getByTestId('pull-submit'));
    await waitFor(() => expect(getAllByTestId('layer-progress')).toHaveLength(2));
    const [a, b] = getAllByTestId('layer-progress');
    expect(a.dataset.phase).toBe('downloading');
    expect((a.querySelector('.fill') as HTMLElement).style.width).toBe('50%');
    expect(b.dataset.phase).toBe('waiting');
    expect(queryByTestId('pull-success')).toBeNull();
    finish();
    await waitFor(() => expect(getByTestId('pull-success').textContent).toContain('docker.io/library/alpine:latest'));
    expect(fake.pullImage.mock.calls[0][0]).toBe('alpine');
  });

  it('cancels the running pull by its id and says nothing was kept', async () => {
    let fail!: (e: unknown) => void;
    fake.pullImage.mockImplementation(async (reference: string, onProgress: (e: PullEvent) => void) => {
      onProgress({ type: 'started', pull: 'p-1' });
      onProgress({ type: 'resolved', reference, manifestDigest: 'sha256:m', layers: [{ digest: 'sha256:aaa', size: 100 }] });
      return new Promise((_, reject) => (fail = reject));
    });
    fake.cancelPull.mockImplementation(async () => {
      fail(new ApiError('cancelled', 'the pull was cancelled'));
      return null;
    });
    const onclose = vi.fn();
    const { getByTestId, queryByTestId } = render(PullDialog, { onclose, onrun: () => {} });
    await fireEvent.input(getByTestId('pull-reference'), { target: { value: 'alpine' } });
    await fireEvent.click(getByTestId('pull-submit'));
    await waitFor(() => expect((getByTestId('pull-cancel') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(getByTestId('pull-cancel'));
    await waitFor(() => expect(getByTestId('pull-cancelled')).toBeTruthy());
    expect(fake.cancelPull).toHaveBeenCalledWith('p-1');
    expect(queryByTestId('pull-cancel')).toBeNull();
    expect(getByTestId('pull-error').textContent).toBe('');
    expect(queryByTestId('layer-progress')).toBeNull();
    expect(onclose).not.toHaveBeenCalled();
  });

  it('leaves the pull running in Tasks when closed while it runs', async () => {
    const { tasks } = await import('../stores');
    fake.pullImage.mockImplementation(async (_reference: string, onProgress: (e: PullEvent) => void) => {
      onProgress({ type: 'started', pull: 'p-2' });
      return new Promise(() => {});
    });
    const onclose = vi.fn();
    const { getByTestId } = render(PullDialog, { onclose, onrun: () => {} });
    await fireEvent.input(getByTestId('pull-reference'), { target: { value: 'alpine' } });
    await fireEvent.click(getByTestId('pull-submit'));
    await waitFor(() => expect(getByTestId('pull-background-hint')).toBeTruthy());
    await fireEvent.click(getByTestId('pull-hide'));
    expect(fake.cancelPull).not.toHaveBeenCalled();
    expect(onclose).toHaveBeenCalled();
    const task = get(tasks).find((t) => t.handle === 'p-2');
    expect(task).toMatchObject({ name: 'Pull alpine', state: 'running', background: true });
  });

  it('shows the engine error under the field', async () => {
    fake.pullImage.mockRejectedValue(new ApiError('invalid', 'error parsing image reference "Alpine": repository name must be lowercase'));
    const { getByTestId } = render(PullDialog, { onclose: () => {}, onrun: () => {} });
    await fireEvent.input(getByTestId('pull-reference'), { target: { value: 'Alpine' } });
    await fireEvent.click(getByTestId('pull-submit'));
    await waitFor(() => expect(getByTestId('pull-error').textContent).toMatch(/must be lowercase/));
  });

  it('offers to allow a plain-HTTP registry in one click, then pulls again', async () => {
    fake.pullImage
      .mockRejectedValueOnce(new ApiError('insecure_registry', 'registry 127.0.0.1:5000 answers over plain HTTP only, without TLS: allow plain HTTP for it here or in Settings → Registries'))
      .mockResolvedValueOnce(image({ names: ['127.0.0.1:5000/e2e/busybox:latest'] }));
    fake.setRegistry.mockResolvedValue({ registries: [], socket: null });
    const { getByTestId, queryByTestId } = render(PullDialog, { onclose: () => {}, onrun: () => {} });
    await fireEvent.input(getByTestId('pull-reference'), { target: { value: '127.0.0.1:5000/e2e/busybox' } });
    await fireEvent.click(getByTestId('pull-submit'));
    await waitFor(() => expect(getByTestId('pull-allow-insecure').textContent).toContain('127.0.0.1:5000'));
    expect(getByTestId('pull-error').textContent).toContain('Settings → Registries');
    await fireEvent.click(getByTestId('pull-allow-insecure'));
    await waitFor(() => expect(getByTestId('pull-success').textContent).toContain('127.0.0.1:5000/e2e/busybox:latest'));
    expect(fake.setRegistry).toHaveBeenCalledWith('127.0.0.1:5000', true);
    expect(fake.pullImage).toHaveBeenCalledTimes(2);
    expect(queryByTestId('pull-insecure')).toBeNull();
  });

  it('offers nothing for other errors', async () => {
    fake.pullImage.mockRejectedValue(new ApiError('not_found', 'manifest unknown'));
    const { getByTestId, queryByTestId } = render(PullDialog, { onclose: () => {}, onrun: () => {} });
    await fireEvent.input(getByTestId('pull-reference'), { target: { value: '127.0.0.1:5000/nope' } });
    await fireEvent.click(getByTestId('pull-submit'));
    await waitFor(() => expect(getByTestId('pull-error').textContent).toContain('manifest unknown'));
    expect(queryByTestId('pull-insecure')).toBeNull();
  });
});

describe('PushDialog', () => {
  it('prefills the image name, draws a bar per layer and reports the digest', async () => {
    let finish!: () => void;
    fake.pushImage.mockImplementation(
      async (_id: string, destination: string, _tls: boolean | null, onProgress: (e: PushEvent) => void) => {
        onProgress({ type: 'started', layers: [{ digest: 'sha256:aaa', size: 100 }, { digest: 'sha256:bbb', size: 50 }] });
        onProgress({ type: 'layer', digest: 'sha256:aaa', phase: 'mounted', current: 100, total: 100 });
        onProgress({ type: 'layer', digest: 'sha256:bbb', phase: 'uploading', current: 25, total: 50 });
        await new Promise<void>((r) => (finish = r));
        onProgress({ type: 'manifest', digest: 'sha256:0123456789abcdef' });
        return { destination, manifestDigest: 'sha256:0123456789abcdef' };
      },
    );
    const img = image({ names: ['127.0.0.1:5000/team/app:1'], repository: '127.0.0.1:5000/team/app', tag: '1' });
    const { getByTestId, getAllByTestId, queryByTestId } = render(PushDialog, { image: img, onclose: () => {} });
    expect((getByTestId('push-destination') as HTMLInputElement).value).toBe('127.0.0.1:5000/team/app:1');
    await fireEvent.input(getByTestId('push-destination'), { target: { value: 'dir:/tmp/app' } });
    await fireEvent.click(getByTestId('push-plain-http'));
    await fireEvent.click(getByTestId('push-submit'));
    await waitFor(() => expect(getAllByTestId('push-layer')).toHaveLength(2));
    const [a, b] = getAllByTestId('push-layer');
    expect([a.dataset.phase, b.dataset.phase]).toEqual(['mounted', 'uploading']);
    expect((b.querySelector('.fill') as HTMLElement).style.width).toBe('50%');
    expect(queryByTestId('push-success')).toBeNull();
    finish();
    await waitFor(() => expect(getByTestId('push-success').textContent).toContain('Pushed to dir:/tmp/app'));
    expect(getByTestId('push-success').textContent).toContain('0123456789ab');
    expect(fake.pushImage.mock.calls[0].slice(0, 3)).toEqual([img.id, 'dir:/tmp/app', false]);
  });

  it('refuses an empty destination and shows the engine error under the field', async () => {
    const dangling = image({ names: [], repository: '<none>', tag: '<none>' });
    const { getByTestId } = render(PushDialog, { image: dangling, onclose: () => {} });
    expect((getByTestId('push-destination') as HTMLInputElement).value).toBe('');
    await fireEvent.click(getByTestId('push-submit'));
    await waitFor(() => expect(getByTestId('push-error').textContent).toMatch(/enter a destination/));
    expect(fake.pushImage).not.toHaveBeenCalled();

    fake.pushImage.mockRejectedValue(new ApiError('invalid', 'invalid destination "bogus:/x": unknown transport "bogus"'));
    await fireEvent.input(getByTestId('push-destination'), { target: { value: 'bogus:/x' } });
    await fireEvent.click(getByTestId('push-submit'));
    await waitFor(() => expect(getByTestId('push-error').textContent).toMatch(/unknown transport/));
    expect(fake.pushImage.mock.calls[0][2]).toBeNull();
  });
});
