// Memory per buffered span: N ended spans (roots with 10 nested children, 5 string attributes
// each) held un-exported, in a fresh process per library; RSS and JS heap before and after, after
// a forced GC. Prints one JSON line.   node --expose-gc bench/memory.mjs edgetrace|otel N
import * as otelApi from '@opentelemetry/api';
import * as et from '../pkg/node.js';
import { edgetraceOps, otelOps } from './lib/scenarios.mjs';
import { edgetraceInit, otelNode } from './lib/setups.mjs';

const [who, nArg] = process.argv.slice(2);
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
for (let i = 0; i < ops; i++) op();
const after = measure();
const spans = ops * 11;
const queued = who === 'edgetrace' ? et.getStats().queued : null;
console.log(JSON.stringify({
  who, spans, queued,
  rssPerSpan: (after.rss - before.rss) / spans,
  heapPerSpan: (after.heap - before.heap) / spans,
  externalPerSpan: (after.external - before.external) / spans,
}));
