//! The logs viewer without its widgets: which stretch of a log is loaded, following, pausing,
//! paging back, jumping to a match. It talks to the Backend (log_window, follow_logs,
//! stop_follow) and writes terminal text through a `LogTerminal` (xterm.js in the app, a fake in
//! tests). A log of any size costs at most the ring's limits: it opens at the tail and pages
//! back on demand; lines that arrive while paused wait in a second ring and, if that fills,
//! following stops and later resumes from the file at the last cursor, so nothing is lost.
//! In a flood (more lines a frame than a screen holds) the terminal is given only the newest
//! screen of each frame; the ring keeps every line, and the terminal is rewritten from it once
//! the flood calms, or at once when someone pauses or reaches into the terminal (`hold`).

import type { Backend } from '../backend/backend';
import type { LogBatch } from '../bindings/LogBatch';
import type { LogEntry } from '../bindings/LogEntry';
import type { LogMatch } from '../bindings/LogMatch';
import { FrameBatcher, type Schedule } from './batcher';
import { compareCursors, entrySize, formatEntries, isSince, plain } from './format';
import { LogRing, type RingLimits } from './ring';

export interface LogTerminal {
  write(data: string, done: () => void): void;
  /** Clears screen and scrollback. */
  reset(): void;
  scrollToLine(line: number): void;
  /** The rows on screen (what a flood's frame writes). */
  readonly rows?: number;
}

export interface LogViewOptions {
  tail?: number;
  pageSize?: number;
  limits?: RingLimits;
  pendingLimits?: RingLimits;
  schedule?: Schedule;
  /** Lines waiting at a frame above which the terminal skips to the newest screen. */
  skipAbove?: number;
  /** How long no line must come before a skipped-through terminal is rewritten, in ms. */
  calmMs?: number;
}

export interface LogViewState {
  loading: boolean;
  error: string | null;
  lines: number;
  atStart: boolean;
  following: boolean;
  paused: boolean;
  /** Lines waiting while paused. */
  pending: number;
  /** Showing an older stretch of the log (after a jump or a long page back): not following. */
  detached: boolean;
  received: number;
  /** The terminal skipped through a flood: it lacks lines the ring holds, until rewritten. */
  skipping: boolean;
}

export const DEFAULT_LIMITS: RingLimits = { maxLines: 20_000, maxBytes: 24 * 1024 * 1024 };

type LogBackend = Pick<Backend, 'logWindow' | 'followLogs' | 'stopFollow'>;

export class LogView {
  readonly ring: LogRing<LogEntry>;
  private readonly pendingRing: LogRing<LogEntry>;
  private readonly batcher: FrameBatcher;
  private subscription: string | null = null;
  private generation = 0;
  private overflowed = false;
  private lastSeen: LogEntry | null = null;
  /** A follow started at this cursor: lines up to it (already shown) are skipped, once. */
  private skipThrough: LogEntry['cursor'] | null = null;
  private cutoff: number | null = null;
  private loadingOlder = false;
  private listeners = new Set<(s: LogViewState) => void>();
  state: LogViewState = {
    loading: false,
    error: null,
    lines: 0,
    atStart: false,
    following: false,
    paused: false,
    pending: 0,
    detached: false,
    received: 0,
    skipping: false,
  };
  private calmTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly calmMs: number;
  timestamps = false;
  tail: number;
  readonly pageSize: number;

  constructor(
    private readonly backend: LogBackend,
    private readonly id: string,
    private readonly terminal: LogTerminal,
    options: LogViewOptions = {},
  ) {
    this.ring = new LogRing(options.limits ?? DEFAULT_LIMITS, entrySize);
    this.pendingRing = new LogRing(options.pendingLimits ?? { maxLines: 200_000, maxBytes: 64 * 1024 * 1024 }, entrySize);
    this.batcher = new FrameBatcher(terminal, {
      schedule: options.schedule,
      maxPendingLines: this.ring.limits.maxLines,
      skipAbove: options.skipAbove ?? 500,
      keepLines: () => 2 * (terminal.rows ?? 50),
      onSkip: () => {
        if (!this.state.skipping) this.set({ skipping: true });
        this.armCalm();
      },
    });
    this.calmMs = options.calmMs ?? 400;
    this.tail = options.tail ?? 1000;
    this.pageSize = options.pageSize ?? 1000;
  }

