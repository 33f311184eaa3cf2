import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../backend/errors';
import type { BuildEvent } from '../bindings/BuildEvent';
import type { ImageSummary } from '../bindings/ImageSummary';
import type { PullEvent } from '../bindings/PullEvent';
import { image } from '../testing/fakeBackend';
import { elapsed, pullProgressText, tasksStore, type Task, type TasksBackend } from './tasks';

const L1 = 'sha256:' + '1'.repeat(64);
const L2 = 'sha256:' + '2'.repeat(64);

/** Work that runs until the test ends it; cancels reject it as the engine does. */
class Hand {
  calls: string[] = [];
  cancelRefusal: ApiError | null = null;
  private runs = new Map<string, { resolve: (v: never) => void; reject: (e: unknown) => void; emit: (e: unknown) => void }>();
  private n = 0;

  private begin(kind: string, onEvent: (e: never) => void, started: (id: string) => unknown) {
    const id = `${kind}-${++this.n}`;
    return new Promise<never>((resolve, reject) => {
      this.runs.set(id, { resolve, reject, emit: onEvent as (e: unknown) => void });
      this.emit(id, started(id));
    });
  }
  emit(id: string, e: unknown) {
    this.runs.get(id)!.emit(e);
  }
  finish(id: string, value: unknown) {
    this.runs.get(id)!.resolve(value as never);
  }
  fail(id: string, err: unknown) {
    this.runs.get(id)!.reject(err);
  }
  private async cancel(id: string) {
    this.calls.push(`cancel ${id}`);
    if (this.cancelRefusal) throw this.cancelRefusal;
    this.runs.get(id)?.reject(new ApiError('cancelled', 'cancelled'));
  }

  backend(): TasksBackend {
    return {
      pullImage: (reference, onEvent) => this.begin('pull', onEvent as never, (pull) => ({ type: 'started', pull })),
      cancelPull: async (id) => (await this.cancel(id), null),
      buildImage: (_request, onEvent) => this.begin('build', onEvent as never, (build) => ({ type: 'started', build })),
      cancelBuild: async (id) => (await this.cancel(id), null),
      runCompose: (request, onEvent) => this.begin('compose', onEvent as never, (run) => ({ type: 'started', run, command: `berth compose -f ${request.file} up -d` })),
      cancelCompose: async (id) => (await this.cancel(id), null),
    };
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0));

function setup() {
  const hand = new Hand();
  let clock = 1000;
  const ended: Task[] = [];
  const tasks = tasksStore(hand.backend(), { now: () => clock, onEnd: (t) => ended.push(t) });
  return { hand, tasks, ended, tick: (ms: number) => (clock += ms), only: () => get(tasks)[0] };
}

