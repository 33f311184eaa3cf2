// Unit tests of the frame statistics (node --test src/utility/frames.test.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FRAME_MS, frameStats, quantile } from './frames.mjs';

test('quantiles by nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(xs, 0.5), 50);
  assert.equal(quantile(xs, 0.95), 95);
  assert.equal(quantile(xs, 0.99), 99);
  assert.equal(quantile([7], 0.99), 7);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('every frame on time drops nothing', () => {
  const s = frameStats(Array(120).fill(FRAME_MS));
  assert.equal(s.frames, 120);
  assert.equal(s.dropped, 0);
  assert.equal(s.p99, FRAME_MS);
});

test('a long frame stands for the frames it hid', () => {
  // 97 frames on time, one of 2 budgets (one dropped), two of 4 budgets (three dropped each)
  const deltas = [...Array(97).fill(16.7), 33.4, 66.8, 66.8];
  const s = frameStats(deltas);
  assert.equal(s.frames, 100);
  assert.equal(s.dropped, 7 / 107);
  assert.equal(s.p50, 16.7);
  assert.equal(s.p99, 66.8);
  assert.equal(s.max, 66.8);
});

test('nothing measured is no frames, not a division by zero', () => {
  const s = frameStats([]);
  assert.equal(s.frames, 0);
  assert.equal(s.dropped, 0);
});
