import { describe, expect, it } from 'vitest';
import { ago, humanDuration, humanSize, nextTick, plural, uptime } from './format';

describe('humanSize', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [7_345_678, '7.35 MB'],
    [5_200_000, '5.2 MB'],
    [975_100, '975 kB'],
    [12_000, '12 kB'],
    [1_210_000_000, '1.21 GB'],
    [1_000_000_000_000, '1 TB'],
  ])('%i bytes is %s (as the berth CLI and Podman print it)', (bytes, want) => {
    expect(humanSize(bytes)).toBe(want);
  });
});

describe('humanDuration', () => {
  it.each([
    [0, 'Less than a second'],
    [1, '1 second'],
    [30, '30 seconds'],
    [90, 'About a minute'],
    [600, '10 minutes'],
    [3600, 'About an hour'],
    [5 * 3600, '5 hours'],
    [3 * 86400, '3 days'],
    [20 * 86400, '2 weeks'],
    [90 * 86400, '3 months'],
    [800 * 86400, '2 years'],
  ])('%i seconds is %s', (secs, want) => {
    expect(humanDuration(secs)).toBe(want);
  });

  it('says ago, and nothing for unknown times', () => {
    expect(ago(1000, 1000 + 7200)).toBe('2 hours ago');
    expect(ago(null, 5)).toBe('');
    expect(ago(2000, 1000)).toBe('Less than a second ago');
  });
});

describe('uptime', () => {
  it.each([
    [0, '0s'],
    [42, '42s'],
    [303, '5m'],
    [59 * 60 + 59, '59m'],
    [3 * 3600 + 12 * 60 + 5, '3h 12m'],
    [4 * 86400 + 2 * 3600 + 59, '4d 2h'],
  ])('%i seconds running is %s', (secs, want) => {
    expect(uptime(1000, 1000 + secs)).toBe(want);
  });
  it('is empty when not started', () => expect(uptime(null, 1)).toBe(''));
});

describe('plural', () => {
  it('counts', () => {
    expect(plural(0, 'image')).toBe('0 images');
    expect(plural(1, 'image')).toBe('1 image');
    expect(plural(2, 'container')).toBe('2 containers');
  });
});

describe('nextTick', () => {
  it('is a second while a time shows its seconds, else the next whole minute', () => {
    expect(nextTick(1_000_030, [1_000_000, null])).toBe(1000);
    expect(nextTick(1_000_030, [999_000, null])).toBe(Math.ceil((60 - (1_000_030 % 60)) * 1000));
    expect(nextTick(120.5, [1])).toBe(59_500);
    expect(nextTick(179.9, [])).toBe(1000);
  });
});
