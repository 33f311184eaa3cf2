//! How log entries become terminal text. Only colour and style sequences (SGR, `ESC [ … m`)
//! of a log line reach xterm.js: cursor moves, screen clears, title changes and other control
//! sequences a program printed would scramble the viewer, so they are removed.

import type { LogCursor } from '../bindings/LogCursor';
import type { LogEntry } from '../bindings/LogEntry';

// CSI sequences other than SGR, OSC strings, two-byte escapes, and C0 controls but tab and ESC.
const UNSAFE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[^[\]PX^_]?|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]/g;
const SGR = /\x1b\[[0-9;:]*m/g;
const IS_SGR = /^\x1b\[[0-9;:]*m$/;

export function sanitize(line: string): string {
  if (!/[\x00-\x08\x0b-\x1f\x7f]/.test(line)) return line;
  return line.replace(UNSAFE, (m) => (IS_SGR.test(m) ? m : ''));
}

/** The line without any escape sequence: for copying and matching. */
export function plain(line: string): string {
  return sanitize(line).replace(SGR, '');
}

const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
const ERR = '\x1b[31m▍\x1b[0m';
/** stdout's side of the gutter: as wide as stderr's mark, so both streams' text lines up. */
const OUT = ' ';

/** One entry as terminal text with its line ending: a one-column gutter first, with a red
 *  mark on stderr lines. */
export function formatEntry(entry: LogEntry, timestamps: boolean): string {
  const time = timestamps ? `${DIM}${entry.time}${RESET} ` : '';
  const mark = entry.stream === 'stderr' ? ERR : OUT;
  return `${time}${mark}${sanitize(entry.line)}${RESET}\r\n`;
}

export function formatEntries(entries: readonly LogEntry[], timestamps: boolean): string {
  let out = '';
  for (const e of entries) out += formatEntry(e, timestamps);
  return out;
}

/** Orders cursors: older files first, then by offset. */
export function compareCursors(a: LogCursor, b: LogCursor): number {
  return a.file - b.file || a.offset - b.offset;
}

/** Approximate memory of an entry, for the ring's byte limit (UTF-16 text and the object). */
export function entrySize(e: LogEntry): number {
  return 2 * (e.line.length + e.time.length) + 96;
}

/** A `since` choice as a cut-off in ms (null: no cut-off); relative choices count back from now. */
export function sinceCutoff(since: string, now: number): number | null {
  const m = /^(\d+)([smhd])$/.exec(since);
  if (!m) return null;
  const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return now - Number(m[1]) * unit;
}

/** True when the entry was written at or after the cut-off (entries without a time are kept). */
export function isSince(e: LogEntry, cutoff: number | null): boolean {
  if (cutoff === null) return true;
  const t = Date.parse(e.time);
  return Number.isNaN(t) || t >= cutoff;
}
