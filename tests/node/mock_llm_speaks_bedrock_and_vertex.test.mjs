// mock-llm/server.mjs also stands in for Amazon Bedrock Runtime (Converse, ConverseStream, InvokeModel,
// InvokeModelWithResponseStream) and for Claude on Google Vertex AI (rawPredict, streamRawPredict). The
// official SDKs must read its answers as they read the real services': the AWS SDK's JSON and binary
// event streams (over its default HTTP/2 handler and over fetch), its modeled exceptions, and the
// Anthropic Bedrock and Vertex SDKs' messages, streams and errors. No tracing is involved here.
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InvokeModelCommand, InvokeModelWithResponseStreamCommand,
  ModelStreamErrorException, ThrottlingException, ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { DEFAULT_CHUNKS, TOOL_ARGUMENTS, answerText, splitPieces, startMockLlm } from '../../mock-llm/server.mjs';

let llm;
before(async () => {
  llm = await startMockLlm();
});
after(() => llm.close());
beforeEach(() => {
  llm.requests.length = 0;
});

// The mock's answers, worked out here rather than asked of it: it echoes the last user turn, and
// counts whitespace-separated words as tokens.
const HELLO = 'Hello there';
const ECHO = 'Echo: Hello there'; // 17 characters: more than 8 stream pieces, so no filler
const IN_TOKENS = 4; // 'Be brief.' + 'Hello there'
const OUT_TOKENS = 3; // 'Echo: Hello there'
const TOOL_TOKENS = 2; // 'get_weather {"city":"Paris"}'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const CLAUDE_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const LLAMA_ID = 'meta.llama3-8b-instruct-v1:0';
const LLAMA_PROMPT = '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>'
  + `<|start_header_id|>user<|end_header_id|>\n\n${HELLO}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
const LLAMA_PROMPT_TOKENS = 5; // Llama 3's header tokens stick to the words beside them
const CONVERSE = { modelId: CLAUDE_ID, system: [{ text: 'Be brief.' }], messages: [{ role: 'user', content: [{ text: HELLO }] }], inferenceConfig: { maxTokens: 256 } };
const TOOL_CONFIG = {
  tools: [
    { toolSpec: { name: 'get_weather', description: 'Weather in a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } },
    { toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object', properties: {} } } } },
  ],
};
const CLAUDE_BODY = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: HELLO }] };
const CLAUDE_TOOLS = [{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

const utf8 = (bytes) => new TextDecoder().decode(bytes);

/** A Bedrock Runtime client on the mock; `headers` go on every request (the x-mock-* switches). */
function bedrockClient(handler, headers = {}) {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1', endpoint: llm.url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, maxAttempts: 1,
    ...(handler ? { requestHandler: handler() } : {}),
  });
  client.middlewareStack.add((next) => (args) => {
    Object.assign(args.request.headers, headers);
    return next(args);
  }, { step: 'build', name: 'mockSwitches' });
  return client;
}

/** Collects a ConverseStream: the events' names, the text, the tool input, the stop reason and the metadata. */
async function collectConverse(stream) {
  const out = { names: [], text: '', textDeltas: 0, toolInput: '', toolStart: null, stopReason: null, metadata: null };
  for await (const e of stream) {
    const [name] = Object.keys(e);
    out.names.push(name);
    if (e.contentBlockDelta?.delta?.text !== undefined) {
      out.text += e.contentBlockDelta.delta.text;
      out.textDeltas++;
    }
    if (e.contentBlockDelta?.delta?.toolUse) out.toolInput += e.contentBlockDelta.delta.toolUse.input;
    if (e.contentBlockStart) out.toolStart = e.contentBlockStart;
    if (e.messageStop) out.stopReason = e.messageStop.stopReason;
    if (e.metadata) out.metadata = e.metadata;
  }
  return out;
}

/** The JSON events of an InvokeModelWithResponseStream body. */
async function collectChunks(body) {
  const events = [];
  for await (const e of body) events.push(JSON.parse(utf8(e.chunk.bytes)));
  return events;
}

// The AWS SDK's default handler in Node is HTTP/2 (NodeHttp2Handler); in browsers and workers, and when
// told, it is FetchHttpHandler, which calls the global fetch with one Request object.
const HANDLERS = [
  { name: 'the default HTTP/2 handler', handler: undefined, viaFetch: false },
  { name: 'FetchHttpHandler (the global fetch)', handler: () => new FetchHttpHandler(), viaFetch: true },
];

for (const { name, handler, viaFetch } of HANDLERS) {
  describe(`Bedrock Runtime with the AWS SDK, over ${name}`, () => {
    let fetchCalls;
    let realFetch;
    beforeEach(() => {
      fetchCalls = [];
      realFetch = globalThis.fetch;
      globalThis.fetch = (...args) => {
        fetchCalls.push(args);
        return realFetch(...args);
      };
    });
    afterEach(() => {
      globalThis.fetch = realFetch;
    });

    /** The request went over the handler said: as one Request through fetch, or as HTTP/2 outside it. */
    function assertTransport(path) {
      const r = llm.requests.at(-1);
      assert.equal(r.path, path);
      assert.match(r.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, /);
      if (viaFetch) {
        assert.equal(fetchCalls.length, llm.requests.length);
        assert.equal(fetchCalls.at(-1).length, 1);
        assert.ok(fetchCalls.at(-1)[0] instanceof Request);
        assert.equal(fetchCalls.at(-1)[0].url, `${llm.url}${path}`);
        assert.equal(r.headers[':method'], undefined);
      } else {
        assert.equal(fetchCalls.length, 0);
        assert.equal(r.headers[':method'], 'POST'); // HTTP/2's pseudo-headers
      }
    }

    test('Converse: the text, the end_turn stop, the usage and a request id', async () => {
      const r = await bedrockClient(handler).send(new ConverseCommand(CONVERSE));
      assert.deepEqual(r.output, { message: { role: 'assistant', content: [{ text: ECHO }] } });
      assert.equal(r.stopReason, 'end_turn');
      assert.deepEqual(r.usage, { inputTokens: IN_TOKENS, outputTokens: OUT_TOKENS, totalTokens: IN_TOKENS + OUT_TOKENS });
      assert.equal(typeof r.metrics.latencyMs, 'number');
      assert.match(r.$metadata.requestId, UUID);
      assert.equal(r.$metadata.httpStatusCode, 200);
      assertTransport('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse');
      const { modelId, ...body } = CONVERSE;
      assert.deepEqual(llm.requests.at(-1).body, body);
    });

    test('Converse with tools: a toolUse block with the arguments, and the tool_use stop', async () => {
      const r = await bedrockClient(handler).send(new ConverseCommand({ ...CONVERSE, toolConfig: TOOL_CONFIG }));
      const [text, use] = r.output.message.content;
      assert.deepEqual(text, { text: ECHO });
      assert.equal(use.toolUse.name, 'get_weather');
      assert.deepEqual(use.toolUse.input, { city: 'Paris' });
      assert.match(use.toolUse.toolUseId, /^tooluse_[A-Za-z0-9]{22}$/);
      assert.equal(r.stopReason, 'tool_use');
      assert.equal(r.usage.outputTokens, OUT_TOKENS + TOOL_TOKENS);

      // The tool named by toolChoice is the one called.
      const chosen = await bedrockClient(handler).send(new ConverseCommand({ ...CONVERSE, toolConfig: { ...TOOL_CONFIG, toolChoice: { tool: { name: 'get_time' } } } }));
      assert.equal(chosen.output.message.content[1].toolUse.name, 'get_time');
    });

    test('Converse after a tool result: the answer echoes the result and calls no tool', async () => {
      const messages = [
        { role: 'user', content: [{ text: HELLO }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ json: { temp: 18 } }] } }] },
      ];
      const r = await bedrockClient(handler).send(new ConverseCommand({ modelId: CLAUDE_ID, messages, toolConfig: TOOL_CONFIG }));
      assert.deepEqual(r.output.message.content, [{ text: 'Echo: {"temp":18}' }]);
      assert.equal(r.stopReason, 'end_turn');
    });

    test('ConverseStream: the same text as Converse, in pieces; tool input pieces; metadata last', async () => {
      const whole = await bedrockClient(handler).send(new ConverseCommand({ ...CONVERSE, toolConfig: TOOL_CONFIG }));
      const r = await bedrockClient(handler).send(new ConverseStreamCommand({ ...CONVERSE, toolConfig: TOOL_CONFIG }));
      assert.match(r.$metadata.requestId, UUID);
      const s = await collectConverse(r.stream);
      assertTransport('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream');
      assert.equal(s.text, whole.output.message.content[0].text);
      assert.equal(s.text, ECHO);
      assert.equal(s.textDeltas, DEFAULT_CHUNKS);
      assert.equal(s.toolInput, TOOL_ARGUMENTS);
      assert.equal(s.toolStart.contentBlockIndex, 1);
      assert.equal(s.toolStart.start.toolUse.name, 'get_weather');
      assert.match(s.toolStart.start.toolUse.toolUseId, /^tooluse_[A-Za-z0-9]{22}$/);
      assert.equal(s.stopReason, 'tool_use');
      assert.deepEqual(s.metadata.usage, { inputTokens: IN_TOKENS, outputTokens: OUT_TOKENS + TOOL_TOKENS, totalTokens: IN_TOKENS + OUT_TOKENS + TOOL_TOKENS });
      assert.equal(typeof s.metadata.metrics.latencyMs, 'number');
      assert.deepEqual(s.names, [
        'messageStart', ...Array(DEFAULT_CHUNKS).fill('contentBlockDelta'), 'contentBlockStop',
        'contentBlockStart', ...Array(DEFAULT_CHUNKS).fill('contentBlockDelta'), 'contentBlockStop', 'messageStop', 'metadata',
      ]);
    });

    test('ConverseStream honours x-mock-chunks', async () => {
      const r = await bedrockClient(handler, { 'x-mock-chunks': '3' }).send(new ConverseStreamCommand(CONVERSE));
      const s = await collectConverse(r.stream);
      assert.equal(s.textDeltas, 3);
      assert.equal(s.text, ECHO);
      assert.equal(s.stopReason, 'end_turn');
    });

    test('x-mock-stream-exception ends the stream with that modeled exception, halfway through', async () => {
      const r = await bedrockClient(handler, { 'x-mock-stream-exception': 'throttlingException' }).send(new ConverseStreamCommand(CONVERSE));
      let text = '';
      await assert.rejects(async () => {
        for await (const e of r.stream) text += e.contentBlockDelta?.delta?.text ?? '';
      }, (err) => err instanceof ThrottlingException && err.name === 'ThrottlingException' && /Too many requests/.test(err.message));
      assert.equal(text, splitPieces(ECHO, DEFAULT_CHUNKS).slice(0, DEFAULT_CHUNKS / 2).join(''));

      const llama = await bedrockClient(handler, { 'x-mock-stream-exception': 'modelStreamErrorException' })
        .send(new InvokeModelWithResponseStreamCommand({ modelId: LLAMA_ID, body: JSON.stringify({ prompt: LLAMA_PROMPT }) }));
      await assert.rejects(() => collectChunks(llama.body), (err) => err instanceof ModelStreamErrorException);
    });

    test('x-mock-truncate cuts an event stream message: the SDK reports a truncated message', async () => {
      const r = await bedrockClient(handler, { 'x-mock-truncate': '1' }).send(new ConverseStreamCommand(CONVERSE));
      await assert.rejects(() => collectConverse(r.stream), /Truncated event message received/);
    });

    test('errors are AWS errors: x-mock-status and validation become the modeled exceptions', async () => {
      const expected = { 400: 'ValidationException', 403: 'AccessDeniedException', 404: 'ResourceNotFoundException', 429: 'ThrottlingException', 500: 'InternalServerException', 503: 'ServiceUnavailableException' };
      for (const [status, exception] of Object.entries(expected)) {
        await assert.rejects(() => bedrockClient(handler, { 'x-mock-status': status }).send(new ConverseCommand(CONVERSE)), (err) => {
          assert.equal(err.name, exception);
          assert.equal(err.$metadata.httpStatusCode, Number(status));
          assert.match(err.$metadata.requestId, UUID);
          return true;
        });
      }
      await assert.rejects(() => bedrockClient(handler).send(new ConverseCommand({ modelId: CLAUDE_ID, messages: [] })),
        (err) => err instanceof ValidationException && /must start with a user message/.test(err.message));
      await assert.rejects(() => bedrockClient(handler).send(new InvokeModelCommand({ modelId: CLAUDE_ID, body: JSON.stringify({ max_tokens: 10, messages: [] }) })),
        (err) => err instanceof ValidationException && err.message === 'Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.');
    });

    test('InvokeModel, Claude: the Anthropic message Bedrock returns, naming the model without its Bedrock prefix and version', async () => {
      const r = await bedrockClient(handler).send(new InvokeModelCommand({ modelId: CLAUDE_ID, contentType: 'application/json', body: JSON.stringify({ ...CLAUDE_BODY, tools: CLAUDE_TOOLS }) }));
      assert.equal(r.contentType, 'application/json');
      const m = JSON.parse(utf8(r.body));
      assert.deepEqual(Object.keys(m), ['model', 'id', 'type', 'role', 'content', 'stop_reason', 'stop_sequence', 'usage']);
      assert.equal(m.model, 'claude-3-5-haiku-20241022');
      assert.match(m.id, /^msg_bdrk_01[A-Za-z0-9]{22}$/);
      assert.deepEqual(m.content[0], { type: 'text', text: ECHO });
      assert.equal(m.content[1].type, 'tool_use');
      assert.match(m.content[1].id, /^toolu_bdrk_01[A-Za-z0-9]{22}$/);
      assert.deepEqual(m.content[1].input, { city: 'Paris' });
      assert.equal(m.stop_reason, 'tool_use');
      assert.equal(m.usage.input_tokens, IN_TOKENS);
      assert.equal(m.usage.output_tokens, OUT_TOKENS + TOOL_TOKENS);
      assert.equal(m.usage.service_tier, undefined);
      assertTransport('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke');

      // A cross-region inference profile names the same model.
      const p = await bedrockClient(handler).send(new InvokeModelCommand({ modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', body: JSON.stringify(CLAUDE_BODY) }));
      assert.equal(JSON.parse(utf8(p.body)).model, 'claude-sonnet-4-20250514');
    });

    test('InvokeModel, Llama: the generation and its counts', async () => {
      const r = await bedrockClient(handler).send(new InvokeModelCommand({ modelId: LLAMA_ID, body: JSON.stringify({ prompt: LLAMA_PROMPT, max_gen_len: 128, temperature: 0.5 }) }));
      assert.deepEqual(JSON.parse(utf8(r.body)), { generation: ECHO, prompt_token_count: LLAMA_PROMPT_TOKENS, generation_token_count: OUT_TOKENS, stop_reason: 'stop' });
      assertTransport('/model/meta.llama3-8b-instruct-v1%3A0/invoke');
    });

    test('InvokeModelWithResponseStream, Claude: Anthropic stream events without ping, metrics on message_stop', async () => {
      const r = await bedrockClient(handler).send(new InvokeModelWithResponseStreamCommand({ modelId: CLAUDE_ID, body: JSON.stringify(CLAUDE_BODY) }));
      assert.equal(r.contentType, 'application/json');
      const events = await collectChunks(r.body);
      assertTransport('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke-with-response-stream');
      assert.deepEqual(events.map((e) => e.type), [
        'message_start', 'content_block_start', ...Array(DEFAULT_CHUNKS).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop',
      ]);
      assert.equal(events[0].message.model, 'claude-3-5-haiku-20241022');
      assert.match(events[0].message.id, /^msg_bdrk_01/);
      assert.equal(events[0].message.usage.input_tokens, IN_TOKENS);
      assert.equal(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join(''), ECHO);
      assert.deepEqual(events.at(-2).usage, { output_tokens: OUT_TOKENS });
      const metrics = events.at(-1)['amazon-bedrock-invocationMetrics'];
      assert.equal(metrics.inputTokenCount, IN_TOKENS);
      assert.equal(metrics.outputTokenCount, OUT_TOKENS);
      assert.equal(typeof metrics.invocationLatency, 'number');
      assert.equal(typeof metrics.firstByteLatency, 'number');
    });

    test('InvokeModelWithResponseStream, Llama: generation pieces, then the stop with the metrics', async () => {
      const r = await bedrockClient(handler).send(new InvokeModelWithResponseStreamCommand({ modelId: LLAMA_ID, body: JSON.stringify({ prompt: LLAMA_PROMPT }) }));
      const events = await collectChunks(r.body);
      assert.equal(events.length, DEFAULT_CHUNKS + 1);
      assert.equal(events.map((e) => e.generation).join(''), ECHO);
      assert.equal(events[0].prompt_token_count, LLAMA_PROMPT_TOKENS);
      assert.ok(events.slice(1).every((e) => e.prompt_token_count === null));
      assert.ok(events.slice(0, -1).every((e) => e.stop_reason === null));
      const last = events.at(-1);
      assert.equal(last.stop_reason, 'stop');
      assert.equal(last.generation_token_count, OUT_TOKENS);
      assert.deepEqual(
        [last['amazon-bedrock-invocationMetrics'].inputTokenCount, last['amazon-bedrock-invocationMetrics'].outputTokenCount],
        [LLAMA_PROMPT_TOKENS, OUT_TOKENS],
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The bytes themselves, read here without any SDK
// ---------------------------------------------------------------------------------------------

/** Splits an AWS event stream body into messages, checking both CRCs; header values are strings (type 7). */
function decodeEventStream(buf) {
  const messages = [];
  let at = 0;
  while (at < buf.length) {
    const total = buf.readUInt32BE(at);
    const headersLength = buf.readUInt32BE(at + 4);
    assert.equal(buf.readUInt32BE(at + 8), crc32(buf.subarray(at, at + 8)), 'prelude CRC');
    assert.equal(buf.readUInt32BE(at + total - 4), crc32(buf.subarray(at, at + total - 4)), 'message CRC');
    const headers = {};
    let h = at + 12;
    while (h < at + 12 + headersLength) {
      const nameLength = buf[h];
      const key = buf.toString('utf8', h + 1, h + 1 + nameLength);
      assert.equal(buf[h + 1 + nameLength], 7, 'a string header');
      const valueLength = buf.readUInt16BE(h + 2 + nameLength);
      headers[key] = buf.toString('utf8', h + 4 + nameLength, h + 4 + nameLength + valueLength);
      h += 4 + nameLength + valueLength;
    }
    messages.push({ headers, payload: buf.toString('utf8', at + 12 + headersLength, at + total - 4) });
    at += total;
  }
  return messages;
}

const post = (path, body, headers = {}) =>
  fetch(`${llm.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('Bedrock on the wire', () => {
  test('ConverseStream messages carry :event-type, :content-type and :message-type, and a "p" padding in sorted JSON', async () => {
    const { modelId, ...body } = CONVERSE;
    const res = await post('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream', body);
    assert.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream');
    assert.match(res.headers.get('x-amzn-requestid'), UUID);
    const messages = decodeEventStream(Buffer.from(await res.arrayBuffer()));
    assert.equal(messages.length, DEFAULT_CHUNKS + 4);
    for (const m of messages) {
      assert.deepEqual(Object.keys(m.headers), [':event-type', ':content-type', ':message-type']);
      assert.equal(m.headers[':content-type'], 'application/json');
      assert.equal(m.headers[':message-type'], 'event');
      const payload = JSON.parse(m.payload);
      assert.match(payload.p, /^[A-Za-z0-9]+$/);
      assert.deepEqual(Object.keys(payload), Object.keys(payload).sort());
    }
    assert.equal(new Set(messages.map((m) => JSON.parse(m.payload).p.length)).size > 1, true, 'the padding varies in length');
    assert.equal(messages[0].headers[':event-type'], 'messageStart');
    assert.equal(messages[0].payload.replace(/"p":"[A-Za-z0-9]+"/, '"p":""'), '{"p":"","role":"assistant"}');
    assert.equal(messages.at(-1).headers[':event-type'], 'metadata');
  });

  test('an exception message has :exception-type and ends the body', async () => {
    const { modelId, ...body } = CONVERSE;
    const res = await post('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream', body, { 'x-mock-stream-exception': 'throttlingException' });
    const messages = decodeEventStream(Buffer.from(await res.arrayBuffer()));
    assert.equal(messages.length, 1 + DEFAULT_CHUNKS / 2 + 1);
    assert.deepEqual(messages.at(-1).headers, { ':exception-type': 'throttlingException', ':content-type': 'application/json', ':message-type': 'exception' });
    assert.equal(typeof JSON.parse(messages.at(-1).payload).message, 'string');
  });

  test('InvokeModelWithResponseStream chunks are {"bytes": base64 of one event, "p": padding}', async () => {
    const res = await post(`/model/${encodeURIComponent(CLAUDE_ID)}/invoke-with-response-stream`, CLAUDE_BODY);
    assert.equal(res.headers.get('x-amzn-bedrock-content-type'), 'application/json');
    const messages = decodeEventStream(Buffer.from(await res.arrayBuffer()));
    for (const m of messages) {
      assert.equal(m.headers[':event-type'], 'chunk');
      const payload = JSON.parse(m.payload);
      assert.deepEqual(Object.keys(payload), ['bytes', 'p']);
      assert.equal(typeof JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8')).type, 'string');
    }
  });

  test('InvokeModel sends the token counts and latency as headers; errors name their type in x-amzn-errortype', async () => {
    const res = await post(`/model/${encodeURIComponent(LLAMA_ID)}/invoke`, { prompt: LLAMA_PROMPT });
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-amzn-bedrock-input-token-count'), String(LLAMA_PROMPT_TOKENS));
    assert.equal(res.headers.get('x-amzn-bedrock-output-token-count'), String(OUT_TOKENS));
    assert.match(res.headers.get('x-amzn-bedrock-invocation-latency'), /^\d+$/);
    assert.match(res.headers.get('x-amzn-requestid'), UUID);

    const bad = await post('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse', { messages: [] });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-amzn-errortype'), 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/');
    assert.deepEqual(Object.keys(await bad.json()), ['message']);
    const throttled = await post('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke', CLAUDE_BODY, { 'x-mock-status': '429' });
    assert.equal(throttled.status, 429);
    assert.match(throttled.headers.get('x-amzn-errortype'), /^ThrottlingException:/);
    assert.match(throttled.headers.get('x-amzn-requestid'), UUID);
  });
});

// ---------------------------------------------------------------------------------------------
// @anthropic-ai/bedrock-sdk and @anthropic-ai/vertex-sdk
// ---------------------------------------------------------------------------------------------

describe('Claude on Bedrock with @anthropic-ai/bedrock-sdk', () => {
  const client = (opts = {}) => new AnthropicBedrock({ awsRegion: 'us-east-1', awsAccessKey: 'AKIDEXAMPLE', awsSecretKey: 'secret', baseURL: llm.url, maxRetries: 0, ...opts });
  const PARAMS = { model: CLAUDE_ID, max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: HELLO }] };

  test('messages.create goes to /model/{id}/invoke, signed, the model and stream moved out of the body', async () => {
    const m = await client().messages.create(PARAMS);
    assert.match(m.id, /^msg_bdrk_01[A-Za-z0-9]{22}$/);
    assert.equal(m.model, 'claude-3-5-haiku-20241022');
    assert.deepEqual(m.content, [{ type: 'text', text: ECHO }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.usage.input_tokens, IN_TOKENS);
    assert.equal(m.usage.output_tokens, OUT_TOKENS);
    const r = llm.requests.at(-1);
    assert.equal(r.path, '/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke');
    assert.match(r.headers.authorization, /^AWS4-HMAC-SHA256 /);
    assert.equal(r.headers['anthropic-version'], undefined);
    assert.equal(typeof r.body.anthropic_version, 'string');
    assert.equal('model' in r.body, false);
    assert.equal('stream' in r.body, false);
  });

  test('stream: true reads the event stream as Anthropic events; a tool call assembles', async () => {
    const stream = await client().messages.create({ ...PARAMS, model: 'us.anthropic.claude-sonnet-4-20250514-v1:0', stream: true });
    const types = [];
    let text = '';
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'content_block_delta') text += e.delta.text;
      if (e.type === 'message_start') assert.equal(e.message.model, 'claude-sonnet-4-20250514');
    }
    assert.equal(text, ECHO);
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.equal(llm.requests.at(-1).path, '/model/us.anthropic.claude-sonnet-4-20250514-v1:0/invoke-with-response-stream');

    const final = await client().messages.stream({ ...PARAMS, tools: CLAUDE_TOOLS }).finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.deepEqual(final.content[1].input, { city: 'Paris' });
    assert.match(final.content[1].id, /^toolu_bdrk_01/);
    assert.equal(final.usage.output_tokens, OUT_TOKENS + TOOL_TOKENS);
  });

  test('errors: an AWS error status becomes the SDK error class; a stream exception an error event', async () => {
    await assert.rejects(() => client().messages.create(PARAMS, { headers: { 'x-mock-status': '429' } }), (err) => {
      assert.equal(err.constructor.name, 'RateLimitError');
      assert.equal(err.status, 429);
      assert.match(err.message, /Too many requests/);
      return true;
    });
    const stream = await client().messages.create({ ...PARAMS, stream: true }, { headers: { 'x-mock-stream-exception': 'throttlingException' } });
    await assert.rejects(async () => {
      for await (const e of stream) void e;
    }, (err) => err.error?.error?.type === 'throttlingException');
  });
});

