// The app's real window, seen through WebDriver (webdriverio against tauri-driver): the same
// test ids as in the browser, fewer verbs.

export class BerthWindow {
  /** @param {WebdriverIO.Browser} browser */
  constructor(browser) {
    this.browser = browser;
  }

  byTestId(id) {
    return this.browser.$(`[data-testid="${id}"]`);
  }

  get navContainers() {
    return this.byTestId('nav-containers');
  }

  get navImages() {
    return this.byTestId('nav-images');
  }

  get engineStatus() {
    return this.byTestId('engine-status');
  }

  get containersTable() {
    return this.byTestId('containers-table');
  }

  get pullButton() {
    return this.byTestId('pull-button');
  }

  containerRow(name) {
    return this.browser.$(`[data-testid="container-row"][data-name="${name}"]`);
  }

  imageRow(reference) {
    return this.browser.$(`[data-testid="image-row"][data-reference="${reference}"]`);
  }

  /**
   * Saves a screenshot of the window. WebKitGTK's snapshot is of the last frame it composited,
   * which can be older than the DOM just waited for: let two animation frames pass first.
   */
  async screenshot(path) {
    await this.browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
    await this.browser.saveScreenshot(path);
  }

  /** Waits until the header says the engine is up. */
  async waitForEngine(timeout = 30_000) {
    await this.browser.$('[data-testid="engine-status"][data-state="up"]').waitForExist({ timeout });
  }
}
