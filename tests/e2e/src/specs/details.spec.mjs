// A container's details in a real browser against the real app and engine (issue 7): the logs
// viewer (ANSI colours, search, live follow), a shell in the Terminal tab, the Inspect tree and
// its search, and the keyboard paths through the panes, the rows and the dialogs.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { BerthApp } from '../model/pages/berth-app.mjs';
import { ConfirmDialog } from '../model/pages/confirm-dialog.mjs';
import { ContainerDetails } from '../model/pages/container-details.mjs';
import { ContainersPage } from '../model/pages/containers-page.mjs';
import { ImagesPage } from '../model/pages/images-page.mjs';
import { NetworksPage } from '../model/pages/networks-page.mjs';
import { VolumesPage } from '../model/pages/volumes-page.mjs';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env, screenshotsDir } from '../utility/env.mjs';
import { waitFor, waitForText } from '../utility/wait.mjs';

const shots = screenshotsDir();
const image = env.image;
const NAME = 'e2e-colours';
const MARKER = 'needle-7f3a the distinctive line';
const SECRET = 'inspect-me-4711';
// One distinctive line, then numbered lines in red and green, two a second, forever.
const SCRIPT = `printf '%s\\n' "$MARKER"; i=0; while true; do i=$((i+1)); printf '\\033[31mred %s\\033[0m \\033[32mgreen\\033[0m\\n' $i; sleep 0.5; done`;

/** The highest `red N` counter among the lines. */
const highest = (lines) => Math.max(0, ...lines.map((l) => Number(/^red (\d+)/.exec(l)?.[1] ?? 0)));

