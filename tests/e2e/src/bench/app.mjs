// The desktop app's benchmark (run by bench/app, which sets up the world), with 0 containers
// and with each count of BENCH_CONTAINERS (a comma-separated list, default 1000):
// - the Containers pane's first paint, as the UI reports it (`report_first_paint`: the app
//   appends each report to $BERTH_FIRST_PAINT_FILE): in the window, from berth-desktop's exec;
//   in the browser, from the page's navigation (and, for comparison, what WebDriver and
//   playwright see from outside);
// - `berth run -d` in a terminal to its row in the pane, from the moment the CLI returns (and
//   from its start, for comparison), in the window and the browser: the page notes the frame
//   the row appears on (and the one it shows running) on the wall clock the CLI is timed on;
// - scrolling the whole list, top to bottom and back, one step per frame (frame times p50,
//   p95, p99, dropped frames);
// - idle memory: PSS of the window's processes (berth-desktop and its WebKit processes) and
//   of `berth-desktop --serve`.
// Containers beyond the first are copies of one made with `berth create` (bench/clone-containers).
// Prints one table.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { remote } from 'webdriverio';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env, e2eDir } from '../utility/env.mjs';
import { frameStats, scrollScript } from '../utility/frames.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COUNTS = (process.env.BENCH_CONTAINERS ?? '1000').split(',').map(Number);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const SCROLL_MS = Number(process.env.BENCH_SCROLL_MS ?? 4000);
const PAINTS = process.env.BERTH_FIRST_PAINT_FILE;
const SERVE_PID = Number(process.env.BERTH_SERVE_PID);
const CLONE = join(e2eDir, '..', '..', 'bench', 'clone-containers');
const execFileP = promisify(execFile);

