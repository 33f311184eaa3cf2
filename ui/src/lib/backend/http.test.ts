import { describe, expect, it, vi } from 'vitest';
import type { BuildEvent } from '../bindings/BuildEvent';
import type { BuildRequest } from '../bindings/BuildRequest';
import type { LogBatch } from '../bindings/LogBatch';
import type { PullEvent } from '../bindings/PullEvent';
import type { TerminalOutput } from '../bindings/TerminalOutput';
import { ApiError } from './errors';
import { httpBackend, readToken, type StreamSource } from './http';

class FakeStream implements StreamSource {
  readyState = 0;
  url: string;
  listeners = new Map<string, ((e: MessageEvent) => void)[]>();
  closed = false;
  constructor(url: string) {
    this.url = url;
  }
  addEventListener(type: string, listener: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  fire(type: string, data?: unknown) {
    if (type === 'open') this.readyState = 1;
    const event = { data: data === undefined ? undefined : JSON.stringify(data) } as MessageEvent;
    this.listeners.get(type)?.forEach((l) => l(event));
  }
}

interface Recorded {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: (url: string, body: Record<string, unknown>) => { status: number; body: string } | Promise<{ status: number; body: string }>) {
  const calls: Recorded[] = [];
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init! });
    const a = await answer(String(url), JSON.parse(String(init?.body ?? '{}')));
    return new Response(a.body, { status: a.status, headers: { 'Content-Type': 'application/json' } });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

function setup(answer: Parameters<typeof fakeFetch>[0], token: string | null = 'abc123') {
  const { fetch, calls } = fakeFetch(answer);
  const streams: FakeStream[] = [];
  const backend = httpBackend({
    token,
    fetch,
    openStream: (url) => {
      const s = new FakeStream(url);
      streams.push(s);
      return s;
    },
    streamWaitMs: 1000,
    channelGraceMs: 0,
    retryDelaysMs: [1, 1],
    reconnectMs: 5,
  });
  return { backend, calls, streams };
}

