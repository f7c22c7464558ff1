// workerd (nodejs_compat): edgetrace's workerd entry against OpenTelemetry's BasicTracerProvider
// with AsyncLocalStorageContextManager and BatchSpanProcessor. GET /?scenario=&who=&ops= runs
// the ops; the caller times the request (Workers' clocks do not advance while code runs).
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeRunner } from './runtime-bench.js';

let cm = null;
const run = makeRunner((exporter, bsp) => {
  if (!cm) {
    cm = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(cm);
  }
  trace.disable();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, bsp)] });
  return { provider, tracer: provider.getTracer('bench') };
});

// The floors in workerd, per call: a plain wrapper call; an empty AsyncLocalStorage.run and a
// getStore inside it (what each library pays per active span, at least). GET /?floor=&ops=.
let als = null;
const wrap = (f, x) => f(x);
const id = (x) => x;
function floor(kind, n) {
  let sink = 0;
  if (kind === 'call') for (let i = 0; i < n; i++) sink += wrap(id, i);
  else {
    als ??= new (globalThis.process.getBuiltinModule('node:async_hooks').AsyncLocalStorage)();
    const inside = (x) => (als.getStore() === x ? 1 : 0);
    for (let i = 0; i < n; i++) sink += als.run(i, inside, i);
  }
  if (sink !== n && kind !== 'call') throw new Error(`the store was lost ${n - sink} times`);
  return sink;
}

export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    const ops = Number(q.get('ops'));
    if (q.get('floor')) floor(q.get('floor'), ops);
    else if (ops > 0) await run({ scenario: q.get('scenario'), who: q.get('who'), ops });
    return new Response('ok');
  },
};
