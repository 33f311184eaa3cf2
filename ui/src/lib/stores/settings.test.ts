import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { FakeBackend } from '../testing/fakeBackend';
import { normaliseHost, readTheme, settingsStore, themeStore } from './settings';

function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe('theme', () => {
  it('defaults to system, remembers the choice and sets data-theme', () => {
    const storage = memory();
    const root = document.createElement('html');
    const theme = themeStore(storage, root);
    expect(get(theme)).toBe('system');
    expect(root.hasAttribute('data-theme')).toBe(false);
    theme.set('dark');
    expect(root.getAttribute('data-theme')).toBe('dark');
    expect(readTheme(storage)).toBe('dark');
    theme.set('system');
    expect(root.hasAttribute('data-theme')).toBe(false);
    storage.setItem('berth.theme', 'purple');
    expect(readTheme(storage)).toBe('system');
    expect(readTheme({ getItem: () => { throw new Error('denied'); }, setItem: () => {} })).toBe('system');
  });
});

describe('settings store', () => {
  it('loads settings, adds an insecure registry, logs in and out', async () => {
    const fake = new FakeBackend();
    const s = settingsStore(fake.backend());
    await s.refresh();
    expect(get(s).data?.storageRoot).toBe('/var/lib/berth');
    await s.setRegistry('localhost:5000', true);
    expect(get(s).data?.registries).toEqual([{ host: 'localhost:5000', insecure: true, loggedIn: false }]);
    await s.login('localhost:5000', 'me', 'secret');
    expect(get(s).data?.registries[0].loggedIn).toBe(true);
    await s.logout('localhost:5000');
    expect(get(s).data?.registries[0].loggedIn).toBe(false);
    expect(get(s).busy).toBeNull();
  });

  it('rejects a change the engine refuses and keeps the data', async () => {
    const fake = new FakeBackend();
    const s = settingsStore(fake.backend());
    await s.refresh();
    await expect(s.setSocket(true)).rejects.toThrow(/not available/);
    expect(get(s).data?.socket).toBeNull();
    expect(get(s).busy).toBeNull();
    fake.settings.socket = { path: '/run/berth/docker.sock', enabled: false };
    await s.setSocket(true);
    expect(get(s).data?.socket).toEqual({ path: '/run/berth/docker.sock', enabled: true });
  });

  it('reports a failed load', async () => {
    const fake = new FakeBackend();
    const backend = { ...fake.backend(), getSettings: () => Promise.reject(new Error('engine down')) };
    const s = settingsStore(backend);
    await s.refresh();
    expect(get(s)).toMatchObject({ data: null, error: 'engine down' });
  });

  it('normalises registry hosts', () => {
    expect(normaliseHost(' https://Registry.Example.com:5000/ ')).toEqual({ ok: true, host: 'registry.example.com:5000' });
    expect(normaliseHost('quay.io/team')).toEqual({ ok: true, host: 'quay.io/team' });
    expect(normaliseHost('')).toMatchObject({ ok: false });
    expect(normaliseHost('bad host')).toMatchObject({ ok: false, error: expect.stringContaining('not a registry host') });
  });
});
