// The Dashboard (Ctrl+0): the counts, the engine, the host's load and the disk use.

export class DashboardPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('dashboard');
    this.version = page.getByTestId('dashboard-version');
    this.mode = page.getByTestId('dashboard-mode');
    this.storageRoot = page.getByTestId('dashboard-root');
    this.cpuHost = page.getByTestId('dashboard-cpu-host');
    this.cpuContainers = page.getByTestId('dashboard-cpu-containers');
    this.memHost = page.getByTestId('dashboard-mem-host');
    this.memContainers = page.getByTestId('dashboard-mem-containers');
    this.disk = page.getByTestId('dashboard-disk');
  }

  /** The value of a count card: `containers` ("RUNNING / TOTAL"), `images`, `volumes`, `networks`. */
  count(pane) {
    return this.page.getByTestId(`dashboard-count-${pane}-value`);
  }

  /** A count card, which opens its pane. */
  card(pane) {
    return this.page.getByTestId(`dashboard-count-${pane}`);
  }

  /** A `system df` line (`images`, `containers`, `volumes`, `total`) as numbers. */
  async diskLine(key) {
    const row = this.page.getByTestId(`dashboard-disk-${key}`);
    const n = async (a) => Number(await row.getAttribute(`data-${a}`));
    return { total: await n('total'), active: await n('active'), size: await n('size'), reclaimable: await n('reclaimable') };
  }
}
