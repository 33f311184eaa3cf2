import { describe, expect, it } from 'vitest';
import { envOf, mountsOf, SampleHistory } from './details';

describe('details summary', () => {
  it('reads env and user mounts from inspect', () => {
    const inspect = {
      Config: { Env: ['A=1', 'PATH=/bin'] },
      OCISpec: {
        mounts: [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/etc/hosts', type: 'bind', source: '/run/berth/x/hosts', options: ['bind'] },
          { destination: '/data', type: 'bind', source: '/var/lib/berth/volumes/pgdata/_data', options: ['rbind', 'bind'] },
          { destination: '/src', type: 'bind', source: '/home/me/src', options: ['bind', 'ro'] },
          { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
        ],
      },
    };
    expect(envOf(inspect)).toEqual(['A=1', 'PATH=/bin']);
    expect(mountsOf(inspect)).toEqual([
      { type: 'volume', source: 'pgdata', destination: '/data', readOnly: false },
      { type: 'bind', source: '/home/me/src', destination: '/src', readOnly: true },
      { type: 'tmpfs', source: 'tmpfs', destination: '/tmp', readOnly: false },
    ]);
    expect(mountsOf({ Mounts: [{ Type: 'volume', Name: 'v', Destination: '/v', RW: false }] })).toEqual([
      { type: 'volume', source: 'v', destination: '/v', readOnly: true },
    ]);
    expect(envOf(null)).toEqual([]);
    expect(mountsOf('x')).toEqual([]);
  });

  it('keeps the last samples and draws them right-aligned', () => {
    const h = new SampleHistory(3);
    expect(h.points(100, 10)).toBe('');
    h.push(5);
    h.push(10);
    expect(h.points(100, 10)).toBe('50.0,5.0 100.0,0.0');
    h.push(0);
    h.push(10);
    expect(h.length).toBe(3);
    expect(h.points(100, 10, 20)).toBe('0.0,5.0 50.0,10.0 100.0,5.0');
  });
});
