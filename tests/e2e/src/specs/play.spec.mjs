// Play Kubernetes YAML and run a compose file, in a real browser against the real app and
// engine (issue 16, Podman Desktop #15708). A two-container Pod YAML: pasted with a document the
// engine refuses (its words in the dialog), then from a file whose image the engine lacks (the
// dialog pulls it from the test world's registry), played from the Pods pane; the pod is in the
// Pods pane and grouped in Containers, the engine agreeing; Take down removes it. A compose file
// of two busybox services, from the palette: `up -d` with docker-compose's output live on
// xterm.js, the stack grouped under its project in Containers; `down` removes it. Screenshots
// of both dialogs at 1200 px.

import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { CommandPalette } from '../model/pages/command-palette.mjs';
import { ComposeDialog, PlayKubeDialog } from '../model/pages/play-dialogs.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { contrastFailures } from '../utility/contrast.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { waitFor, waitForText } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const POD = 'e2e-kube';
// compose names the project after the file's folder, letters and digits only.
const PROJECT = `e2ecompose${process.pid}`;
// pid 1 ignores SIGTERM without a handler: these end on it at once.
const SLEEPER = `["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]`;

const podYaml = `apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
spec:
  containers:
  - name: app
    image: ${image}
    command: ${SLEEPER}
  - name: sidecar
    image: ${image}
    command: ${SLEEPER}
`;

const composeYaml = `version: "3.7"
services:
  web:
    image: ${image}
    command: ${SLEEPER}
  worker:
    image: ${image}
    command: ${SLEEPER}
`;

/** Both themes, as Settings sets them; then back to the system's. */
async function inBothThemes(page, fn) {
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.waitForTimeout(200);
    await fn(theme);
  }
  await page.evaluate(() => delete document.documentElement.dataset.theme);
}

