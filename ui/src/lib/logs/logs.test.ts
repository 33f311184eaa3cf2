import { describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../bindings/LogEntry';
import type { LogPage } from '../bindings/LogPage';
import { FrameBatcher, lastLines, pieces } from './batcher';
import { compareCursors, formatEntry, plain, sanitize, sinceCutoff } from './format';
import { LogRing } from './ring';
import { LogView, type LogTerminal } from './view';

describe('LogRing', () => {
  const ring = (maxLines: number, maxBytes = Infinity) => new LogRing<string>({ maxLines, maxBytes }, (s) => s.length);

  it('keeps the newest lines past the line limit, in order', () => {
    const r = ring(3);
    expect(r.push('a', 'b')).toBe(0);
    expect(r.push('c', 'd', 'e')).toBe(2);
    expect(r.toArray()).toEqual(['c', 'd', 'e']);
    expect(r.length).toBe(3);
    expect(r.first()).toBe('c');
    expect(r.last()).toBe('e');
    expect(r.at(-2)).toBe('d');
    expect(r.at(3)).toBeUndefined();
    expect(r.droppedOldest).toBe(2);
    expect(r.full).toBe(true);
  });

  it('keeps within the byte limit, but never below one line', () => {
    const r = ring(100, 10);
    r.push('12345', '678', '90');
    expect(r.byteSize).toBe(10);
    r.push('x');
    expect(r.toArray()).toEqual(['678', '90', 'x']);
    expect(r.byteSize).toBe(6);
    r.push('a very long line');
    expect(r.toArray()).toEqual(['a very long line']);
  });

  it('prepends older lines and drops the newest past the limits', () => {
    const r = ring(4);
    r.push('c', 'd');
    expect(r.prepend(['a', 'b'])).toBe(0);
    expect(r.toArray()).toEqual(['a', 'b', 'c', 'd']);
    expect(r.prepend(['y', 'z'])).toBe(2);
    expect(r.toArray()).toEqual(['y', 'z', 'a', 'b']);
    expect(r.droppedNewest).toBe(2);
  });

  it('wraps around and grows its backing array across many operations', () => {
    const r = ring(5000);
    for (let i = 0; i < 12_000; i++) r.push(String(i));
    expect(r.length).toBe(5000);
    expect(r.first()).toBe('7000');
    expect(r.last()).toBe('11999');
    r.prepend(['old']);
    expect(r.first()).toBe('old');
    expect(r.last()).toBe('11998');
    r.clear();
    expect(r.length).toBe(0);
    expect(r.byteSize).toBe(0);
    expect(r.toArray()).toEqual([]);
  });

  it('refuses a zero limit', () => {
    expect(() => ring(0)).toThrow();
  });
});

function frames() {
  const queue: (() => void)[] = [];
  return {
    schedule: (cb: () => void) => queue.push(cb),
    run() {
      const now = queue.splice(0);
      now.forEach((cb) => cb());
    },
    get pending() {
      return queue.length;
    },
  };
}

describe('FrameBatcher', () => {
  it('writes once per frame whatever the number of chunks', () => {
    const f = frames();
    const writes: string[] = [];
    const b = new FrameBatcher({ write: (d, done) => (writes.push(d), done()) }, { schedule: f.schedule, maxWrite: Infinity, initialBudget: Infinity });
    for (let i = 0; i < 10_000; i++) b.add(`line ${i}\r\n`);
    expect(writes).toHaveLength(0);
    expect(f.pending).toBe(1);
    f.run();
    expect(writes).toHaveLength(1);
    expect(writes[0].split('\r\n')).toHaveLength(10_001);
    b.add('more');
    f.run();
    expect(writes).toEqual([expect.any(String), 'more']);
    f.run();
    expect(writes).toHaveLength(2);
    expect(b.writes).toBe(2);
  });

  it('resets the sink only after it parsed what it was given, so nothing lands twice', () => {
    // A sink like xterm.js: writes queue and parse later; a reset clears the screen, not the queue.
    const f = frames();
    const queue: [string, () => void][] = [];
    let screen = '';
    const sink = { write: (d: string, done: () => void) => void queue.push([d, done]) };
    const parse = () => queue.splice(0).forEach(([d, done]) => ((screen += d), done()));
    const b = new FrameBatcher(sink, { schedule: f.schedule, initialBudget: Infinity });
    b.add('one\r\n');
    f.run();
    expect(queue).toHaveLength(1);
    // The view rewrites what it holds while 'one' still waits to be parsed.
    b.restart(() => (screen = ''));
    b.add('one\r\ntwo\r\n', 2);
    f.run();
    expect(queue).toHaveLength(1); // nothing more until the sink is done
    parse();
    f.run();
    parse();
    expect(screen).toBe('one\r\ntwo\r\n');
    // With nothing in the sink, the reset is at once.
    let resets = 0;
    b.restart(() => ((resets += 1), (screen = '')));
    expect(screen).toBe('');
    expect(resets).toBe(1);
  });

  it('cuts a frame into pieces at line ends, and runs callbacks once the last piece is parsed', () => {
    const f = frames();
    const done: (() => void)[] = [];
    const writes: string[] = [];
    const b = new FrameBatcher({ write: (d, cb) => (writes.push(d), done.push(cb)) }, { schedule: f.schedule, maxWrite: 1000, initialBudget: Infinity });
    const text = Array.from({ length: 500 }, (_, i) => `line ${i}\r\n`).join('');
    b.add(text, 500);
    let called = false;
    b.then(() => (called = true));
    f.run();
    expect(writes.length).toBeGreaterThan(4);
    expect(writes.join('')).toBe(text);
    expect(writes.every((w) => w.length <= 1000 && w.endsWith('\r\n'))).toBe(true);
    expect(b.flushes).toBe(1);
    expect(b.writes).toBe(writes.length);
    done.splice(0, writes.length - 1).forEach((cb) => cb());
    expect(called).toBe(false);
    expect(b.backlog).toBe(writes.at(-1)!.length);
    done.shift()!();
    expect(called).toBe(true);
    expect(b.backlog).toBe(0);
  });

  it('cuts text at the last line end within reach, a longer line where it must', () => {
    const check = (data: string, max: number, expected: string[]) => expect(pieces(data, max)).toEqual(expected);
    check('', 4, ['']);
    check('ab\n', 4, ['ab\n']);
    check('ab\ncd\nef\n', 6, ['ab\ncd\n', 'ef\n']);
    check('ab\ncd\nef\n', 5, ['ab\n', 'cd\n', 'ef\n']);
    check('abcdefgh\nij', 3, ['abc', 'def', 'gh\n', 'ij']);
    check('a\nbcdefg', 4, ['a\n', 'bcde', 'fg']);
  });

  it('writes nothing while the sink parses the last frame, then everything that waited', () => {
    const f = frames();
    const done: (() => void)[] = [];
    const writes: string[] = [];
    const b = new FrameBatcher({ write: (d, cb) => (writes.push(d), done.push(cb)) }, { schedule: f.schedule });
    b.add('0123456789ab');
    f.run();
    b.add('x');
    b.add('y');
    f.run();
    f.run();
    expect(writes).toEqual(['0123456789ab']);
    expect(b.backlog).toBe(14);
    done.shift()!();
    f.run();
    expect(writes).toEqual(['0123456789ab', 'xy']);
  });

  it("writes a frame's budget at most, at line ends, and learns the budget from the sink's speed", () => {
    const f = frames();
    let clock = 0;
    const done: (() => void)[] = [];
    const writes: string[] = [];
    const b = new FrameBatcher(
      { write: (d, cb) => (writes.push(d), done.push(cb)) },
      { schedule: f.schedule, now: () => clock, initialBudget: 100, frameBudgetMs: 10, maxWrite: 50 },
    );
    const line = (i: number) => `line ${String(i).padStart(3, '0')}\r\n`; // 10 characters
    const all = Array.from({ length: 100 }, (_, i) => line(i));
    b.add(all.slice(0, 60).join(''), 60);
    b.add(all.slice(60).join(''), 40);
    let called = false;
    b.then(() => (called = true));
    // The sink parses what it was given: the first piece, then the others in `ms`.
    const parse = (ms: number) => {
      done.shift()!();
      clock += ms;
      done.splice(0).forEach((cb) => cb());
    };
    f.run();
    expect(writes).toEqual([all.slice(0, 5).join(''), all.slice(5, 10).join('')]);
    // 50 characters after the first piece's in 2.5 ms: 20 a ms, 200 a frame of 10 ms.
    parse(2.5);
    expect(b.rate).toBe(20);
    expect(b.budget).toBe(200);
    f.run();
    expect(writes.slice(2).join('')).toBe(all.slice(10, 30).join(''));
    expect(writes.slice(2)).toHaveLength(4);
    // Slower now: 150 characters in 37.5 ms, 4 a ms; the estimate moves part of the way.
    parse(37.5);
    expect(b.rate).toBeCloseTo(0.7 * 20 + 0.3 * 4);
    expect(b.budget).toBe(152);
    expect(called).toBe(false);
    for (let i = 0; i < 10 && !called; i++) {
      f.run();
      parse(1);
    }
    expect(writes.join('')).toBe(all.join(''));
    expect(called).toBe(true);
    expect(b.backlog).toBe(0);
  });

  it('skips the oldest waiting lines past the scrollback while the sink is behind', () => {
    const f = frames();
    const done: (() => void)[] = [];
    const writes: string[] = [];
    const b = new FrameBatcher({ write: (d, cb) => (writes.push(d), done.push(cb)) }, { schedule: f.schedule, maxPendingLines: 4 });
    b.add('a\n', 1);
    f.run();
    b.add('b\nc\n', 2);
    b.add('d\ne\nf\n', 3);
    b.add('g\n', 1);
    f.run();
    expect(writes).toEqual(['a\n']);
    expect(b.skippedLines).toBe(2);
    done.shift()!();
    f.run();
    expect(writes).toEqual(['a\n', 'd\ne\nf\ng\n']);
  });

  it('skips through a flood to its newest screen, never through text added whole', () => {
    const f = frames();
    const writes: string[] = [];
    let skips = 0;
    const b = new FrameBatcher(
      { write: (d, done) => (writes.push(d), done()) },
      { schedule: f.schedule, initialBudget: Infinity, maxWrite: Infinity, skipAbove: 10, keepLines: () => 3, onSkip: () => (skips += 1) },
    );
    const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `l${from + i}\n`).join('');
    // As many as it may write without skipping: all of them.
    b.add(lines(0, 10), 10);
    f.run();
    expect(writes).toEqual([lines(0, 10)]);
    expect(skips).toBe(0);
    // A rewrite, then a flood in chunks: the rewrite whole, the flood's last three lines.
    b.add(lines(0, 4), 4, true);
    for (let i = 10; i < 30; i += 5) b.add(lines(i, i + 5), 5);
    f.run();
    expect(writes[1]).toBe(lines(0, 4) + lines(27, 30));
    expect(b.skippedLines).toBe(17);
    expect(skips).toBe(1);
    expect(b.backlog).toBe(0);
    // Whole text after lines that are not is not whole: it is skipped like them.
    b.add(lines(30, 35), 5);
    b.add(lines(35, 45), 10, true);
    f.run();
    expect(writes[2]).toBe(lines(42, 45));
    expect(skips).toBe(2);
  });

  it('cuts the last lines of a text', () => {
    expect(lastLines('a\nb\nc\n', 1)).toBe('c\n');
    expect(lastLines('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(lastLines('a\nb\nc\n', 3)).toBe('a\nb\nc\n');
    expect(lastLines('a\nb\nc\n', 9)).toBe('a\nb\nc\n');
    expect(lastLines('a\r\nb\r\n', 1)).toBe('b\r\n');
  });

  it('runs callbacks after what was added before them is parsed, and clear forgets', () => {
    const f = frames();
    const order: string[] = [];
    const b = new FrameBatcher({ write: (d, done) => (order.push(`write ${d}`), done()) }, { schedule: f.schedule });
    b.add('a');
    b.then(() => order.push('then'));
    f.run();
    expect(order).toEqual(['write a', 'then']);
    b.add('lost');
    b.clear();
    f.run();
    expect(order).toEqual(['write a', 'then']);
  });
});

describe('log formatting', () => {
  it('keeps colours and drops sequences that would move the cursor or clear the screen', () => {
    expect(sanitize('\x1b[31mred\x1b[0m plain')).toBe('\x1b[31mred\x1b[0m plain');
    expect(sanitize('a\x1b[2Jb\x1b[Hc\x1b]0;title\x07d\re\x1b7f')).toBe('abcdef');
    expect(sanitize('tab\there')).toBe('tab\there');
    expect(sanitize('cut \x1b[12')).toBe('cut [12');
    expect(plain('\x1b[1;32mok\x1b[0m')).toBe('ok');
  });

  it('formats an entry with its timestamp and a stderr mark', () => {
    const e: LogEntry = { cursor: { file: 1, offset: 0 }, time: '2026-01-01T00:00:00Z', stream: 'stderr', line: 'boom' };
    expect(formatEntry(e, false)).toBe('\x1b[31m▍\x1b[0mboom\x1b[0m\r\n');
    expect(formatEntry({ ...e, stream: 'stdout' }, true)).toBe('\x1b[2m2026-01-01T00:00:00Z\x1b[0m  boom\x1b[0m\r\n');
    // Both streams' text starts in the same column (the mark and stdout's space are one wide).
    const column = (s: string) => plain(s).indexOf('boom');
    expect(column(formatEntry(e, false))).toBe(column(formatEntry({ ...e, stream: 'stdout' }, false)));
  });

  it('orders cursors by file then offset and reads since choices', () => {
    expect(compareCursors({ file: 0, offset: 900 }, { file: 1, offset: 0 })).toBeLessThan(0);
    expect(compareCursors({ file: 1, offset: 5 }, { file: 1, offset: 5 })).toBe(0);
    expect(sinceCutoff('5m', 1_000_000)).toBe(700_000);
    expect(sinceCutoff('', 1)).toBeNull();
  });
});

function entry(n: number, line = `line ${n}`): LogEntry {
  return { cursor: { file: 1, offset: n * 10 }, time: new Date(1_700_000_000_000 + n * 1000).toISOString(), stream: 'stdout', line };
}

function setupView(total: number, options: ConstructorParameters<typeof LogView>[3] = {}) {
  const log = Array.from({ length: total }, (_, i) => entry(i));
  const f = frames();
  const written: string[] = [];
  let onLines: ((b: { entries: LogEntry[] }) => void) | null = null;
  const backend = {
    logWindow: vi.fn(async (_id: string, before: { offset: number } | null, limit: number): Promise<LogPage> => {
      const end = before === null ? log.length : log.findIndex((e) => e.cursor.offset >= before.offset);
      const start = Math.max(0, end - limit);
      return { entries: log.slice(start, end), atStart: start === 0 };
    }),
    followLogs: vi.fn(async (_id: string, _from: unknown, cb: (b: { entries: LogEntry[] }) => void) => {
      onLines = cb;
      return 'sub';
    }),
    stopFollow: vi.fn(async () => null),
  };
  const terminal: LogTerminal = {
    write: (d, done) => (written.push(d), done()),
    reset: () => (written.length = 0),
    scrollToLine: vi.fn(),
    rows: 5,
  };
  const view = new LogView(backend, 'web', terminal, { schedule: f.schedule, ...options });
  const screen = () => {
    f.run();
    // The text as a person reads it: without the one-column stream gutter.
    return written.join('').split('\r\n').filter(Boolean).map((l) => plain(l).replace(/^(\S+ )?[ ▍]/, '$1'));
  };
  const emit = (entries: LogEntry[]) => onLines!({ entries });
  return { view, backend, log, screen, emit, terminal };
}

describe('LogView', () => {
  it('opens at the tail and follows from the last line it read, skipping repeats', async () => {
    const { view, backend, screen, emit } = setupView(5000, { tail: 100 });
    await view.open();
    expect(backend.logWindow).toHaveBeenCalledWith('web', null, 100, true);
    expect(backend.followLogs.mock.calls[0][1]).toEqual({ file: 1, offset: 49_990 });
    expect(view.state).toMatchObject({ lines: 100, atStart: false, following: true });
    expect(screen()).toHaveLength(100);
    emit([entry(4999), entry(5000), entry(5001)]);
    expect(screen().slice(-3)).toEqual(['line 4999', 'line 5000', 'line 5001']);
    expect(view.state.received).toBe(2);
    // The log rotated: offsets start again in the new file, and nothing is skipped.
    emit([{ ...entry(5002), cursor: { file: 1, offset: 0 } }, { ...entry(5003), cursor: { file: 1, offset: 10 } }]);
    expect(screen().slice(-2)).toEqual(['line 5002', 'line 5003']);
    expect(view.state.received).toBe(4);
  });

  it('buffers lines while paused and shows all of them on resume', async () => {
    const { view, screen, emit } = setupView(10, { tail: 10 });
    await view.open();
    view.pause();
    emit([entry(10), entry(11)]);
    emit([entry(12)]);
    expect(screen().at(-1)).toBe('line 9');
    expect(view.state.pending).toBe(3);
    await view.resume();
    expect(screen().slice(-3)).toEqual(['line 10', 'line 11', 'line 12']);
    expect(view.state.pending).toBe(0);
  });

  it('stops following when the pause buffer fills, then resumes from the file', async () => {
    const { view, backend, screen, emit } = setupView(10, { tail: 10, pendingLimits: { maxLines: 3, maxBytes: Infinity } });
    await view.open();
    view.pause();
    emit([entry(10), entry(11), entry(12)]);
    await vi.waitFor(() => expect(backend.stopFollow).toHaveBeenCalledWith('sub'));
    await view.resume();
    expect(screen().slice(-3)).toEqual(['line 10', 'line 11', 'line 12']);
    expect(backend.followLogs).toHaveBeenCalledTimes(2);
    expect(backend.followLogs.mock.calls[1][1]).toEqual({ file: 1, offset: 120 });
  });

  it('pages back when asked and keeps its limits, detaching from the tail when full', async () => {
    const { view, backend, screen, terminal } = setupView(10_000, { tail: 100, pageSize: 100, limits: { maxLines: 300, maxBytes: Infinity } });
    await view.open();
    expect(await view.loadOlder()).toBe(true);
    expect(backend.logWindow).toHaveBeenLastCalledWith('web', { file: 1, offset: 99_000 }, 100, true);
    expect(screen()[0]).toBe('line 9800');
    expect(terminal.scrollToLine).toHaveBeenCalledWith(100);
    await view.loadOlder();
    expect(view.state).toMatchObject({ lines: 300, detached: false });
    await view.loadOlder();
    expect(view.state).toMatchObject({ lines: 300, detached: true, following: false });
    expect(screen()[0]).toBe('line 9600');
    expect(screen().at(-1)).toBe('line 9899');
  });

  it('writes only the newest screen of a flood, and every line once it calms', async () => {
    vi.useFakeTimers();
    try {
      const { view, screen, emit } = setupView(10, { tail: 10, skipAbove: 20, calmMs: 400 });
      await view.open();
      expect(screen()).toHaveLength(10);
      emit(Array.from({ length: 100 }, (_, i) => entry(10 + i)));
      // Two screens of the terminal's 5 rows.
      const shown = screen();
      expect(shown.slice(-11)).toEqual(['line 9', ...Array.from({ length: 10 }, (_, i) => `line ${100 + i}`)]);
      expect(view.state).toMatchObject({ skipping: true, received: 100, lines: 110 });
      // Lines keep coming: no rewrite yet.
      vi.advanceTimersByTime(300);
      emit([entry(110)]);
      vi.advanceTimersByTime(300);
      expect(screen().at(-1)).toBe('line 110');
      expect(view.state.skipping).toBe(true);
      vi.advanceTimersByTime(100);
      expect(view.state.skipping).toBe(false);
      expect(screen()).toEqual(Array.from({ length: 111 }, (_, i) => `line ${i}`));
    } finally {
      vi.useRealTimers();
    }
  });

  it('no longer says it holds the log from the start once its oldest lines went', async () => {
    const { view, emit } = setupView(10, { tail: 10, limits: { maxLines: 12, maxBytes: Infinity } });
    await view.open();
    expect(view.state.atStart).toBe(true);
    emit([entry(10), entry(11)]);
    expect(view.state.atStart).toBe(true);
    emit([entry(12)]);
    expect(view.state).toMatchObject({ atStart: false, lines: 12 });
  });

  it('pauses with every line when someone reaches into a terminal that skipped through a flood', async () => {
    const { view, screen, emit } = setupView(10, { tail: 10, skipAbove: 20 });
    await view.open();
    screen();
    // Without a flood, reaching in changes nothing.
    await view.hold();
    expect(view.state.paused).toBe(false);
    emit(Array.from({ length: 50 }, (_, i) => entry(10 + i)));
    expect(screen()).toHaveLength(20);
    const held = view.hold();
    expect(screen()).toEqual(Array.from({ length: 60 }, (_, i) => `line ${i}`));
    await held;
    expect(view.state).toMatchObject({ paused: true, skipping: false });
    emit([entry(60)]);
    expect(view.state.pending).toBe(1);
    await view.resume();
    expect(screen().at(-1)).toBe('line 60');
    await view.close();
  });

  it('jumps to a match that is not loaded, and re-renders with timestamps', async () => {
    const { view, screen } = setupView(10_000, { tail: 100, pageSize: 5 });
    await view.open();
    expect(view.isLoaded({ cursor: { file: 1, offset: 99_990 }, line: 'line 9999' })).toBe(true);
    const far = { cursor: { file: 1, offset: 500 }, line: 'line 50' };
    expect(view.isLoaded(far)).toBe(false);
    await view.jumpTo(far);
    expect(screen()).toEqual(['line 45', 'line 46', 'line 47', 'line 48', 'line 49', 'line 50']);
    expect(view.state.detached).toBe(true);
    view.setTimestamps(true);
    expect(screen()[0]).toMatch(/^2023-.*Z line 45$/);
    expect(view.text().split('\n')[0]).toMatch(/Z line 45$/);
  });
});
