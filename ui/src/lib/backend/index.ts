//! Picks the Backend for where the UI runs: Tauri's IPC inside the app, HTTP in a browser.

import type { Backend } from './backend';
import { httpBackend, readToken } from './http';
import { tauriBackend } from './tauri';

export type { Backend, Protocol } from './backend';
export { ApiError, errorMessage } from './errors';

function pick(): Backend {
  if (typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window) return tauriBackend();
  const storage = typeof sessionStorage !== 'undefined' ? sessionStorage : null;
  return httpBackend({ token: readToken(window.location.search, storage) });
}

export const backend: Backend = pick();
