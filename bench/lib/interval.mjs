// How sure a ratio of medians is, given the rounds it came from: a paired bootstrap. The two
// libraries' rounds alternate, so round i of each was measured back to back, under the same
// host; resampling rounds as pairs keeps that. Each resample draws as many rounds as there were,
// with replacement, and takes the ratio of the two medians; the interval is the middle 95 % of
// those ratios. Seeded, so the same rounds give the same interval in every render.
import { median } from './scenarios.mjs';

/** A small seeded generator (mulberry32): floats in [0, 1). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The 95 % bootstrap interval of median(a) / median(b), `a[i]` and `b[i]` measured as a pair.
 * @param {number[]} a edgetrace's rounds
 * @param {number[]} b OpenTelemetry's rounds, as many
 * @returns {{ lo: number, hi: number }}
 */
export function ratioInterval(a, b, { resamples = 4000, seed = 1 } = {}) {
  if (a.length !== b.length || a.length === 0) throw new Error(`ratioInterval needs pairs of rounds (got ${a.length} and ${b.length})`);
  const n = a.length;
  const next = random(seed);
  const ratios = new Float64Array(resamples);
  const ra = new Array(n);
  const rb = new Array(n);
  for (let k = 0; k < resamples; k++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(next() * n);
      ra[i] = a[j];
      rb[i] = b[j];
    }
    ratios[k] = median(ra) / median(rb);
  }
  ratios.sort();
  const at = (q) => ratios[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { lo: at(0.025), hi: at(0.975) };
}

/** Where an interval stands against a target: wholly at or below it, wholly above, or across it. */
export function against(iv, target) {
  if (iv.hi <= target) return 'below';
  if (iv.lo > target) return 'above';
  return 'across';
}
