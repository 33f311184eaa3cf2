import { describe, expect, it } from 'vitest';
import { applyPushEvent, destinationError, emptyPush, pushFraction, pushPhaseLabel } from './push';

describe('push progress', () => {
  it('folds events into per-layer progress in manifest order', () => {
    let p = emptyPush();
    p = applyPushEvent(p, {
      type: 'started',
      layers: [
        { digest: 'sha256:a', size: 100 },
        { digest: 'sha256:b', size: 10 },
      ],
    });
    expect(p.layers.map((l) => [l.digest, l.phase, pushFraction(l)])).toEqual([
      ['sha256:a', 'waiting', 0],
      ['sha256:b', 'waiting', 0],
    ]);
    p = applyPushEvent(p, { type: 'layer', digest: 'sha256:b', phase: 'uploading', current: 5, total: 10 });
    p = applyPushEvent(p, { type: 'layer', digest: 'sha256:a', phase: 'mounted', current: 100, total: 100 });
    expect(p.layers.map(pushFraction)).toEqual([1, 0.5]);
    expect(p.layers.map((l) => pushPhaseLabel(l.phase))).toEqual(['Mounted', 'Uploading']);
    p = applyPushEvent(p, { type: 'layer', digest: 'sha256:b', phase: 'done', current: 10, total: 10 });
    p = applyPushEvent(p, { type: 'config', digest: 'sha256:c' });
    expect(p.manifest).toBeNull();
    p = applyPushEvent(p, { type: 'manifest', digest: 'sha256:m' });
    expect([p.config, p.manifest, p.layers.map(pushFraction)]).toEqual(['sha256:c', 'sha256:m', [1, 1]]);
  });

  it('checks the destination before sending it', () => {
    expect(destinationError('')).toMatch(/enter a destination/);
    expect(destinationError('a b')).toMatch(/no spaces/);
    expect(destinationError('dir:')).toMatch(/needs a path/);
    expect(destinationError('127.0.0.1:5000/team/app:1')).toBeNull();
    expect(destinationError('oci:/tmp/layout:v1')).toBeNull();
  });
});
