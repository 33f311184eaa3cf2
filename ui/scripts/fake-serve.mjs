// A stand-in for `berth-desktop --serve`, for developing and screenshotting the UI without the
// Rust engine: the same HTTP contract (token, /api/invoke/<command>, /api/stream SSE with
// `engine` and `channel` events) over made-up in-memory state. Dev tooling only: it is not part
// of the built UI.
//
//   node scripts/fake-serve.mjs [--port 0] [--containers 12] [--dist dist]

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const port = Number(args.port ?? 0);
const dist = args.dist ?? new URL('../dist', import.meta.url).pathname;
const token = randomBytes(16).toString('hex');
const now = () => Math.floor(Date.now() / 1000);
const hex = (n = 64) => randomBytes(n / 2).toString('hex');

const images = [
  { ref: 'docker.io/library/nginx:1.27', size: 192_400_000, cmd: ['nginx', '-g', 'daemon off;'], entrypoint: ['/docker-entrypoint.sh'], exposed: ['80/tcp'] },
  { ref: 'docker.io/library/redis:7', size: 117_300_000, cmd: ['redis-server'], entrypoint: ['docker-entrypoint.sh'], exposed: ['6379/tcp'] },
  { ref: 'docker.io/library/postgres:16', size: 438_900_000, cmd: ['postgres'], entrypoint: ['docker-entrypoint.sh'], exposed: ['5432/tcp'] },
  { ref: 'docker.io/library/alpine:3.20', size: 7_800_000, cmd: ['/bin/sh'], entrypoint: [], exposed: [] },
  { ref: 'docker.io/library/busybox:latest', size: 4_270_000, cmd: ['sh'], entrypoint: [], exposed: [] },
  { ref: 'ghcr.io/example/api:2.4.1', size: 58_100_000, cmd: ['/app/api', '--listen', ':8080'], entrypoint: [], exposed: ['8080/tcp', '9090/tcp'] },
].map((i, n) => {
  const id = hex();
  const [repository, tag] = [i.ref.slice(0, i.ref.lastIndexOf(':')), i.ref.slice(i.ref.lastIndexOf(':') + 1)];
  return { ...i, id, repository, tag, created: now() - 86400 * (3 + n * 9) };
});
images.push({ ref: null, size: 12_000_000, cmd: ['sh'], entrypoint: [], exposed: [], id: hex(), repository: '<none>', tag: '<none>', created: now() - 86400 * 40 });

const words = ['web', 'cache', 'db', 'api', 'worker', 'proxy', 'queue', 'search', 'auth', 'metrics'];
const containers = [];
const count = Number(args.containers ?? 12);
for (let n = 0; n < count; n++) {
  const image = images[n % 6];
  const running = n % 3 !== 2;
  const created = now() - 60 * (5 + n * 37);
  const hostPort = image.exposed.length && n < 30 ? 8000 + n : null;
  containers.push({
    id: hex(),
    name: n < words.length ? words[n] : `${words[n % words.length]}-${n}`,
    imageRef: image.ref,
    imageId: image.id,
    command: [...image.entrypoint, ...image.cmd].join(' '),
    status: running ? 'running' : n % 2 ? 'exited' : 'created',
    exitCode: running ? null : n % 2 ? (n % 4 === 1 ? 137 : 0) : null,
    created,
    startedAt: running ? created + 2 : n % 2 ? created + 2 : null,
    finishedAt: !running && n % 2 ? created + 600 : null,
    ports: hostPort ? [{ hostIp: '', hostPort, containerPort: Number(image.exposed[0].split('/')[0]), protocol: 'tcp' }] : [],
    error: null,
  });
}

