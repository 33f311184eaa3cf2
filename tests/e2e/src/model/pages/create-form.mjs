// The create/run form: image, name, command, ports, environment, options.

export class CreateForm {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('create-dialog');
    this.image = this.root.getByTestId('create-image');
    this.name = this.root.getByTestId('create-name');
    this.entrypoint = this.root.getByTestId('create-entrypoint');
    this.command = this.root.getByTestId('create-command');
    this.portRows = this.root.getByTestId('port-row');
    this.envRows = this.root.getByTestId('env-row');
    this.start = this.root.getByTestId('create-start');
    this.submitButton = page.getByTestId('create-submit');
    this.error = this.root.getByTestId('create-error');
    this.health = this.root.getByTestId('create-health');
    this.healthCommand = this.root.getByTestId('create-health-cmd');
    this.healthInterval = this.root.getByTestId('create-health-interval');
    this.healthTimeout = this.root.getByTestId('create-health-timeout');
    this.healthRetries = this.root.getByTestId('create-health-retries');
    this.healthTimingError = this.root.getByTestId('create-health-timing-error');
  }

  /** Opens the healthcheck section (closed until asked). */
  async openHealthcheck() {
    if (!(await this.health.evaluate((d) => d.open))) await this.root.getByTestId('create-health-toggle').click();
    await this.healthCommand.waitFor();
  }

  /** Waits until the form has read the image (its default command is filled in). */
  async waitForImage(defaultCommand) {
    await this.page.waitForFunction(
      ([sel, want]) => document.querySelector(sel)?.value === want,
      ['[data-testid="create-dialog"] [data-testid="create-command"]', defaultCommand],
    );
  }

  async addPort({ host, container, protocol = 'tcp' }) {
    await this.root.getByTestId('add-port').click();
    const row = this.portRows.last();
    await row.getByTestId('port-host').fill(String(host));
    await row.getByTestId('port-container').fill(String(container));
    await row.getByTestId('port-protocol').selectOption(protocol);
  }

  async addEnv(name, value) {
    await this.root.getByTestId('env-add').click();
    const row = this.envRows.last();
    await row.getByTestId('env-key').fill(name);
    await row.getByTestId('env-value').fill(value);
  }

  async submit() {
    await this.submitButton.click();
  }
}
