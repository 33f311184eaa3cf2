// The Play dialogs: Play Kubernetes YAML (a file's path or pasted YAML, --replace, --start;
// what it made, or the engine's refusal; Take down) and Run a compose file (its path, Up and
// Down, the provider's output on xterm.js, Cancel while it runs).

import { xtermScreen } from './xterm.mjs';

export class PlayKubeDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('play-kube-dialog');
    this.fileSource = this.root.getByTestId('play-kube-source-file');
    this.pasteSource = this.root.getByTestId('play-kube-source-paste');
    this.path = this.root.getByTestId('play-kube-path');
    this.yaml = this.root.getByTestId('play-kube-yaml');
    this.replace = this.root.getByTestId('play-kube-replace');
    this.start = this.root.getByTestId('play-kube-start');
    this.error = this.root.getByTestId('play-kube-error');
    this.result = this.root.getByTestId('play-kube-result');
    this.playedPods = this.root.getByTestId('played-pod');
    this.removed = this.root.getByTestId('play-kube-removed');
    this.submit = page.getByTestId('play-kube-submit');
    this.downButton = page.getByTestId('play-kube-down');
    this.closeButton = page.getByTestId('play-kube-close');
  }

  /** The listed pod named `name`, with its containers' names in `played-containers`. */
  playedPod(name) {
    return this.root.locator(`[data-testid="played-pod"][data-name="${name}"]`);
  }

  async play() {
    await this.submit.click();
  }

  async takeDown() {
    await this.downButton.click();
  }

  async close() {
    await this.closeButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}

export class ComposeDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('compose-dialog');
    this.file = this.root.getByTestId('compose-file');
    this.error = this.root.getByTestId('compose-error');
    this.log = xtermScreen(this.root.getByTestId('compose-log'));
    this.done = this.root.getByTestId('compose-done');
    this.cancelled = this.root.getByTestId('compose-cancelled');
    this.upButton = page.getByTestId('compose-up');
    this.downButton = page.getByTestId('compose-down');
    this.cancelButton = page.getByTestId('compose-cancel');
    this.closeButton = page.getByTestId('compose-close');
  }

  async up() {
    await this.upButton.click();
  }

  async down() {
    await this.downButton.click();
  }

  async close() {
    await this.closeButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}