describe('http backend', () => {
  it('posts the command with camelCase args and the bearer token', async () => {
    const { backend, calls } = setup(() => ({ status: 200, body: '{"id":"x","name":"web"}' }));
    const c = await backend.stopContainer('web', 3);
    expect(c).toEqual({ id: 'x', name: 'web' });
    expect(calls[0].url).toBe('/api/invoke/stop_container');
    expect(calls[0].init.method).toBe('POST');
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe('Bearer abc123');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ id: 'web', timeout: 3 });

    await backend.freePort('udp');
    expect(calls[1].url).toBe('/api/invoke/free_port');
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ protocol: 'udp' });

    await backend.removeImage('sha256:1', true);
    expect(JSON.parse(String(calls[2].init.body))).toEqual({ id: 'sha256:1', force: true });
  });

  it('names each call unsafe to send twice with a key of its own, and no other', async () => {
    const { backend, calls } = setup(() => ({ status: 200, body: '"sub"' }));
    await backend.followLogs('web', null, () => {}).catch(() => {});
    await backend.freePort('tcp');
    await backend.freePort('tcp');
    await backend.stopContainer('web');
    const key = (i: number) => (calls[i].init.headers as Record<string, string>)['Idempotency-Key'];
    const follow = calls.findIndex((c) => c.url.endsWith('/follow_logs'));
    const ports = calls.map((c, i) => (c.url.endsWith('/free_port') ? i : -1)).filter((i) => i >= 0);
    expect(key(follow)).toMatch(/^call-/);
    expect(key(ports[0])).toMatch(/^call-/);
    expect(key(ports[1])).not.toBe(key(ports[0]));
    expect(key(calls.length - 1)).toBeUndefined(); // stop is safe to send again
  });

  it('turns an error answer into an ApiError with its code and message', async () => {
    const { backend } = setup(() => ({ status: 409, body: '{"code":"conflict","message":"image is in use by container web"}' }));
    const err = await backend.removeImage('nginx', false).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'conflict', message: 'image is in use by container web' });
  });

  it('turns a 401 without a body into an unauthorized ApiError', async () => {
    const { backend, calls } = setup(() => ({ status: 401, body: '' }), null);
    const err = await backend.listContainers().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/token/);
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('reports an unreachable server as an ApiError', async () => {
    const { backend } = setup(() => Promise.reject(new TypeError('Failed to fetch')));
    await expect(backend.engineInfo()).rejects.toMatchObject({ code: 'unavailable', message: 'cannot reach Berth: Failed to fetch' });
  });

  it('resends a lost request that is safe to send twice, and a lost removal that did its work counts as done', async () => {
    let lost = 2;
    const removed = new Set<string>();
    const { backend, calls } = setup((url, body) => {
      if (url.endsWith('/remove_container')) {
        const id = String(body.id);
        if (removed.has(id)) return { status: 404, body: `{"code":"not_found","message":"no such container ${id}"}` };
        removed.add(id);
      }
      // The answer never arrives: Chromium dropped the connection when the veths changed.
      if (lost-- > 0) return Promise.reject(new TypeError('Failed to fetch'));
      return { status: 200, body: '' };
    });
    await expect(backend.removeContainer('web', true)).resolves.toBeNull();
    expect(calls.map((c) => c.url)).toEqual(Array(2).fill('/api/invoke/remove_container'));
    // Without a lost request, not found is still an error.
    await expect(backend.removeContainer('web', true)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('never resends a command that is not safe to send twice', async () => {
    const { backend, calls } = setup(() => Promise.reject(new TypeError('Failed to fetch')));
    await expect(backend.createContainer({ image: 'busybox' } as never)).rejects.toMatchObject({ code: 'unavailable' });
    expect(calls).toHaveLength(1);
    await expect(backend.stopContainer('web')).rejects.toMatchObject({ code: 'unavailable' });
    expect(calls).toHaveLength(4);
  });

  it('tells when the link is lost, refused or back, and reopens a stream the browser gave up on', async () => {
    let status = 200;
    const { backend, streams } = setup(() => (status === 0 ? Promise.reject(new TypeError('Failed to fetch')) : { status, body: status === 401 ? '' : '{}' }));
    const states: string[] = [];
    backend.onEngineEvent(() => {});
    backend.onConnection!((s) => states.push(s));
    streams[0].fire('open');
    // The server died: the browser retries the stream by itself.
    streams[0].readyState = 0;
    streams[0].fire('error');
    expect(states).toEqual(['connected', 'disconnected']);
    streams[0].fire('open');
    // It came back with a new token: the stream is refused and closed for good.
    status = 401;
    streams[0].readyState = 2;
    streams[0].fire('error');
    await vi.waitFor(() => expect(states.at(-1)).toBe('unauthorized'));
    expect(streams).toHaveLength(1);
    await expect(backend.listContainers()).rejects.toMatchObject({ code: 'unauthorized' });
    // A refused token stays refused; a server that answers again gets a new stream.
    status = 200;
    await backend.listContainers();
    expect(states.at(-1)).toBe('connected');
    streams[0].fire('error');
    await vi.waitFor(() => expect(streams).toHaveLength(2));
    const resyncs: string[] = [];
    backend.onEngineEvent((e) => resyncs.push(`${e.kind}:${e.action}`));
    streams[1].fire('open');
    expect(resyncs).toContain('container:resync');
    expect(streams[0].closed).toBe(true);
  });

  it('delivers engine events from the stream, opened with the token once', () => {
    const { backend, streams } = setup(() => ({ status: 200, body: 'null' }));
    const a = vi.fn();
    const b = vi.fn();
    const offA = backend.onEngineEvent(a);
    backend.onEngineEvent(b);
    expect(streams).toHaveLength(1);
    expect(streams[0].url).toBe('/api/stream?token=abc123');
    const ev = { kind: 'container', action: 'start', id: 'x', name: 'web' };
    streams[0].fire('engine', ev);
    offA();
    streams[0].fire('engine', ev);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(2);
    expect(b).toHaveBeenCalledWith(ev);
  });

  it('asks listeners to resync after the stream reconnects', () => {
    const { backend, streams } = setup(() => ({ status: 200, body: 'null' }));
    const seen: string[] = [];
    backend.onEngineEvent((e) => seen.push(`${e.kind}:${e.action}`));
    streams[0].fire('open');
    expect(seen).toEqual([]);
    streams[0].fire('open');
    expect(seen).toEqual(['container:resync', 'image:resync', 'volume:resync', 'network:resync', 'pod:resync']);
  });

  it('routes channel messages of a pull to its callback only, after the stream is open', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let pullBody: Record<string, unknown> = {};
    const { backend, streams, calls } = setup(async (url, body) => {
      if (url.endsWith('/pull_image')) {
        pullBody = body;
        await gate;
      }
      return { status: 200, body: '{"id":"sha256:i"}' };
    });
    const mine: PullEvent[] = [];
    const theirs: PullEvent[] = [];
    const pull = backend.pullImage('alpine', (e) => mine.push(e));
    const other = backend.pullImage('busybox', (e) => theirs.push(e));
    await Promise.resolve();
    expect(calls).toHaveLength(0); // waits for the stream
    streams[0].fire('open');
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    const id = pullBody.onProgress;
    expect(typeof id).toBe('string');
    const ids = calls.map((c) => JSON.parse(String(c.init.body)).onProgress);
    expect(new Set(ids).size).toBe(2);
    const done: PullEvent = { type: 'done', reference: 'x', imageId: 'sha256:i' };
    streams[0].fire('channel', { channel: ids[0], message: done });
    streams[0].fire('channel', { channel: 'someone-else', message: done });
    expect(mine).toEqual([done]);
    expect(theirs).toEqual([]);
    release();
    await expect(pull).resolves.toEqual({ id: 'sha256:i' });
    await other;
  });
});


describe('http backend channels', () => {
  it('routes log batches of a follow to its callback until stop_follow, and sends the channel id as onLines', async () => {
    const bodies: Record<string, Record<string, unknown>> = {};
    const { backend, streams } = setup((url, body) => {
      const command = url.slice(url.lastIndexOf('/') + 1);
      bodies[command] = body;
      return { status: 200, body: command === 'follow_logs' ? '"sub-1"' : 'null' };
    });
    const batches: LogBatch[] = [];
    const following = backend.followLogs('web', { file: 1, offset: 42 }, (b) => batches.push(b));
    streams[0].fire('open');
    await expect(following).resolves.toBe('sub-1');
    const channel = bodies.follow_logs.onLines as string;
    expect(bodies.follow_logs).toMatchObject({ id: 'web', from: { file: 1, offset: 42 } });
    expect(typeof channel).toBe('string');
    const batch: LogBatch = { entries: [{ cursor: { file: 1, offset: 42 }, time: 't', stream: 'stdout', line: 'hi' }] };
    streams[0].fire('channel', { channel, message: batch });
    streams[0].fire('channel', { channel, message: batch });
    expect(batches).toHaveLength(2);
    await backend.stopFollow('sub-1');
    expect(bodies.stop_follow).toEqual({ subscription: 'sub-1' });
    streams[0].fire('channel', { channel, message: batch });
    expect(batches).toHaveLength(2); // closed (grace 0 in tests)
  });

  it('routes terminal output and stops routing once the terminal says it exited', async () => {
    const bodies: Record<string, Record<string, unknown>> = {};
    const { backend, streams } = setup((url, body) => {
      const command = url.slice(url.lastIndexOf('/') + 1);
      bodies[command] = body;
      return { status: 200, body: command === 'open_terminal' ? '"term-7"' : 'null' };
    });
    const out: TerminalOutput[] = [];
    const opening = backend.openTerminal('web', 80, 24, (o) => out.push(o));
    await Promise.resolve();
    streams[0].fire('open');
    await expect(opening).resolves.toBe('term-7');
    expect(bodies.open_terminal).toMatchObject({ id: 'web', cols: 80, rows: 24 });
    const channel = bodies.open_terminal.onOutput as string;
    streams[0].fire('channel', { channel, message: { data: btoa('ls\r\n') } });
    streams[0].fire('channel', { channel, message: { exited: 0 } });
    streams[0].fire('channel', { channel, message: { data: btoa('late') } });
    expect(out).toEqual([{ data: btoa('ls\r\n') }, { exited: 0 }]);
    await backend.terminalResize('term-7', 100, 30);
    expect(bodies.terminal_resize).toEqual({ session: 'term-7', cols: 100, rows: 30 });
    await backend.terminalInput('term-7', 'exit\r');
    expect(bodies.terminal_input).toEqual({ session: 'term-7', data: 'exit\r' });
  });

  it('ignores channel messages that are malformed or for nobody', async () => {
    const { backend, streams } = setup(() => ({ status: 200, body: '"s"' }));
    const got = vi.fn();
    const p = backend.followLogs('web', null, got);
    streams[0].fire('open');
    await p;
    streams[0].fire('channel', { message: {} });
    streams[0].fire('channel', { channel: 42, message: {} });
    streams[0].listeners.get('channel')?.forEach((l) => l({ data: 'not json' } as MessageEvent));
    expect(got).not.toHaveBeenCalled();
  });

  it('closes the channel when the command fails', async () => {
    const { backend, streams } = setup(() => ({ status: 404, body: '{"code":"not_found","message":"no such container \\"x\\""}' }));
    const got = vi.fn();
    const p = backend.followLogs('x', null, got);
    streams[0].fire('open');
    await expect(p).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('readToken', () => {
  function storage() {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  }
  it('reads the page URL and remembers it for the tab', () => {
    const s = storage();
    expect(readToken('?token=deadbeef&x=1', s)).toBe('deadbeef');
    expect(readToken('', s)).toBe('deadbeef');
    expect(readToken('?token=new', s)).toBe('new');
    expect(readToken('', storage())).toBeNull();
  });
});

describe('http backend builds', () => {
  it('sends the request with its channel, routes the build events to the caller, and cancels by the started id', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const bodies: Record<string, Record<string, unknown>> = {};
    const { backend, streams } = setup(async (url, body) => {
      const command = url.slice(url.lastIndexOf('/') + 1);
      bodies[command] = body;
      if (command === 'build_image') await gate;
      return { status: 200, body: command === 'build_image' ? '{"id":"sha256:b"}' : 'null' };
    });
    const request: BuildRequest = {
      containerfile: '/src/Containerfile',
      context: null,
      name: 'app',
      buildArgs: [{ key: 'A', value: '1' }],
      target: null,
      noCache: true,
      pull: 'always',
    };
    const seen: BuildEvent[] = [];
    const building = backend.buildImage(request, (e) => seen.push(e));
    streams[0].fire('open');
    await vi.waitFor(() => expect(bodies.build_image).toBeDefined());
    expect(bodies.build_image.request).toEqual(request);
    const channel = bodies.build_image.onProgress as string;
    const started: BuildEvent = { type: 'started', build: 'b-1' };
    const step: BuildEvent = { type: 'step', stage: null, step: 1, steps: 2, text: 'FROM busybox', line: 'STEP 1/2: FROM busybox' };
    streams[0].fire('channel', { channel, message: started });
    streams[0].fire('channel', { channel, message: step });
    expect(seen).toEqual([started, step]);
    await backend.cancelBuild('b-1');
    expect(bodies.cancel_build).toEqual({ build: 'b-1' });
    release();
    await expect(building).resolves.toEqual({ id: 'sha256:b' });
  });
});
