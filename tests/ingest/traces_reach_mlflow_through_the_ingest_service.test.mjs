// End to end through the ingest Worker in workerd (Miniflare on a real 127.0.0.1 port) to a real
// MLflow 3.17.2: traces from the edgetrace SDK in Node and in headless Chromium, and from the
// official OpenTelemetry JS SDK's OTLP HTTP exporters (JSON and protobuf) with GenAI attributes,
// read back through MLflow's REST API with the exact tree, span types, inputs, outputs and usage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, trace as otelTrace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { flush, getLastActiveTraceId, getStats, init, SpanType, trace, traceFetch, withSpan } from '../../pkg/node.js';
import { logFeedback } from '../../pkg/feedback.js';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { launchChromium, startStaticServer } from '../browser/helpers.mjs';
import { createExperiment, getTrace, readSpans, startMlflow, waitForTrace } from '../node/helpers/mlflow.mjs';
import { ingestMiniflare } from './helpers.mjs';

let mlflow;
let llm;
let site;
let mf;
let ingestUrl;
const experiments = {};
const KEY_FOR = (name) => `pk_e2e_${name}`;

before(async () => {
  [mlflow, llm, site] = await Promise.all([startMlflow(), startMockLlm(), startStaticServer()]);
  for (const name of ['node', 'chromium', 'otel_json', 'otel_proto']) experiments[name] = await createExperiment(mlflow.url, `ingest-${name}`);
  const keys = Object.fromEntries(Object.entries(experiments).map(([name, id]) => [KEY_FOR(name), { origins: [site.url], experimentId: id }]));
  mf = ingestMiniflare({ MLFLOW_TRACKING_URI: mlflow.url, INGEST_KEYS: JSON.stringify(keys) }, { port: 0 });
  ingestUrl = String(await mf.ready).replace(/\/$/, '');
}, { timeout: 300_000 });

after(async () => {
  await mf?.dispose();
  await Promise.all([llm?.close(), site?.close()]);
  await mlflow?.stop();
});

