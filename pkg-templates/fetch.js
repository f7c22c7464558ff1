// traceFetch: a fetch that records calls to model APIs as MLflow LLM spans.
//
// The model API parsers are a wasm module of their own (`LlmCalls`), loaded on the first model
// call (`_internal.llm()`), so pages that trace only their own functions never load them. The
// request goes to the parsers once, each streamed chunk as it is handed to the caller (the
// caller gets exactly the bytes the API sent, with no added delay beyond one copy into wasm
// memory), and a non-streamed body is read from a clone, so the caller's response is untouched.
// The parsers answer in the core's command format, which `_internal.llmRun` hands to the core.
// The fetch itself never waits for the parsers to load. Headers are never recorded, and only the
// URL's origin and path are (no query string: Gemini puts API keys there).

import { _internal, getCurrentActiveSpan, startSpan } from './edgetrace.js';
import { BodyEnd, isUserAbort, watchBody } from './stream.js';

const ORIGINAL = Symbol.for('edgetrace.originalFetch');
let fetchIds = 0;
const OPERATION = {
  openai: 'chat',
  'openai-responses': 'responses',
  'openai-embeddings': 'embeddings',
  anthropic: 'messages',
  gemini: 'generate_content',
  ollama: 'chat',
  'ollama-generate': 'generate',
  'bedrock-converse': 'chat',
  'bedrock-invoke': 'chat',
  'workers-ai': 'chat',
};
const registered = [];

/**
 * Registers a base URL whose requests are model API calls in `format` (for services on custom
 * paths), with the provider name MLflow should show.
 * @param {{ baseUrl: string, format?: string, provider?: string }} api
 */
export function registerModelApi(api) {
  if (!api?.baseUrl) return;
  registered.push({ baseUrl: String(api.baseUrl).replace(/\/+$/, ''), format: api.format || 'openai', provider: api.provider });
}

function requestInfo(input, init) {
  const isRequest = typeof Request !== 'undefined' && input instanceof Request;
  const url = new URL(isRequest ? input.url : String(input instanceof URL ? input.href : input), globalThis.location?.href);
  const method = (init?.method || (isRequest ? input.method : 'GET')).toUpperCase();
  return { url, method, isRequest };
}

// Model API paths by their ending, after any query and trailing slashes: the rule of the Rust
// `llm::Format::detect` (src/llm/mod.rs), kept out of the wasm core every page loads.
const LLM_PATHS = [
  ['/chat/completions', 'openai'], ['/responses', 'openai-responses'], ['/embeddings', 'openai-embeddings'],
  ['/v1/messages', 'anthropic'], [':generateContent', 'gemini'], [':streamGenerateContent', 'gemini'],
];

// Amazon Bedrock: `/model/{modelId}/{operation}`, the modelId escaped into one segment. Vertex
// AI's partner models: Anthropic's take its Messages, Mistral's OpenAI's chat.
const BEDROCK = /\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;
const VERTEX = /\/publishers\/(anthropic|mistralai)\/models\/[^/]+:(?:rawPredict|streamRawPredict)$/;
// Cloudflare Workers AI's own API: its REST API's `/ai/run/{model}` and AI Gateway's
// `/workers-ai/{model}` (or `/workers-ai/run/{model}`), the model (`@cf/…`, `@hf/…`) with its
// slashes, or escaped.
const WORKERS_AI = /\/(?:ai\/run|workers-ai(?:\/run)?)\/(?:@|%40).+$/;

/** The model API format a request path is in (`openai`, `anthropic`…), or undefined. */
export function llmFormatOf(path) {
  const q = path.indexOf('?');
  let end = q < 0 ? path.length : q;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--; // '/'
  const p = path.slice(0, end);
  for (const [suffix, format] of LLM_PATHS) if (p.endsWith(suffix)) return format;
  const b = BEDROCK.exec(p);
  if (b) return b[2].startsWith('converse') ? 'bedrock-converse' : 'bedrock-invoke';
  const v = VERTEX.exec(p);
  if (v) return v[1] === 'anthropic' ? 'anthropic' : 'openai';
  if (WORKERS_AI.test(p)) return 'workers-ai';
  return undefined;
}

