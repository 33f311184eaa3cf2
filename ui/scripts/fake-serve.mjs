// A stand-in for `berth-desktop --serve`, for developing and screenshotting the UI without the
// Rust engine: the same HTTP contract (token, /api/invoke/<command>, /api/stream SSE with
// `engine` and `channel` events) over made-up in-memory state. Dev tooling only: it is not part
// of the built UI.
//
//   node scripts/fake-serve.mjs [--port 0] [--containers 12] [--dist dist] [--log-lines 5000] [--log-rate 20]
//
// Logs are made up per container (`--log-lines` lines with ANSI colours; running containers
// print `--log-rate` lines a second while followed); the terminal is a toy line editor that
// answers `echo`, `ls`, `pwd` and `exit`.

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
    // nginx, redis and the api have a healthcheck: the first redis unhealthy, the next starting.
    check: [0, 1, 5].includes(n % 6) ? { n, health: n % 6 !== 1 ? 'healthy' : n % 12 === 1 ? 'unhealthy' : 'starting' } : null,
  });
}

// Healthchecks: the check of each container that has one, and its last results (newest first).
const HEALTH_COMMANDS = ['curl -fsS http://localhost/ || exit 1', 'redis-cli ping | grep PONG', 'wget -qO- http://localhost:8080/healthz'];
function healthOf(c) {
  if (!c.check) return null;
  const t = Date.now();
  const failing = c.check.health === 'unhealthy';
  const log = c.check.health === 'starting' ? [] : Array.from({ length: 5 }, (_, i) => {
    const fail = failing && i < 3;
    return { startedAt: t - 30_000 * i - 1200, durationMs: fail ? 5000 : 8 + ((i * 13) % 40), exitCode: fail ? (i === 0 ? -1 : 7) : 0, output: fail ? (i === 0 ? 'Health check exceeded timeout of 5s' : 'curl: (7) Failed to connect to localhost port 80 after 0 ms: Connection refused') : i % 2 ? 'PONG' : '{"status":"ok","uptime":"4h12m","db":"reachable"}' };
  });
  return {
    status: c.status === 'running' ? c.check.health : 'starting',
    failingStreak: failing ? 3 : 0,
    check: { command: { form: 'shell', line: HEALTH_COMMANDS[c.check.n % 3] }, intervalMs: 30_000, timeoutMs: 5000, startPeriodMs: c.check.n % 2 ? 10_000 : 0, retries: 3 },
    onFailure: failing ? 'restart' : 'none',
    log,
  };
}

