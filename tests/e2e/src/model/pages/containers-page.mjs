// The Containers pane: the list of every container, its row actions.

import { ExportDialog } from './archive-dialogs.mjs';
import { ConfirmDialog } from './confirm-dialog.mjs';
import { ContainerDetails } from './container-details.mjs';
import { CreateForm } from './create-form.mjs';

export class ContainersPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.toolbar = page.getByTestId('create-button');
    this.createButton = page.getByTestId('create-button');
    this.table = page.getByTestId('containers-table');
    this.rows = page.getByTestId('container-row');
    this.empty = page.getByTestId('containers-empty');
    this.search = page.getByTestId('container-search');
    /** The row under the keyboard cursor. */
    this.cursorRow = page.locator('[data-testid="container-row"].cursor');
  }

  /** The row of the container named `name`. */
  row(name) {
    return this.page.locator(`[data-testid="container-row"][data-name="${name}"]`);
  }

  /** The group row of the compose project `project`. */
  group(project) {
    return this.page.locator(`[data-testid="group-row"][data-project="${project}"]`);
  }

  /** The containers shown under that group, in order. */
  groupMembers(project) {
    return this.page.locator(`[data-testid="container-row"][data-project="${project}"]`);
  }

  /** Its status badge (`data-status`: created, running, exited, …). */
  status(name) {
    return this.row(name).getByTestId('container-status');
  }

  /** Its health under the status (`data-health`: starting, healthy, unhealthy); none without a check. */
  health(name) {
    return this.row(name).getByTestId('container-health');
  }

  /** Its published ports, as the row links them. */
  portLinks(name) {
    return this.row(name).getByTestId('port-link');
  }

  async stop(name) {
    await this.row(name).getByTestId('row-stop').click();
  }

  async start(name) {
    await this.row(name).getByTestId('row-start').click();
  }

  /** Clicks the row's remove button; the confirmation is the caller's to answer. */
  /** "Export" on the container's row: the export dialog. */
  async export(name) {
    await this.row(name).getByTestId('row-export').click();
    const dialog = new ExportDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  async remove(name) {
    await this.row(name).getByTestId('row-remove').click();
    const dialog = new ConfirmDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  /** Opens the container's details from its name. */
  async open(name) {
    await this.row(name).getByTestId('container-open').click();
    return new ContainerDetails(this.page).waitFor(name);
  }

  /** Ticks the header's box: every listed container is selected. */
  async selectAll() {
    await this.page.getByTestId('select-all').check();
  }

  /** A toolbar action on the selection: start, stop or restart. */
  async bulk(verb) {
    await this.page.getByTestId(`bulk-${verb}`).click();
  }

  /** The toolbar's Remove on the selection; the confirmation is the caller's to answer. */
  async bulkRemove() {
    await this.page.getByTestId('bulk-remove').click();
    const dialog = new ConfirmDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  async create() {
    await this.createButton.click();
    const form = new CreateForm(this.page);
    await form.root.waitFor();
    return form;
  }
}