// Ollama's own API: its chat and its generation. `/api/chat` is also many apps' own route (the AI
// SDK's `useChat` posts there), so it is Ollama's only on Ollama's port, 11434, on its cloud
// (ollama.com), or under a base URL registered as `ollama`; its other POSTs there (pulling,
// creating models) are no model calls.
const OLLAMA = /\/api\/(chat|generate)\/*$/;

// Under a registered base URL, a known model API path keeps its own format (a vLLM server
// serves chat, Responses and embeddings side by side) with the registered provider; another path
// is a call in the registered format when it is a POST, as every model call is (GET /v1/models
// is none).
// `init`: the request's, to find an MCP tool call by its body where the path names no model API
// (a model request may quote a tool call's JSON in its messages: it stays a model call).
function formatOf({ url, method }, init) {
  const full = url.origin + url.pathname;
  const r = registered.find((r) => full.startsWith(r.baseUrl));
  // Model calls are POSTs: a GET of a model API path (listing stored completions) is not one.
  if (method !== 'POST') return null;
  const ollama = OLLAMA.exec(url.pathname);
  if (ollama && (url.port === '11434' || url.hostname === 'ollama.com' || r?.format === 'ollama')) return { format: ollama[1] === 'chat' ? 'ollama' : 'ollama-generate', provider: r?.provider };
  const byPath = llmFormatOf(url.pathname);
  // An MCP message (a JSON-RPC body) under a registered base URL (a gateway serving `/mcp` beside
  // its model API) is no model call: a tool call is MCP's, the session's other messages no one's.
  if (!byPath && jsonRpcBody(init)) return mcpOf({ method }, init);
  const format = byPath || (r?.format !== 'ollama' && r?.format);
  return format ? { format, provider: r?.provider } : null;
}

// An MCP tool call: a JSON-RPC `tools/call` request POSTed to an MCP server's endpoint by MCP's
// Streamable HTTP transport, whose clients (the official SDK's, the AI SDK's) send the message as
// a string. Found by its body, as MCP servers live at any path; traceModelCall checks the parsed
// message (src/llm/mcp.rs's `is_tool_call`).
const MCP_CALL = /"method"\s*:\s*"tools\/call"/;
const JSON_RPC = /"jsonrpc"\s*:\s*"2\.0"/;
const jsonRpcBody = (init) => typeof init?.body === 'string' && init.body.includes('"jsonrpc"') && JSON_RPC.test(init.body);
function mcpOf({ method }, init) {
  const b = init?.body;
  return method === 'POST' && typeof b === 'string' && b.includes('tools/call') && MCP_CALL.test(b) ? { format: 'mcp' } : null;
}

async function bodyText(input, init, isRequest) {
  const b = init?.body;
  if (typeof b === 'string') return b;
  if (ArrayBuffer.isView(b) || b instanceof ArrayBuffer) return new TextDecoder().decode(b);
  // A Blob (or File) is read without being used up: fetch reads it again.
  if (typeof Blob === 'function' && b instanceof Blob) {
    try {
      return await b.text();
    } catch {
      return '';
    }
  }
  if (b == null && isRequest && input.body) {
    try {
      return await input.clone().text();
    } catch {
      return '';
    }
  }
  return '';
}

/**
 * Wraps `fetchImpl` (default: the global fetch) so calls to model APIs become CHAT_MODEL /
 * EMBEDDING spans, and MCP tool calls (`tools/call` over MCP's Streamable HTTP) TOOL spans. Other
 * requests pass through untouched, or as generic spans with `traceAll`.
 * @param {typeof fetch} [fetchImpl]
 * @param {{ traceAll?: boolean, includeUsage?: boolean, name?: string }} [options]
 * @returns {typeof fetch}
 */
