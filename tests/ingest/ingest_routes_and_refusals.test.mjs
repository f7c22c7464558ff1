// The ingest Worker in workerd (Miniflare): every route, every refusal in ingest/README.md's
// bad-request table (replayed from the table itself), the direct relay with 503 + Retry-After and
// its relays shared by requests in flight, and the queue path with retries and merged relays. A
// fake MLflow sink records what is relayed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ingestMiniflare, jsonRequest, jsonSpan, protoSpanAttrs, repo, startSink, until } from './helpers.mjs';

const ORIGIN = 'http://app.test';
const KEYS = {
  pk_app: { origins: [ORIGIN], experimentId: '7' },
  pk_old: { origins: [ORIGIN], experimentId: '7', revoked: true },
  pk_slow: { origins: [ORIGIN], experimentId: '7', ratePerMinute: 2 },
};

// --- protobuf builders (hand-rolled, so malformed variants are easy) ---
const varint = (n) => {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
};
const len = (field, bytes) => Buffer.concat([varint((field << 3) | 2), varint(bytes.length), Buffer.from(bytes)]);
const fixed64 = (field, n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return Buffer.concat([varint((field << 3) | 1), b]);
};
function protoSpan({ traceId = Buffer.alloc(16, 0x11), spanId = Buffer.alloc(8, 0x22), name = Buffer.from('proto-span') } = {}) {
  const now = BigInt(Date.now()) * 1_000_000n;
  return Buffer.concat([len(1, traceId), len(2, spanId), len(5, name), fixed64(7, now - 1000n), fixed64(8, now)]);
}
const protoRequest = (spans) => len(1, len(2, Buffer.concat(spans.map((s) => len(2, s)))));

const good = () => ({ 'x-edgetrace-key': 'pk_app', 'content-type': 'application/json', origin: ORIGIN });

