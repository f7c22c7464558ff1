// MCP tool calls made with the official TypeScript SDK's client (StreamableHTTPClientTransport,
// given traceFetch as its fetch) to a real MCP server (the SDK's own, tests/node/helpers/
// mcp-server.mjs), answered as SSE streams and as JSON: each `tools/call` is a TOOL span named
// `tools/call <tool>`, under the span that made it, with the tool's arguments for inputs and its
// result, as the client got it, for outputs; the session's other requests (initialize,
// notifications, tools/list) are no spans. A tool's failure (`isError`), a JSON-RPC error and an
// HTTP error are the span's error. The AI SDK's MCP client (`@ai-sdk/mcp`, its HTTP transport
// given the traced fetch) in a generateText agent loop gives the same TOOL spans. One trace is
// read back from a real MLflow.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { createMCPClient } from '@ai-sdk/mcp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { generateText, isStepCount } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { flush, getLastActiveTraceId, init, registerModelApi, SpanType, traceFetch, withSpan } from '../../pkg/node.js';
import { startCollector, attr } from './helpers/collector.mjs';
import { hooks, startMcpServer } from './helpers/mcp-server.mjs';
import { createExperiment, readSpans, startMlflow, waitForTrace } from './helpers/mlflow.mjs';

let mcp;
let col;
before(async () => {
  mcp = await startMcpServer();
  col = await startCollector();
});
after(async () => {
  await mcp?.close();
  await col?.close();
});
beforeEach(() => {
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
});

async function connect(path, fetchImpl = traceFetch(fetch)) {
  const client = new Client({ name: 'edgetrace-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url + path), { fetch: fetchImpl });
  await client.connect(transport);
  return { client, transport };
}
const tools = () => col.spans().filter((s) => s.attributes['mcp.method.name'] !== undefined);

for (const [path, answer] of [['/mcp', 'an SSE stream'], ['/mcp-json', 'JSON']]) {
  test(`a tool call answered with ${answer}: a TOOL span under its caller, arguments in, the result out`, async () => {
    const { client, transport } = await connect(path);
    const result = await withSpan(() => client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }), { name: 'agent', spanType: SpanType.AGENT });
    await client.close();
    await flush();
    assert.deepEqual(result.structuredContent, { sum: 42 });
    const spans = col.spans();
    const [span] = tools();
    assert.equal(tools().length, 1, 'initialize, the initialized notification and the close are no tool spans');
    const agent = spans.find((s) => s.name === 'agent');
    assert.equal(span.parentSpanId, agent.spanId);
    assert.equal(span.traceId, agent.traceId);
    assert.equal(span.name, 'tools/call add');
    assert.equal(span.attributes['mlflow.spanType'], 'TOOL');
    assert.equal(span.attributes['gen_ai.tool.name'], 'add');
    assert.equal(span.attributes['gen_ai.operation.name'], 'execute_tool');
    assert.equal(span.attributes['mcp.session.id'], transport.sessionId);
    assert.equal(span.attributes['mcp.protocol.version'], transport.protocolVersion);
    const sent = mcp.requests.filter((r) => r.body?.method === 'tools/call').at(-1).body;
    assert.equal(span.attributes['jsonrpc.request.id'], String(sent.id));
    assert.equal(span.attributes['server.address'], '127.0.0.1');
    assert.equal(span.attributes['server.port'], Number(new URL(mcp.url).port));
    assert.deepEqual(attr(span, 'mlflow.spanInputs'), { a: 2, b: 40 });
    assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result);
    assert.notEqual(span.status?.code, 2, 'not an error');
    assert.equal(span.attributes['error.type'], undefined);
    if (path === '/mcp') assert.equal(span.attributes['edgetrace.mcp.stream_end'], 'completed');
    else assert.equal(span.attributes['edgetrace.mcp.stream_end'], undefined);
  });
}

test("the tool's own failure (isError) is the span's error, with what the tool said", async () => {
  const { client } = await connect('/mcp');
  const failed = await client.callTool({ name: 'fail', arguments: { why: 'no network' } });
  const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} });
  await client.close();
  await flush();
  assert.equal(failed.isError, true);
  const [a, b] = tools().sort((x, y) => Number(x.attributes['jsonrpc.request.id']) - Number(y.attributes['jsonrpc.request.id']));
  assert.equal(a.name, 'tools/call fail');
  assert.equal(a.status.code, 2);
  assert.equal(a.status.message, failed.content[0].text);
  assert.equal(a.attributes['error.type'], 'tool_error');
  assert.deepEqual(attr(a, 'mlflow.spanOutputs'), failed);
  assert.equal(b.name, 'tools/call no_such_tool');
  assert.equal(b.status.message, unknown.content[0].text);
  // The app got a result, not an exception; an exception event of the tool's error marks the
  // span in MLflow's UI.
  const [ev, ...more] = (a.events || []).filter((e) => e.name === 'exception');
  assert.equal(more.length, 0);
  assert.deepEqual(Object.fromEntries(ev.attributes.map((kv) => [kv.key, kv.value.stringValue])), { 'exception.type': 'ToolError', 'exception.message': failed.content[0].text });
});

