// The real app window (Tauri, WebKitGTK) under Xvfb, driven through tauri-driver: it opens on
// the Containers pane of the run's storage root, and the navigation switches panes.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { remote } from 'webdriverio';
import { BerthWindow } from '../model/pages/window.mjs';
import { berth } from '../utility/berth.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';

const shots = screenshotsDir();
const PROBE = 'window-probe';

describe('the desktop window', () => {
  /** @type {WebdriverIO.Browser} */
  let browser;
  /** @type {BerthWindow} */
  let win;

  before(async () => {
    // Something of this run's own storage root for the window to show.
    await berth('pull', '-q', env.image);
    await berth('create', '--name', PROBE, env.image, 'true');
    browser = await remote({
      hostname: '127.0.0.1',
      port: env.driverPort,
      logLevel: 'error',
      connectionRetryTimeout: 120_000,
      waitforTimeout: 20_000, // a loaded CI machine
      capabilities: {
        'wdio:enforceWebDriverClassic': true,
        'tauri:options': { application: env.application },
      },
    });
    win = new BerthWindow(browser);
  });

  after(async () => {
    await browser?.deleteSession();
    await berth('rm', '-f', PROBE).catch(() => {});
  });

  it('opens on the Containers pane with the navigation', async () => {
    await win.navContainers.waitForDisplayed({ timeout: 30_000 });
    await win.navImages.waitForDisplayed();
    await win.containersTable.waitForDisplayed();
    assert.equal(await win.navContainers.getAttribute('aria-current'), 'page');
    assert.equal(await browser.getTitle(), 'Berth');
  });

  it("shows the run's storage root and its container", async () => {
    await win.waitForEngine();
    assert.equal(await win.engineStatus.getAttribute('title'), `storage ${env.root}`);
    await win.containerRow(PROBE).waitForDisplayed({ timeout: 10_000 });
    await win.screenshot(join(shots, 'window-containers.png'));
  });

  it('switches to the Images pane', async () => {
    await win.navImages.click();
    await win.pullButton.waitForDisplayed();
    await win.imageRow(env.image).waitForDisplayed({ timeout: 10_000 });
    assert.equal(await win.navImages.getAttribute('aria-current'), 'page');
    await win.screenshot(join(shots, 'window-images.png'));
    await win.navContainers.click();
    await win.containerRow(PROBE).waitForDisplayed();
  });
});
