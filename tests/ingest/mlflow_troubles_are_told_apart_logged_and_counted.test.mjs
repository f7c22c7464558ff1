// What the service answers, logs and counts when the trouble is MLflow's or its own rather than
// the request's, through the Node adapter (the same service.js as the Worker) in front of a fake
// MLflow: a slow trace lookup (OWNER_LOOKUP_TIMEOUT_MS), MLflow refusing the service's
// credentials (401/403: the same 422 and hint as a refused relay, on both routes), a
// MLFLOW_TRACKING_URI that is not MLflow's API (an HTML 404 page), and one log line for every
// 503, 422 and 500 with the key and its experiment, /healthz counters for them, and a client that
// hangs up mid-upload logged as that.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { IngestCore } from '../../ingest/build/edgetrace_ingest.js';
import { startNodeIngest } from '../../ingest/src/node.js';
import { createService } from '../../ingest/src/service.js';
import { jsonRequest, jsonSpan, startSink, until } from './helpers.mjs';

const KEYS = { pk_ops: { origins: ['*'], experimentId: '3' } };
const HEADERS = { 'content-type': 'application/json', 'x-edgetrace-key': 'pk_ops' };
const CREDENTIALS_HINT = /MLflow refused the ingest service's credentials \(MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD\)$/;
// What Flask answers for a path it has no route for (MLFLOW_TRACKING_URI with a wrong path).
const FLASK_404 = '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n';

let sink;
const started = [];
let logs;
let restore;

/** The service's log lines (console.warn and console.error), each as one string. */
function captureLogs() {
  const lines = [];
  const saved = { warn: console.warn, error: console.error };
  for (const level of ['warn', 'error']) console[level] = (...args) => lines.push({ level, text: args.map(String).join(' ') });
  return { lines, restore: () => Object.assign(console, saved) };
}

async function ingestWith(env) {
  const ingest = await startNodeIngest({ port: 0, env: { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify(KEYS), ...env } });
  started.push(ingest);
  return ingest;
}

const postTraces = (ingest, spans = [jsonSpan()]) => fetch(`${ingest.url}/v1/traces`, { method: 'POST', headers: HEADERS, body: jsonRequest(spans) });
const postFeedback = (ingest, traceHex) => fetch(`${ingest.url}/api/3.0/mlflow/traces/tr-${traceHex}/assessments`, {
  method: 'POST',
  headers: HEADERS,
  body: JSON.stringify({ assessment: { assessment_name: 'helpful', feedback: { value: true } } }),
});
const stats = async (ingest) => (await (await fetch(`${ingest.url}/healthz`)).json()).stats;

before(async () => {
  sink = await startSink();
});
after(async () => {
  for (const i of started) await i.close();
  await sink?.close();
});
beforeEach(() => {
  ({ lines: logs, restore } = captureLogs());
  Object.assign(sink, { mode: 'ok', answer: null, lookupDelayMs: 0 });
});
afterEach(() => restore());

describe('the trace lookup', () => {
  test('waits OWNER_LOOKUP_TIMEOUT_MS for MLflow, and says so when MLflow takes longer', async () => {
    sink.lookupDelayMs = 700; // a slow MLflow: every lookup takes 0.7 s
    const short = await ingestWith({ OWNER_LOOKUP_TIMEOUT_MS: '200' });
    const res = await postTraces(short);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error, 'mlflow_unavailable');
    assert.equal(body.message, 'MLflow did not answer a trace lookup within 200 ms (OWNER_LOOKUP_TIMEOUT_MS); retry later');
    // The feedback route's lookup too.
    const fb = await postFeedback(short, jsonSpan().traceId);
    assert.equal(fb.status, 503);
    assert.match((await fb.json()).message, /within 200 ms/);

    const patient = await ingestWith({ OWNER_LOOKUP_TIMEOUT_MS: '5000' });
    const s = jsonSpan();
    const ok = await postTraces(patient, [s]);
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.ok(sink.spanIds.has(s.spanId));
  });

  test('OWNER_LOOKUP_TIMEOUT_MS is checked like the other integer settings', async () => {
    const bad = await ingestWith({ OWNER_LOOKUP_TIMEOUT_MS: '3s' });
    const res = await postTraces(bad);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'misconfigured', message: 'OWNER_LOOKUP_TIMEOUT_MS must be a non-negative integer, got "3s"' });
  });
});

