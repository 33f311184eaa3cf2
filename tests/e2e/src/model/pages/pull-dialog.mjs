// The pull dialog: a reference, per-layer progress, then success (or an error under the field).

export class PullDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('pull-dialog');
    this.reference = this.root.getByTestId('pull-reference');
    this.submit = page.getByTestId('pull-submit');
    this.error = this.root.getByTestId('pull-error');
    this.layers = this.root.getByTestId('layer-progress');
    this.success = this.root.getByTestId('pull-success');
    this.closeButton = page.getByTestId('pull-close');
    this.runButton = page.getByTestId('pull-run');
  }

  async pull(reference) {
    await this.reference.fill(reference);
    await this.submit.click();
  }

  async close() {
    await this.closeButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}
