// The build dialog: a Containerfile and its context (typed paths), a name, build arguments, a
// target; then the build's log on xterm.js, Cancel while it runs, and the new image.

import { xtermScreen } from './xterm.mjs';

export class BuildDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('build-dialog');
    this.containerfile = this.root.getByTestId('build-containerfile');
    this.context = this.root.getByTestId('build-context');
    this.name = this.root.getByTestId('build-name');
    this.target = this.root.getByTestId('build-target');
    this.noCache = this.root.getByTestId('build-no-cache');
    this.addArgButton = this.root.getByTestId('build-arg-add');
    this.argKeys = this.root.getByTestId('build-arg-key');
    this.argValues = this.root.getByTestId('build-arg-value');
    this.submit = page.getByTestId('build-submit');
    this.cancelButton = page.getByTestId('build-cancel');
    this.error = this.root.getByTestId('build-error');
    this.log = xtermScreen(this.root.getByTestId('build-log'));
    this.success = this.root.getByTestId('build-success');
    this.cancelled = this.root.getByTestId('build-cancelled');
    this.closeButton = page.getByTestId('build-close');
  }

  /**
   * Fills the form and presses Build.
   * @param {{ containerfile: string, context?: string, name?: string, args?: Record<string, string>, noCache?: boolean }} options
   */
  async build({ containerfile, context = '', name = '', args = {}, noCache = false }) {
    await this.containerfile.fill(containerfile);
    await this.context.fill(context);
    await this.name.fill(name);
    for (const [key, value] of Object.entries(args)) {
      await this.addArgButton.click();
      await this.argKeys.last().fill(key);
      await this.argValues.last().fill(value);
    }
    await this.noCache.setChecked(noCache);
    await this.submit.click();
  }

  async cancel() {
    await this.cancelButton.click();
  }

  async close() {
    await this.closeButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}
