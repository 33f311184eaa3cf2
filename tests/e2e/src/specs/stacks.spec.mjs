// Networks and compose projects in a real browser against the real app and engine (issues 16
// and 20): a network made from the Networks pane (its form checks the subnet and gateway as
// typed), listed with its name server on; two containers run on it by `berth` with compose's
// labels (as compose makes them through the Docker-compatible socket) join its members without
// a reload, show as one group in the Containers pane, stop as one; the network is refused
// while they are on it and removed once they are gone. Screenshots at 1200 px, light and dark.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { ConfirmDialog } from '../model/pages/confirm-dialog.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { contrastFailures } from '../utility/contrast.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { waitFor, waitForText } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const NET = 'e2e-net';
// A /24 of this run's own, clear of the world's default network (10.199.x) and the cargo tests'.
const OCTET = process.pid % 250;
const SUBNET = `10.197.${OCTET}.0/24`;
const GATEWAY = `10.197.${OCTET}.254`;
const PROJECT = 'demo';
const WEB = 'demo_web_1';
const DB = 'demo_db_1';

/** Both themes, as Settings sets them; then back to the system's. */
async function inBothThemes(page, fn) {
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.waitForTimeout(200);
    await fn(theme);
  }
  await page.evaluate(() => delete document.documentElement.dataset.theme);
}

/** `berth run` of a compose service's container on the network, labelled as compose labels it. */
async function runService(name, service, ...command) {
  await berth('run', '-d', '--name', name, '--network', NET,
    '--label', `com.docker.compose.project=${PROJECT}`,
    '--label', `com.docker.compose.service=${service}`,
    '--label', 'com.docker.compose.container-number=1',
    image, ...command);
}