describe('play Kubernetes YAML and compose files in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-play-'));
  const kubeFile = join(dir, 'pod.yaml');
  const composeFile = join(dir, PROJECT, 'compose.yaml');

  before(async () => {
    writeFileSync(kubeFile, podYaml);
    mkdirSync(join(dir, PROJECT));
    writeFileSync(composeFile, composeYaml);
    // The dialog pulls what the YAML names and the engine lacks.
    await berth('rmi', '-f', image).catch(() => {});
    browser = await launchBrowser({ width: 1200, height: 800 });
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    await berth('pod', 'rm', '-f', POD).catch(() => {});
    await berth('compose', '-f', composeFile, 'down').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it("plays a two-container Pod YAML from the Pods pane, pulling its image; the engine's refusal shows", async () => {
    const pods = await app.pods();
    await app.page.getByTestId('pod-play-kube').click();
    const dialog = new PlayKubeDialog(app.page);
    await dialog.root.waitFor();

    // Pasted, with a kind kube play does not read: the engine's words, naming the document.
    await dialog.pasteSource.check();
    await dialog.yaml.fill(`${podYaml}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n`);
    await dialog.play();
    await waitForText(dialog.error, 'YAML document 2: kind Service is not supported: use Pod, Deployment, ConfigMap and PersistentVolumeClaim', {
      timeout: 30_000,
    });
    await app.page.screenshot({ path: join(shots, 'play-kube-error-1200.png') });
    assert.equal((await berth('pod', 'ps', '-q')).trim(), '', 'nothing made');

    // From the file: the image is pulled, the pod made and started.
    await dialog.fileSource.check();
    await dialog.path.fill(kubeFile);
    await dialog.play();
    await dialog.result.waitFor({ timeout: 120_000 });
    assert.equal(await dialog.error.textContent(), '');
    assert.equal(await dialog.playedPods.count(), 1);
    assert.equal(await dialog.playedPod(POD).getByTestId('played-containers').textContent(), `${POD}-app · ${POD}-sidecar`);
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `play-kube-dialog-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the Play Kubernetes YAML dialog in the ${theme} theme`);
    });
    await dialog.close();

    // The engine agrees; the pane shows the pod running with its infra container counted.
    assert.ok((await berth('images', '--format', '{{.Repository}}:{{.Tag}}')).includes(image), 'the image was pulled');
    await pods.row(POD).waitFor({ timeout: 30_000 });
    await waitForText(pods.containers(POD), '3', { timeout: 30_000 });
    await pods.state(POD).and(app.page.locator('[data-state="Running"]')).waitFor({ timeout: 30_000 });
    const running = (await berth('ps', '--filter', `pod=${POD}`, '--format', '{{.Names}}')).trim().split('\n').sort();
    assert.deepEqual(running.filter((n) => !n.endsWith('-infra')), [`${POD}-app`, `${POD}-sidecar`]);

    const containers = await app.containers();
    const group = containers.group(POD);
    await group.waitFor();
    assert.equal(await group.getAttribute('data-source'), 'pod');
    await waitForText(group.getByTestId('group-count'), '2 of 2 running', { timeout: 30_000 });
    assert.equal(await containers.groupMembers(`pod:${POD}`).count(), 2);
  });

  it('takes the YAML down from the same dialog', async () => {
    const pods = await app.pods();
    await app.page.getByTestId('pod-play-kube').click();
    const dialog = new PlayKubeDialog(app.page);
    await dialog.root.waitFor();
    await dialog.path.fill(kubeFile);
    await dialog.takeDown();
    await waitForText(dialog.removed, `Removed pod ${POD} (volumes stay).`, { timeout: 60_000 });
    await dialog.close();
    await pods.row(POD).waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal((await berth('pod', 'ps', '-q')).trim(), '');
    const left = (await berth('ps', '-a', '--format', '{{.Names}}')).trim().split('\n');
    assert.ok(!left.some((n) => n.startsWith(`${POD}-`)), `the pod's containers went with it (left: ${left})`);
  });

  it("runs a compose file up from the palette, docker-compose's output live, the stack grouped", async () => {
    const containers = await app.containers();
    const palette = await new CommandPalette(app.page).open();
    await palette.search('compose');
    assert.equal(await palette.activeKey(), 'compose');
    await app.page.keyboard.press('Enter');
    const dialog = new ComposeDialog(app.page);
    await dialog.root.waitFor();
    await dialog.file.fill(composeFile);
    await dialog.up();
    await dialog.done.waitFor({ timeout: 120_000 }).catch(async (e) => {
      throw new Error(`compose up did not finish: ${await dialog.error.textContent()}\n${(await dialog.log.lines()).join('\n')} (${e.message})`);
    });
    const lines = await dialog.log.lines();
    assert.equal(lines[0], `$ berth compose -f ${composeFile} up -d`);
    for (const service of ['web', 'worker']) {
      assert.ok(lines.some((l) => l.includes(`${PROJECT}_${service}_1`)), `docker-compose named ${service}: ${lines.join('\n')}`);
    }
    await inBothThemes(app.page, async (theme) => {
      await app.page.screenshot({ path: join(shots, `compose-dialog-1200-${theme}.png`) });
      assert.deepEqual(await contrastFailures(app.page, theme), [], `the compose dialog in the ${theme} theme`);
    });
    await dialog.close();

    const group = containers.group(PROJECT);
    await group.waitFor({ timeout: 30_000 });
    await waitForText(group.getByTestId('group-count'), '2 of 2 running', { timeout: 30_000 });
    assert.equal(await containers.groupMembers(PROJECT).count(), 2);
    await app.page.screenshot({ path: join(shots, 'compose-group-1200.png') });
    const names = (await berth('ps', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}}')).trim().split('\n').sort();
    assert.deepEqual(names, [`${PROJECT}_web_1`, `${PROJECT}_worker_1`]);
  });

  it('takes the stack down from the Containers pane', async () => {
    const containers = await app.containers();
    await app.page.getByTestId('compose-button').click();
    const dialog = new ComposeDialog(app.page);
    await dialog.root.waitFor();
    await dialog.file.fill(composeFile);
    await dialog.down();
    await waitForText(dialog.done, 'The stack is down.', { timeout: 120_000 });
    assert.ok((await dialog.log.lines()).some((l) => l.includes(`Removing ${PROJECT}_web_1`)));
    await dialog.close();
    await containers.group(PROJECT).waitFor({ state: 'detached', timeout: 30_000 });
    const left = (await berth('ps', '-a', '--format', '{{.Names}}')).trim().split('\n');
    assert.ok(!left.some((n) => n.startsWith(`${PROJECT}_`)), `the stack's containers are gone (left: ${left})`);
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
