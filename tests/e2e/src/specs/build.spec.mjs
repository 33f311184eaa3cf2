// Building an image from the Images pane in a real browser against the real app and engine: a
// Containerfile and a file in a context on this machine, built through the dialog (the base
// pulled from the test registry, the file copied in, a RUN printing a marker), its log live
// on xterm.js, the new image in the list; then a build cancelled while its RUN sleeps.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { waitFor } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const NAME = 'localhost/e2e-built:1';
const MARKER = 'built-marker-9c41';
const GREETING = 'copied from the build context';

describe('building an image in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;
  const context = mkdtempSync(join(tmpdir(), 'berth-e2e-build-'));
  chmodSync(context, 0o755);
  const containerfile = join(context, 'Containerfile');

  before(async () => {
    writeFileSync(join(context, 'greeting.txt'), `${GREETING}\n`);
    writeFileSync(
      containerfile,
      [`FROM ${image}`, 'ARG WHO=nobody', 'COPY greeting.txt /greeting.txt', `RUN cat /greeting.txt && echo "${MARKER}-$WHO"`, ''].join('\n'),
    );
    browser = await launchBrowser();
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    rmSync(context, { recursive: true, force: true });
    for (const name of [NAME, image]) await berth('rmi', '-f', name).catch((e) => console.log(e.message));
    await berth('image', 'prune', '-f').catch((e) => console.log(e.message));
  });

  it('builds the Containerfile from the dialog: the steps and the RUN output in the log, the image in the list', async () => {
    const images = await app.images();
    const dialog = await images.build();
    // a relative path is refused before anything is built
    await dialog.build({ containerfile: 'Containerfile' });
    await waitFor('the path error', async () => /absolute path/.test(await dialog.root.getByTestId('build-containerfile-error').textContent()));
    assert.equal(await dialog.root.getByTestId('build-log').count(), 0, 'no build started');

    await dialog.build({ containerfile, name: NAME, args: { WHO: 'the-dialog' } });
    await dialog.success.waitFor({ timeout: 120_000 }).catch(async (e) => {
      throw new Error(`no success: ${await dialog.error.textContent()} / log: ${(await dialog.log.lines()).join(' | ')} (${e.message})`);
    });
    assert.match(await dialog.success.textContent(), new RegExp(`Built ${NAME.replace(/[.]/g, '\\.')} \\([0-9a-f]{12}\\)`));
    const lines = await waitFor('the last line in the log', async () => {
      const l = await dialog.log.lines();
      return l.includes(`Successfully tagged ${NAME}`) ? l : undefined;
    });
    for (const expected of [`STEP 1/4: FROM ${image}`, 'STEP 3/4: COPY greeting.txt /greeting.txt', GREETING, `${MARKER}-the-dialog`, `COMMIT ${NAME}`]) {
      assert.ok(lines.includes(expected), `${JSON.stringify(expected)} in the log: ${JSON.stringify(lines)}`);
    }
    assert.equal(await dialog.error.textContent(), '');
    await app.page.screenshot({ path: join(shots, 'build-dialog.png') });
    await dialog.close();

    await images.row(NAME).waitFor();
    // the base and the result; the COPY step's intermediate image is not listed (as `berth images`)
    await waitFor('two image rows', async () => (await images.rows.count()) === 2);
    assert.deepEqual((await images.rows.evaluateAll((rs) => rs.map((r) => r.dataset.reference))).sort(), [image, NAME].sort());
    const id = (await berth('images', '-q', NAME)).trim();
    assert.equal(await images.row(NAME).getAttribute('data-id').then((d) => d?.slice(0, 12)), id.slice(0, 12));
    assert.equal((await berth('run', '--rm', NAME, 'cat', '/greeting.txt')).trim(), GREETING);
    await app.page.screenshot({ path: join(shots, 'images-built.png') });
  });

  it('cancels a build while its RUN sleeps: the dialog says so, and no image or container is left', async () => {
    const slow = join(context, 'Slow.Containerfile');
    writeFileSync(slow, [`FROM ${image}`, 'RUN echo going-to-sleep && sleep 120', ''].join('\n'));
    const images = await app.images();
    const before = (await berth('images', '-a', '-q')).trim().split('\n').sort();
    const dialog = await images.build();
    await dialog.build({ containerfile: slow, name: 'localhost/e2e-slow:1', noCache: true });
    await waitFor('the RUN started', async () => (await dialog.log.lines()).includes('going-to-sleep'), { timeout: 60_000 });
    assert.equal(await app.containersCount.textContent(), '0', 'the RUN container is not listed');
    const started = Date.now();
    await dialog.cancel();
    await dialog.cancelled.waitFor({ timeout: 30_000 });
    assert.ok(Date.now() - started < 20_000, `stopped, not waited for: ${Date.now() - started} ms`);
    assert.match(await dialog.cancelled.textContent(), /Build cancelled/);
    // The log says it too, once xterm.js has parsed and drawn the line (a frame or more after
    // the dialog's own banner: its writes are asynchronous).
    await waitFor('the log says the build was cancelled', async () => (await dialog.log.lines()).includes('Build cancelled'));
    assert.equal(await dialog.error.textContent(), '');
    // the RUN's container is the build's, not the user's: no toast says it was killed
    assert.deepEqual(await app.page.locator('[data-testid="toast"][data-kind="error"]').allTextContents(), []);
    await app.page.screenshot({ path: join(shots, 'build-cancelled.png') });
    await dialog.root.getByTestId('dialog-close').click();
    await dialog.root.waitFor({ state: 'detached' });
    assert.equal(await images.row('localhost/e2e-slow:1').count(), 0);
    assert.deepEqual((await berth('images', '-a', '-q')).trim().split('\n').sort(), before, 'no image kept');
    assert.equal((await berth('ps', '-a', '-q')).trim(), '', 'no RUN container left');
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
