// Screenshots of the main screens, light and dark, from a running server (the real
// `berth-desktop --serve` or scripts/fake-serve.mjs). Dev tooling, uses Debian's chromium.
//
//   node scripts/screenshots.mjs 'http://127.0.0.1:PORT/?token=TOKEN' out-dir

import { mkdtempSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, out = 'screenshots'] = process.argv.slice(2);
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
    await page.getByTestId('container-row').first().getByTestId('row-logs').click();
    await page.getByTestId('logs-content').waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(out, 'logs.png') });
    await page.keyboard.press('Escape');
    await page.getByTestId('container-row').nth(1).getByTestId('row-remove').click();
    await page.screenshot({ path: join(out, 'confirm-remove.png') });
    await page.keyboard.press('Escape');
  }
  await page.close();
}
await context.close();
console.log(`screenshots in ${out}`);
