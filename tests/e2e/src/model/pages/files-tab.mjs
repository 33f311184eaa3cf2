// The Files tab of a container's details, and the Browse dialog of a volume: the path, the
// rows of a directory, the read-only viewer, download and upload.

export class FilesTab {
  /** @param {import('playwright-core').Page} page @param {import('playwright-core').Locator} [root] */
  constructor(page, root) {
    this.page = page;
    this.root = root ?? page.getByTestId('files');
    this.table = this.root.getByTestId('files-table');
    this.path = this.root.getByTestId('files-path');
    this.rows = this.root.getByTestId('file-row');
    this.error = this.root.getByTestId('files-error');
    this.viewer = this.root.getByTestId('file-viewer');
    this.viewerText = this.root.getByTestId('file-viewer-text');
    this.viewerError = this.root.getByTestId('file-viewer-error');
    this.upload = this.root.getByTestId('files-upload');
  }

  row(name) {
    return this.rows.and(this.page.locator(`[data-name="${name}"]`));
  }

  /** Goes to `path` as typed in the path field, and waits for its listing. */
  async go(path) {
    await this.path.fill(path);
    await this.path.press('Enter');
    await this.page.locator(`[data-testid="files-table"][data-path="${path}"]`).waitFor();
  }

  /** Opens a file in the viewer (or enters a directory). */
  async open(name) {
    await this.row(name).getByTestId('file-open').click();
  }

  /** Downloads an entry; resolves with the Playwright download. */
  async download(name) {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.row(name).getByTestId('file-download').click()]);
    return download;
  }

  /** Uploads a file of `content` named `name` into the directory shown. */
  async uploadFile(name, content) {
    await this.upload.setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(content) });
    await this.row(name).waitFor({ timeout: 20_000 });
  }
}
