// The same with OpenTelemetry web: WebTracerProvider, BatchSpanProcessor, OTLP/HTTP exporter,
// and Zone.js for async context.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';

const provider = new WebTracerProvider({
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: 'https://collector.example.com/v1/traces' }))],
});
provider.register();
const tracer = provider.getTracer('example');
window.ask = (q) => tracer.startActiveSpan('answer', async (span) => {
  const a = `you asked ${q}`;
  span.end();
  await provider.forceFlush();
  return a;
});
