// The app's CPU while idle (run by bench/app-idle, which sets up the world): N running
// containers, a pane open and nothing touched for BENCH_IDLE_MS; the CPU time the UI's processes
// used meanwhile (utime + stime from /proc/PID/stat), as a share of one core. The Containers
// pane against the Images pane, in Debian's Chromium against `berth-desktop --serve` (its
// renderer, GPU and browser processes) and, when tauri-driver runs (E2E_DRIVER_PORT), in the
// real window (WebKitWebProcess and berth-desktop), 1600 px wide (the Created and Uptime columns
// shown), from 15 s after the pane showed. Prints a table.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env } from '../utility/env.mjs';

const COUNT = Number(process.env.BENCH_CONTAINERS ?? 30);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 20_000);
// The app's start (its first loads and layouts) keeps WebKit busy for a few seconds: idle is after.
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 15_000);
// Containers running for more than a minute, as most are: a list of ones started a moment ago
// shows seconds ticking (BENCH_AGE_S=0 measures that too).
const AGE_S = Number(process.env.BENCH_AGE_S ?? 65);
const TICKS = 100; // USER_HZ on Linux
const WIDTH = 1600;

function processes() {
  const list = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let exe = '';
      try {
        exe = basename(readlinkSync(`/proc/${entry}/exe`));
      } catch {}
      // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
      list.push({ pid: Number(entry), ppid: Number(fields[1]), exe, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {}
  }
  return list;
}

function descendants(root) {
  const all = processes();
  const out = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift();
    for (const c of all.filter((x) => x.ppid === p)) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** CPU used by `pick()`'s processes during `ms`, per process name, in % of one core. */
async function cpuOver(pick, ms) {
  const before = new Map(pick().map((p) => [p.pid, p]));
  const t0 = performance.now();
  await sleep(ms);
  const after = pick();
  const secs = (performance.now() - t0) / 1000;
  const byExe = {};
  for (const p of after) {
    const used = p.ticks - (before.get(p.pid)?.ticks ?? 0);
    byExe[p.exe] = (byExe[p.exe] ?? 0) + (100 * used) / TICKS / secs;
  }
  return byExe;
}

const total = (byExe) => Object.values(byExe).reduce((a, b) => a + b, 0);
const serve = () => processes().filter((p) => p.pid === Number(process.env.BERTH_SERVE_PID));

async function browserIdle(pane) {
  const browser = await launchBrowser({ width: WIDTH, height: 820 });
  try {
    const page = await browser.newPage();
    await page.goto(`${env.url}#/${pane}`);
    await page.waitForSelector(pane === 'containers' ? '[data-testid="container-row"]' : '[data-testid="image-row"]', { timeout: 60_000 });
    await sleep(SETTLE_MS);
    // What the page did meanwhile, as Chromium counts it.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const m0 = await metrics();
    const chromium = () => descendants(process.pid).filter((p) => p.exe === 'chromium');
    const [ui, backend] = await Promise.all([cpuOver(chromium, IDLE_MS), cpuOver(serve, IDLE_MS)]);
    const m1 = await metrics();
    const per = (k) => (m1[k] - m0[k]) / (IDLE_MS / 1000);
    const page_ = { layouts: per('LayoutCount'), styles: per('RecalcStyleCount'), scriptMs: per('ScriptDuration') * 1000, taskMs: per('TaskDuration') * 1000 };
    return { ui: total(ui), backend: total(backend), page: page_ };
  } finally {
    await browser.close();
  }
}

async function windowIdle(pane) {
  const { remote } = await import('webdriverio');
  const browser = await remote({
    hostname: '127.0.0.1',
    port: env.driverPort,
    logLevel: 'error',
    connectionRetryTimeout: 120_000,
    capabilities: { 'wdio:enforceWebDriverClassic': true, 'tauri:options': { application: env.application } },
  });
  try {
    await browser.$('[data-testid="container-row"]').waitForExist({ timeout: 60_000 });
    // Wide enough for the Created and Uptime columns.
    await browser.setWindowSize(WIDTH, 900);
    if (pane === 'images') {
      await browser.$('[data-testid="nav-images"]').click();
      await browser.$('[data-testid="image-row"]').waitForExist({ timeout: 30_000 });
    }
    await sleep(SETTLE_MS);
    // What the page changes meanwhile (WebKit lays out and repaints for each).
    await browser.execute(() => {
      const w = /** @type {any} */ (window);
      w.__idle = { mutations: 0 };
      new MutationObserver((list) => (w.__idle.mutations += list.length)).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const driver = Number(process.env.E2E_DRIVER_PID);
    const app = () => descendants(driver).filter((p) => /^(berth-desktop|WebKitWebProcess|WebKitNetworkProcess)$/.test(p.exe));
    const byExe = await cpuOver(app, IDLE_MS);
    const seen = await browser.execute(() => /** @type {any} */ (window).__idle);
    console.error(`window, ${pane} pane, over ${IDLE_MS / 1000} s: ${seen.mutations} DOM mutations`);
    return { web: byExe.WebKitWebProcess ?? 0, app: byExe['berth-desktop'] ?? 0 };
  } finally {
    await browser.deleteSession();
  }
}

await berth('pull', '-q', env.image);
for (let i = 0; i < COUNT; i++) await berth('run', '-d', '--name', `idle-${String(i).padStart(2, '0')}`, env.image, 'sleep', '3600');
await sleep(AGE_S * 1000);
console.error(`${COUNT} containers running for ${AGE_S} s and more; idle for ${IDLE_MS / 1000} s per measurement`);

const pct = (x) => `${x.toFixed(1)} %`;
const rows = [];
const panes = (process.env.BENCH_PANES ?? 'containers,images').split(',');
for (const pane of panes) {
  if (process.env.BENCH_WINDOW_ONLY) {
    const w = await windowIdle(pane);
    rows.push([`window, ${pane} pane: WebKitWebProcess`, pct(w.web)], [`  berth-desktop (the window's)`, pct(w.app)]);
    continue;
  }
  const b = await browserIdle(pane);
  rows.push(
    [`Chromium, ${pane} pane: browser processes`, pct(b.ui)],
    [`  page: layouts / style recalcs per s`, `${b.page.layouts.toFixed(1)} / ${b.page.styles.toFixed(1)}`],
    [`  page: script / all tasks, ms per s`, `${b.page.scriptMs.toFixed(1)} / ${b.page.taskMs.toFixed(1)}`],
    [`  berth-desktop --serve meanwhile`, pct(b.backend)],
  );
  if (process.env.E2E_DRIVER_PORT) {
    const w = await windowIdle(pane);
    rows.push([`window, ${pane} pane: WebKitWebProcess`, pct(w.web)], [`  berth-desktop (the window's)`, pct(w.app)]);
  }
}
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`| ${'idle CPU, % of one core'.padEnd(width)} | ${COUNT} containers |`);
console.log(`|${'-'.repeat(width + 2)}|--------------:|`);
for (const [label, value] of rows) console.log(`| ${label.padEnd(width)} | ${value.padStart(13)} |`);
