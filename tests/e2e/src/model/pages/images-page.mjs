// The Images pane: local images, pulling one, pushing one, running one, removing one.

import { ConfirmDialog } from './confirm-dialog.mjs';
import { CreateForm } from './create-form.mjs';
import { PullDialog } from './pull-dialog.mjs';
import { PushDialog } from './push-dialog.mjs';

export class ImagesPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.pullButton = page.getByTestId('pull-button');
    this.table = page.getByTestId('images-table');
    this.rows = page.getByTestId('image-row');
    this.empty = page.getByTestId('images-empty');
  }

  /** The row whose reference is `reference` (as the registry's name, with its tag). */
  row(reference) {
    return this.page.locator(`[data-testid="image-row"][data-reference="${reference}"]`);
  }

  async pull() {
    await this.pullButton.click();
    const dialog = new PullDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  /** "Run" on the image's row: the create form, prefilled from the image. */
  async run(reference) {
    await this.row(reference).getByTestId('run-image').click();
    const form = new CreateForm(this.page);
    await form.root.waitFor();
    return form;
  }

  /** "Push" on the image's row: the push dialog. */
  async push(reference) {
    await this.row(reference).getByTestId('image-push').click();
    const dialog = new PushDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  async remove(reference) {
    await this.row(reference).getByTestId('image-remove').click();
    const dialog = new ConfirmDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }
}
