// OpenTelemetry JS 3 set up as bench/lib/setups.mjs sets up the 2.x line the issue names:
// `TracerProvider` (3.x's name for the BasicTracerProvider of sdk-trace-base) with a
// BatchSpanProcessor and the AsyncLocalStorageContextManager, its exporter building nothing or
// the OTLP JSON / protobuf payload with 3.x's own serializers. Its modules come from
// bench/otel3/node_modules, beside this file.
import { context, trace } from '@opentelemetry/api';
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export { api };

/** The payload exporter of bench/lib/otel-setup.mjs, on 3.x's serializers. */
class PayloadExporter {
  constructor(kind) {
    this.kind = kind;
    this.bytes = 0;
  }
  export(spans, done) {
    if (this.kind === 'json') this.bytes += JsonTraceSerializer.serializeRequest(spans).length;
    else if (this.kind === 'protobuf') this.bytes += ProtobufTraceSerializer.serializeRequest(spans).length;
    done({ code: 0 });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

const BATCH = { maxQueueSize: 1 << 20, maxExportBatchSize: 512, scheduledDelayMillis: 3_600_000 };

export function otelNode(exportKind) {
  const cm = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(cm);
  const exporter = new PayloadExporter(exportKind || 'none');
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
      context.disable();
      trace.disable();
    },
  };
}
