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
window.benchReady = true;
