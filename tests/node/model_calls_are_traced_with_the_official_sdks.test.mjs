// traceFetch with the real `openai` and `@anthropic-ai/sdk` packages against the local mock model
// server (speaking the APIs' real JSON and SSE formats): exact token usage, messages, tool calls
// and cost on the spans; no secret header ever leaves in an export; bad streams never break the
// caller; and the spans read back from a real MLflow as CHAT_MODEL with token usage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { flush, getLastActiveTraceId, getStats, init, instrumentGlobalFetch, SpanType, trace, traceFetch } from '../../pkg/node.js';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--expose-gc');
import { attr } from './helpers/collector.mjs';
import { createExperiment, readSpans, startMlflow, waitForTrace } from './helpers/mlflow.mjs';
import { exportedSpans, mockAndCollector } from './helpers/harness.mjs';

const OPENAI_KEY = 'sk-test-SECRET-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-SECRET-fedcba9876543210';

let openai;
let anthropic;
const servers = mockAndCollector(init, {
  ready: () => {
    openai = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(), maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: servers.mock.url, fetch: traceFetch(), maxRetries: 0 });
  },
});

const settled = () => exportedSpans(servers, flush);

test('OpenAI chat completion: CHAT_MODEL span with messages, usage from the response, and cost', async () => {
  const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is MLflow?' }], temperature: 0.2 });
  const [span] = await settled();
  assert.equal(span.attributes['mlflow.spanType'], 'CHAT_MODEL');
  assert.equal(span.attributes['mlflow.message.format'], 'openai');
  assert.equal(span.attributes['mlflow.llm.model'], 'gpt-4o-mini');
  assert.equal(span.attributes['mlflow.llm.provider'], 'openai');
  assert.deepEqual(attr(span, 'mlflow.spanInputs').messages, [{ role: 'user', content: 'What is MLflow?' }]);
  assert.equal(attr(span, 'mlflow.spanOutputs').choices[0].message.content, r.choices[0].message.content);
  const u = attr(span, 'mlflow.chat.tokenUsage');
  assert.deepEqual(
    { input_tokens: u.input_tokens, output_tokens: u.output_tokens, total_tokens: u.total_tokens },
    { input_tokens: r.usage.prompt_tokens, output_tokens: r.usage.completion_tokens, total_tokens: r.usage.total_tokens },
  );
  const cached = r.usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cost = attr(span, 'mlflow.llm.cost');
  const expected = ((r.usage.prompt_tokens - cached) * 0.15 + cached * 0.075 + r.usage.completion_tokens * 0.6) / 1e6;
  assert.ok(Math.abs(cost.total_cost - expected) < 1e-12, `${cost.total_cost} vs ${expected}`);
  assert.equal(attr(span, 'edgetrace.llm.request_params').temperature, 0.2);
  assert.equal(span.attributes['edgetrace.llm.finish_reason'], r.choices[0].finish_reason);
  // OpenAI's id for the request, as the SDK has it.
  assert.equal(span.attributes['edgetrace.llm.request_id'], r._request_id);
  assert.match(r._request_id, /^req_/);
});

test('a prompt over maxValueBytes keeps its messages: its longest contents are cut and marked, the rest is as sent', async () => {
  init({ endpoint: servers.col.url, format: 'json', logger: { warn() {} }, maxValueBytes: 4096 });
  const context = 'retrieved passage. '.repeat(600); // 11,400 bytes
  const messages = [
    { role: 'system', content: 'Answer from the context.' },
    { role: 'user', content: `Context: ${context}` },
    { role: 'user', content: 'What is MLflow?' },
  ];
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
  const [span] = await settled();
  const raw = span.attributes['mlflow.spanInputs'];
  assert.ok(raw.length <= 4096, `inputs are ${raw.length} bytes`);
  const inputs = JSON.parse(raw);
  assert.equal(typeof inputs, 'object', 'the inputs are still the request, not a string');
  assert.equal(inputs.model, 'gpt-4o-mini');
  assert.deepEqual(inputs.messages.map((m) => m.role), ['system', 'user', 'user']);
  assert.equal(inputs.messages[0].content, 'Answer from the context.');
  assert.equal(inputs.messages[2].content, 'What is MLflow?');
  const cut = inputs.messages[1].content;
  assert.ok(cut.startsWith('Context: retrieved passage. retrieved'), cut.slice(0, 60));
  assert.ok(cut.endsWith(`…[edgetrace: truncated, original bytes: ${messages[1].content.length}]`), cut.slice(-60));
  assert.ok(cut.length > 3000, `kept ${cut.length} of the long message`);
});

