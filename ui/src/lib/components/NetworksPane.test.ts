import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { network } from '../testing/fakeBackend';

const state = vi.hoisted(() => ({ networks: [] as unknown[] }));
const fake = vi.hoisted(() => ({
  listContainers: vi.fn(async () => []),
  listImages: vi.fn(async () => []),
  listVolumes: vi.fn(async () => []),
  listNetworks: vi.fn(async () => state.networks),
  engineInfo: vi.fn(async () => ({ version: '0', root: '/', runRoot: '/', containersRunning: 0, containersTotal: 0, images: 0, rootless: false })),
  createNetwork: vi.fn(),
  removeNetwork: vi.fn(),
  pruneNetworks: vi.fn(),
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
const { default: NetworksPane } = await import('./NetworksPane.svelte');

function names(root: HTMLElement) {
  return [...root.querySelectorAll<HTMLElement>('[data-testid=network-row]')].map((r) => r.dataset.name);
}

describe('NetworksPane', () => {
  it('lists the networks, the default first, with DNS and members; opens one', async () => {
    state.networks = [
      network({ name: 'backend', created: 200, members: 2, labels: { team: 'web' } }),
      network({ name: 'berth', isDefault: true, dns: false, subnet: '10.88.0.0/16', created: 100, members: 1 }),
      network({ name: 'frontend', subnet: '10.89.2.0/24', created: 300 }),
    ];
    await stores.start();
    const onopen = vi.fn();
    const { container: root, findAllByTestId, getByTestId } = render(NetworksPane, { onopen });
    await findAllByTestId('network-row');
    expect(names(root)).toEqual(['berth', 'frontend', 'backend']);
    const cells = (testid: string) => [...root.querySelectorAll(`[data-testid=${testid}]`)].map((e) => e.textContent?.trim());
    expect(cells('network-dns')).toEqual(['off', 'on', 'on']);
    expect(cells('network-members')).toEqual(['1', '0', '2']);
    // The default network cannot be removed: it has no Remove.
    expect(root.querySelector('[data-name=berth] [data-testid=network-remove-row]')).toBeNull();
    expect(root.textContent).toContain('3 networks · 1 unused');

    await fireEvent.input(getByTestId('network-search'), { target: { value: 'team=web' } });
    expect(names(root)).toEqual(['backend']);
    await fireEvent.input(getByTestId('network-search'), { target: { value: '10.89.2' } });
    expect(names(root)).toEqual(['frontend']);
    await fireEvent.input(getByTestId('network-search'), { target: { value: '' } });

    await fireEvent.click(root.querySelector('[data-name=backend] [data-testid=network-open]')!);
    expect(onopen).toHaveBeenCalledWith('backend');
    // Enter on the row under the cursor opens it too; Delete asks to remove it.
    const table = getByTestId('networks-table');
    await fireEvent.keyDown(table, { key: 'ArrowDown' });
    await fireEvent.keyDown(table, { key: 'ArrowDown' });
    await fireEvent.keyDown(table, { key: 'Enter' });
    expect(onopen).toHaveBeenLastCalledWith('frontend');
  });

  it('creates a network: fields checked as typed, the engine’s refusal shown, then created', async () => {
    state.networks = [network({ name: 'berth', isDefault: true, dns: false })];
    await stores.networks.refresh();
    const { getByTestId, findByTestId } = render(NetworksPane, {});
    await fireEvent.click(getByTestId('network-create'));
    await findByTestId('network-create-dialog');

    // Nothing typed yet: no error until a submit.
    expect(getByTestId('network-name-error').textContent).toBe('');
    await fireEvent.click(getByTestId('network-create-submit'));
    expect(getByTestId('network-name-error').textContent).toBe('enter a name');
    expect(fake.createNetwork).not.toHaveBeenCalled();

    await fireEvent.input(getByTestId('network-name'), { target: { value: 'backend' } });
    await fireEvent.input(getByTestId('network-subnet'), { target: { value: '10.90.0.0/33' } });
    expect(getByTestId('network-subnet-error').textContent).toBe('"10.90.0.0/33" is not an IPv4 subnet: write an address and a prefix, like 10.90.0.0/24');
    await fireEvent.input(getByTestId('network-subnet'), { target: { value: '10.90.0.0/24' } });
    await fireEvent.input(getByTestId('network-gateway'), { target: { value: '10.91.0.1' } });
    expect(getByTestId('network-gateway-error').textContent).toBe('10.91.0.1 is not a host address of 10.90.0.0/24');
    expect(getByTestId('network-gateway').classList.contains('invalid')).toBe(true);
    await fireEvent.input(getByTestId('network-gateway'), { target: { value: '10.90.0.254' } });
    expect(getByTestId('network-gateway-error').textContent).toBe('');
    await fireEvent.input(getByTestId('network-labels'), { target: { value: 'team=web\n\n' } });

    fake.createNetwork.mockRejectedValueOnce({ code: 'invalid', message: 'subnet 10.90.0.0/24 overlaps network other\'s 10.90.0.0/16: choose another --subnet' });
    await fireEvent.click(getByTestId('network-create-submit'));
    await waitFor(() => expect(getByTestId('network-create-error').textContent).toContain('overlaps network other'));
    expect(fake.createNetwork).toHaveBeenLastCalledWith('backend', '10.90.0.0/24', '10.90.0.254', ['team=web'], false, false);

    fake.createNetwork.mockResolvedValueOnce(network({ name: 'backend', subnet: '10.90.0.0/24' }));
    const lists = fake.listNetworks.mock.calls.length;
    await fireEvent.click(getByTestId('network-create-submit'));
    await waitFor(() => expect(() => getByTestId('network-create-dialog')).toThrow());
    await waitFor(() => expect(fake.listNetworks.mock.calls.length).toBeGreaterThan(lists));
  });

  it('removes a network after confirming, and shows why the engine refused', async () => {
    state.networks = [network({ name: 'backend', members: 1 }), network({ name: 'spare' })];
    await stores.networks.refresh();
    const { container: root, getByTestId, findAllByTestId } = render(NetworksPane, {});
    await findAllByTestId('network-row');
    fake.removeNetwork.mockRejectedValueOnce({ code: 'conflict', message: 'network backend is used by container(s) web: remove them first' });
    await fireEvent.click(root.querySelector('[data-name=backend] [data-testid=network-remove-row]')!);
    expect(getByTestId('confirm-dialog').textContent).toContain('has 1 container on it');
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(getByTestId('confirm-error').textContent).toBe('network backend is used by container(s) web: remove them first'));
    await fireEvent.click(getByTestId('dialog-close'));

    fake.removeNetwork.mockResolvedValueOnce(null);
    await fireEvent.click(root.querySelector('[data-name=spare] [data-testid=network-remove-row]')!);
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(fake.removeNetwork).toHaveBeenLastCalledWith('spare'));
    await waitFor(() => expect(() => getByTestId('confirm-dialog')).toThrow());
  });
});
