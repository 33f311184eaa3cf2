// The desktop app's benchmark (run by bench/app, which sets up the world): idle memory of the
// real window (berth-desktop and its WebKit processes), time to the first rendered Containers
// pane, and time from `berth run -d` in a terminal to its row in the UI; with 0 and with
// 1000 containers. Prints a table.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { remote } from 'webdriverio';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env } from '../utility/env.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COUNT = Number(process.env.BENCH_CONTAINERS ?? 1000);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---- /proc: a process tree and its PSS ----

function processes() {
  const list = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      let exe = '';
      try {
        exe = basename(readlinkSync(`/proc/${entry}/exe`));
      } catch {}
      list.push({ pid: Number(entry), ppid, exe });
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

/** PSS in KiB from /proc/PID/smaps_rollup. */
function pss(pid) {
  const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
  return m ? Number(m[1]) : 0;
}

/** The app's processes under tauri-driver: berth-desktop and the WebKit processes it spawned. */
function appProcesses() {
  const driver = Number(process.env.E2E_DRIVER_PID);
  return descendants(driver).filter((p) => /^(berth-desktop|WebKitWebProcess|WebKitNetworkProcess)$/.test(p.exe));
}

// ---- the real window, through tauri-driver ----

async function windowRun(count) {
  const started = performance.now();
  const browser = await remote({
    hostname: '127.0.0.1',
    port: env.driverPort,
    logLevel: 'error',
    connectionRetryTimeout: 120_000,
    capabilities: { 'wdio:enforceWebDriverClassic': true, 'tauri:options': { application: env.application } },
  });
  try {
    const ready = count === 0 ? '[data-testid="containers-empty"]' : '[data-testid="container-row"]';
    await browser.$(ready).waitForExist({ timeout: 60_000, interval: 20 });
    const firstPaint = performance.now() - started;
    await sleep(IDLE_MS);
    const procs = appProcesses();
    const byKind = {};
    for (const p of procs) byKind[p.exe] = (byKind[p.exe] ?? 0) + pss(p.pid);
    const total = Object.values(byKind).reduce((a, b) => a + b, 0);
    return { firstPaint, total, byKind, procs: procs.length };
  } finally {
    await browser.deleteSession();
  }
}

// ---- the UI in Chromium against berth-desktop --serve ----

async function browserRuns(count) {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const ready = count === 0 ? '[data-testid="containers-empty"]' : '[data-testid="container-row"]';
    const paints = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto('about:blank');
      const t0 = performance.now();
      await page.goto(env.url, { waitUntil: 'commit' });
      await page.waitForSelector(ready, { timeout: 60_000, polling: 'raf' });
      paints.push(performance.now() - t0);
    }
    const rows = [];
    const clis = [];
    for (let i = 0; i < RUNS; i++) {
      const name = `bench-run-${count}-${i}`;
      // only the row asked for is rendered, whatever the list's length (it is virtualised)
      await page.getByTestId('container-search').fill(name);
      const t0 = performance.now();
      const seen = page.waitForSelector(`[data-testid="container-row"][data-name="${name}"]`, { timeout: 60_000, polling: 'raf' });
      const run = berth('run', '-d', '--name', name, env.image, 'sleep', '600').then(() => clis.push(performance.now() - t0));
      await seen;
      rows.push(performance.now() - t0);
      await run;
      await berth('rm', '-f', name);
    }
    await page.getByTestId('container-search').fill('');
    return { paint: median(paints), runToRow: median(rows), runToRowAll: rows, cli: median(clis) };
  } finally {
    await browser.close();
  }
}

async function createMany(n) {
  const width = 4;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await berth('create', '--name', `bench-${String(i).padStart(4, '0')}`, env.image, 'sleep', '600');
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const ms = (x) => `${Math.round(x)} ms`;

const results = {};
await berth('pull', '-q', env.image);
for (const count of [0, COUNT]) {
  if (count > 0) {
    const t0 = performance.now();
    await createMany(count);
    console.error(`created ${count} containers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const win = await windowRun(count);
  console.error(`window, ${count} containers: ${JSON.stringify(win)}`);
  const web = await browserRuns(count);
  console.error(`browser, ${count} containers: ${JSON.stringify(web)}`);
  const servePss = pss(Number(process.env.BERTH_SERVE_PID));
  results[count] = { win, web, servePss };
}

const rows = [
  ['idle PSS, window: berth-desktop + WebKit processes', (r) => mib(r.win.total)],
  ['  berth-desktop', (r) => mib(r.win.byKind['berth-desktop'] ?? 0)],
  ['  WebKitWebProcess', (r) => mib(r.win.byKind.WebKitWebProcess ?? 0)],
  ['  WebKitNetworkProcess', (r) => mib(r.win.byKind.WebKitNetworkProcess ?? 0)],
  ['idle PSS, berth-desktop --serve (no window)', (r) => mib(r.servePss)],
  ['window: session start -> Containers pane rendered', (r) => ms(r.win.firstPaint)],
  [`browser: navigation -> Containers pane rendered (median of ${RUNS})`, (r) => ms(r.web.paint)],
  [`browser: berth run -d -> its row shown (median of ${RUNS})`, (r) => ms(r.web.runToRow)],
  [`  for comparison: berth run -d until it exits (median of ${RUNS})`, (r) => ms(r.web.cli)],
];
const head = ['', '0 containers', `${COUNT} containers`];
const table = [head, ...rows.map(([label, f]) => [label, f(results[0]), f(results[COUNT])])];
const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(line(table[0]));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of table.slice(1)) console.log(line(r));
console.log(
  '\nPodman Desktop: not measured. It is not installable on this machine (no Flatpak or Electron builds from\n' +
    'the registries it can reach), so these are Berth\'s absolute numbers only.',
);
