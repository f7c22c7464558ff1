// The built npm package in Node sends a root with nested children to a real MLflow 3.17.2
// (SQLite, started here unless MLFLOW_URL names one) at /v1/traces, as OTLP protobuf and as
// OTLP JSON; the traces are read back through MLflow's REST search and get endpoints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { flush, getLastActiveTraceId, getStats, init, SpanType, trace, updateCurrentTrace, withSpan } from '../../pkg/node.js';
import { createExperiment, readSpans, searchTraces, startMlflow, waitForTrace } from './helpers/mlflow.mjs';

let mlflow;
before(async () => {
  mlflow = await startMlflow();
}, { timeout: 300_000 });
after(async () => {
  await mlflow?.stop();
});

test("SpanType has MLflow's own span types, each named as itself", () => {
  // The MLflow that the tests run (scripts/setup.sh installs it in .venv/).
  const python = new URL('../../.venv/bin/python', import.meta.url).pathname;
  const mlflowTypes = JSON.parse(execFileSync(python, ['-c', 'import json; from mlflow.entities import SpanType; print(json.dumps([k for k in vars(SpanType) if k.isupper()]))'], { encoding: 'utf8' }));
  assert.ok(mlflowTypes.length >= 11, mlflowTypes.join(' '));
  assert.deepEqual(Object.keys(SpanType).sort(), [...mlflowTypes].sort());
  for (const [k, v] of Object.entries(SpanType)) assert.equal(v, k);
  assert.ok(Object.isFrozen(SpanType));
});

async function runAgent(question) {
  const retrieve = trace(async function retrieve(query, k) {
    await new Promise((r) => setTimeout(r, 2));
    return [`doc about ${query}`].slice(0, k);
  }, { spanType: SpanType.RETRIEVER });
  const weather = trace(function weather(city) {
    if (city === 'Atlantis') throw new RangeError(`no such city: ${city}`);
    return { city, tempC: 21 };
  }, { spanType: SpanType.TOOL });
  const answer = trace(async function answer(question) {
    updateCurrentTrace({ tags: { env: 'test' }, sessionId: 'session-7', userId: 'user-7' });
    const docs = await retrieve(question, 1);
    const reply = await withSpan(async (span) => {
      span.setInputs({ messages: [{ role: 'user', content: question }] });
      span.setAttribute('mlflow.chat.tokenUsage', { input_tokens: 12, output_tokens: 30, total_tokens: 42 });
      return { role: 'assistant', content: `Based on ${docs.length} doc(s): MLflow tracks ML.` };
    }, { name: 'chat', spanType: SpanType.CHAT_MODEL });
    weather('Paris');
    try {
      weather('Atlantis');
    } catch {
      /* recorded on the span */
    }
    return reply.content;
  }, { spanType: SpanType.AGENT });
  const out = await answer(question);
  return { out, traceId: getLastActiveTraceId() };
}

for (const format of ['protobuf', 'json']) {
  test(`a nested trace sent as OTLP ${format} reads back from MLflow with names, types, links, inputs, outputs and status`, async () => {
    const experimentId = await createExperiment(mlflow.url, `edgetrace-${format}`);
    init({ endpoint: mlflow.url, experimentId, format, serviceName: `mlflow-test-${format}` });
    const { out, traceId } = await runAgent('What is MLflow?');
    await flush();
    assert.equal(getStats().lastExportError, null);
    assert.match(traceId, /^tr-[0-9a-f]{32}$/);

    const t = await waitForTrace(mlflow.url, traceId, 5);
    const spans = readSpans(t);
    assert.equal(spans.length, 5);
    const by = (n) => spans.filter((s) => s.name === n);
    const [root] = by('answer');
    assert.equal(root.parentId, null);
    assert.equal(root.type, 'AGENT');
    assert.deepEqual(root.inputs, { question: 'What is MLflow?' });
    assert.equal(root.outputs, out);
    assert.equal(root.status, 'STATUS_CODE_OK');
    for (const s of spans.filter((x) => x !== root)) assert.equal(s.parentId, root.spanId, `${s.name} under the root`);
    assert.equal(by('retrieve')[0].type, 'RETRIEVER');
    assert.deepEqual(by('retrieve')[0].inputs, { query: 'What is MLflow?', k: 1 });
    assert.deepEqual(by('retrieve')[0].outputs, ['doc about What is MLflow?']);
    const [chat] = by('chat');
    assert.equal(chat.type, 'CHAT_MODEL');
    assert.deepEqual(chat.attributes['mlflow.chat.tokenUsage'], { input_tokens: 12, output_tokens: 30, total_tokens: 42 });
    const tools = by('weather');
    assert.equal(tools.length, 2);
    const failed = tools.find((s) => s.status === 'STATUS_CODE_ERROR');
    assert.ok(failed, 'the failing tool call has ERROR status');
    assert.match(failed.statusMessage, /RangeError: no such city: Atlantis/);
    assert.equal(failed.events[0].name, 'exception');
    assert.equal(failed.events[0].attributes['exception.type'], 'RangeError');
    assert.deepEqual(tools.find((s) => s !== failed).outputs, { city: 'Paris', tempC: 21 });
    for (const s of spans) assert.ok(s.endNs >= s.startNs, `${s.name} ends after it starts`);
    // MLflow's log levels, which its UI's level filter reads: INFO for these kinds, ERROR for the
    // failed call (a span without one the UI takes for DEBUG, and hides at INFO).
    for (const s of spans) assert.equal(Number(s.attributes['mlflow.spanLogLevel']), s === failed ? 40 : 20, `${s.name}'s level`);

    // The trace's info: state, tags, session, user, token usage, previews.
    const info = t.trace_info;
    assert.equal(info.trace_id, traceId);
    assert.equal(info.state, 'OK');
    assert.equal(info.tags.env, 'test');
    assert.equal(info.trace_metadata['mlflow.trace.session'], 'session-7');
    assert.equal(info.trace_metadata['mlflow.trace.user'], 'user-7');
    assert.deepEqual(JSON.parse(info.trace_metadata['mlflow.trace.tokenUsage']), { input_tokens: 12, output_tokens: 30, total_tokens: 42 });
    assert.equal(JSON.parse(info.request_preview).question, 'What is MLflow?');

    // And search finds exactly this trace in the experiment.
    const found = await searchTraces(mlflow.url, experimentId);
    assert.deepEqual(found.map((x) => x.trace_id), [traceId]);
    assert.equal(found[0].state, 'OK');
    // Named after its root, as MLflow's own SDKs name traces: the UI lists it by that name, and
    // a search by name finds it.
    assert.equal(info.tags['mlflow.traceName'], 'answer');
    const byName = await searchTraces(mlflow.url, experimentId, "trace.name = 'answer'");
    assert.deepEqual(byName.map((x) => x.trace_id), [traceId]);
    assert.deepEqual(await searchTraces(mlflow.url, experimentId, "trace.name = 'chat'"), []);
  });
}

