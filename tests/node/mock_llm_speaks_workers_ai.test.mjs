// mock-llm/server.mjs also stands in for Cloudflare Workers AI: its REST API
// (/client/v4/accounts/{account}/ai/run/{model}, answers in Cloudflare's v4 envelope), AI Gateway's
// native path to it (/v1/{account}/{gateway}/workers-ai/{model}) and the backend of the Workers
// binding (env.AI.run, which workerd sends to https://workers-binding.ai/run?version=3). The last is
// checked with workerd's own binding, `cloudflare-internal:ai-api`, in Miniflare, moved onto the mock.
// No tracing is involved here.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Miniflare } from 'miniflare';
import { DEFAULT_CHUNKS, EMBEDDING_DIMS, TOOL_ARGUMENTS, answerText, embeddingOf, splitPieces, startMockLlm } from '../../mock-llm/server.mjs';
import { aiBindingWorkers } from '../workerd/ai-binding.mjs';

let llm;
before(async () => {
  llm = await startMockLlm();
});
after(() => llm.close());
beforeEach(() => {
  llm.requests.length = 0;
});

// The mock's answers, worked out here: it echoes the last user turn, and counts words as tokens.
const MODEL = '@cf/meta/llama-3.1-8b-instruct';
const EMBED_MODEL = '@cf/baai/bge-base-en-v1.5';
const HELLO = 'Hello there';
const ECHO = 'Echo: Hello there'; // 17 characters: more than 8 stream pieces, so no filler
const MESSAGES = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: HELLO }];
const IN_TOKENS = 4; // 'Be brief.' + 'Hello there'
const OUT_TOKENS = 3; // 'Echo: Hello there'
const TOOL_TOKENS = 2; // 'get_weather {"city":"Paris"}'
const USAGE = { prompt_tokens: IN_TOKENS, completion_tokens: OUT_TOKENS, total_tokens: IN_TOKENS + OUT_TOKENS };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const WEATHER = { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const TIME = { name: 'get_time', description: 'The time', parameters: { type: 'object', properties: {} } };
const TOOLS_WORKERS_AI = [WEATHER, TIME];
const TOOLS_OPENAI = TOOLS_WORKERS_AI.map((f) => ({ type: 'function', function: f }));

const restPath = (model = MODEL) => `/client/v4/accounts/abc123/ai/run/${model}`;
const gatewayPath = (model = MODEL) => `/v1/abc123/my-gateway/workers-ai/${model}`;

/** POSTs JSON to the mock, with a bearer token unless `headers` says otherwise. */
function post(path, body, headers = {}) {
  return fetch(`${llm.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer cf-test-token', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The `data:` payloads of an SSE text, in order: parsed JSON, or the raw string when it is not JSON. */
function sseData(text) {
  return text.split('\n\n').filter((e) => e !== '').map((e) => {
    assert.ok(e.startsWith('data: '), `an SSE event with only a data line: ${JSON.stringify(e)}`);
    const d = e.slice(6);
    try { return JSON.parse(d); } catch { return d; }
  });
}

/** Checks a streamed text answer: pieces with padding, then the usage event, then [DONE] last. Returns the pieces. */
function assertTextStream(events, { usage, pieces }) {
  assert.equal(events.at(-1), '[DONE]');
  const usageEvent = events.at(-2);
  assert.deepEqual(usageEvent, { response: '', usage });
  const content = events.slice(0, -2);
  for (const e of content) {
    assert.deepEqual(Object.keys(e), ['response', 'p']);
    assert.match(e.p, /^[A-Za-z]+$/);
  }
  assert.ok(new Set(content.map((e) => e.p.length)).size > 1, 'the padding varies in length');
  assert.deepEqual(content.map((e) => e.response), pieces);
  return content.map((e) => e.response);
}

describe('Workers AI REST API', () => {
  test('a non-streamed run: the result in the v4 envelope, usage and a cf-ai-req-id', async () => {
    const r = await post(restPath(), { messages: MESSAGES });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    const id = r.headers.get('cf-ai-req-id');
    assert.match(id, UUID);
    const text = await r.text();
    assert.equal(text, JSON.stringify({ result: { response: ECHO, tool_calls: [], usage: USAGE }, success: true, errors: [], messages: [] }));

    // Deterministic: the same request gets the same bytes and id; the model may be percent-encoded.
    const again = await post(restPath(), { messages: MESSAGES });
    assert.equal(again.headers.get('cf-ai-req-id'), id);
    assert.equal(await again.text(), text);
    const encoded = await post(restPath(encodeURIComponent(MODEL)), { messages: MESSAGES });
    assert.equal(encoded.status, 200);
    assert.deepEqual((await encoded.json()).result, { response: ECHO, tool_calls: [], usage: USAGE });

    // A prompt is one user turn.
    const prompt = await (await post(restPath(), { prompt: HELLO })).json();
    assert.deepEqual(prompt.result.usage, { prompt_tokens: 2, completion_tokens: OUT_TOKENS, total_tokens: 2 + OUT_TOKENS });
    assert.equal(prompt.result.response, ECHO);

    assert.equal(llm.requests.at(-1).path, restPath());
    assert.equal(llm.requests.at(-1).headers.authorization, 'Bearer cf-test-token');
  });

  test('a stream: padded pieces that join to the answer, a usage event, then [DONE]', async () => {
    const r = await post(restPath(), { messages: MESSAGES, stream: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    assert.match(r.headers.get('cf-ai-req-id'), UUID);
    const events = sseData(await r.text());
    const pieces = assertTextStream(events, { usage: USAGE, pieces: splitPieces(ECHO, DEFAULT_CHUNKS) });
    assert.equal(pieces.join(''), ECHO);
    assert.equal(events.length, DEFAULT_CHUNKS + 2);
  });

  test('the stream switches: chunk count, filler, truncation, garbage, chunk delay', async () => {
    const three = sseData(await (await post(restPath(), { messages: MESSAGES, stream: true }, { 'x-mock-chunks': '3' })).text());
    assertTextStream(three, { usage: USAGE, pieces: splitPieces(ECHO, 3) });

    // More pieces than characters: filler words, and the non-streamed answer has the same.
    const long = answerText(HELLO, 40);
    const forty = sseData(await (await post(restPath(), { messages: MESSAGES, stream: true }, { 'x-mock-chunks': '40' })).text());
    assert.equal(assertTextStream(forty, { usage: { ...USAGE, completion_tokens: long.split(' ').length, total_tokens: IN_TOKENS + long.split(' ').length }, pieces: splitPieces(long, 40) }).join(''), long);
    const whole = await (await post(restPath(), { messages: MESSAGES }, { 'x-mock-chunks': '40' })).json();
    assert.equal(whole.result.response, long);

    // Truncated halfway, inside an event: no usage, no [DONE], the last event cut.
    const cut = await (await post(restPath(), { messages: MESSAGES, stream: true }, { 'x-mock-truncate': '1' })).text();
    assert.ok(!cut.includes('[DONE]') && !cut.includes('usage'));
    assert.ok(!cut.endsWith('\n\n'));
    assert.equal(cut.split('\n\n').length - 1, DEFAULT_CHUNKS / 2);

    // Garbage: one event, after the first piece, whose JSON is cut in half; the rest follows.
    const garbled = sseData(await (await post(restPath(), { messages: MESSAGES, stream: true }, { 'x-mock-garbage': '1' })).text());
    assert.equal(garbled.length, DEFAULT_CHUNKS + 3);
    assert.equal(typeof garbled[1], 'string');
    assert.ok(garbled[1].startsWith('{"response":"'));
    assertTextStream([garbled[0], ...garbled.slice(2)], { usage: USAGE, pieces: splitPieces(ECHO, DEFAULT_CHUNKS) });

    const t0 = Date.now();
    const slow = sseData(await (await post(restPath(), { messages: MESSAGES, stream: true }, { 'x-mock-chunk-delay-ms': '20', 'x-mock-chunks': '3' })).text());
    assert.ok(Date.now() - t0 >= 4 * 20 - 5, 'waits before each event after the first');
    assertTextStream(slow, { usage: USAGE, pieces: splitPieces(ECHO, 3) });
  });

  test('tools, in Workers AI\'s shape and in OpenAI\'s: the first tool is called, with arguments as an object', async () => {
    const usage = { prompt_tokens: IN_TOKENS, completion_tokens: TOOL_TOKENS, total_tokens: IN_TOKENS + TOOL_TOKENS };
    for (const tools of [TOOLS_WORKERS_AI, TOOLS_OPENAI]) {
      const r = await (await post(restPath(), { messages: MESSAGES, tools })).json();
      assert.deepEqual(r.result, { response: null, tool_calls: [{ name: 'get_weather', arguments: JSON.parse(TOOL_ARGUMENTS) }], usage });
    }
    // tool_choice names the tool; 'none' calls none.
    const chosen = await (await post(restPath(), { messages: MESSAGES, tools: TOOLS_OPENAI, tool_choice: { type: 'function', function: { name: 'get_time' } } })).json();
    assert.equal(chosen.result.tool_calls[0].name, 'get_time');
    const none = await (await post(restPath(), { messages: MESSAGES, tools: TOOLS_OPENAI, tool_choice: 'none' })).json();
    assert.deepEqual(none.result, { response: ECHO, tool_calls: [], usage: USAGE });

    // After the tool's result, the answer echoes it and calls no tool.
    const after = [...MESSAGES, { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }, { role: 'tool', name: 'get_weather', content: '{"temp":18}' }];
    const done = await (await post(restPath(), { messages: after, tools: TOOLS_WORKERS_AI })).json();
    assert.equal(done.result.response, 'Echo: {"temp":18}');
    assert.deepEqual(done.result.tool_calls, []);
  });

  test('a streamed tool call: OpenAI-style deltas in Workers AI\'s events, then usage and [DONE]', async () => {
    for (const tools of [TOOLS_WORKERS_AI, TOOLS_OPENAI]) {
      const r = await post(restPath(), { messages: MESSAGES, tools, stream: true }, { 'x-mock-chunks': '4' });
      assert.equal(r.headers.get('content-type'), 'text/event-stream');
      const events = sseData(await r.text());
      assert.equal(events.at(-1), '[DONE]');
      assert.deepEqual(events.at(-2), { response: '', usage: { prompt_tokens: IN_TOKENS, completion_tokens: TOOL_TOKENS, total_tokens: IN_TOKENS + TOOL_TOKENS } });
      const [start, ...deltas] = events.slice(0, -2);
      assert.match(start.p, /^[A-Za-z]+$/);
      assert.equal(start.response, '');
      assert.equal(start.tool_calls.length, 1);
      const { id, ...call } = start.tool_calls[0];
      assert.match(id, /^chatcmpl-tool-[0-9a-f]{32}$/);
      assert.deepEqual(call, { type: 'function', index: 0, function: { name: 'get_weather', arguments: '' } });
      assert.equal(deltas.length, 4);
      for (const d of deltas) {
        assert.deepEqual(Object.keys(d), ['response', 'tool_calls', 'p']);
        assert.equal(d.response, '');
        assert.deepEqual(Object.keys(d.tool_calls[0]), ['index', 'function']);
        assert.equal(d.tool_calls[0].index, 0);
      }
      assert.equal(deltas.map((d) => d.tool_calls[0].function.arguments).join(''), TOOL_ARGUMENTS);
    }
  });

  test('embeddings: shape, one vector per text, mean pooling', async () => {
    const one = await (await post(restPath(EMBED_MODEL), { text: HELLO })).json();
    assert.deepEqual(one.result, { shape: [1, EMBEDDING_DIMS], data: [embeddingOf(HELLO)], pooling: 'mean' });
    const two = await (await post(restPath('@cf/baai/bge-m3'), { text: ['a', 'b'] })).json();
    assert.deepEqual(two.result, { shape: [2, EMBEDDING_DIMS], data: [embeddingOf('a'), embeddingOf('b')], pooling: 'mean' });
    const norm = Math.hypot(...two.result.data[0]);
    assert.ok(Math.abs(norm - 1) < 1e-6);
    const bad = await post(restPath(EMBED_MODEL), { prompt: HELLO });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).errors[0].code, 5006);
  });

  test('errors in the envelope: 401 without a token, 400 bad input, 400 no such model, the status switch', async () => {
    const noAuth = await post(restPath(), { prompt: HELLO }, { authorization: '' });
    assert.equal(noAuth.status, 401);
    assert.equal(await noAuth.text(), '{"result":null,"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[]}');

    const both = await post(restPath(), { prompt: HELLO, messages: MESSAGES });
    assert.equal(both.status, 400);
    assert.match(both.headers.get('cf-ai-req-id'), UUID);
    const bothBody = await both.json();
    assert.deepEqual(Object.keys(bothBody), ['result', 'success', 'errors', 'messages']);
    assert.equal(bothBody.result, null);
    assert.equal(bothBody.success, false);
    assert.deepEqual(bothBody.messages, []);
    assert.equal(bothBody.errors.length, 1);
    assert.equal(bothBody.errors[0].code, 5006);
    assert.match(bothBody.errors[0].message, /^AiError: Bad input: /);

    const neither = await (await post(restPath(), { max_tokens: 10 })).json();
    assert.equal(neither.errors[0].code, 5006);
    assert.match(neither.errors[0].message, /^AiError: Bad input: .*'prompt'.*'messages'/);

    const unknown = await post(restPath('gpt-4o-mini'), { prompt: HELLO });
    assert.equal(unknown.status, 400);
    assert.equal(await unknown.text(), '{"result":null,"success":false,"errors":[{"code":5007,"message":"No such model gpt-4o-mini or task"}],"messages":[]}');

    const limited = await post(restPath(), { prompt: HELLO, stream: true }, { 'x-mock-status': '429', 'x-mock-retry-after': '3' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '3');
    assert.equal(limited.headers.get('content-type'), 'application/json');
    const limitedBody = await limited.json();
    assert.equal(limitedBody.success, false);
    assert.equal(limitedBody.errors[0].code, 3040);

    const notJson = await post(restPath(), '{"prompt":');
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).errors[0].code, 5006);
  });
});

describe('AI Gateway', () => {
  test('the native Workers AI path answers as the REST API does, with the gateway\'s headers', async () => {
    const r = await post(gatewayPath(), { messages: MESSAGES });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.match(r.headers.get('cf-ai-req-id'), UUID);
    assert.match(r.headers.get('cf-aig-log-id'), /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.deepEqual(await r.json(), { result: { response: ECHO, tool_calls: [], usage: USAGE }, success: true, errors: [], messages: [] });

    const events = sseData(await (await post(gatewayPath(encodeURIComponent(MODEL)), { messages: MESSAGES, stream: true })).text());
    assertTextStream(events, { usage: USAGE, pieces: splitPieces(ECHO, DEFAULT_CHUNKS) });

    const noAuth = await post(gatewayPath(), { prompt: HELLO }, { authorization: '' });
    assert.equal(noAuth.status, 401);
    assert.equal((await noAuth.json()).errors[0].code, 10000);
    const unknown = await (await post(gatewayPath('nope'), { prompt: HELLO })).json();
    assert.deepEqual(unknown.errors, [{ code: 5007, message: 'No such model nope or task' }]);
  });

  test('the OpenAI-compatible paths still answer as OpenAI\'s API', async () => {
    for (const path of ['/v1/abc123/my-gateway/workers-ai/v1/chat/completions', '/client/v4/accounts/abc123/ai/v1/chat/completions']) {
      const r = await post(path, { model: MODEL, messages: MESSAGES });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('x-request-id'), /^req_/);
      const body = await r.json();
      assert.equal(body.object, 'chat.completion');
      assert.equal(body.model, MODEL);
      assert.equal(body.choices[0].message.content, ECHO);
      assert.equal(body.usage.total_tokens, IN_TOKENS + OUT_TOKENS);
    }
    const stream = await (await post('/v1/abc123/my-gateway/workers-ai/v1/chat/completions', { model: MODEL, messages: MESSAGES, stream: true })).text();
    assert.ok(stream.includes('"object":"chat.completion.chunk"'));
    assert.ok(stream.endsWith('data: [DONE]\n\n'));
  });

  test('the health route lists the Workers AI routes', async () => {
    const { routes } = await (await fetch(`${llm.url}/health`)).json();
    for (const r of ['POST /client/v4/accounts/{account_id}/ai/run/{model}', 'POST /v1/{account_id}/{gateway_id}/workers-ai/{model}', 'POST /workers-binding/run', 'POST /workers-binding/ai-gateway/run']) {
      assert.ok(routes.includes(r), r);
    }
  });
});

describe('the Workers binding\'s backend', () => {
  const bindingPost = (body, model = MODEL, headers = {}) => post('/workers-binding/run?version=3', body, { authorization: '', 'cf-consn-model-id': model, 'cf-consn-sdk-version': '2.0.0', ...headers });

  test('the bare result as application/json (no charset), no credentials needed; errors as the binding reads them', async () => {
    const r = await bindingPost({ inputs: { messages: MESSAGES }, options: {} });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.match(r.headers.get('cf-ai-req-id'), UUID);
    assert.deepEqual(await r.json(), { response: ECHO, tool_calls: [], usage: USAGE });

    const both = await bindingPost({ inputs: { prompt: HELLO, messages: MESSAGES }, options: {} });
    assert.equal(both.status, 400);
    assert.equal(await both.text(), '{"internalCode":1001,"message":"InvalidInput: prompt and messages are mutually exclusive","name":"InvalidInput","description":"prompt and messages are mutually exclusive"}');
    const unknown = await bindingPost({ inputs: { prompt: HELLO }, options: {} }, 'llama');
    assert.equal(await unknown.text(), '{"internalCode":5007,"message":"AiError: No such model llama or task","name":"AiError","description":"No such model llama or task"}');
    const busy = await bindingPost({ inputs: { prompt: HELLO }, options: {} }, MODEL, { 'x-mock-status': '429' });
    assert.equal(busy.status, 429);
    assert.deepEqual(await busy.json(), { internalCode: 3040, message: 'OutOfCapacity: No more data centers to forward the request to', name: 'OutOfCapacity', description: 'No more data centers to forward the request to' });
  });
});

describe('workerd\'s own AI binding (cloudflare-internal:ai-api) against the mock', () => {
  let mf;
  before(async () => {
    const ai = aiBindingWorkers({ origin: llm.url });
    const script = `
      const MODEL = ${JSON.stringify(MODEL)};
      const MESSAGES = ${JSON.stringify(MESSAGES)};
      const TOOLS = ${JSON.stringify(TOOLS_WORKERS_AI)};
      const caught = async (f) => { try { await f(); return null; } catch (e) { return { name: e.name, message: e.message }; } };
      export default {
        async fetch(req, env) {
          const { pathname } = new URL(req.url);
          const ai = env.AI;
          const state = () => ({ id: ai.lastRequestId, logId: ai.aiGatewayLogId, status: ai.lastRequestHttpStatusCode, internal: ai.lastRequestInternalStatusCode });
          if (pathname === '/run') {
            const out = await ai.run(MODEL, { messages: MESSAGES });
            return Response.json({ out, ...state() });
          }
          if (pathname === '/stream') {
            const s = await ai.run(MODEL, { messages: MESSAGES, stream: true });
            return new Response(s, { headers: { 'x-is-stream': String(s instanceof ReadableStream), 'x-req-id': ai.lastRequestId } });
          }
          if (pathname === '/tools') return Response.json({ out: await ai.run(MODEL, { messages: MESSAGES, tools: TOOLS }) });
          if (pathname === '/embed') return Response.json({ out: await ai.run(${JSON.stringify(EMBED_MODEL)}, { text: ['a', 'b'] }) });
          if (pathname === '/gateway') {
            const out = await ai.run(MODEL, { prompt: 'Hello there' }, { gateway: { id: 'my-gateway' } });
            return Response.json({ out, ...state() });
          }
          if (pathname === '/bad') {
            const error = await caught(() => ai.run(MODEL, { prompt: 'Hello there', messages: MESSAGES }));
            return Response.json({ error, ...state() });
          }
          if (pathname === '/switches') {
            const s = await ai.run(MODEL, { messages: MESSAGES, stream: true }, { extraHeaders: { 'x-mock-chunks': '3' } });
            const text = await new Response(s).text();
            const error = await caught(() => ai.run(MODEL, { messages: MESSAGES }, { extraHeaders: { 'x-mock-status': '429' } }));
            return Response.json({ text, error, ...state() });
          }
          if (pathname === '/unknown') return Response.json({ error: await caught(() => ai.run('gpt-4o-mini', { prompt: 'Hello there' })), ...state() });
          return new Response('no such test', { status: 404 });
        },
      };`;
    mf = new Miniflare({
      cf: false,
      workers: [
        { name: 'main', modules: true, compatibilityDate: '2025-04-01', compatibilityFlags: ['nodejs_compat'], script, wrappedBindings: ai.wrappedBindings },
        ai.worker,
      ],
    });
    await mf.ready;
  });
  after(() => mf?.dispose());

  /** The cf-ai-req-id the mock sends for the binding's last request (the same request gets the same id). */
  async function idOfLastRequest() {
    const last = llm.requests.at(-1);
    const again = await fetch(`${llm.url}${last.path}?${new URLSearchParams(last.query)}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'cf-consn-model-id': last.headers['cf-consn-model-id'] }, body: last.rawBody,
    });
    await again.arrayBuffer();
    return again.headers.get('cf-ai-req-id');
  }

  test('run() gives the result object, no envelope; the request is what workerd sends; lastRequestId is cf-ai-req-id', async () => {
    const r = await (await mf.dispatchFetch('http://worker/run')).json();
    assert.deepEqual(r.out, { response: ECHO, tool_calls: [], usage: USAGE });
    assert.equal(r.status, 200);
    assert.match(r.id, UUID);
    assert.equal(r.logId, null);

    assert.equal(llm.requests.length, 1);
    const sent = llm.requests[0];
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, '/workers-binding/run');
    assert.deepEqual(sent.query, { version: '3' });
    assert.equal(sent.headers['content-type'], 'application/json');
    assert.equal(sent.headers['cf-consn-model-id'], MODEL);
    assert.equal(sent.headers['cf-consn-sdk-version'], '2.0.0');
    assert.deepEqual(sent.body, { inputs: { messages: MESSAGES }, options: {} });
    assert.equal(r.id, await idOfLastRequest());
  });

  test('stream: true gives a ReadableStream of the SSE: the pieces, the usage, [DONE]', async () => {
    const res = await mf.dispatchFetch('http://worker/stream');
    assert.equal(res.headers.get('x-is-stream'), 'true');
    const events = sseData(await res.text());
    const pieces = assertTextStream(events, { usage: USAGE, pieces: splitPieces(ECHO, DEFAULT_CHUNKS) });
    assert.equal(pieces.join(''), ECHO);
    assert.deepEqual(llm.requests.at(-1).body.inputs, { messages: MESSAGES, stream: true });
    assert.equal(res.headers.get('x-req-id'), await idOfLastRequest());
  });

  test('tools and embeddings through the binding', async () => {
    const tools = await (await mf.dispatchFetch('http://worker/tools')).json();
    assert.deepEqual(tools.out, { response: null, tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], usage: { prompt_tokens: IN_TOKENS, completion_tokens: TOOL_TOKENS, total_tokens: IN_TOKENS + TOOL_TOKENS } });
    const embed = await (await mf.dispatchFetch('http://worker/embed')).json();
    assert.deepEqual(embed.out, { shape: [2, EMBEDDING_DIMS], data: [embeddingOf('a'), embeddingOf('b')], pooling: 'mean' });
  });

  test('options.gateway goes to /ai-gateway/run, with the gateway\'s log id', async () => {
    const r = await (await mf.dispatchFetch('http://worker/gateway')).json();
    assert.equal(r.out.response, ECHO);
    assert.equal(llm.requests.at(-1).path, '/workers-binding/ai-gateway/run');
    assert.deepEqual(llm.requests.at(-1).body, { inputs: { prompt: HELLO }, options: { gateway: { id: 'my-gateway' } } });
    assert.match(r.logId, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(r.id, await idOfLastRequest());
  });

  test('the x-mock-* switches go through run()\'s extraHeaders', async () => {
    const r = await (await mf.dispatchFetch('http://worker/switches')).json();
    assertTextStream(sseData(r.text), { usage: USAGE, pieces: splitPieces(ECHO, 3) });
    assert.deepEqual(r.error, { name: 'OutOfCapacity', message: '3040: No more data centers to forward the request to' });
    assert.equal(r.status, 429);
    assert.equal(llm.requests.at(-1).headers['x-mock-status'], '429');
    assert.deepEqual(llm.requests.at(-1).body, { inputs: { messages: MESSAGES }, options: {} });
  });

  test('a bad input throws InvalidInput "1001: …"; an unknown model AiError "5007: …"', async () => {
    const bad = await (await mf.dispatchFetch('http://worker/bad')).json();
    assert.deepEqual(bad.error, { name: 'InvalidInput', message: '1001: prompt and messages are mutually exclusive' });
    assert.equal(bad.status, 400);
    assert.equal(bad.internal, 1001);
    assert.match(bad.id, UUID);

    const unknown = await (await mf.dispatchFetch('http://worker/unknown')).json();
    assert.deepEqual(unknown.error, { name: 'AiError', message: '5007: No such model gpt-4o-mini or task' });
    assert.equal(unknown.internal, 5007);
  });
});
