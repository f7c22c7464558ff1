// With its default settings, the ingest service's 503 (MLflow unavailable) carries a Retry-After
// that the standard OpenTelemetry JS OTLP exporter honours: it retries and delivers through a
// short MLflow outage. The exporter gives up at once when Retry-After is longer than what is left
// of its export timeout (10 s by default); the former default, 10, made it drop every such batch.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startNodeIngest } from '../../ingest/src/node.js';
import { jsonRequest, jsonSpan, startSink } from './helpers.mjs';

let sink;
let ingest;

before(async () => {
  sink = await startSink();
  // The defaults: no RETRY_AFTER_SECONDS, nor any other setting but the required ones.
  ingest = await startNodeIngest({
    port: 0,
    env: { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify({ pk_otel: { origins: ['*'], experimentId: '5' } }) },
  });
});
after(async () => {
  await ingest?.close();
  await sink?.close();
});

test("the default configuration's 503 says to retry after 2 s", async () => {
  sink.mode = 'fail';
  try {
    const res = await fetch(`${ingest.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-edgetrace-key': 'pk_otel' },
      body: jsonRequest([jsonSpan()]),
    });
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error, 'mlflow_unavailable');
    assert.equal(res.headers.get('retry-after'), '2');
  } finally {
    sink.mode = 'ok';
  }
});

test('the OpenTelemetry JS OTLP/HTTP exporter, with its default options, delivers through a 2.5 s MLflow outage', async () => {
  const exporter = new OTLPTraceExporter({ url: `${ingest.url}/v1/traces`, headers: { 'x-edgetrace-key': 'pk_otel' } });
  const results = [];
  const exportOnce = exporter.export.bind(exporter);
  exporter.export = (spans, done) => exportOnce(spans, (r) => {
    results.push({ code: r.code, error: r.error?.message });
    done(r);
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otel-outage' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const hitsBefore = sink.hits;
  const lookupsBefore = sink.lookups;
  sink.mode = 'fail'; // MLflow answers 503 to everything, the trace lookup included
  const back = setTimeout(() => {
    sink.mode = 'ok';
  }, 2500);
  try {
    const span = provider.getTracer('t').startSpan('through an outage');
    const { spanId } = span.spanContext();
    const started = Date.now();
    span.end();
    await provider.forceFlush();
    assert.deepEqual(results, [{ code: 0, error: undefined }], 'the exporter retried until the ingest took the span');
    assert.ok(Date.now() - started >= 2000, 'it was answered 503 first');
    assert.ok(sink.lookups - lookupsBefore >= 2 || sink.hits - hitsBefore >= 2, 'the ingest was asked more than once');
    assert.ok(sink.spanIds.has(spanId), 'the span reached MLflow');
  } finally {
    clearTimeout(back);
    sink.mode = 'ok';
    await provider.shutdown();
  }
});