test('a request body given as a Blob, a DataView or a Uint8Array is recorded as the inputs, and still sent', async () => {
  const json = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'blob body' }] });
  const bytes = new TextEncoder().encode(json);
  const bodies = { blob: new Blob([json], { type: 'application/json' }), dataView: new DataView(bytes.buffer), uint8: bytes };
  const f = traceFetch();
  for (const [kind, body] of Object.entries(bodies)) {
    servers.col.requests.length = 0;
    const res = await f(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` }, body });
    assert.equal(res.status, 200, kind);
    assert.ok((await res.json()).choices[0].message.content, kind);
    const [span] = await settled();
    assert.equal(span.attributes['mlflow.llm.model'], 'gpt-4o-mini', kind);
    assert.deepEqual(attr(span, 'mlflow.spanInputs').messages, [{ role: 'user', content: 'blob body' }], kind);
  }
});

test('a model call is recorded once when traced fetches wrap each other (the global one instrumented, traceFetch(traceFetch()), a wrapper of the app calling the traced global)', async () => {
  const undo = instrumentGlobalFetch();
  try {
    const logged = [];
    const clients = {
      'traceFetch(a wrapper calling the instrumented global fetch)': new OpenAI({
        apiKey: OPENAI_KEY,
        baseURL: `${servers.mock.url}/v1`,
        fetch: traceFetch(async (url, init) => {
          logged.push(String(url));
          await null;
          return fetch(url, init);
        }),
        maxRetries: 0,
      }),
      'traceFetch(fetch.bind(globalThis)) over the instrumented global': new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(globalThis.fetch.bind(globalThis)), maxRetries: 0 }),
      'traceFetch() over the instrumented global fetch': new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(), maxRetries: 0 }),
      'traceFetch(traceFetch())': new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(traceFetch(fetch)), maxRetries: 0 }),
      'the instrumented global fetch alone': new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${servers.mock.url}/v1`, maxRetries: 0 }),
    };
    for (const [how, client] of Object.entries(clients)) {
      servers.col.requests.length = 0;
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: how }] });
      const spans = (await settled()).filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
      assert.equal(spans.length, 1, `${how}: one CHAT_MODEL span, got ${spans.length}`);
      assert.equal(attr(spans[0], 'mlflow.chat.tokenUsage').input_tokens, r.usage.prompt_tokens, `${how}: usage counted once`);
    }
    assert.equal(logged.length, 1, "the app's wrapper ran");
  } finally {
    undo();
  }
});

test('OpenAI streaming: the caller gets every chunk; the span has the reassembled text and usage', async () => {
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Stream please' }],
  });
  let text = '';
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(text.length > 0);
  const [span] = await settled();
  assert.equal(attr(span, 'mlflow.spanOutputs').choices[0].message.content, text);
  assert.equal(attr(span, 'mlflow.chat.tokenUsage').output_tokens, usage.completion_tokens);
  assert.equal(attr(span, 'mlflow.chat.tokenUsage').input_tokens, usage.prompt_tokens);
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.ok(span.attributes['edgetrace.llm.time_to_first_token_ms'] >= 0);
  assert.equal(span.status.code, 1);
});

test('OpenAI tools: tool definitions and the tool call are recorded, streamed and not', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const r = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
  const stream = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Weather?' }], tools });
  for await (const _ of stream); // eslint-disable-line no-unused-vars
  const spans = await settled();
  assert.equal(spans.length, 2);
  for (const span of spans) {
    assert.deepEqual(attr(span, 'mlflow.chat.tools'), tools);
    const call = attr(span, 'mlflow.spanOutputs').choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), JSON.parse(r.choices[0].message.tool_calls[0].function.arguments));
  }
});

