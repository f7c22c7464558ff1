// Memory per buffered span: N ended spans (roots with 10 nested children, 5 string attributes
// each) held un-exported, in a fresh process per library; RSS and JS heap before and after, after
// a forced GC; or (`held`) what edgetrace's wasm core held per span. Prints one JSON line.
//   node --expose-gc bench/memory.mjs edgetrace|otel N [held]
import * as otelApi from '@opentelemetry/api';
import * as et from '../pkg/node.js';
import { edgetraceOps, otelOps } from './lib/scenarios.mjs';
import { edgetraceInit, otelNode } from './lib/setups.mjs';

// `held`: only what edgetrace's core held per span (below), in a process of its own, as reading
// the memory's size after each op makes garbage that would add to the RSS measured.
const [who, nArg, mode] = process.argv.slice(2);
const track = who === 'edgetrace' && mode === 'held';
const n = Number(nArg || 22_000);
const ops = Math.round(n / 11);
const measure = () => {
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
// What edgetrace's core held per span: the wasm memory grows in steps of an eighth of its size,
// so its growth is the spans' bytes give or take a step, but its size before each growth is what
// the allocator held then (see bench/entries/runtime-bench.js makeMemoryRunner).
const growths = [];
let wasm = track ? et.getStats().wasmMemoryBytes : 0;
for (let i = 0; i < ops; i++) {
  op();
  if (!track) continue;
  const now = et.getStats().wasmMemoryBytes;
  if (now !== wasm) growths.push([(i + 1) * 11, wasm]);
  wasm = now;
}
const after = measure();
const [first, last] = [growths[0], growths.at(-1)];
const wasmHeldPerSpan = growths.length > 1 ? (last[1] - first[1]) / (last[0] - first[0]) : null;
const spans = ops * 11;
const queued = who === 'edgetrace' ? et.getStats().queued : null;
console.log(JSON.stringify({
  who, spans, queued,
  rssPerSpan: (after.rss - before.rss) / spans,
  heapPerSpan: (after.heap - before.heap) / spans,
  externalPerSpan: (after.external - before.external) / spans,
  wasmHeldPerSpan,
}));