export function traceFetch(fetchImpl, options = {}) {
  // A traced fetch (the global one after instrumentGlobalFetch(), or one of traceFetch's) is
  // unwrapped: each call is recorded once, by the outermost.
  const base = _untraced(fetchImpl || globalThis.fetch);
  // Always call the underlying fetch with the global object as `this` (Workers throw "Illegal
  // invocation" otherwise); a fetch the user bound keeps its own binding.
  const call = (input, init) => base.call(globalThis, input, init);
  // Which traced fetch made an MCP call: with no session to tell clients apart, a client's cancel
  // is matched to the calls of its own fetch (mcpCancelled).
  call.id = ++fetchIds;
  const traced = async function tracedFetch(input, init) {
    let info;
    let api;
    let core;
    // The parent is taken before any await: without AsyncLocalStorage (browsers) the active span
    // is found from the async stack, which no longer leads here after an await. Where that stack
    // does not lead to a traced function (an SDK's middleware returned its promise unawaited), the
    // one trace in flight is taken, and the span says so (`inferred`).
    let inferred = false;
    const active = () => {
      try {
        // An ended span too: a call made by work it left running (the AI SDK's streamText starts
        // its request when its stream is read, after the traced function returned) continues its
        // trace under it, as withSpan's spans do.
        const found = options.parent?.(input, init) || getCurrentActiveSpan(1);
        if (found) return found;
        const guess = _internal.soleAsyncSpan();
        inferred = !!guess;
        return guess ?? null;
      } catch {
        return null;
      }
    };
    let parent;
    try {
      core = _internal.core();
      if (!core && _internal.loading()) {
        // A call in the first moments of a page, while the core compiles: wait for it.
        parent = active();
        core = await _internal.coreReady();
      }
      info = core ? requestInfo(input, init) : null;
      if (info && _internal.isExportUrl(info.url)) info = null;
      api = info ? formatOf(info, init) : null;
    } catch {
      info = null;
    }
    if (!api && info?.method === 'POST') mcpCancelled(info, init, call);
    if (!info || (!api && !options.traceAll)) return call(input, init);
    if (parent === undefined) parent = active();
    // A traced fetch called by one (a wrapper the app handed traceFetch calling the traced global
    // fetch): the outer one records the call, once.
    if (parent?._fetch) return call(input, init);
    const done = api ? traceModelCall(call, input, init, info, api, options, parent, inferred) : traceGeneric(call, input, init, info, options, parent, inferred);
    // The parent hook hears when the call is answered, and how (edgetrace/langchain tells a
    // retry from a new call so).
    const settled = options.parent?.settled;
    if (settled) done.then((res) => settled(parent, !!res?.ok), () => settled(parent, false)).catch(() => {});
    return done;
  };
  traced[ORIGINAL] = base;
  return traced;
}

// Makes the call with its span active: a traced fetch it reaches (see traceFetch) leaves it be.
function callIn(span, call, input, init) {
  if (!span._h) return call(input, init);
  span._fetch = true;
  return _internal.runWith(span, () => call(input, init));
}

// A traced call's own attributes; `inferred`: its parent was the one trace in flight (see
// `active` in traceFetch), not found on the async stack.
function callAttributes(info, inferred) {
  const a = { 'http.request.method': info.method, 'url.full': info.url.origin + info.url.pathname };
  if (inferred) a['edgetrace.parent_inferred'] = true;
  return a;
}

async function traceGeneric(call, input, init, info, options, parent, inferred) {
  const span = startSpan({
    parent,
    name: options.name || `${info.method} ${info.url.host}${info.url.pathname}`,
    attributes: callAttributes(info, inferred),
  });
  try {
    const res = await callIn(span, call, input, init);
    span.setAttribute('http.response.status_code', res.status);
    if (res.status >= 500) span.setStatus('ERROR', `HTTP ${res.status}`);
    span.end();
    return res;
  } catch (e) {
    span.recordException(e);
    span.end();
    throw e;
  }
}

