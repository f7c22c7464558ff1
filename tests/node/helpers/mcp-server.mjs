// A real MCP server for the tests: the official TypeScript SDK's McpServer behind its Streamable
// HTTP transport, on 127.0.0.1 and a free port, in the test's own process. Two endpoints:
// `/mcp` answers each request with an SSE stream (the transport's default), `/mcp-json` with one
// JSON body (`enableJsonResponse`), `/mcp-stateless` answers by JSON with no session (a server
// per request), `/mcp-raw` serves the SDK's low-level `Server`, whose
// `tools/call` handler answers a JSON-RPC error (`McpError`) for a tool it does not have, as a
// server built on it does (McpServer answers a result with `isError` instead). Each session (`Mcp-Session-Id`) has its own server and
// transport, as the SDK's examples run them.
//
// Tools: `add` ({a, b}: text and structured content), `fail` (throws: the SDK answers a result
// with `isError`), `count` ({to}: a progress notification per step when the client asked for
// progress, then the count), `slow` ({ms}: answers after that long), `meta` (the `_meta` it got),
// `echo` ({text}: the text back).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, isInitializeRequest, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** What the tests plug into the servers' tools: `onMeta(meta)` for the `meta` tool. */
export const hooks = {};

function mcpServer() {
  const server = new McpServer({ name: 'edgetrace-test-tools', version: '1.0.0' });
  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
    structuredContent: { sum: a + b },
  }));
  server.registerTool('fail', { description: 'Always fails', inputSchema: { why: z.string() } }, async ({ why }) => {
    throw new Error(`the tool failed: ${why}`);
  });
  server.registerTool('count', { description: 'Counts, reporting progress', inputSchema: { to: z.number() } }, async ({ to }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= to; i++) {
      await new Promise((r) => setTimeout(r, 5));
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: to, message: `step ${i}` } });
    }
    return { content: [{ type: 'text', text: `counted to ${to}` }] };
  });
  // The request's `_meta` as the tool got it, and, where it holds a `traceparent`, a span of the
  // server's own continuing that trace (`onMeta`, given by the test, runs the tool's work).
  server.registerTool('meta', { description: 'Answers the _meta it got', inputSchema: {} }, async (_args, extra) => ({
    content: [{ type: 'text', text: JSON.stringify((await hooks.onMeta?.(extra._meta)) ?? extra._meta ?? null) }],
  }));
  server.registerTool('slow', { description: 'Answers after ms milliseconds', inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
    // One progress notification at once, where the client asked for progress: a stream's only
    // chunk until the answer.
    const token = extra._meta?.progressToken;
    if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 0, total: 1 } });
    await new Promise((r) => setTimeout(r, ms));
    return { content: [{ type: 'text', text: `waited ${ms} ms` }] };
  });
  server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

function rawServer() {
  const server = new Server({ name: 'edgetrace-test-raw', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    if (req.params.name !== 'echo') throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
    return { content: [{ type: 'text', text: String(req.params.arguments?.text) }] };
  });
  return server;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** @returns {Promise<{ url: string, requests: { path: string, method: string, body: any }[], close: () => Promise<void> }>} */
export async function startMcpServer() {
  const sessions = new Map();
  const requests = [];
  const http = createServer(async (req, res) => {
    try {
      // `/gw/…` serves the same, for a test that registers `/gw` as a model API's base URL.
      const path = new URL(req.url, 'http://x').pathname.replace(/^\/gw(?=\/)/, '');
      if (path === '/mcp-stateless') {
        // Stateless: a server and transport per request, no session id (as the SDK's stateless
        // example runs them), answering by JSON.
        const body = req.method === 'POST' ? await readBody(req) : undefined;
        requests.push({ path, method: req.method, body });
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
        res.on('close', () => transport.close());
        await mcpServer().connect(transport);
        await transport.handleRequest(req, res, body);
        return;
      }
      if (path !== '/mcp' && path !== '/mcp-json' && path !== '/mcp-raw') {
        res.writeHead(404).end();
        return;
      }
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      requests.push({ path, method: req.method, body });
      const id = req.headers['mcp-session-id'];
      let transport = id ? sessions.get(id) : undefined;
      if (!transport && !id && req.method === 'POST' && isInitializeRequest(body)) {
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: path === '/mcp-json',
          onsessioninitialized: (sid) => sessions.set(sid, transport),
        });
        transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
        await (path === '/mcp-raw' ? rawServer() : mcpServer()).connect(transport);
      }
      if (!transport) {
        // As the SDK's example servers answer a request of no session they know.
        res.writeHead(id ? 404 : 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: id ? 'Session not found' : 'Bad Request: No valid session ID provided' }, id: null }));
        return;
      }
      await transport.handleRequest(req, res, body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    }
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    requests,
    sessions,
    close: async () => {
      for (const t of sessions.values()) await t.close().catch(() => {});
      http.closeAllConnections?.();
      await new Promise((r) => http.close(r));
    },
  };
}
