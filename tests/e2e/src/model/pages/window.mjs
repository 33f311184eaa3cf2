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

  /** Presses a chord, e.g. `press('Control', '0')` (held together, then released). */
  async press(...keys) {
    await this.browser.keys(keys);
  }

  /** The route in the address, `#/dashboard`. */
  async route() {
    return this.browser.execute(() => location.hash);
  }

  /** Waits until the route is `hash`. */
  async waitForRoute(hash) {
    await this.browser.waitUntil(async () => (await this.route()) === hash, { timeoutMsg: `the route ${hash}` });
  }

  /** The Dashboard's count card value: `containers` ("RUNNING / TOTAL"), `images`, `volumes`, `networks`. */
  dashboardCount(pane) {
    return this.byTestId(`dashboard-count-${pane}-value`);
  }

  podRow(name) {
    return this.browser.$(`[data-testid="pod-row"][data-name="${name}"]`);
  }

  podMember(name) {
    return this.browser.$(`[data-testid="pod-details"] [data-testid="pod-member"][data-name="${name}"]`);
  }

  /** The command palette's item under the cursor. */
  get paletteActive() {
    return this.browser.$('[data-testid="palette-item"][aria-selected="true"]');
  }

  /** A row of the Files tab's listing of `path`. */
  fileRow(path, name) {
    return this.browser.$(`[data-testid="files-table"][data-path="${path}"] [data-testid="file-row"][data-name="${name}"]`);
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
