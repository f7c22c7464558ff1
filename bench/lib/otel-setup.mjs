// OpenTelemetry JS set up as the issue names it: a BasicTracerProvider (or WebTracerProvider)
// with a BatchSpanProcessor whose exporter does what the scenario needs: nothing, or build the
// OTLP JSON / protobuf payload with OpenTelemetry's own serializers (no network).
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

export class PayloadExporter {
  /** @param {'none'|'json'|'protobuf'} kind */
  constructor(kind) {
    this.kind = kind;
    this.bytes = 0;
    this.spans = 0;
  }
  export(spans, done) {
    if (this.kind === 'json') this.bytes += JsonTraceSerializer.serializeRequest(spans).length;
    else if (this.kind === 'protobuf') this.bytes += ProtobufTraceSerializer.serializeRequest(spans).length;
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

/** Options for BatchSpanProcessor big enough that a round never drops. */
export const BATCH = { maxQueueSize: 1 << 20, maxExportBatchSize: 512, scheduledDelayMillis: 3_600_000 };
