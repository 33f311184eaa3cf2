// The confirmation a remove asks for.

export class ConfirmDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('confirm-dialog');
    this.okButton = this.root.getByTestId('confirm-ok');
    this.cancelButton = this.root.getByTestId('confirm-cancel');
    this.force = this.root.getByTestId('confirm-force');
    this.error = this.root.getByTestId('confirm-error');
  }

  /** Confirms and waits for the dialog to close (it stays open, with an error, on a refusal). */
  async confirm() {
    await this.okButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}