describe('tasks', () => {
  it('a pull is a task: named, its layers and bytes as they come, done with the time it took', async () => {
    const { hand, tasks, tick, only } = setup();
    const started = tasks.pull('docker.io/library/nginx:latest');
    expect(only()).toMatchObject({ kind: 'pull', name: 'Pull docker.io/library/nginx:latest', state: 'running', handle: 'pull-1', progress: 'resolving', started: 1000 });
    expect(get(tasks.running)).toBe(1);
    const resolved: PullEvent = { type: 'resolved', reference: 'r', manifestDigest: 'm', layers: [{ digest: L1, size: 4_000_000 }, { digest: L2, size: 1_000_000 }] };
    hand.emit('pull-1', resolved);
    hand.emit('pull-1', { type: 'layer', reference: 'r', digest: L1, phase: 'downloading', current: 1_500_000, total: 4_000_000 });
    hand.emit('pull-1', { type: 'layer', reference: 'r', digest: L2, phase: 'done', current: 1_000_000, total: 1_000_000 });
    expect(only().progress).toBe('1 of 2 layers · 2.5 MB / 5 MB');
    expect(only().pull?.layers.map((l) => l.phase)).toEqual(['downloading', 'done']);
    tick(4500);
    hand.emit('pull-1', { type: 'layer', reference: 'r', digest: L1, phase: 'done', current: 4_000_000, total: 4_000_000 });
    hand.finish('pull-1', image({ names: ['docker.io/library/nginx:latest'] }));
    const result: ImageSummary = await started.done;
    await settle();
    expect(result.names).toEqual(['docker.io/library/nginx:latest']);
    expect(only()).toMatchObject({ state: 'done', ended: 5500, error: null, progress: '2 of 2 layers · 5 MB / 5 MB' });
    expect(get(tasks.running)).toBe(0);
  });

  it('cancel goes to the backend with the id the pull started with; the task ends cancelled', async () => {
    const { hand, tasks, only } = setup();
    const { id, done } = tasks.pull('127.0.0.1:5000/big:latest');
    const cancelling = tasks.cancel(id);
    expect(only().cancelling).toBe(true);
    await cancelling;
    await expect(done).rejects.toMatchObject({ code: 'cancelled' });
    await settle();
    expect(hand.calls).toEqual(['cancel pull-1']);
    expect(only()).toMatchObject({ state: 'cancelled', cancelling: false, error: null });
  });

  it('a cancel the backend refuses leaves the task running and says why', async () => {
    const { hand, tasks, only } = setup();
    const { id } = tasks.pull('a');
    hand.cancelRefusal = new ApiError('engine', 'no such pull');
    await expect(tasks.cancel(id)).rejects.toThrow('no such pull');
    expect(only()).toMatchObject({ state: 'running', cancelling: false, error: 'cannot cancel: no such pull' });
  });

  it('a failure is the task\'s error; a build shows its current step and takes cancelBuild', async () => {
    const { hand, tasks } = setup();
    const pull = tasks.pull('nope');
    hand.fail('pull-1', new ApiError('not_found', 'manifest unknown'));
    await expect(pull.done).rejects.toThrow('manifest unknown');
    const seen: BuildEvent[] = [];
    const build = tasks.build({ containerfile: '/src/Containerfile', context: null, name: 'localhost/app:1', buildArgs: [], target: null, noCache: false, pull: 'missing' }, (e) => seen.push(e));
    hand.emit('build-2', { type: 'step', stage: null, step: 2, steps: 3, text: 'RUN make', line: 'STEP 2/3: RUN make' });
    await settle();
    const [failed, building] = get(tasks);
    expect(failed).toMatchObject({ state: 'failed', error: 'manifest unknown' });
    expect(building).toMatchObject({ name: 'Build localhost/app:1', progress: 'STEP 2/3: RUN make', handle: 'build-2' });
    expect(seen.map((e) => e.type)).toEqual(['started', 'step']);
    await tasks.cancel(build.id);
    await expect(build.done).rejects.toMatchObject({ code: 'cancelled' });
    expect(hand.calls).toEqual(['cancel build-2']);
  });

  it('a task whose dialog closed goes on in the background; every end is told', async () => {
    const { hand, tasks, ended } = setup();
    const a = tasks.pull('a');
    const b = tasks.pull('b');
    tasks.background(a.id);
    hand.finish('pull-1', image());
    hand.finish('pull-2', image());
    await Promise.all([a.done, b.done]);
    await settle();
    expect(ended.map((t) => [t.name, t.state, t.background])).toEqual([
      ['Pull a', 'done', true],
      ['Pull b', 'done', false],
    ]);
  });

  it('clear forgets what ended and keeps what runs', async () => {
    const { hand, tasks } = setup();
    tasks.pull('a');
    tasks.compose({ file: '/app/compose.yaml', action: 'up' });
    hand.emit('compose-2', { type: 'output', line: ' Container app-web-1  Started ' });
    hand.finish('pull-1', image());
    await settle();
    tasks.clear();
    expect(get(tasks).map((t) => [t.name, t.state, t.progress])).toEqual([['Compose up /app/compose.yaml', 'running', 'Container app-web-1  Started']]);
  });

  it('a cancel asked before the work said its id is sent when it does', async () => {
    const started: ((e: PullEvent) => void)[] = [];
    const calls: string[] = [];
    const tasks = tasksStore({
      pullImage: (_r, onEvent) => (started.push(onEvent), new Promise(() => {})),
      cancelPull: async (id) => (calls.push(id), null),
    } as TasksBackend);
    const { id } = tasks.pull('a');
    await tasks.cancel(id);
    expect(calls).toEqual([]);
    started[0]({ type: 'started', pull: 'p-9' });
    await settle();
    expect(calls).toEqual(['p-9']);
  });
});

describe('progress text', () => {
  it('counts layers done and bytes moved', () => {
    expect(pullProgressText({ reference: 'r', pull: null, layers: [], imageId: null })).toBe('resolving');
    expect(
      pullProgressText({
        reference: 'r',
        pull: 'p',
        imageId: null,
        layers: [
          { digest: L1, phase: 'already_exists', current: 0, total: 2000 },
          { digest: L2, phase: 'waiting', current: 0, total: 3000 },
        ],
      }),
    ).toBe('1 of 2 layers · 2 kB / 5 kB');
  });

  it('elapsed time', () => {
    expect(elapsed(8_900)).toBe('8s');
    expect(elapsed(125_000)).toBe('2m 05s');
    expect(elapsed(3_720_000)).toBe('1h 02m');
  });
});