describe('networks and compose projects in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;

  before(async () => {
    await berth('pull', image);
    browser = await launchBrowser({ width: 1200, height: 800 });
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    for (const name of [WEB, DB]) await berth('rm', '-f', name).catch(() => {});
    await berth('network', 'rm', '-f', NET).catch(() => {});
    await berth('rmi', image).catch((e) => console.log(e.message));
  });

  it('creates a network from the pane; it is listed with its name server on', async () => {
    const networks = await app.networks();
    assert.equal(await app.route(), '#/networks');
    // The default network: no name server, and no Remove.
    await networks.row('berth').waitFor();
    assert.equal((await networks.dns('berth').textContent()).trim(), 'off');
    assert.equal(await networks.row('berth').getByTestId('network-remove-row').count(), 0);

    const form = await networks.create();
    await form.name.fill(NET);
    await form.subnet.fill(`10.197.${OCTET}.0/33`);
    await waitForText(form.subnetError, `"10.197.${OCTET}.0/33" is not an IPv4 subnet: write an address and a prefix, like 10.90.0.0/24`);
    await form.subnet.fill(SUBNET);
    await waitForText(form.subnetError, '');
    await form.gateway.fill(`10.196.${OCTET}.1`);
    await waitForText(form.gatewayError, `10.196.${OCTET}.1 is not a host address of ${SUBNET}`);
    await form.gateway.fill(GATEWAY);
    await waitForText(form.gatewayError, '');
    await form.labels.fill('team=e2e');
    await app.page.screenshot({ path: join(shots, 'network-create-1200.png') });
    await form.submit();
    await form.root.waitFor({ state: 'detached', timeout: 15_000 }).catch(async (e) => {
      throw new Error(`the create form stayed open: ${await form.error.textContent()} (${e.message})`);
    });

    await networks.row(NET).waitFor();
    assert.equal(await networks.subnet(NET).textContent(), SUBNET);
    assert.equal((await networks.dns(NET).textContent()).trim(), 'on');
    assert.equal(await networks.members(NET).textContent(), '0');
    // The engine says it too.
    const inspected = JSON.parse(await berth('network', 'inspect', NET))[0];
    assert.deepEqual(inspected.subnets, [{ subnet: SUBNET, gateway: GATEWAY }]);
    assert.deepEqual(inspected.labels, { team: 'e2e' });

    // A second network of that name: the engine's refusal, in the form.
    const again = await networks.create();
    await again.name.fill(NET);
    await again.submit();
    await waitForText(again.error, `network name ${NET} already used: choose another name`);
    await again.root.getByTestId('dialog-close').click();
  });

  it('shows the containers that join it, with their addresses, without a reload', async () => {
    await app.page.evaluate(() => (window.__e2eSamePage = true));
    await runService(WEB, 'web', 'sleep', '600');
    await runService(DB, 'db', 'sleep', '600');
    const networks = await app.networks();
    await waitForText(networks.members(NET), '2', { timeout: 30_000 });
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `networks-pane-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the Networks pane in the ${theme} theme`);
    });

    const details = await networks.open(NET);
    assert.equal(await app.route(), `#/networks/${NET}/summary`);
    assert.equal(await details.subnet.textContent(), SUBNET);
    assert.equal(await details.gateway.textContent(), GATEWAY);
    assert.match(await details.dns.textContent(), /^\s*on/);
    assert.equal((await details.labels.textContent()).trim(), 'team=e2e');
    await waitFor('both members', async () => (await details.members.count()) === 2);
    const prefix = `10.197.${OCTET}.`;
    for (const name of [WEB, DB]) {
      const address = await details.member(name).getByTestId('network-member-address').textContent();
      assert.ok(address.startsWith(prefix) && address !== GATEWAY, `${name}'s address ${address} in ${SUBNET}`);
    }
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `network-details-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the network's details in the ${theme} theme`);
    });
    await details.inspectTab.click();
    // The members are in it: its search finds a member's name.
    await details.inspectPanel.getByTestId('inspect-search').fill(WEB);
    await waitForText(details.inspectPanel.getByTestId('inspect-match-count'), '1 of 1');
    await app.page.screenshot({ path: join(shots, 'network-inspect-1200.png') });

    // A member opens its container.
    await details.root.getByTestId('network-tab-summary').click();
    await details.member(DB).getByTestId('network-member-open').click();
    await app.page.getByTestId('container-details').waitFor();
    assert.match(await app.route(), /^#\/containers\/[0-9a-f]{64}\/summary$/);
    assert.equal(await app.page.evaluate(() => window.__e2eSamePage), true, 'the page was not reloaded');
  });

  it('shows the compose project as one group in the Containers pane, and stops it', async () => {
    const containers = await app.containers();
    const group = containers.group(PROJECT);
    await group.waitFor();
    await waitForText(group.getByTestId('group-count'), '2 of 2 running', { timeout: 30_000 });
    assert.equal(await group.getByTestId('group-name').textContent(), PROJECT);
    await waitFor('both members under the group', async () => (await containers.groupMembers(PROJECT).count()) === 2);
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `containers-grouped-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the grouped list in the ${theme} theme`);
    });

    // Collapsed it is one row; a search for a member shows it under its group again.
    await group.getByTestId('group-toggle').click();
    await waitFor('the group collapsed', async () => (await containers.groupMembers(PROJECT).count()) === 0);
    await containers.search.fill('db_1');
    await waitFor('the match under its group', async () => (await containers.groupMembers(PROJECT).count()) === 1);
    assert.equal(await containers.groupMembers(PROJECT).first().getAttribute('data-name'), DB);
    await containers.search.fill('');
    await group.getByTestId('group-toggle').click();

    await group.getByTestId('group-stop').click();
    await waitForText(group.getByTestId('group-count'), '0 of 2 running', { timeout: 60_000 });
    for (const name of [WEB, DB]) {
      await containers.status(name).and(app.page.locator('[data-status="exited"]')).waitFor({ timeout: 10_000 });
    }
    for (const name of [WEB, DB]) {
      assert.equal((await berth('inspect', '--format', '{{.State.Status}}', name)).trim(), 'exited', `${name} as the engine says`);
    }
  });

  it('refuses to remove the network while the project is on it, then removes both', async () => {
    let networks = await app.networks();
    let confirm = await networks.remove(NET);
    await confirm.okButton.click();
    await waitFor('the engine refusing', async () => (await confirm.error.textContent()).includes(`network ${NET} is used by container(s)`));
    assert.match(await confirm.error.textContent(), /remove them first$/);
    await confirm.cancelButton.click();
    await confirm.root.waitFor({ state: 'detached' });

    const containers = await app.containers();
    const group = containers.group(PROJECT);
    await group.getByTestId('group-remove').click();
    confirm = new ConfirmDialog(app.page);
    await confirm.root.waitFor();
    assert.match(await confirm.root.textContent(), new RegExp(`Remove the 2 containers of compose project “${PROJECT}”: .*${WEB}`));
    await confirm.confirm();
    await group.waitFor({ state: 'detached', timeout: 15_000 });

    networks = await app.networks();
    await waitForText(networks.members(NET), '0', { timeout: 15_000 });
    confirm = await networks.remove(NET);
    await confirm.confirm();
    await networks.row(NET).waitFor({ state: 'detached', timeout: 10_000 });
    const left = (await berth('network', 'ls', '--format', '{{.Name}}')).trim().split('\n');
    assert.deepEqual(left, ['berth']);
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
