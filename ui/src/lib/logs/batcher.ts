//! Feeds the terminal once per animation frame, no more than it can parse within the frame.
//! Log batches arrive far more often than frames (tens of thousands of lines a second) and each
//! `write` to xterm.js costs a parse and a render pass, so what came in is written once a frame.
//! xterm.js parses what it was given in tasks of its own until it is done (it yields only every
//! 12 ms, and a whole write at a time), and a page busy with such tasks back to back paints late:
//! a flood's 200 kB in one go made frames of 100 ms and more. So each frame gets a budget, the
//! text xterm.js parses in `frameBudgetMs` at the rate it was measured to go at (from the parse
//! callback of a frame's first piece to its last), given in pieces of at most `maxWrite`
//! characters cut at line ends; nothing is written while the last frame's text is still being
//! parsed. What does not fit waits for the next frames. Lines waiting beyond `maxPendingLines`
//! (the terminal's scrollback) are dropped oldest first: xterm.js would push them out of its
//! scrollback unseen anyway, so when the terminal falls behind a flood it skips straight to what
//! it can show.
//!
//! A flood is skipped through sooner than that: when more than `skipAbove` lines wait at a
//! frame, more than a person can read scroll by, so only the newest `keepLines()` (a screen) are
//! written and `onSkip` tells the owner, whose terminal then lacks the lines in between (its
//! ring has them: the view rewrites the terminal from it once the flood calms, or when someone
//! reads). Parsing every line of a flood is what made its frames long: 50 000 lines a second
//! is 800 a frame. Text added `whole` (a rewrite) is never skipped.

export interface WriteSink {
  /** xterm's `write(data, callback)`: the callback runs once the data is parsed. */
  write(data: string, done: () => void): void;
}

export type Schedule = (cb: () => void) => unknown;

export interface BatcherOptions {
  schedule?: Schedule;
  /** The clock, in ms (`performance.now`). */
  now?: () => number;
  /** How long the sink may take to parse one frame's text, in ms. */
  frameBudgetMs?: number;
  /** Characters written in a frame until the sink's rate is known. */
  initialBudget?: number;
  /** Lines kept waiting at most (the oldest go first). */
  maxPendingLines?: number;
  /** The most characters given to the sink in one `write` (longer text is cut at line ends). */
  maxWrite?: number;
  /** Lines waiting at a frame (not counting `whole` text) above which only the newest
   *  `keepLines()` are written. */
  skipAbove?: number;
  /** Lines written when skipping through a flood: the screen's rows. */
  keepLines?: () => number;
  /** Called when lines were skipped through (the sink lacks them now). */
  onSkip?: () => void;
}

/** `data` cut into pieces of at most `max` characters, each ending with a line end where one
 *  is within reach (a longer line is cut where it must be). */
export function pieces(data: string, max: number): string[] {
  if (data.length <= max) return [data];
  const out: string[] = [];
  let start = 0;
  while (data.length - start > max) {
    const nl = data.lastIndexOf('\n', start + max - 1);
    const end = nl >= start ? nl + 1 : start + max;
    out.push(data.slice(start, end));
    start = end;
  }
  if (start < data.length) out.push(data.slice(start));
  return out;
}

/** The last `n` lines of `text` (lines end with a line end; `text` whole when it has fewer). */
export function lastLines(text: string, n: number): string {
  let start = text.length;
  for (let k = 0; k < n; k++) {
    const nl = text.lastIndexOf('\n', start - 2);
    if (nl < 0) return text;
    start = nl + 1;
  }
  return text.slice(start);
}

/** The line ends in `text`. */
function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
}