test('OpenAI Responses and embeddings are recorded as CHAT_MODEL and EMBEDDING', async () => {
  const resp = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
  const emb = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'Hello' });
  const spans = await settled();
  const r = spans.find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  const e = spans.find((s) => s.attributes['mlflow.spanType'] === 'EMBEDDING');
  assert.equal(attr(r, 'mlflow.chat.tokenUsage').total_tokens, resp.usage.total_tokens);
  assert.equal(attr(e, 'mlflow.chat.tokenUsage').input_tokens, emb.usage.prompt_tokens);
  // The SDK asked for base64 and decoded it: the span shows the numbers the app got.
  assert.equal(JSON.parse(e.attributes['edgetrace.llm.request_params'] ?? '{}').encoding_format, 'base64');
  assert.deepEqual(attr(e, 'mlflow.spanOutputs').data[0].embedding, emb.data[0].embedding);
  assert.equal(e.attributes['mlflow.message.format'], undefined);
});

test('Anthropic messages, streamed and not, with tool_use: usage, content and stop reason', async () => {
  const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
  const m = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi Claude' }] });
  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Weather?' }], tools });
  const final = await stream.finalMessage();
  const spans = await settled();
  assert.equal(spans.length, 2);
  const [plain, streamed] = spans;
  assert.equal(plain.attributes['mlflow.message.format'], 'anthropic');
  assert.equal(plain.attributes['mlflow.llm.provider'], 'anthropic');
  assert.deepEqual(attr(plain, 'mlflow.spanOutputs').content, m.content);
  assert.equal(attr(plain, 'mlflow.chat.tokenUsage').input_tokens, m.usage.input_tokens);
  assert.equal(attr(plain, 'mlflow.chat.tokenUsage').output_tokens, m.usage.output_tokens);
  assert.deepEqual(attr(streamed, 'mlflow.spanOutputs').content, final.content);
  assert.equal(attr(streamed, 'mlflow.spanOutputs').stop_reason, final.stop_reason);
  assert.equal(attr(streamed, 'mlflow.chat.tokenUsage').output_tokens, final.usage.output_tokens);
  assert.equal(attr(streamed, 'mlflow.chat.tools')[0].function.name, 'get_weather');
  assert.ok(attr(streamed, 'mlflow.llm.cost').total_cost > 0);
});

test('API errors: ERROR status with the API message; 429 keeps the SDK error class', async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-status': '429', 'x-mock-retry-after': '1' } }),
    (e) => e instanceof OpenAI.RateLimitError,
  );
  await assert.rejects(
    anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-status': '500' } }),
    (e) => e instanceof Anthropic.InternalServerError,
  );
  const spans = await settled();
  assert.equal(spans.length, 2);
  for (const s of spans) {
    assert.equal(s.status.code, 2);
    assert.match(s.status.message, /^HTTP (429|500): ./);
    assert.equal(s.attributes['edgetrace.llm.retry_count'], 0, 'the SDKs number their first attempt 0');
  }
});