function summary(c) {
  const { imageRef, check, ...rest } = c;
  const health = check && c.status === 'running' ? check.health : null;
  return { ...rest, shortId: c.id.slice(0, 12), image: imageRef ?? c.imageId.slice(0, 12), exitCode: c.status === 'exited' ? c.exitCode ?? 0 : null, health };
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
  send('engine', { kind, action, id, name, exitCode: null });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const samples = new Map();

// Logs: line n of a container's made-up log; the cursor offset is the line number.
const logLines = Number(args['log-lines'] ?? 5000);
const logRate = Number(args['log-rate'] ?? 20);
const logs = new Map(); // id -> { length }
const logOf = (c) => {
  if (!logs.has(c.id)) logs.set(c.id, { length: c.status === 'created' ? 0 : logLines });
  return logs.get(c.id);
};
const LEVELS = [['\x1b[32mINFO\x1b[0m', 'stdout'], ['\x1b[36mDEBUG\x1b[0m', 'stdout'], ['\x1b[33mWARN\x1b[0m', 'stdout'], ['\x1b[1;31mERROR\x1b[0m', 'stderr']];
function logEntry(c, n) {
  const [level, stream] = LEVELS[n % 23 === 7 ? 3 : n % 11 === 3 ? 2 : n % 5 === 1 ? 1 : 0];
  const time = new Date((c.created + n * 0.5) * 1000).toISOString();
  const line = `${time.slice(11, 19)} ${level} ${c.name}[${n}]: \x1b[35mGET\x1b[0m /api/items/${n % 97} ${n % 13 === 0 ? '\x1b[31m500\x1b[0m' : '\x1b[32m200\x1b[0m'} in ${(n * 7) % 180} ms`;
  return { cursor: { file: 1, offset: n }, time, stream, line };
}
const follows = new Map(); // subscription -> timer
const terminals = new Map(); // session -> { channel, line }
const volumes = [
  { name: 'pgdata', driver: 'local', created: now() - 86400 * 3, anonymous: false },
  { name: 'redis-data', driver: 'local', created: now() - 86400 * 9, anonymous: false },
  { name: 'scratch', driver: 'local', created: now() - 3600, anonymous: false },
  { name: hex(), driver: 'local', created: now() - 7200, anonymous: true },
];
const volumeUsers = { pgdata: ['db'], 'redis-data': ['cache'] };
/** The user's pods (`PodSummary`s). */
const pods = [];

// The default network (no name server) and one of the user's.
const networks = [
  { name: 'berth', subnet: '10.88.0.0/16', gateway: '10.88.0.1', dns: false, created: now() - 86400 * 30, labels: {}, isDefault: true },
  { name: 'backend', subnet: '10.89.1.0/24', gateway: '10.89.1.1', dns: true, created: now() - 86400, labels: { team: 'web' }, isDefault: false },
];
const networkSummary = (n) => ({ ...n, id: n.name.padEnd(64, '0'), driver: 'bridge', interface: n.isDefault ? 'berth0' : 'berth1', members: 0, internal: false });
const volumeSummary = (v) => ({ ...v, mountpoint: `/var/lib/berth/volumes/${v.name}/_data`, usedBy: (volumeUsers[v.name] ?? []).filter((n) => containers.some((c) => c.name === n)) });
const settings = {
  storageRoot: '/var/lib/berth',
  runRoot: '/run/berth',
  registriesConf: '/etc/containers/registries.conf.d/berth.conf',
  registries: [{ host: 'registry.internal:5000', insecure: true, loggedIn: false }, { host: 'ghcr.io', insecure: false, loggedIn: true }],
  socket: args.socket ? { path: '/run/berth/docker.sock', enabled: false } : null,
  version: '0.1.0-fake',
};
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
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
      send('engine', { kind: 'container', action: 'died', id: c.id, name: c.name, exitCode: 0 });
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
    return { Id: c.id, Name: c.name, Created: new Date(c.created * 1000).toISOString(), State: { Status: c.status, Running: c.status === 'running', ExitCode: c.exitCode ?? 0 }, Image: c.imageId, ImageName: c.imageRef, Config: { Cmd: c.command.split(' '), Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }, HostConfig: { PortBindings: c.ports }, Mounts: Object.entries(volumeUsers).filter(([, users]) => users.includes(c.name)).map(([name]) => ({ Type: 'volume', Name: name, Source: `/var/lib/berth/volumes/${name}/_data`, Destination: '/data', RW: true })) };
  },
  container_health: ({ id }) => healthOf(findContainer(id)),
  run_healthcheck: ({ id }) => {
    const c = findContainer(id);
    if (!c.check) throw new ApiError(400, 'invalid', `container ${c.id} has no defined healthcheck`);
    if (c.status !== 'running') throw new ApiError(409, 'conflict', `container ${c.name} is not running: it is ${c.status}: start it first`);
    if (c.check.health === 'starting') c.check.health = 'healthy';
    emit('container', 'health_status', c.id, c.name);
    return healthOf(c);
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
  log_window: ({ id, before, limit }) => {
    const c = findContainer(id);
    const log = logOf(c);
    const end = before ? Math.min(before.offset, log.length) : log.length;
    const start = Math.max(0, end - limit);
    const entries = [];
    for (let n = start; n < end; n++) entries.push(logEntry(c, n));
    return { entries, atStart: start === 0 };
  },
  follow_logs: ({ id, from, onLines }) => {
    const c = findContainer(id);
    const log = logOf(c);
    const sub = `follow-${hex(8)}`;
    let next = from ? from.offset : log.length;
    const tick = 50;
    const perTick = Math.max(1, Math.round((logRate * tick) / 1000));
    const timer = setInterval(() => {
      if (c.status === 'running') log.length += perTick;
      if (next >= log.length) return;
      const entries = [];
      while (next < log.length && entries.length < 2000) entries.push(logEntry(c, next++));
      send('channel', { channel: onLines, message: { entries } });
    }, tick);
    follows.set(sub, timer);
    return sub;
  },
  stop_follow: ({ subscription }) => {
    clearInterval(follows.get(subscription));
    follows.delete(subscription);
    return null;
  },
  search_logs: ({ id, query, regex, caseSensitive, limit }) => {
    const c = findContainer(id);
    const log = logOf(c);
    const re = regex ? new RegExp(query, caseSensitive ? '' : 'i') : null;
    const out = [];
    for (let n = 0; n < log.length && out.length < limit; n++) {
      const e = logEntry(c, n);
      const text = e.line.replace(/\x1b\[[0-9;]*m/g, '');
      const hit = re ? re.test(text) : caseSensitive ? text.includes(query) : text.toLowerCase().includes(query.toLowerCase());
      if (hit) out.push({ cursor: e.cursor, line: e.line });
    }
    return out;
  },
  open_terminal: ({ id, onOutput }) => {
    const c = findContainer(id);
    if (c.status !== 'running') throw new ApiError(409, 'conflict', `container "${c.name}" is not running: start it first`);
    const session = `term-${hex(8)}`;
    const t = { channel: onOutput, line: '', name: c.name };
    terminals.set(session, t);
    setTimeout(() => send('channel', { channel: onOutput, message: { data: b64(`\x1b[1;32mroot@${c.name}\x1b[0m:/# `) } }), 50);
    return session;
  },
  terminal_input: ({ session, data }) => {
    const t = terminals.get(session);
    if (!t) throw new ApiError(404, 'not_found', `no such terminal session "${session}"`);
    const out = (s) => send('channel', { channel: t.channel, message: { data: b64(s) } });
    for (const ch of data) {
      if (ch === '\r') {
        const cmd = t.line.trim();
        t.line = '';
        out('\r\n');
        if (cmd === 'exit') {
          send('channel', { channel: t.channel, message: { exited: 0 } });
          terminals.delete(session);
          return null;
        }
        if (cmd.startsWith('echo ')) out(`${cmd.slice(5)}\r\n`);
        else if (cmd === 'ls') out('\x1b[1;34mbin\x1b[0m  \x1b[1;34metc\x1b[0m  \x1b[1;34mhome\x1b[0m  \x1b[1;34musr\x1b[0m  \x1b[1;34mvar\x1b[0m\r\n');
        else if (cmd === 'pwd') out('/\r\n');
        else if (cmd !== '') out(`sh: ${cmd.split(' ')[0]}: not found\r\n`);
        out(`\x1b[1;32mroot@${t.name}\x1b[0m:/# `);
      } else if (ch === '\x7f') {
        if (t.line) {
          t.line = t.line.slice(0, -1);
          out('\b \b');
        }
      } else {
        t.line += ch;
        out(ch);
      }
    }
    return null;
  },
  terminal_resize: () => null,
  close_terminal: ({ session }) => {
    terminals.delete(session);
    return null;
  },
  list_volumes: () => volumes.map(volumeSummary),
  create_volume: ({ name }) => {
    const v = { name: name ?? hex(), driver: 'local', created: now(), anonymous: !name };
    if (volumes.some((x) => x.name === v.name)) throw new ApiError(409, 'conflict', `volume "${v.name}" already exists`);
    volumes.push(v);
    emit('volume', 'create', v.name, v.name);
    return volumeSummary(v);
  },
  remove_volume: ({ name, force }) => {
    const v = volumes.find((x) => x.name === name);
    if (!v) throw notFound('volume', name);
    const users = volumeSummary(v).usedBy;
    if (users.length && !force) throw new ApiError(409, 'conflict', `volume "${name}" is in use by container ${users.join(', ')}`);
    volumes.splice(volumes.indexOf(v), 1);
    emit('volume', 'remove', name, name);
    return null;
  },
  prune_volumes: () => {
    const unused = volumes.filter((v) => volumeSummary(v).usedBy.length === 0);
    unused.forEach((v) => volumes.splice(volumes.indexOf(v), 1));
    unused.forEach((v) => emit('volume', 'remove', v.name, v.name));
    return unused.map((v) => v.name);
  },
  list_networks: () => networks.map(networkSummary),
  network_details: ({ name }) => {
    const n = networks.find((x) => x.name === name);
    if (!n) throw notFound('network', name);
    return { network: networkSummary(n), members: [] };
  },
  inspect_network: ({ name }) => {
    const n = networks.find((x) => x.name === name);
    if (!n) throw notFound('network', name);
    return { name: n.name, driver: 'bridge', subnets: [{ subnet: n.subnet, gateway: n.gateway }], dns_enabled: n.dns, labels: n.labels, containers: {} };
  },
  create_network: ({ name, subnet, gateway, labels }) => {
    if (networks.some((x) => x.name === name)) throw new ApiError(409, 'conflict', `network name ${name} already used: choose another name`);
    const n = { name, subnet: subnet ?? `10.89.${networks.length + 1}.0/24`, gateway: gateway ?? `10.89.${networks.length + 1}.1`, dns: true, created: now(), labels: Object.fromEntries(labels.map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')])), isDefault: false };
    networks.push(n);
    emit('network', 'create', n.name, n.name);
    return networkSummary(n);
  },
  remove_network: ({ name }) => {
    const n = networks.find((x) => x.name === name);
    if (!n) throw notFound('network', name);
    if (n.isDefault) throw new ApiError(400, 'invalid', 'default network berth cannot be removed');
    networks.splice(networks.indexOf(n), 1);
    emit('network', 'remove', name, name);
    return null;
  },
  prune_networks: () => {
    const unused = networks.filter((n) => !n.isDefault);
    unused.forEach((n) => networks.splice(networks.indexOf(n), 1));
    unused.forEach((n) => emit('network', 'remove', n.name, n.name));
    return unused.map((n) => n.name);
  },
  // Pods: none at first; one made is its infra container alone, never started.
  list_pods: () => pods,
  inspect_pod: ({ name }) => {
    const p = pods.find((x) => x.name === name);
    if (!p) throw notFound('pod', name);
    return { Id: p.id, Name: p.name, State: p.state, Labels: p.labels, NumContainers: p.containers };
  },
  create_pod: ({ name, labels }) => {
    const n = name || `pod${pods.length + 1}`;
    if (pods.some((x) => x.name === n)) throw new ApiError(409, 'conflict', `the pod name "${n}" is already in use`);
    const id = `${n}-pod`.padEnd(64, '0');
    const infra = { id: `${n}-infra`.padEnd(64, '0'), name: `${id.slice(0, 12)}-infra`, status: 'created', infra: true };
    const p = { id, shortId: id.slice(0, 12), name: n, state: 'Created', created: now(), containers: 1, infraId: infra.id, labels: Object.fromEntries(labels.map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')])), members: [infra] };
    pods.push(p);
    emit('pod', 'create', id, n);
    return p;
  },
  remove_pod: ({ name }) => {
    const p = pods.find((x) => x.name === name);
    if (!p) throw notFound('pod', name);
    pods.splice(pods.indexOf(p), 1);
    emit('pod', 'remove', p.id, name);
    return null;
  },
  prune_pods: () => {
    const gone = pods.splice(0);
    gone.forEach((p) => emit('pod', 'remove', p.id, p.name));
    return gone.map((p) => p.id);
  },
  get_settings: () => settings,
  set_registry: ({ host, insecure }) => {
    const r = settings.registries.find((x) => x.host === host);
    if (r) r.insecure = insecure;
    else settings.registries.push({ host, insecure, loggedIn: false });
    return settings;
  },
  registry_login: ({ host, username, password }) => {
    if (password === 'wrong') throw new ApiError(401, 'unauthorized', `${host}: login failed for user "${username}": unauthorized`);
    const r = settings.registries.find((x) => x.host === host);
    if (r) r.loggedIn = true;
    else settings.registries.push({ host, insecure: false, loggedIn: true });
    return null;
  },
  registry_logout: ({ host }) => {
    const r = settings.registries.find((x) => x.host === host);
    if (r) r.loggedIn = false;
    return null;
  },
  set_socket: ({ enabled }) => {
    if (!settings.socket) throw new ApiError(400, 'unsupported', 'the Docker-compatible socket is not available yet');
    settings.socket.enabled = enabled;
    return settings;
  },
  list_images: () => images.map(imageSummary),
  image_details: ({ reference }) => {
    const i = findImage(reference);
    const healthcheck = i.exposed.length ? { command: { form: 'shell', line: HEALTH_COMMANDS[0] }, intervalMs: 30_000, timeoutMs: 5000, startPeriodMs: 0, retries: 3 } : null;
    return { id: i.id, names: i.ref ? [i.ref] : [], cmd: i.cmd, entrypoint: i.entrypoint, env: ['PATH=/usr/bin:/bin'], workingDir: '/', exposedPorts: i.exposed, healthcheck };
  },
  inspect_image: ({ reference }) => {
    const i = findImage(reference);
    return { Id: i.id, RepoTags: i.ref ? [i.ref] : [], Created: new Date(i.created * 1000).toISOString(), Architecture: 'amd64', Os: 'linux', Size: i.size, Config: { Cmd: i.cmd, Entrypoint: i.entrypoint, Env: ['PATH=/usr/bin:/bin'] }, RootFS: { Type: 'layers', Layers: [`sha256:${hex()}`, `sha256:${hex()}`] } };
  },
  image_history: ({ reference }) => {
    const i = findImage(reference);
    const step = (createdBy, size, emptyLayer = false) => ({ created: i.created, createdBy, size, comment: '', emptyLayer });
    return [
      step(`/bin/sh -c #(nop)  CMD ${JSON.stringify(i.cmd)}`, 0, true),
      step('/bin/sh -c #(nop)  ENV PATH=/usr/bin:/bin', 0, true),
      step('/bin/sh -c apk add --no-cache ca-certificates tzdata && adduser -D -u 1000 app', Math.round(i.size * 0.3)),
      step(`/bin/sh -c #(nop) ADD file:${hex(16)} in / `, Math.round(i.size * 0.7)),
    ];
  },
  save_image: async ({ id, path }) => {
    findImage(id);
    if (!path.startsWith('/') && !path.startsWith('~/')) throw new ApiError(400, 'invalid', `${path}: give an absolute path for the archive (starting with / or ~/)`);
    await sleep(400);
    emit('image', 'save', findImage(id).id, path);
    return null;
  },
  load_image: async ({ path }) => {
    if (!path.endsWith('.tar')) throw new ApiError(400, 'invalid', `${path}: not a docker-archive or oci-archive`);
    await sleep(400);
    const ref = `localhost/${path.slice(path.lastIndexOf('/') + 1, -4)}:latest`;
    const image = { ref, repository: ref.slice(0, ref.lastIndexOf(':')), tag: 'latest', size: 5_000_000, cmd: ['sh'], entrypoint: [], exposed: [], id: hex(), created: now() };
    images.push(image);
    emit('image', 'loadfromarchive', '', path);
    return [{ id: image.id, names: [ref] }];
  },
  import_image: async ({ path, reference, changes }) => {
    if (!path.endsWith('.tar')) throw new ApiError(400, 'invalid', `${path} is not a tar archive (plain, gzip or zstd): give a tarball of a root filesystem, e.g. one \`export\` wrote`);
    await sleep(400);
    const name = reference ? (reference.includes('/') ? reference : `localhost/${reference}`) : null;
    const ref = name && !/:[^/]*$/.test(name) ? `${name}:latest` : name;
    const cmd = changes?.length ? JSON.parse(changes[0].slice(4)) : [];
    const image = { ref, repository: ref ? ref.slice(0, ref.lastIndexOf(':')) : '<none>', tag: ref ? ref.slice(ref.lastIndexOf(':') + 1) : '<none>', size: 6_000_000, cmd, entrypoint: [], exposed: [], id: hex(), created: now() };
    images.push(image);
    emit('image', 'import', image.id, ref);
    return imageSummary(image);
  },
  export_container: async ({ id, path }) => {
    findContainer(id);
    await sleep(300);
    return null;
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
  push_image: async ({ id, destination, onProgress }) => {
    const i = findImage(id);
    const to = destination || i.ref;
    if (/\s/.test(to) || to.startsWith('bogus:')) {
      throw new ApiError(400, 'invalid', `invalid destination "${to}": unknown transport: use docker://REF, dir:PATH or oci:PATH[:TAG]`);
    }
    const layers = [Math.round(i.size * 0.7), Math.round(i.size * 0.3)].map((size) => ({ digest: `sha256:${hex()}`, size }));
    const ch = (message) => send('channel', { channel: onProgress, message });
    ch({ type: 'started', layers });
    for (let step = 0; step <= 10; step++) {
      layers.forEach((l, n) => {
        if (n === 0) {
          if (step === 0) ch({ type: 'layer', digest: l.digest, phase: 'mounted', current: l.size, total: l.size });
          return;
        }
        const phase = step === 10 ? 'done' : 'uploading';
        ch({ type: 'layer', digest: l.digest, phase, current: Math.round((l.size * step) / 10), total: l.size });
      });
      await sleep(120);
    }
    const digest = `sha256:${hex()}`;
    ch({ type: 'config', digest: `sha256:${hex()}` });
    ch({ type: 'manifest', digest });
    emit('image', 'push', i.id, to);
    return { destination: to, manifestDigest: digest };
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