test('a JSON-RPC error is the span\'s error and exception, with the message the SDK throws', async () => {
  const { client } = await connect('/mcp-raw');
  const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
  const thrown = await client.callTool({ name: 'missing', arguments: {} }).catch((e) => e);
  await client.close();
  await flush();
  assert.equal(echoed.content[0].text, 'hi');
  assert.equal(thrown.name, 'McpError');
  const span = tools().find((s) => s.name === 'tools/call missing');
  assert.equal(span.status.code, 2);
  assert.equal(span.status.message, thrown.message);
  assert.equal(span.attributes['error.type'], String(thrown.code));
  assert.equal(span.attributes['rpc.response.status_code'], String(thrown.code));
  const ev = span.events.find((e) => e.name === 'exception');
  const evAttr = (k) => ev.attributes.find((kv) => kv.key === k)?.value.stringValue;
  assert.equal(evAttr('exception.type'), 'McpError');
  assert.equal(evAttr('exception.message'), thrown.message);
  assert.notEqual(tools().find((s) => s.name === 'tools/call echo').status?.code, 2);
});

test('progress notifications on the stream are counted; the span ends with the result', async () => {
  const { client } = await connect('/mcp');
  const progress = [];
  const t0 = Date.now();
  const result = await client.callTool({ name: 'count', arguments: { to: 3 } }, undefined, { onprogress: (p) => progress.push(p) });
  const t1 = Date.now();
  await client.close();
  await flush();
  assert.equal(progress.length, 3);
  const [span] = tools();
  assert.equal(span.attributes['edgetrace.mcp.notifications'], progress.length);
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result);
  const endMs = Number(BigInt(span.endTimeUnixNano) / 1_000_000n);
  assert.ok(endMs >= t0 && endMs <= t1 + 1, `the span ends with the call (${endMs} in ${t0}..${t1})`);
});

test("a session the server no longer knows (HTTP 404) is the span's error; the app's error reaches it unchanged", async () => {
  const { client, transport } = await connect('/mcp');
  mcp.sessions.delete(transport.sessionId);
  const thrown = await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }).catch((e) => e);
  await client.close().catch(() => {});
  await flush();
  assert.ok(thrown instanceof Error);
  const [span] = tools();
  assert.equal(span.name, 'tools/call add');
  assert.equal(span.status.code, 2);
  assert.equal(span.status.message, 'HTTP 404: Session not found');
  assert.equal(span.attributes['error.type'], '404');
  assert.equal(span.attributes['http.response.status_code'], 404);
});

test('an untraced client sends the same bytes and gets the same results as a traced one', async () => {
  const run = async (fetchImpl) => {
    const start = mcp.requests.length;
    const { client } = await connect('/mcp', fetchImpl);
    const out = [await client.callTool({ name: 'echo', arguments: { text: 'ünïcode ✓' } }), await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })];
    await client.close();
    return { out, sent: mcp.requests.slice(start).map((r) => [r.method, r.path, r.body]) };
  };
  const plain = await run(fetch);
  const traced = await run(traceFetch(fetch));
  await flush();
  assert.deepEqual(traced.out, plain.out);
  assert.deepEqual(traced.sent, plain.sent);
  assert.equal(tools().length, 2);
});

