// Frame times of a page scrolled by script (the app benchmark's Containers pane at 10 000 rows):
// the page records performance.now() deltas between requestAnimationFrame callbacks while it
// moves scrollTop over the whole list (`scrollScript`); `frameStats` sums them up.

/** A frame's budget at 60 Hz, in ms. */
export const FRAME_MS = 1000 / 60;

/** The value below which a share `q` (0..1) of the sorted `xs` lie (nearest rank). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/**
 * p50/p95/p99 of the frame times (ms), and the frames dropped: a frame that took k budgets
 * stands for k - 1 frames not shown (a 40 ms frame at 60 Hz dropped one and a half: rounded,
 * two). `dropped` is the share of the frames that should have been shown (shown + dropped).
 */
export function frameStats(deltas, budget = FRAME_MS) {
  const sorted = [...deltas].sort((a, b) => a - b);
  let missed = 0;
  for (const d of deltas) missed += Math.max(0, Math.round(d / budget) - 1);
  const total = deltas.length + missed;
  return {
    frames: deltas.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    dropped: total ? missed / total : 0,
  };
}

/**
 * The in-page part, as a function to hand the page (its body only uses the page's globals):
 * scrolls the element `selector` from top to bottom and back over `durationMs`, one step per
 * frame, and resolves to the frame deltas and how many distinct first rows (`rowSelector`,
 * its `data-name`) were on screen, which says the rows did follow the scroll.
 */
export function scrollScript({ selector, rowSelector, durationMs }) {
  const el = document.querySelector(selector);
  if (!el) return Promise.resolve({ error: `no ${selector}` });
  const max = el.scrollHeight - el.clientHeight;
  const deltas = [];
  const firsts = new Set();
  return new Promise((resolve) => {
    let start = 0;
    let last = 0;
    const step = (t) => {
      if (start === 0) start = t;
      else deltas.push(t - last);
      last = t;
      firsts.add(document.querySelector(rowSelector)?.getAttribute('data-name') ?? '');
      const f = (t - start) / durationMs;
      if (f >= 1) {
        el.scrollTop = 0;
        resolve({ deltas, max, distinctFirstRows: firsts.size });
        return;
      }
      el.scrollTop = Math.round(max * (f < 0.5 ? 2 * f : 2 - 2 * f));
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
}
