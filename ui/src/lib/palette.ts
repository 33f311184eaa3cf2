//! The command palette (Ctrl+K) as plain functions: the fuzzy match of a query against an
//! item's label, and the items (panes, containers, images, actions) with their order.

import type { ContainerSummary } from './bindings/ContainerSummary';
import type { ImageSummary } from './bindings/ImageSummary';
import type { Pane } from './keyboard';

export type PaletteAction =
  | { kind: 'pane'; pane: Pane }
  | { kind: 'container'; id: string }
  | { kind: 'image'; id: string }
  | { kind: 'start' | 'stop' | 'remove'; id: string; name: string; running: boolean }
  | { kind: 'pull' }
  | { kind: 'create' }
  | { kind: 'play-kube' }
  | { kind: 'compose' }
  | { kind: 'tasks' };

export interface PaletteItem {
  /** Unique among the items. */
  key: string;
  /** What is matched and shown. */
  label: string;
  /** Shown after the label, not matched. */
  hint: string;
  group: 'Actions' | 'Panes' | 'Containers' | 'Images';
  action: PaletteAction;
}

export interface Match {
  item: PaletteItem;
  score: number;
  /** Indices of the label's characters that matched, for highlighting. */
  positions: number[];
}

const isBoundary = (text: string, i: number) => i === 0 || /[\s\-_./:@]/.test(text[i - 1]) || (/[a-z]/.test(text[i - 1]) && /[A-Z]/.test(text[i]));

/**
 * The query's characters in order in `text`, case-insensitively (spaces in the query are
 * skipped): null when they are not all there. Higher scores for matches at word starts, runs of
 * consecutive characters and an early start; each character takes its best place (dynamic
 * programming over the positions, so "cre" finds the word start of "Create", not the "c…r…e"
 * scattered before it).
 */
export function fuzzyMatch(query: string, text: string): { score: number; positions: number[] } | null {
  const q = [...query.toLowerCase()].filter((c) => c !== ' ');
  if (q.length === 0) return { score: 0, positions: [] };
  const t = text.toLowerCase();
  const n = t.length;
  if (q.length > n) return null;
  // best[i][j]: the best score with q[..=i] matched and q[i] at text position j; from: where q[i-1] was.
  const NONE = -Infinity;
  const best: number[][] = [];
  const from: number[][] = [];
  for (let i = 0; i < q.length; i++) {
    best.push(new Array(n).fill(NONE));
    from.push(new Array(n).fill(-1));
    for (let j = i; j < n; j++) {
      if (t[j] !== q[i]) continue;
      const bonus = (isBoundary(text, j) ? 8 : 0) + (j === 0 ? 4 : 0);
      if (i === 0) {
        best[i][j] = 10 + bonus - Math.min(j, 10) * 0.5;
        continue;
      }
      let top = NONE;
      let at = -1;
      for (let k = i - 1; k < j; k++) {
        if (best[i - 1][k] === NONE) continue;
        const s = best[i - 1][k] + (k === j - 1 ? 6 : -Math.min(j - k - 1, 5));
        if (s > top) {
          top = s;
          at = k;
        }
      }
      if (at < 0) continue;
      best[i][j] = top + 10 + bonus;
      from[i][j] = at;
    }
  }
  const last = q.length - 1;
  let end = -1;
  for (let j = 0; j < n; j++) if (best[last][j] !== NONE && (end < 0 || best[last][j] > best[last][end])) end = j;
  if (end < 0) return null;
  const positions: number[] = [];
  for (let i = last, j = end; i >= 0; j = from[i][j], i--) positions.unshift(j);
  // A shorter label is the closer match, other things equal.
  return { score: best[last][end] - n * 0.1, positions };
}

const PANES: [Pane, string][] = [
  ['dashboard', 'Dashboard'],
  ['containers', 'Containers'],
  ['images', 'Images'],
  ['volumes', 'Volumes'],
  ['networks', 'Networks'],
  ['pods', 'Pods'],
  ['settings', 'Settings'],
];

