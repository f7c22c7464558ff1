// Per-span cost in Node, edgetrace against OpenTelemetry JS, run alternately round by round.
// Prints one JSON line: for each scenario, ns per span of each round for both, plus the floors.
//   node --expose-gc bench/node-spans.mjs ROUNDS OPS
import * as otelApi from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import * as et from '../pkg/node.js';
import { edgetraceOps, median, opsFor, otelOps, SCENARIOS, timeOps } from './lib/scenarios.mjs';
import { edgetraceInit, otelNode } from './lib/setups.mjs';

const rounds = Number(process.argv[2] || 7);
const ops = Number(process.argv[3] || 2000);
const now = () => performance.now();
const out = { rounds, ops, scenarios: {}, floors: {} };

for (const sc of SCENARIOS) {
  const res = { edgetrace: [], otel: [], bytesPerSpan: {} };
  const n = opsFor(sc, ops);
  for (let r = 0; r < rounds + 1; r++) {
    const order = r % 2 ? ['otel', 'edgetrace'] : ['edgetrace', 'otel'];
    for (const who of order) {
      globalThis.gc?.();
      let ms;
      if (who === 'edgetrace') {
        const h = edgetraceInit(et, sc.export);
        const op = edgetraceOps(et)[sc.id];
        ms = await timeOps(op, n, sc.async, now);
        if (sc.export) ms += await (async () => { const t = now(); await h.drain(); return now() - t; })();
        else await h.drain();
        if (sc.export) res.bytesPerSpan.edgetrace = h.bytes() / (n * sc.spans);
      } else {
        const o = otelNode(sc.export);
        const op = otelOps(o.tracer, otelApi)[sc.id];
        ms = await timeOps(op, n, sc.async, now);
        if (sc.export) ms += await (async () => { const t = now(); await o.drain(); return now() - t; })();
        else await o.drain();
        if (sc.export) res.bytesPerSpan.otel = o.bytes() / (n * sc.spans);
        await o.close();
      }
      if (r > 0) res[who].push((ms * 1e6) / (n * sc.spans)); // round 0 warms up
    }
  }
  res.ratio = median(res.edgetrace) / median(res.otel);
  out.scenarios[sc.id] = res;
  process.stderr.write(`[bench:node] ${sc.id}: edgetrace ${median(res.edgetrace).toFixed(0)} ns/span, OpenTelemetry ${median(res.otel).toFixed(0)} ns/span, ratio ${res.ratio.toFixed(2)}\n`);
}

// The floors: a plain wrapper call and an empty AsyncLocalStorage.run, per call; and the async
// scenario's shape with no tracing (AsyncLocalStorage.run per level, the same awaits, and a
// .then per level as withSpan needs to end its span), per span.
const wrap = (f) => (...a) => f(...a);
const plain = wrap((x) => x + 1);
const als = new AsyncLocalStorage();
for (const [id, op] of [['wrapper', () => plain(1)], ['alsRun', () => als.run(1, () => 1)]]) {
  const xs = [];
  for (let r = 0; r < rounds; r++) xs.push(((await timeOps(op, ops * 50, false, now)) * 1e6) / (ops * 50));
  out.floors[id] = xs;
  process.stderr.write(`[bench:node] floor ${id}: ${median(xs).toFixed(1)} ns/call\n`);
}
const shape = (d) => als.run(d, async () => {
  await null;
  if (d > 0) await shape(d - 1);
}).then((v) => v);
{
  const xs = [];
  for (let r = 0; r < rounds; r++) xs.push(((await timeOps(() => shape(10), ops, true, now)) * 1e6) / (ops * 11));
  out.floors.asyncShape = xs;
  process.stderr.write(`[bench:node] floor asyncShape: ${median(xs).toFixed(0)} ns/span\n`);
}
console.log(JSON.stringify(out));
