// Runs ROUNDS timed rounds of one scenario, as the benchmarks run them (bench/lib/scenarios.mjs),
// and nothing else: bench/instructions.mjs and bench/garbage.mjs count what it does (their
// command line: bench/lib/rounds-cli.mjs). DIR is edgetrace's package (pkg/, or a copy of it from
// another commit), or `otel` for OpenTelemetry JS set up as bench/node-spans.mjs sets it up.
// With `timed-only`, what the benchmarks run untimed after each round is left out: edgetrace's
// drain of the buffer-only scenarios' queue (it grows over the rounds), and OpenTelemetry's
// forceFlush and shutdown of the round's provider (its BatchSpanProcessor keeps its spans).
//   node bench/lib/rounds.mjs DIR SCENARIO OPS ROUNDS [timed-only]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { edgetraceRound, opsFor, otelOps, SCENARIOS, timeOps } from './scenarios.mjs';

const [dir, id, ops, rounds, only] = process.argv.slice(2);
const sc = SCENARIOS.find((s) => s.id === id);
if (!sc) throw new Error(`unknown scenario ${id}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
const timedOnly = only === 'timed-only';
const n = opsFor(sc, Number(ops));
const now = () => performance.now();
if (dir === 'otel') {
  const api = await import('@opentelemetry/api');
  const { otelNode } = await import('./setups.mjs');
  for (let r = 0; r < Number(rounds); r++) {
    const o = otelNode(sc.export);
    await timeOps(otelOps(o.tracer, api)[id], n, sc.async, now);
    // The payload scenarios time the export: it is run, timed-only or not.
    if (sc.export || !timedOnly) await o.drain();
    if (timedOnly) o.release();
    else await o.close();
  }
} else {
  const api = await import(pathToFileURL(resolve(dir, 'node.js')).href);
  for (let r = 0; r < Number(rounds); r++) {
    const round = await edgetraceRound(api, id, n, now);
    if (!timedOnly) await round.drain();
  }
}
// A last collection, so bench/garbage.mjs sees what the last round allocated (with --expose-gc).
globalThis.gc?.();
