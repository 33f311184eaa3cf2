import { describe, expect, it } from 'vitest';
import { containersLoad, diskLines, hostLoad } from './dashboard';

const host = { cpuPercent: 37.5, cpus: 4, memUsed: 2_000, memTotal: 8_000 };

describe('dashboard figures', () => {
  it('gives the host load as shares of the host', () => {
    expect(hostLoad(host)).toEqual({ cpuPercent: 37.5, memUsed: 2_000, memPercent: 25 });
    expect(hostLoad({ ...host, memTotal: 0 }).memPercent).toBe(0);
  });

  it('sums the containers and divides their CPU by the host cores', () => {
    const stats = [
      { id: 'a', cpuPercent: 100, memUsage: 1_000, memLimit: null, pids: 1 },
      { id: 'b', cpuPercent: 50, memUsage: 600, memLimit: null, pids: 2 },
    ];
    expect(containersLoad(stats, host)).toEqual({ cpuPercent: 37.5, memUsed: 1_600, memPercent: 20 });
    // Before the host's first sample: CPU of one core, no memory share.
    expect(containersLoad(stats, null)).toEqual({ cpuPercent: 100, memUsed: 1_600, memPercent: 0 });
    expect(containersLoad([], host)).toEqual({ cpuPercent: 0, memUsed: 0, memPercent: 0 });
  });

  it('lists system df lines and their total, with the reclaimable share', () => {
    const lines = diskLines({
      images: { total: 3, active: 1, size: 900, reclaimable: 300 },
      containers: { total: 2, active: 2, size: 100, reclaimable: 0 },
      volumes: { total: 1, active: 0, size: 0, reclaimable: 0 },
    });
    expect(lines.map((l) => [l.label, l.total, l.active, l.size, l.reclaimable, l.reclaimablePercent])).toEqual([
      ['Images', 3, 1, 900, 300, 33],
      ['Containers', 2, 2, 100, 0, 0],
      ['Volumes', 1, 0, 0, 0, 0],
      ['Total', 6, 3, 1000, 300, 30],
    ]);
  });
});
