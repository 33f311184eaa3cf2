//! Compose projects in the Containers list: the containers of one project (the
//! `com.docker.compose.project` label, `composeProject` in a row) are shown under one group
//! row, which can be collapsed. The group takes the place of its first member in the sorted,
//! filtered list, so sorting and the filters keep working; a search shows the groups it
//! matches expanded, with the members it matches. Also the merge of several containers' logs
//! into one, as `compose logs` shows them.

import type { ContainerSummary } from './bindings/ContainerSummary';
import type { LogLine } from './bindings/LogLine';
import { isRunning } from './table';

export interface GroupRow {
  kind: 'group';
  key: string;
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
  /** The project of the group it is shown under; null outside any. */
  group: string | null;
}

export type ListRow = GroupRow | ContainerRow;

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
    if (c.composeProject) members.set(c.composeProject, [...(members.get(c.composeProject) ?? []), c]);
  }
  const shown = new Map<string, ContainerSummary[]>();
  for (const c of visible) {
    if (c.composeProject) shown.set(c.composeProject, [...(shown.get(c.composeProject) ?? []), c]);
  }
  const rows: ListRow[] = [];
  const done = new Set<string>();
  for (const c of visible) {
    const project = c.composeProject;
    if (!project) {
      rows.push({ kind: 'container', key: c.id, c, group: null });
      continue;
    }
    if (done.has(project)) continue;
    done.add(project);
    const all = members.get(project) ?? [c];
    const group: GroupRow = {
      kind: 'group',
      key: `group:${project}`,
      project,
      members: all,
      shown: shown.get(project) ?? [],
      running: all.filter(isRunning).length,
      expanded: searching || !collapsed.has(project),
    };
    rows.push(group);
    if (group.expanded) group.shown.forEach((m) => rows.push({ kind: 'container', key: m.id, c: m, group: project }));
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
