//! Windowing for long lists with a fixed row height: which rows to render for a scroll
//! position, and where to put them. Thousands of rows cost only the visible ones.

export interface WindowInput {
  scrollTop: number;
  viewportHeight: number;
  rowHeight: number;
  count: number;
  /** Extra rows rendered above and below the viewport, so fast scrolling shows no gap. */
  overscan?: number;
}

export interface VisibleWindow {
  /** First rendered row index (inclusive). */
  start: number;
  /** Last rendered row index (exclusive). */
  end: number;
  /** Offset of the first rendered row from the top of the list, in pixels. */
  offsetTop: number;
  /** Height of the whole list, in pixels. */
  totalHeight: number;
}

export function visibleWindow({ scrollTop, viewportHeight, rowHeight, count, overscan = 6 }: WindowInput): VisibleWindow {
  const totalHeight = count * rowHeight;
  if (count === 0 || rowHeight <= 0) return { start: 0, end: 0, offsetTop: 0, totalHeight: Math.max(0, totalHeight) };
  const maxScroll = Math.max(0, totalHeight - viewportHeight);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil((top + Math.max(0, viewportHeight)) / rowHeight) - first;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + Math.max(visible, 1) + overscan);
  return { start, end, offsetTop: start * rowHeight, totalHeight };
}
