import { describe, expect, it } from 'vitest';
import { applyPullEvent, emptyProgress, layerFraction } from './pull';

describe('pull progress', () => {
  it('folds events into per-layer progress in manifest order', () => {
    let p = emptyProgress('alpine');
    p = applyPullEvent(p, { type: 'layer', reference: 'alpine', digest: 'sha256:b', phase: 'downloading', current: 5, total: 10 });
    p = applyPullEvent(p, {
      type: 'resolved',
      reference: 'alpine',
      manifestDigest: 'sha256:m',
      layers: [
        { digest: 'sha256:a', size: 100 },
        { digest: 'sha256:b', size: 10 },
      ],
    });
    expect(p.layers.map((l) => [l.digest, l.phase, layerFraction(l)])).toEqual([
      ['sha256:a', 'waiting', 0],
      ['sha256:b', 'downloading', 0.5],
    ]);
    p = applyPullEvent(p, { type: 'layer', reference: 'alpine', digest: 'sha256:a', phase: 'already_exists', current: 0, total: 100 });
    p = applyPullEvent(p, { type: 'layer', reference: 'alpine', digest: 'sha256:b', phase: 'extracting', current: 0, total: 10 });
    expect(p.layers.map(layerFraction)).toEqual([1, 1]);
    expect(p.imageId).toBeNull();
    p = applyPullEvent(p, { type: 'done', reference: 'alpine', imageId: 'sha256:i' });
    expect(p.imageId).toBe('sha256:i');
  });
});