function summary(c) {
  const { imageRef, ...rest } = c;
  return { ...rest, shortId: c.id.slice(0, 12), image: imageRef ?? c.imageId.slice(0, 12), exitCode: c.status === 'exited' ? c.exitCode ?? 0 : null };
}
function imageSummary(i) {
  const users = containers.filter((c) => c.imageId === i.id).length;
  return { id: i.id, shortId: i.id.slice(0, 12), repository: i.repository, tag: i.tag, names: i.ref ? [i.ref] : [], created: i.created, size: i.size, inUse: users > 0, containers: users };
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const notFound = (what, q) => new ApiError(404, 'not_found', `no such ${what} "${q}"`);
function findContainer(q) {
  const c = containers.find((c) => c.id === q || c.name === q || c.id.startsWith(q));
  if (!c) throw notFound('container', q);
  return c;
}
function findImage(q) {
  const short = (r) => r?.replace(/^docker\.io\/(library\/)?/, '');
  const i = images.find((i) => i.id === q || i.id.startsWith(q) || i.ref === q || short(i.ref) === q || short(i.ref) === `${q}:latest` || i.ref === `${q}:latest`);
  if (!i) throw notFound('image', q);
  return i;
}

const streams = new Set();
function send(event, data) {
  for (const res of streams) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
function emit(kind, action, id, name = null) {
  send('engine', { kind, action, id, name });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const samples = new Map();
const commands = {
  engine_info: () => ({
    version: '0.1.0-fake',
    root: '/var/lib/berth',
    runRoot: '/run/berth',
    containersRunning: containers.filter((c) => c.status === 'running').length,
    containersTotal: containers.length,
    images: images.length,
  }),
  list_containers: () => containers.map(summary),
  container_stats: () =>
    containers
      .filter((c) => c.status === 'running')
      .map((c, n) => {
        const prev = samples.get(c.id) ?? (n % 7) * 3.1;
        const cpu = Math.max(0, Math.min(100, prev + (Math.random() - 0.5) * 4));
        samples.set(c.id, cpu);
        return { id: c.id, cpuPercent: cpu, memUsage: 3_000_000 + ((n * 7_919_113) % 240_000_000), memLimit: null, pids: 1 + (n % 9) };
      }),
  start_container: ({ id }) => {
    const c = findContainer(id);
    if (c.status !== 'running') Object.assign(c, { status: 'running', startedAt: now(), exitCode: null, finishedAt: null });
    emit('container', 'start', c.id, c.name);
    return summary(c);
  },
  stop_container: async ({ id }) => {
    const c = findContainer(id);
    if (c.status === 'running') {
      await sleep(300);
      Object.assign(c, { status: 'exited', exitCode: 0, finishedAt: now() });
      emit('container', 'died', c.id, c.name);
    }
    return summary(c);
  },
  restart_container: async ({ id }) => {
    const c = findContainer(id);
    await sleep(200);
    Object.assign(c, { status: 'running', startedAt: now(), exitCode: null });
    emit('container', 'start', c.id, c.name);
    return summary(c);
  },
  remove_container: ({ id, force }) => {
    const c = findContainer(id);
    if (c.status === 'running' && !force) {
      throw new ApiError(409, 'conflict', `container "${c.name}" is running: stop it first or remove it with force`);
    }
    containers.splice(containers.indexOf(c), 1);
    emit('container', 'remove', c.id, c.name);
    return null;
  },
  inspect_container: ({ id }) => {
    const c = findContainer(id);
    return { Id: c.id, Name: c.name, Created: new Date(c.created * 1000).toISOString(), State: { Status: c.status, Running: c.status === 'running', ExitCode: c.exitCode ?? 0 }, Image: c.imageId, ImageName: c.imageRef, Config: { Cmd: c.command.split(' '), Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }, HostConfig: { PortBindings: c.ports } };
  },
  container_logs: ({ id, tail }) => {
    const c = findContainer(id);
    const lines = [];
    for (let n = 0; n < 300; n++) {
      const stderr = n % 17 === 5;
      lines.push({ time: new Date((c.created + n) * 1000).toISOString(), stream: stderr ? 'stderr' : 'stdout', line: stderr ? `warning: slow request ${n} took ${n * 3} ms` : `${c.name}: 10.0.2.${n % 250} - - "GET /api/items/${n} HTTP/1.1" 200 ${512 + n}` });
    }
    return tail ? lines.slice(-tail) : lines;
  },
  list_images: () => images.map(imageSummary),
  image_details: ({ reference }) => {
    const i = findImage(reference);
    return { id: i.id, names: i.ref ? [i.ref] : [], cmd: i.cmd, entrypoint: i.entrypoint, env: ['PATH=/usr/bin:/bin'], workingDir: '/', exposedPorts: i.exposed };
  },
  free_port: ({ preferred }) => {
    const used = new Set(containers.flatMap((c) => c.ports.map((p) => p.hostPort)));
    if (preferred && preferred >= 1024 && !used.has(preferred)) return preferred;
    let p = 32768;
    while (used.has(p)) p++;
    return p;
  },
  pull_image: async ({ reference, onProgress }) => {
    if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(reference)) {
      throw new ApiError(400, 'invalid', `error parsing image reference "${reference}": repository name must be lowercase`);
    }
    if (reference.includes('nope')) throw new ApiError(404, 'not_found', `${reference}: manifest unknown: the registry has no such image`);
    const ref = reference.includes('/') ? (reference.includes(':') ? reference : `${reference}:latest`) : `docker.io/library/${reference.includes(':') ? reference : `${reference}:latest`}`;
    const layers = [31_400_000, 4_200_000, 1_200, 870_000].map((size) => ({ digest: `sha256:${hex()}`, size }));
    const ch = (message) => send('channel', { channel: onProgress, message });
    ch({ type: 'resolved', reference: ref, manifestDigest: `sha256:${hex()}`, layers });
    for (let step = 0; step <= 10; step++) {
      layers.forEach((l, n) => {
        const frac = Math.min(1, (step / 10) * (1 + n * 0.4));
        const phase = frac >= 1 ? (step === 10 ? 'done' : 'extracting') : 'downloading';
        ch({ type: 'layer', reference: ref, digest: l.digest, phase, current: Math.round(l.size * frac), total: l.size });
      });
      await sleep(150);
    }
    const id = hex();
    const [repository, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    const existing = images.find((i) => i.ref === ref);
    if (existing) images.splice(images.indexOf(existing), 1);
    const image = { ref, size: layers.reduce((n, l) => n + l.size, 0), cmd: ['/bin/sh'], entrypoint: [], exposed: ['80/tcp'], id, repository, tag, created: now() };
    images.push(image);
    ch({ type: 'done', reference: ref, imageId: id });
    emit('image', 'pull', id, ref);
    return imageSummary(image);
  },
  remove_image: ({ id, force }) => {
    const i = findImage(id);
    const users = containers.filter((c) => c.imageId === i.id);
    if (users.length && !force) {
      throw new ApiError(409, 'conflict', `image ${i.ref ?? i.id.slice(0, 12)} is in use by container ${users.map((c) => c.name).join(', ')}: remove the containers first or use force`);
    }
    images.splice(images.indexOf(i), 1);
    emit('image', 'remove', i.id, i.ref);
    return null;
  },
  create_container: ({ request }) => {
    const image = findImage(request.image);
    request.ports = request.ports.map((p) => (p.hostPort === 0 ? { ...p, hostPort: commands.free_port({}) } : p));
    const name = request.name ?? `${words[containers.length % words.length]}_${hex(6)}`;
    if (containers.some((c) => c.name === name)) {
      throw new ApiError(409, 'conflict', `the container name "${name}" is already in use: choose another name or remove that container`);
    }
    for (const p of request.ports) {
      if (containers.some((c) => c.status === 'running' && c.ports.some((q) => q.hostPort === p.hostPort))) {
        throw new ApiError(409, 'conflict', `host port ${p.hostPort}/${p.protocol} is already published by another container`);
      }
    }
    const c = {
      id: hex(),
      name,
      imageRef: image.ref,
      imageId: image.id,
      command: [...(request.entrypoint ?? image.entrypoint), ...(request.command ?? image.cmd)].join(' '),
      status: request.start ? 'running' : 'created',
      exitCode: null,
      created: now(),
      startedAt: request.start ? now() : null,
      finishedAt: null,
      ports: request.ports,
      error: null,
    };
    containers.push(c);
    emit('container', 'create', c.id, c.name);
    if (request.start) emit('container', 'start', c.id, c.name);
    return summary(c);
  },
};

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/api/')) {
    const given = req.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('token');
    if (given !== token) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ code: 'unauthorized', message: 'missing or wrong token' }));
    }
    if (url.pathname === '/api/stream') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.write(': hello\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const name = url.pathname.slice('/api/invoke/'.length);
    const command = commands[name];
    let body = '';
    for await (const chunk of req) body += chunk;
    try {
      if (req.method !== 'POST' || !command) throw new ApiError(404, 'not_found', `no such command "${name}"`);
      const result = await command(body ? JSON.parse(body) : {});
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(result ?? null));
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 500;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: e.code ?? 'engine', message: e.message }));
    }
    return;
  }
  const path = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
  try {
    const data = await readFile(join(dist, path));
    res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(data);
  } catch {
    res.writeHead(404);
    res.end('not found');
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`Berth is serving on http://127.0.0.1:${server.address().port}/?token=${token}`);
});