export class FrameBatcher {
  private chunks: string[] = [];
  private chunkLines: number[] = [];
  /** Whether each chunk is `whole` (never skipped); whole chunks come first. */
  private chunkWhole: boolean[] = [];
  private pendingLines = 0;
  /** Of `pendingLines`, those in whole chunks. */
  private wholeLines = 0;
  private readonly skipAbove: number;
  private readonly keepLines: () => number;
  private readonly onSkip: () => void;
  private readonly maxPendingLines: number;
  /** Lines never written because newer ones pushed them out while waiting. */
  skippedLines = 0;
  private afterWrite: (() => void)[] = [];
  /** A reset waiting for the sink to finish parsing (`restart`). */
  private resetPending: (() => void) | null = null;
  private pendingBytes = 0;
  private inSink = 0;
  private scheduled = false;
  private readonly schedule: Schedule;
  private readonly now: () => number;
  private readonly frameBudgetMs: number;
  private readonly maxWrite: number;
  /** Characters the sink parses per ms, once measured. */
  rate: number | null = null;
  private readonly initialBudget: number;
  /** Number of frames that wrote (each one or more `write` calls of the sink). */
  flushes = 0;
  /** Number of `write` calls made to the sink (for tests and measurements). */
  writes = 0;

  constructor(
    private readonly sink: WriteSink,
    options: BatcherOptions = {},
  ) {
    this.schedule = options.schedule ?? ((cb) => requestAnimationFrame(() => cb()));
    this.now = options.now ?? (() => performance.now());
    this.frameBudgetMs = options.frameBudgetMs ?? 8;
    this.initialBudget = options.initialBudget ?? 16 * 1024;
    this.maxPendingLines = options.maxPendingLines ?? Infinity;
    this.maxWrite = options.maxWrite ?? 4 * 1024;
    this.skipAbove = options.skipAbove ?? Infinity;
    this.keepLines = options.keepLines ?? (() => 50);
    this.onSkip = options.onSkip ?? (() => {});
  }

  /** Bytes waiting here plus bytes the sink has not parsed yet. */
  get backlog(): number {
    return this.pendingBytes + this.inSink;
  }

  /** Characters the next frame may write. */
  get budget(): number {
    if (this.rate === null) return this.initialBudget;
    // Two pieces at least, so that every frame measures the rate.
    return Math.max(2 * this.maxWrite, Math.round(this.rate * this.frameBudgetMs));
  }

  /** Queues `text` holding `lines` lines for the next frame; `whole`: never skipped through
   *  (only after everything queued before it is whole too). */
  add(text: string, lines = 1, whole = false): void {
    if (text === '') return;
    this.chunks.push(text);
    this.chunkLines.push(lines);
    // Whole chunks come first: one is whole only when the last one queued is whole too.
    this.chunkWhole.push(whole && (this.chunkWhole.length === 0 || this.chunkWhole[this.chunkWhole.length - 1]));
    this.pendingBytes += text.length;
    this.pendingLines += lines;
    if (this.chunkWhole.at(-1)) this.wholeLines += lines;
    while (this.chunks.length > 1 && this.pendingLines - this.chunkLines[0] >= this.maxPendingLines) {
      const dropped = this.chunkLines[0];
      this.dropFirst();
      this.skippedLines += dropped;
    }
    this.arm();
  }

  private dropFirst(): void {
    this.pendingBytes -= this.chunks.shift()!.length;
    const lines = this.chunkLines.shift()!;
    this.pendingLines -= lines;
    if (this.chunkWhole.shift()) this.wholeLines -= lines;
  }

  /** More than `skipAbove` lines wait: keeps the newest `keepLines()` of those not whole. */
  private skipAhead(): void {
    const keep = Math.max(1, this.keepLines());
    let live = this.pendingLines - this.wholeLines;
    if (live <= this.skipAbove || live <= keep) return;
    const before = live;
    const first = this.chunkWhole.indexOf(false);
    while (live - this.chunkLines[first] >= keep) {
      live -= this.chunkLines[first];
      this.pendingBytes -= this.chunks[first].length;
      this.pendingLines -= this.chunkLines[first];
      this.chunks.splice(first, 1);
      this.chunkLines.splice(first, 1);
      this.chunkWhole.splice(first, 1);
    }
    if (live > keep) {
      const text = this.chunks[first];
      const rest = lastLines(text, keep - (live - this.chunkLines[first]));
      const cut = Math.min(countLines(text) - countLines(rest), this.chunkLines[first]);
      this.chunks[first] = rest;
      this.chunkLines[first] -= cut;
      this.pendingBytes -= text.length - rest.length;
      this.pendingLines -= cut;
      live -= cut;
    }
    this.skippedLines += before - live;
    this.onSkip();
  }

