//! The Files tab as plain data: paths in the container (joined, the parent, the crumbs of a
//! breadcrumb), how an entry is shown (owner, size, a link's arrow), where a click goes, and
//! the bytes of a download or an upload (base64 across the contract).

import type { FileEntry } from '../bindings/FileEntry';

/** `dir` + `name`, absolute, without a double slash. */
export function joinPath(dir: string, name: string): string {
  const base = dir.replace(/\/+$/, '');
  return `${base}/${name}`;
}

/** The directory above `path`; the root is its own parent. */
export function parentPath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const at = trimmed.lastIndexOf('/');
  return at <= 0 ? '/' : trimmed.slice(0, at);
}

/** `/etc/ssl` → `[{name: '/', path: '/'}, {name: 'etc', path: '/etc'}, {name: 'ssl', path: '/etc/ssl'}]`. */
export function crumbs(path: string): { name: string; path: string }[] {
  const out = [{ name: '/', path: '/' }];
  let at = '';
  for (const part of path.split('/').filter((p) => p !== '')) {
    at += `/${part}`;
    out.push({ name: part, path: at });
  }
  return out;
}

/** A path as typed: absolute, `.` and `..` folded (never above the root), no trailing slash. */
export function normalizePath(typed: string): string {
  const parts: string[] = [];
  for (const p of typed.trim().split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/** What opening an entry does: go into a directory (a link to one too), view a file. */
export function openAction(e: FileEntry): 'enter' | 'view' | 'none' {
  if (e.kind === 'dir' || (e.kind === 'link' && e.linkToDir)) return 'enter';
  if (e.kind === 'file' || e.kind === 'link') return 'view';
  return 'none';
}

/** `user:group` by name where the container's /etc/passwd and /etc/group have one. */
export function ownerText(e: FileEntry): string {
  return `${e.user ?? e.uid}:${e.group ?? e.gid}`;
}

/** The size column: bytes for files, nothing for directories. */
export function sizeText(e: FileEntry, human: (n: number) => string): string {
  return e.kind === 'file' ? human(e.size) : '';
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) bin += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(bin);
}

/** The largest file an upload takes (the engine refuses more too). */
export const UPLOAD_LIMIT = 16 * 1024 * 1024;
