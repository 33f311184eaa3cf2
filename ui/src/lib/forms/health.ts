//! The create form's healthcheck: the `--health-*` flags as fields, checked as typed with the
//! CLI's grammar (`parseDuration` is the engine's `parse_duration`), and sent as the request's
//! `healthcheck`, `noHealthcheck` and `healthOnFailure`. A blank field keeps the image's value
//! (or the default); the engine lays the fields over the image's check.

import type { HealthCheck } from '../bindings/HealthCheck';
import type { HealthcheckRequest } from '../bindings/HealthcheckRequest';
import type { HealthOnFailure } from '../bindings/HealthOnFailure';

export interface HealthForm {
  /** A shell line; blank: the image's command. */
  command: string;
  interval: string;
  timeout: string;
  startPeriod: string;
  retries: string;
  onFailure: HealthOnFailure;
  /** `--no-healthcheck`: not even the image's check runs. */
  disabled: boolean;
}

export interface HealthFormErrors {
  command?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: string;
  onFailure?: string;
}

export function emptyHealthForm(): HealthForm {
  return { command: '', interval: '', timeout: '', startPeriod: '', retries: '', onFailure: 'none', disabled: false };
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
export const DURATION_HINT = 'give a number and a unit, like 30s, 1m30s or 500ms';

/**
 * A duration as the flags take it, in milliseconds: `30s`, `1m30s`, `500ms`, `1.5s`, a bare
 * number of seconds; `disable` and `0` are zero. Null when it is not one.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (t === 'disable' || t === '0') return 0;
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  if (t === '') return null;
  let total = 0;
  const part = /([0-9.]+)([^0-9.]+)/y;
  let at = 0;
  while (at < t.length) {
    part.lastIndex = at;
    const m = part.exec(t);
    if (!m) return null;
    const n = Number(m[1]);
    const unit = UNITS[m[2]];
    if (!Number.isFinite(n) || unit === undefined) return null;
    total += n * unit;
    at = part.lastIndex;
  }
  return total;
}

function durationError(what: string, text: string): string | undefined {
  if (text.trim() === '') return undefined;
  return parseDuration(text) === null ? `${what} "${text.trim()}" is not a duration: ${DURATION_HINT}` : undefined;
}

/**
 * The fields' errors. `imageCheck` is the image's own check (null: it has none; undefined:
 * not known yet, as before the image is read), which blank fields keep.
 */
export function validateHealthForm(h: HealthForm, imageCheck: HealthCheck | null | undefined): HealthFormErrors {
  const errors: HealthFormErrors = {};
  if (h.disabled) {
    if (h.onFailure !== 'none') errors.onFailure = 'an on-failure action needs a healthcheck: enable it, or choose "Nothing"';
    return errors;
  }
  // An interval of zero (`disable`) runs no periodic checks: only "Run check now" runs it.
  const interval = durationError('interval', h.interval);
  if (interval) errors.interval = interval;
  const timeout = durationError('timeout', h.timeout);
  if (timeout) errors.timeout = timeout;
  else if (h.timeout.trim() !== '' && parseDuration(h.timeout) === 0) errors.timeout = 'a check needs some time: give at least 1s';
  const startPeriod = durationError('start period', h.startPeriod);
  if (startPeriod) errors.startPeriod = startPeriod;
  const retries = h.retries.trim();
  if (retries !== '' && !(/^\d+$/.test(retries) && Number(retries) >= 1 && Number(retries) <= 4_294_967_295)) {
    errors.retries = 'retries: a whole number, 1 or more';
  }
  const hasCommand = h.command.trim() !== '';
  const timings = [h.interval, h.timeout, h.startPeriod, h.retries].some((f) => f.trim() !== '');
  if (!hasCommand && imageCheck === null && timings) {
    errors.command = 'the image has no healthcheck: give the command these timings are for';
  }
  if (!hasCommand && imageCheck === null && h.onFailure !== 'none') {
    errors.onFailure = 'an on-failure action needs a healthcheck: give a command';
  }
  return errors;
}

export function healthFormIsValid(e: HealthFormErrors): boolean {
  return Object.values(e).every((v) => v === undefined);
}

/** The request's healthcheck fields; call on a valid form. */
export function healthRequest(h: HealthForm): {
  healthcheck: HealthcheckRequest | null;
  noHealthcheck: boolean;
  healthOnFailure: HealthOnFailure;
} {
  if (h.disabled) return { healthcheck: null, noHealthcheck: true, healthOnFailure: 'none' };
  const text = (v: string) => (v.trim() === '' ? null : v.trim());
  const request: HealthcheckRequest = {
    command: h.command.trim(),
    interval: text(h.interval),
    timeout: text(h.timeout),
    startPeriod: text(h.startPeriod),
    retries: h.retries.trim() === '' ? null : Number(h.retries.trim()),
  };
  const given = request.command !== '' || request.interval !== null || request.timeout !== null || request.startPeriod !== null || request.retries !== null;
  return { healthcheck: given ? request : null, noHealthcheck: false, healthOnFailure: h.onFailure };
}
