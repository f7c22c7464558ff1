// Chromium: edgetrace's browser entry against OpenTelemetry's WebTracerProvider (its default
// StackContextManager: no Zone.js, so async context is not carried across awaits; with Zone.js
// it would cost more).
import { trace } from '@opentelemetry/api';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { makeRunner } from './runtime-bench.js';

window.runBench = makeRunner((exporter, bsp) => {
  trace.disable();
  const provider = new WebTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, bsp)] });
  provider.register();
  return { provider, tracer: provider.getTracer('bench') };
});
// The floor for finding the active span after an `await` without AsyncContext: one capture of
// V8's async stack (structured call sites, 16 frames), from an async function awaiting inside
// a named async runner, as edgetrace's browser path does. ns per capture.
window.runCaptureFloor = async (n) => {
  const asCallSites = (_e, cs) => cs;
  const capture = () => {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    try {
      Error.prepareStackTrace = asCallSites;
      Error.stackTraceLimit = 16;
      const holder = {};
      Error.captureStackTrace(holder, capture);
      for (const f of holder.stack) if (f.getFunctionName()?.startsWith('__floor_')) return true;
      return false;
    } finally {
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = prepare;
    }
  };
  const runner = { async __floor_1(f) { return await f(); } }.__floor_1;
  return runner(async () => {
    await null;
    let found = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if (capture()) found++;
    const ms = performance.now() - t0;
    if (found !== n) throw new Error(`the runner frame was found ${found} of ${n} times`);
    return (ms * 1e6) / n;
  });
};
window.benchReady = true;
