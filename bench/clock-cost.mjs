// What one read of each high-resolution clock a runtime offers costs, beside the one edgetrace
// stamps spans with (pkg-templates/recorder.js makeClock: `performance.timeOrigin +
// performance.now()`). A span reads it twice, at its start and its end, so a cheaper clock with
// the same resolution would take twice its saving off every span. Runs under each runtime:
//   node bench/clock-cost.mjs    .tools/node24/bin/node bench/clock-cost.mjs
//   .tools/bun/bin/bun bench/clock-cost.mjs    .tools/deno/deno run -A bench/clock-cost.mjs
// Prints ns per read: the median (min–max) of ROUNDS rounds of N reads, after a warm-up round.
import process from 'node:process';
import { median } from './lib/scenarios.mjs';

const N = Number(process.argv[2] ?? 2_000_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const perf = globalThis.performance;
const origin = perf.timeOrigin;

const clocks = {
  "edgetrace's clock (timeOrigin + performance.now(), µs or finer)": () => origin + perf.now(),
  'performance.now()': () => perf.now(),
  'Date.now() (whole ms: too coarse for spans)': () => Date.now(),
};
if (typeof process.hrtime?.bigint === 'function') clocks['process.hrtime.bigint()'] = () => process.hrtime.bigint();
if (globalThis.Bun) clocks['Bun.nanoseconds()'] = () => globalThis.Bun.nanoseconds();

// Each read's value is used, so no engine can drop the call.
function round(read) {
  let sink = 0;
  const t0 = perf.now();
  for (let i = 0; i < N; i++) if (read() === -1) sink++;
  const ns = ((perf.now() - t0) * 1e6) / N;
  if (sink) throw new Error('a clock read -1');
  return ns;
}

const runtime = globalThis.Bun ? `Bun ${globalThis.Bun.version}` : globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : `Node ${process.version}`;
console.log(`${runtime}: ns per read, median (min–max) of ${ROUNDS} rounds of ${N} reads`);
const got = Object.fromEntries(Object.keys(clocks).map((k) => [k, []]));
for (let r = 0; r <= ROUNDS; r++) {
  for (const [k, read] of Object.entries(clocks)) {
    const ns = round(read);
    if (r > 0) got[k].push(ns); // round 0 warms up
  }
}
for (const [k, v] of Object.entries(got)) {
  console.log(`  ${k}: ${median(v).toFixed(1)} (${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)})`);
}
