// The benchmark's ratio intervals (bench/lib/interval.mjs, issue 7): a paired bootstrap over the
// rounds, which RESULTS.md uses to say whether a run can tell a verdict from the host's noise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { against, ratioInterval } from '../../bench/lib/interval.mjs';
import { median } from '../../bench/lib/scenarios.mjs';

// Rounds with a true ratio of `ratio`: both libraries slowed by the same host factor per round
// (as alternating rounds are), each with noise of its own of up to ±`own`.
function rounds(n, ratio, own, seed) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const a = [];
  const b = [];
  for (let i = 0; i < n; i++) {
    const host = 1 + 0.5 * rnd();
    b.push(6000 * host * (1 + own * (2 * rnd() - 1)));
    a.push(6000 * ratio * host * (1 + own * (2 * rnd() - 1)));
  }
  return [a, b];
}

test('the same rounds give the same interval, and constant rounds a point', () => {
  const [a, b] = rounds(10, 0.3, 0.1, 7);
  assert.deepEqual(ratioInterval(a, b), ratioInterval(a, b));
  const c = ratioInterval([2, 2, 2, 2], [8, 8, 8, 8]);
  assert.equal(c.lo, 0.25);
  assert.equal(c.hi, 0.25);
});

test('the interval holds the ratio of medians and the true ratio, and narrows with more rounds', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const [a, b] = rounds(10, 0.3, 0.1, seed);
    const iv = ratioInterval(a, b);
    const point = median(a) / median(b);
    assert.ok(iv.lo <= point && point <= iv.hi, `seed ${seed}: ${point} in ${iv.lo}–${iv.hi}`);
    assert.ok(iv.lo < 0.3 * 1.1 && iv.hi > 0.3 * 0.9, `seed ${seed}: ${iv.lo}–${iv.hi} near 0.3`);
    assert.ok(iv.lo < iv.hi, 'noisy rounds give an interval, not a point');
  }
  const width = (n) => {
    const [a, b] = rounds(n, 0.3, 0.15, 11);
    const iv = ratioInterval(a, b);
    return iv.hi - iv.lo;
  };
  assert.ok(width(60) < width(6), `60 rounds: ${width(60)}, 6 rounds: ${width(6)}`);
});

test('pairs are kept: a host factor shared by both libraries in a round does not widen it', () => {
  // Rounds whose host factor varies 1-3x but whose per-round ratio is exactly 0.2.
  const b = [6000, 18000, 9000, 12000, 7000, 15000, 6500, 11000];
  const a = b.map((x) => x * 0.2);
  const iv = ratioInterval(a, b);
  assert.ok(Math.abs(iv.lo - 0.2) < 1e-9 && Math.abs(iv.hi - 0.2) < 1e-9, `${iv.lo}–${iv.hi}`);
});

test('where an interval stands against the target', () => {
  assert.equal(against({ lo: 0.18, hi: 0.24 }, 0.25), 'below');
  assert.equal(against({ lo: 0.2, hi: 0.3 }, 0.25), 'across');
  assert.equal(against({ lo: 0.26, hi: 0.4 }, 0.25), 'above');
  assert.throws(() => ratioInterval([1, 2], [1]), /pairs of rounds/);
});
