// mock-llm/server.mjs stands in for the OpenAI, Anthropic and Gemini APIs in tests and the demo, so
// it has to answer in their real wire formats: the official SDKs must parse its JSON and reassemble
// its streams, its errors must become the SDKs' error classes, its x-mock-* switches must break
// things the way real networks do, and the same request must always get the same bytes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { CREATED, TOOL_ARGUMENTS, embeddingOf, startMockLlm } from '../../mock-llm/server.mjs';

const SERVER = fileURLToPath(new URL('../../mock-llm/server.mjs', import.meta.url));

let llm;
before(async () => {
  llm = await startMockLlm();
});
after(() => llm.close());
beforeEach(() => {
  llm.requests.length = 0;
});

const openai = (opts = {}) => new OpenAI({ apiKey: 'sk-test', baseURL: `${llm.url}/v1`, maxRetries: 0, timeout: 10_000, ...opts });
const anthropic = (opts = {}) => new Anthropic({ apiKey: 'sk-ant-test', baseURL: llm.url, maxRetries: 0, timeout: 10_000, ...opts });
const post = (path, body, headers = {}, init = {}) =>
  fetch(`${llm.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), ...init });
const sseEvents = (text) =>
  text.split('\n\n').filter(Boolean).map((block) => {
    const ev = {};
    for (const line of block.split('\n')) {
      const i = line.indexOf(': ');
      ev[line.slice(0, i)] = line.slice(i + 2);
    }
    return ev;
  });

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] };
const CHAT_TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];
const CLAUDE = { model: 'claude-haiku-4-5', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there' }] };
const CLAUDE_TOOLS = [{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

describe('OpenAI Chat Completions', () => {
  test('a non-streaming answer parses in the openai SDK with the real fields', async () => {
    const c = await openai().chat.completions.create(CHAT);
    assert.match(c.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
    assert.equal(c.object, 'chat.completion');
    assert.equal(c.created, CREATED);
    assert.equal(c.model, 'gpt-4o-mini');
    assert.match(c.system_fingerprint, /^fp_[0-9a-f]{10}$/);
    assert.equal(c.choices.length, 1);
    assert.deepEqual(c.choices[0], {
      index: 0,
      message: { role: 'assistant', content: 'Echo: Hello there', refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    });
    assert.deepEqual(c.usage, {
      prompt_tokens: 4,
      completion_tokens: 3,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
    assert.match(c._request_id, /^req_[0-9a-f]{32}$/);

    assert.equal(llm.requests.length, 1);
    const r = llm.requests[0];
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/v1/chat/completions');
    assert.equal(r.headers.authorization, 'Bearer sk-test');
    assert.deepEqual(r.body, CHAT);
  });

  test('a stream reassembles in the SDK, role first, usage last when include_usage is set', async () => {
    const stream = await openai().chat.completions.create({ ...CHAT, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const ch of stream) chunks.push(ch);
    assert.ok(chunks.every((ch) => ch.object === 'chat.completion.chunk' && ch.created === CREATED && ch.id === chunks[0].id));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null });
    const pieces = chunks.slice(1).flatMap((ch) => ch.choices.map((x) => x.delta.content).filter((x) => x !== undefined));
    assert.equal(pieces.length, 8, 'eight content pieces by default');
    assert.equal(pieces.join(''), 'Echo: Hello there');
    const finish = chunks.at(-2);
    assert.deepEqual(finish.choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    assert.equal(finish.usage, null);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.prompt_tokens, 4);
    assert.equal(last.usage.completion_tokens, 3);
    assert.equal(last.usage.total_tokens, 7);

    // The SDK's own accumulator agrees.
    const final = await openai().chat.completions.stream({ ...CHAT, stream_options: { include_usage: true } }).finalChatCompletion();
    assert.equal(final.choices[0].message.content, 'Echo: Hello there');
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.equal(final.usage.total_tokens, 7);
  });

  test('the wire ends with data: [DONE], and without include_usage chunks carry no usage', async () => {
    const res = await post('/v1/chat/completions', { ...CHAT, stream: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await res.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const events = sseEvents(text);
    assert.equal(events.length, 1 + 8 + 1 + 1);
    for (const ev of events.slice(0, -1)) assert.equal('usage' in JSON.parse(ev.data), false);
  });

  test('with tools the answer is one tool call to the first tool, streamed or not', async () => {
    const c = await openai().chat.completions.create({ ...CHAT, tools: CHAT_TOOLS });
    const choice = c.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, '{"city":"Paris"}');
    assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);

    const stream = await openai().chat.completions.create({ ...CHAT, tools: CHAT_TOOLS, stream: true });
    const deltas = [];
    for await (const ch of stream) deltas.push(...ch.choices);
    const first = deltas[0].delta.tool_calls[0];
    assert.deepEqual(first, { index: 0, id: first.id, type: 'function', function: { name: 'get_weather', arguments: '' } });
    const args = deltas.slice(1).flatMap((d) => d.delta.tool_calls ?? []).map((t) => t.function.arguments).join('');
    assert.equal(args, TOOL_ARGUMENTS);
    assert.equal(deltas.at(-1).finish_reason, 'tool_calls');

    const final = await openai().chat.completions.stream({ ...CHAT, tools: CHAT_TOOLS }).finalChatCompletion();
    assert.equal(final.choices[0].message.tool_calls[0].function.name, 'get_weather');
    assert.equal(final.choices[0].message.tool_calls[0].function.arguments, TOOL_ARGUMENTS);

    // tool_choice picks the tool; a tool result gets a text answer, so agent loops end.
    const picked = await openai().chat.completions.create({ ...CHAT, tools: CHAT_TOOLS, tool_choice: { type: 'function', function: { name: 'get_time' } } });
    assert.equal(picked.choices[0].message.tool_calls[0].function.name, 'get_time');
    const answer = await openai().chat.completions.create({
      ...CHAT,
      tools: CHAT_TOOLS,
      messages: [...CHAT.messages, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' }],
    });
    assert.equal(answer.choices[0].finish_reason, 'stop');
    assert.equal(answer.choices[0].message.content, 'Echo: {"temp_c":21}');
  });
});

describe('OpenAI Responses', () => {
  const REQ = { model: 'gpt-4.1-mini', instructions: 'Be brief.', input: 'Hello there' };

  test('a non-streaming response parses, output_text and usage included', async () => {
    const r = await openai().responses.create(REQ);
    assert.match(r.id, /^resp_[0-9a-f]{50}$/);
    assert.equal(r.object, 'response');
    assert.equal(r.created_at, CREATED);
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'Echo: Hello there');
    assert.equal(r.output.length, 1);
    const msg = r.output[0];
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.status, 'completed');
    assert.match(msg.id, /^msg_[0-9a-f]{50}$/);
    assert.deepEqual(msg.content, [{ type: 'output_text', annotations: [], logprobs: [], text: 'Echo: Hello there' }]);
    assert.deepEqual(r.usage, {
      input_tokens: 4,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 7,
    });
    assert.equal(llm.requests[0].path, '/v1/responses');
  });

  test('a stream sends the real event sequence and the SDK accumulates it', async () => {
    const stream = openai().responses.stream(REQ);
    const events = [];
    for await (const ev of stream) events.push(ev);
    const final = await stream.finalResponse();
    const types = events.map((e) => e.type);
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(8).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    assert.equal(events[0].response.status, 'in_progress');
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
    assert.equal(deltas.join(''), 'Echo: Hello there');
    assert.equal(events.find((e) => e.type === 'response.output_text.done').text, 'Echo: Hello there');
    assert.equal(final.status, 'completed');
    assert.equal(final.output_text, 'Echo: Hello there');
    assert.equal(final.usage.total_tokens, 7);

    // On the wire each event is `event: <type>` + `data: <json>`, and there is no [DONE].
    const text = await (await post('/v1/responses', { ...REQ, stream: true })).text();
    for (const ev of sseEvents(text)) assert.equal(ev.event, JSON.parse(ev.data).type);
    assert.equal(text.includes('[DONE]'), false);
  });

  test('with function tools the output is a function_call item', async () => {
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const r = await openai().responses.create({ ...REQ, tools });
    assert.equal(r.output.length, 1);
    const call = r.output[0];
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, TOOL_ARGUMENTS);
    assert.match(call.call_id, /^call_/);
    assert.match(call.id, /^fc_/);

    const stream = openai().responses.stream({ ...REQ, tools });
    const final = await stream.finalResponse();
    assert.equal(final.output[0].type, 'function_call');
    assert.equal(final.output[0].arguments, TOOL_ARGUMENTS);

    const answer = await openai().responses.create({
      ...REQ,
      tools,
      input: [{ role: 'user', content: 'Hello there' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
    });
    assert.equal(answer.output_text, 'Echo: sunny');
  });
});

describe('OpenAI embeddings', () => {
  test('deterministic unit vectors, as floats or as the base64 the SDK asks for by default', async () => {
    const e = await openai().embeddings.create({ model: 'text-embedding-3-small', input: ['hello world', 'goodbye'] });
    assert.equal(llm.requests[0].body.encoding_format, 'base64', 'the SDK asks for base64 and decodes it');
    assert.equal(e.object, 'list');
    assert.equal(e.model, 'text-embedding-3-small');
    assert.deepEqual(e.usage, { prompt_tokens: 3, total_tokens: 3 });
    assert.deepEqual(e.data.map((d) => [d.object, d.index]), [['embedding', 0], ['embedding', 1]]);
    assert.deepEqual(e.data[0].embedding, embeddingOf('hello world'));
    assert.deepEqual(e.data[1].embedding, embeddingOf('goodbye'));
    assert.equal(e.data[0].embedding.length, 8);
    const norm = Math.hypot(...e.data[0].embedding);
    assert.ok(Math.abs(norm - 1) < 1e-6, `unit length, got ${norm}`);

    const f = await openai().embeddings.create({ model: 'text-embedding-3-small', input: 'hello world', encoding_format: 'float' });
    assert.deepEqual(f.data[0].embedding, e.data[0].embedding);
    const d = await openai().embeddings.create({ model: 'text-embedding-3-small', input: 'hello world', dimensions: 32 });
    assert.equal(d.data[0].embedding.length, 32);
  });
});

describe('Anthropic Messages', () => {
  test('a non-streaming message parses in the Anthropic SDK with the real fields', async () => {
    const m = await anthropic().messages.create(CLAUDE);
    assert.match(m.id, /^msg_01[A-Za-z0-9]{22}$/);
    assert.equal(m.type, 'message');
    assert.equal(m.role, 'assistant');
    assert.equal(m.model, 'claude-haiku-4-5');
    assert.deepEqual(m.content, [{ type: 'text', text: 'Echo: Hello there' }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.stop_sequence, null);
    assert.equal(m.usage.input_tokens, 4);
    assert.equal(m.usage.output_tokens, 3);
    assert.equal(m.usage.cache_creation_input_tokens, 0);
    assert.equal(m.usage.cache_read_input_tokens, 0);
    const r = llm.requests[0];
    assert.equal(r.path, '/v1/messages');
    // Older SDKs send the key as x-api-key, newer ones as a bearer token; the API takes both.
    assert.ok(r.headers['x-api-key'] === 'sk-ant-test' || r.headers.authorization === 'Bearer sk-ant-test', JSON.stringify(r.headers));
    assert.ok(r.headers['anthropic-version']);
  });

  test('with tools the message has a text block and a tool_use block', async () => {
    const m = await anthropic().messages.create({ ...CLAUDE, tools: CLAUDE_TOOLS });
    assert.equal(m.stop_reason, 'tool_use');
    assert.equal(m.content.length, 2);
    assert.deepEqual(m.content[0], { type: 'text', text: 'Echo: Hello there' });
    const use = m.content[1];
    assert.equal(use.type, 'tool_use');
    assert.match(use.id, /^toolu_01[A-Za-z0-9]{22}$/);
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, { city: 'Paris' });

    const answer = await anthropic().messages.create({
      ...CLAUDE,
      tools: CLAUDE_TOOLS,
      messages: [...CLAUDE.messages, { role: 'assistant', content: m.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] }],
    });
    assert.equal(answer.stop_reason, 'end_turn');
    assert.deepEqual(answer.content, [{ type: 'text', text: 'Echo: sunny' }]);
  });

  test('a stream (text + tool_use) follows the real event order and the SDK accumulates it', async () => {
    const stream = anthropic().messages.stream({ ...CLAUDE, tools: CLAUDE_TOOLS });
    const texts = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    assert.equal(texts.length, 8);
    assert.equal(texts.join(''), 'Echo: Hello there');
    assert.equal(final.content[0].text, 'Echo: Hello there');
    assert.equal(final.content[1].type, 'tool_use');
    assert.equal(final.content[1].name, 'get_weather');
    assert.deepEqual(final.content[1].input, { city: 'Paris' });
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.usage.input_tokens, 4);
    assert.equal(final.usage.output_tokens, 5, 'three words of text plus the tool call');

    const raw = await post('/v1/messages', { ...CLAUDE, tools: CLAUDE_TOOLS, stream: true });
    assert.equal(raw.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const events = sseEvents(await raw.text());
    for (const ev of events) assert.equal(JSON.parse(ev.data).type, ev.event);
    const order = events.map((e) => e.event).filter((e, i, a) => e !== a[i - 1]);
    assert.deepEqual(order, [
      'message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const start = JSON.parse(events[0].data).message;
    assert.deepEqual([start.content, start.stop_reason, start.usage.input_tokens], [[], null, 4]);
    const json = events.map((e) => JSON.parse(e.data)).filter((d) => d.delta?.type === 'input_json_delta').map((d) => d.delta.partial_json).join('');
    assert.equal(json, TOOL_ARGUMENTS);
    assert.deepEqual(JSON.parse(events.at(-2).data), { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } });
  });
});

describe('Google Gemini', () => {
  const REQ = { systemInstruction: { parts: [{ text: 'Be brief.' }] }, contents: [{ role: 'user', parts: [{ text: 'Hello there' }] }] };

  test('generateContent and streamGenerateContent?alt=sse', async () => {
    const res = await post('/v1beta/models/gemini-2.0-flash:generateContent', REQ);
    assert.equal(res.status, 200);
    const g = await res.json();
    assert.deepEqual(g.candidates, [{ content: { parts: [{ text: 'Echo: Hello there' }], role: 'model' }, finishReason: 'STOP', index: 0 }]);
    assert.deepEqual(
      [g.usageMetadata.promptTokenCount, g.usageMetadata.candidatesTokenCount, g.usageMetadata.totalTokenCount],
      [4, 3, 7],
    );
    assert.equal(g.modelVersion, 'gemini-2.0-flash');

    const s = await post('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse', REQ);
    assert.equal(s.headers.get('content-type'), 'text/event-stream');
    const text = await s.text();
    const chunks = text.split('\r\n\r\n').filter(Boolean).map((b) => {
      assert.ok(b.startsWith('data: '));
      return JSON.parse(b.slice(6));
    });
    assert.equal(chunks.length, 8);
    assert.equal(chunks.map((c) => c.candidates[0].content.parts[0].text).join(''), 'Echo: Hello there');
    assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
    assert.ok(chunks.slice(0, -1).every((c) => !('finishReason' in c.candidates[0])));
    assert.equal(chunks.at(-1).usageMetadata.totalTokenCount, 7);

    const t = await (await post('/v1beta/models/gemini-2.0-flash:generateContent', { ...REQ, tools: [{ functionDeclarations: [{ name: 'get_weather' }] }] })).json();
    assert.deepEqual(t.candidates[0].content.parts, [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }]);
  });
});

describe('errors and switches', () => {
  test('429 with retry-after and 500 become the openai SDK error classes', async () => {
    const limited = openai({ defaultHeaders: { 'x-mock-status': '429', 'x-mock-retry-after': '7' } });
    await assert.rejects(limited.chat.completions.create(CHAT), (e) => {
      assert.ok(e instanceof OpenAI.RateLimitError, e.constructor.name);
      assert.equal(e.status, 429);
      assert.equal(e.headers.get('retry-after'), '7');
      assert.equal(e.code, 'rate_limit_exceeded');
      assert.equal(e.type, 'requests');
      assert.equal(e.param, null);
      return true;
    });
    assert.equal(llm.requests.length, 1, 'maxRetries: 0 sends one request');

    const broken = openai({ defaultQuery: { 'x-mock-status': '500' } });
    await assert.rejects(broken.chat.completions.create({ ...CHAT, stream: true }), (e) => {
      assert.ok(e instanceof OpenAI.InternalServerError, e.constructor.name);
      assert.equal(e.status, 500);
      assert.equal(e.type, 'server_error');
      return true;
    });
    await assert.rejects(openai({ defaultHeaders: { 'x-mock-status': '400' } }).responses.create({ model: 'm', input: 'x' }), OpenAI.BadRequestError);
    await assert.rejects(openai({ defaultHeaders: { 'x-mock-status': '401' } }).embeddings.create({ model: 'm', input: 'x' }), OpenAI.AuthenticationError);

    const body = await (await post('/v1/chat/completions', CHAT, { 'x-mock-status': '429' })).json();
    assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code']);
  });

  test('429 with retry-after and 500 become the Anthropic SDK error classes', async () => {
    await assert.rejects(anthropic({ defaultHeaders: { 'x-mock-status': '429', 'x-mock-retry-after': '3' } }).messages.create(CLAUDE), (e) => {
      assert.ok(e instanceof Anthropic.RateLimitError, e.constructor.name);
      assert.equal(e.status, 429);
      assert.equal(e.headers.get('retry-after'), '3');
      assert.equal(e.error.type, 'error');
      assert.equal(e.error.error.type, 'rate_limit_error');
      assert.match(e.requestID, /^req_/);
      return true;
    });
    await assert.rejects(anthropic({ defaultHeaders: { 'x-mock-status': '500' } }).messages.stream(CLAUDE).finalMessage(), (e) => {
      assert.ok(e instanceof Anthropic.InternalServerError, e.constructor.name);
      assert.equal(e.error.error.type, 'api_error');
      return true;
    });
    assert.equal(llm.requests.length, 2);
  });

  test('x-mock-auth: required answers 401 without credentials and 200 with them', async () => {
    const a = await post('/v1/chat/completions', CHAT, { 'x-mock-auth': 'required' });
    assert.equal(a.status, 401);
    assert.equal((await a.json()).error.type, 'invalid_request_error');
    const b = await post('/v1/messages', CLAUDE, { 'x-mock-auth': 'required' });
    assert.equal(b.status, 401);
    assert.deepEqual((await b.json()).error.type, 'authentication_error');
    const c = await post('/v1beta/models/gemini-2.0-flash:generateContent?x-mock-auth=required', { contents: [{ parts: [{ text: 'x' }] }] });
    assert.equal(c.status, 401);
    assert.equal((await c.json()).error.status, 'UNAUTHENTICATED');

    assert.equal((await openai({ defaultHeaders: { 'x-mock-auth': 'required' } }).chat.completions.create(CHAT)).object, 'chat.completion');
    assert.equal((await anthropic({ defaultHeaders: { 'x-mock-auth': 'required' } }).messages.create(CLAUDE)).type, 'message');
  });

  test('a 1000-chunk stream arrives whole in both SDKs', async () => {
    const headers = { 'x-mock-chunks': '1000' };
    const stream = await openai({ defaultHeaders: headers }).chat.completions.create({ ...CHAT, stream: true });
    const pieces = [];
    for await (const ch of stream) for (const c of ch.choices) if (c.delta.content) pieces.push(c.delta.content);
    assert.equal(pieces.length, 1000);
    const whole = await openai({ defaultHeaders: headers }).chat.completions.create(CHAT);
    assert.equal(pieces.join(''), whole.choices[0].message.content);
    assert.ok(whole.choices[0].message.content.startsWith('Echo: Hello there '));

    const texts = [];
    const s = anthropic({ defaultHeaders: { 'x-mock-chunks': '2500' } }).messages.stream(CLAUDE);
    s.on('text', (t) => texts.push(t));
    const final = await s.finalMessage();
    assert.equal(texts.length, 2500);
    assert.equal(texts.join(''), final.content[0].text);
  });

  test('identical requests get identical bytes; different ones get different ids', async () => {
    const cases = [
      ['/v1/chat/completions', CHAT],
      ['/v1/chat/completions', { ...CHAT, stream: true, stream_options: { include_usage: true } }],
      ['/v1/responses', { model: 'gpt-4.1-mini', input: 'Hello there', stream: true }],
      ['/v1/embeddings', { model: 'text-embedding-3-small', input: 'Hello there' }],
      ['/v1/messages', { ...CLAUDE, tools: CLAUDE_TOOLS, stream: true }],
      ['/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse', { contents: [{ parts: [{ text: 'Hello there' }] }] }],
    ];
    for (const [path, body] of cases) {
      const a = await post(path, body);
      const b = await post(path, body);
      assert.deepEqual([...a.headers], [...b.headers], path);
      assert.ok(Buffer.from(await a.arrayBuffer()).equals(Buffer.from(await b.arrayBuffer())), path);
    }
    const one = await openai().chat.completions.create(CHAT);
    const two = await openai().chat.completions.create({ ...CHAT, messages: [{ role: 'user', content: 'Something else' }] });
    assert.notEqual(one.id, two.id);
    assert.equal(one.id, (await openai().chat.completions.create(CHAT)).id);
  });

  test('x-mock-chunk-delay-ms slows a stream down, x-mock-hang never answers', async () => {
    const t0 = Date.now();
    const stream = await openai({ defaultHeaders: { 'x-mock-chunks': '5', 'x-mock-chunk-delay-ms': '60' } }).chat.completions.create({ ...CHAT, stream: true });
    const arrivals = [];
    for await (const _ of stream) arrivals.push(Date.now() - t0);
    assert.ok(arrivals.at(-1) >= 5 * 60, `took ${arrivals.at(-1)} ms`);
    assert.ok(arrivals.at(-1) - arrivals[0] >= 4 * 60, 'pieces are spread out, not sent at once');

    await assert.rejects(post('/v1/chat/completions', CHAT, { 'x-mock-hang': '1' }, { signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
    await assert.rejects(openai({ defaultHeaders: { 'x-mock-hang': '1' }, timeout: 300 }).chat.completions.create(CHAT), OpenAI.APIConnectionTimeoutError);
    assert.equal(llm.requests.filter((r) => r.headers['x-mock-hang'] === '1').length, 2, 'hung requests are still recorded');
  });

  test('x-mock-truncate ends a stream mid-event, x-mock-garbage sends an unparsable data line', async () => {
    const cut = await (await post('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-truncate': '1' })).text();
    assert.equal(cut.includes('[DONE]'), false);
    assert.equal(cut.endsWith('\n\n'), false, 'the last event is cut off');
    const acut = await (await post('/v1/messages', { ...CLAUDE, stream: true }, { 'x-mock-truncate': '1' })).text();
    assert.equal(acut.includes('message_stop'), false);
    assert.equal(acut.endsWith('\n\n'), false);
    await assert.rejects(async () => {
      const s = await anthropic({ defaultHeaders: { 'x-mock-truncate': '1' } }).messages.create({ ...CLAUDE, stream: true });
      const seen = [];
      for await (const ev of s) seen.push(ev.type);
      assert.ok(seen.includes('message_stop'), `stream ended without message_stop after ${seen.join(',')}`);
    });
    await assert.rejects((await post('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-truncate': 'reset' })).text());

    const stream = await openai({ defaultHeaders: { 'x-mock-garbage': '1' }, logger: { error() {}, warn() {}, info() {}, debug() {} } }).chat.completions.create({ ...CHAT, stream: true });
    await assert.rejects(async () => {
      for await (const _ of stream);
    }, SyntaxError);
    const g = await (await post('/v1/messages', { ...CLAUDE, stream: true }, { 'x-mock-garbage': '1' })).text();
    const bad = sseEvents(g).filter((ev) => {
      try { JSON.parse(ev.data); return false; } catch { return true; }
    });
    assert.equal(bad.length, 1);
    assert.equal(bad[0].event, 'content_block_delta');
    assert.ok(g.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'), 'the rest of the stream still follows');
  });

  test('CORS: preflight allows any origin and the requested headers, answers carry allow-origin *', async () => {
    const pre = await fetch(`${llm.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-api-key,anthropic-dangerous-direct-browser-access,x-mock-chunks' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization,content-type,x-api-key,anthropic-dangerous-direct-browser-access,x-mock-chunks');
    for (const res of [await post('/v1/chat/completions', CHAT), await post('/v1/chat/completions', CHAT, { 'x-mock-status': '500' }), await post('/v1/messages', { ...CLAUDE, stream: true })]) {
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      await res.arrayBuffer();
    }
  });

  test('unknown routes and bad bodies get the provider error shapes', async () => {
    const a = await post('/v1/nope', {});
    assert.equal(a.status, 404);
    assert.equal((await a.json()).error.message, 'Invalid URL (POST /v1/nope)');
    const b = await post('/v1/messages', { model: 'claude', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(b.status, 400);
    assert.deepEqual(await b.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    const c = await fetch(`${llm.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(c.status, 400);
    assert.equal((await c.json()).error.type, 'invalid_request_error');
  });
});

test('run directly, it prints its URL, serves, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [SERVER, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', () => reject(new Error(`exited before printing its URL: ${out}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CHAT) });
    assert.equal((await res.json()).choices[0].message.content, 'Echo: Hello there');
  } finally {
    child.kill('SIGTERM');
  }
  assert.deepEqual(await exited, { code: 0, signal: null });
});
