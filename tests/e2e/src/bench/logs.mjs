// The logs viewer under a flood (run by bench/app-logs, which sets up the world): a container
// writes BENCH_LINES numbered lines at BENCH_RATE lines a second (bursts of a tenth of a second's
// lines every 100 ms, paced on /proc/uptime: busybox has no rate limiter), while its Logs tab is
// open and following; in Debian's Chromium against `berth-desktop --serve` and, when tauri-driver
// runs (E2E_DRIVER_PORT), in the real window. Measured in the page: the time between animation
// frames while the lines stream (from the start signal to the last line on screen) and what the
// viewer got: every line counted (`received`), the lines it keeps (its ring) and its terminal's
// buffer checked for gaps once the flood is over, the last line on screen. The frames are
// counted until the terminal holds every kept line (it skips through a flood's lines and is
// rewritten when the flood calms). Prints a table with the load average.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { berth } from '../utility/berth.mjs';
import { launchBrowser } from '../utility/browser.mjs';
import { env } from '../utility/env.mjs';

const RATE = Number(process.env.BENCH_RATE ?? 50_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const LINES = Number(process.env.BENCH_LINES ?? RATE * SECONDS);
const BURST = Math.max(1, Math.round(RATE / 10));
// About 90 bytes a line, as a busy service's log lines go.
const PAD = 'the quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstuvwxyz';

// Waits for /tmp/go, then writes the numbered lines in bursts, each burst at its 100 ms mark
// (a late burst is not made up for by sleeping less than zero: the rate printed is the real one).
const SCRIPT = `
while [ ! -e /tmp/go ]; do usleep 20000; done
n=${LINES}; b=${BURST}; k=0
read u _ < /proc/uptime; t0=\${u%.*}\${u#*.}
while [ $((k*b)) -lt $n ]; do
  s=$((k*b+1)); e=$(((k+1)*b)); [ $e -gt $n ] && e=$n
  awk -v s=$s -v e=$e -v pad="${PAD}" 'BEGIN { for (i = s; i <= e; i++) printf "line %08d %s\\n", i, pad }'
  k=$((k+1))
  read u _ < /proc/uptime; now=\${u%.*}\${u#*.}
  d=$(( (t0 + k*10 - now) * 10000 ))
  [ $d -gt 0 ] && usleep $d
done
sleep 3600
`;

const TICKS = 100; // USER_HZ on Linux

/** Every process: pid, parent, executable name, CPU ticks used. */
function processes() {
  const list = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      list.push({ pid: Number(entry), ppid: Number(f[1]), name, ticks: Number(f[11]) + Number(f[12]) });
    } catch {}
  }
  return list;
}

/** CPU ticks used so far by each group's root process and those under it. */
function cpuTicks(groups) {
  const all = processes();
  const out = {};
  for (const [label, root] of Object.entries(groups)) {
    const seen = new Set([root]);
    let ticks = 0;
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of all) if (!seen.has(p.pid) && seen.has(p.ppid)) (seen.add(p.pid), (grew = true));
    }
    // This script is the browser's parent: only its children count.
    for (const p of all) {
      if (!seen.has(p.pid) || p.pid === process.pid) continue;
      ticks += p.ticks;
      out[`${label} ${p.name}`] = (out[`${label} ${p.name}`] ?? 0) + p.ticks;
    }
    out[label] = ticks;
  }
  return out;
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The rate the container really wrote at, from the timestamps of its log file (k8s-file:
 *  `TIME STREAM F|P TEXT` a record). */
function producedRate(id) {
  const text = readFileSync(`${env.root}/containers/${id}/ctr.log`, 'utf8');
  let lines = 0;
  let first = '';
  let last = '';
  for (const record of text.split('\n')) {
    if (!/ line \d{8} /.test(record)) continue;
    lines += 1;
    if (first === '') first = record;
    last = record;
  }
  const t = (r) => Date.parse(r.slice(0, r.indexOf(' ')));
  const span = (t(last) - t(first)) / 1000;
  // The first burst's lines land at once: the span covers the bursts after it.
  return { lines, rate: span > 0 ? (lines - BURST) / span : NaN };
}

