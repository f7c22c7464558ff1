// bench/entries/otel-web.js on OpenTelemetry JS 3 (bench/size.mjs): sdk-trace 3's TracerProvider
// with a BatchSpanProcessor and the OTLP/HTTP exporter, its StackContextManager for context (3.x
// has no Zone.js context manager: @opentelemetry/context-zone 2.12 takes @opentelemetry/api below
// 1.10, which 3.x needs). Its modules come from bench/otel3/node_modules, beside this file.
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, StackContextManager, TracerProvider } from '@opentelemetry/sdk-trace';

const provider = new TracerProvider({
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: 'https://collector.example.com/v1/traces' }) })],
});
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new StackContextManager().enable());
const tracer = provider.getTracer('example');
window.ask = (q) => tracer.startActiveSpan('answer', async (span) => {
  const a = `you asked ${q}`;
  span.end();
  await provider.forceFlush();
  return a;
});
