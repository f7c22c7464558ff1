// Both libraries set up for one scenario in Node. edgetrace's set-up is the one every runtime
// uses (scenarios.mjs); OpenTelemetry's web and workerd shapes are made by their entries. In the
// buffer-only scenarios neither exports while timed (queues are big enough and the batch triggers
// are out of reach); the payload scenarios time the export too.
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { context, trace } from '@opentelemetry/api';
import { BATCH, PayloadExporter } from './otel-setup.mjs';

export { edgetraceInit } from './scenarios.mjs';

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
      this.release();
    },
    /** Lets the next round set up its own provider, leaving this one's spans where they are. */
    release() {
      cm.disable();
      context.disable();
      trace.disable();
    },
  };
}