  onChange(cb: (s: LogViewState) => void): () => void {
    this.listeners.add(cb);
    cb(this.state);
    return () => this.listeners.delete(cb);
  }

  private set(patch: Partial<LogViewState>): void {
    this.state = { ...this.state, ...patch, lines: this.ring.length, pending: this.pendingRing.length };
    for (const l of [...this.listeners]) l(this.state);
  }

  // Pages are always asked for with their timestamps: "since" filters on them, and the
  // timestamps toggle only re-renders what is loaded.

  /** Loads the last `tail` lines and follows from there. `cutoff`: only lines since (ms). */
  async open(cutoff: number | null = this.cutoff): Promise<void> {
    const gen = ++this.generation;
    this.cutoff = cutoff;
    await this.unfollow();
    this.pendingRing.clear();
    this.overflowed = false;
    this.set({ loading: true, error: null, detached: false });
    try {
      const page = await this.backend.logWindow(this.id, null, this.tail, true);
      if (gen !== this.generation) return;
      const kept = page.entries.filter((e) => isSince(e, cutoff));
      this.ring.clear();
      this.ring.push(...kept);
      this.lastSeen = page.entries.at(-1) ?? null;
      this.render();
      this.set({ loading: false, atStart: page.atStart || kept.length < page.entries.length });
      await this.follow(gen);
    } catch (e) {
      if (gen === this.generation) this.set({ loading: false, error: message(e) });
    }
  }

  private async follow(gen: number): Promise<void> {
    const from = this.lastSeen?.cursor ?? null;
    this.skipThrough = from;
    const sub = await this.backend.followLogs(this.id, from, (batch) => {
      if (gen === this.generation) this.receive(batch);
    });
    if (gen !== this.generation) {
      void this.backend.stopFollow(sub).catch(() => {});
      return;
    }
    this.subscription = sub;
    this.set({ following: true });
  }

  private async unfollow(): Promise<void> {
    const sub = this.subscription;
    this.subscription = null;
    if (sub !== null) {
      this.set({ following: false });
      await this.backend.stopFollow(sub).catch(() => {});
    }
  }

  /** A batch from follow_logs: shown at once, or kept while paused. */
  receive(batch: LogBatch): void {
    let fresh = batch.entries;
    // Only the start of a follow can repeat what was read: offsets start again after the log
    // rotates, so later cursors are never compared with older ones.
    const skip = this.skipThrough;
    if (skip && fresh.length > 0) {
      const i = fresh.findIndex((e) => compareCursors(e.cursor, skip) > 0);
      fresh = i < 0 ? [] : fresh.slice(i);
      if (i >= 0) this.skipThrough = null;
    }
    if (fresh.length === 0) return;
    this.lastSeen = fresh[fresh.length - 1];
    const received = this.state.received + fresh.length;
    if (this.state.skipping) this.armCalm();
    if (this.state.paused) {
      this.pendingRing.push(...fresh);
      if (this.pendingRing.droppedOldest > 0 || this.pendingRing.full) this.overflow();
      this.set({ received });
      return;
    }
    this.show(fresh);
    this.set({ received });
  }

  /** The pause buffer is full: stop following; `resume` reads the rest from the file. */
  private overflow(): void {
    if (this.overflowed) return;
    this.overflowed = true;
    // Keep only what is contiguous: entries dropped from the front of the pending ring were
    // never shown, so resume re-reads from the first one still missing.
    if (this.pendingRing.droppedOldest > 0) {
      this.pendingRing.clear();
      this.lastSeen = this.ring.last() ?? null;
    } else {
      this.lastSeen = this.pendingRing.last() ?? this.lastSeen;
    }
    this.generation++;
    void this.unfollow();
  }

  private show(entries: LogEntry[]): void {
    const shown = this.cutoff === null ? entries : entries.filter((e) => isSince(e, this.cutoff));
    // Past the ring's limits the oldest lines go: what is loaded no longer starts the log.
    if (this.ring.push(...shown) > 0 && this.state.atStart) this.set({ atStart: false });
    this.batcher.add(formatEntries(shown, this.timestamps), shown.length);
  }

