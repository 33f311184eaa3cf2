// Pods in a real browser against the real app and engine (issue 16): a pod made from the Pods
// pane's Create dialog (its fields checked as typed; the engine's refusal of a taken name in
// the form), two containers run in it by `berth run --pod` at a terminal beside the app, which
// the pane follows without a reload (state, containers counted with the infra one); its
// details list them, each opening its container, and its Inspect tab is `berth pod inspect`'s
// object; the Containers pane shows them under the pod's group with the pod's port, its infra
// container hidden unless asked; the pod is stopped and removed from the UI, the engine agreeing. Screenshots
// at 1200 px, light and dark.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { contrastFailures } from '../utility/contrast.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { freePort, waitFor, waitForText } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const POD = 'e2e-pod';
const APP = 'e2e-pod-app';
const SIDECAR = 'e2e-pod-sidecar';
// A host port free now, outside the ephemeral range (an outgoing connection could hold one
// of those by the time the pod publishes it).
const PORT = await freePort();

/** Both themes, as Settings sets them; then back to the system's. */
async function inBothThemes(page, fn) {
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.waitForTimeout(200);
    await fn(theme);
  }
  await page.evaluate(() => delete document.documentElement.dataset.theme);
}

describe('pods in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;
  let infraName = '';

  before(async () => {
    await berth('pull', image);
    browser = await launchBrowser({ width: 1200, height: 800 });
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    await berth('pod', 'rm', '-f', POD).catch(() => {});
    await berth('rmi', image).catch((e) => console.log(e.message));
  });

  it('creates a pod from the pane: the form checks its fields, the engine makes it', async () => {
    // Ctrl+5 is the Pods pane, after the others.
    await app.page.keyboard.press('Control+5');
    await waitFor('the Pods pane', async () => (await app.route()) === '#/pods');
    const pods = await app.pods();
    await app.page.getByTestId('pods-empty').waitFor();

    const form = await pods.create();
    await form.name.fill(POD);
    await form.ports.fill(`${PORT}:x`);
    await waitForText(form.portsError, `"${PORT}:x" is not a port to publish: write [[IP:][HOST_PORT]:]CONTAINER_PORT[/tcp|udp], like 8080:80`);
    await form.ports.fill(`${PORT}:80`);
    await waitForText(form.portsError, '');
    await form.share.fill('net,mnt');
    await waitForText(form.shareError, 'invalid kernel namespace to share: mnt. Options are: cgroup, ipc, net, pid, uts or none');
    await form.share.fill('+pid');
    await waitForText(form.shareError, '');
    await form.labels.fill('team=e2e');
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `pod-create-1200-${theme}.png`) });
    });
    await form.submit();
    await form.root.waitFor({ state: 'detached', timeout: 30_000 }).catch(async (e) => {
      throw new Error(`the create form stayed open: ${await form.error.textContent()} (${e.message})`);
    });

    await pods.row(POD).waitFor();
    // Its infra container only, made, not started (as `pod create` leaves it).
    await waitForText(pods.containers(POD), '1');
    assert.equal(await pods.state(POD).getAttribute('data-state'), 'Created');
    // The engine says what the form asked.
    const inspected = JSON.parse(await berth('pod', 'inspect', POD));
    const pod = Array.isArray(inspected) ? inspected[0] : inspected;
    assert.equal(pod.Name, POD);
    assert.deepEqual(pod.Labels, { team: 'e2e' });
    assert.deepEqual([...pod.SharedNamespaces].sort(), ['ipc', 'net', 'pid', 'uts']);
    assert.deepEqual(pod.InfraConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: String(PORT) }] });
    infraName = (await berth('ps', '-a', '--pod', '--filter', `pod=${POD}`, '--format', '{{.Names}}')).trim();
    assert.match(infraName, /-infra$/);

    // A second pod of that name: the engine's refusal, in the form.
    const again = await pods.create();
    await again.name.fill(POD);
    await again.submit();
    await waitFor('the engine refusing the name', async () => (await again.error.textContent()).includes(POD));
    await again.root.getByTestId('dialog-close').click();
  });

  it('follows the containers run in it from a terminal, without a reload', async () => {
    await app.page.evaluate(() => (window.__e2eSamePage = true));
    await berth('run', '-d', '--pod', POD, '--name', APP, image, 'sleep', '600');
    await berth('run', '-d', '--pod', POD, '--name', SIDECAR, image, 'sleep', '600');
    const pods = await app.pods();
    await waitForText(pods.containers(POD), '3', { timeout: 30_000 });
    await pods.state(POD).and(app.page.locator('[data-state="Running"]')).waitFor({ timeout: 30_000 });
    assert.equal(await app.page.getByTestId('nav-pods-count').textContent(), '1');
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `pods-pane-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the Pods pane in the ${theme} theme`);
    });

    const details = await pods.open(POD);
    assert.equal(await app.route(), `#/pods/${POD}/summary`);
    assert.equal(await details.state.textContent(), 'Running');
    assert.equal((await details.labels.textContent()).trim(), 'team=e2e');
    await waitFor('its three containers', async () => (await details.members.count()) === 3);
    assert.equal(await details.member(infraName).locator('.tag').textContent(), 'infra');
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `pod-details-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the pod's details in the ${theme} theme`);
    });
    await details.inspectTab.click();
    await details.inspectPanel.getByTestId('inspect-search').fill(SIDECAR);
    await waitForText(details.inspectPanel.getByTestId('inspect-match-count'), '1 of 1');
    await app.page.screenshot({ path: join(shots, 'pod-inspect-1200.png') });

    // A member opens its container.
    await details.summaryTab.click();
    await details.member(APP).getByTestId('pod-member-open').click();
    await app.page.getByTestId('container-details').waitFor();
    assert.match(await app.route(), /^#\/containers\/[0-9a-f]{64}\/summary$/);
    assert.equal(await app.page.evaluate(() => window.__e2eSamePage), true, 'the page was not reloaded');
  });

  it("groups the pod's containers in the Containers pane, its infra container hidden unless asked", async () => {
    const containers = await app.containers();
    const group = containers.group(POD);
    await group.waitFor();
    assert.equal(await group.getAttribute('data-source'), 'pod');
    assert.equal(await group.getByTestId('group-tag').textContent(), 'pod');
    await waitForText(group.getByTestId('group-count'), '2 of 2 running', { timeout: 30_000 });
    await waitFor('both members under the group', async () => (await containers.groupMembers(`pod:${POD}`).count()) === 2);
    assert.equal(await containers.row(infraName).count(), 0, 'the infra container is hidden');
    // A member shows its pod's port (its infra container publishes it).
    assert.equal(await containers.portLinks(APP).first().getAttribute('href'), `http://localhost:${PORT}`);
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `containers-pod-group-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the pod's group in the ${theme} theme`);
    });
    await app.page.getByTestId('show-infra').check();
    await containers.row(infraName).waitFor();
    assert.equal(await containers.row(infraName).getAttribute('data-project'), `pod:${POD}`);
    await app.page.getByTestId('show-infra').uncheck();
    await containers.row(infraName).waitFor({ state: 'detached' });
  });

  it('stops the pod from the Pods pane, then removes it', async () => {
    const pods = await app.pods();
    await pods.act(POD, 'stop');
    await pods.state(POD).and(app.page.locator('[data-state="Exited"]')).waitFor({ timeout: 60_000 });
    for (const name of [APP, SIDECAR, infraName]) {
      assert.equal((await berth('inspect', '--format', '{{.State.Status}}', name)).trim(), 'exited', `${name} as the engine says`);
    }
    const confirm = await pods.remove(POD);
    assert.match(await confirm.root.textContent(), new RegExp(`Remove pod “${POD}” and its 3 containers`));
    await confirm.confirm();
    await pods.row(POD).waitFor({ state: 'detached', timeout: 30_000 });
    await app.page.getByTestId('pods-empty').waitFor();
    assert.equal((await berth('pod', 'ps', '-q')).trim(), '');
    const left = (await berth('ps', '-a', '--format', '{{.Names}}')).trim().split('\n').filter(Boolean);
    for (const name of [APP, SIDECAR, infraName]) assert.ok(!left.includes(name), `${name} removed with its pod (left: ${left})`);
    const containers = await app.containers();
    await containers.group(POD).waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
