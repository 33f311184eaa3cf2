// A container's files and a volume's in a real browser against the real app and engine
// (issue 20): the Files tab of a running busybox (browse /etc, open /etc/passwd, download it,
// upload a file and read it back with `berth exec cat`; a link shown as a link), a volume's
// Browse dialog, and Clone and Edit of a container checked with `berth inspect`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { FilesTab } from '../model/pages/files-tab.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { waitFor } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const RUNNING = 'e2e-files';
const SOURCE = 'e2e-clone-src';
const EDITED = 'e2e-edit-me';
const VOLUME = 'e2e-files-vol';

/** `berth inspect NAME` as one object. */
async function inspect(name) {
  const out = JSON.parse(await berth('inspect', name));
  return Array.isArray(out) ? out[0] : out;
}

describe('files, clone and edit in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;

  before(async () => {
    await berth('pull', image);
    await berth('run', '-d', '--name', RUNNING, image, 'sleep', '1000');
    // A link out of the root, and one up past it: shown as links, never followed on the host.
    await berth('exec', RUNNING, 'sh', '-c', 'ln -s /etc/shadow-of-the-host /tmp/out && ln -s ../../../../etc /tmp/up');
    await berth('create', '--name', SOURCE, '-p', '18093:80', '-e', 'GREETING=hello', '--label', 'tier=web', image, 'sleep', '1000');
    await berth('create', '--name', EDITED, '-e', 'MODE=old', image, 'sleep', '1000');
    await berth('volume', 'create', VOLUME);
    await berth('run', '--rm', '-v', `${VOLUME}:/data`, image, 'sh', '-c', 'echo in the volume > /data/a.txt && ln -s /etc/passwd /data/link');
    browser = await launchBrowser({ width: 1200, height: 800 });
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    for (const name of [RUNNING, SOURCE, `${SOURCE}-copy`, EDITED]) await berth('rm', '-f', name).catch((e) => console.log(e.message));
    await berth('volume', 'rm', '-f', VOLUME).catch((e) => console.log(e.message));
  });

  it('browses /etc of a running container, opens /etc/passwd, downloads it and uploads a file', async () => {
    const containers = await app.containers();
    await containers.status(RUNNING).and(app.page.locator('[data-status="running"]')).waitFor({ timeout: 30_000 });
    const details = await containers.open(RUNNING);
    const files = await details.files();
    assert.match(await app.route(), /#\/containers\/[0-9a-f]+\/files$/);
    // the root: directories first
    await files.row('etc').waitFor();
    const kinds = await files.rows.evaluateAll((rows) => rows.map((r) => r.dataset.kind));
    assert.ok(kinds.indexOf('file') === -1 || kinds.lastIndexOf('dir') < kinds.indexOf('file'), `directories first: ${kinds}`);

    await files.open('etc');
    await app.page.locator('[data-testid="files-table"][data-path="/etc"]').waitFor();
    await files.open('passwd');
    await files.viewerText.waitFor();
    assert.match(await files.viewerText.textContent(), /^root:x:0:0:/m);
    assert.match((await files.row('passwd').textContent()) ?? '', /-rw-r--r--/);
    assert.match((await files.row('passwd').textContent()) ?? '', /root:root/);
    await app.page.screenshot({ path: join(shots, 'files-tab.png') });

    const download = await files.download('passwd');
    assert.equal(download.suggestedFilename(), 'passwd.tar');
    const tar = readFileSync(await download.path()).toString('latin1');
    assert.equal(tar.slice(0, 6), 'passwd', 'the tar names the file');
    assert.match(tar, /root:x:0:0:/);

    // links are links: their targets shown, never followed out of the root
    await files.go('/tmp');
    await files.row('out').waitFor();
    assert.equal(await files.row('out').getAttribute('data-kind'), 'link');
    assert.equal(await files.row('out').getByTestId('file-link-target').textContent(), '→ /etc/shadow-of-the-host');
    await files.open('out');
    await files.viewerError.waitFor();
    assert.match(await files.viewerError.textContent(), /no such file/);
    await files.open('up'); // ../../../../etc stops at the container's root: its /etc
    await app.page.locator('[data-testid="files-table"][data-path="/tmp/up"]').waitFor();
    await files.row('passwd').waitFor();

    await files.go('/tmp');
    await files.uploadFile('from-the-browser.txt', 'uploaded through the Files tab\n');
    assert.equal(await berth('exec', RUNNING, 'cat', '/tmp/from-the-browser.txt'), 'uploaded through the Files tab\n');

    // an error is shown, never a spinner left
    await files.path.fill('/no/such/dir');
    await files.path.press('Enter');
    await files.error.waitFor();
    assert.match(await files.error.textContent(), /no such file or directory/);
    await details.back();
  });

  it("browses a volume's files, its link shown as a link", async () => {
    const volumes = await app.volumes();
    await app.page.locator(`[data-testid="volume-row"][data-name="${VOLUME}"] [data-testid="volume-browse"]`).click();
    const dialog = app.page.getByTestId('volume-files-dialog');
    const files = new FilesTab(app.page, dialog.getByTestId('files'));
    await files.row('a.txt').waitFor();
    assert.equal(await files.row('link').getAttribute('data-kind'), 'link');
    assert.equal(await files.row('link').getByTestId('file-link-target').textContent(), '→ /etc/passwd');
    await files.open('a.txt');
    await files.viewerText.waitFor();
    assert.equal(await files.viewerText.textContent(), 'in the volume\n');
    await app.page.screenshot({ path: join(shots, 'volume-files.png') });
    // /etc/passwd is not in the volume: the host's is never read
    await files.open('link');
    await files.viewerError.waitFor();
    await files.uploadFile('note.txt', 'into the volume\n');
    assert.equal(await berth('run', '--rm', '-v', `${VOLUME}:/data`, image, 'cat', '/data/note.txt'), 'into the volume\n');
    await app.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await volumes.table.waitFor();
  });

  it('clones a container with its port and env var', async () => {
    const containers = await app.containers();
    const details = await containers.open(SOURCE);
    const form = await details.clone();
    await waitFor('the form filled from the container', async () => (await form.name.inputValue()) === `${SOURCE}-copy`);
    assert.equal(await form.portRows.first().getByTestId('port-host').inputValue(), '18093');
    assert.equal(await form.envRows.first().getByTestId('env-key').inputValue(), 'GREETING');
    assert.equal(await form.command.inputValue(), 'sleep 1000');
    assert.equal(await form.root.getByTestId('create-labels').inputValue(), 'tier=web');
    assert.equal(await form.start.isChecked(), false);
    await app.page.screenshot({ path: join(shots, 'clone-dialog.png') });
    await form.submit();
    await form.root.waitFor({ state: 'detached' });
    const clone = await inspect(`${SOURCE}-copy`);
    const text = JSON.stringify(clone);
    assert.ok(text.includes('GREETING=hello'), `the env var: ${text.slice(0, 400)}`);
    assert.match(text, /"HostPort":\s*"18093"/);
    assert.ok(text.includes('"tier":"web"'), 'the label');
    assert.notEqual(clone.Id, (await inspect(SOURCE)).Id);
  });

  it("edits a stopped container's env: it is replaced under its name", async () => {
    const before = await inspect(EDITED);
    const containers = await app.containers();
    const details = await containers.open(EDITED);
    const form = await details.clone(true);
    await waitFor('the form filled from the container', async () => (await form.name.inputValue()) === EDITED);
    const value = form.envRows.first().getByTestId('env-value');
    assert.equal(await value.inputValue(), 'old');
    await value.fill('new');
    assert.match(await form.submitButton.textContent(), /Save/);
    await app.page.screenshot({ path: join(shots, 'edit-dialog.png') });
    await form.submit();
    await form.root.waitFor({ state: 'detached' });
    const after = await inspect(EDITED);
    assert.notEqual(after.Id, before.Id, 'a new container');
    const text = JSON.stringify(after);
    assert.ok(text.includes('MODE=new') && !text.includes('MODE=old'), text.slice(0, 400));
    const names = await berth('ps', '-a', '--format', '{{.Names}}');
    assert.ok(!names.includes(`${EDITED}-edit-`), `no temporary container left: ${names}`);
  });
});
