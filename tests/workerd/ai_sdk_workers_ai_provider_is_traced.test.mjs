// The Vercel AI SDK over Workers AI's binding, the way most Workers apps call Workers AI:
// `createWorkersAI({ binding: traceWorkersAi(env.AI) })` (npm `workers-ai-provider`) with `ai`'s
// generateText and streamText, in workerd (Miniflare) with workerd's own binding
// (`cloudflare-internal:ai-api`) pointed at the mock. The Worker
// (tests/workerd/fixtures/worker_ai_sdk_workers_ai.js) is bundled with esbuild, as a Workers app
// is, `edgetrace` resolving to the package's workerd entry. Each model call the SDK makes must be
// a CHAT_MODEL span under the request's root span, with the model, the provider, the usage the SDK
// reports and the answer (text or tool call) the SDK returned; and the app must get exactly what it
// gets with the raw binding, from exactly the same requests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { miniflareWithAi } from './ai-binding.mjs';
import { startWorkerApp } from './helpers.mjs';
import { startMockLlm, TOOL_ARGUMENTS } from '../../mock-llm/server.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';
import { waitFor } from '../node/helpers/util.mjs';

const LLAMA = '@cf/meta/llama-3.1-8b-instruct';
const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
};

let col;
let llm;
let app;
let mf;

before(async () => {
  col = await startCollector();
  llm = await startMockLlm();
  app = await startWorkerApp('worker_ai_sdk_workers_ai.js', {
    start: (scriptPath, o) => miniflareWithAi(scriptPath, { ...o, origin: llm.url, bindings: { COLLECTOR: col.url } }),
  });
  ({ mf } = app);
});
after(async () => {
  await app?.close();
  await col?.close();
  await llm?.close();
});

/** GET /{how}/{scenario}; what the app got, and the request bodies the binding sent the mock. */
async function call(how, scenario) {
  llm.requests.length = 0;
  const res = await mf.dispatchFetch(`http://worker.test/${how}/${scenario}`);
  const body = JSON.parse(await res.text());
  assert.equal(body.error, null, `the Worker threw (${how}): ${body.error}`);
  const sent = llm.requests.filter((r) => r.path === '/workers-binding/run').map((r) => r.rawBody);
  return { result: body.result, sent };
}

/**
 * A request body with the ids of tool calls the provider made up (the mock's whole answers carry
 * none: the provider draws one at random) as `#1`, `#2`, … in order; the rest as it was sent.
 */
function sameIds(rawBody) {
  const ids = new Map();
  const id = (v) => {
    if (!ids.has(v)) ids.set(v, `#${ids.size + 1}`);
    return ids.get(v);
  };
  const b = JSON.parse(rawBody);
  for (const m of b.inputs?.messages ?? []) {
    for (const tc of m.tool_calls ?? []) if (typeof tc.id === 'string') tc.id = id(tc.id);
    if (typeof m.tool_call_id === 'string') m.tool_call_id = id(m.tool_call_id);
  }
  return JSON.stringify(b);
}

/**
 * Runs a scenario with the traced binding, then with the raw one; checks the app got the same and
 * sent the same; returns what it got, its trace's root span and its model call spans (in order).
 */
