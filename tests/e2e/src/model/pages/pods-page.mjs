// The Pods pane: its rows, the Create pod dialog, and a pod's details.

import { ConfirmDialog } from './confirm-dialog.mjs';

export class PodsPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.createButton = page.getByTestId('pod-create');
    this.table = page.getByTestId('pods-table');
    this.search = page.getByTestId('pod-search');
    this.rows = page.getByTestId('pod-row');
  }

  /** The row of the pod named `name`. */
  row(name) {
    return this.page.locator(`[data-testid="pod-row"][data-name="${name}"]`);
  }

  /** Its state badge (`data-state`: Running, Degraded, Exited, …) and containers count. */
  state(name) {
    return this.row(name).getByTestId('pod-state');
  }
  containers(name) {
    return this.row(name).getByTestId('pod-containers');
  }

  async create() {
    await this.createButton.click();
    const dialog = new CreatePodDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  async open(name) {
    await this.row(name).getByTestId('pod-open').click();
    const details = new PodDetails(this.page);
    await details.root.waitFor();
    return details;
  }

  /** A row action: start, stop, restart. */
  async act(name, verb) {
    await this.row(name).getByTestId(`pod-${verb}`).click();
  }

  /** Clicks the row's remove button: the confirmation, for the caller to answer. */
  async remove(name) {
    await this.row(name).getByTestId('pod-remove-row').click();
    const dialog = new ConfirmDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }
}

export class CreatePodDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('pod-create-dialog');
    this.name = this.root.getByTestId('pod-name');
    this.ports = this.root.getByTestId('pod-ports');
    this.share = this.root.getByTestId('pod-share');
    this.hostname = this.root.getByTestId('pod-hostname');
    this.labels = this.root.getByTestId('pod-labels');
    this.portsError = this.root.getByTestId('pod-ports-error');
    this.shareError = this.root.getByTestId('pod-share-error');
    this.error = this.root.getByTestId('pod-create-error');
    this.submitButton = this.root.getByTestId('pod-create-submit');
  }

  async submit() {
    await this.submitButton.click();
  }
}

export class PodDetails {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('pod-details');
    this.back = this.root.getByTestId('pod-details-back');
    this.state = this.root.getByTestId('pod-summary-state');
    this.labels = this.root.getByTestId('pod-summary-labels');
    this.members = this.root.getByTestId('pod-member');
    this.inspectTab = this.root.getByTestId('pod-tab-inspect');
    this.summaryTab = this.root.getByTestId('pod-tab-summary');
    this.inspectPanel = this.root.getByTestId('pod-panel-inspect');
  }

  member(name) {
    return this.root.locator(`[data-testid="pod-member"][data-name="${name}"]`);
  }
}
