//! Settings: the engine's (registries, storage, socket) fetched from the backend and changed
//! through it, and the theme, which is the UI's own (system, light or dark, in localStorage,
//! applied as `data-theme` on the root element; "system" follows prefers-color-scheme).

import { writable, type Readable } from 'svelte/store';
import type { Backend } from '../backend/backend';
import { errorMessage } from '../backend/errors';
import type { Settings } from '../bindings/Settings';

export type Theme = 'system' | 'light' | 'dark';
export const THEMES: Theme[] = ['system', 'light', 'dark'];
const THEME_KEY = 'berth.theme';

type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

export function readTheme(storage: KeyValueStorage | null): Theme {
  try {
    const v = storage?.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export interface ThemeStore extends Readable<Theme> {
  set(theme: Theme): void;
}

export function themeStore(storage: KeyValueStorage | null, root: HTMLElement | null): ThemeStore {
  const state = writable<Theme>(readTheme(storage));
  const apply = (t: Theme) => {
    if (!root) return;
    if (t === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', t);
  };
  state.subscribe(apply);
  return {
    subscribe: state.subscribe,
    set(theme) {
      try {
        storage?.setItem(THEME_KEY, theme);
      } catch {
        // storage disabled: the theme holds for this page
      }
      state.set(theme);
    },
  };
}

export interface SettingsState {
  data: Settings | null;
  error: string | null;
  /** The host whose change is in flight, or "socket". */
  busy: string | null;
}

export interface SettingsStore extends Readable<SettingsState> {
  refresh(): Promise<void>;
  setRegistry(host: string, insecure: boolean): Promise<void>;
  login(host: string, username: string, password: string): Promise<void>;
  logout(host: string): Promise<void>;
  setSocket(enabled: boolean): Promise<void>;
}

/** A registry host as registries.conf takes it: no scheme, no path, lower case. */
export function normaliseHost(input: string): { ok: true; host: string } | { ok: false; error: string } {
  let host = input.trim().toLowerCase();
  host = host.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  if (host === '') return { ok: false, error: 'registry host required' };
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9._/-]+)?$/.test(host)) {
    return { ok: false, error: `"${input.trim()}" is not a registry host (like registry.example.com:5000)` };
  }
  return { ok: true, host };
}

type SettingsBackend = Pick<Backend, 'getSettings' | 'setRegistry' | 'registryLogin' | 'registryLogout' | 'setSocket'>;

/** Changes reject with the engine's error (the page shows it); a success refreshes the data. */
export function settingsStore(backend: SettingsBackend): SettingsStore {
  const state = writable<SettingsState>({ data: null, error: null, busy: null });

  async function refresh() {
    try {
      const data = await backend.getSettings();
      state.update((s) => ({ ...s, data, error: null }));
    } catch (e) {
      state.update((s) => ({ ...s, error: errorMessage(e) }));
    }
  }

  async function change(busy: string, run: () => Promise<Settings | null>) {
    state.update((s) => ({ ...s, busy }));
    try {
      const data = await run();
      if (data) state.update((s) => ({ ...s, data, error: null }));
      else await refresh();
    } finally {
      state.update((s) => ({ ...s, busy: null }));
    }
  }

  return {
    subscribe: state.subscribe,
    refresh,
    setRegistry: (host, insecure) => change(host, () => backend.setRegistry(host, insecure)),
    login: (host, username, password) => change(host, async () => (await backend.registryLogin(host, username, password), null)),
    logout: (host) => change(host, async () => (await backend.registryLogout(host), null)),
    setSocket: (enabled) => change('socket', () => backend.setSocket(enabled)),
  };
}
