// Google's Gen AI SDK (`@google/genai`) given the traced fetch as the README shows it
// (`new GoogleGenAI({ apiKey, httpOptions: { fetch: traceFetch() } })`), against the local mock of
// Gemini's API: `generateContent` and `generateContentStream` are CHAT_MODEL spans under the
// traced function that called them, with the request as sent, the answer, the usage the SDK got
// and its tools as MLflow shows them; a function call is recorded with the part keys MLflow's UI
// reads; a stream left with `break` stays open until its `abortSignal` is aborted, as the README
// says, and then ends as cancelled with what was read; no key reaches an export.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoogleGenAI } from '@google/genai';
import { flush, getStats, init, SpanType, trace, traceFetch } from '../../pkg/node.js';
import { attr } from './helpers/collector.mjs';
import { exportedSpans, mockAndCollector } from './helpers/harness.mjs';

const KEY = 'AIza-test-SECRET-0123456789';
const MODEL = 'gemini-2.0-flash';

let gemini;
const servers = mockAndCollector(init, {
  ready: () => {
    gemini = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: servers.mock.url, fetch: traceFetch() } });
  },
});

const settled = () => exportedSpans(servers, flush);
const chatSpans = (spans) => spans.filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
const text = (parts) => parts.map((p) => p.text ?? '').join('');

test('generateContent in a traced function: a CHAT_MODEL span under it with the request, the answer and the usage the SDK got', async () => {
  const ask = trace(async function ask(question) {
    return gemini.models.generateContent({ model: MODEL, contents: question, config: { temperature: 0.3, systemInstruction: 'Be brief.' } });
  }, { spanType: SpanType.AGENT });
  const r = await ask('What is MLflow?');
  assert.ok(r.text.length > 0);
  const spans = await settled();
  const root = spans.find((s) => s.name === 'ask');
  const [span] = chatSpans(spans);
  assert.equal(span.parentSpanId, root.spanId, 'under the traced function');
  assert.equal(span.traceId, root.traceId);
  assert.equal(span.name, `generate_content ${MODEL}`);
  assert.equal(span.attributes['mlflow.message.format'], 'gemini');
  assert.equal(span.attributes['mlflow.llm.provider'], 'gemini');
  assert.equal(span.attributes['mlflow.llm.model'], MODEL);
  assert.equal(span.status.code, 1);
  // The request as the SDK sent it: the question as a user turn, the system instruction, the config.
  const inputs = attr(span, 'mlflow.spanInputs');
  assert.deepEqual(inputs.contents, [{ role: 'user', parts: [{ text: 'What is MLflow?' }] }]);
  assert.equal(text(inputs.systemInstruction.parts), 'Be brief.');
  assert.equal(inputs.generationConfig.temperature, 0.3);
  const out = attr(span, 'mlflow.spanOutputs');
  assert.equal(text(out.candidates[0].content.parts), r.text);
  assert.equal(span.attributes['edgetrace.llm.finish_reason'], r.candidates[0].finishReason);
  assert.deepEqual(attr(span, 'mlflow.chat.tokenUsage'), {
    input_tokens: r.usageMetadata.promptTokenCount,
    output_tokens: r.usageMetadata.candidatesTokenCount,
    total_tokens: r.usageMetadata.totalTokenCount,
  });
  assert.ok(attr(span, 'mlflow.llm.cost').total_cost > 0, 'priced');
});

test('generateContentStream: one span for the stream, its text reassembled as the app read it, the usage of its last chunk', async () => {
  let read = '';
  let usage;
  for await (const chunk of await gemini.models.generateContentStream({ model: MODEL, contents: 'Stream a short answer' })) {
    read += chunk.text ?? '';
    usage = chunk.usageMetadata ?? usage;
  }
  const [span] = chatSpans(await settled());
  assert.equal(span.attributes['edgetrace.llm.stream'], true);
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.ok(span.attributes['edgetrace.llm.chunks'] > 1, 'several chunks');
  assert.equal(text(attr(span, 'mlflow.spanOutputs').candidates[0].content.parts), read);
  assert.deepEqual(attr(span, 'mlflow.chat.tokenUsage'), { input_tokens: usage.promptTokenCount, output_tokens: usage.candidatesTokenCount, total_tokens: usage.totalTokenCount });
});

test("a function call: the declarations as MLflow's tools, the call with the part keys MLflow's UI reads", async () => {
  const r = await gemini.models.generateContent({
    model: MODEL,
    contents: 'Weather in Paris?',
    config: { tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'The weather in a city', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }] },
  });
  assert.equal(r.functionCalls.length, 1);
  const [span] = chatSpans(await settled());
  assert.deepEqual(attr(span, 'mlflow.chat.tools'), [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]);
  const [part] = attr(span, 'mlflow.spanOutputs').candidates[0].content.parts;
  assert.deepEqual(part.function_call, { name: r.functionCalls[0].name, args: r.functionCalls[0].args });
  assert.equal(part.functionCall, undefined, 'in MLflow\'s keys, not the REST API\'s camelCase');
});

test("a stream left with break stays open until the abortSignal given in its config is aborted, then ends as cancelled with what was read", async () => {
  const controller = new AbortController();
  const slow = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: servers.mock.url, fetch: traceFetch(), headers: { 'x-mock-chunk-delay-ms': '30', 'x-mock-chunks': '40' } } });
  let read = '';
  for await (const chunk of await slow.models.generateContentStream({ model: MODEL, contents: 'Tell me a long story', config: { abortSignal: controller.signal } })) {
    read += chunk.text ?? '';
    if (read.length > 8) break;
  }
  assert.equal(getStats().open, 1, 'open after the break: the SDK leaves the body unread');
  controller.abort();
  assert.equal(getStats().open, 0, 'ended by the abort');
  const [span] = chatSpans(await settled());
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'cancelled');
  assert.notEqual(span.status.code, 2, 'the app\'s own abort is no error');
  assert.ok(text(attr(span, 'mlflow.spanOutputs').candidates[0].content.parts).startsWith(read), 'what the app read is kept');
});

test('no export holds the API key, which the SDK sends in a header', async () => {
  await gemini.models.generateContent({ model: MODEL, contents: 'x' });
  await settled();
  assert.ok(servers.mock.requests.some((r) => r.headers['x-goog-api-key'] === KEY), 'the key did reach the API');
  assert.ok(servers.col.requests.length > 0);
  for (const r of servers.col.requests) assert.ok(!r.body.toString('latin1').includes('SECRET'), 'no export holds the key');
});
