// OpenTelemetry web with Zone.js (its ZoneContextManager), in a page of its own (Zone.js patches
// the page's globals when it loads), for one measure only: what it finds as the active span after
// an `await` in the async rows' shape (makeParentsCheck), beside the default page's libraries.
// Driven as chromium-bench.js's pages are (bench/lib/page-runner.mjs pageChannel): it asks for a
// job, answers each with the check, until told it is done.
import { ZoneContextManager } from '@opentelemetry/context-zone';
import { trace } from '@opentelemetry/api';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { makeParentsCheck } from './runtime-bench.js';

const zoneProvider = (exporter, bsp) => {
  trace.disable();
  const provider = new WebTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, bsp)] });
  provider.register({ contextManager: new ZoneContextManager() });
  return { provider, tracer: provider.getTracer('bench') };
};
const parents = makeParentsCheck(zoneProvider);
const post = (path, body) => fetch(path, { method: 'POST', body: JSON.stringify(body) });

async function run() {
  let last = null;
  for (;;) {
    const job = await (await fetch('/next', { method: 'POST', body: JSON.stringify(last) })).json();
    if (job.done) return {};
    if (!job.parents) throw new Error(`chromium-zone: only the parents check runs here, not ${JSON.stringify(job)}`);
    last = await parents('otel');
  }
}
run().then((r) => post('/result', r), (e) => post('/result', { error: String(e?.stack || e) }));
