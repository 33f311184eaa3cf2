// The UI in a real browser against the real app (`berth-desktop --serve`) and engine: what a
// user does in the Images and Containers panes, end to end, and what they see.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { ContainersPage } from '../model/pages/containers-page.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { contrastFailures } from '../utility/contrast.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { freePort, get, waitFor } from '../utility/wait.mjs';

const shots = screenshotsDir();
const url = new URL(env.url);
const token = url.searchParams.get('token');
const image = env.image;
const NAME = 'e2e-web';
const GREETING = 'hello from the e2e test';

describe('the API without its token', () => {
  const invoke = (headers) =>
    fetch(new URL('/api/invoke/list_containers', url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });

  it('refuses a request without the token with 401 unauthorized', async () => {
    const res = await invoke({});
    assert.equal(res.status, 401);
    assert.equal((await res.json()).code, 'unauthorized');
  });

  it('refuses a wrong token and the event stream without one', async () => {
    assert.equal((await invoke({ authorization: 'Bearer 0123456789abcdef0123456789abcdef' })).status, 401);
    const stream = await fetch(new URL('/api/stream', url));
    assert.equal(stream.status, 401);
    await stream.body?.cancel();
  });

  it('answers the same request with the token', async () => {
    const res = await invoke({ authorization: `Bearer ${token}` });
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(await res.json()));
  });
});

