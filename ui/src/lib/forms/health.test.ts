import { describe, expect, it } from 'vitest';
import type { HealthCheck } from '../bindings/HealthCheck';
import { checkSummary, commandText, flagDuration, healthTone, intervalText, runTime } from '../health';
import { buildCreateRequest, emptyForm } from './create';
import { emptyHealthForm, healthRequest, parseDuration, validateHealthForm, type HealthForm } from './health';

const form = (over: Partial<HealthForm>): HealthForm => ({ ...emptyHealthForm(), ...over });
const imageCheck: HealthCheck = {
  command: { form: 'exec', args: ['/bin/check', '--quick'] },
  intervalMs: 10_000,
  timeoutMs: 30_000,
  startPeriodMs: 0,
  retries: 3,
};

describe('parseDuration, as the --health-* flags read durations', () => {
  it.each<[string, number | null]>([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['2h', 7_200_000],
    ['1h2m3s4ms', 3_723_004],
    [' 10s ', 10_000],
    ['2', 2000],
    ['0', 0],
    ['0s', 0],
    ['disable', 0],
    ['250us', 0.25],
    ['', null],
    ['soon', null],
    ['5x', null],
    ['5', 5000],
    ['-1s', null],
    ['1..5s', null],
    ['30 s', null],
    ['s', null],
    ['10S', null],
  ])('%j', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('the healthcheck fields', () => {
  it('are all optional', () => {
    expect(validateHealthForm(emptyHealthForm(), undefined)).toEqual({});
    expect(validateHealthForm(emptyHealthForm(), null)).toEqual({});
    expect(healthRequest(emptyHealthForm())).toEqual({ healthcheck: null, noHealthcheck: false, healthOnFailure: 'none' });
  });

  it('name a bad duration, a zero timeout and bad retries in words', () => {
    const e = validateHealthForm(form({ command: 'true', interval: '5x', timeout: '0', startPeriod: 'later', retries: '0' }), null);
    expect(e).toEqual({
      interval: 'interval "5x" is not a duration: give a number and a unit, like 30s, 1m30s or 500ms',
      timeout: 'a check needs some time: give at least 1s',
      startPeriod: 'start period "later" is not a duration: give a number and a unit, like 30s, 1m30s or 500ms',
      retries: 'retries: a whole number, 1 or more',
    });
    expect(validateHealthForm(form({ command: 'true', retries: '2.5' }), null).retries).toBe('retries: a whole number, 1 or more');
    expect(validateHealthForm(form({ command: 'true', interval: 'disable', timeout: '1m30s', retries: '5' }), null)).toEqual({});
  });

  it('need a command when the image has no check, not when it has one or is not read yet', () => {
    const timings = form({ interval: '10s', onFailure: 'restart' });
    expect(validateHealthForm(timings, null)).toEqual({
      command: 'the image has no healthcheck: give the command these timings are for',
      onFailure: 'an on-failure action needs a healthcheck: give a command',
    });
    expect(validateHealthForm(timings, imageCheck)).toEqual({});
    expect(validateHealthForm(timings, undefined)).toEqual({});
  });

  it('send nothing but "no healthcheck" when disabled, and refuse an on-failure action then', () => {
    const off = form({ command: 'true', interval: 'nonsense', disabled: true });
    expect(validateHealthForm(off, imageCheck)).toEqual({});
    expect(healthRequest(off)).toEqual({ healthcheck: null, noHealthcheck: true, healthOnFailure: 'none' });
    expect(validateHealthForm({ ...off, onFailure: 'kill' }, imageCheck).onFailure).toBe(
      'an on-failure action needs a healthcheck: enable it, or choose "Nothing"',
    );
  });

  it('become the request, blank fields as null', () => {
    expect(healthRequest(form({ command: ' curl -f localhost ', interval: ' 1s ', retries: '2', onFailure: 'stop' }))).toEqual({
      healthcheck: { command: 'curl -f localhost', interval: '1s', timeout: null, startPeriod: null, retries: 2 },
      noHealthcheck: false,
      healthOnFailure: 'stop',
    });
  });

  it('stop the create form from being sent while wrong', () => {
    const f = emptyForm('busybox');
    f.imageHealthcheck = null;
    f.health.interval = '10';
    const r = buildCreateRequest(f);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.health.command).toContain('give the command');
    f.health.command = 'test -f /tmp/ready';
    const ok = buildCreateRequest(f);
    expect(ok.ok && ok.request.healthcheck).toEqual({ command: 'test -f /tmp/ready', interval: '10', timeout: null, startPeriod: null, retries: null });
  });
});

describe('a check as the app shows it', () => {
  it('writes durations as the flags do', () => {
    expect([0, 500, 1000, 30_000, 90_000, 3_600_000, 3_723_004].map(flagDuration)).toEqual(['0s', '500ms', '1s', '30s', '1m30s', '1h', '1h2m3s4ms']);
    expect([3, 999, 1500, 12_345, 61_000].map(runTime)).toEqual(['3 ms', '999 ms', '1.5 s', '12 s', '1m 1s']);
  });

  it('shows the command as typed, and how often it runs', () => {
    expect(commandText({ form: 'shell', line: 'curl -f http://localhost/ || exit 1' })).toBe('curl -f http://localhost/ || exit 1');
    expect(commandText({ form: 'exec', args: ['pg_isready', '-U', 'my user'] })).toBe(`pg_isready -U 'my user'`);
    expect(intervalText({ ...imageCheck, intervalMs: null })).toBe('only when run by hand');
    expect(checkSummary(imageCheck)).toBe('/bin/check --quick (every 10s, timeout 30s, 3 retries)');
    expect([healthTone('healthy'), healthTone('starting'), healthTone('unhealthy')]).toEqual(['ok', 'warn', 'danger']);
  });
});
