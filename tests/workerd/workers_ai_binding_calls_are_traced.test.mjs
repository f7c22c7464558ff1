// `traceWorkersAi(env.AI)` in workerd (Miniflare), with workerd's own Workers AI binding
// (`cloudflare-internal:ai-api`, what `env.AI` is in production) sending its requests to the mock,
// which answers as Workers AI's backend does. A Worker under instrumentWorker runs each scenario
// (tests/workerd/fixtures/worker_workers_ai.js); each model call must be a span of its request's
// trace with the model, the provider, the inputs, the answer (a stream reassembled as the Worker
// read it), the exact usage the mock sent and the request id, and the app must get exactly what
// the binding returns or throws.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { miniflareWithAi } from './ai-binding.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';
import { waitFor } from '../node/helpers/util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const LLAMA = '@cf/meta/llama-3.1-8b-instruct';

let col;
let llm;
let mf;

before(async () => {
  col = await startCollector();
  llm = await startMockLlm();
  mf = miniflareWithAi(join(here, 'fixtures/worker_workers_ai.js'), { origin: llm.url, bindings: { COLLECTOR: col.url } });
});
after(async () => {
  await mf?.dispose();
  await col?.close();
  await llm?.close();
});

/** Runs a scenario; returns what the Worker got and its trace's spans, by name. */
async function run(scenario, spans) {
  col.requests.length = 0;
  llm.requests.length = 0;
  const res = await mf.dispatchFetch(`http://worker.test/${scenario}`);
  const body = JSON.parse(await res.text());
  assert.equal(body.error, null, `the Worker threw: ${body.error}`);
  await waitFor(() => col.spans().length >= spans, { timeoutMs: 10_000, intervalMs: 20, what: `${spans} spans of /${scenario}` });
  const all = col.spans();
  const root = all.find((s) => s.name === `GET /${scenario}`);
  assert.ok(root, `the request's root span: ${all.map((s) => s.name)}`);
  for (const s of all) assert.equal(s.traceId, root.traceId, 'one trace per request');
  return { result: body.result, stats: body.stats, spans: all, root, calls: all.filter((s) => s.attributes['mlflow.llm.provider'] === 'cloudflare') };
}

/** The SSE text's whole data events, `[DONE]` left out (a piece cut short at the end is not one). */
function events(sse) {
  return sse.split('\n\n').slice(0, -1).map((b) => b.replace(/^data: /, '')).filter((d) => d && d !== '[DONE]').map((d) => JSON.parse(d));
}

test('a chat through the binding is a CHAT_MODEL span under the span that made it, with usage and the request id', async () => {
  const { result, calls, spans } = await run('chat', 3);
  const [call] = calls;
  assert.equal(calls.length, 1);
  // Under the app's own span, which is under the request's.
  const answer = spans.find((s) => s.name === 'answer');
  assert.equal(call.parentSpanId, answer.spanId);
  assert.equal(call.name, `chat ${LLAMA}`);
  assert.equal(call.attributes['mlflow.spanType'], 'CHAT_MODEL');
  assert.equal(call.attributes['mlflow.llm.model'], LLAMA);
  assert.deepEqual(attr(call, 'mlflow.spanInputs'), { messages: [{ role: 'user', content: 'Say hello from a Worker' }], max_tokens: 64 });
  // The answer as the app got it: the binding takes the REST API's envelope off.
  assert.deepEqual(attr(call, 'mlflow.spanOutputs'), result);
  assert.equal(typeof result.response, 'string');
  assert.ok(result.response.length > 0);
  assert.deepEqual(attr(call, 'mlflow.chat.tokenUsage'), { input_tokens: result.usage.prompt_tokens, output_tokens: result.usage.completion_tokens, total_tokens: result.usage.total_tokens });
  assert.deepEqual(attr(call, 'edgetrace.llm.request_params'), { max_tokens: 64 });
  // The conversation as MLflow's UI reads it, the answer last (its inputs and outputs are in no
  // format the UI knows).
  assert.deepEqual(attr(call, 'mlflow.chat.messages'), [{ role: 'user', content: 'Say hello from a Worker' }, { role: 'assistant', content: result.response }]);
  // The binding's `lastRequestId`, the mock's `cf-ai-req-id`.
  const sent = llm.requests.filter((r) => r.path === '/workers-binding/run');
  assert.equal(sent.length, 1);
  assert.match(call.attributes['edgetrace.llm.request_id'], /^[0-9a-f-]{36}$/);
  assert.equal(call.status.code, 1);
});