describe('pull, run, stop and remove in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;
  let hostPort;
  // Where the app writes and reads the files of save, load, export and import.
  const files = mkdtempSync(join(tmpdir(), 'berth-e2e-files-'));
  chmodSync(files, 0o777);

  before(async () => {
    browser = await launchBrowser();
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
    rmSync(files, { recursive: true, force: true });
    if (browser.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
  });

  it('keeps the token out of the address: the first load moved it into an HttpOnly cookie', async () => {
    const shown = new URL(app.page.url());
    assert.equal(shown.searchParams.get('token'), null, `address ${shown}`);
    assert.equal(shown.origin, url.origin);
    const cookies = await app.page.context().cookies();
    const cookie = cookies.find((c) => c.name === `berth-token-${url.port}`);
    assert.ok(cookie, `the token's cookie, among ${cookies.map((c) => c.name)}`);
    assert.deepEqual([cookie.value, cookie.httpOnly, cookie.sameSite, cookie.path], [token, true, 'Strict', '/']);
    assert.equal(await app.page.evaluate(() => document.cookie), '', "the page's scripts cannot read it");
  });

  it('starts on an empty Containers pane', async () => {
    const containers = await app.containers();
    await containers.empty.waitFor();
    assert.equal(await app.containersCount.textContent(), '0');
  });

  it('pulls the registry image through the pull dialog, showing per-layer progress', async () => {
    const images = await app.images();
    await images.empty.waitFor();
    const dialog = await images.pull();
    await dialog.pull(image);
    await dialog.layers.first().waitFor();
    await dialog.success.waitFor({ timeout: 60_000 });
    assert.match(await dialog.success.textContent(), /Pulled .*e2e\/busybox/);
    const phases = await dialog.layers.evaluateAll((els) => els.map((e) => e.dataset.phase));
    assert.ok(phases.length >= 1, 'a progress row per layer');
    assert.deepEqual(new Set(phases), new Set(['done']), `every layer done, got ${phases}`);
    assert.equal(await dialog.error.textContent(), '');
    await app.page.screenshot({ path: join(shots, 'pull-dialog.png') });
    await dialog.close();
    await images.row(image).waitFor();
    assert.equal(await app.imagesCount.textContent(), '1');
    await app.page.screenshot({ path: join(shots, 'images.png') });
  });

  it('pushes the image from its row to another repository of the registry, and the registry has it', async () => {
    const images = await app.images();
    const dialog = await images.push(image);
    assert.equal(await dialog.destination.inputValue(), image, 'prefilled with the image name');
    const registry = image.split('/')[0];
    const destination = `${registry}/e2e/pushed:1`;
    await dialog.push(destination);
    await dialog.success.waitFor({ timeout: 60_000 });
    assert.match(await dialog.success.textContent(), new RegExp(`Pushed to ${destination}`));
    const phases = await dialog.layers.evaluateAll((els) => els.map((e) => e.dataset.phase));
    assert.ok(phases.length >= 1, 'a progress row per layer');
    assert.ok(phases.every((p) => ['done', 'exists', 'mounted'].includes(p)), `every layer there, got ${phases}`);
    assert.equal(await dialog.error.textContent(), '');
    await app.page.screenshot({ path: join(shots, 'push-dialog.png') });
    await dialog.close();
    const manifest = await fetch(`http://${registry}/v2/e2e/pushed/manifests/1`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(manifest.status, 200, 'the registry has the pushed tag');
  });

  it('saves the image to a file from its row, removes it, and loads it back from the file', async () => {
    const images = await app.images();
    const archive = join(files, 'busybox.tar');
    const save = await images.save(image);
    await save.save(archive, 'docker-archive');
    await save.success.waitFor({ timeout: 60_000 });
    assert.match(await save.success.textContent(), new RegExp(`Saved to ${archive}`));
    assert.equal(await save.error.textContent(), '');
    await app.page.screenshot({ path: join(shots, 'save-dialog.png') });
    await save.close();
    assert.ok(statSync(archive).size > 100_000, 'the archive holds the layers');

    // a relative path is refused before anything is written
    const again = await images.save(image);
    await again.save('busybox.tar');
    await waitFor('the path error', async () => /absolute path/.test(await again.error.textContent()));
    await app.page.getByTestId('save-dialog').getByTestId('dialog-close').click();

    const confirm = await images.remove(image);
    await confirm.confirm();
    await images.empty.waitFor();
    const load = await images.load();
    await load.load(archive);
    await load.results.first().waitFor({ timeout: 60_000 });
    assert.deepEqual(await load.results.allTextContents(), [`Loaded image: ${image}`]);
    await images.row(image).waitFor();
    await app.page.screenshot({ path: join(shots, 'load-dialog.png') });
    await load.close();
    assert.equal(await app.imagesCount.textContent(), '1');
    assert.match(await berth('images', '--format', '{{.Repository}}:{{.Tag}}'), new RegExp(image.replace(/[.]/g, '\\.')));
  });

  it("shows the image's details: its history with each step's command and size, and inspect", async () => {
    const images = await app.images();
    const details = await images.open(image);
    assert.match(await details.name.textContent(), /e2e\/busybox/);
    await details.summary.waitFor();
    await details.tab('history');
    await details.historyRows.first().waitFor();
    const expected = JSON.parse(await berth('history', '--format', 'json', image));
    assert.equal(await details.historyRows.count(), expected.length, 'a row per history entry');
    const commands = await details.historyCommands.allTextContents();
    assert.ok(commands[0].includes(expected[0].CreatedBy), `${commands[0]} shows ${expected[0].CreatedBy}`);
    const sizes = await details.historySizes.allTextContents();
    assert.ok(sizes.some((s) => /\d+(\.\d+)? (kB|MB)/.test(s)), `a layer's size among ${sizes}`);
    await app.page.screenshot({ path: join(shots, 'image-history.png') });
    await details.tab('inspect');
    await app.page.getByTestId('inspect-tree').waitFor();
    assert.match(await app.page.getByTestId('image-panel-inspect').textContent(), /RootFS/);
    await details.close();
    await images.row(image).waitFor();
  });

  it('runs the image from its row with a name, a published port, an env var and a command', async () => {
    const images = await app.images();
    const form = await images.run(image);
    await form.waitForImage('sh');
    assert.equal(await form.image.inputValue(), image);
    hostPort = await freePort();
    await form.name.fill(NAME);
    await form.addPort({ host: hostPort, container: 80 });
    await form.addEnv('GREETING', GREETING);
    await form.command.fill(`sh -c 'mkdir -p /www && echo "$GREETING" > /www/index.html && exec httpd -f -p 80 -h /www'`);
    assert.equal(await form.start.isChecked(), true, '"Start now" is the default');
    await app.page.screenshot({ path: join(shots, 'create-form.png') });
    await form.submit();
    await form.root.waitFor({ state: 'detached', timeout: 30_000 }).catch(async (e) => {
      throw new Error(`the create form stayed open: ${await form.error.textContent()} (${e.message})`);
    });

    const containers = new ContainersPage(app.page); // the app switched to it
    await containers.row(NAME).waitFor();
    await containers.status(NAME).and(app.page.locator('[data-status="running"]')).waitFor({ timeout: 30_000 });
    assert.equal(await containers.portLinks(NAME).first().textContent(), `${hostPort}→80`);
    assert.equal(await app.page.evaluate(() => location.hash), '#/containers');
  });

  it('serves the env var through the published port', async () => {
    const page = await waitFor(`http://127.0.0.1:${hostPort}/ to answer`, async () => {
      const res = await get(`http://127.0.0.1:${hostPort}/`);
      return res.status === 200 ? res : undefined;
    });
    assert.equal(page.body.trim(), GREETING);
    await app.page.screenshot({ path: join(shots, 'containers-running.png') });
  });

  it('exports the container from its row and imports the tarball as an image that runs', async () => {
    const containers = await app.containers();
    const tarball = join(files, `${NAME}.tar`);
    const exp = await containers.export(NAME);
    await exp.export(tarball);
    await exp.success.waitFor({ timeout: 60_000 });
    assert.equal(await exp.error.textContent(), '');
    await app.page.screenshot({ path: join(shots, 'export-dialog.png') });
    await exp.close();
    assert.ok(statSync(tarball).size > 100_000, 'the tar holds the files');

    const images = await app.images();
    const imp = await images.import();
    await imp.import(tarball, { name: 'e2e-imported:1', command: 'cat /www/index.html' });
    await imp.success.waitFor({ timeout: 60_000 });
    assert.match(await imp.success.textContent(), /Imported localhost\/e2e-imported:1/);
    await app.page.screenshot({ path: join(shots, 'import-dialog.png') });
    await imp.close();
    await images.row('localhost/e2e-imported:1').waitFor();
    // the file the container wrote, in the image, printed by the CMD the dialog set
    assert.equal((await berth('run', '--rm', 'localhost/e2e-imported:1')).trim(), GREETING);
    await berth('rmi', 'localhost/e2e-imported:1');
    await images.row('localhost/e2e-imported:1').waitFor({ state: 'detached' });
  });

  it('shows a container made with the berth CLI, and its removal, without a reload', async () => {
    const containers = await app.containers();
    await app.page.evaluate(() => (window.__e2eSamePage = true));
    await berth('run', '-d', '--name', 'cli-made', image, 'sleep', '600');
    await containers.status('cli-made').and(app.page.locator('[data-status="running"]')).waitFor({ timeout: 10_000 });
    await berth('rm', '-f', 'cli-made');
    await containers.row('cli-made').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await app.page.evaluate(() => window.__e2eSamePage), true, 'the page was not reloaded');
  });

  it('fits the toolbars at 960, 1200 and 1440 px wide: nothing cut off (screenshots of each pane)', async () => {
    const page = app.page;
    for (const width of [960, 1200, 1440]) {
      await page.setViewportSize({ width, height: 800 });
      for (const pane of ['containers', 'images', 'volumes']) {
        await app[pane]();
        await page.waitForTimeout(150);
        await page.screenshot({ path: join(shots, `${pane}-${width}.png`) });
      }
      await app.containers();
      for (const id of ['container-search', 'bulk-remove', 'create-button']) {
        const box = await page.getByTestId(id).boundingBox();
        assert.ok(box && box.width > 0, `${id} is shown at ${width} px`);
        assert.ok(box.x >= 0 && box.x + box.width <= width, `${id} within the ${width} px window: ${JSON.stringify(box)}`);
      }
      // The search box keeps room to type in.
      assert.ok((await page.getByTestId('container-search').boundingBox()).width >= 120, `search box at ${width} px`);
    }
    await page.setViewportSize({ width: 1360, height: 820 });
  });

  it('has text contrast of at least 4.5:1 in both themes, in the Containers and Images panes', async () => {
    for (const pane of ['containers', 'images']) {
      await (pane === 'containers' ? app.containers() : app.images());
      for (const theme of ['light', 'dark']) {
        const failures = await contrastFailures(app.page, theme);
        assert.deepEqual(failures, [], `${pane} in the ${theme} theme`);
      }
    }
    await app.page.evaluate(() => delete document.documentElement.dataset.theme);
    await app.containers();
  });

  it('stops the container from its row', async () => {
    const containers = await app.containers();
    await containers.stop(NAME);
    await containers.status(NAME).and(app.page.locator('[data-status="exited"]')).waitFor({ timeout: 40_000 });
    await assert.rejects(get(`http://127.0.0.1:${hostPort}/`), 'nothing answers on the port after the stop');
  });

  it('removes the container after a confirmation', async () => {
    const containers = await app.containers();
    const confirm = await containers.remove(NAME);
    assert.match(await confirm.root.textContent(), new RegExp(NAME));
    await confirm.confirm();
    await containers.row(NAME).waitFor({ state: 'detached' });
    await containers.empty.waitFor();
    assert.equal((await berth('ps', '-a', '-q')).trim(), '', 'the engine has no container left');
  });

  it('stops and removes a dozen running containers at once, every one of them', async () => {
    // Their veths go as they stop: Chromium aborts requests in flight when the host's
    // interfaces change, and the app must still report each container right.
    const names = Array.from({ length: 12 }, (_, i) => `e2e-bulk-${i}`);
    // A shell that exits on SIGTERM (a bare `sleep` as pid 1 ignores it, and each stop would
    // wait out its 10 s timeout).
    const script = "trap 'exit 0' TERM; while :; do sleep 1; done";
    for (const n of names) await berth('run', '-d', '--name', n, image, 'sh', '-c', script);
    const containers = await app.containers();
    const running = app.page.locator('[data-testid="container-row"] [data-status="running"]');
    await waitFor('the dozen rows running', async () => (await running.count()) === names.length);
    await containers.selectAll();
    assert.equal(await app.page.getByTestId('selection-count').textContent(), '12 selected');
    await containers.bulk('stop');
    const exited = app.page.locator('[data-testid="container-row"] [data-status="exited"]');
    await waitFor('every row exited', async () => (await exited.count()) === names.length, { timeout: 60_000 });
    assert.equal((await berth('ps', '-q')).trim(), '', 'the engine runs none of them');
    await containers.bulk('start');
    await waitFor('every row running again', async () => (await running.count()) === names.length, { timeout: 60_000 });
    const confirm = await containers.bulkRemove();
    await confirm.confirm();
    await containers.empty.waitFor({ timeout: 60_000 });
    assert.equal((await berth('ps', '-a', '-q')).trim(), '', 'the engine has none of them left');
    const errors = await app.page.locator('[data-testid="toast"][data-kind="error"]').allTextContents();
    assert.deepEqual(errors, [], 'no container reported as failed');
    assert.equal(await app.page.getByTestId('selection-count').textContent(), '', 'nothing left selected');
  });

  it('removes the image from the Images pane', async () => {
    const images = await app.images();
    const confirm = await images.remove(image);
    await confirm.confirm();
    await images.row(image).waitFor({ state: 'detached' });
    await images.empty.waitFor();
    assert.equal((await berth('images', '-q')).trim(), '', 'the engine has no image left');
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
