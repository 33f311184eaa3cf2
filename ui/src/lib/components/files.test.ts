import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CreateRequest } from '../bindings/CreateRequest';
import type { FileEntry } from '../bindings/FileEntry';
import { ApiError } from '../backend/errors';
import { container } from '../testing/fakeBackend';

const fake = vi.hoisted(() => ({
  listFiles: vi.fn(),
  readFile: vi.fn(),
  downloadFiles: vi.fn(),
  uploadFile: vi.fn(),
  containerCreateRequest: vi.fn(),
  createContainer: vi.fn(),
  imageDetails: vi.fn(),
  freePort: vi.fn(),
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

const { default: FilesBrowser } = await import('./details/FilesBrowser.svelte');
const { default: CreateDialog } = await import('./CreateDialog.svelte');

afterEach(() => vi.clearAllMocks());

function entry(over: Partial<FileEntry>): FileEntry {
  return { name: 'x', kind: 'file', size: 3, mode: '-rw-r--r--', uid: 0, gid: 0, user: 'root', group: 'root', mtime: 0, linkTarget: null, linkToDir: false, ...over };
}

const source = { kind: 'container' as const, name: 'c1' };

describe('FilesBrowser', () => {
  it('lists a directory, enters one, shows links as links and opens a file read-only', async () => {
    fake.listFiles.mockImplementation(async (_s, path: string) =>
      path === '/'
        ? [entry({ name: 'etc', kind: 'dir', mode: 'drwxr-xr-x' }), entry({ name: 'escape', kind: 'link', linkTarget: '/root' })]
        : [entry({ name: 'passwd', size: 30 })],
    );
    fake.readFile.mockResolvedValue({ path: '/etc/passwd', size: 30, binary: false, text: 'root:x:0:0:root:/root:/bin/sh\n' });
    const { getByTestId, getAllByTestId, findByTestId } = render(FilesBrowser, { source });
    await waitFor(() => expect(getAllByTestId('file-row')).toHaveLength(2));
    expect(fake.listFiles).toHaveBeenCalledWith(source, '/');
    expect(getAllByTestId('file-link-target')[0].textContent).toBe('→ /root');
    expect(getAllByTestId('file-row')[1].dataset.kind).toBe('link');

    await fireEvent.click(getAllByTestId('file-open')[0]);
    await waitFor(() => expect(getByTestId('files-table').dataset.path).toBe('/etc'));
    expect((getByTestId('files-path') as HTMLInputElement).value).toBe('/etc');
    await fireEvent.click(getAllByTestId('file-open')[0]);
    const text = await findByTestId('file-viewer-text');
    expect(text.textContent).toContain('root:x:0:0');
    expect(fake.readFile).toHaveBeenCalledWith(source, '/etc/passwd');
  });

  it('shows errors instead of hanging: a directory gone, a file too big', async () => {
    fake.listFiles.mockResolvedValueOnce([entry({ name: 'big', size: 5 << 20 })]);
    fake.listFiles.mockRejectedValueOnce(new ApiError('not_found', '/gone: no such file or directory'));
    fake.readFile.mockRejectedValue(new ApiError('too_large', '/big is larger than 1024 KiB: download it instead'));
    const { getByTestId, getAllByTestId, findByTestId } = render(FilesBrowser, { source });
    await waitFor(() => expect(getAllByTestId('file-row')).toHaveLength(1));
    await fireEvent.click(getAllByTestId('file-open')[0]);
    expect((await findByTestId('file-viewer-error')).textContent).toContain('larger than 1024 KiB');
    const input = getByTestId('files-path') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '/gone' } });
    await fireEvent.submit(input.closest('form')!);
    expect((await findByTestId('files-error')).textContent).toContain('/gone: no such file or directory');
  });

  it('uploads a file into the directory shown, as base64', async () => {
    fake.listFiles.mockResolvedValue([]);
    fake.uploadFile.mockResolvedValue(null);
    const { getByTestId } = render(FilesBrowser, { source, start: '/tmp' });
    await waitFor(() => expect(fake.listFiles).toHaveBeenCalledWith(source, '/tmp'));
    const file = new File(['hi!'], 'note.txt', { type: 'text/plain' });
    await fireEvent.change(getByTestId('files-upload'), { target: { files: [file] } });
    await waitFor(() => expect(fake.uploadFile).toHaveBeenCalledWith(source, '/tmp', 'note.txt', 'aGkh'));
    await waitFor(() => expect(fake.listFiles).toHaveBeenCalledTimes(2));
  });
});

