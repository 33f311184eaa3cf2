import { describe, expect, it } from 'vitest';
import type { ContainerStats } from './bindings/ContainerStats';
import { displayImage, imageParts, filterContainers, fitColumns, filterImages, imageReference, portUrl, sortBy, sortContainers, sortImages, toggleSort } from './table';
import { container, image } from './testing/fakeBackend';

const a = container({ id: 'a1', name: 'alpha', status: 'running', created: 300, startedAt: 400, image: 'nginx' });
const b = container({ id: 'b1', name: 'Beta', status: 'exited', created: 100, startedAt: 200, image: 'redis', command: 'redis-server' });
const c = container({ id: 'c1', name: 'gamma10', status: 'created', created: 200, startedAt: null, image: 'busybox', ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
const d = container({ id: 'd1', name: 'gamma9', status: 'paused', created: 50, startedAt: 60, image: 'busybox' });
const rows = [a, b, c, d];
const names = (l: { name: string }[]) => l.map((x) => x.name);

describe('filterContainers', () => {
  it('by status', () => {
    expect(names(filterContainers(rows, 'all', ''))).toEqual(['alpha', 'Beta', 'gamma10', 'gamma9']);
    expect(names(filterContainers(rows, 'running', ''))).toEqual(['alpha', 'gamma9']);
    expect(names(filterContainers(rows, 'stopped', ''))).toEqual(['Beta', 'gamma10']);
  });
  it('by text in name, image, command or ports, case-insensitively', () => {
    expect(names(filterContainers(rows, 'all', 'GAMMA'))).toEqual(['gamma10', 'gamma9']);
    expect(names(filterContainers(rows, 'all', 'redis-serv'))).toEqual(['Beta']);
    expect(names(filterContainers(rows, 'all', '8080'))).toEqual(['gamma10']);
    expect(names(filterContainers(rows, 'running', 'busybox'))).toEqual(['gamma9']);
    expect(filterContainers(rows, 'all', 'nothing-like-this')).toEqual([]);
  });
  it('by the hidden id only from its start', () => {
    const web = container({ id: '9f3ac1d2e4', name: 'web', image: 'nginx' });
    expect(names(filterContainers([...rows, web], 'all', 'c1'))).toEqual(['gamma10']);
    expect(names(filterContainers([...rows, web], 'all', '9f3a'))).toEqual(['web']);
  });
});

describe('sortContainers', () => {
  const stats = new Map<string, ContainerStats>([
    ['a1', { id: 'a1', cpuPercent: 5, memUsage: 100, memLimit: null, pids: 1 }],
    ['d1', { id: 'd1', cpuPercent: 50, memUsage: 10, memLimit: null, pids: 1 }],
  ]);
  it('by name, numerically and case-insensitively', () => {
    expect(names(sortContainers(rows, { key: 'name', dir: 'asc' }, stats))).toEqual(['alpha', 'Beta', 'gamma9', 'gamma10']);
    expect(names(sortContainers(rows, { key: 'name', dir: 'desc' }, stats))).toEqual(['gamma10', 'gamma9', 'Beta', 'alpha']);
  });
  it('by created time', () => {
    expect(names(sortContainers(rows, { key: 'created', dir: 'desc' }, stats))).toEqual(['alpha', 'gamma10', 'Beta', 'gamma9']);
  });
  it('by cpu with containers without stats last in both directions', () => {
    expect(names(sortContainers(rows, { key: 'cpu', dir: 'desc' }, stats))).toEqual(['gamma9', 'alpha', 'Beta', 'gamma10']);
    expect(names(sortContainers(rows, { key: 'cpu', dir: 'asc' }, stats))).toEqual(['alpha', 'gamma9', 'Beta', 'gamma10']);
  });
  it('by uptime: shortest first ascending, stopped ones last', () => {
    expect(names(sortContainers(rows, { key: 'uptime', dir: 'asc' }, stats))).toEqual(['alpha', 'gamma9', 'Beta', 'gamma10']);
  });
  it('by status: running first', () => {
    expect(names(sortContainers(rows, { key: 'status', dir: 'asc' }, stats))).toEqual(['alpha', 'gamma9', 'gamma10', 'Beta']);
  });
});

describe('sorting helpers', () => {
  it('toggleSort flips the same column and starts another ascending', () => {
    expect(toggleSort({ key: 'name', dir: 'asc' }, 'name')).toEqual({ key: 'name', dir: 'desc' });
    expect(toggleSort({ key: 'name', dir: 'desc' }, 'name')).toEqual({ key: 'name', dir: 'asc' });
    expect(toggleSort({ key: 'name', dir: 'desc' }, 'created')).toEqual({ key: 'created', dir: 'asc' });
  });
  it('sortBy is stable', () => {
    const items = [{ k: 1, n: 'x' }, { k: 0, n: 'y' }, { k: 1, n: 'z' }];
    expect(sortBy(items, (i) => i.k, 'asc').map((i) => i.n)).toEqual(['y', 'x', 'z']);
    expect(sortBy(items, (i) => i.k, 'desc').map((i) => i.n)).toEqual(['x', 'z', 'y']);
  });
});

describe('images', () => {
  const small = image({ id: '1'.repeat(64), repository: 'docker.io/library/busybox', tag: '1.36', names: ['docker.io/library/busybox:1.36'], size: 4_000_000 });
  const big = image({ id: '2'.repeat(64), repository: 'docker.io/library/nginx', tag: 'latest', names: ['docker.io/library/nginx:latest'], size: 190_000_000, containers: 2, inUse: true });
  const dangling = image({ id: '3'.repeat(64), repository: '<none>', tag: '<none>', names: [], size: 1 });
  it('filters by repository, tag or id', () => {
    expect(filterImages([small, big, dangling], 'nginx')).toEqual([big]);
    expect(filterImages([small, big, dangling], '1.36')).toEqual([small]);
    expect(filterImages([small, big, dangling], '3333')).toEqual([dangling]);
  });
  it('sorts by size', () => {
    expect(sortImages([big, dangling, small], { key: 'size', dir: 'asc' })).toEqual([dangling, small, big]);
  });
  it('references an image by name, else by id', () => {
    expect(imageReference(big)).toBe('docker.io/library/nginx:latest');
    expect(imageReference(dangling)).toBe('3'.repeat(64));
  });
});

describe('displayImage', () => {
  it.each([
    ['docker.io/library/nginx:1.27', 'nginx:1.27'],
    ['docker.io/grafana/grafana:latest', 'grafana/grafana:latest'],
    ['ghcr.io/example/api:2.4.1', 'ghcr.io/example/api:2.4.1'],
    ['0123456789ab', '0123456789ab'],
  ])('%s shows as %s', (name, want) => expect(displayImage(name)).toBe(want));
});

describe('imageParts', () => {
  it.each([
    ['127.0.0.1:5000/e2e/busybox:latest', '127.0.0.1:5000', 'e2e/busybox:latest'],
    ['ghcr.io/example/api:2.4.1', 'ghcr.io', 'example/api:2.4.1'],
    ['localhost/app:dev', 'localhost', 'app:dev'],
    ['docker.io/library/nginx:1.27', null, 'nginx:1.27'],
    ['docker.io/grafana/grafana:latest', null, 'grafana/grafana:latest'],
    ['0123456789ab', null, '0123456789ab'],
  ])('%s: registry %s, then %s', (name, registry, rest) => expect(imageParts(name)).toEqual({ registry, rest }));
});

describe('fitColumns', () => {
  const cols = [
    { key: 'name', track: '1fr', min: 100 },
    { key: 'command', track: '1fr', min: 90, dropOrder: 1 },
    { key: 'uptime', track: '70px', min: 70, dropOrder: 2 },
    { key: 'actions', track: '160px', min: 160 },
  ] as const;
  const keys = (w: number) => fitColumns(cols, w).map((c) => c.key);
  it('keeps everything when it fits', () => expect(keys(420)).toEqual(['name', 'command', 'uptime', 'actions']));
  it('drops optional columns in order until it fits', () => {
    expect(keys(419)).toEqual(['name', 'uptime', 'actions']);
    expect(keys(330)).toEqual(['name', 'uptime', 'actions']);
    expect(keys(329)).toEqual(['name', 'actions']);
  });
  it('never drops required columns', () => expect(keys(10)).toEqual(['name', 'actions']));
});

describe('portUrl', () => {
  it('opens a TCP port where it is bound, localhost for every address; UDP not at all', () => {
    const p = (hostIp: string, protocol: 'tcp' | 'udp' = 'tcp') => portUrl({ hostIp, hostPort: 8080, protocol });
    expect(p('')).toBe('http://localhost:8080');
    expect(p('0.0.0.0')).toBe('http://localhost:8080');
    expect(p('::')).toBe('http://localhost:8080');
    expect(p('127.0.0.1')).toBe('http://127.0.0.1:8080');
    expect(p('::1')).toBe('http://[::1]:8080');
    expect(p('', 'udp')).toBeNull();
  });
});