  /** Runs `cb` once everything added so far has been parsed by the sink. */
  then(cb: () => void): void {
    this.afterWrite.push(cb);
    this.arm();
  }

  /** Forgets what has not been written yet (the view is being reset). */
  clear(): void {
    this.chunks = [];
    this.chunkLines = [];
    this.chunkWhole = [];
    this.afterWrite = [];
    this.pendingBytes = 0;
    this.pendingLines = 0;
    this.wholeLines = 0;
  }

  /** Forgets what has not been written yet and runs `reset` (the sink's clear) once the sink
   *  has parsed what it was given: xterm.js's `reset()` leaves its queued writes, which would
   *  land on the cleared screen, before the text added after the reset. */
  restart(reset: () => void): void {
    this.clear();
    if (this.inSink === 0) {
      this.resetPending = null;
      reset();
      return;
    }
    this.resetPending = reset;
    this.arm();
  }

  private arm(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Takes up to `budget` characters from the front of the queue, cut at a line end. */
  private take(budget: number): string {
    const out: string[] = [];
    let size = 0;
    while (this.chunks.length > 0 && size + this.chunks[0].length <= budget) {
      size += this.chunks[0].length;
      out.push(this.chunks[0]);
      this.dropFirst();
    }
    if (this.chunks.length > 0 && size < budget) {
      const head = this.chunks[0];
      const nl = head.lastIndexOf('\n', budget - size - 1);
      // A line longer than the budget goes whole, when nothing else was taken.
      const first = head.indexOf('\n');
      const end = nl >= 0 ? nl + 1 : out.length > 0 ? 0 : first >= 0 ? first + 1 : head.length;
      if (end > 0) {
        const part = head.slice(0, end);
        const lines = Math.min(countLines(part), this.chunkLines[0]);
        this.chunks[0] = head.slice(end);
        this.chunkLines[0] -= lines;
        this.pendingLines -= lines;
        if (this.chunkWhole[0]) this.wholeLines -= lines;
        this.pendingBytes -= part.length;
        if (this.chunks[0] === '') this.dropFirst();
        out.push(part);
      }
    }
    return out.length === 1 ? out[0] : out.join('');
  }

  private flush(): void {
    this.scheduled = false;
    if (this.chunks.length === 0 && this.afterWrite.length === 0 && this.resetPending === null) return;
    if (this.inSink > 0) {
      // The sink is still parsing the last frame's text: try again next frame.
      this.arm();
      return;
    }
    if (this.resetPending !== null) {
      const reset = this.resetPending;
      this.resetPending = null;
      reset();
    }
    this.skipAhead();
    const data = this.take(this.budget);
    const done = this.chunks.length === 0;
    // Callbacks wait for everything added before them: for the frame that writes the last of it.
    const callbacks = done ? this.afterWrite : [];
    if (done) this.afterWrite = [];
    if (data === '') {
      callbacks.forEach((cb) => cb());
      return;
    }
    this.flushes += 1;
    const list = pieces(data, this.maxWrite);
    let firstParsed = 0;
    list.forEach((piece, i) => {
      this.inSink += piece.length;
      this.writes += 1;
      this.sink.write(piece, () => {
        this.inSink -= piece.length;
        if (i === 0) firstParsed = this.now();
        if (i < list.length - 1) return;
        // The pieces after the first were parsed one after the other: how fast the sink goes
        // (from the first piece's write on, the time would count the frame's painting too).
        const took = this.now() - firstParsed;
        if (!done && list.length > 1 && took > 0) {
          const rate = (data.length - list[0].length) / took;
          this.rate = this.rate === null ? rate : 0.7 * this.rate + 0.3 * rate;
        }
        callbacks.forEach((cb) => cb());
      });
    });
    if (!done) this.arm();
  }
}
