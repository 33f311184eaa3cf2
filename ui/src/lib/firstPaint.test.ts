import { describe, expect, it } from 'vitest';
import type { FirstPaint } from './bindings/FirstPaint';
import { firstPaintProbe, type PaintClock } from './firstPaint';

/** A clock moved by hand, whose frames are painted when the test says. */
function handClock() {
  let t = 0;
  const frames: (() => void)[] = [];
  const clock: PaintClock = { now: () => t, afterPaint: (cb) => frames.push(cb) };
  return {
    clock,
    at(ms: number) {
      t = ms;
    },
    paint() {
      frames.splice(0).forEach((cb) => cb());
    },
  };
}

describe('firstPaintProbe', () => {
  it('reports once, after the paint, with the list it waited on', async () => {
    const c = handClock();
    const sent: FirstPaint[] = [];
    const probe = firstPaintProbe(async (r) => sent.push(r), c.clock, 120);
    c.at(150);
    probe.listStarted();
    c.at(240);
    probe.listed();
    c.at(260);
    probe.shown(1000);
    expect(sent, 'not before the frame is painted').toEqual([]);
    c.at(275);
    c.paint();
    await Promise.resolve();
    expect(sent).toEqual([{ paintedMs: 275, scriptMs: 120, listStartedMs: 150, listMs: 90, rows: 1000 }]);
    probe.shown(1001);
    probe.listStarted();
    c.paint();
    await Promise.resolve();
    expect(sent.length, 'a later render is not the first paint').toBe(1);
  });

  it('a list not answered (or not asked) is null, and a failed send is dropped', async () => {
    const c = handClock();
    const sent: FirstPaint[] = [];
    const probe = firstPaintProbe(
      async (r) => {
        sent.push(r);
        throw new Error('no backend');
      },
      c.clock,
      10,
    );
    probe.listStarted();
    probe.shown(0);
    c.at(30);
    c.paint();
    await Promise.resolve();
    expect(sent).toEqual([{ paintedMs: 30, scriptMs: 10, listStartedMs: 0, listMs: null, rows: 0 }]);
  });
});
