// The server's side of MCP tool calls: an MCP server (the official SDK's McpServer behind its
// Streamable HTTP transport, stateless, on 127.0.0.1) whose tools are wrapped in `traceMcpTool`
// (`edgetrace/mcp`), called by the SDK's client. Each call is a TOOL span named after the tool,
// its arguments in and its result out; a client traced with `mcpTraceContext` gets one trace
// with the server's spans under its own tool call; a tool's failure and a throw are the span's
// error, and the client gets what it gets without tracing.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, beforeEach, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { flush, init, traceFetch, withSpan } from '../../pkg/node.js';
import { traceMcpTool } from '../../pkg/mcp.js';
import { attr, startCollector } from './helpers/collector.mjs';

/** The server's tools, traced with `wrap` (traceMcpTool, or none for the untraced run). */
function tools(wrap) {
  const server = new McpServer({ name: 'traced-tools', version: '1.0.0' });
  server.registerTool('add', { inputSchema: { a: z.number(), b: z.number() } }, wrap('add', async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } })));
  server.registerTool('now', { description: 'no input schema: the SDK calls it with extra alone' }, wrap('now', (extra) => ({ content: [{ type: 'text', text: `request ${extra.requestId}` }] })));
  server.registerTool('refuse', { inputSchema: { why: z.string() } }, wrap('refuse', async ({ why }) => ({ content: [{ type: 'text', text: `refused: ${why}` }], isError: true })));
  server.registerTool('crash', { inputSchema: {} }, wrap('crash', async () => {
    throw new RangeError('the tool crashed');
  }));
  return server;
}

let http;
let url;
let col;
let traced = true;
before(async () => {
  col = await startCollector();
  http = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    // Stateless: a server and transport per request, as the SDK's stateless example runs them.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => transport.close());
    await tools(traced ? traceMcpTool : (_name, h) => h).connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${http.address().port}/mcp`;
});
after(async () => {
  http?.closeAllConnections?.();
  await new Promise((r) => http?.close(r));
  await col?.close();
});
beforeEach(() => {
  col.requests.length = 0;
  traced = true;
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
});

async function client(options) {
  const c = new Client({ name: 'caller', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: traceFetch(fetch, options) }));
  return c;
}
const named = (name) => col.spans().filter((s) => s.name === name);

test("a client traced with mcpTraceContext and a server traced with traceMcpTool make one trace: the server's span under the client's tool call", async () => {
  const c = await client({ mcpTraceContext: true });
  const result = await withSpan(() => c.callTool({ name: 'add', arguments: { a: 40, b: 2 } }), { name: 'agent' });
  await c.close();
  await flush();
  const [call] = named('tools/call add');
  const [tool] = named('add');
  assert.equal(tool.traceId, call.traceId);
  assert.equal(tool.parentSpanId, call.spanId);
  assert.equal(tool.attributes['mlflow.spanType'], 'TOOL');
  assert.equal(tool.attributes['mcp.method.name'], 'tools/call');
  assert.equal(tool.attributes['gen_ai.tool.name'], 'add');
  assert.equal(tool.attributes['jsonrpc.request.id'], call.attributes['jsonrpc.request.id']);
  assert.deepEqual(attr(tool, 'mlflow.spanInputs'), { a: 40, b: 2 });
  assert.deepEqual(attr(tool, 'mlflow.spanOutputs'), result);
  assert.notEqual(tool.status?.code, 2);
});

test("without the client's trace context the server's span starts a trace of its own", async () => {
  const c = await client();
  await withSpan(() => c.callTool({ name: 'add', arguments: { a: 1, b: 2 } }), { name: 'agent' });
  await c.close();
  await flush();
  const [call] = named('tools/call add');
  const [tool] = named('add');
  assert.notEqual(tool.traceId, call.traceId);
  assert.equal(tool.parentSpanId ?? '', '');
});

test('a tool with no input schema (called with extra alone): no inputs, its result out', async () => {
  const c = await client({ mcpTraceContext: true });
  const result = await c.callTool({ name: 'now', arguments: {} });
  await c.close();
  await flush();
  const [tool] = named('now');
  assert.deepEqual(attr(tool, 'mlflow.spanInputs'), {});
  assert.deepEqual(attr(tool, 'mlflow.spanOutputs'), result);
  assert.match(result.content[0].text, /^request \d+$/);
});

test("a tool's failure (isError) and a throw are the span's error; the client gets what it gets untraced", async () => {
  const run = async () => {
    const c = await client({ mcpTraceContext: true });
    const out = [await c.callTool({ name: 'refuse', arguments: { why: 'policy' } }), await c.callTool({ name: 'crash', arguments: {} })];
    await c.close();
    return out;
  };
  traced = false;
  const plain = await run();
  traced = true;
  const [refused, crashed] = await run();
  await flush();
  assert.deepEqual([refused, crashed], plain);
  assert.equal(crashed.isError, true, 'the SDK answers a throw as a failed result');
  const [r] = named('refuse');
  assert.equal(r.status.code, 2);
  assert.equal(r.status.message, refused.content[0].text);
  assert.equal(r.events.find((e) => e.name === 'exception').attributes.find((kv) => kv.key === 'exception.type').value.stringValue, 'ToolError');
  const [x] = named('crash');
  assert.equal(x.status.code, 2);
  assert.equal(x.status.message, 'RangeError: the tool crashed', 'as withSpan records a throw');
  assert.equal(x.events.find((e) => e.name === 'exception').attributes.find((kv) => kv.key === 'exception.type').value.stringValue, 'RangeError');
});

test('traceMcpTool refuses a handler that is not a function, at once', () => {
  assert.throws(() => traceMcpTool('x', null), /not a function/);
});
