//! Sizes, ages and durations as the `berth` command (and Podman) prints them, so the app and
//! the CLI agree ("7.35 MB", "3 days ago").

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Decimal units, three significant digits: Podman's `units.HumanSizeWithPrecision(n, 3)`. */
export function humanSize(bytes: number): string {
  let v = Math.max(0, bytes);
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${sig3(v)} ${UNITS[u]}`;
}

function sig3(v: number): string {
  const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Go's units.HumanDuration of a number of seconds. */
export function humanDuration(seconds: number): string {
  const secs = Math.floor(seconds);
  const mins = Math.floor(seconds / 60);
  const hours = Math.floor(seconds / 3600 + 0.5);
  if (secs < 1) return 'Less than a second';
  if (secs === 1) return '1 second';
  if (secs < 60) return `${secs} seconds`;
  if (mins === 1) return 'About a minute';
  if (mins < 60) return `${mins} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** "3 days ago" for a unix time in seconds; "" when unknown. */
export function ago(unixSeconds: number | null, now: number): string {
  if (unixSeconds === null || unixSeconds <= 0) return '';
  return `${humanDuration(Math.max(0, now - unixSeconds))} ago`;
}

/**
 * Compact uptime for a table cell: "42s", "5m", "3h 12m", "4d 2h". Seconds only in the first
 * minute, as `docker ps` does: a list of running containers then changes once a minute, not
 * every second (a cell's text changing every second lays out and repaints the table each time,
 * which kept WebKit at 11% of a core with 30 containers idle).
 */
export function uptime(startedAt: number | null, now: number): string {
  if (startedAt === null) return '';
  let s = Math.max(0, Math.floor(now - startedAt));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

export function percent(value: number): string {
  if (!Number.isFinite(value)) return '';
  return `${value.toFixed(value >= 100 ? 0 : 1)}%`;
}

/** "1 image", "3 images". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/**
 * How long until a list showing these times ("… ago", uptime; unix seconds) must be drawn
 * again, in ms: a second while one of them is under a minute old (its seconds show), else until
 * the next whole minute of the clock. Every row then changes in the same frame once a minute,
 * not each in a frame of its own (WebKit lays out and repaints the window for each).
 */
export function nextTick(now: number, times: (number | null)[]): number {
  if (times.some((t) => t !== null && t > 0 && now - t < 60)) return 1000;
  return Math.max(1000, Math.ceil((60 - (now % 60)) * 1000));
}