test('with mcpTraceContext the call carries its traceparent in params._meta, and a traced server continues the trace', async () => {
  // The server's tool work, traced as an MCP server traced with edgetrace would do it.
  hooks.onMeta = (meta) => withSpan(() => meta, { name: 'server tool', traceparent: meta?.traceparent, parent: null });
  try {
    const { client } = await connect('/mcp', traceFetch(fetch, { mcpTraceContext: true }));
    const got = await withSpan(() => client.callTool({ name: 'meta', arguments: {} }, undefined, { onprogress: () => {} }), { name: 'agent' });
    const { client: plainClient } = await connect('/mcp');
    const untouched = await plainClient.callTool({ name: 'meta', arguments: {} });
    await client.close();
    await plainClient.close();
    await flush();
    const meta = JSON.parse(got.content[0].text);
    const spans = col.spans();
    const tool = spans.find((s) => s.name === 'tools/call meta' && s.parentSpanId);
    const server = spans.find((s) => s.name === 'server tool' && s.traceId === tool.traceId);
    assert.equal(meta.traceparent, `00-${tool.traceId}-${tool.spanId}-01`);
    assert.equal(typeof meta.progressToken, 'number', "the SDK's own _meta is kept");
    assert.equal(server.parentSpanId, tool.spanId, "the server's span continues the tool call's");
    // The span's inputs are the arguments the app gave, whatever was added to the request.
    assert.deepEqual(attr(tool, 'mlflow.spanInputs'), {});
    // Without the option the request is sent as the app made it.
    assert.equal(JSON.parse(untouched.content[0].text), null);
  } finally {
    delete hooks.onMeta;
  }
});

test("the AI SDK's MCP client in a generateText agent loop: the model's tool call is a TOOL span under the agent", async () => {
  const mcpClient = await createMCPClient({ transport: { type: 'http', url: `${mcp.url}/mcp`, fetch: traceFetch() } });
  const mcpTools = await mcpClient.tools();
  const usage = { inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 3, text: 3, reasoning: undefined } };
  let step = 0;
  const model = new MockLanguageModelV3({
    doGenerate: async () =>
      step++ === 0
        ? { content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'add', input: JSON.stringify({ a: 19, b: 23 }) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] }
        : { content: [{ type: 'text', text: 'The sum is 42.' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
  });
  const out = await withSpan(() => generateText({ model, tools: mcpTools, prompt: 'What is 19 + 23?', stopWhen: isStepCount(3) }), { name: 'agent', spanType: SpanType.AGENT });
  await mcpClient.close();
  await flush();
  assert.equal(out.text, 'The sum is 42.');
  const toolResult = out.steps[0].toolResults[0];
  assert.equal(toolResult.toolName, 'add');
  const [span] = tools();
  assert.equal(tools().length, 1);
  const agent = col.spans().find((s) => s.name === 'agent');
  assert.equal(span.parentSpanId, agent.spanId);
  assert.equal(span.name, 'tools/call add');
  assert.deepEqual(attr(span, 'mlflow.spanInputs'), { a: 19, b: 23 });
  // The AI SDK's schema adds `isError: false` where the server sent none: the span holds what
  // the server sent.
  const { isError, ...sent } = toolResult.output;
  assert.equal(isError, false);
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), sent);
  assert.deepEqual(sent.structuredContent, { sum: 42 });
});

test("a server on its scheme's default port: server.port is the scheme's", async () => {
  // A fetch that answers as a server would, so no network is touched.
  const answer = async (_input, init) => new Response(JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(init.body).id, result: { content: [{ type: 'text', text: 'ok' }] } }), { headers: { 'content-type': 'application/json' } });
  const f = traceFetch(answer);
  const body = (id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'ping', arguments: {} } });
  await (await f('https://tools.example.com/mcp', { method: 'POST', body: body(1) })).json();
  await (await f('http://tools.example.com/mcp', { method: 'POST', body: body(2) })).json();
  await flush();
  const ports = Object.fromEntries(tools().map((s) => [s.attributes['jsonrpc.request.id'], [s.attributes['server.address'], s.attributes['server.port']]]));
  assert.deepEqual(ports, { 1: ['tools.example.com', 443], 2: ['tools.example.com', 80] });
});