const median = (xs) => {
  const s = xs.filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
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

// ---- the UI's own first-paint reports ----

/** Every report so far: `{ pid, sinceExecMs, mainAfterExecMs, report: FirstPaint }`. */
function paints() {
  if (!PAINTS || !existsSync(PAINTS)) return [];
  return readFileSync(PAINTS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The first report after the first `seen` ones that `pick` accepts (waits up to 60 s). */
async function nextPaint(seen, pick) {
  for (let i = 0; i < 600; i++) {
    const found = paints().slice(seen).find(pick);
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no first-paint report in ${PAINTS} (is BERTH_FIRST_PAINT_FILE passed to the app?)`);
}

// ---- in the page: the frame a row appears on, on the wall clock ----

const ROW = '[data-testid="container-row"]';
const rowOf = (name) => `${ROW}[data-name="${name}"]`;

/** (In the page) notes the wall-clock time of the first frame each selector matches on. */
function watchRows({ present, running }) {
  const seen = {};
  window.__benchRow = new Promise((resolve) => {
    const check = () => {
      if (seen.present == null && document.querySelector(present)) seen.present = Date.now();
      if (seen.running == null && document.querySelector(running)) seen.running = Date.now();
      if (seen.running != null && seen.present != null) resolve(seen);
      else requestAnimationFrame(check);
    };
    check();
  });
}

/** (In the page) types `text` into the Containers pane's search, as one input event. */
function typeSearch(text) {
  const input = document.querySelector('[data-testid="container-search"]');
  input.value = text;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/** A page the benchmark drives: playwright's (browser) or WebDriver's (window). */
function playwrightPage(page) {
  return {
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    awaitRow: () => page.evaluate(() => window.__benchRow),
    search: (text) => page.evaluate(typeSearch, text),
  };
}

function webdriverPage(browser) {
  // An async script: the function's source, called with the argument, its promise to `done`.
  const call = (fn, arg) =>
    browser.executeAsync(`const done = arguments[arguments.length - 1]; Promise.resolve((${fn.toString()})(arguments[0])).then(done);`, arg);
  return {
    evaluate: call,
    awaitRow: () => browser.executeAsync('const done = arguments[arguments.length - 1]; window.__benchRow.then(done);'),
    search: (text) => call(typeSearch, text),
  };
}

/** `berth run -d` RUNS times: its time, and the row's (present and running) after it returned. */
async function runToRow(page, count, where) {
  const out = { cli: [], present: [], running: [], fromStart: [] };
  for (let i = 0; i < RUNS; i++) {
    const name = `bench-run-${where}-${count}-${i}`;
    // only the row asked for is rendered, whatever the list's length (it is virtualised)
    await page.search(name);
    await sleep(100);
    await page.evaluate(watchRows, { present: rowOf(name), running: `${rowOf(name)} [data-status="running"]` });
    const t0 = Date.now();
    await berth('run', '-d', '--name', name, env.image, 'sleep', '600');
    const returned = Date.now();
    const seen = await page.awaitRow();
    out.cli.push(returned - t0);
    out.present.push(seen.present - returned);
    out.running.push(seen.running - returned);
    out.fromStart.push(seen.running - t0);
    await berth('rm', '-f', name);
  }
  await page.search('');
  return {
    cli: median(out.cli),
    present: median(out.present),
    running: median(out.running),
    fromStart: median(out.fromStart),
    all: out,
  };
}

async function scroll(page, count) {
  if (count === 0) return null;
  await sleep(500);
  const r = await page.evaluate(scrollScript, { selector: '[data-testid="containers-table"]', rowSelector: ROW, durationMs: SCROLL_MS });
  if (r.error) throw new Error(r.error);
  return { ...frameStats(r.deltas), distinctFirstRows: r.distinctFirstRows, scrollPx: r.max };
}

// ---- the real window, through tauri-driver ----

async function windowRun(count) {
  const seen = paints().length;
  const started = performance.now();
  const browser = await remote({
    hostname: '127.0.0.1',
    port: env.driverPort,
    logLevel: 'error',
    connectionRetryTimeout: 120_000,
    capabilities: { 'wdio:enforceWebDriverClassic': true, 'tauri:options': { application: env.application } },
  });
  try {
    await browser.setTimeout({ script: 120_000 });
    const ready = count === 0 ? '[data-testid="containers-empty"]' : ROW;
    await browser.$(ready).waitForExist({ timeout: 60_000, interval: 20 });
    const session = performance.now() - started;
    const paint = await nextPaint(seen, (p) => p.pid !== SERVE_PID);
    await sleep(IDLE_MS);
    const procs = appProcesses();
    const byKind = {};
    for (const p of procs) byKind[p.exe] = (byKind[p.exe] ?? 0) + pss(p.pid);
    const total = Object.values(byKind).reduce((a, b) => a + b, 0);
    const page = webdriverPage(browser);
    const rows = await runToRow(page, count, 'window');
    const frames = await scroll(page, count);
    return { session, paint, total, byKind, procs: procs.length, rows, frames };
  } finally {
    await browser.deleteSession();
  }
}

// ---- the UI in Chromium against berth-desktop --serve ----

async function browserRun(count) {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const ready = count === 0 ? '[data-testid="containers-empty"]' : ROW;
    const outside = [];
    const reported = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto('about:blank');
      const seen = paints().length;
      const t0 = performance.now();
      await page.goto(env.url, { waitUntil: 'commit' });
      await page.waitForSelector(ready, { timeout: 60_000, polling: 'raf' });
      outside.push(performance.now() - t0);
      reported.push((await nextPaint(seen, (p) => p.pid === SERVE_PID)).report);
    }
    const p = playwrightPage(page);
    const rows = await runToRow(p, count, 'browser');
    const frames = await scroll(p, count);
    return {
      outside: median(outside),
      painted: median(reported.map((r) => r.paintedMs)),
      script: median(reported.map((r) => r.scriptMs)),
      list: median(reported.map((r) => r.listMs)),
      rows,
      frames,
    };
  } finally {
    await browser.close();
  }
}

/** Grows the list to `count` containers: one made by `berth create`, the rest its copies. */
let have = 0;
async function grow(count) {
  if (count <= have) return;
  const t0 = performance.now();
  if (have === 0) {
    await berth('create', '--name', 'bench-source', env.image, 'sleep', '600');
    have = 1;
  }
  if (count > have) {
    await execFileP('python3', [CLONE, '--root', env.root, '--source', 'bench-source', '--count', String(count - have), '--prefix', `bench-${count}-`]);
  }
  have = count;
  console.error(`made ${count} containers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const uptime = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const ms = (x) => (x == null || Number.isNaN(x) ? 'n/a' : `${Math.round(x)} ms`);
const fms = (x) => (x == null || Number.isNaN(x) ? 'n/a' : `${x.toFixed(1)} ms`);
const frameCells = (f) => (f ? `${fms(f.p50)} / ${fms(f.p95)} / ${fms(f.p99)}` : 'n/a');
const dropCells = (f) => (f ? `${(f.dropped * 100).toFixed(1)} %` : 'n/a');

const loadBefore = uptime();
const results = {};
const counts = [0, ...COUNTS];
try {
  await berth('pull', '-q', env.image);
  for (const count of counts) {
    await grow(count);
    const win = await windowRun(count);
    console.error(`window, ${count} containers: ${JSON.stringify(win)}`);
    const web = await browserRun(count);
    console.error(`browser, ${count} containers: ${JSON.stringify(web)}`);
    const servePss = pss(SERVE_PID);
    results[count] = { win, web, servePss, load: uptime() };
  }
} finally {
  if (have > 1) await execFileP('python3', [CLONE, '--root', env.root, '--remove', 'bench-']).catch((e) => console.error(e.message));
}

const p = (r) => r.win.paint;
const rows = [
  ['window: exec -> Containers pane painted (the UI\'s report)', (r) => ms(p(r).sinceExecMs)],
  ['  exec -> main', (r) => ms(p(r).mainAfterExecMs)],
  ['  exec -> engine opened', (r) => ms(p(r).marks?.['engine opened'])],
  ['  exec -> window built', (r) => ms(p(r).marks?.['window built'])],
  ['  exec -> page load started', (r) => ms(p(r).marks?.['page load started'])],
  ['  exec -> page began (its clock\'s zero)', (r) => ms(p(r).sinceExecMs - p(r).report.paintedMs)],
  ['  page began -> script ran', (r) => ms(p(r).report.scriptMs)],
  ['  engine\'s list (asked -> answered)', (r) => ms(p(r).report.listMs)],
  ['  list answered -> painted', (r) => ms(p(r).report.paintedMs - p(r).report.listStartedMs - p(r).report.listMs)],
  ['window: WebDriver session start -> pane rendered', (r) => ms(r.win.session)],
  [`browser: navigation -> pane painted (the UI's report, median of ${RUNS})`, (r) => ms(r.web.painted)],
  ['  page began -> script ran', (r) => ms(r.web.script)],
  ['  engine\'s list', (r) => ms(r.web.list)],
  [`browser: navigation -> pane rendered (playwright, median of ${RUNS})`, (r) => ms(r.web.outside)],
  [`window: berth run -d returned -> its row shown (median of ${RUNS})`, (r) => ms(r.win.rows.present)],
  ['window: berth run -d returned -> its row shows running', (r) => ms(r.win.rows.running)],
  [`browser: berth run -d returned -> its row shown (median of ${RUNS})`, (r) => ms(r.web.rows.present)],
  ['browser: berth run -d returned -> its row shows running', (r) => ms(r.web.rows.running)],
  ['  for comparison: berth run -d started -> its row shows running (browser)', (r) => ms(r.web.rows.fromStart)],
  ['  for comparison: berth run -d until it returns', (r) => ms(r.web.rows.cli)],
  [`window: scrolling the list, frame p50 / p95 / p99 (${SCROLL_MS / 1000} s)`, (r) => frameCells(r.win.frames)],
  ['window: dropped frames at 60 Hz', (r) => dropCells(r.win.frames)],
  ['browser: scrolling the list, frame p50 / p95 / p99', (r) => frameCells(r.web.frames)],
  ['browser: dropped frames at 60 Hz', (r) => dropCells(r.web.frames)],
  ['idle PSS, window: berth-desktop + WebKit processes', (r) => mib(r.win.total)],
  ['  berth-desktop', (r) => mib(r.win.byKind['berth-desktop'] ?? 0)],
  ['  WebKitWebProcess', (r) => mib(r.win.byKind.WebKitWebProcess ?? 0)],
  ['  WebKitNetworkProcess', (r) => mib(r.win.byKind.WebKitNetworkProcess ?? 0)],
  ['idle PSS, berth-desktop --serve (no window)', (r) => mib(r.servePss)],
  ['load average after the column (1, 5, 15 min)', (r) => r.load],
];
const head = ['', ...counts.map((c) => `${c} containers`)];
const table = [head, ...rows.map(([label, f]) => [label, ...counts.map((c) => f(results[c]))])];
const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(`load average before: ${loadBefore}; ${process.env.BENCH_PROFILE ?? 'release'} build`);
console.log(line(table[0]));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of table.slice(1)) console.log(line(r));
console.log(
  '\nPodman Desktop: not measured. It is not installable on this machine (no Flatpak or Electron builds from\n' +
    'the registries it can reach), so these are Berth\'s absolute numbers only.',
);
