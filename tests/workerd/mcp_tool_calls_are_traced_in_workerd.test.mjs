// MCP tool calls made from a Worker, in workerd (Miniflare, nodejs_compat), with the official
// TypeScript SDK's client (`Client` over `StreamableHTTPClientTransport`, given
// `traceFetch(fetch)` as its fetch) inside `instrumentWorker`, as a Workers app calls an MCP server.
// The Worker (tests/workerd/fixtures/worker_mcp_client.js) is bundled with esbuild, as a Workers app
// is, `edgetrace` resolving to the package's workerd entry; the SDK bundles for workerd as it is
// (its client compiles no JSON schema unless tools are listed, so Ajv's code generation, which
// workerd refuses with "Code generation from strings disallowed", never runs; a Worker that lists
// tools gives its Client the SDK's `CfWorkerJsonSchemaValidator`). The MCP server is the SDK's
// own (tests/node/helpers/mcp-server.mjs), in this process, answering with SSE streams and with
// JSON. Each `tools/call` must be a TOOL span under the request's root span, in its trace, with
// the tool's arguments for inputs and, for outputs, the result the SDK gave the Worker; a tool's
// failure (`isError`) and a JSON-RPC error are the span's error; the session's other requests
// (initialize, the initialized notification, the GET stream, the DELETE at close) are no spans.
// In workerd the parsers are a compiled wasm module of their own, instantiated on the first call.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startWorkerApp, workerMiniflare } from './helpers.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';
import { startMcpServer } from '../node/helpers/mcp-server.mjs';
import { waitFor } from '../node/helpers/util.mjs';

let col;
let mcp;
let app;
let mf;

before(async () => {
  col = await startCollector();
  mcp = await startMcpServer();
  app = await startWorkerApp('worker_mcp_client.js', {
    start: (scriptPath, o) => workerMiniflare(scriptPath, { ...o, compatibilityFlags: ['nodejs_compat'], bindings: { COLLECTOR: col.url, MCP: mcp.url } }),
  });
  ({ mf } = app);
});
after(async () => {
  await app?.close();
  await col?.close();
  await mcp?.close();
});

/**
 * GET /{scenario}?path={path} on the Worker: what its app got, the request's root span, its TOOL
 * spans (by JSON-RPC id) and every span exported, and the requests the MCP server got from it.
 */
