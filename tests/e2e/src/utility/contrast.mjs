// Text contrast as axe-core measures it (WCAG AA: 4.5:1, 3:1 for large text), in a page.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * The colour-contrast failures on `page` in `theme` ('light' or 'dark', set as the app's
 * Settings does): one line per element, with the colours and the ratio axe found.
 * @param {import('playwright-core').Page} page
 */
export async function contrastFailures(page, theme) {
  await page.evaluate((t) => {
    document.documentElement.dataset.theme = t;
  }, theme);
  // Let transitions settle before colours are read.
  await page.waitForTimeout(300);
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // @ts-ignore: axe is the script just added
    const r = await window.axe.run(document, { runOnly: { type: 'rule', values: ['color-contrast'] } });
    return r.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${n.any[0]?.message ?? v.help}`));
  });
  return result;
}
