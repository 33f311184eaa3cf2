//! Writes to the terminal at most once per animation frame. Log batches arrive far more often
//! than frames (tens of thousands of lines a second); each `write` to xterm.js costs a parse and
//! a render pass, so chunks are joined and written once a frame. When xterm.js has not caught
//! up with what it was given (more than `highWater` bytes unparsed), the batcher waits for it
//! instead of piling on. Lines waiting here beyond `maxPendingLines` (the terminal's
//! scrollback) are dropped oldest first: xterm.js would push them out of its scrollback unseen
//! anyway, so when the terminal falls behind a flood it skips straight to what it can show.

export interface WriteSink {
  /** xterm's `write(data, callback)`: the callback runs once the data is parsed. */
  write(data: string, done: () => void): void;
}

export type Schedule = (cb: () => void) => unknown;

export interface BatcherOptions {
  schedule?: Schedule;
  /** Bytes given to the sink and not yet parsed above which writes wait. */
  highWater?: number;
  /** Lines kept waiting at most (the oldest go first). */
  maxPendingLines?: number;
}

export class FrameBatcher {
  private chunks: string[] = [];
  private chunkLines: number[] = [];
  private pendingLines = 0;
  private readonly maxPendingLines: number;
  /** Lines never written because newer ones pushed them out while waiting. */
  skippedLines = 0;
  private afterWrite: (() => void)[] = [];
  private pendingBytes = 0;
  private inSink = 0;
  private scheduled = false;
  private readonly schedule: Schedule;
  private readonly highWater: number;
  /** Number of `write` calls made to the sink (for tests and measurements). */
  writes = 0;

  constructor(
    private readonly sink: WriteSink,
    options: BatcherOptions = {},
  ) {
    this.schedule = options.schedule ?? ((cb) => requestAnimationFrame(() => cb()));
    this.highWater = options.highWater ?? 1024 * 1024;
    this.maxPendingLines = options.maxPendingLines ?? Infinity;
  }

  /** Bytes waiting here plus bytes the sink has not parsed yet. */
  get backlog(): number {
    return this.pendingBytes + this.inSink;
  }

  /** Queues `text` holding `lines` lines for the next frame. */
  add(text: string, lines = 1): void {
    if (text === '') return;
    this.chunks.push(text);
    this.chunkLines.push(lines);
    this.pendingBytes += text.length;
    this.pendingLines += lines;
    while (this.chunks.length > 1 && this.pendingLines - this.chunkLines[0] >= this.maxPendingLines) {
      this.pendingBytes -= this.chunks.shift()!.length;
      const dropped = this.chunkLines.shift()!;
      this.pendingLines -= dropped;
      this.skippedLines += dropped;
    }
    this.arm();
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
    this.afterWrite = [];
    this.pendingBytes = 0;
    this.pendingLines = 0;
  }

  private arm(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.chunks.length === 0 && this.afterWrite.length === 0) return;
    if (this.inSink > this.highWater) {
      // The sink is behind: try again next frame.
      this.arm();
      return;
    }
    const data = this.chunks.length === 1 ? this.chunks[0] : this.chunks.join('');
    const callbacks = this.afterWrite;
    this.chunks = [];
    this.chunkLines = [];
    this.pendingLines = 0;
    this.afterWrite = [];
    this.pendingBytes = 0;
    this.inSink += data.length;
    this.writes += 1;
    this.sink.write(data, () => {
      this.inSink -= data.length;
      callbacks.forEach((cb) => cb());
    });
  }
}
