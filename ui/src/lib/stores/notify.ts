//! Notifications for long work finishing: a pull done, a container that exited with an error.
//! A toast always; a system notification too when the page is hidden (the Notification API,
//! once the user allowed it). Stops the user asked for in this window are not errors.

import type { EngineEvent } from '../bindings/EngineEvent';
import type { EngineEvents } from './events';

export interface NotifyDeps {
  toast(kind: 'success' | 'error', message: string): void;
  hidden(): boolean;
  /** Shows a system notification if allowed; returns whether it did. */
  system(title: string, body: string): boolean;
  now(): number;
  /** A container's name when the event has none (events from other processes may not). */
  nameOf?(id: string): string | null;
}

export interface Notifier {
  /** The user asked this container to stop (or restart, or be removed): its exit is expected. */
  expectExit(id: string): void;
  handle(event: EngineEvent): void;
  dispose(): void;
}

const EXPECT_MS = 30_000;

export function notifier(events: Pick<EngineEvents, 'on'> | null, deps: NotifyDeps): Notifier {
  const expected = new Map<string, number>();
  const seen = new Set<string>();

  function say(kind: 'success' | 'error', title: string, body: string) {
    deps.toast(kind, body);
    if (deps.hidden()) deps.system(title, body);
  }

  function handle(e: EngineEvent) {
    if (e.kind === 'image' && e.action === 'pull') {
      // The bus and the events file may both report one pull.
      const key = `pull:${e.id}`;
      if (seen.has(key)) return;
      seen.add(key);
      say('success', 'Pull finished', `Pulled ${e.name ?? e.id.slice(0, 12)}`);
    } else if (e.kind === 'container' && e.action === 'died') {
      const code = e.exitCode ?? null;
      const asked = expected.get(e.id);
      if (asked !== undefined) {
        expected.delete(e.id);
        if (deps.now() - asked < EXPECT_MS) return;
      }
      if (code === null || code === 0) return;
      const name = e.name ?? deps.nameOf?.(e.id) ?? e.id.slice(0, 12);
      say('error', 'Container exited', `${name} exited with code ${code}`);
    }
  }

  const off = events?.on(handle);
  return {
    expectExit(id) {
      expected.set(id, deps.now());
    },
    handle,
    dispose() {
      off?.();
    },
  };
}

/** The browser's Notification API, used only when the user granted it. */
export function systemNotify(title: string, body: string): boolean {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return false;
  try {
    new Notification(title, { body, tag: `berth-${title}` });
    return true;
  } catch {
    return false;
  }
}