const KEYS: Record<Pane, string> = { dashboard: 'Ctrl+0', containers: 'Ctrl+1', images: 'Ctrl+2', volumes: 'Ctrl+3', networks: 'Ctrl+4', pods: 'Ctrl+5', settings: 'Ctrl+,' };

const imageName = (i: ImageSummary) => (i.names[0] ?? `${i.repository}:${i.tag}`).replace(/^<none>:<none>$/, i.shortId);

/**
 * Every item, in the order an empty query shows them: the selected container's actions first
 * (when one is selected), then the general actions, the panes, the containers and what can be
 * done to each, and the images.
 */
export function paletteItems(containers: ContainerSummary[], images: ImageSummary[], selected: string | null): PaletteItem[] {
  const actionsOf = (c: ContainerSummary): PaletteItem[] => {
    const running = c.status === 'running' || c.status === 'paused';
    const verb = running ? ('stop' as const) : ('start' as const);
    return [
      { key: `${verb}:${c.id}`, label: `${running ? 'Stop' : 'Start'} ${c.name}`, hint: 'container', group: 'Actions', action: { kind: verb, id: c.id, name: c.name, running } },
      { key: `remove:${c.id}`, label: `Remove ${c.name}`, hint: 'container', group: 'Actions', action: { kind: 'remove', id: c.id, name: c.name, running } },
    ];
  };
  const sel = containers.find((c) => c.id === selected);
  return [
    ...(sel ? actionsOf(sel).map((i) => ({ ...i, hint: 'selected container' })) : []),
    { key: 'create', label: 'Create a container…', hint: 'from an image', group: 'Actions', action: { kind: 'create' } },
    { key: 'pull', label: 'Pull an image…', hint: 'from a registry', group: 'Actions', action: { kind: 'pull' } },
    { key: 'play-kube', label: 'Play Kubernetes YAML…', hint: 'pods from a YAML file', group: 'Actions', action: { kind: 'play-kube' } },
    { key: 'compose', label: 'Run a compose file…', hint: 'docker-compose up or down', group: 'Actions', action: { kind: 'compose' } },
    { key: 'tasks', label: 'Show tasks', hint: 'pulls, builds and compose runs', group: 'Actions', action: { kind: 'tasks' } },
    ...PANES.map(([pane, label]): PaletteItem => ({ key: `pane:${pane}`, label, hint: KEYS[pane], group: 'Panes', action: { kind: 'pane', pane } })),
    ...containers.map((c): PaletteItem => ({ key: `container:${c.id}`, label: c.name, hint: `${c.status} · ${c.image}`, group: 'Containers', action: { kind: 'container', id: c.id } })),
    ...containers.filter((c) => c.id !== sel?.id).flatMap(actionsOf),
    ...images.map((i): PaletteItem => ({ key: `image:${i.id}`, label: imageName(i), hint: i.shortId, group: 'Images', action: { kind: 'image', id: i.id } })),
  ];
}

/**
 * The items matching `query`, best first (ties keep the items' order); an empty query gives the
 * first `limit` items as they are.
 */
export function searchPalette(items: PaletteItem[], query: string, limit = 50): Match[] {
  if (query.trim() === '') return items.slice(0, limit).map((item) => ({ item, score: 0, positions: [] }));
  const out: (Match & { index: number })[] = [];
  items.forEach((item, index) => {
    const m = fuzzyMatch(query.trim(), item.label);
    if (m) out.push({ item, index, ...m });
  });
  out.sort((a, b) => b.score - a.score || a.index - b.index);
  return out.slice(0, limit).map(({ item, score, positions }) => ({ item, score, positions }));
}

/** The label cut into runs, matched or not, for highlighting. */
export function highlight(label: string, positions: number[]): { text: string; hit: boolean }[] {
  const hits = new Set(positions);
  const runs: { text: string; hit: boolean }[] = [];
  [...label].forEach((ch, i) => {
    const hit = hits.has(i);
    const last = runs[runs.length - 1];
    if (last && last.hit === hit) last.text += ch;
    else runs.push({ text: ch, hit });
  });
  return runs;
}
