//! The Containers pane's first paint, reported by the UI itself (issue 18: the window shows
//! the pane painted ≤ 1 s from exec). The page's clock (`performance.now()`, from the
//! navigation's start) marks when the script began, when the first list of containers was
//! asked for and answered, and the frame after the pane first showed a row or its empty state;
//! the backend logs it against the time since its process was exec'd (`report_first_paint`).

import type { FirstPaint } from './bindings/FirstPaint';

export interface PaintClock {
  /** Milliseconds since the page's navigation began. */
  now(): number;
  /** Runs `cb` once the frame being prepared has been painted. */
  afterPaint(cb: () => void): void;
}

/** The browser's clock: a frame's callback runs before its paint, a task queued there after it. */
export const pageClock: PaintClock = {
  now: () => performance.now(),
  afterPaint: (cb) => requestAnimationFrame(() => setTimeout(cb, 0)),
};

export interface FirstPaintProbe {
  /** The first list of containers is being asked for. */
  listStarted(): void;
  /** ... and was answered. */
  listed(): void;
  /** The pane shows its first rows (or its empty state): reports once, after the paint. */
  shown(rows: number): void;
}

/** A probe that sends one report (later calls of `shown` do nothing); a failed send is dropped. */
export function firstPaintProbe(send: (report: FirstPaint) => Promise<unknown>, clock: PaintClock = pageClock, scriptMs = clock.now()): FirstPaintProbe {
  let listStarted: number | null = null;
  let listEnded: number | null = null;
  let done = false;
  return {
    listStarted() {
      if (listStarted === null) listStarted = clock.now();
    },
    listed() {
      if (listStarted !== null && listEnded === null) listEnded = clock.now();
    },
    shown(rows) {
      if (done) return;
      done = true;
      clock.afterPaint(() => {
        const report: FirstPaint = {
          paintedMs: clock.now(),
          scriptMs,
          listStartedMs: listStarted,
          listMs: listStarted !== null && listEnded !== null ? listEnded - listStarted : null,
          rows,
        };
        // A backend without the command (a test's) or a failed call: the report is dropped.
        Promise.resolve()
          .then(() => send(report))
          .catch(() => {});
      });
    },
  };
}
