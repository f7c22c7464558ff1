// `logFeedback` (edgetrace/feedback) logs an assessment on a trace in a real MLflow, as MLflow's
// Python `mlflow.log_feedback` does: read back through MLflow's REST API with its name, value,
// source, rationale, metadata and span. Feedback given before its trace reaches MLflow waits for
// it; bad arguments and refusals resolve `{ error }` with the reason, and never throw.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flush, getLastActiveTraceId, init, withSpan } from '../../pkg/node.js';
import { logFeedback } from '../../pkg/feedback.js';
import { createExperiment, getTrace, startMlflow } from './helpers/mlflow.mjs';

let mlflow;
let experimentId;
const warnings = [];
before(async () => {
  mlflow = await startMlflow();
  experimentId = await createExperiment(mlflow.url, `feedback-${Date.now()}`);
}, { timeout: 120_000 });
after(async () => {
  await mlflow?.stop();
});

const configure = () => init({ endpoint: mlflow.url, experimentId, logger: { warn: (m) => warnings.push(m) } });
const assessments = async (id) => (await getTrace(mlflow.url, id)).trace_info.assessments || [];

test('a thumbs up is logged on its trace, with its source, rationale, metadata and span', async () => {
  configure();
  let spanId;
  withSpan(() => withSpan((s) => (spanId = s.spanId), { name: 'answer' }), { name: 'chat turn' });
  const traceId = getLastActiveTraceId();
  // No flush by the app: logFeedback exports the trace's spans first.
  const r = await logFeedback({
    traceId,
    name: 'user_feedback',
    value: true,
    rationale: 'it answered the question',
    source: { type: 'HUMAN', id: 'user-42' },
    metadata: { page: '/chat', turn: 3 },
  });
  assert.match(r.assessmentId, /^a-[0-9a-f]+$/, JSON.stringify(r));
  const onSpan = await logFeedback({ traceId, name: 'stars', value: 4, spanId, source: 'LLM_JUDGE' });
  assert.ok(onSpan.assessmentId, JSON.stringify(onSpan));

  const got = await assessments(traceId);
  const up = got.find((a) => a.assessment_id === r.assessmentId);
  assert.equal(up.assessment_name, 'user_feedback');
  assert.deepEqual(up.feedback, { value: true });
  assert.deepEqual(up.source, { source_type: 'HUMAN', source_id: 'user-42' });
  assert.equal(up.rationale, 'it answered the question');
  assert.deepEqual(up.metadata, { page: '/chat', turn: '3' });
  const stars = got.find((a) => a.assessment_id === onSpan.assessmentId);
  assert.deepEqual([stars.assessment_name, stars.feedback.value, stars.span_id, stars.source.source_type], ['stars', 4, spanId, 'LLM_JUDGE']);
});

test('feedback given while its trace is still open is logged once the trace reaches MLflow', async () => {
  configure();
  let traceId;
  let pending;
  await withSpan(async () => {
    traceId = getLastActiveTraceId();
    // The root ends 700 ms from now: until its spans are exported, MLflow answers 404.
    pending = logFeedback({ name: 'early', value: 'good' });
    await new Promise((r) => setTimeout(r, 700));
  }, { name: 'slow turn' });
  await flush();
  const r = await pending;
  assert.ok(r.assessmentId, JSON.stringify(r));
  assert.deepEqual((await assessments(traceId)).map((a) => [a.assessment_name, a.feedback.value]), [['early', 'good']]);
});

