//! The Dashboard's figures as plain functions: the running containers' total load next to the
//! host's, and `berth system df`'s lines with their total.

import type { ContainerStats } from './bindings/ContainerStats';
import type { DiskUsage } from './bindings/DiskUsage';
import type { HostStats } from './bindings/HostStats';
import type { UsageRow } from './bindings/UsageRow';

export interface Load {
  /** Percent of the host's CPUs (all of them: 100 is every core busy). */
  cpuPercent: number;
  memUsed: number;
  /** The share of the host's memory, percent. */
  memPercent: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const share = (part: number, whole: number) => (whole > 0 ? round1(Math.min(100, (part / whole) * 100)) : 0);

/** The host's load. */
export function hostLoad(h: HostStats): Load {
  return { cpuPercent: round1(Math.min(100, h.cpuPercent)), memUsed: h.memUsed, memPercent: share(h.memUsed, h.memTotal) };
}

/**
 * What the running containers use together, in the host's terms: a container's CPU % is of one
 * core, so their sum is divided by the host's cores.
 */
export function containersLoad(stats: Iterable<ContainerStats>, h: HostStats | null): Load {
  let cpu = 0;
  let mem = 0;
  for (const s of stats) {
    cpu += s.cpuPercent;
    mem += s.memUsage;
  }
  const cpus = Math.max(1, h?.cpus ?? 1);
  return { cpuPercent: round1(Math.min(100, cpu / cpus)), memUsed: mem, memPercent: h ? share(mem, h.memTotal) : 0 };
}

export interface DiskLine extends UsageRow {
  label: string;
  key: 'images' | 'containers' | 'volumes' | 'total';
  /** Reclaimable as a share of the size, percent, as `system df` prints it. */
  reclaimablePercent: number;
}

/** `berth system df`'s three lines, then their total. */
export function diskLines(d: DiskUsage): DiskLine[] {
  const line = (key: DiskLine['key'], label: string, r: UsageRow): DiskLine => ({
    ...r,
    key,
    label,
    reclaimablePercent: r.size > 0 ? Math.floor((r.reclaimable * 100) / r.size) : 0,
  });
  const rows = [line('images', 'Images', d.images), line('containers', 'Containers', d.containers), line('volumes', 'Volumes', d.volumes)];
  const sum = (k: keyof UsageRow) => rows.reduce((n, r) => n + r[k], 0);
  rows.push(line('total', 'Total', { total: sum('total'), active: sum('active'), size: sum('size'), reclaimable: sum('reclaimable') }));
  return rows;
}
