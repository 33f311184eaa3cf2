import { describe, expect, it } from 'vitest';
import { fuzzyMatch, highlight, paletteItems, searchPalette } from './palette';
import { container, image } from './testing/fakeBackend';

describe('fuzzyMatch', () => {
  it('finds the characters in order, case-insensitively', () => {
    expect(fuzzyMatch('ngx', 'Nginx')?.positions).toEqual([0, 1, 4]);
    expect(fuzzyMatch('xng', 'nginx')).toBeNull();
    expect(fuzzyMatch('', 'anything')).toEqual({ score: 0, positions: [] });
    expect(fuzzyMatch('toolong', 'tool')).toBeNull();
  });

  it('prefers word starts and runs over scattered characters', () => {
    // "cre" at the start of "Create", not the c…r…e of "scr…e".
    expect(fuzzyMatch('cre', 'screen Create')?.positions).toEqual([7, 8, 9]);
    const run = fuzzyMatch('web', 'web-frontend')!.score;
    const scattered = fuzzyMatch('web', 'wide-employee-base')!.score;
    expect(run).toBeGreaterThan(scattered);
  });

  it('skips spaces in the query', () => {
    expect(fuzzyMatch('stop web', 'Stop web')?.positions).toEqual([0, 1, 2, 3, 5, 6, 7]);
  });
});

describe('palette items', () => {
  const web = container({ id: 'w'.repeat(64), name: 'web', status: 'running' });
  const db = container({ id: 'd'.repeat(64), name: 'db', status: 'exited' });
  const alpine = image();

  it('offers actions, panes, containers with their verbs, and images', () => {
    const items = paletteItems([web, db], [alpine], null);
    expect(items.map((i) => i.label)).toEqual([
      'Create a container…',
      'Pull an image…',
      'Play Kubernetes YAML…',
      'Run a compose file…',
      'Show tasks',
      'Dashboard',
      'Containers',
      'Images',
      'Volumes',
      'Networks',
      'Pods',
      'Settings',
      'web',
      'db',
      'Stop web',
      'Remove web',
      'Start db',
      'Remove db',
      'docker.io/library/alpine:latest',
    ]);
  });

  it('puts the selected container’s actions first', () => {
    const items = paletteItems([web, db], [alpine], db.id);
    expect(items.slice(0, 2).map((i) => [i.label, i.hint])).toEqual([
      ['Start db', 'selected container'],
      ['Remove db', 'selected container'],
    ]);
    expect(items.filter((i) => i.label === 'Start db')).toHaveLength(1);
  });

  it('ranks the closest match first', () => {
    const items = paletteItems([web, db], [alpine], null);
    expect(searchPalette(items, 'stop w')[0].item.label).toBe('Stop web');
    expect(searchPalette(items, 'alp')[0].item.action).toEqual({ kind: 'image', id: alpine.id });
    expect(searchPalette(items, 'net')[0].item.label).toBe('Networks');
    expect(searchPalette(items, 'pull')[0].item.action).toEqual({ kind: 'pull' });
    expect(searchPalette(items, 'zzz')).toEqual([]);
    expect(searchPalette(items, '', 3).map((m) => m.item.label)).toEqual(['Create a container…', 'Pull an image…', 'Play Kubernetes YAML…']);
    expect(searchPalette(items, 'kube')[0].item.action).toEqual({ kind: 'play-kube' });
    expect(searchPalette(items, 'compose')[0].item.action).toEqual({ kind: 'compose' });
    expect(searchPalette(items, 'tasks')[0].item.action).toEqual({ kind: 'tasks' });
  });

  it('cuts a label into matched and unmatched runs', () => {
    expect(highlight('Stop web', [0, 1, 5])).toEqual([
      { text: 'St', hit: true },
      { text: 'op ', hit: false },
      { text: 'w', hit: true },
      { text: 'eb', hit: false },
    ]);
  });
});
