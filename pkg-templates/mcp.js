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

/**
 * @template {(...a: any[]) => any} H
 * @param {string} name the tool's name, as registered
 * @param {H} handler the tool's callback
 * @param {{ name?: string }} [options] `name`: the span's name (default: the tool's)
 * @returns {H}
 */
export function traceMcpTool(name, handler, options = {}) {
  if (typeof handler !== 'function') throw new TypeError('traceMcpTool(name, handler): the handler is not a function');
  const tool = String(name);
  return function tracedMcpTool(...a) {
    // The SDK's `extra` comes last: `(args, extra)`, or `(extra)` for a tool with no input schema.
    const extra = a.length > 1 ? a[a.length - 1] : a[0]?.requestId !== undefined && a[0]?.signal ? a[0] : undefined;
    const args = extra === a[0] ? undefined : a[0];
    let traceparent;
    const attributes = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool' };
    try {
      const tp = extra?._meta?.traceparent;
      if (typeof tp === 'string') traceparent = tp;
      if (extra?.requestId !== undefined) attributes['jsonrpc.request.id'] = String(extra.requestId);
      if (typeof extra?.sessionId === 'string') attributes['mcp.session.id'] = extra.sessionId;
    } catch {
      // An `extra` of the app's own making that throws when read: the span without them.
    }
    const spanOptions = { name: options.name || tool, spanType: SpanType.TOOL, attributes, inputs: args ?? {} };
    // The client's trace, under its tool call, as OpenTelemetry's MCP conventions ask.
    if (traceparent) Object.assign(spanOptions, { traceparent, parent: null });
    return withSpan((span) => {
      const out = handler.apply(this, a);
      const failed = (r) => {
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
      if (out && typeof out.then === 'function') return Promise.resolve(out).then((r) => (failed(r), r));
      failed(out);
      return out;
    }, spanOptions);
  };
}
