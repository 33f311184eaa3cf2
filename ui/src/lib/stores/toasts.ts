//! Short messages in a corner: errors from actions, confirmations of long ones.

import { writable } from 'svelte/store';

export type ToastKind = 'error' | 'success' | 'info';
export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

const list = writable<Toast[]>([]);
let nextId = 1;

export const toasts = {
  subscribe: list.subscribe,
  push(kind: ToastKind, message: string, timeoutMs = kind === 'error' ? 8000 : 4000): number {
    const id = nextId++;
    list.update((l) => [...l.slice(-4), { id, kind, message }]);
    if (timeoutMs > 0) setTimeout(() => toasts.dismiss(id), timeoutMs);
    return id;
  },
  error(message: string) {
    return toasts.push('error', message);
  },
  success(message: string) {
    return toasts.push('success', message);
  },
  dismiss(id: number) {
    list.update((l) => l.filter((t) => t.id !== id));
  },
};
