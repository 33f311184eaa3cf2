// Long work as tasks (issue 20), in a real browser against the real app and engine: a pull
// started from the Pull dialog goes on when the dialog is closed and ends in the Tasks panel
// (the status bar's button counts it while it runs); a running pull cancelled from the panel
// leaves no partial download (through a proxy that slows the registry's blobs, so the cancel
// lands while a layer downloads); and the logs toolbar fits one row in a 1200 px window.
// Screenshots at 960, 1200 and 1440 px.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { ContainerDetails } from '../model/pages/container-details.mjs';
import { PullDialog } from '../model/pages/pull-dialog.mjs';
import { TasksPanel } from '../model/pages/tasks-panel.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { slowRegistry } from '../utility/slow-registry.mjs';
import { waitFor } from '../utility/wait.mjs';

const shots = screenshotsDir();
const BIG = 'e2e-tasks-big';
const CHATTY = 'e2e-tasks-logs';

describe('tasks', () => {
  let browser;
  let app;
  let proxy;
  let big;

  before(async () => {
    // An image with a 6 MB layer of random bytes in the registry, and not here; the proxy sends
    // blobs at 512 kB/s, so its pull takes a dozen seconds.
    big = `${process.env.E2E_REGISTRY}/e2e/tasks-big:1`;
    await berth('rm', '-f', BIG).catch(() => {});
    await berth('run', '--name', BIG, env.image, 'sh', '-c', 'head -c 6000000 /dev/urandom > /big');
    await berth('commit', BIG, big);
    await berth('push', big);
    await berth('rm', BIG);
    await berth('rmi', big);
    proxy = await slowRegistry(process.env.E2E_REGISTRY, 512 * 1024);
    browser = await launchBrowser({ width: 1200, height: 800 });
    app = await new BerthApp(await browser.newPage()).open(env.url);
    // The proxy speaks plain HTTP, as the registry does: allowed as the settings allow it.
    await app.page.evaluate(async (host) => {
      const r = await fetch('/api/invoke/set_registry', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host, insecure: true }) });
      if (!r.ok) throw new Error(await r.text());
    }, proxy.addr);
  });

  after(async () => {
    proxy?.close();
    await browser?.close();
    await berth('rm', '-f', CHATTY).catch(() => {});
    await berth('rmi', '-f', `${proxy.addr}/e2e/tasks-big:1`).catch(() => {});
  });

  it('a pull goes on when its dialog closes, and ends in the Tasks panel', async () => {
    const slow = `${proxy.addr}/e2e/tasks-big:1`;
    const tasks = new TasksPanel(app.page);
    await (await app.images()).pullButton.click();
    const dialog = new PullDialog(app.page);
    await dialog.pull(slow);
    await dialog.root.locator('[data-phase="downloading"]').first().waitFor({ timeout: 30_000 });
    await app.page.getByTestId('pull-hide').click();
    await dialog.root.waitFor({ state: 'detached' });

    assert.equal(await tasks.count.textContent(), '1');
    await tasks.open();
    const task = tasks.task(`Pull ${slow}`);
    assert.equal(await task.state(), 'running');
    assert.match(await task.progress.textContent(), /^\d of \d layers · [\d.]+ [kMG]?B \/ [\d.]+ [kMG]?B$/);
    assert.equal(await task.cancel.isVisible(), true);
    await app.page.screenshot({ path: join(shots, 'tasks-running-1200.png') });

    await task.waitForState('done', 60_000);
    assert.match(await task.progress.textContent(), /^(\d) of \1 layers/);
    assert.match(await task.elapsed.textContent(), /^\d+s$/);
    assert.equal(await task.cancel.count(), 0);
    assert.equal(await tasks.count.count(), 0, 'no task runs: the button shows no count');
    assert.ok((await berth('images', '--format', '{{.Repository}}')).includes('e2e/tasks-big'));
    await app.page.screenshot({ path: join(shots, 'tasks-done-1200.png') });

    await tasks.clearButton.click();
    await app.page.getByTestId('tasks-empty').waitFor();
    await tasks.close();
    await berth('rmi', slow);
  });

  it('cancels a running pull from the Tasks panel, leaving no partial download', async () => {
    const slow = `${proxy.addr}/e2e/tasks-big:1`;
    const ingest = join(env.root, 'ingest');
    const partial = () => readdirSync(ingest).filter((f) => f.endsWith('.data'));
    const tasks = new TasksPanel(app.page);
    await (await app.images()).pullButton.click();
    const dialog = new PullDialog(app.page);
    await dialog.pull(slow);
    await dialog.root.locator('[data-phase="downloading"]').first().waitFor({ timeout: 30_000 });
    await app.page.keyboard.press('Escape');
    await dialog.root.waitFor({ state: 'detached' });
    await waitFor('a partial download in the store', () => partial().length > 0);

    // From the palette this time.
    await app.page.keyboard.press('Control+k');
    await app.page.getByTestId('palette-input').fill('show tasks');
    await app.page.keyboard.press('Enter');
    await tasks.root.waitFor();
    const task = tasks.task(`Pull ${slow}`);
    await task.cancel.click();
    await task.waitForState('cancelled', 15_000);
    await app.page.screenshot({ path: join(shots, 'tasks-cancelled-1200.png') });
    assert.deepEqual(partial(), [], 'no partial download is left');
    assert.equal((await berth('images', '--format', '{{.Repository}}')).includes('e2e/tasks-big'), false);
    assert.equal(await tasks.count.count(), 0);
    await tasks.close();
  });

  it('fits the logs toolbar on one row at 1200 px', async () => {
    await berth('run', '-d', '--name', CHATTY, env.image, 'sh', '-c', 'while true; do echo tick; sleep 1; done');
    const id = (await berth('inspect', '--format', '{{.Id}}', CHATTY)).trim();
    const rows = async () =>
      app.page.evaluate(() => {
        const bar = document.querySelector('[data-testid="logs-viewer"] [data-testid="logs-toolbar"]');
        // Items are centred on their row: one row when their centres are within half a button.
        const centres = [...bar.children].filter((c) => c.getBoundingClientRect().width > 1).map((c) => (c.getBoundingClientRect().top + c.getBoundingClientRect().bottom) / 2);
        const button = bar.querySelector('[data-testid="logs-copy"]').getBoundingClientRect().height;
        return { height: bar.getBoundingClientRect().height, button, spread: Math.max(...centres) - Math.min(...centres) };
      });
    await app.page.evaluate((hash) => (location.hash = hash), `#/containers/${id}/logs`);
    const logs = await new ContainerDetails(app.page).logs();
    await logs.waitForFollowing();
    for (const width of [1440, 1200, 960]) {
      await app.page.setViewportSize({ width, height: 800 });
      await app.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const r = await rows();
      await app.page.screenshot({ path: join(shots, `logs-toolbar-${width}.png`) });
      if (width >= 1200) {
        assert.ok(r.spread < r.button / 2, `${width} px: the toolbar's items are on one row (centres ${r.spread} px apart)`);
        assert.ok(r.height < r.button * 1.5, `${width} px: the toolbar is one row high (${r.height} px, a button ${r.button} px)`);
      }
      // A search's count takes room too: at 1200 px it still fits.
      if (width === 1200) {
        await logs.find('tick');
        await waitFor('the count', async () => /loaded/.test(await logs.count.textContent()));
        const s = await rows();
        assert.ok(s.spread < s.button / 2 && s.height < s.button * 1.5, `1200 px with a search count: one row (${JSON.stringify(s)})`);
        await logs.search.fill('');
      }
    }
    await app.page.setViewportSize({ width: 1200, height: 800 });
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