describe('MLflow refusing the service\'s credentials', () => {
  for (const status of [401, 403]) {
    test(`a ${status} to the trace lookup is the 422 mlflow_refused a refused relay gets, with the credentials hint, not a 503`, async () => {
      // A server in front of MLflow (or MLflow's basic auth) that takes only `ops:right`.
      const right = `Basic ${Buffer.from('ops:right').toString('base64')}`;
      sink.answer = (req) => (req.headers.authorization === right ? null : {
        status,
        headers: { 'content-type': 'text/plain' },
        body: status === 401 ? 'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.' : 'Permission denied',
      });
      const wrong = await ingestWith({ MLFLOW_TRACKING_USERNAME: 'ops', MLFLOW_TRACKING_PASSWORD: 'wrong' });
      const res = await postTraces(wrong);
      assert.equal(res.status, 422);
      assert.equal(res.headers.get('retry-after'), null);
      const body = await res.json();
      assert.equal(body.error, 'mlflow_refused');
      assert.match(body.message, new RegExp(`^MLflow answered ${status} to a trace lookup: `));
      assert.match(body.message, CREDENTIALS_HINT);
      // Feedback on a trace: its lookup gets the same answer.
      const fb = await postFeedback(wrong, jsonSpan().traceId);
      assert.equal(fb.status, 422);
      const fbBody = await fb.json();
      assert.equal(fbBody.error, 'mlflow_refused');
      assert.match(fbBody.message, CREDENTIALS_HINT);
      // Without the lookup, the relay's refusal says the same (as it did before).
      const unchecked = await ingestWith({ MLFLOW_TRACKING_USERNAME: 'ops', MLFLOW_TRACKING_PASSWORD: 'wrong', CHECK_TRACE_OWNERS: 'false' });
      const relayed = await postTraces(unchecked);
      assert.equal(relayed.status, 422);
      assert.match((await relayed.json()).message, CREDENTIALS_HINT);
      // With the right credentials, it goes through.
      const fixed = await ingestWith({ MLFLOW_TRACKING_USERNAME: 'ops', MLFLOW_TRACKING_PASSWORD: 'right' });
      assert.equal((await postTraces(fixed)).status, 200);
    });
  }
});

describe('a MLFLOW_TRACKING_URI that is not MLflow\'s API', () => {
  test('an HTML 404 page is a 422 that says to check MLFLOW_TRACKING_URI, from the lookup and from the relay', async () => {
    sink.answer = () => ({ status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: FLASK_404 });
    for (const env of [{}, { CHECK_TRACE_OWNERS: 'false' }]) {
      const wrongPath = await ingestWith({ MLFLOW_TRACKING_URI: `${sink.url}/mlflow`, ...env });
      const res = await postTraces(wrongPath);
      assert.equal(res.status, 422, JSON.stringify(env));
      const { error, message } = await res.json();
      assert.equal(error, 'mlflow_refused');
      assert.match(message, /^MLflow answered 404( to a trace lookup)?: an HTML page, "404 Not Found"; /, message);
      assert.match(message, /check MLFLOW_TRACKING_URI/);
      assert.doesNotMatch(message, /experiment of this key/);
      assert.ok(!message.includes('\n'), 'one line');
    }
    const fb = await postFeedback(started.at(-2), jsonSpan().traceId);
    assert.equal(fb.status, 422);
    assert.match((await fb.json()).message, /check MLFLOW_TRACKING_URI/);
  });

  test('feedback is answered 503 (send again) only when MLflow stored nothing: a timeout is 504 and a 500 is 502, not to be sent again', async () => {
    const hex = jsonSpan().traceId;
    sink.traces.set(hex, '3'); // the key's experiment holds the trace
    const onFeedback = (status, body) => (req) => (req.method === 'POST' && req.url.endsWith('/assessments') ? { status, headers: { 'content-type': 'application/json' }, body } : null);
    const ingest = await ingestWith({ RELAY_TIMEOUT_MS: '300' });
    sink.answer = onFeedback(503, '{"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"}');
    assert.equal((await postFeedback(ingest, hex)).status, 503);
    sink.answer = onFeedback(500, '{"error_code":"INTERNAL_ERROR","message":"stored, then failed"}');
    const failed = await postFeedback(ingest, hex);
    assert.equal(failed.status, 502);
    const body = await failed.json();
    assert.equal(body.error, 'mlflow_failed');
    assert.match(body.message, /may have been stored, so it is not to be sent again/);
    assert.equal(failed.headers.get('retry-after'), null);
    // No answer within RELAY_TIMEOUT_MS.
    sink.answer = null;
    sink.delayMs = 1000;
    try {
      const late = await postFeedback(ingest, hex);
      assert.equal(late.status, 504);
      assert.equal((await late.json()).error, 'mlflow_timeout');
    } finally {
      sink.delayMs = 0;
    }
  });

  test("MLflow's own 404 for an unknown experiment still points at the key's experiment", async () => {
    sink.mode = 'refuse';
    const ingest = await ingestWith({});
    const res = await postTraces(ingest);
    assert.equal(res.status, 422);
    assert.match((await res.json()).message, /^MLflow answered 404: No Experiment with id=3 exists\.; check the experiment of this key$/);
  });
});

