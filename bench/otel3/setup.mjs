// OpenTelemetry JS 3 set up as bench/lib/setups.mjs sets up the 2.x line the issue names:
// `TracerProvider` (3.x's name for the BasicTracerProvider of sdk-trace-base) with a
// BatchSpanProcessor and the AsyncLocalStorageContextManager, its exporter building nothing or
// the OTLP JSON / protobuf payload with 3.x's own serializers (bench/lib/payload-exporter.mjs).
// Its modules come from bench/otel3/node_modules, beside this file.
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { BATCH, PayloadExporter } from '../lib/payload-exporter.mjs';

export { api };

export function otelNode(exportKind) {
  const cm = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(cm);
  const exporter = new PayloadExporter(exportKind || 'none', { JsonTraceSerializer, ProtobufTraceSerializer });
  // 3.x takes the exporter among the options (2.x: its first argument).
  const bsp = new BatchSpanProcessor({ exporter, ...BATCH, maxExportBatchSize: exportKind ? 512 : BATCH.maxQueueSize });
  const provider = new TracerProvider({ spanProcessors: [bsp] });
  const tracer = provider.getTracer('bench');
  return {
    tracer,
    drain: () => provider.forceFlush(),
    bytes: () => exporter.bytes,
    async close() {
      await provider.shutdown();
      cm.disable();
      api.context.disable();
      api.trace.disable();
    },
  };
}
