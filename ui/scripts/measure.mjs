// Measurements of the UI in Debian's chromium (playwright-core) against a running server:
//
//   node scripts/measure.mjs logs   URL CONTAINER [seconds]  sustained lines/s the logs viewer shows
//                                                            while CONTAINER prints, and frame times
//   node scripts/measure.mjs heap   URL CONTAINER            JS heap before and after opening the
//                                                            logs of CONTAINER (a huge log), paging
//                                                            back and searching the whole file
//   node scripts/measure.mjs scroll URL                      frame times while scrolling the
//                                                            Containers table (fake-serve --containers 5000)
//
// Frame times come from requestAnimationFrame in the page. Dev tooling, not part of dist/.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [mode, url, name, secondsArg] = process.argv.slice(2);
if (!mode || !url) {
  console.error('usage: node scripts/measure.mjs logs|heap|scroll URL [CONTAINER] [seconds]');
  process.exit(2);
}

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'berth-measure-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1360, height: 820 },
});
const page = await context.newPage();
page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
page.on('crash', () => console.error('page crashed'));
context.on('close', () => console.error('context closed'));
const cdp = await context.newCDPSession(page);
await cdp.send('Performance.enable');

async function heapMB() {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return +(usedSize / 1048576).toFixed(1);
}

/** The page's main-thread work (script, layout, style) in ms, from Chrome's Performance metrics. */
async function work() {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { script: m.ScriptDuration * 1000, layout: m.LayoutDuration * 1000, style: m.RecalcStyleDuration * 1000, task: m.TaskDuration * 1000 };
}

/** Starts recording rAF frame gaps in the page; the returned function stops and summarises. */
async function recordFrames() {
  await page.evaluate(() => {
    const w = window;
    w.__frames = [];
    w.__recording = true;
    let last = performance.now();
    const tick = (t) => {
      w.__frames.push(t - last);
      last = t;
      if (w.__recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const w0 = await work();
  return async () => {
    const w1 = await work();
    const frames = await page.evaluate(() => {
      window.__recording = false;
      return window.__frames.slice(1);
    });
    const sorted = [...frames].sort((a, b) => a - b);
    const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    return {
      frames: frames.length,
      meanMs: +(frames.reduce((a, b) => a + b, 0) / frames.length).toFixed(2),
      p50Ms: +pct(50).toFixed(2),
      p95Ms: +pct(95).toFixed(2),
      p99Ms: +pct(99).toFixed(2),
      maxMs: +sorted[sorted.length - 1].toFixed(2),
      over50ms: frames.filter((f) => f > 50).length,
      // Main-thread work per frame, whatever else the machine is doing.
      workPerFrameMs: {
        script: +((w1.script - w0.script) / frames.length).toFixed(2),
        layout: +((w1.layout - w0.layout) / frames.length).toFixed(2),
        style: +((w1.style - w0.style) / frames.length).toFixed(2),
        allTasks: +((w1.task - w0.task) / frames.length).toFixed(2),
      },
    };
  };
}

async function openLogs(container) {
  await page.goto(url);
  await page.getByTestId('container-row').first().waitFor({ timeout: 15_000 });
  await page.locator(`[data-testid="container-row"][data-name="${container}"]`).getByTestId('row-logs').click();
  await page.getByTestId('logs-terminal').locator('.xterm-rows').waitFor();
}

const status = () => page.getByTestId('logs-status');
const attr = async (a) => Number(await status().getAttribute(a));

if (mode === 'logs') {
  const seconds = Number(secondsArg ?? 10);
  await openLogs(name);
  await page.waitForTimeout(2000); // warm up
  const r0 = await attr('data-received');
  const t0 = Date.now();
  const stop = await recordFrames();
  await page.waitForTimeout(seconds * 1000);
  const frames = await stop();
  const r1 = await attr('data-received');
  const elapsed = (Date.now() - t0) / 1000;
  console.log(JSON.stringify({ mode, container: name, seconds: +elapsed.toFixed(1), lines: r1 - r0, linesPerSecond: Math.round((r1 - r0) / elapsed), loadedLines: await attr('data-lines'), heapMB: await heapMB(), frames }, null, 2));
} else if (mode === 'heap') {
  await page.goto(url);
  await page.getByTestId('container-row').first().waitFor({ timeout: 15_000 });
  await page.waitForTimeout(1000);
  const before = await heapMB();
  const t0 = Date.now();
  await openLogs(name);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="logs-status"]')?.getAttribute('data-lines')) > 0, null, { timeout: 60_000 });
  const openMs = Date.now() - t0;
  await page.waitForTimeout(1000);
  const opened = await heapMB();
  // Page back 30 times (30 × 1000 lines: more than the ring keeps).
  for (let i = 0; i < 30; i++) {
    const before = await attr('data-lines');
    await page.getByTestId('logs-load-older').click();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="logs-status"]')?.getAttribute('data-lines')) !== n || document.querySelector('[data-testid="logs-status"]')?.textContent?.includes('not following'), before, { timeout: 5_000 }).catch(() => {});
    if (process.env.VERBOSE) console.error(`page ${i}: ${await attr('data-lines')} lines`);
  }
  await page.waitForTimeout(500);
  const paged = await heapMB();
  const linesAfterPaging = await attr('data-lines');
  await page.getByTestId('logs-search').fill('needle');
  const s0 = Date.now();
  await page.getByTestId('logs-search-all').click();
  await page.getByTestId('logs-search-results').waitFor({ timeout: 120_000 });
  const searchMs = Date.now() - s0;
  const searched = await heapMB();
  console.log(JSON.stringify({ mode, container: name, heapMB: { containersPane: before, logsOpened: opened, afterPagingBack30: paged, afterWholeLogSearch: searched }, openMs, linesAfterPaging, searchMs }, null, 2));
} else if (mode === 'scroll') {
  await page.goto(url);
  await page.getByTestId('container-row').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(2500); // a stats sample
  const count = await page.getByTestId('nav-containers-count').textContent();
  const heap = await heapMB();
  const stop = await recordFrames();
  // Scroll the table by 60 px a frame for 5 s, down then up.
  await page.evaluate(async () => {
    const el = document.querySelector('[data-testid="containers-table"]');
    const end = performance.now() + 5000;
    let dir = 1;
    await new Promise((resolve) => {
      const step = () => {
        el.scrollTop += 60 * dir;
        if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) dir = -1;
        if (el.scrollTop <= 0) dir = 1;
        if (performance.now() < end) requestAnimationFrame(step);
        else resolve();
      };
      requestAnimationFrame(step);
    });
  });
  const frames = await stop();
  const rowsInDom = await page.getByTestId('container-row').count();
  console.log(JSON.stringify({ mode, containers: Number(count), rowsInDom, heapMB: heap, frames }, null, 2));
}
await context.close();