describe('operators see what went wrong', () => {
  test('every 503 and 422 is logged in one line with its reason, the key and its experiment, and counted in /healthz', async () => {
    const ingest = await ingestWith({ RELAY_ATTEMPTS: '1' });
    const before = await stats(ingest);
    assert.equal(before.mlflowUnavailable, 0);
    assert.equal(before.mlflowRefused, 0);
    assert.equal(before.internalErrors, 0);

    sink.mode = 'fail'; // MLflow down: the lookup fails first
    assert.equal((await postTraces(ingest)).status, 503);
    sink.mode = 'ok';
    // The lookup passes (a trace MLflow does not have), then the relay gets a 503.
    sink.answer = (req) => (req.method === 'POST' ? { status: 503, body: 'upstream restarting' } : null);
    assert.equal((await postTraces(ingest)).status, 503);
    sink.answer = null;
    sink.mode = 'refuse'; // MLflow has no experiment 3
    assert.equal((await postTraces(ingest)).status, 422);
    sink.mode = 'ok';
    assert.equal((await postTraces(ingest)).status, 200);
    // A refusal of the request itself is counted in `refused`, and not logged.
    assert.equal((await fetch(`${ingest.url}/v1/traces`, { method: 'POST', headers: { ...HEADERS, 'x-edgetrace-key': 'pk_nope' }, body: '{}' })).status, 401);

    assert.deepEqual(logs.map((l) => l.level), ['warn', 'warn', 'error']);
    const [down, relay503, refused] = logs.map((l) => l.text);
    assert.match(down, /^edgetrace ingest: 503 mlflow_unavailable, POST \/v1\/traces, key pk_ops \(experiment 3\): MLflow answered 503 to a trace lookup: fail; retry later$/);
    assert.match(relay503, /^edgetrace ingest: 503 mlflow_unavailable, POST \/v1\/traces, key pk_ops \(experiment 3\): MLflow answered 503: upstream restarting; retry later$/);
    assert.match(refused, /^edgetrace ingest: 422 mlflow_refused, POST \/v1\/traces, key pk_ops \(experiment 3\): MLflow answered 404: No Experiment with id=3 exists\.; check the experiment of this key$/);
    for (const l of logs) assert.ok(!l.text.includes('\n'), 'one line');

    const after = await stats(ingest);
    assert.equal(after.mlflowUnavailable, 2);
    assert.equal(after.mlflowRefused, 1);
    assert.equal(after.accepted, before.accepted + 1);
    assert.deepEqual(after.refused, { unknown_key: 1 });
  });

  test('an unexpected error is a 500 that tells the sender nothing, logged in one line with the key and counted', async () => {
    class BrokenCore {
      process() {
        throw new TypeError('the core broke');
      }
    }
    const lines = [];
    const log = { warn: (m) => lines.push(['warn', m]), error: (m) => lines.push(['error', m]) };
    const service = createService(BrokenCore, { log, fetch: () => Promise.reject(new Error('no MLflow here')) });
    const env = { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify(KEYS) };
    const res = await service.fetch(new Request('http://ingest.test/v1/traces', { method: 'POST', headers: HEADERS, body: jsonRequest([jsonSpan()]) }), env);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'internal', message: 'unexpected error; nothing was relayed' });
    assert.equal(lines.length, 1);
    assert.equal(lines[0][0], 'error');
    assert.match(lines[0][1], /^edgetrace ingest: 500 internal, POST \/v1\/traces, key pk_ops \(experiment 3\): unexpected error; nothing was relayed \(TypeError: the core broke at /);
    assert.ok(!lines[0][1].includes('\n'));
    assert.equal(service.stats.internalErrors, 1);
  });

  test('a client that hangs up mid-upload is logged as that: one line, no stack, no "unexpected error"', async () => {
    const ingest = await ingestWith({});
    const { port } = new URL(ingest.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nx-edgetrace-key: pk_ops\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{"resourceSpans":[');
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    await until(() => logs.length > 0, { timeoutMs: 5000, what: 'a log line' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(logs.length, 1, JSON.stringify(logs));
    assert.equal(logs[0].level, 'warn');
    assert.match(logs[0].text, /^edgetrace ingest: the client hung up mid-upload, POST \/v1\/traces, key pk_ops \(experiment 3\) \(.+\); nothing was relayed$/);
    assert.ok(!logs[0].text.includes('\n'), 'no stack');
    const st = await stats(ingest);
    assert.equal(st.internalErrors, 0);
  });
});