// MCP tool calls in flight, by session (or, with none, by the traced fetch that made them),
// endpoint and request id: a client that gives up on one (its timeout, its abort) says so in a
// `notifications/cancelled` of its own, without aborting the request (the official SDK), so the
// call's span ends there.
const mcpCalls = new Map();
const mcpKey = (session, info, id, call) => `${session ? `s ${session}` : `f ${call.id}`} ${info.url.origin}${info.url.pathname} ${JSON.stringify(id)}`;
function mcpCancelled(info, init, call) {
  const b = init?.body;
  if (typeof b !== 'string' || !b.includes('notifications/cancelled') || !mcpCalls.size) return;
  try {
    const m = JSON.parse(b);
    if (m?.method !== 'notifications/cancelled' || m.params?.requestId === undefined) return;
    const calls = mcpCalls.get(mcpKey(new Headers(init.headers).get('mcp-session-id'), info, m.params.requestId, call));
    // Two clients sharing one traced fetch and an endpoint with no session may use the same id:
    // which one gave up is not known.
    if (calls?.size === 1) for (const cancel of calls) cancel(m.params.reason);
  } catch {
    // Not one after all.
  }
}

async function traceModelCall(call, input, init, info, api, options, parent, inferred) {
  let text = await bodyText(input, init, info.isRequest);
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  const mcp = api.format === 'mcp';
  if (mcp && !(parsed?.jsonrpc === '2.0' && parsed.method === 'tools/call' && (typeof parsed.id === 'string' || typeof parsed.id === 'number'))) {
    // No tool call after all (its text only quoted): what the request is without its body.
    const other = formatOf(info);
    if (other) return traceModelCall(call, input, init, info, other, options, parent, inferred);
    return options.traceAll ? traceGeneric(call, input, init, info, options, parent, inferred) : call(input, init);
  }
  // With the user's leave, ask OpenAI to report usage at the end of a stream.
  if (options.includeUsage && api.format === 'openai' && parsed?.stream === true && !parsed.stream_options && typeof init?.body === 'string') {
    parsed.stream_options = { include_usage: true };
    text = JSON.stringify(parsed);
    init = { ...init, body: text };
  }
  // The model asked for names the span: the path's where the API puts it there (an Azure OpenAI
  // deployment, `/openai/deployments/{deployment}/…` or a Cloudflare AI Gateway's
  // `azure-openai/{resource}/{deployment}/…`, which stands for the model whatever the body says;
  // Gemini's `models/{model}:generateContent`, when the body names none), else the body's. The
  // parsers read the same for the model they record and price (`azure_deployment` and
  // `model_from_gemini_path` in src/llm/mod.rs); the span is named before they load.
  const gemini = api.format === 'gemini';
  // Bedrock's, Vertex AI's and Workers AI's paths name the model (their bodies do not).
  const inPath = gemini ? /\/models\/([^/:]+):/ : /\/openai\/deployments\/([^/]+)\/|\/azure-openai\/[^/]+\/([^/]+)\/|\/model\/([^/]+)\/(?:converse|invoke)|\/publishers\/[^/]+\/models\/([^/:]+):|\/(?:ai\/run|workers-ai(?:\/run)?)\/((?:@|%40).+?)\/*$/;
  let model = gemini ? parsed?.model : undefined;
  if (!model && !mcp) {
    const m = inPath.exec(info.url.pathname);
    model = m?.[1] ?? m?.[2] ?? m?.[3] ?? m?.[4] ?? m?.[5];
    try {
      model &&= decodeURIComponent(model);
    } catch {
      // A malformed escape: the path's text as it is.
    }
  }
  model ||= mcp ? parsed.params?.name : parsed?.model;
  const [op, spanType] = callKind(api.format, model, parsed);
  const attributes = callAttributes(info, inferred);
  // The official OpenAI, Anthropic and AWS SDKs number each attempt at a call they retry (after a
  // 429 or a 5xx), so an attempt's span says which it was.
  // A Bedrock call made by the AWS SDK (not by Anthropic's, which is made by Stainless and says so
  // in its headers) has its failed status named as that SDK throws it.
  let aws = api.format.startsWith('bedrock');
  let session;
  try {
    const headers = new Headers(init?.headers ?? (info.isRequest ? input.headers : undefined));
    const retry = headers.get('x-stainless-retry-count');
    if (retry !== null && retry !== '' && Number.isInteger(+retry)) attributes['edgetrace.llm.retry_count'] = +retry;
    // The AWS SDK numbers its attempts from 1 (`amz-sdk-request: attempt=2; max=3`).
    const attempt = /attempt=(\d+)/.exec(headers.get('amz-sdk-request'))?.[1];
    if (attempt) attributes['edgetrace.llm.retry_count'] = attempt - 1;
    aws &&= !headers.has('x-stainless-lang');
    // An MCP call's session and protocol version, which its client sends as headers.
    if (mcp) {
      session = headers.get('mcp-session-id');
      if (session) attributes['mcp.session.id'] = session;
      const version = headers.get('mcp-protocol-version');
      if (version) attributes['mcp.protocol.version'] = version;
      // The scheme's port where the URL names none (the parsers take one the host names).
      if (!info.url.port) attributes['server.port'] = info.url.protocol === 'https:' ? 443 : 80;
    }
  } catch {
    // Headers the platform refuses are the call's own affair.
  }
  const span = startSpan({
    parent,
    name: options.name || `${op}${model ? ` ${model}` : ''}`,
    // Its type from the start, so it holds even when the parsers cannot follow the call.
    spanType,
    attributes,
  });
  const h = span._h;
  // With the app's leave, an MCP tool call carries its span's trace context to the server in
  // `params._meta`, as OpenTelemetry's MCP conventions (and MCP's SEP-414) put it, where a traced
  // server continues the trace. Only a body that JSON gives back byte for byte (as the SDKs make
  // it) is rewritten: no number or spacing of the app's changes.
  if (mcp && options.mcpTraceContext && h) {
    try {
      const tp = span.traceparent();
      const p = parsed.params;
      if (tp && p && typeof p === 'object' && !Array.isArray(p) && JSON.stringify(parsed) === text) {
        const meta = p._meta && typeof p._meta === 'object' && !Array.isArray(p._meta) ? p._meta : {};
        // A traceparent the app put there itself is its own choice, and stays.
        if (meta.traceparent === undefined) init = { ...init, body: JSON.stringify({ ...parsed, params: { ...p, _meta: { ...meta, traceparent: tp } } }) };
      }
    } catch {
      // The request as the app made it.
    }
  }
  // The parsers follow the call from here; they may still be loading (browsers), so the request
  // is handed to them when they are ready, with the time the call started.
  const started = h ? followCall(span, api.format, info.url.host, info.url.pathname, mcp ? mcpKept(parsed, text, span) : _internal.redactBody(parsed, text, span), api.provider) : null;
  // The app's signal: its own abort, given a reason of its own, is a cancellation, not a failure
  // (a plain abort() before the answer is not told from an SDK's timeout, which aborts so).
  const signal = init?.signal ?? (info.isRequest ? input.signal : undefined);
  if (mcp && h) followMcpCancel(span, started, mcpKey(session, info, parsed.id, call), signal);
  let res;
  try {
    res = await callIn(span, call, input, init);
  } catch (e) {
    const llm = await started;
    _internal.llmRun(() => llm?.forget(h));
    // Ended already: the MCP client gave the call up (followMcpCancel).
    if (span._ended) throw e;
    if (span._gaveUp) {
      // The app's signal gave the MCP call up (mcpGaveUp said how).
      span.end({ endTimeMs: span._cancelAt });
      span._mcpDone?.();
      throw e;
    }
    if (isUserAbort(e, signal)) span.setAttribute('edgetrace.llm.cancelled', true);
    else span.recordException(e);
    span.end();
    span._mcpDone?.();
    throw e;
  }
  if (!h) return res;
  const llm = await started;
  if (span._ended) {
    _internal.llmRun(() => llm?.forget(h));
    return res;
  }
  if (!llm) {
    span.setAttribute('http.response.status_code', res.status);
    span.end();
    span._mcpDone?.();
    return res;
  }
  // The API's id for the request, which its support asks for: OpenAI's (and most compatible
  // services'), Anthropic's, Bedrock's, Workers AI's. Only it: no other header is recorded.
  try {
    const id = res.headers.get('x-request-id') || res.headers.get('request-id') || res.headers.get('x-amzn-requestid') || res.headers.get('cf-ai-req-id');
    if (id) span.setAttribute('edgetrace.llm.request_id', id);
    // Through Cloudflare AI Gateway: its log's id, to find the call in its logs.
    const log = res.headers.get('cf-aig-log-id');
    if (log) span.setAttribute('edgetrace.llm.gateway_log_id', log);
  } catch {
    // A response of the app's own making may have odd headers.
  }
  const type = res.headers.get('content-type') || '';
  let streaming = type.includes('text/event-stream');
  _internal.llmRun(() => {
    streaming ||= llm.streaming(h);
    if (aws) llm.aws_sdk(h, res.headers.get('x-amzn-errortype') || '');
    // Bedrock's InvokeModel counts the tokens in its headers, for the model families whose
    // bodies do not (Mistral's, Cohere's).
    if (api.format === 'bedrock-invoke') {
      const count = (k, v = res.headers.get(k)) => (/^\d+$/.test(v) ? +v : -1);
      llm.header_usage(h, count('x-amzn-bedrock-input-token-count'), count('x-amzn-bedrock-output-token-count'));
    }
  });
  if (res.body && res.ok && streaming) {
    return wrapStream(llm, span, res, signal, info.isRequest ? input : undefined);
  }
  // Not a stream. The span ends once the body is in: when the caller has read all of it (just
  // before its `res.json()` resolves, so before the traced function awaiting it ends), or when a
  // copy read here has (a caller that never reads the body). Ended from the copy alone, it ended
  // a few microtasks after the caller's read, after its parent.
  let settled = false;
  const settle = (chunks, error) => {
    if (settled || span._ended) return;
    settled = true;
    try {
      _internal.llmRun(() => llm.finish_body(h, res.status, error === undefined ? join(chunks) : new Uint8Array(0), _internal.now()));
      if (error === undefined) _internal.redactOutputs(span, llm);
      else span.recordException(error);
    } finally {
      span.end();
      span._mcpDone?.();
    }
  };
  let mine, theirs;
  try {
    // A status that has no body (204, 304) cannot be given one again (new Response refuses it).
    if (!res.body || NULL_BODY.includes(res.status)) throw 0;
    [mine, theirs] = res.body.tee();
  } catch {
    settle([]);
    return res;
  }
  const seen = [];
  const out = rewrap(res, watchBody(theirs, {
    onChunk: (chunk) => seen.push(chunk),
    onEnd: (how) => how === BodyEnd.COMPLETED && settle(seen),
  }));
  _internal.track(new Response(mine).arrayBuffer().then((buf) => settle([new Uint8Array(buf)]), (e) => settle([], e)));
  return out;
}

// Ends the MCP tool call on `span` when its client gives it up (mcpCancelled): a stream being read
// ends as cancelled; before the answer, the span ends now. The reason the client gave is kept, and
// a timeout is the span's error (the app got one).
// The app's `signal`, where it aborts the request (`@ai-sdk/mcp`'s timeout and abort do), says so
// too, before the request or stream ends.
function followMcpCancel(span, started, key, signal) {
  let calls = mcpCalls.get(key);
  if (!calls) mcpCalls.set(key, (calls = new Set()));
  const onAbort = () => mcpGaveUp(span, signal.reason);
  // The official SDK gives every request of a client its transport's one signal: the listener
  // goes with the call, or a long-lived client would keep every call's span.
  signal?.addEventListener?.('abort', onAbort, { once: true });
  const done = () => {
    signal?.removeEventListener?.('abort', onAbort);
    calls.delete(cancel);
    if (!calls.size && mcpCalls.get(key) === calls) mcpCalls.delete(key);
  };
  const cancel = (reason) => {
    done();
    if (span._ended) return;
    mcpGaveUp(span, reason);
    const abandon = reading.get(span);
    if (abandon) return abandon();
    _internal.track(started.then((llm) => _internal.llmRun(() => llm?.forget(span._h))));
    span.end({ endTimeMs: span._cancelAt });
  };
  calls.add(cancel);
  span._mcpDone = done;
}

// Says on `span` that its MCP client gave the call up, and why. A timeout is the span's error, as
// the app got one: ERROR, with an exception event of the reason's class (MLflow's UI marks spans
// by those); the app's own abort is not. The span ends then (`_cancelAt`), not at the last chunk.
function mcpGaveUp(span, reason) {
  if (span._ended || span._gaveUp) return;
  span._gaveUp = true;
  let text = '';
  try {
    text = reason instanceof Error ? `${reason.name}: ${reason.message}` : reason === undefined ? '' : String(reason);
  } catch {
    // A reason that throws when read: the cancellation alone.
  }
  span.setAttribute('edgetrace.mcp.cancelled', true);
  if (text) span.setAttribute('edgetrace.mcp.cancel_reason', text);
  if (/\btimed out\b|^TimeoutError\b/i.test(text)) {
    const m = /^(\w*Error): ([^]*)$/.exec(text);
    const e = new Error(m ? m[2] : text);
    e.name = m ? m[1] : 'TimeoutError';
    e.stack = '';
    span.recordException(e);
    span.setStatus('ERROR', text);
  }
  span._cancelAt = _internal.now();
}

// An MCP tool call's request as the parsers get it: the redaction hook sees the tool's arguments,
// which are the span's inputs (not the JSON-RPC envelope, whose id and tool name the parsers read).
function mcpKept(parsed, text, span) {
  const args = parsed.params?.arguments ?? {};
  const argsText = JSON.stringify(args);
  const kept = _internal.redactBody(args, argsText, span);
  if (kept === argsText) return text;
  let v;
  try {
    v = JSON.parse(kept);
  } catch {
    v = kept;
  }
  return JSON.stringify({ ...parsed, params: { ...parsed.params, arguments: v } });
}

/**
 * Hands the call on `span` (its request as text, `kept`) to the parsers, which may still be
 * loading (browsers), with the time the call started; `provider`, a registered one, names it.
 * Resolves to the parsers following it, or null.
 * @internal (workers-ai.js)
 */
export function followCall(span, format, host, path, kept, provider) {
  const t0 = _internal.now();
  const started = _internal.llm().then((llm) => {
    const ok = llm && _internal.llmRun(() => llm.start(span._h, format, host, path, kept, t0, _internal.maxValueBytes()));
    if (provider) span.setAttribute('mlflow.llm.provider', provider);
    return ok ? llm : null;
  });
  _internal.track(started);
  return started;
}

/**
 * A model call's operation, which names its span, and its span type, by the parsers' rules
 * (`LlmCall::span_type` in src/llm/mod.rs): the span is named and typed before they load.
 * @internal (workers-ai.js)
 */
export function callKind(format, model, req) {
  // An MCP tool call: a TOOL span named as OpenTelemetry's MCP conventions name it.
  if (format === 'mcp') return ['tools/call', 'TOOL'];
  const wai = format === 'workers-ai';
  const bedrock = format === 'bedrock-invoke';
  // A model whose id says it embeds: Bedrock's Titan and Cohere ones, Workers AI's.
  if (format === 'openai-embeddings' || (bedrock && /embed/.test(model)) || (wai && /\/bge-|embedding/.test(model))) return ['embeddings', 'EMBEDDING'];
  // A text completion (a `prompt`, no `messages`), an LLM span as MLflow's autolog types it.
  if ((bedrock || wai) && req?.prompt !== undefined && !req.messages) return ['text_completion', 'LLM'];
  // Workers AI's other tasks (a translation, a transcription, an image): a model's run.
  if (wai && !req?.messages && !Array.isArray(req?.input)) return ['run', 'LLM'];
  return [OPERATION[format] || 'llm', 'CHAT_MODEL'];
}

// Statuses whose responses have no body.
const NULL_BODY = [101, 103, 204, 205, 304];

/** The chunks as one array. */
function join(chunks) {
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/** A response like `res` with `body` for its body. */
function rewrap(res, body) {
  const out = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  try {
    Object.defineProperties(out, { url: { value: res.url }, redirected: { value: res.redirected }, type: { value: res.type } });
  } catch {
    /* keep the default */
  }
  return out;
}

// Model streams being read, by their spans. A Worker's request that ends with one still open (its
// app stopped reading: an SDK's `break` that leaves the body unread) ends it as abandoned, with
// what was read, before its last flush: workerd stops the request's I/O after that flush, so it
// would never end (settleTrace in edgetrace.js).
const reading = new Map();
_internal.abandonStreams = (traceId) => {
  for (const [span, abandon] of reading) if (span.traceId === traceId) abandon();
};

function wrapStream(llm, span, res, signal, keep) {
  return rewrap(res, watchModelStream(llm, span, res.body, res.status, signal, keep));
}

/**
 * `body`, a model's stream, watched for the call on `span` (its `status`; the app's `signal`):
 * each chunk handed to the parsers as it reaches the app, the span ended with the stream.
 * @internal (workers-ai.js)
 */
export function watchModelStream(llm, span, source, status, signal, keep) {
  const h = span._h;
  // When the app last got a chunk (epoch ms): a body it let go ends then, not when that is found
  // (a Worker's request settling, a collection).
  let read = 0;
  let over = false;
  let abandon;
  return watchBody(source, {
    signal,
    keep,
    register: (a) => reading.set(span, (abandon = a)),
    onChunk: (chunk) => {
      if (over) return;
      read = _internal.now();
      _internal.llmRun(() => {
        over = llm.chunk(h, chunk, read) === 2;
      });
      // The API's error ended the call (an error event, a Bedrock exception), or an MCP tool
      // call's response came: the SDKs throw (or answer) there and may never read on, so the span
      // ends with it, before the code that called it (and by the clock then, after the events
      // the parsers' answer stamps: an exception's).
      if (over) {
        read = 0;
        abandon?.();
      }
    },
    onEnd(how, error) {
      reading.delete(span);
      over = true;
      // An MCP call its client gave up ends then (mcpGaveUp).
      const at = span._cancelAt ?? (how === BodyEnd.ABANDONED && read ? read : _internal.now());
      try {
        _internal.llmRun(() => llm.finish_stream(h, how, status, at));
        _internal.redactOutputs(span, llm);
        if (error !== undefined) span.recordException(error);
      } finally {
        span.end(at === read || at === span._cancelAt ? { endTimeMs: at } : undefined);
        span._mcpDone?.();
      }
    },
  });
}

/**
 * Replaces the global fetch with a traced one. Returns a function that puts the original back.
 * @param {{ traceAll?: boolean, includeUsage?: boolean }} [options]
 */
export function instrumentGlobalFetch(options) {
  const original = globalThis.fetch;
  if (!original || original[ORIGINAL]) return () => {};
  globalThis.fetch = traceFetch(original, options);
  return () => {
    globalThis.fetch = original;
  };
}

/** The untraced fetch behind a traced one. @internal */
export function _untraced(f) {
  return f?.[ORIGINAL] || f;
}
