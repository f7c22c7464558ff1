// MCP tool calls made from a page in headless Chromium with the official TypeScript SDK's client
// (`Client` over `StreamableHTTPClientTransport`, given `traceFetch(fetch)` as its fetch), as a
// browser app calls an MCP server. The page (tests/browser/fixtures/mcp.html) runs
// tests/browser/fixtures/mcp.js, bundled here with the SDK by esbuild, and imports the package's
// browser entry as /pkg/browser.js, so the model API parsers load lazily, as a chunk of their own,
// on the first tool call. The MCP server is the SDK's own (tests/node/helpers/mcp-server.mjs), in
// this process, reached on another origin through a small proxy here that adds the CORS headers a
// browser needs for MCP's Streamable HTTP (mcp-session-id, mcp-protocol-version, last-event-id;
// the session id exposed), as a server that serves pages on other origins sends them. Each
// `tools/call` must be a TOOL span under the page's span that made it, in its trace, complete even
// when its answer came while the parsers were still loading: the tool's arguments for inputs, the
// result the SDK gave the page for outputs, the session; SSE and JSON answers, a tool's failure
// (`isError`) and a JSON-RPC error; initialize and the initialized notification are no spans and
// load no parsers. (A page has no AsyncLocalStorage, and the SDK sends its request from a promise
// of its own, off the async stack of the span awaiting the call: the package takes the one trace
// in flight for its parent, as it documents, and says so with `edgetrace.parent_inferred`; the
// tests check that parent, not how it was found.) Everything listens on 127.0.0.1.
import assert from 'node:assert/strict';
import { request as httpRequest, createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { bundlePage, launchChromium, startStaticServer } from './helpers.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';
import { startMcpServer } from '../node/helpers/mcp-server.mjs';


let col;
let mcp;
let proxy;
let site;
let browser;
let page;
const pageErrors = [];

/**
 * A proxy to the MCP server at `target` on a port of its own, answering with the CORS headers a
 * page on another origin needs; streams (SSE) pass through as they come.
 */
async function startCorsProxy(target) {
  const cors = (origin) => ({
    'access-control-allow-origin': origin || '*',
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': 'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id',
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version',
    'access-control-max-age': '600',
  });
  const preflights = [];
  const origins = [];
  const server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      preflights.push(req.url);
      res.writeHead(204, cors(req.headers.origin)).end();
      return;
    }
    origins.push(req.headers.origin);
    const up = httpRequest(new URL(req.url, target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (r) => {
      res.writeHead(r.statusCode, { ...r.headers, ...cors(req.headers.origin) });
      res.flushHeaders();
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    // A page that lets go of a stream (the SDK's close) lets go of the server's too.
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    preflights,
    origins,
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

before(async () => {
  const bundle = await bundlePage('mcp.js');
  col = await startCollector();
  mcp = await startMcpServer();
  proxy = await startCorsProxy(mcp.url);
  site = await startStaticServer({ bundles: { '/mcp-bundle.js': bundle } });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  await page.goto(`${site.url}/mcp.html`);
  await page.waitForFunction(() => window.mcpReady === true, null, { timeout: 15_000 }).catch((e) => {
    throw new Error(`the page did not load: ${e.message}; page errors: ${JSON.stringify(pageErrors)}`);
  });
});

after(async () => {
  await browser?.close();
  await site?.close();
  await proxy?.close();
  await mcp?.close();
  await col?.close();
});

/** Opens a session on `path` (through the proxy): the session the page's transport got. */
async function open(path) {
  col.requests.length = 0;
  const from = mcp.requests.length;
  const body = await page.evaluate(([m, c]) => window.mcpOpen(m, c), [proxy.url + path, col.url]);
  assert.equal(body.error, null, `the page could not connect: ${body.error}`);
  assert.match(body.session.id, /^[0-9a-f-]{36}$/, 'the page read the session id (exposed by CORS)');
  return { session: body.session, from };
}

/**
 * Runs a scenario on the session opened at mcp.requests[from]: what the page got, its AGENT span
 * and TOOL spans (by JSON-RPC id), and the requests the MCP server got from it.
 */
async function run(scenario, { session, from }, toolCalls) {
  const body = await page.evaluate((n) => window.mcpRun(n), scenario);
  assert.equal(body.error, null, `the page threw: ${body.error}`);
  assert.deepEqual(pageErrors, []);
  assert.equal(body.openBeforeFlush, 0, 'every span ended');
  assert.equal(body.stats.lastExportError, null);
  assert.equal(body.stats.dropped.total, 0);
  const spans = col.spans();
  const agent = spans.find((s) => s.name === 'agent');
  assert.ok(agent, `the page's span: ${spans.map((s) => s.name)}`);
  assert.equal(agent.traceId, body.agent.traceId);
  assert.equal(agent.spanId, body.agent.spanId);
  const tools = spans.filter((s) => s.attributes['mlflow.spanType'] === 'TOOL').sort((a, b) => Number(a.attributes['jsonrpc.request.id']) - Number(b.attributes['jsonrpc.request.id']));
  assert.equal(tools.length, toolCalls, `TOOL spans: ${spans.map((s) => s.name)}`);
  assert.equal(spans.length, toolCalls + 1, `no span but the page's and its tool calls': ${spans.map((s) => s.name)}`);
  const sent = mcp.requests.slice(from);
  for (const s of tools) {
    assert.equal(s.traceId, agent.traceId, "the tool call is in the page span's trace");
    assert.equal(s.parentSpanId, agent.spanId, 'the tool call is under the span that made it');
    assert.equal(s.attributes['mcp.method.name'], 'tools/call');
    assert.equal(s.attributes['gen_ai.operation.name'], 'execute_tool');
    assert.equal(s.attributes['mcp.session.id'], session.id, "the session the page's transport had");
    assert.equal(s.attributes['mcp.protocol.version'], session.protocolVersion);
    assert.equal(s.attributes['server.address'], '127.0.0.1');
    assert.equal(s.attributes['server.port'], Number(new URL(proxy.url).port), 'the server the page called');
    assert.equal(s.attributes['http.response.status_code'], 200);
    // The span's inputs are the arguments of the request it stands for, as the server got them.
    const req = sent.find((r) => r.body?.method === 'tools/call' && String(r.body.id) === s.attributes['jsonrpc.request.id']);
    assert.ok(req, `the server got request ${s.attributes['jsonrpc.request.id']}`);
    assert.equal(s.name, `tools/call ${req.body.params.name}`);
    assert.equal(s.attributes['gen_ai.tool.name'], req.body.params.name);
    assert.deepEqual(attr(s, 'mlflow.spanInputs'), req.body.params.arguments);
  }
  const methods = sent.map((r) => `${r.method} ${r.body?.method ?? ''}`.trim());
  assert.ok(methods.includes('POST initialize'), methods.join());
  assert.ok(methods.includes('POST notifications/initialized'), methods.join());
  assert.equal(sent.filter((r) => r.body?.method === 'tools/call').length, toolCalls, methods.join());
  return { result: body.result, tools };
}

test('the first tool call (SSE) loads the parsers and its span is complete: under the page span, arguments in, the SDK\'s result out', async () => {
  assert.ok(!site.served.some((p) => p.includes('llm')), 'the page loaded no parsers before any call');
  const opened = await open('/mcp');
  assert.ok(!site.served.some((p) => p.includes('llm')), 'initialize and the initialized notification load no parsers');
  const { result, tools } = await run('add', opened, 1);
  assert.ok(site.served.includes('/pkg/llm-browser.js'), 'the tool call loaded the parsers');
  assert.ok(proxy.preflights.includes('/mcp'), 'the calls were preflighted');
  assert.ok(proxy.origins.length > 0 && proxy.origins.every((o) => o === site.url), 'every call came from the page, on another origin');
  const [span] = tools;
  assert.deepEqual(result.structuredContent, { sum: 42 }, 'the tool answered');
  assert.equal(span.name, 'tools/call add');
  assert.deepEqual(attr(span, 'mlflow.spanInputs'), { a: 2, b: 40 });
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result, 'the outputs are the result the SDK returned');
  assert.equal(span.attributes['edgetrace.mcp.stream_end'], 'completed');
  assert.notEqual(span.status?.code, 2, `not an error: ${JSON.stringify(span.status)}`);
  assert.equal(span.attributes['error.type'], undefined);
});

test('a tool call answered with JSON: the same span, no stream', async () => {
  const { result, tools } = await run('add', await open('/mcp-json'), 1);
  const [span] = tools;
  assert.deepEqual(result.structuredContent, { sum: 42 });
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result);
  assert.equal(span.attributes['edgetrace.mcp.stream_end'], undefined, 'a JSON answer is no stream');
  assert.notEqual(span.status?.code, 2);
});

test("a tool's own failure (isError) is the span's error, with what the tool said", async () => {
  const { result, tools } = await run('fail', await open('/mcp'), 1);
  const [span] = tools;
  assert.equal(result.isError, true, 'the SDK gave the page a result with isError');
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
  const { result, tools } = await run('missing', await open('/mcp-raw'), 2);
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
  const { result, tools } = await run('count', await open('/mcp'), 1);
  const [span] = tools;
  assert.equal(result.progress.length, 3, 'the page got three progress notifications');
  assert.equal(span.attributes['edgetrace.mcp.notifications'], result.progress.length);
  assert.deepEqual(attr(span, 'mlflow.spanOutputs'), result.result);
  assert.equal(span.attributes['edgetrace.mcp.stream_end'], 'completed');
});
