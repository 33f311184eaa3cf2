// The command palette (Ctrl+K): its box, its items in order, the one under the cursor.

export class CommandPalette {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('palette');
    this.input = page.getByTestId('palette-input');
    this.items = page.getByTestId('palette-item');
    this.active = page.locator('[data-testid="palette-item"][aria-selected="true"]');
    this.empty = page.getByTestId('palette-empty');
  }

  /** Opens it with Ctrl+K and waits for its box to hold the focus. */
  async open() {
    await this.page.keyboard.press('Control+k');
    await this.root.waitFor();
    await this.page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'palette-input');
    return this;
  }

  /** Types `query` into the box, as a person would. */
  async search(query) {
    await this.input.fill('');
    await this.page.keyboard.type(query);
  }

  /** The `data-key` of the item under the cursor (`pane:images`, `stop:ID`, …). */
  async activeKey() {
    return this.active.getAttribute('data-key');
  }
}
