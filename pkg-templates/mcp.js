// `traceMcpTool`: an MCP server's tool handler traced, the server's side of a tool call. A module
// of its own (`edgetrace/mcp`), so that the up-front browser entry does not carry it.
//
// Each call of the handler (as the official TypeScript SDK's `McpServer` calls a `registerTool`
// callback: `(args, extra)`, or `(extra)` for a tool with no input schema) runs in a TOOL span
// named after the tool, its arguments for inputs and its result for outputs, with the attributes
// of OpenTelemetry's MCP server span. A call that carries a `traceparent` in its `params._meta`
// (a client traced with `traceFetch(fetch, { mcpTraceContext: true })`, or any client that follows
// OpenTelemetry's MCP conventions) continues the client's trace, under its tool call span.

import { SpanType, withSpan } from './edgetrace.js';

// W3C's traceparent: lower-case hex, a trace id and a span id that are not all zeros.
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * @template {(...a: any[]) => any} H
 * @param {string} name the tool's name, as registered
 * @param {H} handler the tool's callback
 * @param {{ name?: string }} [options] `name`: the span's name (default: the tool's)
 * @returns {H}
 */
export function traceMcpTool(name, handler, options) {
  if (typeof handler !== 'function') throw new TypeError('traceMcpTool(name, handler): the handler is not a function');
  const tool = String(name);
  const spanName = options?.name || tool;
  // An async handler runs in an async body: where there is no AsyncLocalStorage (browsers, Workers
  // without nodejs_compat), withSpan keeps its span after the handler's awaits only so.
  const isAsync = handler.constructor?.name === 'AsyncFunction';
  return function tracedMcpTool(...a) {
    // The SDK's `extra` comes last: `(args, extra)`, or `(extra)` for a tool with no input schema.
    const extra = a.length > 1 ? a[a.length - 1] : a[0]?.requestId !== undefined && a[0]?.signal ? a[0] : undefined;
    const args = extra === a[0] ? undefined : a[0];
    let traceparent;
    const attributes = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool' };
    try {
      const tp = extra?._meta?.traceparent;
      // Only a valid one: another leaves the span where it would be without one.
      if (typeof tp === 'string' && TRACEPARENT.test(tp)) traceparent = tp;
      if (extra?.requestId !== undefined) attributes['jsonrpc.request.id'] = String(extra.requestId);
      if (typeof extra?.sessionId === 'string') attributes['mcp.session.id'] = extra.sessionId;
    } catch {
      // An `extra` of the app's own making that throws when read: the span without them.
    }
    const spanOptions = { name: spanName, spanType: SpanType.TOOL, attributes, inputs: args ?? {} };
    // The client's trace, under its tool call, as OpenTelemetry's MCP conventions ask.
    if (traceparent) Object.assign(spanOptions, { traceparent, parent: null });
    const failed = (span, r) => {
      try {
        if (r?.isError !== true) return;
        // The tool's failure is a result: ERROR with what it said, and a ToolError event, by
        // which MLflow's UI marks the span (as traceFetch marks the client's span).
        const said = (Array.isArray(r.content) ? r.content : []).filter((c) => typeof c?.text === 'string').map((c) => c.text).join('\n') || 'the tool reported an error';
        const e = new Error(said);
        e.name = 'ToolError';
        e.stack = '';
        span.recordException(e);
        span.setStatus('ERROR', said);
      } catch {
        // A result that throws when read is the app's, as it is.
      }
    };
    if (isAsync) {
      return withSpan(async (span) => {
        const r = await handler.apply(this, a);
        failed(span, r);
        return r;
      }, spanOptions);
    }
    return withSpan((span) => {
      const out = handler.apply(this, a);
      // A promise is followed to its result; another thenable goes back as it is (withSpan does
      // not run one either).
      if (out instanceof Promise) return out.then((r) => (failed(span, r), r));
      failed(span, out);
      return out;
    }, spanOptions);
  };
}
