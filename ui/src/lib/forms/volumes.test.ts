import { describe, expect, it } from 'vitest';
import { parseVolume, validateVolumes, volumeStrings } from './volumes';

function check(input: string, expected: ReturnType<typeof parseVolume>) {
  expect(parseVolume(input)).toEqual(expected);
}

describe('volume rows', () => {
  it('parses named, bind and anonymous volumes with options', () => {
    check('data:/var/lib/data', { ok: true, spec: { kind: 'named', name: 'data', target: '/var/lib/data', readOnly: false } });
    check(' data:/d:ro ', { ok: true, spec: { kind: 'named', name: 'data', target: '/d', readOnly: true } });
    check('/srv/www:/usr/share/nginx/html:ro,z', { ok: true, spec: { kind: 'bind', source: '/srv/www', target: '/usr/share/nginx/html', readOnly: true } });
    check('/cache', { ok: true, spec: { kind: 'anonymous', target: '/cache', readOnly: false } });
    check('/a:/b:rw', { ok: true, spec: { kind: 'bind', source: '/a', target: '/b', readOnly: false } });
  });

  it('names what is wrong', () => {
    expect(parseVolume('')).toMatchObject({ ok: false, error: 'volume required' });
    expect(parseVolume('cache')).toMatchObject({ ok: false, error: expect.stringContaining('must be absolute') });
    expect(parseVolume('data:rel')).toMatchObject({ ok: false, error: expect.stringContaining('"rel" must be absolute') });
    expect(parseVolume('data:/d:rx')).toMatchObject({ ok: false, error: expect.stringContaining('unknown option "rx"') });
    expect(parseVolume('data:/d:ro,rw')).toMatchObject({ ok: false, error: expect.stringContaining('both ro and rw') });
    expect(parseVolume('./src:/app')).toMatchObject({ ok: false, error: expect.stringContaining('host path must be absolute') });
    expect(parseVolume('bad name:/d')).toMatchObject({ ok: false, error: expect.stringContaining('not a valid volume name') });
    expect(parseVolume(':/d')).toMatchObject({ ok: false, error: expect.stringContaining('source is empty') });
    expect(parseVolume('a:/b:ro:x')).toMatchObject({ ok: false, error: expect.stringContaining('too many') });
  });

  it('validates rows: blanks are skipped, a container path mounted twice is refused', () => {
    const rows = [
      { key: 1, value: 'data:/d' },
      { key: 2, value: '  ' },
      { key: 3, value: '/host:/d:ro' },
      { key: 4, value: 'nope' },
    ];
    expect(validateVolumes(rows)).toEqual([null, null, '/d is already mounted by row 1', expect.stringContaining('absolute')]);
    expect(volumeStrings(rows)).toEqual(['data:/d', '/host:/d:ro', 'nope']);
  });
});