// Runs in the page: starts recording animation frame times.
function startFrames() {
  const w = /** @type {any} */ (window);
  w.__frames = { times: [], on: true };
  const tick = (t) => {
    if (!w.__frames.on) return;
    w.__frames.times.push(t);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// Runs in the page: what the viewer has, its ring and its terminal's buffer checked for gaps.
function viewerState() {
  const probe = /** @type {any} */ (document.querySelector('[data-testid="logs-viewer"]'))?.berthLogs;
  if (!probe) return null;
  const num = (s) => {
    const m = /line (\d{8}) /.exec(s);
    return m ? Number(m[1]) : null;
  };
  const check = (nums) => {
    let gaps = 0;
    for (let i = 1; i < nums.length; i++) if (nums[i] !== nums[i - 1] + 1) gaps += 1;
    return { count: nums.length, first: nums[0] ?? null, last: nums.at(-1) ?? null, gaps };
  };
  const { view, terminal } = probe;
  const ring = check(view.ring.toArray().map((e) => num(e.line)).filter((n) => n !== null));
  const buf = terminal.buffer.active;
  const rows = [];
  for (let y = 0; y < buf.length; y++) {
    const n = num(buf.getLine(y)?.translateToString(true) ?? '');
    if (n !== null) rows.push(n);
  }
  // The batcher is the view's own: read for the verbose line only.
  const b = view.batcher;
  return { received: view.state.received, ring, screen: check(rows), batcher: { skipped: b?.skippedLines, rate: b?.rate, writes: b?.writes, flushes: b?.flushes } };
}

// Runs in the page, while the lines stream: cheap (the full check reads 20 000 rows and would
// itself make long frames): lines received and whether the last one is the terminal's.
function progress(lines) {
  const probe = /** @type {any} */ (document.querySelector('[data-testid="logs-viewer"]'))?.berthLogs;
  if (!probe) return false;
  const buf = probe.terminal.buffer.active;
  let lastRow = '';
  for (let y = buf.length - 1; y >= 0 && y >= buf.length - 200 && lastRow === ''; y--) lastRow = buf.getLine(y)?.translateToString(true) ?? '';
  return probe.view.state.received >= lines && lastRow.includes(`line ${String(lines).padStart(8, '0')} `);
}

// Runs in the page: whether the terminal holds every line the viewer keeps (in a flood it is
// given only the newest screen a frame, and rewritten from the ring once the flood calms).
function settled() {
  const probe = /** @type {any} */ (document.querySelector('[data-testid="logs-viewer"]'))?.berthLogs;
  return !!probe && !probe.view.state.skipping && probe.view.batcher.backlog === 0;
}

// Runs in the page: stops recording; the frame-to-frame times in ms.
function stopFrames() {
  const w = /** @type {any} */ (window);
  w.__frames.on = false;
  const t = w.__frames.times;
  const out = [];
  for (let i = 1; i < t.length; i++) out.push(t[i] - t[i - 1]);
  return { deltas: out, start: t[0] };
}

function frameStats(deltas) {
  const s = [...deltas].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { frames: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.at(-1) ?? NaN, over33: s.filter((d) => d > 33.4).length };
}

/** Drives one viewer (`exec(fn, arg)` runs fn in its page) through a flood from container `name`. */
async function flood(name, id, exec, groups, shot = null) {
  await exec(startFrames);
  const load0 = loadavg();
  const cpu0 = cpuTicks(groups);
  const t0 = performance.now();
  await berth('exec', name, 'touch', '/tmp/go');
  const deadline = t0 + (SECONDS * 4 + 60) * 1000;
  let shotTaken = !shot;
  while (performance.now() < deadline && !(await exec(progress, LINES))) {
    // BENCH_SCREENSHOT=FILE (Chromium): what the viewer shows halfway through the flood.
    if (!shotTaken && performance.now() - t0 > (SECONDS * 1000) / 2) {
      shotTaken = true;
      await shot();
    }
    await sleep(250);
  }
  const shownAfter = (performance.now() - t0) / 1000;
  // The frames of the rewrite after the flood count too.
  while (performance.now() < deadline && !(await exec(settled))) await sleep(100);
  const wholeAfter = (performance.now() - t0) / 1000;
  const cpu1 = cpuTicks(groups);
  const cpu = Object.fromEntries(Object.keys(cpu1).map((k) => [k, (100 * (cpu1[k] - (cpu0[k] ?? 0))) / TICKS / wholeAfter]));
  const { deltas, start } = await exec(stopFrames);
  const frames = frameStats(deltas);
  if (process.env.BENCH_VERBOSE) {
    // When the long frames came, in s from the first frame.
    let at = 0;
    const long = [];
    for (const d of deltas) {
      at += d;
      if (d > 33.4) long.push(`${(at / 1000).toFixed(2)}s:${d.toFixed(0)}`);
    }
    console.error(`long frames (first at ${start.toFixed(0)} ms page time): ${long.join(' ')}`);
  }
  const load1 = loadavg();
  const state = await exec(viewerState);
  if (process.env.BENCH_VERBOSE) console.error(`batcher: ${JSON.stringify(state?.batcher)}`);
  const produced = producedRate(id);
  return { produced, state, frames, shownAfter, wholeAfter, cpu, load: `${load0} → ${load1}` };
}

/** The 25 functions with the most self time in a CPU profile, one a line. */
function topFunctions(profile) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${v.toFixed(0).padStart(7)} ms  ${k}`).join('\n');
}

async function container(name) {
  await berth('rm', '-f', name).catch(() => {});
  const id = (await berth('run', '-d', '--name', name, env.image, 'sh', '-c', SCRIPT)).trim();
  return id;
}

async function inChromium() {
  const name = 'logs-bench-chromium';
  const id = await container(name);
  const browser = await launchBrowser({ width: 1360, height: 820 });
  try {
    const page = await browser.newPage();
    await page.goto(`${env.url}#/containers/${id}/logs`);
    await page.waitForFunction(() => /following/.test(document.querySelector('[data-testid="logs-status"]')?.textContent ?? ''), null, { timeout: 60_000 });
    // BENCH_PROFILE=FILE: a CPU profile of the page during the flood (Chrome DevTools' format),
    // and its top functions by self time on stderr.
    const cdp = process.env.BENCH_PROFILE ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    const groups = { page: process.pid, app: Number(process.env.BERTH_SERVE_PID) };
    const shot = process.env.BENCH_SCREENSHOT ? () => page.screenshot({ path: process.env.BENCH_SCREENSHOT }) : null;
    const r = await flood(name, id, (fn, arg) => page.evaluate(fn, arg), groups, shot);
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(process.env.BENCH_PROFILE, JSON.stringify(profile));
      console.error(topFunctions(profile));
    }
    if (browser.problems.length > 0) console.error(`browser console:\n  ${browser.problems.join('\n  ')}`);
    return r;
  } finally {
    await browser.close();
    await berth('rm', '-f', name).catch(() => {});
  }
}

