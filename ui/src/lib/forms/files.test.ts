import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../bindings/FileEntry';
import { base64ToBytes, bytesToBase64, crumbs, joinPath, normalizePath, openAction, ownerText, parentPath, sizeText } from './files';

function entry(over: Partial<FileEntry>): FileEntry {
  return { name: 'x', kind: 'file', size: 3, mode: '-rw-r--r--', uid: 0, gid: 0, user: null, group: null, mtime: 0, linkTarget: null, linkToDir: false, ...over };
}

describe('file paths', () => {
  it('joins, climbs and folds paths, never above the root', () => {
    expect(joinPath('/', 'etc')).toBe('/etc');
    expect(joinPath('/etc/', 'passwd')).toBe('/etc/passwd');
    expect(parentPath('/etc/ssl')).toBe('/etc');
    expect(parentPath('/etc')).toBe('/');
    expect(parentPath('/')).toBe('/');
    expect(normalizePath('etc/../../usr/./bin/')).toBe('/usr/bin');
    expect(normalizePath('')).toBe('/');
  });

  it('makes breadcrumbs', () => {
    expect(crumbs('/etc/ssl')).toEqual([
      { name: '/', path: '/' },
      { name: 'etc', path: '/etc' },
      { name: 'ssl', path: '/etc/ssl' },
    ]);
    expect(crumbs('/')).toEqual([{ name: '/', path: '/' }]);
  });
});

describe('file entries', () => {
  it('enters directories and links to them, views files and other links', () => {
    expect(openAction(entry({ kind: 'dir' }))).toBe('enter');
    expect(openAction(entry({ kind: 'link', linkToDir: true }))).toBe('enter');
    expect(openAction(entry({ kind: 'link' }))).toBe('view');
    expect(openAction(entry({ kind: 'file' }))).toBe('view');
    expect(openAction(entry({ kind: 'other' }))).toBe('none');
  });

  it('shows owners by name where known, sizes of files only', () => {
    expect(ownerText(entry({ uid: 33, gid: 33, user: 'www-data' }))).toBe('www-data:33');
    expect(sizeText(entry({ kind: 'dir', size: 4096 }), String)).toBe('');
    expect(sizeText(entry({ size: 12 }), (n) => `${n} B`)).toBe('12 B');
  });

  it('round-trips bytes through base64', () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 104, 105]);
    expect(bytesToBase64(bytes)).toBe('AAEC/2hp');
    expect([...base64ToBytes('AAEC/2hp')]).toEqual([...bytes]);
  });
});
