// The Volumes pane (only what the keyboard spec needs: that it is the one showing).

export class VolumesPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.createButton = page.getByTestId('volume-create');
    this.table = page.getByTestId('volumes-table');
    this.search = page.getByTestId('volume-search');
  }
}
