// A container's details, opened from its row: the tabs (Summary, Logs, Health, Inspect,
// Terminal, Files), Clone, Edit and "Back". Each tab's panel is a page object of its own.

import { CreateForm } from './create-form.mjs';
import { FilesTab } from './files-tab.mjs';
import { HealthTab } from './health-tab.mjs';
import { InspectTab } from './inspect-tab.mjs';
import { LogsViewer } from './logs-viewer.mjs';
import { TerminalTab } from './terminal-tab.mjs';

export class ContainerDetails {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('container-details');
    this.name = this.root.getByTestId('details-name');
    this.backButton = this.root.getByTestId('details-back');
    this.summary = this.root.getByTestId('details-summary');
    this.copyRunButton = this.root.getByTestId('details-copy-run');
    this.runCommand = this.root.getByTestId('details-run-command');
    this.portLinks = this.root.getByTestId('details-port-link');
  }

  tab(id) {
    return this.root.getByTestId(`details-tab-${id}`);
  }

  panel(id) {
    return this.root.getByTestId(`details-panel-${id}`);
  }

  /** Waits for the details of the container named `name`. */
  async waitFor(name) {
    await this.root.waitFor();
    await this.name.and(this.page.getByText(name, { exact: true })).waitFor();
    return this;
  }

  async logs() {
    await this.tab('logs').click();
    const viewer = new LogsViewer(this.page);
    await viewer.root.waitFor();
    return viewer;
  }

  async health() {
    await this.tab('health').click();
    const tab = new HealthTab(this.page);
    await tab.root.waitFor();
    return tab;
  }

  async terminal() {
    await this.tab('terminal').click();
    const terminal = new TerminalTab(this.page);
    await terminal.root.waitFor();
    return terminal;
  }

  async inspect() {
    await this.tab('inspect').click();
    const tree = new InspectTab(this.page);
    await tree.root.waitFor();
    return tree;
  }

  async files() {
    await this.tab('files').click();
    const tab = new FilesTab(this.page);
    await tab.table.waitFor();
    return tab;
  }

  /** Clone (or Edit, `edit`): the create form filled from this container's options. */
  async clone(edit = false) {
    await this.root.getByTestId(edit ? 'details-edit' : 'details-clone').click();
    const form = new CreateForm(this.page);
    await form.root.waitFor();
    return form;
  }

  async back() {
    await this.backButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}
