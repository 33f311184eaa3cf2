//! Compose projects and pods in the Containers list: the containers of one project (the
//! `com.docker.compose.project` label, `composeProject` in a row), or else of one pod
//! (`podName`), are shown under one group row, which can be collapsed. The group takes the place of its first member in the sorted,
//! filtered list, so sorting and the filters keep working; a search shows the groups it
//! matches expanded, with the members it matches. Also the merge of several containers' logs
//! into one, as `compose logs` shows them.

import type { ContainerSummary } from './bindings/ContainerSummary';
import type { LogLine } from './bindings/LogLine';
import { isRunning } from './table';

export interface GroupRow {
  kind: 'group';
  key: string;
  /** What groups them: a compose project or a pod. */
  source: 'compose' | 'pod';
  /** The group's identity (for collapsing): the project's name, or `pod:` and the pod's. */
  id: string;
  /** The project's or the pod's name. */
  project: string;
  /** Every container of the project, whatever the filters. */
  members: ContainerSummary[];
  /** Those the filters let through, in the list's order. */
  shown: ContainerSummary[];
  running: number;
  expanded: boolean;
}

export interface ContainerRow {
  kind: 'container';
  key: string;
  c: ContainerSummary;
  /** The id of the group it is shown under; null outside any. */
  group: string | null;
}

export type ListRow = GroupRow | ContainerRow;

/** The group a container is shown under: its compose project's, else its pod's. */
export function groupOf(c: ContainerSummary): { source: 'compose' | 'pod'; id: string; name: string } | null {
  if (c.composeProject) return { source: 'compose', id: c.composeProject, name: c.composeProject };
  if (c.podName) return { source: 'pod', id: `pod:${c.podName}`, name: c.podName };
  return null;
}

/**
 * The rows of the list: `visible` (already filtered and sorted) with each project's containers
 * under a group row where its first one was. A collapsed project shows its group row alone,
 * unless `searching`: a search shows what it found.
 */
export function groupRows(
  all: readonly ContainerSummary[],
  visible: readonly ContainerSummary[],
  collapsed: ReadonlySet<string>,
  searching: boolean,
): ListRow[] {
  const members = new Map<string, ContainerSummary[]>();
  for (const c of all) {
    const g = groupOf(c);
    if (g) members.set(g.id, [...(members.get(g.id) ?? []), c]);
  }
  const shown = new Map<string, ContainerSummary[]>();
  for (const c of visible) {
    const g = groupOf(c);
    if (g) shown.set(g.id, [...(shown.get(g.id) ?? []), c]);
  }
  const rows: ListRow[] = [];
  const done = new Set<string>();
  for (const c of visible) {
    const g = groupOf(c);
    if (!g) {
      rows.push({ kind: 'container', key: c.id, c, group: null });
      continue;
    }
    if (done.has(g.id)) continue;
    done.add(g.id);
    const all = members.get(g.id) ?? [c];
    const group: GroupRow = {
      kind: 'group',
      key: `group:${g.id}`,
      source: g.source,
      id: g.id,
      project: g.name,
      members: all,
      shown: shown.get(g.id) ?? [],
      running: all.filter(isRunning).length,
      expanded: searching || !collapsed.has(g.id),
    };
    rows.push(group);
    if (group.expanded) group.shown.forEach((m) => rows.push({ kind: 'container', key: m.id, c: m, group: g.id }));
  }
  return rows;
}

/** The group's services, each once, in the order of its members. */
export function services(group: Pick<GroupRow, 'members'>): string[] {
  return [...new Set(group.members.map((m) => m.composeService ?? m.name))];
}

export interface MergedLine extends LogLine {
  /** The container the line is from. */
  source: string;
}

/**
 * Several containers' lines as one log, oldest first (their times are RFC 3339 with nine
 * digits of nanoseconds in UTC: they order as text); lines of the same time keep the order of
 * `logs`, then their own.
 */
export function mergeLogs(logs: readonly { source: string; lines: readonly LogLine[] }[]): MergedLine[] {
  return logs
    .flatMap((l, which) => l.lines.map((line, i) => ({ ...line, source: l.source, which, i })))
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.which - b.which || a.i - b.i))
    .map(({ which: _w, i: _i, ...line }) => line);
}
