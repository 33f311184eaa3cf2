// The push dialog: a destination (prefilled with the image's name), per-layer progress, then
// success with the manifest digest (or an error under the field).

export class PushDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('push-dialog');
    this.destination = this.root.getByTestId('push-destination');
    this.plainHttp = this.root.getByTestId('push-plain-http');
    this.submit = page.getByTestId('push-submit');
    this.error = this.root.getByTestId('push-error');
    this.layers = this.root.getByTestId('push-layer');
    this.success = this.root.getByTestId('push-success');
    this.closeButton = page.getByTestId('push-close');
  }

  async push(destination) {
    await this.destination.fill(destination);
    await this.submit.click();
  }

  async close() {
    await this.closeButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}