// A bare number or boolean as inputs or outputs goes as a typed OTLP value, null as none: MLflow's
// OTLP endpoint reads JSON text back as objects, arrays and strings only, so these would read back
// as "42" and "true". Read back here as MLflow's Python SDK logs them (42, true, 1.5, none).
for (const format of ['protobuf', 'json']) {
  test(`scalar inputs and outputs read back from MLflow as numbers and booleans (OTLP ${format})`, async () => {
    const experimentId = await createExperiment(mlflow.url, `edgetrace-scalars-${format}`);
    init({ endpoint: mlflow.url, experimentId, format });
    const double = trace(async function double(x) {
      await withSpan(() => true, { name: 'bool' });
      await withSpan(() => 1.5, { name: 'fraction' });
      await withSpan(() => null, { name: 'nothing' });
      await withSpan((s) => {
        s.setInputs(false);
        return 'five';
      }, { name: 'text' });
      return x * 2;
    });
    assert.equal(await double(21), 42);
    await flush();
    assert.equal(getStats().lastExportError, null);
    const t = await waitForTrace(mlflow.url, getLastActiveTraceId(), 5);
    const by = Object.fromEntries(readSpans(t).map((s) => [s.name, s]));
    assert.deepEqual(by.double.inputs, { x: 21 });
    assert.equal(by.double.outputs, 42);
    assert.equal(by.bool.outputs, true);
    assert.equal(by.fraction.outputs, 1.5);
    assert.equal(by.nothing.outputs, undefined);
    assert.equal(by.text.inputs, false);
    assert.equal(by.text.outputs, 'five');
    assert.equal(t.trace_info.response_preview, '42');
  });
}

// mlflow-tracing's docs set the session and user as trace metadata keys. MLflow's OTLP endpoint
// makes trace metadata only of the spans' session.id and user.id, so those two keys go as the ids
// (a search by either finds the trace); other metadata stays on the root span. An explicit
// sessionId wins over the metadata key, and odd keys ('constructor') stay plain metadata.
test("updateCurrentTrace's metadata keys mlflow.trace.session and mlflow.trace.user become the trace's session and user in MLflow", async () => {
  const experimentId = await createExperiment(mlflow.url, 'edgetrace-metadata-ids');
  const said = [];
  init({ endpoint: mlflow.url, experimentId, logger: { warn: (m) => said.push(m) } });
  const traced = trace(async function chat(q, explicit) {
    updateCurrentTrace({ metadata: { 'mlflow.trace.session': 'sess-m', 'mlflow.trace.user': 'user-m' }, tags: { t: '1' } });
    // Nothing MLflow drops yet: nothing said.
    if (q === 'a') assert.deepEqual(said, []);
    updateCurrentTrace({ metadata: { constructor: 'c', 'app.version': '1.2.3' } });
    if (explicit) updateCurrentTrace({ sessionId: 'sess-explicit', clientRequestId: 'req-1' });
    return q;
  });
  await traced('a');
  const first = getLastActiveTraceId();
  await traced('b', true);
  const second = getLastActiveTraceId();
  // What MLflow's OTLP endpoint keeps only as root-span attributes is said, once.
  assert.deepEqual(said, ["edgetrace: MLflow (3.17) takes no trace metadata, clientRequestId or previews over OTLP: updateCurrentTrace keeps them as attributes of the trace's root span (mlflow.traceMetadata.*, mlflow.clientRequestId, mlflow.requestPreview, mlflow.responsePreview); tags, sessionId and userId do reach the trace"]);
  await flush();
  assert.equal(getStats().lastExportError, null);
  const info = (await waitForTrace(mlflow.url, first, 1)).trace_info;
  assert.equal(info.trace_metadata['mlflow.trace.session'], 'sess-m');
  assert.equal(info.trace_metadata['mlflow.trace.user'], 'user-m');
  const root = readSpans(await waitForTrace(mlflow.url, first, 1))[0];
  assert.equal(root.attributes['mlflow.traceMetadata.constructor'], 'c');
  assert.equal(root.attributes['mlflow.traceMetadata.app.version'], '1.2.3');
  assert.equal(root.attributes['mlflow.traceMetadata.mlflow.trace.session'], undefined);
  const found = await searchTraces(mlflow.url, experimentId, "metadata.`mlflow.trace.session` = 'sess-m'");
  assert.deepEqual(found.map((x) => x.trace_id), [first]);
  assert.equal((await waitForTrace(mlflow.url, second, 1)).trace_info.trace_metadata['mlflow.trace.session'], 'sess-explicit');
});
