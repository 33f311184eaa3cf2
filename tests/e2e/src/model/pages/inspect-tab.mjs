// The Inspect tab: the container's inspect JSON as a tree, its search and match count.

export class InspectTab {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('inspect-tree');
    this.search = this.root.getByTestId('inspect-search');
    this.matchCount = this.root.getByTestId('inspect-match-count');
    this.nodes = this.root.getByTestId('inspect-node');
    this.activeNode = this.root.locator('[data-testid="inspect-node"][data-active="true"]');
    this.expandAllButton = this.root.getByTestId('inspect-expand-all');
    this.collapseAllButton = this.root.getByTestId('inspect-collapse-all');
  }

  /** The node at `path` (as `data-path` names it). */
  node(path) {
    return this.root.locator(`[data-testid="inspect-node"][data-path="${path}"]`);
  }
}
