// Runs ROUNDS timed rounds of one scenario with the package in DIR, as the benchmarks run them
// (bench/lib/scenarios.mjs), and nothing else: bench/instructions.mjs and bench/garbage.mjs
// count what it does (their command line: bench/lib/rounds-cli.mjs).
// With `timed-only`, the buffer-only scenarios' queue is not drained after each round (the
// benchmarks drain it untimed), so only what the benchmarks time is run.
//   node bench/lib/rounds.mjs DIR SCENARIO OPS ROUNDS [timed-only]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { edgetraceRound, opsFor, SCENARIOS } from './scenarios.mjs';

const [dir, id, ops, rounds, only] = process.argv.slice(2);
const sc = SCENARIOS.find((s) => s.id === id);
if (!sc) throw new Error(`unknown scenario ${id}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
const api = await import(pathToFileURL(resolve(dir, 'node.js')).href);
for (let r = 0; r < Number(rounds); r++) {
  const round = await edgetraceRound(api, id, opsFor(sc, Number(ops)), () => performance.now());
  if (only !== 'timed-only') await round.drain();
}
// A last collection, so bench/garbage.mjs sees what the last round allocated (with --expose-gc).
globalThis.gc?.();
