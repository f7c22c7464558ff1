// workerd (nodejs_compat): edgetrace's workerd entry against OpenTelemetry's BasicTracerProvider
// with AsyncLocalStorageContextManager and BatchSpanProcessor. A round is three requests (below);
// the caller times the one that runs the ops (Workers' clocks do not advance while code runs).
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeMemoryRunner, makePhasedRunner } from './runtime-bench.js';

let cm = null;
const basicProvider = (exporter, bsp) => {
  if (!cm) {
    cm = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(cm);
  }
  trace.disable();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, bsp)] });
  return { provider, tracer: provider.getTracer('bench') };
};
// GET /?phase=prepare|ops|finish&scenario=&who=&ops=: a round in three requests, of which the
// caller times the second (makePhasedRunner).
const phased = makePhasedRunner(basicProvider);
// GET /?memory=base|fill|check&who=&n=: a step of the memory measure (bench/memory-runtimes.mjs,
// with workerd started with V8's --expose-gc), answered as JSON.
const memory = makeMemoryRunner(basicProvider);

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
    if (q.get('memory')) {
      try {
        return Response.json(await memory({ who: q.get('who'), phase: q.get('memory'), n: Number(q.get('n')), track: q.get('track') === '1' }));
      } catch (e) {
        return new Response(String(e?.stack || e), { status: 500 });
      }
    }
    const ops = Number(q.get('ops'));
    if (q.get('phase')) {
      try {
        return Response.json((await phased({ phase: q.get('phase'), scenario: q.get('scenario'), who: q.get('who'), ops })) ?? {});
      } catch (e) {
        return new Response(String(e?.stack || e), { status: 500 });
      }
    }
    if (q.get('floor')) floor(q.get('floor'), ops);
    return new Response('ok');
  },
};
