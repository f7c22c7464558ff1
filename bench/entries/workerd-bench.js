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

export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    const ops = Number(q.get('ops'));
    if (ops > 0) await run({ scenario: q.get('scenario'), who: q.get('who'), ops });
    return new Response('ok');
  },
};
