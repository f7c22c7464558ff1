// OpenTelemetry JS set up as the issue names it: a BasicTracerProvider (or WebTracerProvider)
// with a BatchSpanProcessor whose exporter does what the scenario needs: nothing, or build the
// OTLP JSON / protobuf payload with OpenTelemetry's own serializers (no network).
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { PayloadExporter as Base } from './payload-exporter.mjs';

export { BATCH } from './payload-exporter.mjs';

/** The payload exporter on the 2.x line's serializers. */
export class PayloadExporter extends Base {
  /** @param {'none'|'json'|'protobuf'} kind */
  constructor(kind) {
    super(kind, { JsonTraceSerializer, ProtobufTraceSerializer });
  }
}
