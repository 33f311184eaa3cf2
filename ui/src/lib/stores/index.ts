//! The stores the app uses, on the backend picked for where it runs.

import { backend } from '../backend';
import { firstPaintProbe } from '../firstPaint';
import { get } from 'svelte/store';
import { createStores } from './app';
import { notifier, systemNotify } from './notify';
import { themeStore } from './settings';
import { tasksStore } from './tasks';
import { toasts } from './toasts';

export const stores = createStores(backend);

/** The Containers pane's first paint, reported to the backend (`firstPaint.ts`). */
export const firstPaint = firstPaintProbe((report) => backend.reportFirstPaint(report));
export { now } from './app';
export { toasts } from './toasts';
export type { Task } from './tasks';

export const theme = themeStore(
  typeof localStorage !== 'undefined' ? localStorage : null,
  typeof document !== 'undefined' ? document.documentElement : null,
);

export const notifications = notifier(stores.events, {
  toast: (kind, message) => toasts.push(kind, message, kind === 'error' ? 10_000 : 5000),
  hidden: () => typeof document !== 'undefined' && document.hidden,
  system: systemNotify,
  now: () => Date.now(),
  nameOf: (id) => get(stores.containers).data.find((c) => c.id === id)?.name ?? null,
});

/** Pulls, builds and compose runs started from the UI: the Tasks panel's. */
export const tasks = tasksStore(backend, {
  onEnd(t) {
    // What the work made or removed; the engine's events say so too, but a list may be filtered
    // from them (builds' intermediate images).
    stores.images.invalidate();
    if (t.kind === 'compose') {
      stores.containers.invalidate();
      stores.networks.invalidate();
      stores.volumes.invalidate();
    }
    // Its dialog closed: the panel and a toast are where it ends (a pull's success has its own,
    // from the engine's event, whoever pulled).
    if (!t.background) return;
    if (t.state === 'done' && t.kind !== 'pull') toasts.success(`${t.name}: done`);
    else if (t.state === 'failed') toasts.error(`${t.name} failed: ${t.error}`);
  },
});