async function run(scenario, modelCalls) {
  col.requests.length = 0;
  const traced = await call('traced', scenario);
  await waitFor(() => col.spans().length >= modelCalls + 1, { timeoutMs: 10_000, intervalMs: 20, what: `${modelCalls + 1} spans of /traced/${scenario}` });
  const spans = col.spans();
  const root = spans.find((s) => s.name === `GET /traced/${scenario}`);
  assert.ok(root, `the request's root span: ${spans.map((s) => s.name)}`);
  assert.equal(root.parentSpanId || '', '', 'the root span has no parent');
  const calls = spans.filter((s) => s.attributes['mlflow.llm.provider'] === 'cloudflare').sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  assert.equal(calls.length, modelCalls, `model call spans: ${spans.map((s) => s.name)}`);
  assert.equal(spans.length, modelCalls + 1, `no other spans: ${spans.map((s) => s.name)}`);
  for (const s of calls) {
    assert.equal(s.traceId, root.traceId, "the call is in the request's trace");
    assert.equal(s.parentSpanId, root.spanId, "the call is under the request's root span");
    assert.equal(s.name, `chat ${LLAMA}`);
    assert.equal(s.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.equal(s.attributes['mlflow.llm.model'], LLAMA);
    assert.equal(s.status.code, 1, 'the call succeeded');
  }
  // The same route with the raw `env.AI`: the same answer, from the same requests.
  const raw = await call('raw', scenario);
  assert.equal(traced.sent.length, modelCalls, 'one request to Workers AI per model call');
  assert.deepEqual(traced.sent.map(sameIds), raw.sent.map(sameIds), 'the traced binding sends Workers AI exactly what the raw one does');
  assert.deepEqual(traced.result, raw.result, 'the app gets exactly what it gets with the raw binding');
  return { result: traced.result, root, calls, sent: traced.sent.map((b) => JSON.parse(b)) };
}

/** The span's usage, as the AI SDK reports it. */
function assertUsage(span, usage) {
  assert.equal(typeof usage.inputTokens, 'number');
  assert.ok(usage.outputTokens > 0);
  assert.deepEqual(attr(span, 'mlflow.chat.tokenUsage'), { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, total_tokens: usage.totalTokens });
}

test('generateText with a prompt is a CHAT_MODEL span with the text and the usage the SDK returned', async () => {
  const { result, calls, sent } = await run('generate', 1);
  const [span] = calls;
  assert.ok(result.text.startsWith('Echo: Say hello from a Worker'), result.text);
  assert.equal(result.finishReason, 'stop');
  assert.equal(attr(span, 'mlflow.spanOutputs').response, result.text);
  assertUsage(span, result.usage);
  // The inputs are what the provider gave the binding.
  const inputs = attr(span, 'mlflow.spanInputs');
  assert.deepEqual(inputs.messages, [{ role: 'user', content: 'Say hello from a Worker' }]);
  assert.deepEqual(inputs.messages, sent[0].inputs.messages);
  assert.equal(inputs.max_tokens, 64);
  assert.notEqual(attr(span, 'edgetrace.llm.stream'), true);
  assert.match(span.attributes['edgetrace.llm.request_id'], /^[0-9a-f-]{36}$/);
});

test('generateText with a system prompt and a conversation keeps its messages and settings on the span', async () => {
  const { result, calls, sent } = await run('messages', 1);
  const [span] = calls;
  const inputs = attr(span, 'mlflow.spanInputs');
  assert.deepEqual(inputs.messages, [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello.' },
    { role: 'user', content: 'Name a colour' },
  ]);
  assert.deepEqual(inputs.messages, sent[0].inputs.messages);
  assert.equal(inputs.temperature, 0.2);
  assert.equal(attr(span, 'mlflow.spanOutputs').response, result.text);
  assertUsage(span, result.usage);
});

test('streamText read to its end: the span has the pieces the SDK streamed, joined, and its usage', async () => {
  const { result, calls, sent } = await run('stream', 1);
  const [span] = calls;
  assert.equal(sent[0].inputs.stream, true);
  assert.ok(result.pieces.length > 1, 'the answer came in pieces');
  assert.equal(result.pieces.join(''), result.text);
  assert.ok(result.text.startsWith('Echo: Stream a hello from a Worker'), result.text);
  assert.equal(result.finishReason, 'stop');
  assert.equal(attr(span, 'edgetrace.llm.stream'), true);
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.equal(attr(span, 'mlflow.spanOutputs').response, result.text);
  assertUsage(span, result.usage);
  assert.ok(span.attributes['edgetrace.llm.time_to_first_token_ms'] >= 0);
});

/** A tool loop's two model calls: the tool call, then the answer from the tool's result. */
function assertToolLoop(result, calls, sent) {
  const [first, second] = result.steps;
  assert.equal(result.steps.length, 2);
  // (The mock's answers carry no finish_reason: the provider calls the tool step's finish `tool-calls`
  // only when not streamed. It is the same with the raw binding, checked by run().)
  assert.deepEqual(first.toolCalls, [{ toolName: 'get_weather', input: JSON.parse(TOOL_ARGUMENTS) }]);
  assert.deepEqual(first.toolResults, [{ toolName: 'get_weather', output: { city: 'Paris', forecast: 'sunny', celsius: 21 } }]);
  assert.equal(second.finishReason, 'stop');
  assert.equal(second.text, result.text);
  assert.ok(result.text.length > 0);
  // Both calls offer the tool, in the OpenAI shape the provider sends.
  for (const s of calls) assert.deepEqual(attr(s, 'mlflow.chat.tools'), [WEATHER_TOOL]);
  // The first call's span shows the tool call the SDK got.
  const [tc] = attr(calls[0], 'mlflow.spanOutputs').tool_calls;
  assert.equal(tc.function?.name ?? tc.name, first.toolCalls[0].toolName);
  const args = tc.function?.arguments ?? tc.arguments;
  assert.deepEqual(typeof args === 'string' ? JSON.parse(args) : args, first.toolCalls[0].input);
  // A streamed call has its id from the API: the one the SDK answers the tool's result to.
  if (tc.id !== undefined) assert.equal(tc.id, sent[1].inputs.messages.at(-1).tool_call_id);
  // The second call's inputs carry the call and its result; its span, the SDK's answer.
  const msgs = attr(calls[1], 'mlflow.spanInputs').messages;
  assert.deepEqual(msgs, sent[1].inputs.messages);
  assert.equal(msgs.at(-1).role, 'tool');
  assert.deepEqual(JSON.parse(msgs.at(-1).content), first.toolResults[0].output);
  assert.equal(attr(calls[1], 'mlflow.spanOutputs').response, second.text);
  // Each step's usage is its span's.
  assertUsage(calls[0], first.usage);
  assertUsage(calls[1], second.usage);
}

test('generateText with a tool: the tool call, then the answer, each a span with its usage', async () => {
  const { result, calls, sent } = await run('tool', 2);
  assertToolLoop(result, calls, sent);
});

test('streamText with a tool: the tool call read from stream deltas, then the streamed answer', async () => {
  const { result, calls, sent } = await run('streamTool', 2);
  for (const b of sent) assert.equal(b.inputs.stream, true);
  for (const s of calls) assert.equal(s.attributes['edgetrace.llm.stream_end'], 'completed');
  assertToolLoop(result, calls, sent);
});
