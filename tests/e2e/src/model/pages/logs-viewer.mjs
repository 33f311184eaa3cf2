// The Logs tab: the xterm.js viewer, its search (of what is loaded and of the whole log), the
// follow/pause control and the status line.

import { xtermScreen } from './xterm.mjs';

export class LogsViewer {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('logs-viewer');
    this.screen = xtermScreen(this.root.getByTestId('logs-terminal'), { gutter: true });
    this.search = this.root.getByTestId('logs-search');
    this.nextButton = this.root.getByTestId('logs-search-next');
    this.prevButton = this.root.getByTestId('logs-search-prev');
    this.count = this.root.getByTestId('logs-search-count');
    this.searchAllButton = this.root.getByTestId('logs-search-all');
    this.results = this.root.getByTestId('logs-search-results');
    this.matches = this.root.getByTestId('logs-match');
    this.pauseButton = this.root.getByTestId('logs-pause');
    this.status = this.root.getByTestId('logs-status');
    this.error = this.root.getByTestId('logs-error');
  }

  /** Waits until the viewer has loaded lines and follows the container. */
  async waitForFollowing(timeout = 30_000) {
    await this.page.waitForFunction(
      (el) => Number(el.dataset.lines) > 0 && /following/.test(el.textContent ?? ''),
      await this.status.elementHandle(),
      { timeout },
    );
  }

  /** Types `text` into the search and goes to the next match. */
  async find(text) {
    await this.search.fill(text);
    await this.nextButton.click();
  }

  /** Searches the whole log (server side); the results list shows up. */
  async searchAll(text) {
    await this.search.fill(text);
    await this.searchAllButton.click();
    await this.results.waitFor();
  }

  /** Where `text` is among what the viewer holds, to explain a wrong match count: the kept
   *  lines that contain it (with their cursors), and the terminal buffer's rows that do. */
  async whereIs(text) {
    return this.root.evaluate((el, needle) => {
      const probe = /** @type {any} */ (el).berthLogs;
      if (!probe) return 'the viewer exposes no probe';
      const kept = probe.view.ring.toArray().filter((e) => e.line.includes(needle)).map((e) => `${e.cursor.file}:${e.cursor.offset} ${e.stream} ${e.line}`);
      const buffer = probe.terminal.buffer.active;
      const rows = [];
      for (let y = 0; y < buffer.length; y++) {
        const row = buffer.getLine(y)?.translateToString(true) ?? '';
        if (row.includes(needle)) rows.push(`row ${y}: ${row.trim()}`);
      }
      return `kept lines: [${kept.join(' | ')}], terminal rows: [${rows.join(' | ')}] of ${buffer.length}, received ${probe.view.state.received}`;
    }, text);
  }
}
