// Cloudflare Workers AI's REST API (`/client/v4/accounts/{account}/ai/run/{model}`) and Cloudflare
// AI Gateway's native route to it (`/v1/{account}/{gateway}/workers-ai/{model}`), called with
// plain fetch through traceFetch: model call spans of the provider `cloudflare`, the model from
// the path, the answer in Cloudflare's v4 envelope as the app got it, a stream reassembled, the
// API's error. (The `env.AI` binding, which no fetch wrapper sees, is tests/workerd's.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flush, init, traceFetch } from '../../pkg/node.js';
import { mockAndCollector } from './helpers/harness.mjs';
import { attr } from './helpers/collector.mjs';

const servers = mockAndCollector(init);
const LLAMA = '@cf/meta/llama-3.1-8b-instruct';
const f = traceFetch(fetch);
const headers = { 'content-type': 'application/json', authorization: 'Bearer cf-token-SECRET' };
const post = (path, body, extra = {}) => f(`${servers.mock.url}${path}`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) });
const calls = () => servers.col.spans().filter((s) => s.attributes['mlflow.llm.provider'] === 'cloudflare');

test('a chat through the REST API: CHAT_MODEL span, model from the path, usage, the envelope as the app got it', async () => {
  const res = await post(`/client/v4/accounts/0123abcd/ai/run/${LLAMA}`, { messages: [{ role: 'user', content: 'Hello REST' }], temperature: 0.3 });
  const body = await res.json();
  await flush();
  assert.equal(res.status, 200);
  assert.equal(body.success, true);
  const [span] = calls();
  assert.equal(span.name, `chat ${LLAMA}`);
  assert.equal(span.attributes['mlflow.spanType'], 'CHAT_MODEL');
  assert.equal(span.attributes['mlflow.llm.model'], LLAMA);
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), body);
  const u = body.result.usage;
  assert.deepEqual(attr(span, 'mlflow.chat.tokenUsage'), { input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens, total_tokens: u.total_tokens });
  assert.equal(span.attributes['edgetrace.llm.request_id'], res.headers.get('cf-ai-req-id'));
  for (const r of servers.col.requests) assert.ok(!r.body.toString('latin1').includes('SECRET'), 'the token is in no export');
});

test("a stream through AI Gateway's native route is reassembled, and its usage read", async () => {
  const res = await post(`/v1/0123abcd/my-gateway/workers-ai/${LLAMA}`, { prompt: 'Stream me', stream: true }, { 'x-mock-chunks': '5' });
  const sse = await res.text();
  await flush();
  const evs = sse.split('\n\n').map((b) => b.replace(/^data: /, '')).filter((d) => d && d !== '[DONE]').map((d) => JSON.parse(d));
  const [span] = calls();
  assert.equal(span.name, `text_completion ${LLAMA}`);
  assert.equal(span.attributes['mlflow.spanType'], 'LLM');
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.equal(span.attributes['edgetrace.llm.gateway_log_id'], res.headers.get('cf-aig-log-id'));
  assert.ok(res.headers.get('cf-aig-log-id'));
  assert.equal(attr(span, 'mlflow.spanOutputs').response, evs.map((e) => e.response).join(''));
  const u = evs.find((e) => e.usage).usage;
  assert.deepEqual(attr(span, 'mlflow.chat.tokenUsage'), { input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens, total_tokens: u.total_tokens });
});

test("the API's error in Cloudflare's envelope is the span's error", async () => {
  const res = await post(`/client/v4/accounts/0123abcd/ai/run/${LLAMA}`, { prompt: 'x', messages: [{ role: 'user', content: 'y' }] });
  const body = await res.json();
  await flush();
  assert.equal(res.status, 400);
  const [span] = calls();
  assert.equal(span.status.code, 2);
  assert.equal(span.status.message, `HTTP 400: ${body.errors[0].message}`);
});

test('a model escaped in the path, and AI Gateway\'s /workers-ai/run/ route, are calls of the same model', async () => {
  await (await post(`/client/v4/accounts/0123abcd/ai/run/${encodeURIComponent(LLAMA)}`, { prompt: 'escaped' })).json();
  await (await post(`/v1/0123abcd/my-gateway/workers-ai/run/${LLAMA}`, { prompt: 'run route' })).text();
  await flush();
  const spans = calls();
  assert.equal(spans.length, 2);
  for (const span of spans) {
    assert.equal(span.attributes['mlflow.llm.model'], LLAMA);
    assert.equal(span.name, `text_completion ${LLAMA}`);
  }
});