test("the openai SDK's errors, whose name stays 'Error', are recorded by their class on the app's own span too", async () => {
  const ask = trace(async function ask() {
    return openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-status': '429' } });
  });
  const err = await ask().catch((e) => e);
  assert.ok(err instanceof OpenAI.RateLimitError);
  assert.equal(err.name, 'Error', "the SDK leaves its errors' name as Error");
  const spans = await settled();
  const mine = spans.find((s) => s.name === 'ask');
  const type = (s) => s.events.find((e) => e.name === 'exception').attributes.find((kv) => kv.key === 'exception.type').value.stringValue;
  assert.equal(type(mine), 'RateLimitError');
  assert.equal(type(spans.find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL')), 'RateLimitError');
  // A class whose name does not end in "Error" (a minifier's) leaves the generic name.
  const minified = trace(function f() {
    throw new (class t extends Error {})('boom');
  });
  assert.throws(minified, /boom/);
  const [f] = (await settled()).filter((s) => s.name === 'f');
  assert.equal(type(f), 'Error');
});

test('a GET of a model API path (listing stored completions) is not a model call', async () => {
  const res = await traceFetch()(`${servers.mock.url}/v1/chat/completions?limit=2`);
  await res.arrayBuffer();
  const spans = await settled();
  assert.deepEqual(spans.map((s) => s.name), [], 'no span for the GET');
  assert.ok(servers.mock.requests.some((r) => r.method === 'GET' && r.path === '/v1/chat/completions'), 'the GET was made');
});

test("an SDK's retries of one call are each a span that says which attempt it was", async () => {
  const retrying = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(), maxRetries: 2 });
  await assert.rejects(
    retrying.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-status': '503', 'x-mock-retry-after': '0' } }),
    (e) => e instanceof OpenAI.InternalServerError,
  );
  const spans = await settled();
  assert.deepEqual(spans.map((s) => s.attributes['edgetrace.llm.retry_count']).sort(), [0, 1, 2]);
  // A fetch with no such header (an app's own) gets no attempt number.
  servers.col.requests.length = 0;
  await traceFetch()(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }) });
  const [own] = await settled();
  assert.equal('edgetrace.llm.retry_count' in own.attributes, false);
});

test('garbled and truncated streams reach the caller unchanged and the span says what failed', async () => {
  const f = traceFetch();
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] });
  for (const header of ['x-mock-garbage', 'x-mock-truncate']) {
    const plain = await (await fetch(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body, headers: { [header]: '1' } })).text();
    const traced = await (await f(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body, headers: { [header]: '1' } })).text();
    assert.equal(traced, plain, `${header}: the caller gets exactly the API's bytes`);
  }
  const spans = await settled();
  const garbled = spans[0];
  const truncated = spans[1];
  assert.ok(garbled.attributes['edgetrace.llm.parse_error_count'] >= 1);
  assert.equal(truncated.attributes['edgetrace.llm.stream_end'], 'truncated');
  assert.equal(truncated.status.code, 2);
});

test("a garbled event the official SDK throws on ends the model span in that error, not as the app's cancellation", async () => {
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'garble me' }] }, { headers: { 'x-mock-garbage': '1' } });
  // As without edgetrace: the SDK throws on the event it cannot read.
  await assert.rejects(async () => {
    for await (const _ of stream);
  }, SyntaxError);
  const [span] = (await settled()).filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'errored');
  assert.equal(span.status.code, 2);
  assert.match(span.status.message, /could not read \(chunk is not JSON/);
  assert.ok(span.events.some((e) => e.name === 'exception'), 'an exception event');
});

test('a streamed response the app drops unread ends its span as cancelled once it is collected', async () => {
  const gc = (await import('node:vm')).runInNewContext('gc', {}, {}) ?? null;
  const f = traceFetch();
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'never read' }] });
  await (async () => {
    const res = await f(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body });
    assert.equal(res.status, 200);
    // The app looks at the status and drops the response, body unread.
  })();
  for (let i = 0; i < 20 && getStats().open > 0; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(getStats().open, 0, 'no span is left open');
  const spans = await settled();
  const span = spans.find((x) => x.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.ok(span, 'the model call is exported');
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'cancelled');
});

// Mistral's and OpenRouter's SDKs (made by Speakeasy) cancel the body as soon as they have read
// `data: [DONE]`: the stream was read whole, and ends as completed.
test('a stream cancelled by its reader after the final event ends as completed', async () => {
  const f = traceFetch();
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'read then cancel' }] });
  const res = await f(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body, headers: { 'x-mock-chunk-delay-ms': '5' } });
  const reader = res.body.getReader();
  const text = new TextDecoder();
  let seen = '';
  while (!seen.includes('[DONE]')) {
    const r = await reader.read();
    assert.equal(r.done, false, 'the body holds [DONE]');
    seen += text.decode(r.value, { stream: true });
  }
  await reader.cancel('done');
  const spans = await settled();
  const span = spans.find((x) => x.attributes['mlflow.spanType'] === 'CHAT_MODEL' && x.attributes['mlflow.spanInputs']?.includes('read then cancel'));
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.equal(span.status.code, 1);
  assert.match(JSON.parse(span.attributes['mlflow.spanOutputs']).choices[0].message.content, /^Echo: read then cancel/);
});