for (const [path, answer] of [['/mcp', 'an SSE stream'], ['/mcp-json', 'JSON']]) {
  test(`a call the client gives up on (the SDK's timeout, then its abort), answered with ${answer}: its span ends then, with the reason`, async () => {
    const { client } = await connect(path);
    const t0 = Date.now();
    const timedOut = await withSpan(() => client.callTool({ name: 'slow', arguments: { ms: 1500 } }, undefined, { timeout: 100 }).catch((e) => e), { name: 'agent' });
    const controller = new AbortController();
    setTimeout(() => controller.abort('the user pressed stop'), 100);
    const aborted = await withSpan(() => client.callTool({ name: 'slow', arguments: { ms: 1500 } }, undefined, { signal: controller.signal }).catch((e) => e), { name: 'agent' });
    const t1 = Date.now();
    // Flushed while the client lives and the tool still runs: the spans are over.
    await flush();
    await client.close();
    assert.ok(timedOut instanceof Error && aborted instanceof Error);
    assert.ok(t1 - t0 < 1500, 'the app did not wait for the tool');
    const [a, b] = tools().sort((x, y) => Number(x.attributes['jsonrpc.request.id']) - Number(y.attributes['jsonrpc.request.id']));
    assert.equal(tools().length, 2, 'both spans exported before the tool answered');
    for (const s of [a, b]) {
      assert.equal(s.attributes['edgetrace.mcp.cancelled'], true);
      assert.ok(Number(BigInt(s.endTimeUnixNano) / 1_000_000n) <= t1 + 1, 'ended when the client gave up');
    }
    assert.match(a.attributes['edgetrace.mcp.cancel_reason'], /timed out/i);
    assert.equal(a.status.code, 2, 'a timeout is an error: the app got one');
    assert.match(b.attributes['edgetrace.mcp.cancel_reason'], /the user pressed stop/);
    assert.notEqual(b.status?.code, 2, "the app's own abort is no error");
  });
}

test("a cancelled call's span ends when its client gave up, not at the stream's last chunk", async () => {
  const { client } = await connect('/mcp');
  const t0 = Date.now();
  // The server sends one progress notification at once, then nothing until the answer.
  const err = await client.callTool({ name: 'slow', arguments: { ms: 1500 } }, undefined, { onprogress: () => {}, timeout: 250 }).catch((e) => e);
  await flush();
  await client.close();
  assert.ok(err instanceof Error);
  const [span] = tools();
  const ms = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
  assert.ok(ms >= 200 && ms < 1000, `the span lasted ${ms} ms`);
  assert.equal(span.events.filter((e) => e.name === 'exception').length, 1, 'a timeout is marked by an exception event');
  assert.ok(Number(BigInt(span.endTimeUnixNano) / 1_000_000n) >= t0 + 200);
});

test("clients with no session (a stateless server): one client's cancel never ends another's call", async () => {
  const fa = traceFetch(fetch);
  const fb = traceFetch(fetch);
  const { client: b } = await connect('/mcp-stateless', fb);
  const pending = b.callTool({ name: 'slow', arguments: { ms: 300 } });
  await new Promise((r) => setTimeout(r, 50));
  const id = mcp.requests.filter((r) => r.body?.method === 'tools/call').at(-1).body.id;
  const cancelled = (reason) => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
  const post = (f, body) => f(`${mcp.url}/mcp-stateless`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
  // Another client's cancel of the same id, through its own traced fetch: not B's.
  await (await post(fa, cancelled('not yours'))).text();
  const result = await pending;
  const { client: c } = await connect('/mcp-stateless', fb);
  const late = c.callTool({ name: 'slow', arguments: { ms: 300 } });
  await new Promise((r) => setTimeout(r, 50));
  const id2 = mcp.requests.filter((r) => r.body?.method === 'tools/call').at(-1).body.id;
  // The same client's fetch cancelling its own call: that one ends.
  await (await post(fb, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id2, reason: 'mine' } }))).text();
  await late;
  await b.close();
  await c.close();
  await flush();
  const spans = tools();
  const first = spans.find((s) => !s.attributes['edgetrace.mcp.cancelled']);
  const second = spans.find((s) => s.attributes['edgetrace.mcp.cancelled']);
  assert.equal(spans.length, 2);
  assert.deepEqual(attr(first, 'mlflow.spanOutputs'), result);
  assert.equal(second.attributes['edgetrace.mcp.cancel_reason'], 'mine');
});

test("@ai-sdk/mcp's abort and timeout: an abort is no error, a timeout is", async () => {
  const mcpClient = await createMCPClient({ transport: { type: 'http', url: `${mcp.url}/mcp-json`, fetch: traceFetch() } });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const aborted = await mcpClient.callTool({ name: 'slow', arguments: { ms: 800 }, options: { signal: controller.signal } }).catch((e) => e);
  const timedOut = await mcpClient.callTool({ name: 'slow', arguments: { ms: 800 }, options: { timeout: 100 } }).catch((e) => e);
  await flush();
  await mcpClient.close();
  assert.ok(aborted instanceof Error && timedOut instanceof Error);
  const [a, t] = tools().sort((x, y) => Number(x.attributes['jsonrpc.request.id']) - Number(y.attributes['jsonrpc.request.id']));
  assert.equal(a.attributes['edgetrace.mcp.cancelled'], true);
  assert.notEqual(a.status?.code, 2, `an abort: ${a.status?.message}`);
  assert.equal(t.attributes['edgetrace.mcp.cancelled'], true);
  assert.equal(t.status.code, 2);
  assert.match(t.attributes['edgetrace.mcp.cancel_reason'], /timed out/i);
});

