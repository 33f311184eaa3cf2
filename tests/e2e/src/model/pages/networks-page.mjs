// The Networks pane: its rows, the Create network dialog, and a network's details.

import { ConfirmDialog } from './confirm-dialog.mjs';

export class NetworksPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.createButton = page.getByTestId('network-create');
    this.table = page.getByTestId('networks-table');
    this.search = page.getByTestId('network-search');
    this.rows = page.getByTestId('network-row');
  }

  /** The row of the network named `name`. */
  row(name) {
    return this.page.locator(`[data-testid="network-row"][data-name="${name}"]`);
  }

  /** Its subnet, DNS ("on"/"off") and member count cells. */
  subnet(name) {
    return this.row(name).getByTestId('network-row-subnet');
  }
  dns(name) {
    return this.row(name).getByTestId('network-dns');
  }
  members(name) {
    return this.row(name).getByTestId('network-members');
  }

  async create() {
    await this.createButton.click();
    const dialog = new CreateNetworkDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  async open(name) {
    await this.row(name).getByTestId('network-open').click();
    const details = new NetworkDetails(this.page);
    await details.root.waitFor();
    return details;
  }

  /** Clicks the row's remove button: the confirmation, for the caller to answer. */
  async remove(name) {
    await this.row(name).getByTestId('network-remove-row').click();
    const dialog = new ConfirmDialog(this.page);
    await dialog.root.waitFor();
    return dialog;
  }
}

export class CreateNetworkDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('network-create-dialog');
    this.name = this.root.getByTestId('network-name');
    this.subnet = this.root.getByTestId('network-subnet');
    this.gateway = this.root.getByTestId('network-gateway');
    this.labels = this.root.getByTestId('network-labels');
    this.nameError = this.root.getByTestId('network-name-error');
    this.subnetError = this.root.getByTestId('network-subnet-error');
    this.gatewayError = this.root.getByTestId('network-gateway-error');
    this.error = this.root.getByTestId('network-create-error');
    this.submitButton = this.root.getByTestId('network-create-submit');
  }

  async submit() {
    await this.submitButton.click();
  }
}

export class NetworkDetails {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('network-details');
    this.back = this.root.getByTestId('network-details-back');
    this.subnet = this.root.getByTestId('network-summary-subnet');
    this.gateway = this.root.getByTestId('network-summary-gateway');
    this.dns = this.root.getByTestId('network-summary-dns');
    this.labels = this.root.getByTestId('network-summary-labels');
    this.members = this.root.getByTestId('network-member');
    this.inspectTab = this.root.getByTestId('network-tab-inspect');
    this.inspectPanel = this.root.getByTestId('network-panel-inspect');
  }

  member(name) {
    return this.root.locator(`[data-testid="network-member"][data-name="${name}"]`);
  }
}
