// The server's side of MCP tool calls on Cloudflare Workers: an MCP server that is a Worker (the
// official SDK's McpServer behind its WebStandardStreamableHTTPServerTransport, stateless, a server
// and transport per request; tests/workerd/fixtures/worker_mcp_server.js), its tools wrapped in
// `traceMcpTool` and its fetch handler in `instrumentWorker`, run in workerd (Miniflare,
// nodejs_compat) on 127.0.0.1 and a free port, called over HTTP by the SDK's Client in this Node
// process, whose fetch is `traceFetch(fetch, { mcpTraceContext: true })` from the Node entry. Both
// export to one collector here. A tool call must make one trace across the two runtimes: the
// client's `tools/call add` span and, under it, the Worker's `add` TOOL span, the arguments in and
// the result the client got out, answered with an SSE stream and with JSON; a tool's failure
// (`isError`) and a throw are the Worker's span's error, and the client gets what an untraced
// server gives it; a client without `mcpTraceContext` leaves the Worker's span in the Worker's own
// trace, under the request's root span that instrumentWorker makes.
//
// The fixture is bundled with esbuild as a Workers app is, `edgetrace` resolved to the built
// package's workerd entry. workerd refuses code generation from strings ("Code generation from
// strings disallowed"), with which Ajv, the JSON schema validator every SDK `Server` makes by
// default, compiles schemas (with SDK 1.32 only for a client's answer to an elicitation): the
// fixture gives its McpServer the SDK's `CfWorkerJsonSchemaValidator`
// (`@modelcontextprotocol/sdk/validation/cfworker`, on the devDependency @cfworker/json-schema,
// which interprets schemas); zod checks the tools' arguments and results without eval.
//
// workerd may print "Broken pipe" (server.c++) now and then during a run: the SDK's client
// cancels the body of the 202 that answers its `notifications/initialized` as soon as it has the
// headers, and undici then drops the connection while workerd still writes to it (a client whose
// fetch reads that body out never gets the line). It is no failure of the test's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { flush, init, traceFetch, withSpan } from '../../pkg/node.js';
import { bundleWorkerApp, workerMiniflare } from './helpers.mjs';
import { attr, shape, startCollector } from '../node/helpers/collector.mjs';
import { waitFor } from '../node/helpers/util.mjs';

const WORKER = 'mcp-server-worker';

let dir;
let col;
let mf;
let base;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgetrace-mcp-server-workerd-'));
  const scriptPath = await bundleWorkerApp('worker_mcp_server.js', dir);
  col = await startCollector();
  mf = workerMiniflare(scriptPath, { modulesRoot: dir, compatibilityFlags: ['nodejs_compat'], bindings: { COLLECTOR: col.url }, host: '127.0.0.1', port: 0 });
  base = await mf.ready;
});
after(async () => {
  await mf?.dispose();
  await col?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', serviceName: 'mcp-client-node', logger: { warn() {} } });
});

/** The SDK's client of the Worker's `path`, its fetch traced with `options`. */
async function client(path, options) {
  const c = new Client({ name: 'node-agent', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(path, base), { fetch: traceFetch(fetch, options) }));
  return c;
}

/**
 * The spans both sides exported, once the client's are flushed and the Worker's TOOL spans named
 * `tools` have arrived (instrumentWorker exports them after the response, in `waitUntil`).
 */
async function spansOf(tools) {
  await flush();
  const fromWorker = () => col.spans().filter((s) => serviceOf(s) === WORKER);
  await waitFor(() => tools.every((t) => fromWorker().some((s) => s.name === t && s.attributes['mlflow.spanType'] === 'TOOL')), {
    timeoutMs: 10_000,
    intervalMs: 20,
    what: `the Worker's spans ${tools}`,
  });
  const spans = col.spans();
  const one = (name, service) => {
    const found = spans.filter((s) => s.name === name && serviceOf(s) === service);
    assert.equal(found.length, 1, `one ${name} span from ${service}: ${spans.map((s) => `${serviceOf(s)}:${s.name}`)}`);
    return found[0];
  };
  return { spans, client: (name) => one(name, 'mcp-client-node'), worker: (name) => one(name, WORKER) };
}
const serviceOf = (s) => s.resource?.attributes?.find((kv) => kv.key === 'service.name')?.value.stringValue;
const exceptionTypes = (s) => (s.events || []).filter((e) => e.name === 'exception').map((e) => e.attributes.find((kv) => kv.key === 'exception.type')?.value.stringValue);