/** Every case of the README table: the request that triggers it. */
const CASES = {
  'malformed JSON': () => ({ headers: good(), body: '{"resourceSpans": [' }),
  'JSON that is not an object': () => ({ headers: good(), body: '[1,2,3]' }),
  'malformed protobuf': () => ({ headers: { ...good(), 'content-type': 'application/x-protobuf' }, body: Buffer.from([0x0a, 0x50, 0x01]) }),
  'wrong content type': () => ({ headers: { ...good(), 'content-type': 'text/plain' }, body: jsonRequest([jsonSpan()]) }),
  'unsupported content encoding': () => ({ headers: { ...good(), 'content-encoding': 'br' }, body: jsonRequest([jsonSpan()]) }),
  'oversized body (declared length)': () => ({ headers: good(), body: 'x'.repeat(300_000) }),
  'oversized body (streamed, no length)': () => ({
    headers: good(),
    body: new ReadableStream({
      start(c) {
        for (let i = 0; i < 40; i++) c.enqueue(new Uint8Array(10_000).fill(0x20));
        c.close();
      },
    }),
    duplex: 'half',
  }),
  'gzip bomb': () => ({ headers: { ...good(), 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(50_000_000, 0x20)) }),
  'corrupt gzip': () => ({ headers: { ...good(), 'content-encoding': 'gzip' }, body: Buffer.from('this is not gzip at all') }),
  'zero trace id': () => ({ headers: good(), body: jsonRequest([jsonSpan({ traceId: '0'.repeat(32) })]) }),
  'zero span id': () => ({ headers: good(), body: jsonRequest([jsonSpan({ spanId: '0'.repeat(16) })]) }),
  'trace id not hex': () => ({ headers: good(), body: jsonRequest([jsonSpan({ traceId: 'z'.repeat(32) })]) }),
  'span id of the wrong length (protobuf)': () => ({
    headers: { ...good(), 'content-type': 'application/x-protobuf' },
    body: protoRequest([protoSpan({ spanId: Buffer.alloc(5, 1) })]),
  }),
  'too many spans': () => ({ headers: good(), body: jsonRequest(Array.from({ length: 51 }, () => jsonSpan())) }),
  'too many values': () => ({
    headers: good(),
    body: jsonRequest([jsonSpan({ attributes: [{ key: 'empties', value: { arrayValue: { values: Array.from({ length: 3000 }, () => ({})) } } }] })]),
  }),
  'trace in another experiment': (sink) => {
    const s = jsonSpan();
    sink.traces.set(s.traceId, '99'); // MLflow has this trace in experiment 99; the key writes to 7
    return { headers: good(), body: jsonRequest([s]) };
  },
  'attribute nested too deeply': () => {
    let v = { stringValue: 'leaf' };
    for (let i = 0; i < 12; i++) v = { arrayValue: { values: [v] } };
    return { headers: good(), body: jsonRequest([jsonSpan({ attributes: [{ key: 'deep', value: v }] })]) };
  },
  'invalid UTF-8 in JSON': () => {
    const b = Buffer.from(jsonRequest([jsonSpan({ name: 'BAD!' })]));
    b[b.indexOf('BAD!')] = 0xff;
    return { headers: good(), body: b };
  },
  'invalid UTF-8 in protobuf': () => ({
    headers: { ...good(), 'content-type': 'application/x-protobuf' },
    body: protoRequest([protoSpan({ name: Buffer.from([0x61, 0xff, 0xfe]) })]),
  }),
  'timestamps in milliseconds': () => ({ headers: good(), body: jsonRequest([jsonSpan({ startTimeUnixNano: String(Date.now() - 5), endTimeUnixNano: String(Date.now()) })]) }),
  'span ends before it starts': () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    return { headers: good(), body: jsonRequest([jsonSpan({ startTimeUnixNano: String(now), endTimeUnixNano: String(now - 5n) })]) };
  },
  'timestamp far in the future': () => {
    const later = BigInt(Date.now() + 10 * 86_400_000) * 1_000_000n;
    return { headers: good(), body: jsonRequest([jsonSpan({ startTimeUnixNano: String(later), endTimeUnixNano: String(later + 1n) })]) };
  },
  'missing key': () => ({ headers: { ...good(), 'x-edgetrace-key': '' }, body: jsonRequest([jsonSpan()]) }),
  'unknown key': () => ({ headers: { ...good(), 'x-edgetrace-key': 'pk_nope' }, body: jsonRequest([jsonSpan()]) }),
  'revoked key': () => ({ headers: { ...good(), 'x-edgetrace-key': 'pk_old' }, body: jsonRequest([jsonSpan()]) }),
  'disallowed origin': () => ({ headers: { ...good(), origin: 'http://evil.test' }, body: jsonRequest([jsonSpan()]) }),
  'disallowed origin (preflight)': () => ({
    method: 'OPTIONS',
    headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-edgetrace-key' },
  }),
  'experiment mismatch': () => ({ headers: { ...good(), 'x-mlflow-experiment-id': '99' }, body: jsonRequest([jsonSpan()]) }),
  'rate limit exceeded': () => ({ headers: { ...good(), 'x-edgetrace-key': 'pk_slow' }, body: jsonRequest([jsonSpan()]), repeat: 3 }),
  'wrong method': () => ({ method: 'GET', headers: good() }),
  'unknown path': () => ({ path: '/v1/metrics', headers: good(), body: '{}' }),
  'feedback that is not a feedback': () => feedback(jsonSpan().traceId, { assessment_name: 'x', expectation: { value: 1 } }),
  'feedback on a malformed trace id': () => feedback('0'.repeat(32), { assessment_name: 'x', feedback: { value: 1 } }, ''),
  'feedback on a trace MLflow does not have': () => feedback(jsonSpan().traceId, { assessment_name: 'x', feedback: { value: 1 } }),
  "feedback on another experiment's trace": (sink) => {
    const id = jsonSpan().traceId;
    sink.traces.set(id, '99');
    return feedback(id, { assessment_name: 'x', feedback: { value: true } });
  },
};

/** A feedback request (`logFeedback`'s) on trace `hex`. */
function feedback(hex, assessment, prefix = 'tr-') {
  return { path: `/api/3.0/mlflow/traces/${prefix}${hex}/assessments`, headers: good(), body: JSON.stringify({ assessment }) };
}

function readTable() {
  const text = readFileSync(join(repo, 'ingest/README.md'), 'utf8');
  const block = text.split('<!-- bad-requests:start -->')[1].split('<!-- bad-requests:end -->')[0];
  return block
    .split('\n')
    .filter((l) => l.startsWith('|') && !l.startsWith('|---') && !l.startsWith('| Case'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))
    .map(([name, status, code]) => ({ name, status: Number(status), code: code.replaceAll('`', '') }));
}

