// Ollama's own API, as the `ollama` npm package calls it (`/api/chat`, `/api/generate`; its stream is
// newline-delimited JSON, not SSE): each call is a CHAT_MODEL span with its tokens
// (`prompt_eval_count`, `eval_count`), its answer reassembled, and the provider `ollama`. Known by
// Ollama's port, 11434 (the client's host is `http://localhost:11434`, its fetch rewrites the URL to
// the mock, so edgetrace sees the host an app has), Ollama's cloud (ollama.com), or under a base URL
// registered as `ollama`. An
// app's own `/api/chat` route (the AI SDK's `useChat` posts there) is no model call.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { Ollama } from 'ollama';
import { flush, getStats, init, registerModelApi, traceFetch, withSpan } from '../../pkg/node.js';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { startCollector } from './helpers/collector.mjs';

let mock;
let col;
before(async () => {
  mock = await startMockLlm();
  col = await startCollector();
});
after(async () => {
  await mock?.close();
  await col?.close();
});
beforeEach(() => {
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
});

// The client talks to Ollama's port; the request goes to the mock.
const toMock = (input, init) => fetch(String(input instanceof Request ? input.url : input).replace('http://localhost:11434', mock.url), init);
const chatSpans = () => col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');

test("the ollama package's chat and generate, streamed and not: spans with tokens, answers and tool calls", async () => {
  const ollama = new Ollama({ host: 'http://localhost:11434', fetch: traceFetch(toMock) });
  const plain = await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi there' }] });
  let streamed = '';
  for await (const part of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Tell me more' }], stream: true })) streamed += part.message.content;
  let generated = '';
  for await (const part of await ollama.generate({ model: 'llama3.2', prompt: 'Why is the sky blue?', stream: true })) generated += part.response;
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const called = await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Weather?' }], tools, stream: true });
  const calls = [];
  for await (const part of called) calls.push(...(part.message.tool_calls ?? []));
  await flush();

  assert.equal(plain.message.content, 'Echo: Hi there');
  assert.match(streamed, /^Echo: Tell me more/);
  assert.match(generated, /^Echo: Why is the sky blue\?/);
  assert.deepEqual(calls, [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }]);
  const spans = chatSpans();
  assert.deepEqual(spans.map((s) => s.name), ['chat llama3.2', 'chat llama3.2', 'generate llama3.2', 'chat llama3.2']);
  const [p, s, g, t] = spans;
  for (const span of spans) {
    assert.equal(span.attributes['mlflow.llm.provider'], 'ollama', span.name);
    assert.equal(span.attributes['mlflow.llm.model'], 'llama3.2');
    assert.notEqual(span.status?.code, 2, `${span.name} is not an error: ${span.status?.message}`);
    const usage = JSON.parse(span.attributes['mlflow.chat.tokenUsage']);
    assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0, `${span.name}: ${span.attributes['mlflow.chat.tokenUsage']}`);
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert.equal(span.attributes['edgetrace.llm.finish_reason'], 'stop');
  }
  assert.equal(p.attributes['edgetrace.llm.stream'], false);
  assert.equal(JSON.parse(p.attributes['mlflow.spanOutputs']).message.content, plain.message.content);
  for (const [span, text] of [[s, streamed], [g, generated]]) {
    assert.equal(span.attributes['edgetrace.llm.stream'], true);
    assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed', span.name);
    const out = JSON.parse(span.attributes['mlflow.spanOutputs']);
    assert.equal(out.done, true);
    assert.equal(out.message?.content ?? out.response, text, `${span.name}: the streamed answer reassembled`);
  }
  assert.deepEqual(JSON.parse(t.attributes['mlflow.spanOutputs']).message.tool_calls, calls);
  assert.deepEqual(JSON.parse(t.attributes['mlflow.chat.tools']), tools);
  // Ollama's messages are in no format MLflow's UI reads: the chats carry the conversation as it
  // does read it, the answer last (a tool call in OpenAI's shape); a generation has none.
  assert.deepEqual(JSON.parse(p.attributes['mlflow.chat.messages']), [{ role: 'user', content: 'Hi there' }, { role: 'assistant', content: plain.message.content }]);
  assert.deepEqual(JSON.parse(s.attributes['mlflow.chat.messages'])[1], { role: 'assistant', content: streamed });
  assert.deepEqual(JSON.parse(t.attributes['mlflow.chat.messages'])[1].tool_calls, [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
  assert.equal(g.attributes['mlflow.chat.messages'], undefined);
});

test('a failed Ollama call is an error with its message; a registered base URL is Ollama on any port; an app route is no model call', async () => {
  const ollama = new Ollama({ host: 'http://localhost:11434', fetch: traceFetch(toMock), headers: { 'x-mock-status': '404' } });
  await assert.rejects(ollama.chat({ model: 'missing', messages: [{ role: 'user', content: 'Hi' }] }), { name: 'ResponseError' });
  registerModelApi({ baseUrl: `${mock.url}/ollama-here`, format: 'ollama' });
  const rewrite = (input, init) => fetch(String(input instanceof Request ? input.url : input).replace('/ollama-here', ''), init);
  const registered = new Ollama({ host: `${mock.url}/ollama-here`, fetch: traceFetch(rewrite) });
  const answer = await registered.generate({ model: 'qwen3', prompt: 'Hello' });
  // Ollama's cloud: known by its host.
  const cloudFetch = (input, init) => fetch(String(input instanceof Request ? input.url : input).replace(/^https:\/\/ollama\.com(:443)?/, mock.url), init);
  const cloud = new Ollama({ host: 'https://ollama.com', fetch: traceFetch(cloudFetch), headers: { authorization: 'Bearer key' } });
  await cloud.chat({ model: 'gpt-oss:120b', messages: [{ role: 'user', content: 'Hi' }] });
  // The app's own /api/chat route, on another port: a plain request, no span of a model call.
  await withSpan(() => traceFetch(fetch)(`${mock.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'x', messages: [], stream: false }) }).then((r) => r.text()), { name: 'app-route' });
  await flush();

  const spans = chatSpans();
  assert.deepEqual(spans.map((s) => s.name), ['chat missing', 'generate qwen3', 'chat gpt-oss:120b']);
  const [failed, ok, inCloud] = spans;
  assert.equal(inCloud.attributes['mlflow.llm.provider'], 'ollama');
  assert.ok(JSON.parse(inCloud.attributes['mlflow.chat.tokenUsage']).output_tokens > 0);
  assert.equal(failed.status?.code, 2, 'ERROR');
  assert.equal(failed.status?.message, 'HTTP 404: model not found, try pulling it first');
  const type = failed.events?.find((e) => e.name === 'exception')?.attributes.find((kv) => kv.key === 'exception.type')?.value.stringValue;
  assert.equal(type, 'ResponseError');
  assert.equal(ok.attributes['mlflow.llm.provider'], 'ollama');
  assert.equal(JSON.parse(ok.attributes['mlflow.spanOutputs']).response, answer.response);
  assert.ok(col.spans().some((s) => s.name === 'app-route'), 'the app route\'s span is there');
});

test("a break out of an ollama stream, then ollama.abort() as the README says: the span ends at the abort, as cancelled, with what was read", async () => {
  // Review s49d: the package neither reads nor cancels the body after a break, and its abort
  // reached no reader, so the span stayed open until a collection (a script that flushed and
  // exited lost it).
  const withDelay = (input, init) => toMock(input, { ...init, headers: { ...init?.headers, 'x-mock-chunk-delay-ms': '30', 'x-mock-chunks': '40' } });
  const ollama = new Ollama({ host: 'http://localhost:11434', fetch: traceFetch(withDelay) });
  let read = '';
  for await (const part of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Tell me a long story' }], stream: true })) {
    read += part.message.content;
    if (read.length > 8) break;
  }
  assert.equal(getStats().open, 1, 'open after the break: the body is left unread');
  ollama.abort();
  assert.equal(getStats().open, 0, 'ended by the abort');
  await flush();
  const [span] = chatSpans();
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'cancelled');
  assert.ok(JSON.parse(span.attributes['mlflow.spanOutputs']).message.content.startsWith(read), 'what the app read is kept');
});
