import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../bindings/EngineEvent';
import { notifier } from './notify';

function setup(hidden = false) {
  const toasts: string[] = [];
  const system: string[] = [];
  let t = 1000;
  const n = notifier(null, {
    toast: (kind, m) => toasts.push(`${kind}: ${m}`),
    hidden: () => hidden,
    system: (title, body) => (system.push(`${title}: ${body}`), true),
    now: () => t,
    nameOf: (id) => (id === 'c2' ? 'api' : null),
  });
  return { n, toasts, system, advance: (ms: number) => (t += ms) };
}

const died = (exitCode: number | null, id = 'c1'): EngineEvent => ({ kind: 'container', action: 'died', id, name: 'web', exitCode });

describe('notifications', () => {
  it('toasts a pull once and a non-zero exit, not a clean one', () => {
    const { n, toasts, system } = setup();
    n.handle({ kind: 'image', action: 'pull', id: 'sha256:1', name: 'alpine:3' });
    n.handle({ kind: 'image', action: 'pull', id: 'sha256:1', name: 'alpine:3' });
    n.handle(died(0));
    n.handle(died(null));
    n.handle(died(2));
    n.handle({ kind: 'container', action: 'start', id: 'c1', name: 'web' });
    expect(toasts).toEqual(['success: Pulled alpine:3', 'error: web exited with code 2']);
    expect(system).toEqual([]);
  });

  it('names a container the event does not name', () => {
    const { n, toasts } = setup();
    n.handle({ ...died(1, 'c2'), name: null });
    n.handle({ ...died(1, 'c3333333333333'), name: null });
    expect(toasts).toEqual(['error: api exited with code 1', 'error: c33333333333 exited with code 1']);
  });

  it('adds a system notification when the page is hidden', () => {
    const { n, system } = setup(true);
    n.handle(died(137));
    expect(system).toEqual(['Container exited: web exited with code 137']);
  });

  it('says nothing of an exit the user asked for, recently', () => {
    const { n, toasts, advance } = setup();
    n.expectExit('c1');
    n.handle(died(143));
    expect(toasts).toEqual([]);
    n.handle(died(143));
    expect(toasts).toHaveLength(1);
    n.expectExit('c1');
    advance(60_000);
    n.handle(died(137));
    expect(toasts).toHaveLength(2);
  });
});
