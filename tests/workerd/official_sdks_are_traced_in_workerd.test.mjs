// The official `openai` and `@anthropic-ai/sdk` packages in a Cloudflare Worker, in workerd
// (Miniflare), each given `traceFetch()` as its fetch inside `instrumentWorker`
// (tests/workerd/fixtures/worker_sdks.js, bundled with esbuild as wrangler bundles a Worker): a
// model call is a CHAT_MODEL span under the request's root span, with the answer the client got;
// a stream the Worker hands back to its client (the SDKs' `toReadableStream()`), read after the
// handler has returned, ends its span once the client has read it, completed, with the whole
// answer and its usage, and is exported with the request's trace; a stream left with `break` ends
// as cancelled when the SDK aborts its request (openai 7), with what was read; no API key reaches
// an export.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startWorkerApp, workerMiniflare } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';
import { waitFor } from '../node/helpers/util.mjs';

let col;
let llm;
let app;
let mf;

before(async () => {
  col = await startCollector();
  llm = await startMockLlm();
  app = await startWorkerApp('worker_sdks.js', {
    bundle: { platform: 'browser' },
    start: (scriptPath, o) => workerMiniflare(scriptPath, { ...o, compatibilityFlags: ['nodejs_compat'], bindings: { COLLECTOR: col.url, LLM: llm.url } }),
  });
  ({ mf } = app);
});
after(async () => {
  await app?.close();
  await col?.close();
  await llm?.close();
});

/**
 * GET `path` with the question `q` and read the answer to its end: its text, and the request's
 * root span and model span once both have arrived.
 */
async function ask(path, q) {
  col.requests.length = 0;
  const res = await mf.dispatchFetch(`http://worker.test${path}?q=${encodeURIComponent(q)}`);
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.deepEqual(JSON.parse(res.headers.get('x-warnings')), [], 'edgetrace warned of nothing');
  const traceId = res.headers.get('x-trace-id');
  const spans = await waitFor(() => {
    const mine = col.spans().filter((s) => s.traceId === traceId);
    return mine.length >= 2 ? mine : null;
  }, { timeoutMs: 10_000, intervalMs: 20, what: `the spans of ${path}'s trace` });
  assert.equal(spans.length, 2, `the root and the model call: ${spans.map((s) => s.name)}`);
  const root = spans.find((s) => !s.parentSpanId);
  assert.equal(root.spanId, res.headers.get('x-span-id'), "the root is the request's span");
  const model = spans.find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(model.parentSpanId, root.spanId, "the model call is under the request's span");
  for (const r of col.requests) assert.ok(!r.body.toString('latin1').includes('SECRET'), 'no export holds an API key');
  return { body, root, model };
}

const ndjson = (body) => body.split('\n').filter(Boolean).map((l) => JSON.parse(l));

test("openai's chat completion in a Worker: a CHAT_MODEL span under the request's span with the answer the client got", async () => {
  const { body, model } = await ask('/openai', 'What is workerd?');
  assert.match(body, /workerd/);
  assert.equal(model.attributes['mlflow.llm.model'], 'gpt-4o-mini');
  assert.equal(model.attributes['mlflow.llm.provider'], 'openai');
  assert.deepEqual(attr(model, 'mlflow.spanInputs').messages, [{ role: 'user', content: 'What is workerd?' }]);
  assert.equal(attr(model, 'mlflow.spanOutputs').choices[0].message.content, body);
  assert.ok(attr(model, 'mlflow.chat.tokenUsage').total_tokens > 0);
  assert.equal(model.status.code, 1);
});

test("openai's stream handed back to the client (toReadableStream): the span ends once the client has read it, completed, with the whole answer and its usage", async () => {
  const { body, root, model } = await ask('/openai-stream', 'Stream me an answer');
  const chunks = ndjson(body);
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  const usage = chunks.findLast((c) => c.usage)?.usage;
  assert.match(text, /Stream me an answer/);
  assert.ok(usage, 'the client got the usage chunk');
  assert.equal(model.attributes['edgetrace.llm.stream'], true);
  assert.equal(model.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.equal(attr(model, 'mlflow.spanOutputs').choices[0].message.content, text);
  const u = attr(model, 'mlflow.chat.tokenUsage');
  assert.deepEqual({ input_tokens: u.input_tokens, output_tokens: u.output_tokens, total_tokens: u.total_tokens }, { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, total_tokens: usage.total_tokens });
  assert.equal(u.cache_read_input_tokens ?? 0, usage.prompt_tokens_details?.cached_tokens ?? 0);
  // The client read the stream after the handler had returned; the request's span lasts until the
  // body it streamed has ended, so it holds the model call to the end.
  assert.ok(BigInt(model.startTimeUnixNano) >= BigInt(root.startTimeUnixNano));
  assert.ok(BigInt(model.endTimeUnixNano) <= BigInt(root.endTimeUnixNano), 'the request span ends after the stream it handed back');
});

test("openai's stream left with break in the Worker: the SDK aborts its request, and the span ends as cancelled with what was read", async () => {
  const { body, model } = await ask('/openai-break', 'Tell me a long story');
  assert.ok(body.length > 5, body);
  assert.equal(model.attributes['edgetrace.llm.stream_end'], 'cancelled');
  assert.notEqual(model.status.code, 2, "the SDK's abort on break is no error");
  assert.ok(attr(model, 'mlflow.spanOutputs').choices[0].message.content.startsWith(body), 'what the Worker read is kept');
});

test("Anthropic's messages.stream handed back to the client: the span ends once the client has read it, with the whole message and its usage", async () => {
  const { body, model } = await ask('/anthropic-stream', 'Stream from Claude');
  const events = ndjson(body);
  const text = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'text_delta').map((e) => e.delta.text).join('');
  assert.match(text, /Stream from Claude/);
  const start = events.find((e) => e.type === 'message_start').message;
  const end = events.findLast((e) => e.type === 'message_delta');
  assert.equal(model.attributes['mlflow.llm.provider'], 'anthropic');
  assert.equal(model.attributes['edgetrace.llm.stream_end'], 'completed');
  const out = attr(model, 'mlflow.spanOutputs');
  assert.equal(out.content.map((c) => c.text ?? '').join(''), text);
  assert.equal(out.stop_reason, end.delta.stop_reason);
  const usage = attr(model, 'mlflow.chat.tokenUsage');
  assert.equal(usage.input_tokens, start.usage.input_tokens);
  assert.equal(usage.output_tokens, end.usage.output_tokens);
});
