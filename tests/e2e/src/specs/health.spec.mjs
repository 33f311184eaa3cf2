// Healthchecks in a real browser against the real app and engine (issue 16): a container made
// from the create form with a check turns "healthy" in the list by itself (the checks run in
// the container's own helper; their events reach the page through the events file), its Health
// tab shows the check and its output; a check run by hand from the tab makes another container
// unhealthy. Screenshots at 1200 px, light and dark.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { ContainersPage } from '../model/pages/containers-page.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { contrastFailures } from '../utility/contrast.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { waitFor, waitForText } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const CHECKED = 'e2e-health';
const SICK = 'e2e-sick';
const PLAIN = 'e2e-plain';
// Ready five seconds after it starts: the check fails until then ("starting"), then passes.
const CHECK = 'cat /tmp/ready && echo "ready-$((40+2))"';
const SICK_OUTPUT = 'db down: connection refused';

/** Both themes, as Settings sets them; then back to the system's. */
async function inBothThemes(page, fn) {
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.waitForTimeout(200);
    await fn(theme);
  }
  await page.evaluate(() => delete document.documentElement.dataset.theme);
}

describe('healthchecks in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;
  /** @type {ContainersPage} */
  let containers;

  before(async () => {
    await berth('pull', image);
    // Checks only when asked (interval disable); one failure makes it unhealthy.
    await berth('run', '-d', '--name', SICK, '--health-cmd', `echo "${SICK_OUTPUT}"; exit 1`, '--health-interval', 'disable',
      '--health-retries', '1', image, 'sleep', '600');
    await berth('run', '-d', '--name', PLAIN, image, 'sleep', '600');
    browser = await launchBrowser({ width: 1200, height: 800 });
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
    containers = await app.containers();
    await containers.status(PLAIN).and(app.page.locator('[data-status="running"]')).waitFor({ timeout: 30_000 });
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    for (const name of [CHECKED, SICK, PLAIN]) await berth('rm', '-f', name).catch((e) => console.log(e.message));
    await berth('rmi', image).catch((e) => console.log(e.message));
  });

  it('creates a container with a healthcheck from the form; the list shows it starting, then healthy', async () => {
    const form = await containers.create();
    await form.image.fill(image);
    await form.image.press('Enter');
    await form.waitForImage('sh');
    await form.name.fill(CHECKED);
    await form.command.fill(`sh -c 'sleep 5; touch /tmp/ready; exec sleep 600'`);
    await form.openHealthcheck();
    await form.healthCommand.fill(CHECK);
    // The flags' grammar, checked as typed.
    await form.healthInterval.fill('1 second');
    await waitForText(form.healthTimingError, 'interval "1 second" is not a duration: give a number and a unit, like 30s, 1m30s or 500ms');
    await form.healthInterval.fill('1s');
    await form.healthTimeout.fill('5s');
    await form.healthRetries.fill('30');
    await waitForText(form.healthTimingError, '');
    await app.page.screenshot({ path: join(shots, 'health-create-form.png') });
    await form.submit();
    await form.root.waitFor({ state: 'detached', timeout: 30_000 }).catch(async (e) => {
      throw new Error(`the create form stayed open: ${await form.error.textContent()} (${e.message})`);
    });

    // No reload: the health follows the checks' events.
    await app.page.evaluate(() => (window.__e2eSamePage = true));
    await containers.health(CHECKED).and(app.page.locator('[data-health="starting"]')).waitFor({ timeout: 4000 });
    await containers.health(CHECKED).and(app.page.locator('[data-health="healthy"]')).waitFor({ timeout: 30_000 });
    assert.equal(await app.page.evaluate(() => window.__e2eSamePage), true, 'the page was not reloaded');
    assert.match(await containers.health(CHECKED).textContent(), /healthy/, 'the word, not only a colour');
    assert.equal(await containers.health(PLAIN).count(), 0, 'no health without a check');
  });

  it('shows the check and its output in the Health tab', async () => {
    const details = await containers.open(CHECKED);
    const health = await details.health();
    await health.health.and(app.page.locator('[data-health="healthy"]')).waitFor({ timeout: 10_000 });
    assert.equal(await health.command.textContent(), CHECK);
    assert.equal(await health.interval.textContent(), 'every 1s');
    assert.equal(await health.retries.textContent(), '30 failures in a row make it unhealthy');
    assert.equal(await health.onFailure.textContent(), 'nothing (it stays unhealthy)');
    await waitFor('a passing result first', async () => (await health.results.first().getAttribute('data-exit-code')) === '0');
    assert.equal(await health.outputs.first().textContent(), 'ready-42');
    const font = await health.outputs.first().evaluate((el) => getComputedStyle(el).fontFamily);
    assert.match(font, /mono/i, `the output in monospace: ${font}`);
    assert.equal(await health.streak.textContent().then((t) => t.trim()), 'No failures in a row');
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `health-tab-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the Health tab in the ${theme} theme`);
    });
    await details.back();
  });

  it('runs a check now from the tab: its output shows and the container turns unhealthy', async () => {
    await containers.health(SICK).and(app.page.locator('[data-health="starting"]')).waitFor();
    const details = await containers.open(SICK);
    const health = await details.health();
    await health.root.getByTestId('health-no-results').waitFor();
    assert.equal(await health.interval.textContent(), 'only when run by hand');
    await health.runButton.click();
    await health.health.and(app.page.locator('[data-health="unhealthy"]')).waitFor({ timeout: 15_000 });
    assert.equal(await health.results.count(), 1);
    assert.equal(await health.results.first().getAttribute('data-exit-code'), '1');
    assert.equal(await health.outputs.first().textContent(), SICK_OUTPUT);
    assert.equal(await health.streak.textContent().then((t) => t.trim()), '1 of 1 failures in a row');
    assert.equal(await app.toasts.and(app.page.locator('[data-kind="error"]')).count(), 0);
    await details.back();

    await containers.health(SICK).and(app.page.locator('[data-health="unhealthy"]')).waitFor({ timeout: 10_000 });
    await containers.health(CHECKED).and(app.page.locator('[data-health="healthy"]')).waitFor();
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `health-list-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the list with health in the ${theme} theme`);
    });
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
