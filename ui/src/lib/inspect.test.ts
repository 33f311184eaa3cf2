import { describe, expect, it } from 'vitest';
import { allPaths, highlight, searchTree, visibleRows, type JsonValue } from './inspect';

const doc: JsonValue = {
  Id: 'abc',
  State: { Status: 'running', ExitCode: 0, Health: null },
  Mounts: [{ Source: '/srv/data', Destination: '/data' }],
  Config: { Env: ['PATH=/usr/bin', 'MODE=prod'], 'a/b': true },
  Empty: {},
};

describe('inspect tree', () => {
  it('shows the root open and everything else collapsed', () => {
    const rows = visibleRows(doc, new Set());
    expect(rows.map((r) => [r.path, r.text, r.expandable])).toEqual([
      ['', '{5}', true],
      ['/Id', '"abc"', false],
      ['/State', '{3}', true],
      ['/Mounts', '[1]', true],
      ['/Config', '{2}', true],
      ['/Empty', '{0}', false],
    ]);
  });

  it('opens the expanded nodes, escaping "/" in keys', () => {
    const rows = visibleRows(doc, new Set(['/Config', '/Mounts', '/Mounts/0']));
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.key}`)).toContain('      Destination');
    expect(rows.find((r) => r.key === 'a/b')?.path).toBe('/Config/a~1b');
    expect(rows.find((r) => r.path === '/Config')?.expanded).toBe(true);
    expect(allPaths(doc)).toEqual(new Set(['', '/State', '/Mounts', '/Mounts/0', '/Config', '/Config/Env']));
  });

  it('finds keys and values case-insensitively and expands their ancestors', () => {
    const s = searchTree(doc, 'PROD');
    expect(s.matches).toEqual(['/Config/Env/1']);
    expect(s.expand).toEqual(new Set(['', '/Config', '/Config/Env']));
    const k = searchTree(doc, 'source');
    expect(k.matches).toEqual(['/Mounts/0/Source']);
    expect(k.expand).toEqual(new Set(['', '/Mounts', '/Mounts/0']));
    expect(searchTree(doc, 'data').matches).toEqual(['/Mounts/0/Source', '/Mounts/0/Destination']);
    expect(searchTree(doc, 'null').matches).toEqual(['/State/Health']);
    expect(searchTree(doc, '  ').matches).toEqual([]);
    const rows = visibleRows(doc, s.expand);
    expect(rows.some((r) => r.path === '/Config/Env/1')).toBe(true);
  });

  it('splits text around every hit', () => {
    expect(highlight('Data and DATA', 'data')).toEqual([
      { text: 'Data', hit: true },
      { text: ' and ', hit: false },
      { text: 'DATA', hit: true },
    ]);
    expect(highlight('x', '')).toEqual([{ text: 'x', hit: false }]);
  });
});
