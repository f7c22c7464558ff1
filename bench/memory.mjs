// Memory per buffered span: N ended spans (roots with 10 nested children, 5 string attributes
// each) held un-exported, in a fresh process per library; RSS and JS heap before and after, after
// a forced GC; or (`held`) what edgetrace's wasm core held per span. Prints one JSON line.
//   node --expose-gc bench/memory.mjs edgetrace|otel N [held]
import * as otelApi from '@opentelemetry/api';
import * as et from '../pkg/node.js';
import { edgetraceOps, otelOps } from './lib/scenarios.mjs';
import { edgetraceInit, otelNode } from './lib/setups.mjs';
import { fillHeld } from './lib/wasm-held.mjs';

// `held`: only what edgetrace's core held per span (below), in a process of its own, as reading
// the memory's size after each op makes garbage that would add to the RSS measured.
const [who, nArg, mode] = process.argv.slice(2);
const track = who === 'edgetrace' && mode === 'held';
const n = Number(nArg || 22_000);
const ops = Math.round(n / 11);
// edgetrace's spans are measured as its core holds them: getStats() has it apply what was recorded
// first (the span hot path keeps full command buffers for it to apply later: pkg-templates/recorder.js),
// and the commands applied are garbage the GCs below collect.
const measure = () => {
  if (who === 'edgetrace') et.getStats();
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
};
let op;
if (who === 'edgetrace') {
  edgetraceInit(et, null);
  op = edgetraceOps(et).nested;
} else {
  op = otelOps(otelNode(null).tracer, otelApi).nested;
}
op(); // load everything before the baseline
const before = measure();
// What edgetrace's core held per span (bench/lib/wasm-held.mjs), with `held`.
let wasmHeldPerSpan = null;
if (track) wasmHeldPerSpan = fillHeld(op, ops, 11, () => et.getStats().wasmMemoryBytes);
else for (let i = 0; i < ops; i++) op();
const after = measure();
const spans = ops * 11;
const queued = who === 'edgetrace' ? et.getStats().queued : null;
console.log(JSON.stringify({
  who, spans, queued,
  rssPerSpan: (after.rss - before.rss) / spans,
  heapPerSpan: (after.heap - before.heap) / spans,
  externalPerSpan: (after.external - before.external) / spans,
  wasmHeldPerSpan,
}));
