import { describe, expect, it } from 'vitest';
import { listLayers, registryOf, shortDigest, updateLayer } from './layers';

describe('per-layer progress', () => {
  it('lists layers in the manifest order, keeping what events already said, and updates one by digest', () => {
    const early = { digest: 'sha256:b', phase: 'downloading', current: 5, total: 10 };
    const listed = listLayers([early], [
      { digest: 'sha256:a', size: 100 },
      { digest: 'sha256:b', size: 10 },
    ]);
    expect(listed).toEqual([{ digest: 'sha256:a', phase: 'waiting', current: 0, total: 100 }, early]);
    const done = { digest: 'sha256:a', phase: 'done', current: 100, total: 100 };
    expect(updateLayer(listed, done)).toEqual([done, early]);
    const unlisted = { digest: 'sha256:c', phase: 'done', current: 1, total: 1 };
    expect(updateLayer(listed, unlisted).map((l) => l.digest)).toEqual(['sha256:a', 'sha256:b', 'sha256:c']);
  });

  it('names the registry of a reference and shortens digests', () => {
    expect(registryOf('127.0.0.1:5000/team/app:1')).toBe('127.0.0.1:5000');
    expect(registryOf('docker://localhost/app')).toBe('localhost');
    expect(registryOf('library/alpine')).toBeNull();
    expect(registryOf('alpine')).toBeNull();
    expect(shortDigest('sha256:0123456789abcdef')).toBe('0123456789ab');
  });
});
