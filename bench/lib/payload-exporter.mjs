// The exporter both OpenTelemetry lines (2.x, bench/lib/otel-setup.mjs; 3.x, bench/otel3/setup.mjs)
// run the scenarios with: it does what the scenario needs, nothing, or build the OTLP JSON /
// protobuf payload with the line's own serializers (no network). It imports nothing, so each
// line hands it the serializers of its own node_modules.

export class PayloadExporter {
  /**
   * @param {'none'|'json'|'protobuf'} kind
   * @param {{ JsonTraceSerializer: { serializeRequest(spans: unknown[]): Uint8Array }, ProtobufTraceSerializer: { serializeRequest(spans: unknown[]): Uint8Array } }} serializers
   */
  constructor(kind, { JsonTraceSerializer, ProtobufTraceSerializer }) {
    this.kind = kind;
    this.json = JsonTraceSerializer;
    this.protobuf = ProtobufTraceSerializer;
    this.bytes = 0;
    this.spans = 0;
  }
  export(spans, done) {
    if (this.kind === 'json') this.bytes += this.json.serializeRequest(spans).length;
    else if (this.kind === 'protobuf') this.bytes += this.protobuf.serializeRequest(spans).length;
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