async function inWindow() {
  const { remote } = await import('webdriverio');
  const name = 'logs-bench-window';
  const id = await container(name);
  const browser = await remote({
    hostname: '127.0.0.1',
    port: env.driverPort,
    logLevel: 'error',
    connectionRetryTimeout: 120_000,
    capabilities: { 'wdio:enforceWebDriverClassic': true, 'tauri:options': { application: env.application } },
  });
  try {
    await browser.$('[data-testid="container-row"]').waitForExist({ timeout: 60_000 });
    await browser.setWindowSize(1360, 860);
    await browser.execute((h) => (location.hash = h), `#/containers/${id}/logs`);
    await browser.waitUntil(
      () => browser.execute(() => /following/.test(document.querySelector('[data-testid="logs-status"]')?.textContent ?? '')),
      { timeout: 60_000, interval: 200 },
    );
    // The window's processes (berth-desktop and its WebKit ones) are tauri-driver's.
    const groups = { page: Number(process.env.E2E_DRIVER_PID), app: Number(process.env.BERTH_SERVE_PID) };
    return await flood(name, id, (fn, arg) => browser.execute(fn, arg), groups);
  } finally {
    await browser.deleteSession();
    await berth('rm', '-f', name).catch(() => {});
  }
}

await berth('pull', '-q', env.image);
console.error(`${LINES} lines at ${RATE} lines/s (${BURST} every 100 ms), load ${loadavg()}`);
const runs = [];
if (!process.env.BENCH_WINDOW_ONLY) runs.push(['Chromium, --serve', await inChromium()]);
if (process.env.E2E_DRIVER_PORT) runs.push(['window (WebKit)', await inWindow()]);