for (const [path, answer] of [['/mcp', 'an SSE stream'], ['/mcp-json', 'JSON']]) {
  test(`answered with ${answer}: one trace holds the Node client's tool call and, under it, the Worker's TOOL span, arguments in and the client's result out`, async () => {
    const c = await client(path, { mcpTraceContext: true });
    const args = { a: 40, b: 2 };
    const result = await withSpan(() => c.callTool({ name: 'add', arguments: args }), { name: 'agent' });
    await c.close();
    assert.deepEqual(result.structuredContent, { sum: args.a + args.b }, 'the Worker answered');
    const { spans, client: fromClient, worker } = await spansOf(['add']);
    const call = fromClient('tools/call add');
    const tool = worker('add');
    assert.equal(tool.traceId, call.traceId, "the Worker's span is in the client's trace");
    assert.equal(tool.parentSpanId, call.spanId, "under the client's tool call span");
    assert.deepEqual(
      shape(spans.filter((s) => s.traceId === call.traceId)),
      [['agent', [['tools/call add', [['add', []]]]]]],
      'one tree across Node and the Worker',
    );
    assert.equal(tool.attributes['mlflow.spanType'], 'TOOL');
    assert.equal(tool.attributes['mcp.method.name'], 'tools/call');
    assert.equal(tool.attributes['gen_ai.tool.name'], 'add');
    assert.equal(tool.attributes['gen_ai.operation.name'], 'execute_tool');
    assert.ok(call.attributes['jsonrpc.request.id'] !== undefined, "the client's span has the request's id");
    assert.equal(tool.attributes['jsonrpc.request.id'], call.attributes['jsonrpc.request.id'], "the client's JSON-RPC id");
    assert.equal(tool.attributes['mcp.session.id'], undefined, 'a stateless server has no session');
    assert.deepEqual(attr(tool, 'mlflow.spanInputs'), args);
    assert.deepEqual(attr(tool, 'mlflow.spanOutputs'), result, 'the outputs are the result the client got');
    assert.deepEqual(attr(call, 'mlflow.spanOutputs'), result);
    assert.notEqual(tool.status?.code, 2, `not an error: ${JSON.stringify(tool.status)}`);
    assert.deepEqual(exceptionTypes(tool), []);
    // The Worker's request span for that POST is the root of a trace of its own: the tool's span
    // left it for the client's trace.
    const roots = spans.filter((s) => serviceOf(s) === WORKER && s.name === `POST ${path}`);
    assert.ok(roots.length >= 1, `the Worker's request spans: ${spans.map((s) => s.name)}`);
    for (const r of roots) {
      assert.equal(r.parentSpanId || '', '', 'a request span is a root');
      assert.notEqual(r.traceId, call.traceId);
    }
  });
}

test("a tool's failure (isError) and a throw are the Worker's span's error; the client gets what an untraced Worker gives it", async () => {
  const run = async (path) => {
    const c = await client(path, { mcpTraceContext: true });
    const out = [await c.callTool({ name: 'refuse', arguments: { why: 'policy' } }), await c.callTool({ name: 'crash', arguments: {} })];
    await c.close();
    return out;
  };
  const plain = await run('/mcp-plain');
  // The untraced run's client spans go now, not with the traced run's.
  await flush();
  col.requests.length = 0;
  const [refused, crashed] = await run('/mcp');
  assert.deepEqual([refused, crashed], plain, 'traceMcpTool changes nothing the client gets');
  assert.equal(refused.isError, true);
  assert.equal(crashed.isError, true, 'McpServer answers a throw as a failed result');
  assert.match(crashed.content[0].text, /the tool crashed in the Worker/);
  const { client: fromClient, worker } = await spansOf(['refuse', 'crash']);

  const r = worker('refuse');
  const rCall = fromClient('tools/call refuse');
  assert.equal(r.parentSpanId, rCall.spanId, "under the client's tool call");
  assert.equal(r.status.code, 2);
  assert.equal(r.status.message, refused.content[0].text, 'what the tool said');
  assert.deepEqual(exceptionTypes(r), ['ToolError']);
  assert.deepEqual(attr(r, 'mlflow.spanOutputs'), refused);
  assert.equal(rCall.status.code, 2, "the client's span is ERROR too");

  const x = worker('crash');
  const xCall = fromClient('tools/call crash');
  assert.equal(x.parentSpanId, xCall.spanId, "under the client's tool call");
  assert.equal(x.status.code, 2);
  assert.equal(x.status.message, 'RangeError: the tool crashed in the Worker', 'as withSpan records a throw');
  assert.deepEqual(exceptionTypes(x), ['RangeError']);
  const ev = x.events.find((e) => e.name === 'exception');
  assert.equal(ev.attributes.find((kv) => kv.key === 'exception.message')?.value.stringValue, 'the tool crashed in the Worker');
  assert.equal(xCall.status.code, 2, "the client's span is ERROR: it got a result with isError");
});

test("without mcpTraceContext the Worker's TOOL span is not in the client's trace: it is under the Worker's request span", async () => {
  const c = await client('/mcp');
  const args = { a: 1, b: 2 };
  const result = await withSpan(() => c.callTool({ name: 'add', arguments: args }), { name: 'agent' });
  await c.close();
  const { spans, client: fromClient, worker } = await spansOf(['add']);
  const call = fromClient('tools/call add');
  const tool = worker('add');
  assert.notEqual(tool.traceId, call.traceId, "not the client's trace");
  const root = spans.find((s) => s.spanId === tool.parentSpanId);
  assert.ok(root, `the tool span's parent was exported: ${spans.map((s) => `${serviceOf(s)}:${s.name}`)}`);
  assert.equal(serviceOf(root), WORKER);
  assert.equal(root.name, 'POST /mcp', "the Worker's request span, which instrumentWorker makes");
  assert.equal(root.parentSpanId || '', '', 'the root of its trace');
  assert.equal(root.traceId, tool.traceId);
  assert.deepEqual(shape(spans.filter((s) => s.traceId === tool.traceId)), [['POST /mcp', [['add', []]]]]);
  assert.deepEqual(shape(spans.filter((s) => s.traceId === call.traceId)), [['agent', [['tools/call add', []]]]]);
  assert.equal(tool.attributes['jsonrpc.request.id'], call.attributes['jsonrpc.request.id']);
  assert.deepEqual(attr(tool, 'mlflow.spanInputs'), args);
  assert.deepEqual(attr(tool, 'mlflow.spanOutputs'), result);
});