const json = (v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

describe('the edgetrace SDK through the ingest service', () => {
  test('in Node: an agent with a retriever and a streamed OpenAI call arrives as one exact trace', async () => {
    init({ endpoint: ingestUrl, ingestKey: KEY_FOR('node'), experimentId: experiments.node, serviceName: 'node-via-ingest' });
    const retrieve = trace(async function retrieve(q) {
      return [`doc about ${q}`];
    }, { spanType: SpanType.RETRIEVER });
    let usage = null;
    const answer = trace(async function answer(question) {
      const docs = await retrieve(question);
      const res = await traceFetch()(`${llm.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-node-secret-000000000000000000' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'system', content: docs[0] }, { role: 'user', content: question }] }),
      });
      let text = '';
      for (const line of (await res.text()).split('\n')) {
        const data = line.startsWith('data:') ? line.slice(5).trim() : '';
        if (!data || data === '[DONE]') continue;
        const ev = JSON.parse(data);
        text += ev.choices?.[0]?.delta?.content ?? '';
        if (ev.usage) usage = ev.usage;
      }
      return text;
    }, { spanType: SpanType.AGENT });
    const out = await answer('Why relay traces?');
    const traceId = getLastActiveTraceId();
    for (let i = 0; i < 100 && getStats().open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await flush();
    assert.equal(getStats().lastExportError, null);

    const spans = readSpans(await waitForTrace(mlflow.url, traceId, 3));
    assert.equal(spans.length, 3);
    const root = spans.find((s) => s.parentId === null);
    assert.equal(root.name, 'answer');
    assert.equal(root.type, 'AGENT');
    assert.deepEqual(json(root.inputs), { question: 'Why relay traces?' });
    assert.equal(json(root.outputs), out);
    const children = spans.filter((s) => s !== root);
    assert.equal(children.length, 2);
    for (const c of children) assert.equal(c.parentId, root.spanId);
    assert.equal(children.find((s) => s.name === 'retrieve').type, 'RETRIEVER');
    const chat = children.find((s) => s.type === 'CHAT_MODEL');
    assert.ok(chat, 'a CHAT_MODEL span');
    assert.equal(json(chat.inputs).messages[1].content, 'Why relay traces?');
    assert.equal(json(chat.outputs).choices[0].message.content, out);
    assert.deepEqual(json(chat.attributes['mlflow.chat.tokenUsage']), {
      input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, total_tokens: usage.total_tokens,
      cache_read_input_tokens: usage.prompt_tokens_details.cached_tokens,
    });
  });

  test('in headless Chromium: the page exports with its public key and its origin, and the trace arrives exact', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${site.url}/ingest.html`);
      await page.waitForFunction(() => window.ingestReady === true, null, { timeout: 30_000 });
      const r = await page.evaluate(([u, k, e, l]) => window.agentTurn(u, k, e, l), [ingestUrl, KEY_FOR('chromium'), experiments.chromium, llm.url]);
      assert.equal(r.error, null, r.error);
      assert.deepEqual(errors, []);
      assert.equal(r.stats.lastExportError, null, JSON.stringify(r));
      assert.ok(site.served.includes('/pkg/core/wasm-deflate.js'), 'the page loaded the default core');
      assert.ok(!site.served.includes('/pkg/core/wasm-deflate-json.js'), 'an OTLP/protobuf page does not load the core with the JSON encoder');
      const spans = readSpans(await waitForTrace(mlflow.url, r.traceId, 3));
      assert.equal(spans.length, 3);
      const root = spans.find((s) => s.parentId === null);
      assert.equal(root.name, 'turn');
      assert.equal(root.type, 'AGENT');
      assert.equal(json(root.outputs), r.text);
      assert.equal(spans.find((s) => s.name === 'lookup').type, 'RETRIEVER');
      const chat = spans.find((s) => s.type === 'CHAT_MODEL');
      assert.equal(chat.parentId, root.spanId);
      assert.equal(json(chat.outputs).choices[0].message.content, r.text);
      assert.deepEqual(json(chat.attributes['mlflow.chat.tokenUsage']), {
        input_tokens: r.usage.prompt_tokens, output_tokens: r.usage.completion_tokens, total_tokens: r.usage.total_tokens,
        cache_read_input_tokens: r.usage.prompt_tokens_details.cached_tokens,
      });
      // The user's thumbs up, from the page through the ingest service (a CORS preflight and all).
      const up = await page.evaluate((id) => window.thumbsUp(id), r.traceId);
      assert.ok(up.assessmentId, JSON.stringify(up));
      const rated = (await getTrace(mlflow.url, r.traceId)).trace_info.assessments;
      assert.deepEqual(rated.map((a) => [a.assessment_id, a.assessment_name, a.feedback.value, a.source.source_id, a.rationale]),
        [[up.assessmentId, 'thumbs', true, 'page-user', 'clicked 👍']]);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});

describe('the official OpenTelemetry JS SDK through the ingest service', () => {
  for (const [name, Exporter] of [['otel_json', OTLPJsonExporter], ['otel_proto', OTLPProtoExporter]]) {
    test(`${name === 'otel_json' ? 'OTLP/HTTP JSON' : 'OTLP/HTTP protobuf'}: GenAI spans arrive typed, with inputs, outputs and token usage`, async () => {
      const exporter = new Exporter({ url: `${ingestUrl}/v1/traces`, headers: { 'x-edgetrace-key': KEY_FOR(name) } });
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': `otel-${name}` }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      });
      const cm = new AsyncLocalStorageContextManager().enable();
      context.setGlobalContextManager(cm);
      try {
        const tracer = provider.getTracer('otel-test');
        let traceId;
        await tracer.startActiveSpan('invoke_agent planner', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' } }, async (root) => {
          traceId = root.spanContext().traceId;
          await tracer.startActiveSpan('chat gpt-4o-mini', {
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': 'openai',
              'gen_ai.request.model': 'gpt-4o-mini',
              'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'plan my day' }] }]),
              'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'wake, code, sleep' }] }]),
              'gen_ai.usage.input_tokens': 11,
              'gen_ai.usage.output_tokens': 4,
            },
          }, async (chat) => chat.end());
          await tracer.startActiveSpan('execute_tool calendar', {
            attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.call.arguments': '{"day":"today"}', 'gen_ai.tool.call.result': '{"events":2}' },
          }, async (tool) => tool.end());
          root.end();
        });
        await provider.forceFlush();
        const spans = readSpans(await waitForTrace(mlflow.url, `tr-${traceId}`, 3));
        assert.equal(spans.length, 3);
        const root = spans.find((s) => s.parentId === null);
        assert.equal(root.name, 'invoke_agent planner');
        assert.equal(root.type, 'AGENT');
        const chat = spans.find((s) => s.name === 'chat gpt-4o-mini');
        assert.equal(chat.parentId, root.spanId);
        assert.equal(chat.type, 'CHAT_MODEL');
        // Converted by MLflow itself (the ingest service relays other SDKs' spans as sent): the
        // messages as the conventions give them, and MLflow's log level added by the ingest.
        assert.equal(json(chat.inputs)[0].parts[0].content, 'plan my day');
        assert.equal(json(chat.outputs)[0].parts[0].content, 'wake, code, sleep');
        for (const s of spans) assert.equal(Number(s.attributes['mlflow.spanLogLevel']), 20, `${s.name}'s level`);
        assert.deepEqual(json(chat.attributes['mlflow.chat.tokenUsage']), { input_tokens: 11, output_tokens: 4, total_tokens: 15 });
        const tool = spans.find((s) => s.name === 'execute_tool calendar');
        assert.equal(tool.parentId, root.spanId);
        assert.equal(tool.type, 'TOOL');
        assert.deepEqual(json(tool.inputs), { day: 'today' });
        assert.deepEqual(json(tool.outputs), { events: 2 });
      } finally {
        await provider.shutdown();
        cm.disable();
        context.disable();
      }
    });
  }
});

describe("a key cannot write into another experiment's trace", () => {
  test('spans sent with a known trace id of another experiment are refused (403), and that trace is left as it was', async () => {
    // The Node key's experiment holds a trace (sent through the ingest service); the Chromium
    // key (another experiment) sends spans with that trace id, as one that learned it from a
    // traceparent would.
    init({ endpoint: ingestUrl, ingestKey: KEY_FOR('node'), experimentId: experiments.node, serviceName: 'owner' });
    await trace(async function owned() {
      return 'mine';
    })();
    const traceId = getLastActiveTraceId();
    await flush();
    const before = readSpans(await waitForTrace(mlflow.url, traceId, 1));
    const hex = traceId.slice(3);
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{
        traceId: hex, spanId: 'abcdefabcdefabcd', name: 'INJECTED', kind: 1,
        startTimeUnixNano: String(now - 1000n), endTimeUnixNano: String(now),
        attributes: [{ key: 'mlflow.traceTag.injected', value: { stringValue: 'yes' } }],
      }] }] }],
    });
    const res = await fetch(`${ingestUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-edgetrace-key': KEY_FOR('chromium'), origin: site.url },
      body,
    });
    const answer = await res.json();
    assert.equal(res.status, 403, JSON.stringify(answer));
    assert.equal(answer.error, 'trace_in_other_experiment');
    // The trace is named, the key's experiment too, the other experiment not.
    assert.ok(answer.message.includes(hex), answer.message);
    assert.ok(answer.message.includes(`(${experiments.chromium})`), answer.message);
    assert.doesNotMatch(answer.message.replace(hex, '').replace(`(${experiments.chromium})`, ''), new RegExp(`\\b${experiments.node}\\b`), 'the other experiment is not named');
    await new Promise((r) => setTimeout(r, 500));
    const after = readSpans(await waitForTrace(mlflow.url, traceId, 1));
    assert.deepEqual(after.map((s) => s.name), before.map((s) => s.name));
    // The key's own new traces still pass.
    init({ endpoint: ingestUrl, ingestKey: KEY_FOR('chromium'), experimentId: experiments.chromium, serviceName: 'other' });
    await trace(async function theirs() {
      return 'theirs';
    })();
    const own = getLastActiveTraceId();
    await flush();
    assert.equal(getStats().lastExportError, null);
    assert.equal(readSpans(await waitForTrace(mlflow.url, own, 1))[0].name, 'theirs');
  });
});

describe('feedback through the ingest service', () => {
  test("logFeedback reaches MLflow on the key's own trace, redacted; another experiment's trace, a missing one or a bad body is refused with the reason", async () => {
    const warnings = [];
    const relayed = async () => (await (await fetch(`${ingestUrl}/healthz`)).json()).stats.feedback;
    const relayedBefore = await relayed();
    init({ endpoint: ingestUrl, ingestKey: KEY_FOR('node'), experimentId: experiments.node, logger: { warn: (m) => warnings.push(m) } });
    withSpan(() => 'answer', { name: 'rated turn' });
    const traceId = getLastActiveTraceId();
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
    const r = await logFeedback({ traceId, name: 'thumbs', value: false, rationale: `wrong, and it echoed my key ${key}`, source: { id: 'user-1' } });
    assert.ok(r.assessmentId, JSON.stringify(r));
    const got = (await getTrace(mlflow.url, traceId)).trace_info.assessments.find((a) => a.assessment_id === r.assessmentId);
    assert.equal(got.assessment_name, 'thumbs');
    assert.deepEqual(got.feedback, { value: false });
    assert.deepEqual(got.source, { source_type: 'HUMAN', source_id: 'user-1' });
    assert.ok(got.rationale.startsWith('wrong, and it echoed my key '), got.rationale);
    assert.ok(!got.rationale.includes(key), `the ingest's redaction rules ran over the rationale: ${got.rationale}`);

    // Another key, bound to another experiment, cannot rate this trace.
    init({ endpoint: ingestUrl, ingestKey: KEY_FOR('otel_json'), experimentId: experiments.otel_json, logger: { warn: (m) => warnings.push(m) } });
    const foreign = await logFeedback({ traceId, value: true });
    assert.match(foreign.error, /answered 403: trace tr-[0-9a-f]{32} is in another experiment/, JSON.stringify(foreign));
    assert.equal((await getTrace(mlflow.url, traceId)).trace_info.assessments.length, 1);

    const post = (id, assessment, headers = {}) => fetch(`${ingestUrl}/api/3.0/mlflow/traces/${id}/assessments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-edgetrace-key': KEY_FOR('node'), ...headers },
      body: JSON.stringify({ assessment }),
    });
    const missing = await post('tr-0123456789abcdef0123456789abcdef', { assessment_name: 'x', feedback: { value: 1 } });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, 'trace_not_found');
    const expectation = await post(traceId, { assessment_name: 'x', expectation: { value: 1 } });
    assert.equal(expectation.status, 400);
    assert.match((await expectation.json()).message, /only feedback/);
    const noKey = await post(traceId, { assessment_name: 'x', feedback: { value: 1 } }, { 'x-edgetrace-key': 'pk_nobody' });
    assert.equal(noKey.status, 401);
    // A page of the key's origin may post feedback (the preflight allows it).
    const pre = await fetch(`${ingestUrl}/api/3.0/mlflow/traces/${traceId}/assessments`, {
      method: 'OPTIONS',
      headers: { origin: site.url, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-edgetrace-key' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), site.url);
    assert.equal(await relayed() - relayedBefore, 1, 'one feedback relayed');
  });
});
