//! The Backend in a plain browser, against `berth-desktop --serve`: each command is
//! `POST /api/invoke/<command>`, and one Server-Sent Events stream
//! (`/api/stream`) carries engine events (`event: engine`) and per-call channel messages
//! (`event: channel`, `{channel, message}`), which is how pull, push and build progress, log
//! batches and terminal output reach their caller: the client picks a channel id, passes it as the
//! command's channel argument, and routes the stream's messages with that id to the callback.
//!
//! A page served by `berth-desktop --serve` needs no token: the server moved the first load's
//! `?token=` into an HttpOnly cookie, which the browser sends with both. A page served
//! elsewhere (Vite's dev server, proxying /api) keeps `?token=` in its address: that token
//! goes as a bearer header, and in the stream's URL (EventSource sends no headers).

import type { EngineEvent } from '../bindings/EngineEvent';
import { commandMethods, type Backend, type ConnectionState, type OpenChannel } from './backend';
import { ApiError } from './errors';

const TOKEN_KEY = 'berth.token';

/** The part of EventSource this module uses, so tests can hand in a fake. */
export interface StreamSource {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface HttpOptions {
  token: string | null;
  fetch?: typeof fetch;
  openStream?: (url: string) => StreamSource;
  /** Prefix of the API paths: '' when the page is served by berth-desktop itself. */
  base?: string;
  /** How long a pull waits for the stream to be open before it starts anyway. */
  streamWaitMs?: number;
  /** How long a channel still routes messages after it was closed (the answer and the
   *  stream travel on different connections, so late messages are still delivered). */
  channelGraceMs?: number;
  /** The pauses before each resend of a lost request that is safe to send again. */
  retryDelaysMs?: number[];
  /** How often a stream the browser gave up on is tried again. */
  reconnectMs?: number;
}

/**
 * The token from the page's `?token=`, remembered for the tab in sessionStorage so that a
 * reload or an in-app navigation without it keeps working.
 */
export function readToken(search: string, storage: Pick<Storage, 'getItem' | 'setItem'> | null): string | null {
  const fromUrl = new URLSearchParams(search).get('token');
  if (fromUrl) {
    try {
      storage?.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // storage disabled: the URL still carries the token
    }
    return fromUrl;
  }
  try {
    return storage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    return null;
  }
}

/** Commands that leave the engine as they found it when sent twice: a lost one is resent. */
const RETRY_SAFE = new Set([
  'engine_info',
  'disk_usage',
  'host_stats',
  'run_command',
  'container_create_request',
  'list_files',
  'read_file',
  'download_files',
  'list_containers',
  'container_rows',
  'container_stats',
  'start_container',
  'stop_container',
  'remove_container',
  'inspect_container',
  'container_health',
  'container_logs',
  'list_images',
  'image_details',
  'remove_image',
  'cancel_build',
  'list_volumes',
  'remove_volume',
  'list_networks',
  'network_details',
  'inspect_network',
  'remove_network',
  'list_pods',
  'inspect_pod',
  'start_pod',
  'stop_pod',
  'remove_pod',
  'log_window',
  'search_logs',
  'get_settings',
]);
/** Removals whose resend finds nothing: the lost request removed it. */
const DONE_IF_GONE = new Set(['remove_container', 'remove_image', 'remove_volume', 'remove_network', 'remove_pod']);

function unreachable(e: unknown): ApiError {
  return new ApiError('unavailable', `cannot reach Berth: ${e instanceof Error ? e.message : String(e)}`);
}

async function retry(send: () => Promise<Response>, first: unknown, delays: number[]): Promise<Response> {
  let last = first;
  for (const ms of delays) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    try {
      return await send();
    } catch (e) {
      last = e;
    }
  }
  throw unreachable(last);
}

let idCounter = 0;
/** An id unique to this page and across its reloads: `ch-…` for a channel, `call-…` for a
 *  call's `Idempotency-Key`. */
