// Screenshots of the main screens, light and dark, from a running server (the real
// `berth-desktop --serve` or scripts/fake-serve.mjs). Dev tooling, uses Debian's chromium.
//
//   node scripts/screenshots.mjs 'http://127.0.0.1:PORT/?token=TOKEN' out-dir

import { mkdtempSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, out = 'screenshots', only] = process.argv.slice(2);
// `new`: only the views of issue 7 (details, volumes, settings), e.g. against a real engine that
// cannot pull from the internet.
const onlyNew = only === 'new';
if (!url) {
  console.error('usage: node scripts/screenshots.mjs URL [out-dir]');
  process.exit(2);
}
await mkdir(out, { recursive: true });

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'berth-shots-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1360, height: 820 },
});

for (const scheme of ['light', 'dark']) {
  const page = await context.newPage();
  await page.emulateMedia({ colorScheme: scheme });
  page.on('console', (m) => m.type() === 'error' && console.error(`[${scheme}] console: ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[${scheme}] page error: ${e.message}`));
  await page.goto(url);
  await page.getByTestId('container-row').first().waitFor({ timeout: 10_000 }).catch(() => {});
  await page.waitForTimeout(2500); // a stats sample
  await page.screenshot({ path: join(out, `containers-${scheme}.png`) });

  if (!onlyNew) {
  await page.getByTestId('nav-images').click();
  await page.getByTestId('image-row').first().waitFor();
  await page.screenshot({ path: join(out, `images-${scheme}.png`) });

  if (scheme === 'light') {
    await page.getByTestId('pull-button').click();
    await page.getByTestId('pull-reference').fill('nope/missing');
    await page.getByTestId('pull-submit').click();
    await page.getByTestId('pull-error').filter({ hasText: /./ }).waitFor();
    await page.screenshot({ path: join(out, 'pull-error.png') });
    await page.getByTestId('pull-reference').fill('docker.io/library/httpd:2.4');
    await page.getByTestId('pull-submit').click();
    await page.getByTestId('layer-progress').first().waitFor();
    await page.waitForTimeout(700);
    await page.screenshot({ path: join(out, 'pull-progress.png') });
    await page.getByTestId('pull-success').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(out, 'pull-done.png') });
    await page.getByTestId('pull-close').click();

    await page.getByTestId('image-row').filter({ hasText: 'api' }).getByTestId('run-image').click();
    await page.getByTestId('port-row').first().waitFor();
    await page.getByTestId('create-name').fill('web');
    await page.getByTestId('add-port').click();
    await page.getByTestId('port-host').last().fill('8000');
    await page.getByTestId('port-container').last().fill('99999');
    await page.getByTestId('env-add').click();
    await page.getByTestId('env-key').last().fill('LOG_LEVEL');
    await page.getByTestId('env-value').last().fill('debug');
    await page.getByTestId('create-submit').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(out, 'create-form.png') });
    await page.keyboard.press('Escape');

    await page.getByTestId('nav-containers').click();
    await page.getByTestId('container-row').first().getByTestId('row-logs').click({ modifiers: ['Shift'] });
    await page.getByTestId('logs-content').waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(out, 'logs-dialog.png') });
    await page.keyboard.press('Escape');
    await page.getByTestId('container-row').nth(1).getByTestId('row-remove').click();
    await page.screenshot({ path: join(out, 'confirm-remove.png') });
    await page.keyboard.press('Escape');

    // Create form: volumes.
    await page.getByTestId('create-button').click();
    await page.getByTestId('create-image').fill('docker.io/library/postgres:16');
    await page.getByTestId('volume-add').click();
    await page.getByTestId('volume-value').last().fill('pgdata:/var/lib/postgresql/data');
    await page.getByTestId('volume-add').click();
    await page.getByTestId('volume-value').last().fill('./conf:/etc/pg:rx');
    await page.waitForTimeout(200);
    await page.getByTestId('volume-row').last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(out, 'create-volumes.png') });
    await page.keyboard.press('Escape');
  }
  }

  // Keyboard: focus the table, move down, open the details.
  await page.getByTestId('nav-containers').click();
  await page.keyboard.press('Control+1');
  await page.keyboard.press('/');
  // SHOT_CONTAINER: which container the details screenshots show (typed into the search).
  if (process.env.SHOT_CONTAINER) await page.keyboard.type(process.env.SHOT_CONTAINER);
  await page.keyboard.press('ArrowDown');
  await page.screenshot({ path: join(out, `keyboard-cursor-${scheme}.png`) });
  await page.keyboard.press('Enter');
  await page.getByTestId('container-details').waitFor();
  await page.waitForTimeout(4500); // stats samples for the sparklines
  await page.screenshot({ path: join(out, `details-summary-${scheme}.png`) });

  await page.getByTestId('details-tab-logs').click();
  await page.getByTestId('logs-terminal').locator('.xterm-rows').waitFor();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(out, `details-logs-${scheme}.png`) });
  if (scheme === 'light') {
    await page.getByTestId('logs-search').fill('ERROR');
    await page.keyboard.press('Enter');
    await page.getByTestId('logs-search-all').click();
    await page.getByTestId('logs-match').first().waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(out, 'details-logs-search.png') });
    await page.getByTestId('logs-match').first().click();
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(out, 'details-logs-jump.png') });
    await page.getByTestId('logs-timestamps').check();
    await page.getByTestId('logs-pause').click();
    await page.waitForTimeout(1200);
    await page.screenshot({ path: join(out, 'details-logs-paused.png') });
  }

  await page.getByTestId('details-tab-inspect').click();
  await page.getByTestId('inspect-search').fill('running');
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(out, `details-inspect-${scheme}.png`) });

  await page.getByTestId('details-tab-terminal').click();
  await page.getByTestId('terminal').and(page.locator('[data-state="open"]')).waitFor({ timeout: 10_000 }).catch(() => {});
  await page.keyboard.type('ls /\n');
  await page.keyboard.type('printf "\\033[32mhello\\033[0m from %s\\n" $(hostname)\n');
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(out, `details-terminal-${scheme}.png`) });
  await page.getByTestId('details-back').click();
  await page.getByTestId('container-search').fill('');

  await page.keyboard.press('Control+3');
  await page.getByTestId('volumes-table').waitFor();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, `volumes-${scheme}.png`) });
  if (scheme === 'light') {
    const used = page.getByTestId('volume-row').filter({ has: page.getByTestId('volume-used-by').filter({ hasText: /\w/ }) }).first();
    await used.getByTestId('volume-remove-row').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('confirm-error').waitFor({ timeout: 5000 }).catch(() => {});
    await page.screenshot({ path: join(out, 'volume-remove-refused.png') });
    await page.keyboard.press('Escape');
  }

  await page.getByTestId('nav-settings').click();
  await page.getByTestId('settings-page').waitFor();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, `settings-${scheme}.png`) });
  await page.close();
}
await context.close();
console.log(`screenshots in ${out}`);