// When the whole answer came in one network read, it had all arrived before the app left the loop
// (`break`): the span holds the whole answer, its finish reason and an OK status (review s48b
// asked). The openai SDK leaves a stream by aborting its request, before it cancels the body from
// version 7 on (version 6 cancelled the body first, as Mistral's SDK does on `[DONE]`, and such a
// span said `completed`): the app let the call go before reading its end, so `cancelled`, as for
// a Stop in the middle of a paced answer (the test after the next), which keeps only what came.
test('an SDK stream left with break after the whole answer came in one read keeps the whole answer, cancelled by the SDK\'s abort', async () => {
  const { createServer } = await import('node:http');
  const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const body = chunk({ role: 'assistant', content: 'One ' }) + chunk({ content: 'read, ' }) + chunk({ content: 'whole.' }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(body)); // one write
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `http://127.0.0.1:${server.address().port}/v1`, fetch: traceFetch(), maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'break early' }], stream: true });
    for await (const c of stream) {
      assert.equal(c.choices[0].delta.content, 'One ');
      break;
    }
    const spans = await settled();
    const span = spans.find((x) => x.attributes['mlflow.spanType'] === 'CHAT_MODEL' && x.attributes['mlflow.spanInputs']?.includes('break early'));
    assert.equal(span.attributes['edgetrace.llm.stream_end'], 'cancelled');
    assert.equal(span.status.code, 1);
    assert.equal(span.attributes['edgetrace.llm.finish_reason'], 'stop');
    assert.equal(JSON.parse(span.attributes['mlflow.spanOutputs']).choices[0].message.content, 'One read, whole.');
  } finally {
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }
});

test("a stream the app aborts (a chat's Stop button) ends its span as cancelled, not as an error; the Response keeps the platform's properties", async () => {
  const f = traceFetch();
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stop me' }] });
  const stop = new AbortController();
  const res = await f(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body, signal: stop.signal, headers: { 'x-mock-chunk-delay-ms': '30' } });
  const plain = await fetch(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body });
  for (const k of ['url', 'redirected', 'type', 'status', 'ok']) assert.equal(res[k], plain[k], k);
  await plain.text();
  const reader = res.body.getReader();
  assert.equal((await reader.read()).done, false, 'a first chunk arrives');
  stop.abort();
  await assert.rejects(reader.read(), { name: 'AbortError' }, 'the app sees its abort');
  const spans = await settled();
  const span = spans.find((x) => x.attributes['mlflow.spanType'] === 'CHAT_MODEL' && x.attributes['mlflow.spanInputs']?.includes('stop me') && x.attributes['edgetrace.llm.stream_end']);
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'cancelled');
  assert.equal(span.status.code, 1, 'OK: the app stopped it');
  assert.deepEqual(span.events ?? [], [], 'no exception event');
});