function newId(prefix: 'ch' | 'call'): string {
  idCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${idCounter}-${Math.random().toString(36).slice(2, 10)}`;
}

const STATUS_CODES: Record<number, string> = { 400: 'invalid', 401: 'unauthorized', 404: 'not_found', 409: 'conflict' };

export function httpBackend(options: HttpOptions): Backend {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const openStream = options.openStream ?? ((url: string) => new EventSource(url));
  const base = options.base ?? '';
  const token = options.token;
  const streamWaitMs = options.streamWaitMs ?? 3000;
  const channelGraceMs = options.channelGraceMs ?? 2000;
  const retryDelaysMs = options.retryDelaysMs ?? [150, 500, 1500];
  const reconnectMs = options.reconnectMs ?? 2000;

  const engineListeners = new Set<(event: EngineEvent) => void>();
  const channels = new Map<string, (message: unknown) => void>();
  let source: StreamSource | null = null;
  let opened = false;
  let openWaiters: (() => void)[] = [];
  let connection: ConnectionState = 'connected';
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  function setConnection(next: ConnectionState) {
    if (next === connection) return;
    connection = next;
    for (const listener of [...connectionListeners]) listener(next);
  }

  /** The stream was closed for good (the server answered it with an error, 401 after a
   *  restart with a new token): ask a command whether the token is refused, and open a new
   *  stream once the server answers again. */
  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    reconnectTimer = setTimeout(async () => {
      reconnectTimer = null;
      try {
        await invoke('engine_info', {});
      } catch {
        if (connection !== 'unauthorized') scheduleReconnect();
        return;
      }
      source?.close();
      source = null;
      opened = true; // the new stream's open is a reopen: listeners refetch
      ensureStream();
    }, reconnectMs);
  }

  async function invoke(command: string, args: Record<string, unknown>): Promise<unknown> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    // Chromium itself may send a POST again after a network change, and the first may have
    // run: a call unsafe to send twice carries a key of its own, and the server answers a
    // repeat of it with the first one's answer.
    if (!RETRY_SAFE.has(command)) headers['Idempotency-Key'] = newId('call');
    const send = () => doFetch(`${base}/api/invoke/${command}`, { method: 'POST', headers, body: JSON.stringify(args) });
    let response: Response;
    let retried = false;
    try {
      response = await send();
    } catch (first) {
      // Chromium aborts requests in flight when the host's interfaces change, which is what
      // stopping or removing containers does (their veths go): a command that is safe to
      // send twice is sent again, after a pause, before the user is told.
      try {
        if (!RETRY_SAFE.has(command)) throw unreachable(first);
        response = await retry(send, first, retryDelaysMs);
      } catch (e) {
        setConnection('disconnected');
        throw e;
      }
      retried = true;
    }
    setConnection(response.status === 401 ? 'unauthorized' : 'connected');
    const text = await response.text();
    // The lost request did it: the thing is gone, as asked.
    if (retried && response.status === 404 && DONE_IF_GONE.has(command)) return null;
    if (!response.ok) throw errorFromResponse(response.status, text);
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError('engine', `${command}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  function ensureStream(): StreamSource {
    if (source) return source;
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    const s = openStream(`${base}/api/stream${query}`);
    source = s;
    s.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself; CLOSED: it gave up, so we retry.
      if (connection === 'connected') setConnection('disconnected');
      if (s.readyState === 2) scheduleReconnect();
    });
    s.addEventListener('open', () => {
      setConnection('connected');
      const reopened = opened;
      opened = true;
      const waiters = openWaiters;
      openWaiters = [];
      waiters.forEach((w) => w());
      // After a reconnect, events sent while the stream was down are lost: tell every
      // listener to refetch.
      if (reopened) {
        for (const kind of ['container', 'image', 'volume', 'network', 'pod'] as const) {
          emit({ kind, action: 'resync', id: '', name: null });
        }
      }
    });
    s.addEventListener('engine', (e) => {
      const event = parse<EngineEvent>(e.data);
      if (event) emit(event);
    });
    s.addEventListener('channel', (e) => {
      const data = parse<{ channel?: unknown; message?: unknown }>(e.data);
      if (!data || typeof data.channel !== 'string') return;
      channels.get(data.channel)?.(data.message);
    });
    return s;
  }

  function emit(event: EngineEvent) {
    for (const listener of [...engineListeners]) listener(event);
  }

  function streamReady(): Promise<void> {
    const s = ensureStream();
    if (opened || s.readyState === 1) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, streamWaitMs);
      openWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async function channel<T>(onMessage: (message: T) => void): Promise<OpenChannel> {
    const id = newId('ch');
    channels.set(id, onMessage as (message: unknown) => void);
    await streamReady();
    let closed = false;
    return {
      arg: id,
      close() {
        if (closed) return;
        closed = true;
        if (channelGraceMs <= 0) channels.delete(id);
        else setTimeout(() => channels.delete(id), channelGraceMs);
      },
    };
  }

  return {
    ...commandMethods({ invoke, channel }),
    onEngineEvent(cb) {
      engineListeners.add(cb);
      ensureStream();
      return () => {
        engineListeners.delete(cb);
      };
    },
    onConnection(cb) {
      connectionListeners.add(cb);
      cb(connection);
      return () => {
        connectionListeners.delete(cb);
      };
    },
  };
}

function parse<T>(data: unknown): T | null {
  if (typeof data !== 'string') return null;
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}

function errorFromResponse(status: number, text: string): ApiError {
  const parsed = parse<unknown>(text);
  if (parsed && typeof parsed === 'object') {
    const body = parsed as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string') {
      return new ApiError(body.code, body.message);
    }
  }
  const code = STATUS_CODES[status] ?? 'engine';
  if (status === 401) {
    return new ApiError(code, 'unauthorized: open the address with the token that `berth-desktop --serve` printed');
  }
  return new ApiError(code, text.trim() || `HTTP ${status}`);
}
