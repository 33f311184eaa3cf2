import { describe, expect, it } from 'vitest';
import { visibleWindow } from './virtual';

describe('visibleWindow', () => {
  const base = { rowHeight: 40, viewportHeight: 400, count: 10_000, overscan: 5 };

  it('renders the viewport plus overscan at the top', () => {
    expect(visibleWindow({ ...base, scrollTop: 0 })).toEqual({ start: 0, end: 15, offsetTop: 0, totalHeight: 400_000 });
  });

  it('follows the scroll position', () => {
    // rows 250..259 visible, 5 above and below
    expect(visibleWindow({ ...base, scrollTop: 10_000 })).toEqual({ start: 245, end: 265, offsetTop: 9_800, totalHeight: 400_000 });
  });

  it('counts a partly visible row', () => {
    const w = visibleWindow({ ...base, scrollTop: 10_020, overscan: 0 });
    expect([w.start, w.end]).toEqual([250, 261]);
  });

  it('clamps at the end and past it (a list that shrank under the scroll)', () => {
    const end = visibleWindow({ ...base, scrollTop: 399_600 });
    expect(end.end).toBe(10_000);
    expect(end.start).toBe(9_985);
    expect(visibleWindow({ ...base, scrollTop: 10_000_000 })).toEqual(end);
  });

  it('handles short and empty lists', () => {
    expect(visibleWindow({ ...base, count: 3, scrollTop: 0 })).toEqual({ start: 0, end: 3, offsetTop: 0, totalHeight: 120 });
    expect(visibleWindow({ ...base, count: 0, scrollTop: 50 })).toEqual({ start: 0, end: 0, offsetTop: 0, totalHeight: 0 });
  });

  it('renders only a window of a huge list', () => {
    const w = visibleWindow({ ...base, count: 1_000_000, scrollTop: 12_345_678 });
    expect(w.end - w.start).toBeLessThanOrEqual(21);
    expect(w.offsetTop).toBe(w.start * 40);
  });
});
