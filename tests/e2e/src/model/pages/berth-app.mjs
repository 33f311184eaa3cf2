// The app's frame: the left navigation and the header's engine status. Panes and dialogs are
// their own page objects, reached from here.

import { ContainersPage } from './containers-page.mjs';
import { DashboardPage } from './dashboard-page.mjs';
import { ImagesPage } from './images-page.mjs';
import { NetworksPage } from './networks-page.mjs';
import { PodsPage } from './pods-page.mjs';
import { VolumesPage } from './volumes-page.mjs';

export class BerthApp {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.navDashboard = page.getByTestId('nav-dashboard');
    this.navContainers = page.getByTestId('nav-containers');
    this.navImages = page.getByTestId('nav-images');
    this.navVolumes = page.getByTestId('nav-volumes');
    this.navNetworks = page.getByTestId('nav-networks');
    this.navPods = page.getByTestId('nav-pods');
    this.containersCount = page.getByTestId('nav-containers-count');
    this.imagesCount = page.getByTestId('nav-images-count');
    this.engineStatus = page.getByTestId('engine-status');
    this.toasts = page.getByTestId('toast');
  }

  /** Opens the app and waits until it talks to the engine. */
  async open(url) {
    await this.page.goto(url);
    await this.engineStatus.and(this.page.locator('[data-state="up"]')).waitFor();
    return this;
  }

  async dashboard() {
    await this.navDashboard.click();
    const pane = new DashboardPage(this.page);
    await pane.root.waitFor();
    return pane;
  }

  async containers() {
    await this.navContainers.click();
    const pane = new ContainersPage(this.page);
    await pane.toolbar.waitFor();
    return pane;
  }

  async images() {
    await this.navImages.click();
    const pane = new ImagesPage(this.page);
    await pane.pullButton.waitFor();
    return pane;
  }

  async volumes() {
    await this.navVolumes.click();
    const pane = new VolumesPage(this.page);
    await pane.createButton.waitFor();
    return pane;
  }

  async networks() {
    await this.navNetworks.click();
    const pane = new NetworksPage(this.page);
    await pane.createButton.waitFor();
    return pane;
  }

  async pods() {
    await this.navPods.click();
    const pane = new PodsPage(this.page);
    await pane.createButton.waitFor();
    return pane;
  }

  /** The route the app shows (`#/containers`, `#/images`, …). */
  async route() {
    return this.page.evaluate(() => location.hash);
  }

  /** The `data-testid` of the element holding the keyboard focus ('' when it has none). */
  async focusedTestId() {
    return this.page.evaluate(() => document.activeElement?.closest('[data-testid]')?.getAttribute('data-testid') ?? '');
  }
}