test("an abort given a reason of its own (a UI unmounting), mid-stream or before the answer begins, is a cancellation too; a timeout, the SDK's own included, stays an error", async () => {
  // The read rejects with the reason itself, not an AbortError: the Stop was recorded as ERROR
  // with an exception event (a browser review).
  const f = traceFetch();
  const call = (content, signal, headers = {}) =>
    f(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', signal, headers, body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] }) });
  const reasons = { 'stop with an error': new Error('component unmounted'), 'stop with a string': 'user pressed stop' };
  for (const [content, reason] of Object.entries(reasons)) {
    const stop = new AbortController();
    const res = await call(content, stop.signal, { 'x-mock-chunk-delay-ms': '30' });
    const reader = res.body.getReader();
    assert.equal((await reader.read()).done, false);
    stop.abort(reason);
    await assert.rejects(reader.read(), (e) => e === reason, 'the app sees its own reason');
  }
  const early = new AbortController();
  const pending = call('stop before the answer', early.signal, { 'x-mock-delay-ms': '500' });
  setTimeout(() => early.abort(new Error('navigated away')), 50);
  await assert.rejects(pending, { message: 'navigated away' });
  // A plain abort() before the answer is what the official SDKs' own timeouts do: an error.
  const plain = new AbortController();
  const pendingPlain = call('plain abort before the answer', plain.signal, { 'x-mock-delay-ms': '500' });
  setTimeout(() => plain.abort(), 50);
  await assert.rejects(pendingPlain, { name: 'AbortError' });
  const sdk = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(), maxRetries: 0, timeout: 100 });
  await assert.rejects(sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'sdk timeout' }] }, { headers: { 'x-mock-delay-ms': '500' } }), OpenAI.APIConnectionTimeoutError);
  const timedOut = await call('time out', AbortSignal.timeout(100), { 'x-mock-chunk-delay-ms': '300' });
  await assert.rejects(timedOut.text(), { name: 'TimeoutError' });
  const spans = await settled();
  const span = (text) => spans.find((x) => x.attributes['mlflow.spanType'] === 'CHAT_MODEL' && x.attributes['mlflow.spanInputs']?.includes(text));
  for (const content of Object.keys(reasons)) {
    const s = span(content);
    assert.equal(s.attributes['edgetrace.llm.stream_end'], 'cancelled', content);
    assert.equal(s.status.code, 1, `${content}: OK, the app stopped it`);
    assert.deepEqual(s.events ?? [], [], `${content}: no exception event`);
  }
  const before = span('stop before the answer');
  assert.equal(before.attributes['edgetrace.llm.cancelled'], true);
  assert.notEqual(before.status.code, 2, 'not an error');
  assert.deepEqual(before.events ?? [], []);
  for (const text of ['plain abort before the answer', 'sdk timeout']) {
    const s = span(text);
    assert.equal(s.status.code, 2, `${text}: an error`);
    assert.equal(s.attributes['edgetrace.llm.cancelled'], undefined, text);
    assert.equal(s.events.find((e) => e.name === 'exception').attributes.find((a) => a.key === 'exception.type').value.stringValue, 'AbortError', text);
  }
  const timeout = span('time out');
  assert.equal(timeout.attributes['edgetrace.llm.stream_end'], 'errored');
  assert.equal(timeout.status.code, 2, 'a timeout is an error');
});

test('no exported payload contains the API keys sent in headers or query strings', async () => {
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
  const f = traceFetch();
  const gem = await f(`${servers.mock.url}/v1beta/models/gemini-2.0-flash:generateContent?key=${OPENAI_KEY}`, {
    method: 'POST', headers: { 'x-goog-api-key': ANTHROPIC_KEY, cookie: 'session=SECRET-cookie' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
  });
  await gem.json();
  const spans = await settled();
  assert.equal(spans.length, 3);
  assert.ok(servers.mock.requests.some((r) => (r.headers.authorization || '').includes(OPENAI_KEY)), 'the key did reach the API');
  for (const r of servers.col.requests) {
    const text = r.body.toString('latin1');
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, 'SECRET-cookie', 'SECRET']) assert.ok(!text.includes(secret), `payload leaks ${secret}`);
  }
});

