//! Long work started from the UI (pulls, builds, compose runs) as tasks, as Podman Desktop's
//! task manager has them: the Tasks panel lists each with its progress, state and elapsed time,
//! and cancels one that runs (through the backend's cancel of its kind, with the id its
//! `started` event gave). A task belongs to this store, not to the dialog that started it:
//! closing the dialog leaves it running (`background`), and `onEnd` hears of every end (the app
//! refreshes the lists, and toasts the end of a background task). Finished tasks stay listed
//! until cleared.

import { derived, get, writable, type Readable } from 'svelte/store';
import type { Backend } from '../backend/backend';
import { ApiError, errorMessage } from '../backend/errors';
import type { BuildEvent } from '../bindings/BuildEvent';
import type { BuildRequest } from '../bindings/BuildRequest';
import type { ComposeEvent } from '../bindings/ComposeEvent';
import type { ComposeRequest } from '../bindings/ComposeRequest';
import type { ImageSummary } from '../bindings/ImageSummary';
import type { PullEvent } from '../bindings/PullEvent';
import { humanSize } from '../format';
import { applyPullEvent, emptyProgress, type PullProgress } from '../forms/pull';

export type TaskKind = 'pull' | 'build' | 'compose';
export type TaskState = 'running' | 'done' | 'failed' | 'cancelled';

export interface Task {
  /** The store's own id (the panel's key). */
  id: number;
  kind: TaskKind;
  /** What it does, e.g. `Pull docker.io/library/nginx:latest`. */
  name: string;
  state: TaskState;
  /** Milliseconds since the epoch. */
  started: number;
  ended: number | null;
  /** One line: a pull's layers and bytes, a build's current step, compose's last line. */
  progress: string;
  /** A pull's layers, for the Pull dialog. */
  pull: PullProgress | null;
  /** Why it failed (state `failed`), or why a cancel failed. */
  error: string | null;
  /** The id the backend's cancel of its kind takes, once its `started` event came. */
  handle: string | null;
  /** Cancel was asked (before `started` came, it is sent when it comes). */
  cancelling: boolean;
  /** The dialog that started it was closed: nobody else shows how it ends. */
  background: boolean;
}

/** A task just started: its id, and its result (rejected as the backend rejects: a cancel with
 *  the code `cancelled`). */
export interface Started<T> {
  id: number;
  done: Promise<T>;
}

export interface TasksStore extends Readable<Task[]> {
  /** How many run now (the Tasks button's count). */
  running: Readable<number>;
  pull(reference: string): Started<ImageSummary>;
  /** `onEvent` gets every event too (the dialog's log). */
  build(request: BuildRequest, onEvent?: (e: BuildEvent) => void): Started<ImageSummary>;
  compose(request: ComposeRequest, onEvent?: (e: ComposeEvent) => void): Started<null>;
  /** Stops a running task in the engine; rejects when the backend refused (the task keeps running). */
  cancel(id: number): Promise<void>;
  /** Its dialog closed: the task goes on in the panel (`background`). */
  background(id: number): void;
  /** Forgets the tasks that ended. */
  clear(): void;
}

export type TasksBackend = Pick<Backend, 'pullImage' | 'cancelPull' | 'buildImage' | 'cancelBuild' | 'runCompose' | 'cancelCompose'>;

export interface TasksOptions {
  now?: () => number;
  /** A task ended (done, failed or cancelled). */
  onEnd?: (task: Task) => void;
}

/** A pull's progress line: layers done of all, and bytes (what is done counts whole). */
export function pullProgressText(p: PullProgress): string {
  if (p.layers.length === 0) return p.imageId ? 'pulled' : 'resolving';
  const finished = p.layers.filter((l) => l.phase === 'done' || l.phase === 'already_exists').length;
  const total = p.layers.reduce((n, l) => n + l.total, 0);
  const moved = p.layers.reduce((n, l) => n + (l.phase === 'waiting' ? 0 : l.phase === 'downloading' ? Math.min(l.current, l.total) : l.total), 0);
  return `${finished} of ${p.layers.length} layers · ${humanSize(moved)} / ${humanSize(total)}`;
}

const CANCEL: Record<TaskKind, (b: TasksBackend, handle: string) => Promise<unknown>> = {
  pull: (b, h) => b.cancelPull(h),
  build: (b, h) => b.cancelBuild(h),
  compose: (b, h) => b.cancelCompose(h),
};

