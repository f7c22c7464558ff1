/**
 * An MCP server's tool handler traced (the official TypeScript SDK's `registerTool` callback):
 * each call a TOOL span named after the tool, its arguments in and its result out, with the
 * attributes of OpenTelemetry's MCP server span (`mcp.method.name`, `gen_ai.tool.name`,
 * `jsonrpc.request.id`, `mcp.session.id`). A result with `isError` sets ERROR with what the tool
 * said; a throw is recorded and re-thrown unchanged. A call whose `params._meta` carries a
 * `traceparent` (a client traced with `traceFetch(fetch, { mcpTraceContext: true })`) continues
 * the client's trace, under its tool call.
 *
 * ```js
 * server.registerTool('get_weather', { inputSchema: { city: z.string() } },
 *   traceMcpTool('get_weather', async ({ city }) => ({ content: [{ type: 'text', text: await weatherOf(city) }] })));
 * ```
 * @param name the tool's name, as registered
 * @param handler the tool's callback, called as the SDK calls it
 * @param options `name`: the span's name (default: the tool's)
 */
export declare function traceMcpTool<H extends (...args: any[]) => any>(name: string, handler: H, options?: { name?: string }): H;
