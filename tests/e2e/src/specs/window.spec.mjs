// The real app window (Tauri, WebKitGTK) under Xvfb, driven through tauri-driver: it opens on
// the Containers pane of the run's storage root, and the navigation switches panes; the
// Dashboard (Ctrl+0) counts what `berth` lists, the Pods pane (Ctrl+5) shows a pod made by
// `berth pod create` with its infra container, the command palette (Ctrl+K) goes to a pane by
// its name, and a running container's Files tab lists its /etc (issue 20).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { remote } from 'webdriverio';
import { BerthWindow } from '../model/pages/window.mjs';
import { berth } from '../utility/berth.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';

const shots = screenshotsDir();
const PROBE = 'window-probe';
const RUNNING = 'window-files';
const POD = 'window-pod';

/** The number of non-empty lines. */
const lines = (out) => out.split('\n').filter((l) => l.trim() !== '').length;

describe('the desktop window', () => {
  /** @type {WebdriverIO.Browser} */
  let browser;
  /** @type {BerthWindow} */
  let win;

  before(async () => {
    // Something of this run's own storage root for the window to show.
    await berth('pull', '-q', env.image);
    await berth('create', '--name', PROBE, env.image, 'true');
    await berth('run', '-d', '--name', RUNNING, env.image, 'sleep', '1000');
    await berth('pod', 'create', '--name', POD);
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
    await berth('rm', '-f', PROBE, RUNNING).catch(() => {});
    await berth('pod', 'rm', '-f', POD).catch(() => {});
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

  it("the Dashboard (Ctrl+0) counts what berth lists", async () => {
    await win.press('Control', '0');
    await win.byTestId('dashboard').waitForDisplayed();
    assert.equal(await win.route(), '#/dashboard');
    const want = {
      containers: `${lines(await berth('ps', '-q'))} / ${lines(await berth('ps', '-a', '-q'))}`,
      images: String(lines(await berth('images', '-q'))),
      volumes: String(lines(await berth('volume', 'ls', '-q'))),
      networks: String(lines(await berth('network', 'ls', '-q'))),
    };
    // the probe and the running busybox at least
    assert.match(want.containers, /^[1-9]\d* \/ ([2-9]|\d\d)/);
    for (const [pane, value] of Object.entries(want)) {
      let shown = '';
      await browser
        .waitUntil(async () => (shown = (await win.dashboardCount(pane).getText()).trim()) === value)
        .catch(() => assert.equal(shown, value, `the ${pane} count`));
    }
    assert.equal((await win.byTestId('dashboard-root').getText()).trim(), env.root);
    await win.screenshot(join(shots, 'window-dashboard.png'));
  });

  it('the Pods pane (Ctrl+5) shows a pod made by berth, its details its infra container', async () => {
    const infra = (await berth('ps', '-a', '--pod', '--filter', `pod=${POD}`, '--format', '{{.Names}}')).trim();
    assert.match(infra, /-infra$/);
    await win.press('Control', '5');
    await win.waitForRoute('#/pods');
    await win.podRow(POD).waitForDisplayed({ timeout: 10_000 });
    assert.equal((await win.podRow(POD).$('[data-testid="pod-containers"]').getText()).trim(), '1');
    await win.podRow(POD).$('[data-testid="pod-open"]').click();
    await win.podMember(infra).waitForDisplayed();
    assert.equal(await win.podMember(infra).$('.tag').getText(), 'infra');
    await win.byTestId('pod-details-back').click();
    await win.podRow(POD).waitForDisplayed();
  });

  it('the command palette (Ctrl+K) goes to a pane by its name', async () => {
    await win.press('Control', 'k');
    const input = win.byTestId('palette-input');
    await input.waitForDisplayed();
    await browser.waitUntil(async () => await input.isFocused(), { timeoutMsg: 'the palette holds the focus' });
    await browser.keys('volumes');
    await browser.waitUntil(async () => (await win.paletteActive.getAttribute('data-key')) === 'pane:volumes', {
      timeoutMsg: 'Volumes under the cursor',
    });
    await browser.keys('Enter');
    await win.byTestId('palette').waitForExist({ reverse: true });
    await win.waitForRoute('#/volumes');
  });

  it("the status bar's Tasks button opens the Tasks panel", async () => {
    await win.byTestId('tasks-button').click();
    await win.byTestId('tasks-panel').waitForDisplayed();
    // Nothing was pulled or built from this window: the panel says what it will show.
    await win.byTestId('tasks-empty').waitForDisplayed();
    await win.byTestId('tasks-button').click();
    await win.byTestId('tasks-panel').waitForExist({ reverse: true });
  });

  it("a running container's Files tab lists its /etc", async () => {
    await win.navContainers.click();
    await win.containerRow(RUNNING).$('[data-testid="container-open"]').click();
    await win.byTestId('details-tab-files').click();
    await win.fileRow('/', 'etc').waitForDisplayed({ timeout: 10_000 });
    await win.fileRow('/', 'etc').$('[data-testid="file-open"]').click();
    await win.fileRow('/etc', 'passwd').waitForDisplayed();
    await win.fileRow('/etc', 'group').waitForDisplayed();
    assert.match(await win.route(), /^#\/containers\/[0-9a-f]+\/files$/);
    await win.screenshot(join(shots, 'window-files.png'));
  });
});