describe('container details in the browser', () => {
  /** @type {Awaited<ReturnType<typeof launchBrowser>>} */
  let browser;
  /** @type {BerthApp} */
  let app;
  /** @type {ContainersPage} */
  let containers;

  before(async () => {
    await berth('pull', image);
    await berth('run', '-d', '--name', NAME, '-e', `MARKER=${MARKER}`, '-e', `SECRET=${SECRET}`, image, 'sh', '-c', SCRIPT);
    browser = await launchBrowser();
    app = new BerthApp(await browser.newPage());
    await app.open(env.url);
    containers = await app.containers();
    await containers.status(NAME).and(app.page.locator('[data-status="running"]')).waitFor({ timeout: 30_000 });
  });

  after(async () => {
    if (browser?.problems.length > 0) console.log(`browser console:\n  ${browser.problems.join('\n  ')}`);
    await browser?.close();
    await berth('rm', '-f', NAME).catch((e) => console.log(e.message));
    await berth('rmi', image).catch((e) => console.log(e.message));
  });

  it('shows the coloured log lines in the xterm.js viewer, follows new ones, and finds the distinctive one', async () => {
    const details = await containers.open(NAME);
    const logs = await details.logs();
    await logs.waitForFollowing();
    assert.equal(await app.route(), `#/containers/${await details.root.getAttribute('data-id')}/logs`);

    // What the container printed, as the terminal rows show it: the text without escapes.
    const first = await waitFor('the marker and a numbered line in the viewer', async () => {
      const lines = await logs.screen.lines();
      return lines.includes(MARKER) && lines.some((l) => /^red \d+ green$/.test(l)) ? lines : undefined;
    });
    assert.ok(!first.some((l) => l.includes('[31m') || l.includes('\u001b')), `no raw escape sequences on screen: ${first.join(' | ')}`);
    // Every row starts with the stream's one-column gutter, so stdout and stderr text line up.
    const raw = (await logs.screen.rawLines()).filter((l) => l !== '');
    assert.ok(raw.every((l) => l.startsWith(' ') || l.startsWith('▍')), `a gutter on every row: ${raw.slice(0, 5).join(' | ')}`);
    // The colours are the renderer's: red (1) and green (2) spans.
    const reds = await logs.screen.coloured(1);
    const greens = await logs.screen.coloured(2);
    assert.ok(reds.some((t) => /^red \d+$/.test(t)), `red spans: ${reds.slice(0, 5)}`);
    assert.ok(greens.some((t) => t === 'green'), `green spans: ${greens.slice(0, 5)}`);
    assert.ok(!(await logs.screen.coloured(1)).some((t) => t.includes('green')), 'the reset ends the red');

    // Follow: lines printed after the viewer opened show up without touching anything.
    const seen = highest(await logs.screen.lines());
    await waitFor(`a line after "red ${seen}"`, async () => highest(await logs.screen.lines()) >= seen + 3, { timeout: 20_000 });
    const status = await logs.status.getAttribute('data-received');
    assert.ok(Number(status) > 0, `the status counts received lines (${status})`);
    await app.page.screenshot({ path: join(shots, 'logs-viewer.png') });

    // Search what is loaded: one match, and the count says so.
    await logs.find('needle-7f3a');
    await waitForText(logs.count, '1 of 1 loaded').catch(async (e) => {
      throw new Error(`${e.message}; ${await logs.whereIs('needle-7f3a')}`);
    });
    await logs.find('no-such-text-anywhere');
    await waitForText(logs.count, 'no match loaded');
    // Search the whole log (the engine's search): the list names the distinctive line.
    await logs.searchAll('needle-7f3a');
    assert.deepEqual(await logs.matches.allTextContents(), [MARKER]);
    await app.page.screenshot({ path: join(shots, 'logs-search.png') });
    assert.equal(await logs.error.count(), 0);
  });

  it('opens a shell in the Terminal tab: a typed command runs and its output shows', async () => {
    const details = new ContainerDetails(app.page);
    const terminal = await details.terminal();
    await terminal.waitForOpen();
    await terminal.typeLine('echo e2e-$((40+2))');
    // The typed line echoes as `e2e-$((40+2))`; only the shell's output reads `e2e-42`.
    const lines = await waitFor('e2e-42 on the terminal', async () => {
      const l = await terminal.screen.lines();
      return l.some((row) => row.trim() === 'e2e-42') ? l : undefined;
    });
    assert.ok(lines.some((row) => row.includes('echo e2e-$((40+2))')), `the command echoes: ${lines.filter(Boolean).join(' | ')}`);
    await app.page.screenshot({ path: join(shots, 'terminal.png') });
  });

  it('shows the inspect tree, and its search finds the name and an env var', async () => {
    const details = new ContainerDetails(app.page);
    const inspect = await details.inspect();
    await inspect.nodes.first().waitFor();
    assert.ok((await inspect.nodes.count()) > 3, 'the tree has nodes');
    assert.equal(await inspect.matchCount.textContent(), '');

    for (const text of [NAME, SECRET]) {
      await inspect.search.fill(text);
      const count = await waitFor(`a match for ${text}`, async () => {
        const m = /^(\d+) of (\d+)$/.exec((await inspect.matchCount.textContent()).trim());
        return m && Number(m[2]) > 0 ? Number(m[2]) : undefined;
      });
      assert.ok(count >= 1);
      await inspect.activeNode.waitFor();
      assert.match(await inspect.activeNode.textContent(), new RegExp(text));
    }
    await app.page.screenshot({ path: join(shots, 'inspect.png') });
    await inspect.search.fill('zz-not-in-the-inspect-output');
    await waitFor('"no match"', async () => (await inspect.matchCount.textContent()).trim() === 'no match');
    await details.back();
  });

  it('goes through the panes, the rows and the dialogs by keyboard', async () => {
    const page = app.page;
    containers = await app.containers();
    await containers.row(NAME).waitFor();
    await page.locator('body').click({ position: { x: 5, y: 5 } }).catch(() => {});

    await page.keyboard.press('Control+2');
    await new ImagesPage(page).pullButton.waitFor();
    assert.equal(await app.route(), '#/images');
    await page.keyboard.press('Control+3');
    await new VolumesPage(page).createButton.waitFor();
    assert.equal(await app.route(), '#/volumes');
    await page.keyboard.press('Control+4');
    await new NetworksPage(page).createButton.waitFor();
    assert.equal(await app.route(), '#/networks');
    await page.keyboard.press('Control+1');
    await containers.createButton.waitFor();
    assert.equal(await app.route(), '#/containers');

    // `/` focuses the search, ArrowDown goes to the first row.
    await page.keyboard.press('/');
    await waitFor('the search to have the focus', async () => (await app.focusedTestId()) === 'container-search');
    assert.equal(await containers.search.inputValue(), '', 'the `/` was not typed into the search');
    await page.keyboard.press('ArrowDown');
    await waitFor('the table to have the focus', async () => (await app.focusedTestId()) === 'containers-table');
    await containers.cursorRow.waitFor();
    assert.equal(await containers.cursorRow.getAttribute('data-name'), NAME);

    // Enter opens the details, Esc returns to the list.
    await page.keyboard.press('Enter');
    const details = await new ContainerDetails(page).waitFor(NAME);
    assert.match(await app.route(), /^#\/containers\/[0-9a-f]+/);
    await page.keyboard.press('Escape');
    await details.root.waitFor({ state: 'detached' });
    await containers.table.waitFor();
    assert.equal(await app.route(), '#/containers');

    // Delete on the row asks first; Esc closes the question and removes nothing.
    await page.keyboard.press('/');
    await waitFor('the search to have the focus', async () => (await app.focusedTestId()) === 'container-search');
    await page.keyboard.press('ArrowDown');
    await containers.cursorRow.waitFor();
    await page.keyboard.press('Delete');
    const confirm = new ConfirmDialog(page);
    await confirm.root.waitFor();
    assert.match(await confirm.root.textContent(), new RegExp(NAME));
    await app.page.screenshot({ path: join(shots, 'keyboard-confirm.png') });
    await page.keyboard.press('Escape');
    await confirm.root.waitFor({ state: 'detached' });
    await containers.status(NAME).and(page.locator('[data-status="running"]')).waitFor();
    assert.match(await berth('inspect', '--format', '{{.State.Status}}', NAME), /running/, 'the container is still there');
  });

  it('stops, starts and removes the container from its details', async () => {
    const page = app.page;
    containers = await app.containers();
    const details = await containers.open(NAME);
    const state = () => details.root.getByTestId('container-status').getAttribute('data-status');
    await details.root.getByTestId('details-stop').click();
    await waitFor('the details to say exited', async () => (await state()) === 'exited', { timeout: 30_000 });
    assert.match(await berth('inspect', '--format', '{{.State.Status}}', NAME), /exited/);
    await details.root.getByTestId('details-start').click();
    await waitFor('the details to say running', async () => (await state()) === 'running', { timeout: 30_000 });
    await page.screenshot({ path: join(shots, 'details-actions.png') });
    await details.root.getByTestId('details-remove').click();
    const confirm = new ConfirmDialog(page);
    await confirm.root.waitFor();
    assert.match(await confirm.root.textContent(), new RegExp(NAME));
    await confirm.confirm();
    await details.root.waitFor({ state: 'detached' });
    await containers.row(NAME).waitFor({ state: 'detached' });
    assert.equal((await berth('ps', '-a', '--format', '{{.Names}}')).includes(NAME), false, 'the engine has it no more');
  });

  it('raised no error in the page', () => {
    const errors = browser.problems.filter((p) => p.startsWith('page error'));
    assert.deepEqual(errors, []);
  });
});