export function tasksStore(backend: TasksBackend, options: TasksOptions = {}): TasksStore {
  const now = options.now ?? (() => Date.now());
  const list = writable<Task[]>([]);
  let nextId = 1;

  const find = (id: number) => get(list).find((t) => t.id === id);
  function update(id: number, change: (t: Task) => Partial<Task>) {
    list.update((l) => l.map((t) => (t.id === id ? { ...t, ...change(t) } : t)));
  }

  function sendCancel(task: Task) {
    return CANCEL[task.kind](backend, task.handle!).catch((err) => {
      update(task.id, () => ({ cancelling: false, error: `cannot cancel: ${errorMessage(err)}` }));
      throw err;
    });
  }

  /** Adds a running task; `run` gets the event sink, `fold` what each event changes. */
  function start<T, E>(
    kind: TaskKind,
    name: string,
    run: (onEvent: (e: E) => void) => Promise<T>,
    fold: (t: Task, e: E) => Partial<Task>,
    extra: Partial<Task> = {},
  ): Started<T> {
    const id = nextId++;
    const task: Task = {
      id,
      kind,
      name,
      state: 'running',
      started: now(),
      ended: null,
      progress: 'starting',
      pull: null,
      error: null,
      handle: null,
      cancelling: false,
      background: false,
      ...extra,
    };
    list.update((l) => [...l, task]);
    const done = run((e) => {
      update(id, (t) => fold(t, e));
      const t = find(id);
      // A cancel asked before the id came goes now.
      if (t && t.cancelling && t.handle && t.state === 'running' && (e as { type?: string }).type === 'started') void sendCancel(t).catch(() => {});
    });
    const end = (state: TaskState, error: string | null) => {
      update(id, (t) => ({ state, error, ended: now(), cancelling: false, progress: state === 'done' ? finishedText(t) : t.progress }));
      const t = find(id);
      if (t) options.onEnd?.(t);
    };
    done.then(
      () => end('done', null),
      (err) => (err instanceof ApiError && err.code === 'cancelled' ? end('cancelled', null) : end('failed', errorMessage(err))),
    );
    return { id, done };
  }

  function finishedText(t: Task): string {
    if (t.kind === 'pull') return t.pull ? pullProgressText(t.pull) : 'pulled';
    if (t.kind === 'build') return 'built';
    return 'finished';
  }

  const running = derived(list, (l) => l.filter((t) => t.state === 'running').length);

  return {
    subscribe: list.subscribe,
    running,
    pull(reference) {
      return start<ImageSummary, PullEvent>(
        'pull',
        `Pull ${reference}`,
        (onEvent) => backend.pullImage(reference, onEvent),
        (t, e) => {
          const pull = applyPullEvent(t.pull ?? emptyProgress(reference), e);
          return { pull, progress: pullProgressText(pull), handle: e.type === 'started' ? e.pull : t.handle };
        },
        { pull: emptyProgress(reference), progress: 'resolving' },
      );
    },
    build(request, onEvent) {
      const what = request.name ?? request.containerfile;
      return start<ImageSummary, BuildEvent>(
        'build',
        `Build ${what}`,
        (sink) => backend.buildImage(request, (e) => {
          sink(e);
          onEvent?.(e);
        }),
        (t, e) => {
          if (e.type === 'started') return { handle: e.build };
          if (e.type === 'step') return { progress: e.line };
          return {};
        },
      );
    },
    compose(request, onEvent) {
      return start<null, ComposeEvent>(
        'compose',
        `Compose ${request.action} ${request.file}`,
        (sink) => backend.runCompose(request, (e) => {
          sink(e);
          onEvent?.(e);
        }),
        (t, e) => (e.type === 'started' ? { handle: e.run } : e.line.trim() !== '' ? { progress: e.line.trim() } : {}),
      );
    },
    async cancel(id) {
      const t = find(id);
      if (!t || t.state !== 'running' || t.cancelling) return;
      update(id, () => ({ cancelling: true, error: null }));
      if (t.handle) await sendCancel({ ...t, cancelling: true });
    },
    background(id) {
      const t = find(id);
      if (!t) return;
      update(id, () => ({ background: true }));
    },
    clear() {
      list.update((l) => l.filter((t) => t.state === 'running'));
    },
  };
}

/** Seconds as a short elapsed time: `8s`, `2m 05s`, `1h 02m`. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
