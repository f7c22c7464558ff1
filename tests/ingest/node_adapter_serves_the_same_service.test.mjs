// The Node adapter (ingest/src/node.js) serves the same service over node:http on 127.0.0.1:
// health, CORS preflight, an accepted OTLP/JSON request relayed as protobuf, refusals with the
// same codes, and a 413 the sender can read (the oversized body is discarded, not parsed).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startNodeIngest } from '../../ingest/src/node.js';
import { jsonRequest, jsonSpan, startSink } from './helpers.mjs';

const ORIGIN = 'http://page.test';
let sink;
let ingest;

before(async () => {
  sink = await startSink();
  ingest = await startNodeIngest({
    port: 0,
    env: {
      MLFLOW_TRACKING_URI: sink.url,
      MLFLOW_TRACKING_USERNAME: 'relay',
      MLFLOW_TRACKING_PASSWORD: 'pw',
      INGEST_KEYS: JSON.stringify({ pk_node: { origins: [ORIGIN], experimentId: '3' } }),
      MAX_BODY_BYTES: '100000',
    },
  });
});
after(async () => {
  await ingest?.close();
  await sink?.close();
});

const headers = { 'content-type': 'application/json', 'x-edgetrace-key': 'pk_node', origin: ORIGIN };

test('health, preflight and an accepted request relayed with Basic auth', async () => {
  const health = await fetch(`${ingest.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).mode, 'direct');
  const pre = await fetch(`${ingest.url}/v1/traces`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
  const s = jsonSpan();
  const res = await fetch(`${ingest.url}/v1/traces`, { method: 'POST', headers, body: jsonRequest([s]) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
  const got = sink.payloads.at(-1);
  assert.deepEqual(got.ids, [s.spanId]);
  assert.equal(got.headers.authorization, `Basic ${Buffer.from('relay:pw').toString('base64')}`);
  assert.equal(got.headers['x-mlflow-experiment-id'], '3');
});

test('refusals carry the same codes, and an oversized body gets a readable 413', async () => {
  const bad = await fetch(`${ingest.url}/v1/traces`, { method: 'POST', headers: { ...headers, 'x-edgetrace-key': 'pk_other' }, body: '{}' });
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).error, 'unknown_key');
  const big = await fetch(`${ingest.url}/v1/traces`, { method: 'POST', headers, body: 'x'.repeat(500_000) });
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error, 'body_too_large');
  const ok = await fetch(`${ingest.url}/v1/traces`, { method: 'POST', headers, body: jsonRequest([jsonSpan()]) });
  assert.equal(ok.status, 200);
});

test("a client's malformed Host header is no server error: the service routes by path", async () => {
  const { request } = await import('node:http');
  const { port } = new URL(ingest.url);
  const send = (host, path = '/v1/traces') =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, host } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      req.on('error', reject);
      req.end(jsonRequest([jsonSpan()]));
    });
  for (const host of ['a b', 'u:p@h']) {
    const r = await send(host);
    assert.equal(r.status, 200, `Host: ${host} → ${r.status} ${r.text}`);
  }
  // An absolute-form request target with credentials in it.
  const r = await send('h', 'http://u:p@h/v1/traces');
  assert.equal(r.status, 200, `absolute target → ${r.status} ${r.text}`);
});
