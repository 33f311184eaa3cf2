import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../backend/errors';
import type { PullEvent } from '../bindings/PullEvent';
import { image } from '../testing/fakeBackend';

// The tasks store reaches the engine through the app's backend module: pulls the test ends.
const state = vi.hoisted(() => ({
  pulls: new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void; emit: (e: PullEvent) => void }>(),
  cancelled: [] as string[],
}));
vi.mock('../backend', async () => {
  const errors = await import('../backend/errors');
  const { FakeBackend } = await import('../testing/fakeBackend');
  const backend = new FakeBackend().backend();
  let n = 0;
  backend.pullImage = (_ref, onProgress) =>
    new Promise((resolve, reject) => {
      const id = `p-${++n}`;
      state.pulls.set(id, { resolve: resolve as (v: unknown) => void, reject, emit: onProgress });
      onProgress({ type: 'started', pull: id });
    });
  backend.cancelPull = async (id) => {
    state.cancelled.push(id);
    state.pulls.get(id)?.reject(new errors.ApiError('cancelled', 'the pull was cancelled'));
    return null;
  };
  return { backend, ApiError: errors.ApiError, errorMessage: errors.errorMessage };
});

const { default: TasksButton } = await import('./TasksButton.svelte');
const { tasks } = await import('../stores');

describe('TasksButton', () => {
  it('counts running tasks, lists them with progress and state, cancels one, clears the finished', async () => {
    const { getByTestId, queryByTestId, getAllByTestId } = render(TasksButton);
    expect(queryByTestId('tasks-count')).toBeNull();
    await fireEvent.click(getByTestId('tasks-button'));
    expect(getByTestId('tasks-empty')).toBeTruthy();

    const a = tasks.pull('docker.io/library/nginx:latest');
    const b = tasks.pull('docker.io/library/alpine:latest');
    state.pulls.get('p-1')!.emit({ type: 'resolved', reference: 'r', manifestDigest: 'm', layers: [{ digest: 'sha256:a', size: 2_000_000 }] });
    state.pulls.get('p-1')!.emit({ type: 'layer', reference: 'r', digest: 'sha256:a', phase: 'downloading', current: 500_000, total: 2_000_000 });
    await waitFor(() => expect(getByTestId('tasks-count').textContent).toBe('2'));
    const rows = () => getAllByTestId('task');
    // Newest first.
    expect(rows().map((r) => r.dataset.name)).toEqual(['Pull docker.io/library/alpine:latest', 'Pull docker.io/library/nginx:latest']);
    await waitFor(() => expect(rows()[1].querySelector('[data-testid="task-progress"]')!.textContent).toBe('0 of 1 layers · 500 kB / 2 MB'));
    expect(rows()[1].querySelector('[data-testid="task-elapsed"]')!.textContent).toMatch(/^\d+s$/);

    await fireEvent.click(rows()[0].querySelector('[data-testid="task-cancel"]')!);
    await expect(b.done).rejects.toBeInstanceOf(ApiError);
    expect(state.cancelled).toEqual(['p-2']);
    await waitFor(() => expect(rows()[0].dataset.state).toBe('cancelled'));
    expect(rows()[0].querySelector('[data-testid="task-cancel"]')).toBeNull();
    expect(getByTestId('tasks-count').textContent).toBe('1');

    state.pulls.get('p-1')!.resolve(image());
    await a.done;
    await waitFor(() => expect(rows()[1].dataset.state).toBe('done'));
    expect(queryByTestId('tasks-count')).toBeNull();
    await fireEvent.click(getByTestId('tasks-clear'));
    await waitFor(() => expect(getByTestId('tasks-empty')).toBeTruthy());

    // Escape closes the panel.
    await fireEvent.keyDown(document, { key: 'Escape' });
    await waitFor(() => expect(queryByTestId('tasks-panel')).toBeNull());
  });
});