describe('the ingest Worker in workerd', () => {
  let sink;
  let mf;
  const vars = () => ({
    MLFLOW_TRACKING_URI: sink.url,
    MLFLOW_TRACKING_TOKEN: 'mlflow-secret-token',
    INGEST_KEYS: JSON.stringify(KEYS),
    MAX_BODY_BYTES: '200000',
    MAX_DECOMPRESSED_BYTES: '1000000',
    MAX_SPANS_PER_REQUEST: '50',
    MAX_VALUES_PER_REQUEST: '2000',
    RELAY_ATTEMPTS: '2',
    RETRY_AFTER_SECONDS: '3',
    REDACT_PATTERNS: JSON.stringify(['acct-[0-9]{6}']),
    CONVERT_CONVENTIONS: 'true', // off by default (MLflow 3.x converts them itself): tested on here
  });
  const post = (headers, body, extra = {}) => mf.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers, body, ...extra });

  before(async () => {
    sink = await startSink();
    mf = ingestMiniflare(vars());
    await mf.ready;
  });
  after(async () => {
    await mf?.dispose();
    await sink?.close();
  });

  test('GET /healthz answers ok with the mode and counters', async () => {
    const res = await mf.dispatchFetch('http://ingest.test/healthz');
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.ok, true);
    assert.equal(body.mode, 'direct');
    assert.equal(typeof body.stats.requests, 'number');
    assert.ok(!JSON.stringify(body).includes('mlflow-secret-token'));
  });

  test('a preflight from an allowed origin gets exact CORS headers, other request headers allowed too', async () => {
    const res = await mf.dispatchFetch('http://ingest.test/v1/traces', {
      method: 'OPTIONS',
      // A page's init({ headers: { 'x-app-version': … } }) asks for its own header as well.
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, X-Edgetrace-Key, x-app-version, bad header, x:y' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, content-encoding, x-edgetrace-key, x-mlflow-experiment-id, traceparent, x-app-version');
    assert.match(res.headers.get('access-control-allow-methods'), /POST/);
    assert.equal(res.headers.get('vary'), 'Origin, Access-Control-Request-Headers');
    const plain = await mf.dispatchFetch('http://ingest.test/v1/traces', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    assert.equal(plain.headers.get('access-control-allow-headers'), 'content-type, content-encoding, x-edgetrace-key, x-mlflow-experiment-id, traceparent');
  });

  test('OTLP/JSON, protobuf and gzip bodies are relayed as protobuf with the key\'s experiment and the secret token', async () => {
    const before = sink.payloads.length;
    const a = jsonSpan();
    let res = await post(good(), jsonRequest([a]));
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), {});
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(res.headers.get('x-edgetrace-spans'), '1');
    const b = protoSpan({ spanId: Buffer.alloc(8, 0x33) });
    res = await post({ ...good(), 'content-type': 'application/x-protobuf' }, protoRequest([b]));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    const c = jsonSpan();
    res = await post({ ...good(), 'content-encoding': 'gzip' }, gzipSync(jsonRequest([c])));
    assert.equal(res.status, 200);
    const got = sink.payloads.slice(before);
    assert.deepEqual(got.map((p) => p.ids), [[a.spanId], ['33'.repeat(8)], [c.spanId]]);
    for (const p of got) {
      assert.equal(p.url, '/v1/traces');
      assert.equal(p.headers['content-type'], 'application/x-protobuf');
      assert.equal(p.headers['x-mlflow-experiment-id'], '7');
      assert.equal(p.headers.authorization, 'Bearer mlflow-secret-token');
    }
  });

  test('with CONVERT_CONVENTIONS, spans from GenAI-convention SDKs are typed, and secrets redacted, before relay', async () => {
    const before = sink.payloads.length;
    const s = jsonSpan({
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: '9' } },
        { key: 'gen_ai.usage.output_tokens', value: { intValue: 4 } },
        { key: 'gen_ai.input.messages', value: { stringValue: '[{"role":"user","content":"key sk-abcdefghijklmnopqrstuvwxyz123456"}]' } },
        { key: 'http.request.header.authorization', value: { stringValue: 'Bearer zzz' } },
        { key: 'app.note', value: { stringValue: 'customer acct-123456 asked' } },
      ],
    });
    const res = await post(good(), jsonRequest([s]));
    assert.equal(res.status, 200);
    const [span] = protoSpanAttrs(sink.payloads[before].body);
    assert.equal(span.attrs['mlflow.spanType'], 'CHAT_MODEL');
    assert.deepEqual(JSON.parse(span.attrs['mlflow.chat.tokenUsage']), { input_tokens: 9, output_tokens: 4, total_tokens: 13 });
    assert.equal(JSON.parse(span.attrs['mlflow.spanInputs']).messages[0].content, 'key [REDACTED]');
    assert.equal(span.attrs['http.request.header.authorization'], undefined);
    assert.equal(span.attrs['app.note'], 'customer [REDACTED] asked', 'a configured pattern');
    assert.ok(!sink.payloads[before].body.includes('sk-abcdefghijklmnopqrstuvwxyz123456'));
  });

  test('every case of the README bad-request table gets its status and code, relays nothing, and the service keeps serving', async () => {
    const table = readTable();
    assert.ok(table.length >= 25, `the table has ${table.length} rows`);
    assert.deepEqual(table.map((r) => r.name).sort(), Object.keys(CASES).sort(), 'table rows and replayed cases differ');
    for (const row of table) {
      const c = CASES[row.name](sink);
      const hitsBefore = sink.hits;
      let res;
      for (let i = 0; i < (c.repeat || 1); i++) {
        try {
          res = await mf.dispatchFetch(`http://ingest.test${c.path || '/v1/traces'}`, {
            method: c.method || 'POST',
            headers: c.headers,
            body: c.body,
            ...(c.duplex ? { duplex: c.duplex } : {}),
          });
        } catch (e) {
          throw new Error(`${row.name}: ${e.message} (${e.cause?.message || e.cause})`);
        }
        if (i < (c.repeat || 1) - 1) {
          assert.equal(res.status, 200, `${row.name}: warm-up request ${i}`);
          await res.arrayBuffer();
        }
      }
      const text = await res.text();
      assert.equal(res.status, row.status, `${row.name}: ${text}`);
      assert.ok(!text.includes('mlflow-secret-token') && ![...res.headers.values()].some((v) => v.includes('mlflow-secret-token')), `${row.name}: the MLflow token never reaches the sender`);
      assert.equal(text.trim().split('\n').length, 1, `${row.name}: one line`);
      const body = JSON.parse(text);
      assert.equal(body.error, row.code, `${row.name}: ${text}`);
      assert.ok(body.message.length > 5, `${row.name}: has a reason`);
      if (row.code === 'rate_limited') assert.ok(Number(res.headers.get('retry-after')) >= 1);
      const relayed = sink.hits - hitsBefore - (row.code === 'rate_limited' ? 2 : 0);
      assert.equal(relayed, 0, `${row.name}: nothing relayed`);
      // The service goes on serving others.
      const ok = await post(good(), jsonRequest([jsonSpan()]));
      assert.equal(ok.status, 200, `after ${row.name}`);
      await ok.arrayBuffer();
    }
  });

  test("each new trace id is looked up in MLflow once (its owner check), then remembered", async () => {
    const first = jsonSpan();
    const before = sink.lookups;
    for (let i = 0; i < 3; i++) {
      const res = await post(good(), jsonRequest([i ? jsonSpan({ traceId: first.traceId }) : first]));
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    assert.equal(sink.lookups - before, 1);
  });

  test('MLflow unreachable: 503 with Retry-After and nothing counted as accepted; then the same batch succeeds', async () => {
    sink.mode = 'fail';
    const s = jsonSpan();
    const res = await post(good(), jsonRequest([s]));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '3');
    assert.equal((await res.json()).error, 'mlflow_unavailable');
    sink.mode = 'refuse';
    const refused = await post(good(), jsonRequest([s]));
    // A 4xx: OTLP exporters, and the edgetrace SDK, do not send it again.
    assert.equal(refused.status, 422);
    const reason = await refused.json();
    assert.equal(reason.error, 'mlflow_refused');
    assert.match(reason.message, /^MLflow answered 404: No Experiment with id=\d+ exists\.; check the experiment of this key$/);
    sink.mode = 'ok';
    const again = await post(good(), jsonRequest([s]));
    assert.equal(again.status, 200);
    assert.ok(sink.spanIds.has(s.spanId));
  });

  // Sixteen requests at once to a slow MLflow, each answered only once its spans are in.
  async function sixteenAtOnce(extraVars) {
    const own = await startSink();
    own.delayMs = 400; // a slow MLflow
    const direct = ingestMiniflare({ ...vars(), MLFLOW_TRACKING_URI: own.url, RATE_LIMIT_PER_MINUTE: '0', ...extraVars });
    try {
      const requests = 16;
      const sent = Array.from({ length: requests }, () => [jsonSpan(), jsonSpan()]);
      const answers = await Promise.all(sent.map(async (spans) => {
        const res = await direct.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers: good(), body: jsonRequest(spans) });
        await res.arrayBuffer();
        // Answered only once MLflow holds this request's spans.
        return { status: res.status, relayed: spans.every((s) => own.spanIds.has(s.spanId)) };
      }));
      assert.deepEqual(answers, sent.map(() => ({ status: 200, relayed: true })));
      assert.equal(own.spanIds.size, 2 * requests);
      assert.ok(own.payloads.every((p) => p.headers['x-mlflow-experiment-id'] === '7' && p.headers.authorization === 'Bearer mlflow-secret-token'));
      const { stats } = await (await direct.dispatchFetch('http://ingest.test/healthz')).json();
      assert.equal(stats.relayedPayloads, requests);
      assert.equal(stats.relayRequests, own.payloads.length);
      return { relays: own.payloads.length, maxInflight: own.maxInflight };
    } finally {
      await direct.dispose();
      await own.close();
    }
  }

  test('requests arriving while a relay is in flight share the next one, each answered once its spans are in', async () => {
    const { relays, maxInflight } = await sixteenAtOnce({});
    assert.ok(relays < 8, `${relays} relays for 16 requests`);
    assert.equal(maxInflight, 1, 'one relay in flight at a time for an experiment');
  });

  test('with RELAY_BATCH_BYTES=0 each request relays its own payload at once, as before the sharing', async () => {
    const { relays, maxInflight } = await sixteenAtOnce({ RELAY_BATCH_BYTES: '0' });
    assert.equal(relays, 16);
    assert.ok(maxInflight > 1, `at most ${maxInflight} relay in flight`);
  });

  test('a key for any origin ("*") is accepted from any origin, and its CORS answer echoes that origin', async () => {
    const any = ingestMiniflare({ ...vars(), INGEST_KEYS: JSON.stringify({ pk_any: { origins: ['*'], experimentId: '8' } }) });
    try {
      const res = await any.dispatchFetch('http://ingest.test/v1/traces', {
        method: 'POST',
        headers: { ...good(), 'x-edgetrace-key': 'pk_any', origin: 'http://elsewhere.test' },
        body: jsonRequest([jsonSpan()]),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('access-control-allow-origin'), 'http://elsewhere.test');
      assert.equal(sink.payloads.at(-1).headers['x-mlflow-experiment-id'], '8');
    } finally {
      await any.dispose();
    }
  });

  test('with a Cloudflare rate limiting binding, the binding decides instead of the in-isolate buckets', async () => {
    const limited = ingestMiniflare({ ...vars(), RATE_LIMIT_PER_MINUTE: '0' }, { ratelimit: 3 });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers: good(), body: jsonRequest([jsonSpan()]) });
        codes.push(res.status);
        await res.arrayBuffer();
      }
      assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    } finally {
      await limited.dispose();
    }
  });

  test('an invalid configuration answers 500 misconfigured and /healthz 503, naming the setting', async () => {
    const bad = ingestMiniflare({ ...vars(), INGEST_KEYS: '{not json' });
    try {
      const res = await bad.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers: good(), body: '{}' });
      assert.equal(res.status, 500);
      const body = await res.json();
      assert.equal(body.error, 'misconfigured');
      assert.match(body.message, /INGEST_KEYS/);
      const health = await bad.dispatchFetch('http://ingest.test/healthz');
      assert.equal(health.status, 503);
    } finally {
      await bad.dispose();
    }
  });
});

