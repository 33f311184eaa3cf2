// The file dialogs of the Images and Containers panes: Save (an image's row), Load and Import
// (the Images header), Export (a container's row). Each has a path field, a submit button, an
// error under the field and a success line, then Close.

class FileDialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page, name) {
    this.page = page;
    this.root = page.getByTestId(`${name}-dialog`);
    this.path = this.root.getByTestId(`${name}-path`);
    this.submit = page.getByTestId(`${name}-submit`);
    this.error = this.root.getByTestId(`${name}-error`);
    this.success = this.root.getByTestId(`${name}-success`);
    this.closeButton = page.getByTestId(`${name}-close`);
  }

  async close() {
    await this.closeButton.click();
    await this.root.waitFor({ state: 'detached' });
  }
}

export class SaveDialog extends FileDialog {
  constructor(page) {
    super(page, 'save');
    this.dockerFormat = this.root.getByTestId('save-format-docker');
    this.ociFormat = this.root.getByTestId('save-format-oci');
  }

  /** @param {string} path @param {'docker-archive' | 'oci-archive'} format */
  async save(path, format = 'docker-archive') {
    await (format === 'oci-archive' ? this.ociFormat : this.dockerFormat).check();
    await this.path.fill(path);
    await this.submit.click();
  }
}

export class LoadDialog extends FileDialog {
  constructor(page) {
    super(page, 'load');
    this.results = this.root.getByTestId('load-result');
  }

  async load(path) {
    await this.path.fill(path);
    await this.submit.click();
  }
}

export class ImportDialog extends FileDialog {
  constructor(page) {
    super(page, 'import');
    this.name = this.root.getByTestId('import-name');
    this.command = this.root.getByTestId('import-command');
  }

  /** @param {string} path @param {{ name?: string, command?: string }} options */
  async import(path, { name = '', command = '' } = {}) {
    await this.path.fill(path);
    await this.name.fill(name);
    await this.command.fill(command);
    await this.submit.click();
  }
}

export class ExportDialog extends FileDialog {
  constructor(page) {
    super(page, 'export');
  }

  async export(path) {
    await this.path.fill(path);
    await this.submit.click();
  }
}
