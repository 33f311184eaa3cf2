import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from './bindings/ContainerSummary';
import { groupRows, mergeLogs, services, type ListRow } from './groups';
import { filterContainers } from './table';
import { container } from './testing/fakeBackend';

function c(name: string, project: string | null, over: Partial<ContainerSummary> = {}): ContainerSummary {
  return container({ id: name.padEnd(64, '0'), name, composeProject: project, composeService: project ? name.split('_')[1] : null, ...over });
}

/** The rows as text: `[project 1/2]` for a group, `  name` for its members, `name` outside any. */
function text(rows: ListRow[]): string[] {
  return rows.map((r) => (r.kind === 'group' ? `[${r.project} ${r.running}/${r.members.length}${r.expanded ? '' : ' closed'}]` : `${r.group ? '  ' : ''}${r.c.name}`));
}

describe('compose groups', () => {
  const web = c('demo_web_1', 'demo');
  const db = c('demo_db_1', 'demo', { status: 'exited' });
  const plain = c('plain', null);
  const api = c('shop_api_1', 'shop');

  it("puts a project's containers under one row, where its first one is", () => {
    const all = [plain, web, api, db];
    expect(text(groupRows(all, all, new Set(), false))).toEqual(['plain', '[demo 1/2]', '  demo_web_1', '  demo_db_1', '[shop 1/1]', '  shop_api_1']);
    // Another sort moves the group with its first member, the members keep the sort's order.
    const sorted = [db, api, plain, web];
    expect(text(groupRows(all, sorted, new Set(), false))).toEqual(['[demo 1/2]', '  demo_db_1', '  demo_web_1', '[shop 1/1]', '  shop_api_1', 'plain']);
    expect(groupRows(all, all, new Set(), false).map((r) => r.key)).toEqual([plain.id, 'group:demo', web.id, db.id, 'group:shop', api.id]);
  });

  it('collapses a group to its row; a search shows what it found, expanded', () => {
    const all = [web, db, plain];
    expect(text(groupRows(all, all, new Set(['demo']), false))).toEqual(['[demo 1/2 closed]', 'plain']);
    const found = filterContainers(all, 'all', 'db_1');
    expect(text(groupRows(all, found, new Set(['demo']), true))).toEqual(['[demo 1/2]', '  demo_db_1']);
    // The project's name and the services are searched too.
    expect(filterContainers(all, 'all', 'DEMO').map((x) => x.name)).toEqual(['demo_web_1', 'demo_db_1']);
    expect(filterContainers(all, 'all', 'web').map((x) => x.name)).toEqual(['demo_web_1']);
  });

  it('counts the whole project whatever the filters show', () => {
    const all = [web, db];
    const running = filterContainers(all, 'running', '');
    const [group] = groupRows(all, running, new Set(), false);
    expect(group.kind === 'group' && [group.running, group.members.length, group.shown.map((x) => x.name)]).toEqual([1, 2, ['demo_web_1']]);
    expect(groupRows(all, [], new Set(), false)).toEqual([]);
  });

  it("puts a pod's containers under one row, apart from a compose project of the same name", () => {
    const inPod = (name: string, pod: string, over: Partial<ContainerSummary> = {}) => c(name, null, { podName: pod, pod: `${pod}-id`, ...over });
    const app = inPod('app', 'shop');
    const sidecar = inPod('sidecar', 'shop', { status: 'exited' });
    const rows = groupRows([app, api, plain, sidecar], [app, api, plain, sidecar], new Set(), false);
    expect(text(rows)).toEqual(['[shop 1/2]', '  app', '  sidecar', '[shop 1/1]', '  shop_api_1', 'plain']);
    const [pod, , , compose] = rows;
    expect(pod.kind === 'group' && [pod.source, pod.id, pod.key]).toEqual(['pod', 'pod:shop', 'group:pod:shop']);
    expect(compose.kind === 'group' && [compose.source, compose.id, compose.key]).toEqual(['compose', 'shop', 'group:shop']);
    expect(rows[1].kind === 'container' && rows[1].group).toBe('pod:shop');
    // Collapsing the pod leaves the project open.
    expect(text(groupRows([app, api, sidecar], [app, api, sidecar], new Set(['pod:shop']), false))).toEqual(['[shop 1/2 closed]', '[shop 1/1]', '  shop_api_1']);
    // A compose service in a pod (podman-compose makes one per project) stays under its project.
    const both = c('demo_cache_1', 'demo', { podName: 'pod_demo' });
    expect(text(groupRows([web, both], [web, both], new Set(), false))).toEqual(['[demo 2/2]', '  demo_web_1', '  demo_cache_1']);
  });

  it('names the services once each', () => {
    const again = c('demo_web_2', 'demo');
    expect(services({ members: [web, db, again] })).toEqual(['web', 'db']);
  });

  it('merges logs by time, ties in the order given', () => {
    const line = (time: string, text: string) => ({ time, stream: 'stdout' as const, line: text });
    const merged = mergeLogs([
      { source: 'web', lines: [line('2026-01-01T00:00:01.000000000Z', 'w1'), line('2026-01-01T00:00:03.000000000Z', 'w3')] },
      { source: 'db', lines: [line('2026-01-01T00:00:02.500000000Z', 'd2'), line('2026-01-01T00:00:03.000000000Z', 'd3')] },
    ]);
    expect(merged.map((l) => `${l.source}:${l.line}`)).toEqual(['web:w1', 'db:d2', 'web:w3', 'db:d3']);
    expect(merged[0]).toEqual({ time: '2026-01-01T00:00:01.000000000Z', stream: 'stdout', line: 'w1', source: 'web' });
  });
});