describe('the ingest Worker with a queue binding', () => {
  test('accepted batches are enqueued, and the consumer retries until MLflow takes every span', async () => {
    const sink = await startSink();
    sink.mode = 'fail';
    const mf = ingestMiniflare(
      // One request per message, so the split into messages under 100 KB shows in what is relayed.
      { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify(KEYS), QUEUE_RETRY_DELAY_SECONDS: '1', RELAY_BATCH_BYTES: '0' },
      { queue: true },
    );
    try {
      const health = await (await mf.dispatchFetch('http://ingest.test/healthz')).json();
      assert.equal(health.mode, 'queue');
      const sent = [];
      for (let i = 0; i < 20; i++) {
        const spans = Array.from({ length: 5 }, () => jsonSpan());
        sent.push(...spans.map((s) => s.spanId));
        const res = await mf.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers: good(), body: jsonRequest(spans) });
        assert.equal(res.status, 200, 'accepted while MLflow is down');
        await res.arrayBuffer();
      }
      // A body larger than one queue message is split into several messages.
      const big = Array.from({ length: 40 }, () => jsonSpan({ attributes: [{ key: 'blob', value: { stringValue: 'b'.repeat(6000) } }] }));
      sent.push(...big.map((s) => s.spanId));
      const res = await mf.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers: good(), body: jsonRequest(big) });
      assert.equal(res.status, 200);
      // The consumer first looks up the traces accepted unchecked, which MLflow cannot answer either.
      const lookups = sink.lookups;
      await until(() => sink.lookups - lookups >= 3, { what: 'the consumer to try MLflow' });
      assert.equal(sink.spanIds.size, 0);
      sink.mode = 'ok';
      await until(() => sent.every((id) => sink.spanIds.has(id)), { timeoutMs: 60_000, what: 'every span relayed after MLflow came back' });
      assert.equal(sink.spanIds.size, sent.length);
      assert.ok(sink.payloads.every((p) => p.body.length <= 100_000 && p.headers['x-mlflow-experiment-id'] === '7'));
    } finally {
      await mf.dispose();
      await sink.close();
    }
  });

  test("traces accepted while MLflow could not be asked are looked up before the consumer relays them: another experiment's are dropped", async () => {
    const sink = await startSink();
    sink.mode = 'fail'; // lookups and relays alike answer 503
    const mf = ingestMiniflare(
      { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify(KEYS), QUEUE_RETRY_DELAY_SECONDS: '1', RELAY_BATCH_BYTES: '0', OWNER_LOOKUP_TIMEOUT_MS: '2000' },
      { queue: true },
    );
    try {
      // A trace of experiment 9 that key pk_app (experiment 7) writes to, and a trace of its own.
      const foreign = Array.from({ length: 3 }, () => jsonSpan());
      const foreignTrace = 'f'.repeat(8) + foreign[0].traceId.slice(8);
      for (const s of foreign) s.traceId = foreignTrace;
      sink.traces.set(foreignTrace, '9');
      const own = Array.from({ length: 3 }, () => jsonSpan());
      for (const spans of [foreign, own]) {
        const res = await mf.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers: good(), body: jsonRequest(spans) });
        assert.equal(res.status, 200, 'accepted unchecked while MLflow is down');
        await res.arrayBuffer();
      }
      const health = async () => (await (await mf.dispatchFetch('http://ingest.test/healthz')).json()).stats;
      assert.equal((await health()).uncheckedTraces, own.length + 1);
      const lookups = sink.lookups;
      await until(() => sink.lookups - lookups >= 4, { what: 'the consumer to try the lookups' });
      assert.equal(sink.spanIds.size, 0, 'nothing relayed before its lookup');
      sink.mode = 'ok';
      await until(() => own.every((s) => sink.spanIds.has(s.spanId)), { timeoutMs: 60_000, what: 'the own trace relayed after MLflow came back' });
      const stats = await until(async () => {
        const st = await health();
        return st.droppedForeignTraces >= 1 && st;
      }, { what: 'the foreign trace dropped' });
      assert.equal(stats.droppedForeignTraces, 1);
      assert.ok(!foreign.some((s) => sink.spanIds.has(s.spanId)), "no span of the other experiment's trace reached MLflow");
    } finally {
      await mf.dispose();
      await sink.close();
    }
  });

  test('an MLflow that hangs costs the consumer one lookup timeout a batch, not one a message', async () => {
    const sink = await startSink();
    sink.mode = 'fail';
    const mf = ingestMiniflare(
      { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify(KEYS), QUEUE_RETRY_DELAY_SECONDS: '1', RELAY_BATCH_BYTES: '0', OWNER_LOOKUP_TIMEOUT_MS: '400', RATE_LIMIT_PER_MINUTE: '0' },
      { queue: true, maxBatchSize: 10 },
    );
    try {
      const sent = [];
      for (let i = 0; i < 10; i++) {
        const spans = [jsonSpan()];
        sent.push(spans[0].spanId);
        const res = await mf.dispatchFetch('http://ingest.test/v1/traces', { method: 'POST', headers: good(), body: jsonRequest(spans) });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      // MLflow now accepts connections and answers lookups after 10 s: each one times out.
      sink.lookupDelayMs = 10_000;
      sink.mode = 'ok';
      const lookups = sink.lookups;
      await new Promise((r) => setTimeout(r, 3000));
      // A timeout of 0.4 s and 1 s between deliveries: at most three deliveries in 3 s, one
      // lookup each. One lookup a message would be seven or more (ten a delivery, 0.4 s each).
      const made = sink.lookups - lookups;
      assert.ok(made >= 1 && made <= 3, `${made} lookups in 3 s`);
      assert.equal(sink.spanIds.size, 0, 'nothing relayed unchecked');
      sink.lookupDelayMs = 0;
      await until(() => sent.every((id) => sink.spanIds.has(id)), { timeoutMs: 60_000, what: 'every span relayed once MLflow answers' });
    } finally {
      await mf.dispose();
      await sink.close();
    }
  });

  test("the consumer sends a batch's payloads for one experiment as one request, and one MLflow refuses holds back no other", async () => {
    const sink = await startSink();
    const keys = { ...KEYS, pk_other: { origins: [ORIGIN], experimentId: '8' } };
    const mf = ingestMiniflare(
      { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify(keys), QUEUE_RETRY_DELAY_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '0' },
      { queue: true },
    );
    try {
      const experimentOf = new Map();
      const send = async (key, experimentId, over) => {
        const spans = Array.from({ length: 5 }, () => jsonSpan(over));
        for (const s of spans) experimentOf.set(s.spanId, experimentId);
        const res = await mf.dispatchFetch('http://ingest.test/v1/traces', {
          method: 'POST', headers: { ...good(), 'x-edgetrace-key': key }, body: jsonRequest(spans),
        });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        return spans.map((s) => s.spanId);
      };
      const messages = 40;
      const poisoned = [];
      for (let i = 0; i < messages; i++) {
        const ids = await send(i % 2 ? 'pk_other' : 'pk_app', i % 2 ? '8' : '7');
        // MLflow will refuse two of the payloads for good, whatever they are sent with.
        if (i === 5 || i === 22) {
          sink.refuseSpans.add(ids[0]);
          poisoned.push(...ids);
        }
      }
      const taken = [...experimentOf.keys()].filter((id) => !poisoned.includes(id));
      await until(() => taken.every((id) => sink.spanIds.has(id)), { timeoutMs: 60_000, what: "every span MLflow takes relayed" });
      // Each relayed request went to the experiment of every span in it, with none of the refused.
      for (const p of sink.payloads) {
        assert.ok(p.ids.every((id) => experimentOf.get(id) === p.headers['x-mlflow-experiment-id']), 'a request mixed experiments');
        assert.ok(!p.ids.some((id) => poisoned.includes(id)));
      }
      assert.equal(sink.spanIds.size, taken.length);
      // Merged: fewer requests than messages, some of several messages' spans.
      assert.ok(sink.payloads.length < messages - 2, `${sink.payloads.length} requests for ${messages - 2} messages`);
      assert.ok(sink.payloads.some((p) => p.ids.length > 5));
      // The refused payloads were sent again on their own, and are retried as messages of their own.
      await until(() => sink.refused.filter((r) => r.ids.length === 5).length >= 2, { what: 'the refused payloads sent alone' });
      // The sink holds a relay's spans before the consumer has its answer and counts it.
      const stats = await until(async () => {
        const { stats: st } = await (await mf.dispatchFetch('http://ingest.test/healthz')).json();
        return st.relayedPayloads >= messages - 2 && st;
      }, { what: 'the consumer to count what it relayed' });
      assert.equal(stats.relayedPayloads, messages - 2);
      assert.equal(stats.relayRequests, sink.payloads.length);
    } finally {
      await mf.dispose();
      await sink.close();
    }
  });
});
