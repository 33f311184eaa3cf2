//! The stores the app uses, on the backend picked for where it runs.

import { backend } from '../backend';
import { get } from 'svelte/store';
import { createStores } from './app';
import { notifier, systemNotify } from './notify';
import { themeStore } from './settings';
import { toasts } from './toasts';

export const stores = createStores(backend);
export { now } from './app';
export { toasts } from './toasts';

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