test('an MCP endpoint under a base URL registered as a model API: tool calls are TOOL spans, the rest no spans', async () => {
  registerModelApi({ baseUrl: `${mcp.url}/gw`, format: 'openai', provider: 'gateway' });
  const { client } = await connect('/gw/mcp');
  const result = await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
  await client.close();
  await flush();
  const spans = col.spans();
  assert.deepEqual(spans.map((s) => s.name), ['tools/call add']);
  assert.deepEqual(attr(spans[0], 'mlflow.spanOutputs'), result);
});

test('a model call whose request quotes a tool call stays a model call', async () => {
  // An Anthropic request whose earlier tool_use input is itself a JSON-RPC tools/call.
  const seen = [];
  const fake = async (input, init) => {
    seen.push(String(input));
    return new Response(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 1 } }), { headers: { 'content-type': 'application/json' } });
  };
  const f = traceFetch(fake);
  const body = { model: 'claude-x', max_tokens: 10, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'relay', input: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } } }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'done' }] }] };
  await (await f('https://api.anthropic.com/v1/messages', { method: 'POST', body: JSON.stringify(body) })).json();
  // And an OpenAI request whose metadata names the method.
  await (await f('https://api.openai.com/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'gpt-x', metadata: { method: 'tools/call' }, messages: [{ role: 'user', content: 'hi' }] }) })).text();
  await flush();
  const names = col.spans().map((s) => s.name).sort();
  assert.deepEqual(names, ['chat gpt-x', 'messages claude-x']);
  assert.equal(tools().length, 0);
});

test("the redact hook sees a tool call's arguments, and the span keeps its tool and result", async () => {
  const seen = [];
  init({ endpoint: col.url, format: 'json', logger: { warn() {} }, redact: ({ kind, value }) => {
    seen.push([kind, value]);
    return kind === 'inputs' && value && typeof value === 'object' ? { ...value, a: '[hidden]' } : value;
  } });
  const { client } = await connect('/mcp');
  const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  await client.close();
  await flush();
  const [span] = tools();
  assert.deepEqual(seen.find(([k]) => k === 'inputs')[1], { a: 2, b: 3 });
  assert.deepEqual(attr(span, 'mlflow.spanInputs'), { a: '[hidden]', b: 3 });
  assert.equal(span.attributes['gen_ai.tool.name'], 'add');
  assert.notEqual(span.status?.code, 2);
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result);
});

test('a tool whose text a lone surrogate ends (a string cut inside a character) is no error', async () => {
  const { client } = await connect('/mcp');
  const text = 'ok 😀'.slice(0, 4);
  const result = await client.callTool({ name: 'echo', arguments: { text } });
  await client.close();
  await flush();
  assert.equal(result.content[0].text, text);
  const [span] = tools();
  assert.notEqual(span.status?.code, 2);
  assert.equal(span.attributes['gen_ai.tool.name'], 'echo');
  assert.equal(span.attributes['edgetrace.mcp.stream_end'], 'completed');
  assert.equal(attr(span, 'mlflow.spanOutputs').content[0].text, 'ok \ufffd');
});

test('a tool call reads back from a real MLflow as a TOOL span with its inputs, outputs and attributes', { timeout: 300_000 }, async () => {
  const mlflow = await startMlflow();
  try {
    const experimentId = await createExperiment(mlflow.url, 'edgetrace-mcp');
    init({ endpoint: mlflow.url, experimentId, logger: { warn() {} } });
    const { client } = await connect('/mcp');
    const result = await withSpan(() => client.callTool({ name: 'add', arguments: { a: 20, b: 22 } }), { name: 'agent', spanType: SpanType.AGENT });
    const traceId = getLastActiveTraceId();
    await client.close();
    await flush();
    const spans = readSpans(await waitForTrace(mlflow.url, traceId, 2));
    const tool = spans.find((s) => s.type === 'TOOL');
    const agent = spans.find((s) => s.name === 'agent');
    assert.equal(tool.name, 'tools/call add');
    assert.equal(tool.parentId, agent.spanId);
    const json = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
    assert.deepEqual(json(tool.inputs), { a: 20, b: 22 });
    assert.deepEqual(json(tool.outputs), result);
    assert.equal(tool.attributes['gen_ai.tool.name'], 'add');
  } finally {
    await mlflow.stop();
  }
});
