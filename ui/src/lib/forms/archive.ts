//! The file dialogs of images and containers (save, load, import, export): the path typed, a
//! file name suggested from the image or container, the CMD of an import as the engine takes
//! it, and what a load stored as `berth load` prints it.

import type { ImageSummary } from '../bindings/ImageSummary';
import type { LoadedImage } from '../bindings/LoadedImage';
import type { SaveFormat } from '../bindings/SaveFormat';
import { splitCommand } from './command';

/** An error for a path the engine would refuse, or null. The engine resolves `~/` to the
 *  home of the user it runs as; it has no working directory a user could know. */
export function pathError(path: string, what: string): string | null {
  const p = path.trim();
  if (p === '') return `enter the path of the ${what}`;
  if (!p.startsWith('/') && !p.startsWith('~/')) return `${p}: give an absolute path for the ${what} (starting with / or ~/)`;
  if (p.endsWith('/')) return `${p}: name a file, not a directory`;
  return null;
}

/** A file name made of a name: its last path segment, tag joined with `-`, safe characters only. */
function fileStem(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.replace(/[@:]/g, '-').replace(/[^A-Za-z0-9._-]/g, '_') || 'image';
}

/** Where a save goes unless the user says otherwise: `~/NAME-TAG.tar` (the id for a nameless image). */
export function suggestedSavePath(image: Pick<ImageSummary, 'names' | 'shortId'>, format: SaveFormat): string {
  const stem = image.names.length > 0 ? fileStem(image.names[0]) : image.shortId;
  return `~/${stem}${format === 'oci-archive' ? '-oci' : ''}.tar`;
}

/** Where an export goes unless the user says otherwise. */
export function suggestedExportPath(containerName: string): string {
  return `~/${fileStem(containerName)}.tar`;
}

/** The `--change` of an import's command: nothing when blank; a JSON array as typed;
 *  otherwise the words split as a shell would (the exec form, no shell in between). */
export function importChanges(cmd: string): { ok: true; changes: string[] } | { ok: false; error: string } {
  const c = cmd.trim();
  if (c === '') return { ok: true, changes: [] };
  if (c.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(c);
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((a) => typeof a === 'string')) {
        return { ok: true, changes: [`CMD ${JSON.stringify(parsed)}`] };
      }
    } catch {
      // fall through to the message below
    }
    return { ok: false, error: 'a command in brackets is a JSON array of strings, e.g. ["sh", "-c", "echo hi"]' };
  }
  const split = splitCommand(c);
  if (!split.ok) return { ok: false, error: split.error };
  return { ok: true, changes: [`CMD ${JSON.stringify(split.args)}`] };
}

/** `Loaded image: NAME` for every name, or the digest of an image loaded without one. */
export function loadedLines(loaded: readonly LoadedImage[]): string[] {
  return loaded.flatMap((l) => (l.names.length > 0 ? l.names : [`sha256:${l.id}`]).map((n) => `Loaded image: ${n}`));
}