  /** Rewrites the terminal from the ring once no line came for `calmMs`. */
  private armCalm(): void {
    this.disarmCalm();
    this.calmTimer = setTimeout(() => {
      this.calmTimer = null;
      if (this.state.skipping) this.render();
    }, this.calmMs);
  }

  private disarmCalm(): void {
    if (this.calmTimer !== null) clearTimeout(this.calmTimer);
    this.calmTimer = null;
  }

  /** Pausing rewrites a terminal that skipped through a flood: it holds every loaded line. */
  pause(): void {
    if (this.state.paused) return;
    this.set({ paused: true });
    if (this.state.skipping) this.render();
  }

  /** Someone reaches into the terminal (scrolls, selects, searches it): one that skipped
   *  through a flood pauses, so that it holds every line and stays put. Resolves once the
   *  terminal has what it is to hold. */
  hold(): Promise<void> {
    if (!this.state.skipping) return Promise.resolve();
    this.pause();
    return new Promise((resolve) => this.batcher.then(resolve));
  }

  async resume(): Promise<void> {
    if (!this.state.paused) return;
    const waiting = this.pendingRing.toArray();
    this.pendingRing.clear();
    this.set({ paused: false });
    if (this.state.detached) {
      await this.open();
      return;
    }
    this.show(waiting);
    this.set({});
    if (this.overflowed) {
      this.overflowed = false;
      await this.follow(++this.generation);
    }
  }

  /** Rewrites the loaded lines (after a timestamps toggle, a page back or a jump). */
  render(scrollTo: number | null = null): void {
    this.disarmCalm();
    if (this.state.skipping) this.set({ skipping: false });
    this.batcher.restart(() => this.terminal.reset());
    this.batcher.add(formatEntries(this.ring.toArray(), this.timestamps), this.ring.length, true);
    if (scrollTo !== null) this.batcher.then(() => this.terminal.scrollToLine(scrollTo));
  }

  setTimestamps(on: boolean): void {
    this.timestamps = on;
    this.render();
  }

  /** Loads the page before the oldest loaded line (scrolled to the top). */
  async loadOlder(): Promise<boolean> {
    const first = this.ring.first();
    if (this.state.atStart || this.loadingOlder || !first) return false;
    this.loadingOlder = true;
    const gen = this.generation;
    try {
      const page = await this.backend.logWindow(this.id, first.cursor, this.pageSize, true);
      if (gen !== this.generation) return false;
      const kept = page.entries.filter((e) => isSince(e, this.cutoff));
      const dropped = this.ring.prepend(kept);
      if (dropped > 0 && !this.state.detached) {
        // The newest lines no longer fit: this is an older stretch of the log now.
        this.generation++;
        await this.unfollow();
        this.set({ detached: true });
      }
      this.render(kept.length);
      this.set({ atStart: page.atStart || kept.length < page.entries.length });
      return kept.length > 0;
    } catch (e) {
      this.set({ error: message(e) });
      return false;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Whether a match of search_logs is among the loaded lines. */
  isLoaded(match: LogMatch): boolean {
    const first = this.ring.first();
    const last = this.ring.last();
    return !!first && !!last && compareCursors(match.cursor, first.cursor) >= 0 && compareCursors(match.cursor, last.cursor) <= 0;
  }

  /** Shows the stretch of the log that ends with `match` (detached from following). */
  async jumpTo(match: LogMatch): Promise<void> {
    const gen = ++this.generation;
    await this.unfollow();
    this.set({ loading: true, error: null });
    try {
      const page = await this.backend.logWindow(this.id, match.cursor, this.pageSize, true);
      if (gen !== this.generation) return;
      this.ring.clear();
      this.ring.push(...page.entries, { cursor: match.cursor, time: '', stream: 'stdout', line: match.line });
      this.render();
      this.set({ loading: false, detached: true, atStart: page.atStart });
    } catch (e) {
      if (gen === this.generation) this.set({ loading: false, error: message(e) });
    }
  }

  /** The loaded lines as plain text (escape sequences removed). */
  text(): string {
    return this.ring
      .toArray()
      .map((e) => (this.timestamps && e.time ? `${e.time} ${plain(e.line)}` : plain(e.line)))
      .join('\n');
  }

  get writes(): number {
    return this.batcher.writes;
  }

  async close(): Promise<void> {
    this.disarmCalm();
    this.generation++;
    this.listeners.clear();
    await this.unfollow();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
