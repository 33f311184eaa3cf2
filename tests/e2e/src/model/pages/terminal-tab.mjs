// The Terminal tab: a shell in the running container on xterm.js (`data-state` connecting,
// open, exited, error).

import { xtermScreen } from './xterm.mjs';

export class TerminalTab {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('terminal');
    this.screen = xtermScreen(this.root.getByTestId('terminal-screen'));
    this.error = this.root.getByTestId('terminal-error');
  }

  /** Waits until the shell is open (its failure is reported with the tab's error). */
  async waitForOpen(timeout = 30_000) {
    try {
      await this.page.locator('[data-testid="terminal"][data-state="open"]').waitFor({ timeout });
    } catch (e) {
      const state = await this.root.getAttribute('data-state');
      const error = (await this.error.count()) ? await this.error.textContent() : '';
      throw new Error(`the terminal is ${state}, not open: ${error} (${e.message})`);
    }
  }

  /** Types a line into the shell, as a person would, and presses Enter. */
  async typeLine(text) {
    await this.root.getByTestId('terminal-screen').click();
    await this.page.keyboard.type(text, { delay: 20 });
    await this.page.keyboard.press('Enter');
  }
}
