//! Healthchecks as the app shows them: a health's tone and words (the rows' badge, the Health
//! tab), a check's command and timings as the `--health-*` flags write them, a result's
//! duration.

import type { HealthCheck } from './bindings/HealthCheck';
import type { HealthCommand } from './bindings/HealthCommand';
import type { HealthOnFailure } from './bindings/HealthOnFailure';
import type { HealthStatus } from './bindings/HealthStatus';
import { joinCommand } from './forms/command';

export type Tone = 'ok' | 'warn' | 'danger';

export function healthTone(h: HealthStatus): Tone {
  return h === 'healthy' ? 'ok' : h === 'starting' ? 'warn' : 'danger';
}

/** What the health means, for a tooltip and screen readers. */
export function healthMeaning(h: HealthStatus): string {
  switch (h) {
    case 'healthy':
      return 'healthy: the last check passed';
    case 'starting':
      return 'starting: no check has passed yet';
    case 'unhealthy':
      return 'unhealthy: its checks failed as many times in a row as it retries';
  }
}

/** The check's command as a person types it: the shell line, or the program and its arguments. */
export function commandText(c: HealthCommand): string {
  return c.form === 'shell' ? c.line : joinCommand(c.args);
}

/**
 * Milliseconds as the flags write durations (`30s`, `1m30s`, `500ms`, `1h`): the units that
 * are not zero, largest first.
 */
export function flagDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

/** How often the check runs. */
export function intervalText(check: HealthCheck): string {
  return check.intervalMs === null ? 'only when run by hand' : `every ${flagDuration(check.intervalMs)}`;
}

/** One line about a check: its command and how often (the create form's note on the image's). */
export function checkSummary(check: HealthCheck): string {
  return `${commandText(check.command)} (${intervalText(check)}, timeout ${flagDuration(check.timeoutMs)}, ${check.retries} ${check.retries === 1 ? 'retry' : 'retries'})`;
}

export const ON_FAILURE: { value: HealthOnFailure; label: string }[] = [
  { value: 'none', label: 'Nothing' },
  { value: 'kill', label: 'Kill it' },
  { value: 'restart', label: 'Restart it' },
  { value: 'stop', label: 'Stop it' },
];

export function onFailureText(a: HealthOnFailure): string {
  return a === 'none' ? 'nothing (it stays unhealthy)' : a === 'kill' ? 'kill the container' : a === 'restart' ? 'restart the container' : 'stop the container';
}

/** A check's run time: "12 ms", "1.5 s", "2m 3s". */
export function runTime(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0).replace(/\.0$/, '')} s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${Math.round((ms - m * 60_000) / 1000)}s`;
}