test('model spans nest under the traced function and arrive in MLflow as CHAT_MODEL with token usage', { timeout: 300_000 }, async () => {
  const mlflow = await startMlflow();
  try {
    const experimentId = await createExperiment(mlflow.url, 'edgetrace-llm');
    init({ endpoint: mlflow.url, experimentId, serviceName: 'llm-test' });
    const agent = trace(async function agent(question) {
      const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] });
      return r.choices[0].message.content;
    }, { spanType: SpanType.AGENT });
    await agent('What is MLflow?');
    const id = getLastActiveTraceId();
    await settled();
    const t = await waitForTrace(mlflow.url, id, 2);
    const spans = readSpans(t);
    const chat = spans.find((s) => s.type === 'CHAT_MODEL');
    const root = spans.find((s) => s.parentId === null);
    assert.equal(chat.parentId, root.spanId);
    assert.equal(chat.attributes['mlflow.llm.model'], 'gpt-4o-mini');
    const usage = JSON.parse(t.trace_info.trace_metadata['mlflow.trace.tokenUsage']);
    assert.equal(usage.total_tokens, chat.attributes['mlflow.chat.tokenUsage'].total_tokens);
    assert.ok(usage.total_tokens > 0);
    // A prompt over maxValueBytes (32 KiB by default) still reads back from MLflow as the request,
    // its messages there, the long one cut and marked.
    const context = 'A retrieved passage about MLflow tracing. '.repeat(1000); // 42,000 bytes
    await agent(`${context}\nWhat is MLflow?`);
    const longId = getLastActiveTraceId();
    await settled();
    const long = readSpans(await waitForTrace(mlflow.url, longId, 2)).find((s) => s.type === 'CHAT_MODEL');
    const inputs = typeof long.inputs === 'string' ? JSON.parse(long.inputs) : long.inputs;
    assert.equal(inputs.model, 'gpt-4o-mini');
    assert.equal(inputs.messages.length, 1);
    assert.equal(inputs.messages[0].role, 'user');
    assert.ok(inputs.messages[0].content.startsWith('A retrieved passage'), inputs.messages[0].content.slice(0, 40));
    assert.ok(inputs.messages[0].content.endsWith(`…[edgetrace: truncated, original bytes: ${context.length + 16}]`), inputs.messages[0].content.slice(-60));
  } finally {
    await mlflow.stop();
  }
});

// A redaction hook that scrubs card numbers from every value it sees: the request, and the
// response (the mock echoes the question back, as models often do). Returns the kinds it saw.
function initScrubbingCards() {
  const seen = [];
  init({
    endpoint: servers.col.url, format: 'json', logger: { warn() {} },
    redact: ({ kind, value }) => {
      seen.push(kind);
      return JSON.parse(JSON.stringify(value ?? null).replace(/\d{4}-\d{4}-\d{4}-\d{4}/g, '[card]'));
    },
  });
  return seen;
}

test('the redaction hook sees request bodies before they are kept', async () => {
  const seen = initScrubbingCards();
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'my card is 4111-1111-1111-1111' }] });
  const [span] = await settled();
  assert.ok(seen.includes('inputs') && seen.includes('outputs'), JSON.stringify(seen));
  assert.equal(attr(span, 'mlflow.spanInputs').messages[0].content, 'my card is [card]');
  for (const r of servers.col.requests) assert.ok(!r.body.toString('latin1').includes('4111-1111'), 'the card number left the process');
  assert.ok(servers.mock.requests.some((r) => JSON.stringify(r.body).includes('4111-1111-1111-1111')), 'the API itself got the real request');
});

test('the redaction hook sees a streamed response, reassembled, before it is kept', async () => {
  const seen = initScrubbingCards();
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'my card is 4111-1111-1111-1111' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.ok(text.includes('4111-1111-1111-1111'), 'the caller gets the real stream (the mock echoes the question)');
  const [span] = await settled();
  assert.deepEqual(seen.filter((k) => k === 'outputs'), ['outputs'], JSON.stringify(seen));
  assert.equal(attr(span, 'mlflow.spanOutputs').choices[0].message.content, text.replaceAll('4111-1111-1111-1111', '[card]'));
  for (const r of servers.col.requests) assert.ok(!r.body.toString('latin1').includes('4111-1111'), 'the card number left the process');
});

test('includeUsage asks OpenAI for usage on streams only when allowed', async () => {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count' }] });
  const before = servers.mock.requests.length;
  for (const includeUsage of [false, true]) {
    const r = await traceFetch(fetch, { includeUsage })(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body });
    await r.text();
  }
  const [plain, asked] = servers.mock.requests.slice(before).filter((r) => r.path === '/v1/chat/completions');
  assert.equal(plain.body.stream_options, undefined, 'not changed without leave');
  assert.deepEqual(asked.body.stream_options, { include_usage: true });
  const spans = await settled();
  assert.equal(spans[0].attributes['mlflow.chat.tokenUsage'], undefined, 'no usage without include_usage');
  assert.ok(attr(spans[1], 'mlflow.chat.tokenUsage').output_tokens > 0);
});
