//! Filtering and sorting of the Containers and Images tables, outside the components so they
//! are tested on their own.

import type { ContainerStats } from './bindings/ContainerStats';
import type { PortDto } from './bindings/PortDto';
import type { ContainerSummary } from './bindings/ContainerSummary';
import type { ImageSummary } from './bindings/ImageSummary';

export type SortDir = 'asc' | 'desc';
export interface Sort<K extends string> {
  key: K;
  dir: SortDir;
}

/** Next sort after a click on the header of `key`: same column flips, another starts ascending. */
export function toggleSort<K extends string>(current: Sort<K>, key: K): Sort<K> {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: 'asc' };
}

type SortValue = string | number | null;

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareValues(a: SortValue, b: SortValue): number {
  // Missing values go last whatever the direction.
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/** A stable sort by `value`, nulls last; ties keep their order. */
export function sortBy<T>(rows: readonly T[], value: (row: T) => SortValue, dir: SortDir): T[] {
  const sign = dir === 'asc' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, v: value(row) }))
    .sort((x, y) => {
      if (x.v === null || y.v === null) return compareValues(x.v, y.v) || x.index - y.index;
      return sign * compareValues(x.v, y.v) || x.index - y.index;
    })
    .map((x) => x.row);
}

// Containers

export type StatusFilter = 'all' | 'running' | 'stopped';
export type ContainerSortKey = 'status' | 'name' | 'image' | 'command' | 'ports' | 'created' | 'uptime' | 'cpu' | 'memory';

export function isRunning(c: Pick<ContainerSummary, 'status'>): boolean {
  return c.status === 'running' || c.status === 'paused' || c.status === 'stopping';
}

export function portsText(c: Pick<ContainerSummary, 'ports'>): string {
  return c.ports
    .map((p) => `${p.hostIp ? `${p.hostIp}:` : ''}${p.hostPort}->${p.containerPort}/${p.protocol}`)
    .join(', ');
}

/**
 * Where a published TCP port answers, for a link: on the address it is bound to when that is
 * one address, else on localhost (the engine's host is this one, in the window as for `--serve`
 * on loopback). Null for UDP, which a browser cannot open.
 */
export function portUrl(p: Pick<PortDto, 'hostIp' | 'hostPort' | 'protocol'>): string | null {
  if (p.protocol !== 'tcp') return null;
  const ip = p.hostIp.trim();
  const host = ip === '' || ip === '0.0.0.0' || ip === '::' ? 'localhost' : ip.includes(':') ? `[${ip}]` : ip;
  return `http://${host}:${p.hostPort}`;
}

export function filterContainers(
  rows: readonly ContainerSummary[],
  status: StatusFilter,
  query: string,
): ContainerSummary[] {
  const q = query.trim().toLowerCase();
  return rows.filter((c) => {
    if (status === 'running' && !isRunning(c)) return false;
    if (status === 'stopped' && isRunning(c)) return false;
    if (!q) return true;
    // What the row shows (its compose project and service included), anywhere in it; the id
    // (hidden) only from its start, as it is typed.
    if (c.id.toLowerCase().startsWith(q) || c.id.toLowerCase().startsWith(`sha256:${q}`)) return true;
    return [c.name, displayImage(c.image), c.image, c.command, c.status, c.health ?? '', portsText(c), c.composeProject ?? '', c.composeService ?? ''].some((f) =>
      f.toLowerCase().includes(q),
    );
  });
}

const STATUS_ORDER: Record<ContainerSummary['status'], number> = {
  running: 0,
  paused: 1,
  stopping: 2,
  created: 3,
  exited: 4,
};

export function sortContainers(
  rows: readonly ContainerSummary[],
  sort: Sort<ContainerSortKey>,
  stats: ReadonlyMap<string, ContainerStats>,
): ContainerSummary[] {
  const value = (c: ContainerSummary): SortValue => {
    switch (sort.key) {
      case 'status':
        return STATUS_ORDER[c.status];
      case 'name':
        return c.name;
      case 'image':
        return c.image;
      case 'command':
        return c.command;
      case 'ports':
        return c.ports.length ? c.ports[0].hostPort : null;
      case 'created':
        return c.created;
      case 'uptime':
        // Ascending = shortest uptime first = latest start.
        return isRunning(c) && c.startedAt !== null ? -c.startedAt : null;
      case 'cpu':
        return stats.get(c.id)?.cpuPercent ?? null;
      case 'memory':
        return stats.get(c.id)?.memUsage ?? null;
    }
  };
  return sortBy(rows, value, sort.dir);
}

// Images

export type ImageSortKey = 'repository' | 'tag' | 'id' | 'created' | 'size' | 'inUse';

export function filterImages(rows: readonly ImageSummary[], query: string): ImageSummary[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...rows];
  return rows.filter((i) => [i.repository, i.tag, i.id, ...i.names].some((f) => f.toLowerCase().includes(q)));
}

export function sortImages(rows: readonly ImageSummary[], sort: Sort<ImageSortKey>): ImageSummary[] {
  const value = (i: ImageSummary): SortValue => {
    switch (sort.key) {
      case 'repository':
        return i.repository;
      case 'tag':
        return i.tag;
      case 'id':
        return i.id;
      case 'created':
        return i.created;
      case 'size':
        return i.size;
      case 'inUse':
        return i.containers;
    }
  };
  return sortBy(rows, value, sort.dir);
}

/** The reference to use for an image in commands: its first name, else its id. */
export function imageReference(i: Pick<ImageSummary, 'names' | 'id' | 'repository' | 'tag'>): string {
  if (i.names.length > 0) return i.names[0];
  if (i.repository !== '<none>' && i.tag !== '<none>') return `${i.repository}:${i.tag}`;
  return i.id;
}

/** An image name as people write it: Docker Hub's default registry and library/ left out. */
/** An image name split for display: the registry (dimmed, or null for Docker Hub's and for
 *  an id) and what tells images apart, the repository and tag. */
export function imageParts(name: string): { registry: string | null; rest: string } {
  const shown = displayImage(name);
  const slash = shown.indexOf('/');
  if (slash < 0 || shown !== name) return { registry: null, rest: shown };
  const first = shown.slice(0, slash);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return { registry: null, rest: shown };
  return { registry: first, rest: shown.slice(slash + 1) };
}

export function displayImage(name: string): string {
  if (name.startsWith('docker.io/library/')) return name.slice('docker.io/library/'.length);
  if (name.startsWith('docker.io/')) return name.slice('docker.io/'.length);
  return name;
}

// Responsive columns

export interface Column<K extends string> {
  key: K;
  /** A CSS grid track: "120px" or "minmax(120px, 1.3fr)". */
  track: string;
  /** Its minimum width in pixels. */
  min: number;
  /** Dropped first when the table is too narrow: lower drops earlier; absent = never. */
  dropOrder?: number;
}

/**
 * The columns that fit in `width` pixels: optional columns are dropped in their `dropOrder`
 * until the minimum widths fit (or nothing optional is left, and the table scrolls).
 */
export function fitColumns<K extends string>(columns: readonly Column<K>[], width: number): Column<K>[] {
  const droppable = columns.filter((c) => c.dropOrder !== undefined).sort((a, b) => a.dropOrder! - b.dropOrder!);
  const dropped = new Set<K>();
  let total = columns.reduce((n, c) => n + c.min, 0);
  for (const c of droppable) {
    if (total <= width) break;
    dropped.add(c.key);
    total -= c.min;
  }
  return columns.filter((c) => !dropped.has(c.key));
}
