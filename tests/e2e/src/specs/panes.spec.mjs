// What a Podman Desktop user looks for, in a real browser against the real app and engine
// (issue 20): the Dashboard (Ctrl+0) with the engine, the counts, `berth system df`'s figures
// (checked against the command's JSON) and the host's and the containers' load, live as
// containers come and go; the command palette (Ctrl+K), keyboard only: a pane, a container, its
// Stop and Remove, the pull dialog; "Copy as berth run" in a container's details, whose line,
// run as copied (another name and port), makes a container with the same settings that serves
// the same page; a published port in the details opening that page; a pull cancelled from its
// dialog while a layer downloads (through a proxy that slows the registry's blobs), which
// leaves no image, no partial download and no staged layer. Screenshots at 1200 px.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { CommandPalette } from '../model/pages/command-palette.mjs';
import { ContainerDetails } from '../model/pages/container-details.mjs';
import { DashboardPage } from '../model/pages/dashboard-page.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { contrastFailures } from '../utility/contrast.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { slowRegistry } from '../utility/slow-registry.mjs';
import { freePort, get, waitFor, waitForText } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const SPIN = 'e2e-dash-spin';
const IDLE = 'e2e-dash-idle';
const VOL = 'e2e-dash-vol';
const SRC = 'e2e-run-src';
const COPY = 'e2e-run-copy';
const RUN_VOL = 'e2e-run-vol';
const BIG = 'e2e-big';


/** Both themes, as Settings sets them; then back to the system's. */
async function inBothThemes(page, fn) {
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.waitForTimeout(200);
    await fn(theme);
  }
  await page.evaluate(() => delete document.documentElement.dataset.theme);
}

const lines = (out) => out.split('\n').filter((l) => l.trim() !== '').length;

/** `berth system df --format json`'s lines by type, as numbers. */
async function systemDf() {
  const rows = JSON.parse(await berth('system', 'df', '--format', 'json'));
  const by = (type) => {
    const r = rows.find((x) => x.Type === type);
    return { total: r.Total, active: r.Active, size: r.RawSize, reclaimable: r.RawReclaimable };
  };
  return { images: by('Images'), containers: by('Containers'), volumes: by('Local Volumes') };
}

