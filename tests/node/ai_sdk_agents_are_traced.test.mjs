// The Vercel AI SDK (`ai` with `@ai-sdk/openai`), the most used JS LLM framework, traced as the
// README shows it: `traceFetch(fetch)` as the provider's fetch, a `trace()`d tool and agent,
// against the local mock model server. A tool loop makes one tree: the agent, a model call per
// step, the tool between them with its own input only (the SDK calls a tool with
// `{ toolCallId, messages }` besides, the whole conversation), and usage summed over the steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTextStreamResponse, generateText, isStepCount, jsonSchema, streamText, toTextStream, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { flush, getLastActiveTraceId, init, SpanType, trace, traceFetch } from '../../pkg/node.js';
import { attr } from './helpers/collector.mjs';
import { mockAndCollector } from './helpers/harness.mjs';

let openai;
const servers = mockAndCollector(init, {
  ready: () => {
    openai = createOpenAI({ apiKey: 'sk-test-SECRET-aisdk', baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(fetch) });
  },
});

const getWeather = tool({
  description: 'The weather in a city',
  inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
  execute: trace(async function getWeather({ city }) {
    return { city, sky: 'clear', tempC: 21 };
  }, { spanType: SpanType.TOOL }),
});

async function traceOf(id) {
  await new Promise((r) => setTimeout(r, 20));
  await flush();
  return servers.col.spans().filter((s) => `tr-${s.traceId}` === id);
}

for (const [api, model] of [
  ['Chat Completions', () => openai.chat('gpt-4o-mini')],
  ['Responses', () => openai('gpt-4o-mini')],
]) {
  test(`generateText with a tool loop (${api}): the agent, a CHAT_MODEL span per step, the tool with its own input`, async () => {
    const agent = trace(async function agent(question) {
      const r = await generateText({ model: model(), prompt: question, tools: { getWeather }, stopWhen: isStepCount(3) });
      return r.text;
    }, { spanType: SpanType.AGENT });
    const text = await agent('What is the weather in Paris?');
    assert.match(text, /clear/, 'the second step answered from the tool result');
    const spans = await traceOf(getLastActiveTraceId());
    const root = spans.find((s) => s.name === 'agent');
    const calls = spans.filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
    const tools = spans.filter((s) => s.attributes['mlflow.spanType'] === 'TOOL');
    assert.equal(spans.length, 4, spans.map((s) => s.name).join());
    assert.equal(calls.length, 2);
    assert.equal(tools.length, 1);
    for (const s of [...calls, ...tools]) assert.equal(s.parentSpanId, root.spanId, `${s.name} is the agent's child`);
    assert.deepEqual(attr(tools[0], 'mlflow.spanInputs'), { city: 'Paris' }, "the tool's input, not the SDK's options and messages");
    assert.deepEqual(attr(tools[0], 'mlflow.spanOutputs'), { city: 'Paris', sky: 'clear', tempC: 21 });
    const [first, second] = calls.sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    assert.ok(attr(first, 'mlflow.chat.tools')?.length === 1, 'the tool offered to the model');
    assert.ok(BigInt(first.endTimeUnixNano) <= BigInt(tools[0].startTimeUnixNano), 'the tool ran after the first step');
    assert.ok(BigInt(tools[0].endTimeUnixNano) <= BigInt(second.startTimeUnixNano), 'and before the second');
    const usage = (s) => attr(s, 'mlflow.chat.tokenUsage');
    assert.ok(usage(first).input_tokens > 0 && usage(second).output_tokens > 0);
    for (const s of spans) assert.ok(!JSON.stringify(s).includes('SECRET'), `${s.name} holds no API key`);
  });
}

test('streamText read to its end: the model call is reassembled and ends inside the agent; aborted half-way it is cancelled with the partial text', async () => {
  const agent = trace(async function agent(question, signal) {
    const r = streamText({ model: openai.chat('gpt-4o-mini'), prompt: question, abortSignal: signal, headers: { 'x-mock-chunk-delay-ms': '20' } });
    let text = '';
    try {
      for await (const piece of r.textStream) {
        text += piece;
        if (signal && text.length > 8) signal.controller.abort();
      }
    } catch (e) {
      if (e?.name !== 'AbortError') throw e;
    }
    return text;
  }, { spanType: SpanType.AGENT });
  const whole = await agent('tell me about streams');
  const spans = await traceOf(getLastActiveTraceId());
  const call = spans.find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(call.attributes['edgetrace.llm.stream_end'], 'completed');
  assert.equal(attr(call, 'mlflow.spanOutputs').choices[0].message.content, whole);
  assert.equal(call.parentSpanId, spans.find((s) => s.name === 'agent').spanId);

  const controller = new AbortController();
  const signal = Object.assign(controller.signal, { controller });
  const partial = await agent('tell me about aborted streams', signal);
  const aborted = (await traceOf(getLastActiveTraceId())).find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(aborted.attributes['edgetrace.llm.stream_end'], 'cancelled');
  assert.notEqual(aborted.status?.code, 2, 'a Stop is not an error');
  const kept = attr(aborted, 'mlflow.spanOutputs').choices[0].message.content;
  assert.ok(kept.startsWith(partial.slice(0, 8)) && kept.length < whole.length + 40, `the partial text (${kept})`);
});

// As a Next.js route handler does: the traced function returns before the SDK makes its request,
// which starts when the response's body is read, in the function's context, after it ended. AI SDK
// 7 makes the response with its standalone helpers; the result's own method (AI SDK 6's way, kept
// in 7 as deprecated) does the same.
for (const [how, respond] of [
  ['createTextStreamResponse(toTextStream(…))', (result) => createTextStreamResponse({ stream: toTextStream({ stream: result.stream }) })],
  ['toTextStreamResponse()', (result) => result.toTextStreamResponse()],
]) test(`streamText returned by a traced function, as a route returns ${how}: the model call, which starts when the stream is read, stays in the function's trace, under it`, async () => {
  const answer = trace(async function answer(question) {
    return respond(streamText({ model: openai.chat('gpt-4o-mini'), prompt: question }));
  }, { spanType: SpanType.CHAIN });
  const response = await answer('tell me about late starts');
  const traceId = getLastActiveTraceId();
  const text = await response.text();
  assert.match(text, /^Echo: tell me about late starts/);
  const spans = await traceOf(traceId);
  const root = spans.find((s) => s.name === 'answer');
  const call = spans.find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.ok(call, `the model call is in the function's trace (${spans.map((s) => s.name).join()}; all: ${servers.col.spans().map((s) => s.name).join()})`);
  assert.equal(call.parentSpanId, root.spanId, 'under the function that started it');
  assert.equal(attr(call, 'mlflow.spanOutputs').choices[0].message.content, text);
  assert.ok(BigInt(call.startTimeUnixNano) >= BigInt(root.endTimeUnixNano), 'the request started after the function returned');
});