test('bad arguments resolve { error } saying what is wrong, and send nothing', async () => {
  configure();
  withSpan(() => {}, { name: 'turn' });
  const traceId = getLastActiveTraceId();
  const cases = [
    [undefined, /takes an object/],
    [{ traceId }, /value is missing/],
    [{ traceId, value: Number.NaN }, /finite number/],
    [{ traceId, value: 1, name: '' }, /name must be/],
    [{ traceId: 'tr-123', value: 1 }, /traceId must be/],
    [{ traceId, value: 1, spanId: 'nope' }, /spanId must be 16 hex digits/],
    [{ traceId, value: 1, source: { type: 'ROBOT' } }, /source.type must be one of HUMAN, LLM_JUDGE, CODE/],
    [{ traceId, value: 1, metadata: ['x'] }, /metadata must be an object/],
  ];
  for (const [arg, says] of cases) {
    const r = await logFeedback(arg);
    assert.match(r.error, says, JSON.stringify(arg));
    assert.ok(warnings.some((w) => w.includes(r.error)), 'the reason is warned about too');
  }
  await flush();
  assert.deepEqual(await assessments(traceId), []);
});

test('without an endpoint, or when MLflow refuses, it resolves { error } with the reason', async () => {
  init({ logger: { warn() {} } });
  withSpan(() => {}, { name: 'turn' });
  assert.match((await logFeedback({ value: 1 })).error, /no endpoint/);
  // A server that is not MLflow: its 404 is not a missing trace, so it is not tried again.
  init({ endpoint: `${mlflow.url}/no-such-prefix`, logger: { warn() {} } });
  const started = Date.now();
  const r = await logFeedback({ traceId: 'tr-5b8efff798038103d269b633813fc60c', value: 1 });
  assert.match(r.error, /answered 404/);
  assert.ok(Date.now() - started < 5000, 'a route that does not exist is not retried');
});

/**
 * A proxy to MLflow that forwards every request at once but holds each feedback answer `holdMs`,
 * and answers it with `status` in place of MLflow's (a gateway's 504 after MLflow stored it).
 */
async function slowProxy(holdMs, status) {
  const { createServer } = await import('node:http');
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const answer = await fetch(`${mlflow.url}${req.url}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] || 'application/json' }, body });
    const text = await answer.text();
    if (req.url.endsWith('/assessments')) await new Promise((r) => setTimeout(r, holdMs));
    const own = status && req.url.endsWith('/assessments');
    if (!res.destroyed) res.writeHead(own ? status : answer.status, { 'content-type': 'application/json' }).end(own ? '{"message":"gateway timeout"}' : text);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test('a post that timed out is not sent again (MLflow stored it), and the whole call keeps to timeoutMs', async () => {
  configure();
  withSpan(() => {}, { name: 'rated slowly' });
  const traceId = getLastActiveTraceId();
  await flush();
  const proxy = await slowProxy(2500);
  try {
    init({ endpoint: proxy.url, experimentId, logger: { warn() {} } });
    const started = Date.now();
    const r = await logFeedback({ traceId, name: 'once', value: true, timeoutMs: 1000 });
    const took = Date.now() - started;
    assert.match(r.error, /did not answer within 1000 ms/);
    assert.ok(took < 2000, `resolved after ${took} ms`);
    await new Promise((res) => setTimeout(res, 1800));
    // MLflow stored the one post it got: one assessment, not one per retry.
    assert.deepEqual((await assessments(traceId)).map((a) => a.assessment_name), ['once']);
  } finally {
    await proxy.close();
  }
  // A gateway's 504 (or 500, 502) after MLflow stored it: not sent again either.
  const gateway = await slowProxy(0, 504);
  try {
    init({ endpoint: gateway.url, experimentId, logger: { warn() {} } });
    const r = await logFeedback({ traceId, name: 'behind a gateway', value: 1 });
    assert.match(r.error, /answered 504/);
    assert.deepEqual((await assessments(traceId)).map((a) => a.assessment_name).sort(), ['behind a gateway', 'once']);
  } finally {
    await gateway.close();
  }
});

test('feedback on the last trace when sampling left it out is an error at once', async () => {
  init({ endpoint: mlflow.url, experimentId, sampleRatio: 0, logger: { warn() {} } });
  withSpan(() => {}, { name: 'not sampled' });
  const started = Date.now();
  const r = await logFeedback({ value: true });
  assert.match(r.error, /was not recorded \(sampleRatio 0 left it out\)/);
  assert.ok(Date.now() - started < 1000);
});
