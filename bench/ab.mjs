// Two builds of the package against each other in one Node process, round by round: for a
// change to the core or the JS layer, whether it is faster, measured the way bench/node-spans.mjs
// measures a library, alternating which build goes first. Comparing two separate runs of the
// benchmark says little on a shared host; alternating rounds in one process cancels most of the
// drift.
//   node --expose-gc bench/ab.mjs DIR_A DIR_B [SCENARIO,...] [ROUNDS] [OPS]
// DIR_A and DIR_B are copies of pkg/ (built by scripts/build.mjs). Prints, per scenario, each
// build's median ns per span and the median and range of the per-round ratios B/A.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuNow } from './lib/clocks.mjs';
import { edgetraceRound, median, opsFor, SCENARIOS } from './lib/scenarios.mjs';

const [dirA, dirB, which = 'root5,nested,nestedAsync', roundsArg = '12', opsArg = '2000'] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error('usage: node --expose-gc bench/ab.mjs DIR_A DIR_B [SCENARIO,...] [ROUNDS] [OPS]');
  process.exit(2);
}
const load = (dir) => import(pathToFileURL(resolve(dir, 'node.js')).href);
const builds = { A: await load(dirA), B: await load(dirB) };
const rounds = Number(roundsArg);
const ops = Number(opsArg);
// Timed by the process's CPU time, as bench/node-spans.mjs times Node's rounds.
const now = cpuNow;

for (const id of which.split(',')) {
  const sc = SCENARIOS.find((s) => s.id === id);
  if (!sc) throw new Error(`unknown scenario ${id}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const n = opsFor(sc, ops);
  const ns = { A: [], B: [] };
  const ratios = [];
  for (let r = 0; r <= rounds; r++) {
    const got = {};
    for (const who of r % 2 ? ['B', 'A'] : ['A', 'B']) {
      globalThis.gc?.();
      const round = await edgetraceRound(builds[who], id, n, now);
      await round.drain();
      got[who] = (round.ms * 1e6) / (n * sc.spans);
    }
    if (r === 0) continue; // warm-up
    ns.A.push(got.A);
    ns.B.push(got.B);
    ratios.push(got.B / got.A);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(
    `${id}: A ${median(ns.A).toFixed(0)} ns/span, B ${median(ns.B).toFixed(0)} ns/span; ` +
      `B/A per round ${median(ratios).toFixed(3)} (${sorted[0].toFixed(2)}–${sorted.at(-1).toFixed(2)}), ${rounds} rounds`,
  );
}