test('a stream is handed to the app unchanged and reassembled on the span as the app read it', async () => {
  const { result, calls } = await run('stream', 2);
  const [call] = calls;
  const evs = events(result.sse);
  const text = evs.map((e) => e.response ?? '').join('');
  const usage = evs.find((e) => e.usage).usage;
  assert.ok(result.sse.trimEnd().endsWith('data: [DONE]'), 'the app got the whole stream');
  assert.equal(attr(call, 'edgetrace.llm.stream'), true);
  assert.equal(call.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.equal(attr(call, 'mlflow.spanOutputs').response, text);
  assert.deepEqual(attr(call, 'mlflow.chat.tokenUsage'), { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, total_tokens: usage.total_tokens });
  assert.ok(call.attributes['edgetrace.llm.time_to_first_token_ms'] >= 0);
  assert.equal(call.attributes['edgetrace.llm.chunks'], evs.length + 1);
});

test('a stream the app lets go ends its span as cancelled with what was read', async () => {
  const { result, calls } = await run('streamLeft', 2);
  const [call] = calls;
  assert.equal(call.attributes['edgetrace.llm.stream_end'], 'cancelled');
  const first = events(result.first).map((e) => e.response).join('');
  assert.ok(attr(call, 'mlflow.spanOutputs').response.startsWith(first), 'what was read is on the span');
});

test('tools are shown in OpenAI shape, and tool calls are read whole and from stream deltas', async () => {
  const { result, calls } = await run('tools', 3);
  assert.equal(calls.length, 2);
  for (const call of calls) {
    assert.deepEqual(attr(call, 'mlflow.chat.tools'), [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]);
  }
  const [whole, streamed] = [calls.find((c) => !attr(c, 'edgetrace.llm.stream')), calls.find((c) => attr(c, 'edgetrace.llm.stream'))];
  assert.deepEqual(attr(whole, 'mlflow.spanOutputs').tool_calls, result.whole.tool_calls);
  // The deltas the app got, joined, are the call the span shows.
  const deltas = events(result.sse).flatMap((e) => e.tool_calls ?? []);
  const args = deltas.map((d) => d.function?.arguments ?? '').join('');
  const [tc] = attr(streamed, 'mlflow.spanOutputs').tool_calls;
  assert.equal(tc.function.name, 'get_weather');
  assert.equal(tc.function.arguments, args);
  assert.deepEqual(JSON.parse(args), { city: 'Paris' });
});

test("a call through AI Gateway carries the gateway log's id", async () => {
  const { result, calls } = await run('gateway', 2);
  assert.equal(llm.requests.filter((r) => r.path === '/workers-binding/ai-gateway/run').length, 1);
  assert.ok(result.logId, 'the binding has the log id');
  assert.equal(calls[0].attributes['edgetrace.llm.gateway_log_id'], result.logId);
  assert.equal(attr(calls[0], 'mlflow.spanOutputs').response, result.out.response);
});

test('a prompt is an LLM span and an embedding model an EMBEDDING one', async () => {
  let { calls } = await run('prompt', 2);
  assert.equal(calls[0].name, `text_completion ${LLAMA}`);
  assert.equal(calls[0].attributes['mlflow.spanType'], 'LLM');
  ({ calls } = await run('embed', 2));
  assert.equal(calls[0].name, 'embeddings @cf/baai/bge-base-en-v1.5');
  assert.equal(calls[0].attributes['mlflow.spanType'], 'EMBEDDING');
  assert.equal(attr(calls[0], 'mlflow.spanOutputs').data.length, 2);
});

test("the binding's error reaches the app as it threw it, and is the span's exception", async () => {
  const { result, calls } = await run('bad', 2);
  assert.deepEqual(result, { threw: true, name: 'InvalidInput', message: '1001: prompt and messages are mutually exclusive', isError: true });
  const [call] = calls;
  assert.equal(call.status.code, 2);
  assert.equal(call.attributes['http.response.status_code'], 400);
  const ev = Object.fromEntries(call.events.find((e) => e.name === 'exception').attributes.map((kv) => [kv.key, kv.value.stringValue]));
  assert.equal(ev['exception.type'], 'InvalidInput');
  assert.match(ev['exception.message'], /prompt and messages are mutually exclusive/);
});

test('a stream among the inputs is recorded as one, and reaches the API unread by the tracer', async () => {
  const { calls } = await run('audio', 2);
  assert.deepEqual(attr(calls[0], 'mlflow.spanInputs'), { audio: '[a stream of audio/wav]', language: 'en' });
  const [sent] = llm.requests.filter((r) => r.path === '/workers-binding/run');
  assert.equal(sent.headers['content-type'], 'audio/wav');
  assert.equal(sent.rawBody.length, 64, 'the whole stream went to the API');
});

test("the binding's other parts pass through, and concurrent calls keep apart", async () => {
  let { result, calls } = await run('passthrough', 2);
  assert.deepEqual(result, { same: true, constructorName: true, id: result.rawId, rawId: result.rawId, gateway: 'function', models: 'function', notABinding: true });
  assert.equal(calls[0].attributes['edgetrace.llm.request_id'], result.rawId);
  ({ result, calls } = await run('concurrent', 3));
  assert.equal(calls.length, 2);
  const outs = calls.map((c) => attr(c, 'mlflow.spanOutputs').response).sort();
  assert.deepEqual(outs, [result.a, result.b].sort());
  // The binding keeps one `lastRequestId` for both: neither span takes it.
  for (const c of calls) assert.equal(c.attributes['edgetrace.llm.request_id'], undefined);
});

test("requests at once share the isolate's binding: no span takes another request's id", async () => {
  // Found by a Workers AI review (s50a): one `env.AI` serves every request of an isolate, and its
  // `lastRequestId` is the last answer's, whichever request's; a Proxy per request kept its own
  // list of calls in flight, so 2 of 12 spans had another request's id.
  col.requests.length = 0;
  llm.requests.length = 0;
  const n = 8;
  const bodies = await Promise.all(Array.from({ length: n }, (_, i) => mf.dispatchFetch(`http://worker.test/say?n=${i}&wait=${(i * 7) % 5}`).then((r) => r.json())));
  for (const b of bodies) assert.equal(b.error, null);
  await waitFor(() => col.spans().filter((s) => s.attributes['mlflow.llm.provider'] === 'cloudflare').length >= n, { timeoutMs: 10_000, intervalMs: 20, what: `${n} calls` });
  const calls = col.spans().filter((s) => s.attributes['mlflow.llm.provider'] === 'cloudflare');
  let checked = 0;
  for (const call of calls) {
    const id = call.attributes['edgetrace.llm.request_id'];
    if (id === undefined) continue;
    // The id the mock gives this call's own request (it is the same for the same request).
    const sent = llm.requests.find((r) => r.path === '/workers-binding/run' && r.body?.inputs?.prompt === attr(call, 'mlflow.spanInputs').prompt);
    const again = await fetch(`${llm.url}/workers-binding/run?version=3`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-consn-model-id': sent.headers['cf-consn-model-id'] }, body: sent.rawBody });
    await again.text();
    assert.equal(id, again.headers.get('cf-ai-req-id'), `the request id of ${attr(call, 'mlflow.spanInputs').prompt}`);
    checked++;
  }
  assert.ok(checked < n, 'calls that overlapped another request\'s take no id');
});

test("an abort before any answer: cancelled, with no status from the binding's last answer", async () => {
  const { result, calls } = await run('aborted', 4);
  assert.equal(result.threw, true);
  const aborted = calls.find((c) => attr(c, 'mlflow.spanInputs').prompt === 'second');
  assert.equal(aborted.attributes['edgetrace.llm.cancelled'], true, 'the app\'s own abort is a cancellation (workerd rejects with a copy of its reason)');
  assert.notEqual(aborted.status.code, 2);
  assert.equal(aborted.attributes['http.response.status_code'], undefined, 'the 400 of the call before is not this one\'s');
  assert.equal(calls.find((c) => attr(c, 'mlflow.spanInputs').prompt === 'bad').attributes['http.response.status_code'], 400);
});

test('an image given as its bytes is recorded by its length, and the prompt beside it is kept', async () => {
  const { calls } = await run('image', 2);
  assert.deepEqual(attr(calls[0], 'mlflow.spanInputs'), { image: '[300 bytes]', prompt: 'Describe the image', max_tokens: 32 });
  assert.deepEqual(attr(calls[0], 'edgetrace.llm.request_params'), { max_tokens: 32 });
  const [sent] = llm.requests.filter((r) => r.path === '/workers-binding/run');
  assert.equal(sent.body.inputs.image.length, 300, 'the API got the bytes');
});