describe('Clone and Edit', () => {
  const recorded: CreateRequest = {
    image: 'docker.io/library/busybox:latest',
    name: 'web-copy',
    command: ['sleep', '1000'],
    entrypoint: null,
    ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    env: ['MODE=prod'],
    envFile: null,
    restart: 'always',
    remove: false,
    start: false,
    volumes: ['data:/data'],
    healthcheck: null,
    noHealthcheck: false,
    healthOnFailure: 'none',
    network: 'backend',
    labels: ['tier=web'],
  };

  it('fills the form from the container and sends it with the container as its base', async () => {
    fake.containerCreateRequest.mockResolvedValue(recorded);
    fake.createContainer.mockResolvedValue(container({ name: 'web-copy' }));
    const oncreated = vi.fn();
    const { getByTestId } = render(CreateDialog, { base: { id: 'abc', name: 'web', edit: false }, onclose: () => {}, oncreated });
    await waitFor(() => expect((getByTestId('create-name') as HTMLInputElement).value).toBe('web-copy'));
    expect(fake.containerCreateRequest).toHaveBeenCalledWith('abc', false);
    expect(fake.imageDetails).not.toHaveBeenCalled();
    expect((getByTestId('create-command') as HTMLInputElement).value).toBe('sleep 1000');
    expect((getByTestId('port-host') as HTMLInputElement).value).toBe('8080');
    expect((getByTestId('env-value') as HTMLInputElement).value).toBe('prod');
    expect((getByTestId('create-network') as HTMLInputElement).value).toBe('backend');
    expect((getByTestId('create-labels') as HTMLTextAreaElement).value).toBe('tier=web');
    await fireEvent.click(getByTestId('create-submit'));
    await waitFor(() => expect(oncreated).toHaveBeenCalled());
    const [request, base] = fake.createContainer.mock.calls[0];
    expect(base).toEqual({ id: 'abc', replace: false });
    expect(request).toMatchObject({ name: 'web-copy', command: ['sleep', '1000'], env: ['MODE=prod'], restart: 'always', volumes: ['data:/data'], network: 'backend', labels: ['tier=web'] });
    expect(request.ports).toEqual(recorded.ports);
  });

  it('edits: the container is replaced, and a bad label is caught first', async () => {
    fake.containerCreateRequest.mockResolvedValue({ ...recorded, name: 'web' });
    fake.createContainer.mockResolvedValue(container({ name: 'web' }));
    const { getByTestId } = render(CreateDialog, { base: { id: 'abc', name: 'web', edit: true }, onclose: () => {}, oncreated: () => {} });
    await waitFor(() => expect((getByTestId('create-name') as HTMLInputElement).value).toBe('web'));
    expect(fake.containerCreateRequest).toHaveBeenCalledWith('abc', true);
    expect(getByTestId('create-submit').textContent).toContain('Save');
    await fireEvent.input(getByTestId('create-labels'), { target: { value: 'no-equals' } });
    await fireEvent.click(getByTestId('create-submit'));
    expect(getByTestId('create-error').textContent).toBe('fix the highlighted fields first');
    expect(fake.createContainer).not.toHaveBeenCalled();
    await fireEvent.input(getByTestId('create-labels'), { target: { value: 'tier=api' } });
    await fireEvent.click(getByTestId('create-submit'));
    await waitFor(() => expect(fake.createContainer).toHaveBeenCalled());
    expect(fake.createContainer.mock.calls[0][1]).toEqual({ id: 'abc', replace: true });
    expect(fake.createContainer.mock.calls[0][0].labels).toEqual(['tier=api']);
  });
});
