// What an xterm.js screen shows, read from its DOM renderer (the app loads no WebGL addon):
// one `.xterm-rows > div` per visible row; colours are `xterm-fg-N` classes (the 16 ANSI
// colours) or inline styles (truecolor) on the row's spans.

/** @param {import('playwright-core').Locator} host the element xterm.js was opened in */
export function xtermScreen(host) {
  return {
    host,
    rows: host.locator('.xterm-rows > div'),

    /** The text of the visible rows, one string per row, trailing blanks cut. */
    async lines() {
      return this.rows.evaluateAll((rows) => rows.map((r) => (r.textContent ?? '').replace(/\s+$/, '')));
    },

    /** The visible spans coloured with ANSI colour `n` (0-15), as their text. */
    async coloured(n) {
      return host.locator(`.xterm-rows span.xterm-fg-${n}`).allTextContents();
    },
  };
}
