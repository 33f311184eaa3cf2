// An image's details (opened from its repository on the Images pane): Summary, History, Inspect.

export class ImageDetails {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('image-details');
    this.back = page.getByTestId('image-details-back');
    this.name = page.getByTestId('image-details-name');
    this.summary = page.getByTestId('image-summary');
    this.historyRows = page.getByTestId('history-row');
    this.historyCommands = page.getByTestId('history-command');
    this.historySizes = page.getByTestId('history-size');
  }

  /** @param {'summary' | 'history' | 'inspect'} name */
  async tab(name) {
    await this.page.getByTestId(`image-tab-${name}`).click();
    await this.page.getByTestId(`image-panel-${name}`).waitFor();
  }

  async close() {
    await this.back.click();
    await this.root.waitFor({ state: 'detached' });
  }
}
