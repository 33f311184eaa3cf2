// The Health tab: the container's health, its check, the last results, "Run check now".

export class HealthTab {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('health-tab');
    this.health = this.root.getByTestId('container-health');
    this.none = this.root.getByTestId('health-none');
    this.streak = this.root.getByTestId('health-streak');
    this.command = this.root.getByTestId('health-command');
    this.interval = this.root.getByTestId('health-interval');
    this.retries = this.root.getByTestId('health-retries');
    this.onFailure = this.root.getByTestId('health-on-failure');
    this.results = this.root.getByTestId('health-result');
    this.outputs = this.root.getByTestId('health-output');
    this.runButton = this.root.getByTestId('health-run');
  }

  /** The start of each result's row (its time), newest first. */
  async times() {
    return this.results.locator('td:first-child').allTextContents();
  }
}