describe('Claude on Vertex AI with @anthropic-ai/vertex-sdk', () => {
  // An auth client stands in for Google's: the SDK asks it for headers, and would otherwise look for
  // Application Default Credentials.
  const authClient = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer ya29.mock-token' }) };
  const client = (opts = {}) => new AnthropicVertex({ region: 'us-east5', projectId: 'my-project', baseURL: `${llm.url}/v1`, authClient, maxRetries: 0, ...opts });
  const PARAMS = { model: 'claude-sonnet-4@20250514', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: HELLO }] };
  const BASE = '/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514';

  test('messages.create goes to :rawPredict; the answer names the model with - for @', async () => {
    const m = await client().messages.create(PARAMS);
    assert.match(m.id, /^msg_vrtx_01[A-Za-z0-9]{22}$/);
    assert.equal(m.model, 'claude-sonnet-4-20250514');
    assert.deepEqual(m.content, [{ type: 'text', text: ECHO }]);
    assert.equal(m.usage.input_tokens, IN_TOKENS);
    assert.match(m._request_id, /^req_vrtx_011C[A-Za-z0-9]{20}$/);
    const r = llm.requests.at(-1);
    assert.equal(r.path, `${BASE}:rawPredict`);
    assert.equal(r.headers.authorization, 'Bearer ya29.mock-token');
    assert.equal(typeof r.body.anthropic_version, 'string');
    assert.equal('model' in r.body, false);
  });

  test('stream: true goes to :streamRawPredict and reads as SSE; tools assemble', async () => {
    const stream = await client().messages.create({ ...PARAMS, stream: true });
    let text = '';
    for await (const e of stream) if (e.type === 'content_block_delta') text += e.delta.text;
    assert.equal(text, ECHO);
    assert.equal(llm.requests.at(-1).path, `${BASE}:streamRawPredict`);

    const final = await client().messages.stream({ ...PARAMS, tools: CLAUDE_TOOLS }).finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.deepEqual(final.content[1].input, { city: 'Paris' });
    assert.match(final.content[1].id, /^toolu_vrtx_01/);
  });

  test('errors are Anthropic errors; count_tokens goes to count-tokens:rawPredict', async () => {
    await assert.rejects(() => client().messages.create(PARAMS, { headers: { 'x-mock-status': '429' } }), (err) => {
      assert.equal(err.status, 429);
      assert.equal(err.error.error.type, 'rate_limit_error');
      return true;
    });
    const counted = await client().messages.countTokens({ model: 'claude-sonnet-4@20250514', messages: [{ role: 'user', content: HELLO }] });
    assert.equal(counted.input_tokens, 2);
    assert.equal(llm.requests.at(-1).path, '/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict');
  });
});

test('the health route lists the Bedrock and Vertex routes', async () => {
  const { routes } = await (await fetch(`${llm.url}/health`)).json();
  for (const r of ['POST /model/{modelId}/converse', 'POST /model/{modelId}/converse-stream', 'POST /model/{modelId}/invoke', 'POST /model/{modelId}/invoke-with-response-stream']) assert.ok(routes.includes(r), r);
  assert.ok(routes.some((r) => r.endsWith(':streamRawPredict')));
});

test('answerText agrees with the constants above', () => {
  assert.equal(answerText(HELLO), ECHO);
});