describe('the pages a Podman Desktop user looks for', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;

  before(async () => {
    await berth('pull', image);
    // A container whose volume holds 300 kB, spinning a core: the disk and the load show it.
    await berth('run', '-d', '--name', SPIN, '-v', `${VOL}:/data`, image,
      'sh', '-c', 'dd if=/dev/zero of=/data/blob bs=1k count=300 2>/dev/null; while :; do :; done');
    browser = await launchBrowser({ width: 1200, height: 800 });
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    for (const name of [SPIN, IDLE, SRC, COPY, BIG]) await berth('rm', '-f', name).catch(() => {});
    for (const v of [VOL, RUN_VOL]) await berth('volume', 'rm', '-f', v).catch(() => {});
  });

  it('the Dashboard shows the engine, the counts and system df, live', async () => {
    // Ctrl+0 from another pane; the other panes keep their digits.
    await app.containers();
    await app.page.keyboard.press('Control+0');
    const dash = new DashboardPage(app.page);
    await dash.root.waitFor();
    assert.equal(await app.route(), '#/dashboard');

    assert.equal((await dash.version.textContent()).trim(), (await berth('version', '--format', '{{.Client.Version}}')).trim());
    assert.equal((await dash.storageRoot.textContent()).trim(), env.root);
    assert.match(await dash.mode.textContent(), /^rootful/);

    const counts = async () => ({
      containers: `${lines(await berth('ps', '-q'))} / ${lines(await berth('ps', '-a', '-q'))}`,
      images: String(lines(await berth('images', '-q'))),
      volumes: String(lines(await berth('volume', 'ls', '-q'))),
      networks: String(lines(await berth('network', 'ls', '-q'))),
    });
    const want = await counts();
    assert.match(want.containers, /^[1-9]\d* \/ [1-9]/);
    for (const [pane, value] of Object.entries(want)) await waitForText(dash.count(pane), value);

    // system df's figures, as the command computes them.
    const df = await systemDf();
    assert.ok(df.volumes.size >= 300 * 1024, `the volume holds the 300 kB written: ${JSON.stringify(df.volumes)}`);
    for (const key of ['images', 'containers', 'volumes']) {
      await waitFor(`the ${key} line of system df`, async () => {
        const got = await dash.diskLine(key);
        assert.deepEqual(got, df[key]);
        return true;
      });
    }
    const total = await dash.diskLine('total');
    assert.equal(total.size, df.images.size + df.containers.size + df.volumes.size);

    // The host's load, and the spinning container's share of it, sampled while shown.
    await waitFor('the host and the containers load', async () => {
      const host = Number((await dash.cpuHost.textContent()).replace('%', ''));
      const ctrs = Number((await dash.cpuContainers.textContent()).replace('%', ''));
      return host > 0 && ctrs > 0;
    }, { timeout: 20_000 });
    assert.match(await dash.memHost.textContent(), /^\d[\d.]* [kMGT]?B$/);
    assert.notEqual((await dash.memContainers.textContent()).trim(), '0 B');

    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `dashboard-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the Dashboard in the ${theme} theme`);
    });

    // Live: a container made by the CLI counts without a reload, and in system df.
    await berth('run', '-d', '--name', IDLE, image, 'sleep', '600');
    const after = await counts();
    await waitForText(dash.count('containers'), after.containers);
    await waitFor('the new container in system df', async () => (await dash.diskLine('containers')).total === df.containers.total + 1);

    // A card opens its pane.
    await dash.card('volumes').click();
    assert.equal(await app.route(), '#/volumes');
  });

  it('the command palette finds panes, containers and actions, keyboard only', async () => {
    const palette = new CommandPalette(app.page);
    const idle = (await berth('inspect', '--format', '{{.Id}}', IDLE)).trim();

    // A pane, by a fuzzy name.
    await palette.open();
    await palette.search('ntwk');
    assert.equal(await palette.activeKey(), 'pane:networks');
    await app.page.screenshot({ path: join(shots, 'palette-1200.png') });
    await app.page.keyboard.press('Enter');
    await palette.root.waitFor({ state: 'detached' });
    assert.equal(await app.route(), '#/networks');

    // Esc closes it and changes nothing.
    await palette.open();
    assert.equal(await palette.activeKey(), 'create');
    await app.page.screenshot({ path: join(shots, 'palette-empty-1200.png') });
    await app.page.keyboard.press('Escape');
    await palette.root.waitFor({ state: 'detached' });
    assert.equal(await app.route(), '#/networks');

    // A container, by a part of its name: its details.
    await palette.open();
    await palette.search('dash idle');
    assert.equal(await palette.activeKey(), `container:${idle}`);
    await app.page.keyboard.press('Enter');
    await new ContainerDetails(app.page).waitFor(IDLE);

    // Its Stop, the arrows' way: the open container's actions are the selected container's.
    await palette.open();
    await palette.search('dash idle');
    await app.page.keyboard.press('ArrowDown');
    assert.equal(await palette.activeKey(), `stop:${idle}`);
    await app.page.keyboard.press('ArrowUp');
    assert.equal(await palette.activeKey(), `container:${idle}`);
    await app.page.keyboard.press('ArrowDown');
    await app.page.keyboard.press('Enter');
    await waitFor('the container stopped', async () => (await berth('inspect', '--format', '{{.State.Status}}', IDLE)).trim() === 'exited', { timeout: 30_000 });
    await app.toasts.filter({ hasText: `Stopped ${IDLE}` }).waitFor();

    // Nothing matches: said so; then the pull dialog, from its action.
    await palette.open();
    await palette.search('qqqq');
    await palette.empty.waitFor();
    await palette.search('pull');
    assert.equal(await palette.activeKey(), 'pull');
    await app.page.keyboard.press('Enter');
    await app.page.getByTestId('pull-dialog').waitFor();
    await app.page.keyboard.press('Escape');
    await app.page.getByTestId('pull-dialog').waitFor({ state: 'detached' });

    // Remove, after the confirmation.
    await palette.open();
    await palette.search(`remove ${IDLE}`);
    assert.equal(await palette.activeKey(), `remove:${idle}`);
    await app.page.keyboard.press('Enter');
    await app.page.getByTestId('confirm-ok').click();
    await waitFor('the container gone', async () => !(await berth('ps', '-a', '--format', '{{.Names}}')).split('\n').includes(IDLE));
    // Its details close once the removal answered.
    await waitFor('the list again', async () => (await app.route()) === '#/containers');
    await app.toasts.filter({ hasText: `Removed ${IDLE}` }).waitFor();

    // In the list, the row under the cursor is the selected container: its actions come first.
    const spin = (await berth('inspect', '--format', '{{.Id}}', SPIN)).trim();
    await app.page.keyboard.press('Control+1');
    await app.page.locator(`[data-testid="container-row"][data-id="${spin}"]`).click({ position: { x: 60, y: 10 } });
    await palette.open();
    assert.equal(await palette.activeKey(), `stop:${spin}`);
    await app.page.keyboard.press('Escape');
    await palette.root.waitFor({ state: 'detached' });
  });

  it('copies a container as its berth run command, which makes the same container again', async () => {
    const [port, copyPort] = [await freePort(), await freePort()];
    await berth('run', '-d', '--name', SRC, '-p', `${port}:80`, '-e', 'GREETING=hello world',
      '-v', `${RUN_VOL}:/data`, '--restart', 'on-failure:2', '--label', 'app=shop', '--label', "note=it's on",
      '--workdir', '/etc', '--hostname', 'webhost', image,
      'sh', '-c', 'mkdir -p /www && echo "$GREETING" > /www/index.html && exec httpd -f -p 80 -h /www');
    const id = (await berth('inspect', '--format', '{{.Id}}', SRC)).trim();
    await app.page.evaluate((i) => (location.hash = `#/containers/${i}/summary`), id);
    const details = await new ContainerDetails(app.page).waitFor(SRC);

    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(env.url).origin });
    await details.copyRunButton.click();
    await app.toasts.filter({ hasText: 'Copied the berth run command' }).waitFor();
    const copied = await app.page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, (await details.runCommand.textContent()).trim());
    assert.ok(copied.startsWith(`berth run -d --name ${SRC} `), copied);
    assert.ok(copied.includes(`'GREETING=hello world'`), copied);
    assert.ok(copied.includes(`'note=it'\\''s on'`), copied);
    await app.page.screenshot({ path: join(shots, 'details-run-command-1200.png') });

    // The published port opens its page.
    const [tab] = await Promise.all([browser.context.waitForEvent('page'), details.portLinks.first().click()]);
    assert.equal(new URL(tab.url()).port, String(port));
    await waitFor('the page the port serves', async () => (await tab.textContent('body'))?.includes('hello world'));
    await tab.close();

    // Run as copied, with another name and port, through a shell as a user would paste it.
    const line = copied
      .replace(/^berth /, `${env.berth} `)
      .replace(`--name ${SRC}`, `--name ${COPY}`)
      .replace(`--publish ${port}:80/tcp`, `--publish ${copyPort}:80/tcp`);
    assert.notEqual(line, copied.replace(/^berth /, `${env.berth} `));
    await promisify(execFile)('sh', ['-c', line], { env: process.env });
    const [a, b] = [JSON.parse(await berth('inspect', SRC))[0], JSON.parse(await berth('inspect', COPY))[0]];
    for (const path of [['Config', 'Env'], ['Config', 'Labels'], ['Config', 'Cmd'], ['Config', 'WorkingDir'], ['Config', 'Hostname'], ['HostConfig', 'RestartPolicy'], ['ImageName']]) {
      const at = (o) => path.reduce((v, k) => v?.[k], o);
      assert.deepEqual(at(b), at(a), path.join('.'));
    }
    assert.deepEqual(b.Mounts.map((m) => [m.Name, m.Destination]), a.Mounts.map((m) => [m.Name, m.Destination]));
    await waitFor('the copy serving the page', async () => (await get(`http://127.0.0.1:${copyPort}/`)).body === 'hello world\n');
  });

  it('cancels a pull from its dialog, leaving no partial download', async () => {
    // An image with an 8 MB layer of random bytes in the registry, and not here.
    const ref = `${process.env.E2E_REGISTRY}/e2e/big:1`;
    await berth('run', '--name', BIG, image, 'sh', '-c', 'head -c 8000000 /dev/urandom > /big');
    await berth('commit', BIG, ref);
    await berth('push', ref);
    await berth('rm', BIG);
    await berth('rmi', ref);
    const proxy = await slowRegistry(process.env.E2E_REGISTRY, 256 * 1024);
    try {
      // The proxy speaks plain HTTP, as the registry does: allowed as the settings allow it.
      await app.page.evaluate(async (host) => {
        const r = await fetch('/api/invoke/set_registry', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host, insecure: true }) });
        if (!r.ok) throw new Error(await r.text());
      }, proxy.addr);
      const slow = `${proxy.addr}/e2e/big:1`;
      const ingest = join(env.root, 'ingest');
      const partial = () => readdirSync(ingest).filter((f) => f.endsWith('.data'));
      const staged = () => readdirSync(join(env.root, 'layers')).filter((f) => f.startsWith('.tmp-'));

      const images = await app.images();
      await images.pullButton.click();
      const dialog = app.page.getByTestId('pull-dialog');
      await dialog.getByTestId('pull-reference').fill(slow);
      await dialog.getByTestId('pull-submit').click();
      await dialog.locator('[data-phase="downloading"]').first().waitFor({ timeout: 30_000 });
      await waitFor('a partial download in the store', () => partial().length > 0);
      await app.page.screenshot({ path: join(shots, 'pull-cancel-1200.png') });
      await dialog.getByTestId('pull-cancel').click();
      await dialog.getByTestId('pull-cancelled').waitFor({ timeout: 15_000 });

      assert.deepEqual(partial(), [], 'no partial download is left');
      assert.deepEqual(staged(), [], 'no staged layer is left');
      assert.equal((await berth('images', '--format', '{{.Repository}}')).includes('e2e/big'), false);
      // The dialog can pull again; Close ends it.
      assert.equal(await dialog.getByTestId('pull-submit').isEnabled(), true);
      await app.page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    } finally {
      proxy.close();
    }
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
