// What an xterm.js screen shows, read from its DOM renderer (the app loads no WebGL addon):
// one `.xterm-rows > div` per visible row; colours are `xterm-fg-N` classes (the 16 ANSI
// colours) or inline styles (truecolor) on the row's spans.

/**
 * @param {import('playwright-core').Locator} host the element xterm.js was opened in
 * @param {{gutter?: boolean}} options gutter: each row starts with a one-column stream mark
 *   (the logs viewer's: a space for stdout, a red ▍ for stderr), left out of `lines()`
 */
export function xtermScreen(host, { gutter = false } = {}) {
  return {
    host,
    rows: host.locator('.xterm-rows > div'),

    /** The text of the visible rows, as they are, trailing blanks cut. */
    async rawLines() {
      return this.rows.evaluateAll((rows) => rows.map((r) => (r.textContent ?? '').replace(/\s+$/, '')));
    },

    /** The text of the visible rows, one string per row, without the gutter. */
    async lines() {
      const raw = await this.rawLines();
      return gutter ? raw.map((l) => l.slice(1)) : raw;
    },

    /** The visible spans coloured with ANSI colour `n` (0-15), as their text. */
    async coloured(n) {
      return host.locator(`.xterm-rows span.xterm-fg-${n}`).allTextContents();
    },
  };
}
