//! A bounded buffer of log entries: the viewer keeps at most `maxLines` lines and `maxBytes`
//! bytes of text in memory whatever the log's size. Appends past a limit drop the oldest lines;
//! prepends (paging back) past a limit drop the newest ones, so what is kept is always one
//! contiguous stretch of the log.

export interface RingLimits {
  maxLines: number;
  maxBytes: number;
}

export class LogRing<T> {
  private items: (T | undefined)[];
  private head = 0; // index of the oldest
  private count = 0;
  private bytes = 0;
  /** Lines dropped from the start (by appends) and from the end (by prepends) so far. */
  droppedOldest = 0;
  droppedNewest = 0;

  constructor(
    readonly limits: RingLimits,
    private readonly size: (item: T) => number,
  ) {
    if (limits.maxLines < 1) throw new Error('maxLines must be at least 1');
    this.items = new Array(Math.min(limits.maxLines, 1024));
  }

  get length(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get full(): boolean {
    return this.count >= this.limits.maxLines || this.bytes >= this.limits.maxBytes;
  }

  at(i: number): T | undefined {
    if (i < 0) i += this.count;
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head + i) % this.items.length];
  }

  first(): T | undefined {
    return this.at(0);
  }

  last(): T | undefined {
    return this.at(-1);
  }

  /** Appends, dropping the oldest past the limits; returns how many were dropped. */
  push(...list: T[]): number {
    let dropped = 0;
    for (const item of list) {
      this.grow();
      this.items[(this.head + this.count) % this.items.length] = item;
      this.count += 1;
      this.bytes += this.size(item);
      while (this.count > 1 && (this.count > this.limits.maxLines || this.bytes > this.limits.maxBytes)) {
        this.dropFirst();
        dropped += 1;
      }
    }
    this.droppedOldest += dropped;
    return dropped;
  }

  /** Puts `list` (in log order) before the oldest, dropping the newest past the limits. */
  prepend(list: readonly T[]): number {
    let dropped = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      this.grow();
      this.head = (this.head - 1 + this.items.length) % this.items.length;
      this.items[this.head] = list[i];
      this.count += 1;
      this.bytes += this.size(list[i]);
      while (this.count > 1 && (this.count > this.limits.maxLines || this.bytes > this.limits.maxBytes)) {
        this.dropLast();
        dropped += 1;
      }
    }
    this.droppedNewest += dropped;
    return dropped;
  }

  clear(): void {
    this.items = new Array(Math.min(this.limits.maxLines, 1024));
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    this.droppedOldest = 0;
    this.droppedNewest = 0;
  }

  toArray(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.items[(this.head + i) % this.items.length] as T;
    return out;
  }

  private dropFirst(): void {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count -= 1;
    this.bytes -= this.size(item);
  }

  private dropLast(): void {
    const i = (this.head + this.count - 1) % this.items.length;
    const item = this.items[i] as T;
    this.items[i] = undefined;
    this.count -= 1;
    this.bytes -= this.size(item);
  }

  /** Doubles the backing array when full, up to maxLines + 1 slots. */
  private grow(): void {
    if (this.count < this.items.length) return;
    const next = new Array<T | undefined>(Math.min(this.items.length * 2, this.limits.maxLines + 1));
    if (next.length <= this.items.length) return;
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
