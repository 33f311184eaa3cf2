// The UI in a real browser against the real app (`berth-desktop --serve`) and engine: what a
// user does in the Images and Containers panes, end to end, and what they see.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { ContainersPage } from '../model/pages/containers-page.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
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

  before(async () => {
    browser = await launchBrowser();
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
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

  it('shows a container made with the berth CLI, and its removal, without a reload', async () => {
    const containers = await app.containers();
    await app.page.evaluate(() => (window.__e2eSamePage = true));
    await berth('run', '-d', '--name', 'cli-made', image, 'sleep', '600');
    await containers.status('cli-made').and(app.page.locator('[data-status="running"]')).waitFor({ timeout: 10_000 });
    await berth('rm', '-f', 'cli-made');
    await containers.row('cli-made').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await app.page.evaluate(() => window.__e2eSamePage), true, 'the page was not reloaded');
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
