// The Images pane: local images, pulling one, building one, pushing one, running one, removing one,
// saving one to a file, loading and importing files, opening an image's details.

import { ImportDialog, LoadDialog, SaveDialog } from './archive-dialogs.mjs';
import { BuildDialog } from './build-dialog.mjs';
import { ConfirmDialog } from './confirm-dialog.mjs';
import { CreateForm } from './create-form.mjs';
import { ImageDetails } from './image-details.mjs';
import { PullDialog } from './pull-dialog.mjs';
import { PushDialog } from './push-dialog.mjs';

export class ImagesPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.pullButton = page.getByTestId('pull-button');
    this.buildButton = page.getByTestId('build-button');
    this.loadButton = page.getByTestId('load-button');
    this.importButton = page.getByTestId('import-button');
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

  /** "Build" in the header: the build dialog. */
  async build() {
    await this.buildButton.click();
    const dialog = new BuildDialog(this.page);
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

  /** "Save" on the image's row: the save dialog. */
  async save(reference) {
    await this.row(reference).getByTestId('image-save').click();
    const dialog = new SaveDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  async load() {
    await this.loadButton.click();
    const dialog = new LoadDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  async import() {
    await this.importButton.click();
    const dialog = new ImportDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  /** The image's details, from its repository. */
  async open(reference) {
    await this.row(reference).getByTestId('image-open').click();
    const details = new ImageDetails(this.page);
    await details.root.waitFor();
    return details;
  }

  async remove(reference) {
    await this.row(reference).getByTestId('image-remove').click();
    const dialog = new ConfirmDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }
}
