// Both libraries set up for one scenario in Node (the same shapes are used in Chromium and
// workerd by their entries). In the buffer-only scenarios neither exports while timed (queues are
// big enough and the batch triggers are out of reach); the payload scenarios time the export too.
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { context, trace } from '@opentelemetry/api';
import { BATCH, PayloadExporter } from './otel-setup.mjs';

export const NOOP_FETCH = async () => new Response(null, { status: 200 });

export function edgetraceInit(api, exportKind) {
  let bytes = 0;
  api.init({
    endpoint: 'http://bench.invalid',
    format: exportKind === 'json' ? 'json' : 'protobuf',
    fetch: async (_url, init) => {
      bytes += init.body.length;
      return new Response(null, { status: 200 });
    },
    flushIntervalMs: 3_600_000,
    maxQueueSpans: 1_000_000,
    maxQueueBytes: 1 << 30,
    maxBatchSpans: exportKind ? 512 : 1_000_000,
    maxExportBytes: exportKind ? 60_000 : 1 << 30,
    logger: { warn() {} },
  });
  return { drain: () => api.flush(), bytes: () => bytes };
}

export function otelNode(exportKind) {
  const cm = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(cm);
  const exporter = new PayloadExporter(exportKind || 'none');
  const bsp = new BatchSpanProcessor(exporter, exportKind ? { ...BATCH, maxExportBatchSize: 512 } : { ...BATCH, maxExportBatchSize: BATCH.maxQueueSize });
  const provider = new BasicTracerProvider({ spanProcessors: [bsp] });
  const tracer = provider.getTracer('bench');
  return {
    tracer,
    drain: () => provider.forceFlush(),
    bytes: () => exporter.bytes,
    async close() {
      await provider.shutdown();
      cm.disable();
      context.disable();
      trace.disable();
    },
  };
}