async function run(scenario, path, toolCalls) {
  col.requests.length = 0;
  const from = mcp.requests.length;
  const res = await mf.dispatchFetch(`http://worker.test/${scenario}?path=${path}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.error, null, `the Worker threw: ${body.error}`);
  const rootName = `GET /${scenario}`;
  await waitFor(() => col.spans().some((s) => s.name === rootName) && col.spans().length >= toolCalls + 1, { timeoutMs: 10_000, intervalMs: 20, what: `the trace of ${rootName}` });
  const spans = col.spans();
  const root = spans.find((s) => s.name === rootName);
  assert.equal(root.parentSpanId || '', '', 'the request span is the root');
  assert.equal(root.traceId, body.traceId, "the root span is the Worker's request span");
  assert.equal(root.spanId, body.spanId);
  const tools = spans.filter((s) => s.attributes['mlflow.spanType'] === 'TOOL').sort((a, b) => Number(a.attributes['jsonrpc.request.id']) - Number(b.attributes['jsonrpc.request.id']));
  assert.equal(tools.length, toolCalls, `TOOL spans: ${spans.map((s) => s.name)}`);
  assert.equal(spans.length, toolCalls + 1, `no span but the request's and its tool calls': ${spans.map((s) => s.name)}`);
  const sent = mcp.requests.slice(from);
  for (const s of tools) {
    assert.equal(s.traceId, root.traceId, "the tool call is in the request's trace");
    assert.equal(s.parentSpanId, root.spanId, "the tool call is under the request's root span");
    assert.equal(s.attributes['edgetrace.parent_inferred'], undefined, 'the parent was found (AsyncLocalStorage), not guessed');
    assert.equal(s.attributes['mcp.method.name'], 'tools/call');
    assert.equal(s.attributes['gen_ai.operation.name'], 'execute_tool');
    assert.equal(s.attributes['mcp.session.id'], body.session.id, "the session the Worker's transport had");
    assert.equal(s.attributes['mcp.protocol.version'], body.session.protocolVersion);
    assert.equal(s.attributes['server.address'], '127.0.0.1');
    assert.equal(s.attributes['server.port'], Number(new URL(mcp.url).port));
    // The span's inputs are the arguments of the request it stands for, as the server got them.
    const req = sent.find((r) => r.body?.method === 'tools/call' && String(r.body.id) === s.attributes['jsonrpc.request.id']);
    assert.ok(req, `the server got request ${s.attributes['jsonrpc.request.id']}`);
    assert.equal(s.name, `tools/call ${req.body.params.name}`);
    assert.equal(s.attributes['gen_ai.tool.name'], req.body.params.name);
    assert.deepEqual(attr(s, 'mlflow.spanInputs'), req.body.params.arguments);
  }
  // The session's other requests reached the server, and none is a span.
  const methods = sent.map((r) => `${r.method} ${r.body?.method ?? ''}`.trim());
  assert.ok(methods.includes('POST initialize'), methods.join());
  assert.ok(methods.includes('POST notifications/initialized'), methods.join());
  assert.equal(sent.filter((r) => r.body?.method === 'tools/call').length, toolCalls, methods.join());
  return { result: body.result, session: body.session, root, tools, sent };
}

for (const [path, answer] of [['/mcp', 'an SSE stream'], ['/mcp-json', 'JSON']]) {
  test(`a tool call answered with ${answer}: a TOOL span under the request's root span, arguments in, the SDK's result out`, async () => {
    const { result, session, tools } = await run('add', path, 1);
    const [span] = tools;
    assert.deepEqual(result.structuredContent, { sum: 42 }, 'the tool answered');
    assert.match(session.id, /^[0-9a-f-]{36}$/, 'the server gave the Worker a session');
    assert.equal(span.name, 'tools/call add');
    assert.deepEqual(attr(span, 'mlflow.spanInputs'), { a: 2, b: 40 });
    assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result, 'the outputs are the result the SDK returned');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.notEqual(span.status?.code, 2, `not an error: ${JSON.stringify(span.status)}`);
    assert.equal(span.attributes['error.type'], undefined);
    if (path === '/mcp') assert.equal(span.attributes['edgetrace.mcp.stream_end'], 'completed');
    else assert.equal(span.attributes['edgetrace.mcp.stream_end'], undefined, 'a JSON answer is no stream');
  });
}

test("a tool's own failure (isError) is the span's error, with what the tool said", async () => {
  const { result, tools } = await run('fail', '/mcp', 1);
  const [span] = tools;
  assert.equal(result.isError, true, 'the SDK gave the Worker a result with isError');
  assert.equal(span.name, 'tools/call fail');
  assert.equal(span.status.code, 2);
  assert.equal(span.status.message, result.content[0].text);
  assert.match(span.status.message, /no network/);
  assert.equal(span.attributes['error.type'], 'tool_error');
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result);
  // The app got a result, not a thrown McpError: one ToolError exception event marks the failure
  // for MLflow's UI.
  const thrownTypes = (span.events || []).filter((e) => e.name === 'exception').map((e) => e.attributes.find((kv) => kv.key === 'exception.type')?.value.stringValue);
  assert.deepEqual(thrownTypes, ['ToolError']);
});

test("a JSON-RPC error is the span's error and exception, with the message the SDK threw", async () => {
  const { result, tools } = await run('missing', '/mcp-raw', 2);
  const { echoed, thrown } = result;
  assert.equal(echoed.content[0].text, 'hi');
  assert.ok(thrown, 'the SDK threw for the unknown tool');
  assert.equal(thrown.name, 'McpError');
  const [ok, failed] = tools;
  assert.equal(ok.name, 'tools/call echo');
  assert.notEqual(ok.status?.code, 2);
  assert.deepEqual(attr(ok, 'mlflow.spanOutputs'), echoed);
  assert.equal(failed.name, 'tools/call missing');
  assert.equal(failed.status.code, 2);
  assert.equal(failed.status.message, thrown.message);
  assert.equal(failed.attributes['error.type'], String(thrown.code));
  const ev = (failed.events || []).find((e) => e.name === 'exception');
  assert.ok(ev, 'an exception event');
  const evAttr = (k) => ev.attributes.find((kv) => kv.key === k)?.value.stringValue;
  assert.equal(evAttr('exception.type'), 'McpError');
  assert.equal(evAttr('exception.message'), thrown.message);
});

test('progress notifications on the stream are counted; the outputs are the result that followed them', async () => {
  const { result, tools } = await run('count', '/mcp', 1);
  const [span] = tools;
  assert.equal(result.progress.length, 3, 'the Worker got three progress notifications');
  assert.equal(span.attributes['edgetrace.mcp.notifications'], result.progress.length);
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result.result);
  assert.equal(span.attributes['edgetrace.mcp.stream_end'], 'completed');
});