const ms = (x) => `${x.toFixed(1)} ms`;
const rows = [
  ['lines written', (r) => String(r.produced.lines)],
  ['rate written, lines/s', (r) => Math.round(r.produced.rate).toLocaleString('en')],
  ['received by the viewer', (r) => String(r.state?.received ?? 0)],
  ['dropped (written - received)', (r) => String(r.produced.lines - (r.state?.received ?? 0))],
  ['kept in its ring: lines, gaps', (r) => `${r.state?.ring.count ?? 0}, ${r.state?.ring.gaps ?? '-'}`],
  ['in the terminal: lines, gaps, last', (r) => `${r.state?.screen.count ?? 0}, ${r.state?.screen.gaps ?? '-'}, ${r.state?.screen.last ?? '-'}`],
  ['last line on screen after, s', (r) => r.shownAfter.toFixed(2)],
  ['every line in the terminal after, s', (r) => (r.wholeAfter ?? r.shownAfter).toFixed(2)],
  ['frames', (r) => String(r.frames.frames)],
  ['frame time p50', (r) => ms(r.frames.p50)],
  ['frame time p95', (r) => ms(r.frames.p95)],
  ['frame time p99', (r) => ms(r.frames.p99)],
  ['longest frame', (r) => ms(r.frames.max)],
  ['frames over 33 ms', (r) => String(r.frames.over33)],
  ['CPU, % of a core: the UI (Chromium; window)', (r) => `${r.cpu.page.toFixed(0)} %`],
  ['  of which berth-desktop (the window)', (r) => (r.cpu['page berth-desktop'] === undefined ? '-' : `${r.cpu['page berth-desktop'].toFixed(0)} %`)],
  ['CPU: berth-desktop --serve', (r) => `${r.cpu.app.toFixed(0)} %`],
  ['load average (1, 5, 15 min)', (r) => r.load],
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const widths = runs.map(([label, r]) => Math.max(label.length, ...rows.map(([, f]) => f(r).length)));
console.log(`| ${`logs at ${RATE} lines/s`.padEnd(w0)} | ${runs.map(([l], i) => l.padEnd(widths[i])).join(' | ')} |`);
console.log(`|${'-'.repeat(w0 + 2)}|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
for (const [label, f] of rows) console.log(`| ${label.padEnd(w0)} | ${runs.map(([, r], i) => f(r).padStart(widths[i])).join(' | ')} |`);
const failed = runs.some(([, r]) => r.produced.lines !== LINES || (r.state?.received ?? 0) !== LINES || r.state?.ring.gaps !== 0 || r.state?.screen.gaps !== 0 || r.state?.screen.last !== LINES);
if (failed) console.error('bench/app-logs: lines were lost (see the table)');
