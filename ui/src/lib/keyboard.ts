//! Keyboard-first navigation as plain functions: which global shortcut a key press is, and
//! where the row cursor goes for a navigation key. Components only wire these to events.

export type Pane = 'dashboard' | 'containers' | 'images' | 'volumes' | 'networks' | 'pods' | 'settings';

export type Shortcut = { kind: 'pane'; pane: Pane } | { kind: 'search' } | { kind: 'palette' } | null;

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

const PANES: Record<string, Pane> = { '0': 'dashboard', '1': 'containers', '2': 'images', '3': 'volumes', '4': 'networks', '5': 'pods', ',': 'settings' };

/** True when typing there must not trigger single-key shortcuts like `/`. */
export function isTextTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).closest !== 'function') return false;
  const el = target as HTMLElement;
  if (el.isContentEditable) return true;
  if (el.closest('.xterm')) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (el as HTMLInputElement).type;
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'range', 'color'].includes(type);
}

/**
 * The app-wide shortcut of a key press: Ctrl+0 opens the Dashboard, Ctrl+1/2/3/4/5 (Cmd on a Mac)
 * switch the Containers, Images, Volumes, Networks and Pods panes, Ctrl+, opens Settings and Ctrl+K the
 * command palette, anywhere; `/` focuses the pane's search
 * unless the user is typing.
 */
export function globalShortcut(e: KeyLike, inText: boolean): Shortcut {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.altKey && !e.shiftKey && e.key in PANES) return { kind: 'pane', pane: PANES[e.key] };
  if (mod && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') return { kind: 'palette' };
  if (!mod && !e.altKey && e.key === '/' && !inText) return { kind: 'search' };
  return null;
}

/** The row cursor after a navigation key, or null when the key is not one. */
export function moveCursor(current: number, count: number, key: string, pageSize: number): number | null {
  if (count === 0) return null;
  const last = count - 1;
  const from = current < 0 ? -1 : Math.min(current, last);
  switch (key) {
    case 'ArrowDown':
      return Math.min(last, from + 1);
    case 'ArrowUp':
      return from < 0 ? 0 : Math.max(0, from - 1);
    case 'Home':
      return 0;
    case 'End':
      return last;
    case 'PageDown':
      return Math.min(last, Math.max(0, from) + Math.max(1, pageSize));
    case 'PageUp':
      return Math.max(0, Math.max(0, from) - Math.max(1, pageSize));
    default:
      return null;
  }
}

/** What a key does to the row under the cursor in a list. */
export type RowAction = 'open' | 'remove' | 'toggle' | null;

export function rowAction(e: KeyLike): RowAction {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (e.key === 'Enter') return 'open';
  if (e.key === 'Delete') return 'remove';
  if (e.key === ' ') return 'toggle';
  return null;
}

/** Keeps the cursor on the same item (by key) when the list changes, else clamps it. */
export function followCursor<T>(previous: readonly T[], next: readonly T[], cursor: number, key: (item: T) => string): number {
  if (cursor < 0 || next.length === 0) return next.length === 0 ? -1 : cursor;
  const k = previous[cursor] !== undefined ? key(previous[cursor]) : null;
  if (k !== null) {
    const i = next.findIndex((item) => key(item) === k);
    if (i >= 0) return i;
  }
  return Math.min(cursor, next.length - 1);
}

/** After a dialog closed: gives the focus back to `el` when nothing else holds it. */
export function restoreFocus(selector: string): void {
  setTimeout(() => {
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    (document.querySelector(selector) as HTMLElement | null)?.focus();
  }, 0);
}
