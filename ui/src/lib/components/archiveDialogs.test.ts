import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../backend/errors';
import { container, image } from '../testing/fakeBackend';

// The dialogs and the image details reach the engine through the app's backend module.
const state = vi.hoisted(() => ({ images: [] as unknown[] }));
const fake = vi.hoisted(() => ({
  saveImage: vi.fn(),
  loadImage: vi.fn(),
  importImage: vi.fn(),
  exportContainer: vi.fn(),
  imageDetails: vi.fn(),
  imageHistory: vi.fn(),
  inspectImage: vi.fn(),
  listImages: vi.fn(async () => state.images),
  listContainers: vi.fn(async () => []),
  engineInfo: vi.fn(async () => ({ version: '0', root: '/', runRoot: '/', containersRunning: 0, containersTotal: 0, images: 0, rootless: false })),
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
const { default: SaveImageDialog } = await import('./SaveImageDialog.svelte');
const { default: LoadImagesDialog } = await import('./LoadImagesDialog.svelte');
const { default: ImportImageDialog } = await import('./ImportImageDialog.svelte');
const { default: ExportContainerDialog } = await import('./ExportContainerDialog.svelte');
const { default: ImageDetails } = await import('./details/ImageDetails.svelte');

afterEach(() => vi.clearAllMocks());

const value = (el: HTMLElement) => (el as HTMLInputElement).value;

describe('SaveImageDialog', () => {
  it('suggests a file per format, saves the image by name and says where', async () => {
    fake.saveImage.mockResolvedValue(null);
    const img = image({ names: ['127.0.0.1:5000/team/app:1'], repository: '127.0.0.1:5000/team/app', tag: '1' });
    const { getByTestId, queryByTestId } = render(SaveImageDialog, { image: img, onclose: () => {} });
    expect(value(getByTestId('save-path'))).toBe('~/app-1.tar');
    await fireEvent.click(getByTestId('save-format-oci'));
    expect(value(getByTestId('save-path'))).toBe('~/app-1-oci.tar');
    expect(queryByTestId('save-success')).toBeNull();
    await fireEvent.click(getByTestId('save-submit'));
    await waitFor(() => expect(getByTestId('save-success').textContent).toContain('~/app-1-oci.tar'));
    expect(fake.saveImage).toHaveBeenCalledWith('127.0.0.1:5000/team/app:1', '~/app-1-oci.tar', 'oci-archive');
  });

  it('keeps a typed path, refuses a relative one and shows the engine error', async () => {
    const { getByTestId, queryByTestId } = render(SaveImageDialog, { image: image(), onclose: () => {} });
    await fireEvent.input(getByTestId('save-path'), { target: { value: 'out.tar' } });
    await fireEvent.click(getByTestId('save-format-oci'));
    expect(value(getByTestId('save-path'))).toBe('out.tar');
    await fireEvent.click(getByTestId('save-submit'));
    await waitFor(() => expect(getByTestId('save-error').textContent).toMatch(/give an absolute path/));
    expect(fake.saveImage).not.toHaveBeenCalled();

    fake.saveImage.mockRejectedValue(new ApiError('engine', '/nope/a.tar: its directory does not exist'));
    await fireEvent.input(getByTestId('save-path'), { target: { value: '/nope/a.tar' } });
    await fireEvent.click(getByTestId('save-submit'));
    await waitFor(() => expect(getByTestId('save-error').textContent).toBe('/nope/a.tar: its directory does not exist'));
    expect(queryByTestId('save-success')).toBeNull();
    expect(fake.saveImage).toHaveBeenCalledWith('docker.io/library/alpine:latest', '/nope/a.tar', 'oci-archive');
  });
});

describe('LoadImagesDialog', () => {
  it('lists what it loaded and refreshes the images', async () => {
    await stores.start();
    const before = fake.listImages.mock.calls.length;
    fake.loadImage.mockResolvedValue([{ id: 'f'.repeat(64), names: ['localhost/app:1'] }]);
    const { getByTestId, getAllByTestId } = render(LoadImagesDialog, { onclose: () => {} });
    await fireEvent.click(getByTestId('load-submit'));
    await waitFor(() => expect(getByTestId('load-error').textContent).toBe('enter the path of the archive'));
    await fireEvent.input(getByTestId('load-path'), { target: { value: ' /tmp/app.tar ' } });
    await fireEvent.click(getByTestId('load-submit'));
    await waitFor(() => expect(getAllByTestId('load-result').map((l) => l.textContent)).toEqual(['Loaded image: localhost/app:1']));
    expect(fake.loadImage).toHaveBeenCalledWith('/tmp/app.tar');
    await waitFor(() => expect(fake.listImages.mock.calls.length).toBeGreaterThan(before));
  });

  it('shows why a file is not loaded', async () => {
    fake.loadImage.mockRejectedValue(new ApiError('invalid', '/tmp/notes.txt: not an archive berth can load'));
    const { getByTestId, queryByTestId } = render(LoadImagesDialog, { onclose: () => {} });
    await fireEvent.input(getByTestId('load-path'), { target: { value: '/tmp/notes.txt' } });
    await fireEvent.click(getByTestId('load-submit'));
    await waitFor(() => expect(getByTestId('load-error').textContent).toMatch(/not an archive/));
    expect(queryByTestId('load-results')).toBeNull();
  });
});

describe('ImportImageDialog', () => {
  it('sends the tarball, the name and the command as a CMD change, and shows the new image', async () => {
    fake.importImage.mockResolvedValue(image({ id: 'd'.repeat(64), names: ['localhost/mine:1'], repository: 'localhost/mine', tag: '1' }));
    const { getByTestId } = render(ImportImageDialog, { onclose: () => {} });
    await fireEvent.input(getByTestId('import-path'), { target: { value: '~/src.tar' } });
    await fireEvent.input(getByTestId('import-name'), { target: { value: ' mine:1 ' } });
    await fireEvent.input(getByTestId('import-command'), { target: { value: 'cat /etc/passwd' } });
    await fireEvent.click(getByTestId('import-submit'));
    await waitFor(() => expect(getByTestId('import-success').textContent).toMatch(/Imported localhost\/mine:1\s+\(dddddddddddd\)/));
    expect(fake.importImage).toHaveBeenCalledWith('~/src.tar', 'mine:1', ['CMD ["cat","/etc/passwd"]'], null);
  });

  it('checks the path and the command before sending, and shows the engine error', async () => {
    const { getByTestId } = render(ImportImageDialog, { onclose: () => {} });
    await fireEvent.input(getByTestId('import-command'), { target: { value: '[sh' } });
    await fireEvent.click(getByTestId('import-submit'));
    await waitFor(() => expect(getByTestId('import-path-error').textContent).toBe('enter the path of the tarball'));
    expect(getByTestId('import-command-error').textContent).toMatch(/JSON array/);
    expect(fake.importImage).not.toHaveBeenCalled();

    fake.importImage.mockRejectedValue(new ApiError('invalid', '/tmp/x is not a tar archive (plain, gzip or zstd)'));
    await fireEvent.input(getByTestId('import-path'), { target: { value: '/tmp/x' } });
    await fireEvent.input(getByTestId('import-command'), { target: { value: '' } });
    await fireEvent.click(getByTestId('import-submit'));
    await waitFor(() => expect(getByTestId('import-error').textContent).toMatch(/is not a tar archive/));
    expect(fake.importImage).toHaveBeenCalledWith('/tmp/x', null, [], null);
  });
});

describe('ExportContainerDialog', () => {
  it('suggests a file named after the container and exports to the typed one', async () => {
    fake.exportContainer.mockResolvedValueOnce(null);
    const c = container({ name: 'web' });
    const { getByTestId } = render(ExportContainerDialog, { container: c, onclose: () => {} });
    expect(value(getByTestId('export-path'))).toBe('~/web.tar');
    await fireEvent.input(getByTestId('export-path'), { target: { value: '/srv/web.tar' } });
    await fireEvent.click(getByTestId('export-submit'));
    await waitFor(() => expect(getByTestId('export-success').textContent).toContain('/srv/web.tar'));
    expect(fake.exportContainer).toHaveBeenCalledWith(c.id, '/srv/web.tar');
  });

  it('shows the engine error', async () => {
    fake.exportContainer.mockRejectedValue(new ApiError('invalid', '/srv/web.tar: can\'t write there: permission denied'));
    const { getByTestId, queryByTestId } = render(ExportContainerDialog, { container: container(), onclose: () => {} });
    await fireEvent.input(getByTestId('export-path'), { target: { value: '/srv/web.tar' } });
    await fireEvent.click(getByTestId('export-submit'));
    await waitFor(() => expect(getByTestId('export-error').textContent).toMatch(/permission denied/));
    expect(queryByTestId('export-success')).toBeNull();
  });
});

describe('ImageDetails', () => {
  it('shows the summary, the history with each step and its size, and the inspect tree', async () => {
    const img = image({ id: 'e'.repeat(64), size: 4_500_000 });
    state.images = [img];
    await stores.start();
    stores.images.invalidate();
    fake.imageDetails.mockResolvedValue({ id: img.id, names: img.names, cmd: ['sh'], entrypoint: [], env: ['PATH=/bin'], workingDir: '', exposedPorts: [] });
    fake.imageHistory.mockResolvedValue([
      { created: 1_700_000_000, createdBy: '/bin/sh -c #(nop) CMD ["sh"]', size: 0, comment: '', emptyLayer: true },
      { created: 1_700_000_000, createdBy: '/bin/sh -c #(nop) ADD file:abc in / ', size: 4_500_000, comment: 'from a tarball', emptyLayer: false },
    ]);
    fake.inspectImage.mockResolvedValue({ Id: img.id, Os: 'linux', Architecture: 'amd64', Config: { Cmd: ['sh'] } });
    let tab = 'summary';
    const props = { id: img.id, tab: 'summary' as const, onclose: () => {}, ontab: (t: string) => (tab = t), onrun: () => {} };
    const r = render(ImageDetails, props);
    await waitFor(() => expect(r.getByTestId('image-summary-cmd').textContent).toBe('sh'));
    expect(r.getByTestId('image-summary-size').textContent).toBe('4.5 MB in 1 layer');
    expect(r.getByTestId('image-summary').textContent).toContain('linux/amd64');

    await fireEvent.click(r.getByTestId('image-tab-history'));
    expect(tab).toBe('history');
    await r.rerender({ ...props, tab: 'history' });
    const rows = r.getAllByTestId('history-row');
    expect(rows.map((row) => row.dataset.empty)).toEqual(['true', 'false']);
    expect(r.getAllByTestId('history-command')[1].textContent).toContain('ADD file:abc in /');
    expect(r.getAllByTestId('history-command')[1].textContent).toContain('from a tarball');
    expect(r.getAllByTestId('history-size').map((s) => s.textContent)).toEqual(['—', '4.5 MB']);

    await r.rerender({ ...props, tab: 'inspect' });
    await waitFor(() => expect(r.getByTestId('image-panel-inspect').textContent).toContain('amd64'));
    expect(fake.imageHistory).toHaveBeenCalledWith(img.id);
  });
});
