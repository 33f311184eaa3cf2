import { render } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

const info = vi.hoisted(() => ({ rootless: false }));
const link = vi.hoisted(() => ({ set: null as null | ((s: string) => void) }));
const fake = vi.hoisted(() => ({
  listContainers: vi.fn(async () => [
    { id: 'a', status: 'running', podInfra: false },
    { id: 'b', status: 'exited', podInfra: false },
    { id: 'i', status: 'running', podInfra: true },
  ]),
  listImages: vi.fn(async () => []),
  engineInfo: vi.fn(async () => ({ version: '1.2.3', root: '/r', runRoot: '/run', containersRunning: 7, containersTotal: 9, images: 3, rootless: info.rootless })),
  containerStats: vi.fn(async () => []),
}));
vi.mock('../backend', async () => {
  const errors = await import('../backend/errors');
  return {
    backend: {
      ...fake,
      onEngineEvent: () => () => {},
      onConnection: (cb: (s: string) => void) => {
        link.set = cb;
        cb('connected');
        return () => {};
      },
    },
    ApiError: errors.ApiError,
    errorMessage: errors.errorMessage,
  };
});

const { stores } = await import('../stores');
const { default: EngineStatus } = await import('./EngineStatus.svelte');

describe('EngineStatus', () => {
  it('says what the engine holds, and that it is rootless when it is', async () => {
    info.rootless = true;
    await stores.start();
    const { findByTestId, getByTestId } = render(EngineStatus);
    expect((await findByTestId('engine-rootless')).textContent).toBe('rootless');
    expect(getByTestId('engine-status').dataset.state).toBe('up');
    // Counted as the list counts them: the pod's infra container is not one of them.
    expect(getByTestId('engine-status').textContent).toContain('1 of 2 containers running');
  });

  it('shows no rootless mark for root', async () => {
    info.rootless = false;
    await stores.engine.refresh();
    const { findByTestId, queryByTestId } = render(EngineStatus);
    expect((await findByTestId('engine-status')).dataset.state).toBe('up');
    expect(queryByTestId('engine-rootless')).toBeNull();
  });
});

describe('EngineStatus and the link to the engine', () => {
  it('says the link is lost or refused instead of "running", and running again once it is back', async () => {
    await stores.engine.refresh();
    const { findByTestId } = render(EngineStatus);
    const status = await findByTestId('engine-status');
    expect(status.dataset.state).toBe('up');
    link.set!('disconnected');
    await vi.waitFor(() => expect(status.dataset.state).toBe('disconnected'));
    expect(status.textContent).toContain('reconnecting');
    expect(status.textContent).not.toContain('Engine running');
    link.set!('unauthorized');
    await vi.waitFor(() => expect(status.dataset.state).toBe('unauthorized'));
    expect(status.textContent).toContain('new token');
    link.set!('connected');
    await vi.waitFor(() => expect(status.dataset.state).toBe('up'));
    expect(status.textContent).toContain('Engine running');
  });
});
