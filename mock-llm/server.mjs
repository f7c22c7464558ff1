// A local, deterministic stand-in for the OpenAI, Anthropic, Gemini, Ollama, Amazon Bedrock Runtime and
// Claude-on-Vertex-AI HTTP APIs, for tests and the demo. It speaks the providers' real wire formats
// (JSON bodies, SSE framing, AWS event streams, error shapes) so the official SDKs parse its answers,
// and it can be told per request to fail, stall or break a stream.
// Node built-ins only. See README.md beside this file for the routes and the x-mock-* switches.
//
//   import { startMockLlm } from './mock-llm/server.mjs';
//   const llm = await startMockLlm();            // { url, port, close(), requests }
//
//   node mock-llm/server.mjs --port 8788        // serves until SIGINT/SIGTERM, prints its URL
import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The fixed `created` / `created_at` timestamp of every answer. */
export const CREATED = 1700000000;
/** Content pieces in a stream unless `x-mock-chunks` says otherwise. */
export const DEFAULT_CHUNKS = 8;
/** The most content pieces `x-mock-chunks` may ask for. */
export const MAX_CHUNKS = 100_000;
/** The arguments of every tool call the mock makes. */
export const TOOL_ARGUMENTS = '{"city":"Paris"}';
/** Dimensions of an embedding unless the request's `dimensions` says otherwise. */
export const EMBEDDING_DIMS = 8;

const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// ---------------------------------------------------------------------------------------------
// Deterministic ids, text and token counts
// ---------------------------------------------------------------------------------------------

const sha = (s) => createHash('sha256').update(s).digest();

function hexId(seed, label, n) {
  let out = '';
  for (let i = 0; out.length < n; i++) out += sha(`${label}\0${i}\0${seed}`).toString('hex');
  return out.slice(0, n);
}

function alnumId(seed, label, n) {
  let out = '';
  for (let i = 0; out.length < n; i++) {
    for (const b of sha(`${label}\0${i}\0${seed}`)) if (b < 248 && out.length < n) out += ALNUM[b % 62];
  }
  return out;
}

/** Token counts are whitespace-separated words. */
export const countTokens = (s) => (String(s ?? '').match(/\S+/g) || []).length;

/** The text of a message's content in any provider's shape (string, parts, blocks, tool results). */
function textOf(c) {
  if (c == null) return '';
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map(textOf).filter((s) => s !== '').join('\n');
  if (typeof c === 'object') {
    if (typeof c.text === 'string') return c.text;
    if (c.functionResponse) return JSON.stringify(c.functionResponse.response ?? {});
    if (c.type === 'tool_result') return textOf(c.content);
    if (c.type === 'function_call_output') return textOf(c.output);
    if (c.type === 'refusal' && typeof c.refusal === 'string') return c.refusal;
  }
  return '';
}

/** The assistant's answer: `Echo: <text>`, padded with filler words to at least `chunks` characters. */
export function answerText(userText, chunks = DEFAULT_CHUNKS) {
  let text = userText === '' ? 'Echo:' : `Echo: ${userText}`;
  let len = Array.from(text).length;
  for (let i = 0; len < chunks; i++) {
    const w = FILLER[i % FILLER.length];
    text += ` ${w}`;
    len += w.length + 1;
  }
  return text;
}

/** `text` cut into `n` pieces of near-equal length (in code points; never more pieces than code points). */
export function splitPieces(text, n) {
  const cps = Array.from(text);
  const count = Math.max(1, Math.min(n, cps.length));
  const base = Math.floor(cps.length / count);
  const extra = cps.length % count;
  const out = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = base + (i < extra ? 1 : 0);
    out.push(cps.slice(at, at + len).join(''));
    at += len;
  }
  return out;
}

function findLast(arr, pred) {
  for (let i = arr.length - 1; i >= 0; i--) if (pred(arr[i])) return arr[i];
  return undefined;
}

/** The tool to call: the one `choice` names if any, else the first; null when there is none or choice is 'none'. */
function pickTool(tools, choice, nameOf) {
  if (!Array.isArray(tools) || tools.length === 0 || choice === 'none') return null;
  const names = tools.map(nameOf).filter((n) => typeof n === 'string' && n);
  if (choice && names.includes(choice)) return choice;
  return names[0] ?? null;
}

const toolTokens = (name) => countTokens(`${name} ${TOOL_ARGUMENTS}`);

// ---------------------------------------------------------------------------------------------
// Wire encodings
// ---------------------------------------------------------------------------------------------

const sseData = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
const sseEvent = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`;

/** Google's single-line JSON: `"key": value` inside, no space after commas. */
function googleLine(v) {
  if (Array.isArray(v)) return `[${v.map(googleLine).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${googleLine(x)}`).join(',')}}`;
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Errors, in each provider's shape
// ---------------------------------------------------------------------------------------------

const OPENAI_ERRORS = {
  400: ['invalid_request_error', null, 'Invalid request (mock-llm x-mock-status: 400).'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.'],
  403: ['invalid_request_error', null, 'You are not allowed to make this request.'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist or you do not have access to it.'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests per min (RPM). Please try again later.'],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  502: ['server_error', null, 'Bad gateway.'],
  503: ['server_error', null, 'The server is overloaded or not ready yet.'],
};
const ANTHROPIC_ERRORS = {
  400: ['invalid_request_error', 'Invalid request (mock-llm x-mock-status: 400).'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of requests has exceeded your per-minute rate limit.'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};
// Bedrock's errors: `{"message": …}`, named by the `x-amzn-errortype` header.
const BEDROCK_ERRORS = {
  400: ['ValidationException', 'Malformed input request, please reformat your input and try again.'],
  403: ['AccessDeniedException', "You don't have access to the model with the specified model ID."],
  404: ['ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.'],
  408: ['ModelTimeoutException', 'Model has timed out in processing the request. Try your request again.'],
  424: ['ModelErrorException', 'The model returned an error. Try your request again.'],
  429: ['ThrottlingException', 'Too many requests, please wait before trying again.'],
  500: ['InternalServerException', 'The system encountered an unexpected error during processing. Try your request again.'],
  503: ['ServiceUnavailableException', 'Bedrock is unable to process your request.'],
};
// Errors of AWS's front door, before Bedrock itself: their type has no Coral namespace.
const AWS_FRONT_ERRORS = new Set(['MissingAuthenticationTokenException', 'UnknownOperationException']);
// Workers AI's errors: [internal code, name, description]. The codes are those of Cloudflare's table
// of Workers AI errors (401 is the API's `Authentication error`); 5xx has none there, 3043 is the mock's.
const WORKERS_AI_ERRORS = {
  400: [5006, 'AiError', 'Bad input: Error: mock-llm x-mock-status: 400'],
  401: [10000, 'AuthenticationError', 'Authentication error'],
  403: [3023, 'AccountBlocked', 'Service unavailable for account'],
  404: [3042, 'InvalidModelId', 'The model name is invalid'],
  405: [5019, 'DeprecatedSdkVersion', 'Request trying to use deprecated SDK version'],
  408: [3007, 'Timeout', 'Request timeout'],
  413: [3006, 'RequestTooLarge', 'Request is too large'],
  429: [3040, 'OutOfCapacity', 'No more data centers to forward the request to'],
  500: [3043, 'InternalServerError', 'Internal server error'],
};
const GOOGLE_STATUS = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

/**
 * An error answer: `{ status, headers, body }` in the provider's shape. Workers AI: `code` is the
 * internal code, `type` the name, `message` the description, `rest` the REST API's message if it is
 * not the description (`AiError: <description>` for an AiError).
 */
function errorAnswer(provider, status, { message, param = null, code, type, rest } = {}) {
  // Workers AI: the REST API (and AI Gateway) in Cloudflare's v4 envelope; the binding's backend as
  // `{internalCode, message, name, description}`, which the binding throws as an InferenceUpstreamError.
  if (provider === 'workers-ai' || provider === 'workers-binding') {
    const [c, n, d] = WORKERS_AI_ERRORS[status] || (status >= 500 ? [3043, 'InternalServerError', 'Internal server error'] : [5006, 'AiError', `Bad input: Error: mock-llm error ${status}`]);
    const internalCode = code ?? c;
    const name = type ?? n;
    const description = message ?? d;
    if (provider === 'workers-binding') {
      return { status, contentType: 'application/json', body: JSON.stringify({ internalCode, message: `${name}: ${description}`, name, description }) };
    }
    const m = rest ?? (name === 'AiError' ? `AiError: ${description}` : description);
    return { status, contentType: 'application/json', body: JSON.stringify({ result: null, success: false, errors: [{ code: internalCode, message: m }], messages: [] }) };
  }
  // Ollama: `{"error": "<message>"}`.
  if (provider === 'ollama') return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: message ?? (status === 404 ? 'model not found, try pulling it first' : `mock-llm error ${status}`) }) };
  if (provider === 'bedrock') {
    const [t, m] = BEDROCK_ERRORS[status] || [status >= 500 ? 'InternalServerException' : 'ValidationException', `mock-llm error ${status}`];
    const name = type ?? t;
    const errorType = AWS_FRONT_ERRORS.has(name) ? name : `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
    return { status, headers: { 'x-amzn-errortype': errorType }, contentType: 'application/json', body: JSON.stringify({ message: message ?? m }) };
  }
  // Claude on Vertex AI answers Anthropic's errors.
  if (provider === 'anthropic' || provider === 'vertex') {
    const [t, m] = ANTHROPIC_ERRORS[status] || [status >= 500 ? 'api_error' : 'invalid_request_error', `Error ${status}`];
    return { status, contentType: 'application/json', body: JSON.stringify({ type: 'error', error: { type: type ?? t, message: message ?? m } }) };
  }
  if (provider === 'gemini') {
    const s = GOOGLE_STATUS[status] || (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
    const m = message ?? (status === 429 ? 'Resource has been exhausted (e.g. check quota).' : status === 401 ? 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.' : `mock-llm error ${status}`);
    return { status, contentType: 'application/json; charset=UTF-8', body: JSON.stringify({ error: { code: status, message: m, status: s } }, null, 2) + '\n' };
  }
  const [t, c, m] = OPENAI_ERRORS[status] || [status >= 500 ? 'server_error' : 'invalid_request_error', null, `Error ${status}`];
  const error = { message: message ?? m, type: type ?? t, param, code: code === undefined ? c : code };
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error }, null, 4) + '\n' };
}

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions
// ---------------------------------------------------------------------------------------------

function chatCompletions(b, ctx) {
  if (typeof b.model !== 'string' || !b.model) return errorAnswer('openai', 400, { message: 'you must provide a model parameter' });
  if (!Array.isArray(b.messages)) return errorAnswer('openai', 400, { message: "Missing required parameter: 'messages'.", param: 'messages', code: 'missing_required_parameter' });
  if (b.messages.length === 0) return errorAnswer('openai', 400, { message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", param: 'messages', code: 'empty_array' });

  const model = b.model;
  const promptTokens = b.messages.reduce((n, m) => n + countTokens(textOf(m?.content)), 0);
  const last = findLast(b.messages, (m) => m && ['user', 'tool', 'function'].includes(m.role));
  const toolResult = !!last && last.role !== 'user';
  const choice = b.tool_choice === 'none' ? 'none' : b.tool_choice?.function?.name;
  const tool = toolResult ? null : pickTool(b.tools, choice, (t) => t?.function?.name);
  const text = tool ? null : answerText(textOf(last?.content), ctx.chunks);
  const completionTokens = tool ? toolTokens(tool) : countTokens(text);
  const id = `chatcmpl-${alnumId(ctx.seed, 'chatcmpl', 29)}`;
  const callId = `call_${alnumId(ctx.seed, 'call', 24)}`;
  const fingerprint = `fp_${hexId(model, 'fp', 10)}`;
  const finish = tool ? 'tool_calls' : 'stop';
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  const headers = openaiHeaders(ctx);

  if (!b.stream) {
    const message = tool
      ? { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: tool, arguments: TOOL_ARGUMENTS } }], refusal: null, annotations: [] }
      : { role: 'assistant', content: text, refusal: null, annotations: [] };
    const out = {
      id, object: 'chat.completion', created: CREATED, model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage, service_tier: 'default', system_fingerprint: fingerprint,
    };
    return { status: 200, headers, contentType: 'application/json', body: JSON.stringify(out, null, 2) };
  }

  const includeUsage = b.stream_options?.include_usage === true;
  const chunk = (choices, usageValue = null) => ({
    id, object: 'chat.completion.chunk', created: CREATED, model, service_tier: 'default', system_fingerprint: fingerprint, choices,
    ...(includeUsage ? { usage: usageValue } : {}),
  });
  const choiceDelta = (delta, finishReason = null) => [{ index: 0, delta, logprobs: null, finish_reason: finishReason }];
  const frames = [];
  let pieces;
  if (tool) {
    frames.push(sseData(chunk(choiceDelta({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tool, arguments: '' } }], refusal: null }))));
    pieces = splitPieces(TOOL_ARGUMENTS, ctx.chunks);
    for (const p of pieces) frames.push(sseData(chunk(choiceDelta({ tool_calls: [{ index: 0, function: { arguments: p } }] }))));
  } else {
    frames.push(sseData(chunk(choiceDelta({ role: 'assistant', content: '', refusal: null }))));
    pieces = splitPieces(text, ctx.chunks);
    for (const p of pieces) frames.push(sseData(chunk(choiceDelta({ content: p }))));
  }
  frames.push(sseData(chunk(choiceDelta({}, finish))));
  if (includeUsage) frames.push(sseData(chunk([], usage)));
  frames.push('data: [DONE]\n\n');
  return { status: 200, headers, contentType: 'text/event-stream; charset=utf-8', frames, firstContent: 1, contentCount: pieces.length };
}

// Azure OpenAI's content filter (on by default) rates each prompt and answer, and says so in the
// body: `prompt_filter_results` beside the choices, `content_filter_results` in each choice. A
// stream sends the prompt's results first, in a chunk with no id, model, creation time or choices.
const AZURE_FILTERS = Object.fromEntries(['hate', 'self_harm', 'sexual', 'violence'].map((k) => [k, { filtered: false, severity: 'safe' }]));

function azureChat(b, ctx) {
  const a = chatCompletions({ ...b, model: AZURE_MODEL }, ctx);
  if (a.status !== 200) return a;
  const promptFilterResults = [{ prompt_index: 0, content_filter_results: AZURE_FILTERS }];
  if (a.body) {
    const out = JSON.parse(a.body);
    delete out.service_tier;
    for (const c of out.choices) c.content_filter_results = AZURE_FILTERS;
    return { ...a, body: JSON.stringify({ ...out, prompt_filter_results: promptFilterResults }, null, 2) };
  }
  const first = sseData({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults });
  return { ...a, frames: [first, ...a.frames], firstContent: a.firstContent + 1 };
}

function openaiHeaders(ctx) {
  return { 'x-request-id': `req_${hexId(ctx.seed, 'req', 32)}`, 'openai-version': '2020-10-01', 'openai-processing-ms': '1' };
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses
// ---------------------------------------------------------------------------------------------

function responses(b, ctx) {
  if (typeof b.model !== 'string' || !b.model) return errorAnswer('openai', 400, { message: "Missing required parameter: 'model'.", param: 'model', code: 'missing_required_parameter' });
  const items = typeof b.input === 'string' ? [{ role: 'user', content: b.input }] : Array.isArray(b.input) ? b.input : [];
  const inputTokens = countTokens(b.instructions) + items.reduce((n, it) => n + countTokens(textOf(it?.content ?? it?.output)), 0);
  const last = findLast(items, (it) => it && (it.role === 'user' || it.type === 'function_call_output'));
  const toolResult = last?.type === 'function_call_output';
  const choice = b.tool_choice === 'none' ? 'none' : b.tool_choice?.name;
  const tool = toolResult ? null : pickTool(b.tools, choice, (t) => (t?.type === 'function' ? t.name : null));
  const text = tool ? null : answerText(toolResult ? textOf(last.output) : textOf(last?.content), ctx.chunks);
  const outputTokens = tool ? toolTokens(tool) : countTokens(text);
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
  const respId = `resp_${hexId(ctx.seed, 'resp', 50)}`;
  const itemId = tool ? `fc_${hexId(ctx.seed, 'fc', 50)}` : `msg_${hexId(ctx.seed, 'msg', 50)}`;
  const callId = `call_${alnumId(ctx.seed, 'call', 24)}`;
  const part = (t) => ({ type: 'output_text', annotations: [], logprobs: [], text: t });
  const item = (status, done) => (tool
    ? { id: itemId, type: 'function_call', status, arguments: done ? TOOL_ARGUMENTS : '', call_id: callId, name: tool }
    : { id: itemId, type: 'message', status, content: done ? [part(text)] : [], role: 'assistant' });
  const response = (status, output, u) => ({
    id: respId, object: 'response', created_at: CREATED, status, background: false, error: null, incomplete_details: null,
    instructions: b.instructions ?? null, max_output_tokens: b.max_output_tokens ?? null, max_tool_calls: b.max_tool_calls ?? null,
    model: b.model, output, parallel_tool_calls: b.parallel_tool_calls ?? true, previous_response_id: b.previous_response_id ?? null,
    prompt_cache_key: b.prompt_cache_key ?? null, reasoning: { effort: b.reasoning?.effort ?? null, summary: b.reasoning?.summary ?? null },
    safety_identifier: b.safety_identifier ?? null, service_tier: 'default', store: b.store ?? true, temperature: b.temperature ?? 1,
    text: b.text ?? { format: { type: 'text' }, verbosity: 'medium' }, tool_choice: b.tool_choice ?? 'auto', tools: b.tools ?? [],
    top_logprobs: b.top_logprobs ?? 0, top_p: b.top_p ?? 1, truncation: b.truncation ?? 'disabled', usage: u, user: b.user ?? null,
    metadata: b.metadata ?? {},
  });
  const headers = openaiHeaders(ctx);

  if (!b.stream) {
    return { status: 200, headers, contentType: 'application/json', body: JSON.stringify(response('completed', [item('completed', true)], usage), null, 2) };
  }

  let seq = 0;
  const ev = (type, fields) => sseEvent({ type, sequence_number: seq++, ...fields });
  const frames = [
    ev('response.created', { response: response('in_progress', [], null) }),
    ev('response.in_progress', { response: response('in_progress', [], null) }),
    ev('response.output_item.added', { output_index: 0, item: item('in_progress', false) }),
  ];
  let pieces;
  let firstContent;
  if (tool) {
    pieces = splitPieces(TOOL_ARGUMENTS, ctx.chunks);
    firstContent = frames.length;
    for (const p of pieces) frames.push(ev('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta: p }));
    frames.push(ev('response.function_call_arguments.done', { item_id: itemId, output_index: 0, arguments: TOOL_ARGUMENTS }));
  } else {
    frames.push(ev('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: part('') }));
    pieces = splitPieces(text, ctx.chunks);
    firstContent = frames.length;
    for (const p of pieces) frames.push(ev('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta: p, logprobs: [] }));
    frames.push(ev('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }));
    frames.push(ev('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part: part(text) }));
  }
  frames.push(ev('response.output_item.done', { output_index: 0, item: item('completed', true) }));
  frames.push(ev('response.completed', { response: response('completed', [item('completed', true)], usage) }));
  return { status: 200, headers, contentType: 'text/event-stream; charset=utf-8', frames, firstContent, contentCount: pieces.length };
}

// ---------------------------------------------------------------------------------------------
// OpenAI Embeddings
// ---------------------------------------------------------------------------------------------

/** The mock's embedding of `input` (a string or token array): a deterministic unit vector of float32 values. */
export function embeddingOf(input, dims = EMBEDDING_DIMS) {
  const key = typeof input === 'string' ? input : JSON.stringify(input);
  const bytes = Buffer.from(hexId(key, 'embedding', dims * 4), 'hex');
  const v = [];
  for (let i = 0; i < dims; i++) v.push(bytes.readUInt16BE(i * 2) / 32767.5 - 1);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => Math.fround(x / norm));
}

function embeddings(b, ctx) {
  if (typeof b.model !== 'string' || !b.model) return errorAnswer('openai', 400, { message: 'you must provide a model parameter' });
  const input = b.input;
  let inputs;
  if (typeof input === 'string') inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'number')) inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => typeof y === 'number')))) inputs = input;
  else return errorAnswer('openai', 400, { message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", param: 'input', code: null });
  const dims = Number.isInteger(b.dimensions) && b.dimensions > 0 ? Math.min(b.dimensions, 4096) : EMBEDDING_DIMS;
  const base64 = b.encoding_format === 'base64';
  const data = inputs.map((x, index) => {
    const vec = embeddingOf(x, dims);
    let embedding = vec;
    if (base64) {
      const buf = Buffer.alloc(dims * 4);
      vec.forEach((f, i) => buf.writeFloatLE(f, i * 4));
      embedding = buf.toString('base64');
    }
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce((n, x) => n + (typeof x === 'string' ? countTokens(x) : x.length), 0);
  const out = { object: 'list', data, model: b.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  return { status: 200, headers: openaiHeaders(ctx), contentType: 'application/json', body: JSON.stringify(out, null, 2) };
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages
// ---------------------------------------------------------------------------------------------

function anthropicInputTokens(b) {
  return countTokens(textOf(b.system)) + b.messages.reduce((n, m) => n + countTokens(textOf(m?.content)), 0);
}

function anthropicCheck(b, needMaxTokens) {
  if (typeof b.model !== 'string' || !b.model) return errorAnswer('anthropic', 400, { message: 'model: Field required' });
  if (!Array.isArray(b.messages)) return errorAnswer('anthropic', 400, { message: 'messages: Field required' });
  if (needMaxTokens && typeof b.max_tokens !== 'number') return errorAnswer('anthropic', 400, { message: 'max_tokens: Field required' });
  if (b.messages.length === 0) return errorAnswer('anthropic', 400, { message: 'messages: at least one message is required' });
  return null;
}

// Claude on Amazon Bedrock (InvokeModel) and on Google Vertex AI (rawPredict) takes the same body
// with the model named by the path instead (the body has none) and the API version in the body
// (`anthropic_version`). Both answer with the model first in the message, without `service_tier`,
// and mark their ids: `msg_bdrk_01…` / `toolu_bdrk_01…` and `msg_vrtx_01…` / `toolu_vrtx_01…`.
// `cloud` is `{ platform: 'bedrock' | 'vertex', model, stream? }`; without it this is Anthropic's API.
const CLOUD_TAG = { bedrock: 'bdrk_', vertex: 'vrtx_' };

function messages(b, ctx, cloud) {
  const bad = cloud ? cloudAnthropicCheck(b, cloud) : anthropicCheck(b, true);
  if (bad) return bad;
  const model = cloud ? cloud.model : b.model;
  const tag = cloud ? CLOUD_TAG[cloud.platform] : '';
  const bedrock = cloud?.platform === 'bedrock';
  const stream = bedrock ? cloud.stream : b.stream;
  const inputTokens = anthropicInputTokens(b);
  const last = findLast(b.messages, (m) => m?.role === 'user');
  const results = Array.isArray(last?.content) ? last.content.filter((c) => c?.type === 'tool_result') : [];
  const toolResult = results.length > 0;
  const tc = b.tool_choice;
  const choice = tc?.type === 'none' ? 'none' : tc?.type === 'tool' ? tc.name : undefined;
  const tool = toolResult ? null : pickTool(b.tools, choice, (t) => (!t?.type || t.type === 'custom' ? t?.name : null));
  const text = answerText(toolResult ? textOf(results) : textOf(last?.content), ctx.chunks);
  const outputTokens = countTokens(text) + (tool ? toolTokens(tool) : 0);
  const id = `msg_${tag}01${alnumId(ctx.seed, 'msg', 22)}`;
  const toolId = `toolu_${tag}01${alnumId(ctx.seed, 'toolu', 22)}`;
  const stopReason = tool ? 'tool_use' : 'end_turn';
  const usage = (output) => ({
    input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 }, output_tokens: output,
    ...(cloud ? {} : { service_tier: 'standard' }),
  });
  const message = (content, stop, u) => {
    const m = { id, type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null, usage: u };
    return cloud ? { model, ...m } : m;
  };
  const headers = bedrock ? amznHeaders(ctx) : { 'request-id': `req_${tag}011C${alnumId(ctx.seed, 'request-id', 20)}` };

  if (!stream) {
    const content = [{ type: 'text', text }];
    if (tool) content.push({ type: 'tool_use', id: toolId, name: tool, input: JSON.parse(TOOL_ARGUMENTS) });
    if (bedrock) Object.assign(headers, bedrockCountHeaders(inputTokens, outputTokens));
    return { status: 200, headers, contentType: 'application/json', body: JSON.stringify(message(content, stopReason, usage(outputTokens))) };
  }

  // Bedrock sends no ping, and adds its invocation metrics to message_stop.
  const events = [
    { type: 'message_start', message: message([], null, usage(1)) },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    ...(bedrock ? [] : [PING]),
  ];
  const firstContent = events.length;
  const pieces = splitPieces(text, ctx.chunks);
  for (const p of pieces) events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } });
  events.push({ type: 'content_block_stop', index: 0 });
  if (tool) {
    events.push({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: toolId, name: tool, input: {} } });
    events.push({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const p of splitPieces(TOOL_ARGUMENTS, ctx.chunks)) events.push({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: p } });
    events.push({ type: 'content_block_stop', index: 1 });
  }
  events.push({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
  events.push({ type: 'message_stop', ...(bedrock ? { 'amazon-bedrock-invocationMetrics': bedrockInvocationMetrics(inputTokens, outputTokens) } : {}) });
  if (bedrock) return bedrockChunkStream(events, ctx, firstContent, pieces.length);
  const frames = events.map((e) => (e === PING ? 'event: ping\ndata: {"type": "ping"}\n\n' : sseEvent(e)));
  return { status: 200, headers, contentType: 'text/event-stream; charset=utf-8', frames, firstContent, contentCount: pieces.length };
}
const PING = { type: 'ping' };

/** Bedrock and Vertex check the body as Anthropic does, but want `anthropic_version` and no `model`. */
function cloudAnthropicCheck(b, cloud) {
  if (cloud.platform === 'vertex') {
    if (typeof b.anthropic_version !== 'string' || !b.anthropic_version) return errorAnswer('vertex', 400, { message: 'anthropic_version: Field required' });
    return anthropicCheck({ ...b, model: cloud.model }, true);
  }
  // Bedrock checks the body against the model's JSON schema first, and says so in its own words.
  for (const key of ['model', 'stream']) if (key in b) return bedrockMalformed(`#: extraneous key [${key}] is not permitted`);
  for (const key of ['anthropic_version', 'max_tokens', 'messages']) if (!(key in b)) return bedrockMalformed(`#: required key [${key}] not found`);
  const bad = anthropicCheck({ ...b, model: cloud.model }, true);
  return bad && errorAnswer('bedrock', 400, { message: JSON.parse(bad.body).error.message });
}

function countMessageTokens(b, ctx, tag = '') {
  const bad = anthropicCheck(b, false);
  if (bad) return bad;
  return { status: 200, headers: { 'request-id': `req_${tag}011C${alnumId(ctx.seed, 'request-id', 20)}` }, contentType: 'application/json', body: JSON.stringify({ input_tokens: anthropicInputTokens(b) }) };
}

// ---------------------------------------------------------------------------------------------
// Amazon Bedrock Runtime: Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream.
// Bedrock's own JSON (Converse, errors, the stream envelopes) has its keys in alphabetical order;
// a model's native JSON (InvokeModel) is the model's. Streams use AWS's binary event stream framing.
// ---------------------------------------------------------------------------------------------

const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
/** CRC-32 (IEEE, as zlib computes it), as an unsigned integer. */
const crc32 = zlib.crc32 ?? ((buf) => {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
});

/**
 * One AWS event stream message: total length and headers length (uint32 BE), the CRC-32 of those 8
 * bytes, the headers (each: 1-byte name length, name, type 7 = string, 2-byte value length, value),
 * the payload, and the CRC-32 of everything before it.
 */
export function eventStreamMessage(headers, payload) {
  const hs = Buffer.concat(Object.entries(headers).map(([k, v]) => {
    const name = Buffer.from(k, 'utf8');
    const value = Buffer.from(v, 'utf8');
    const h = Buffer.alloc(4 + name.length + value.length);
    h.writeUInt8(name.length, 0);
    name.copy(h, 1);
    h.writeUInt8(7, 1 + name.length);
    h.writeUInt16BE(value.length, 2 + name.length);
    value.copy(h, 4 + name.length);
    return h;
  }));
  const body = Buffer.from(payload, 'utf8');
  const total = 16 + hs.length + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(hs.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  hs.copy(out, 12);
  body.copy(out, 12 + hs.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

/** Bedrock's JSON: keys sorted, at every depth. */
function coralJson(v) {
  const sorted = (x) => {
    if (Array.isArray(x)) return x.map(sorted);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])]));
    return x;
  };
  return JSON.stringify(sorted(v));
}

// Bedrock pads each stream event's JSON with `"p"`: a run of this alphabet, of varying length.
// (Workers AI pads its events too, with letters only.)
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function padder(seed, alphabet = PADDING) {
  const key = sha(seed).toString('hex');
  return (i) => alphabet.slice(0, 1 + (sha(`p\0${i}\0${key}`)[0] % alphabet.length));
}

/** An event stream of Bedrock events: `next(type, payload)` frames one, padded. */
function bedrockEvents(ctx) {
  const pad = padder(ctx.seed);
  let i = 0;
  return (type, payload) => eventStreamMessage(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    coralJson({ ...payload, p: pad(i++) }),
  );
}

// What an exception message in a Bedrock stream says (`x-mock-stream-exception: <name>`).
const BEDROCK_STREAM_EXCEPTIONS = {
  throttlingException: 'Too many requests, please wait before trying again.',
  modelStreamErrorException: 'The model encountered an error while streaming its response.',
  internalServerException: 'The system encountered an unexpected error during processing. Try your request again.',
  serviceUnavailableException: 'Bedrock is unable to process your request.',
  validationException: 'Input is too long for requested model.',
  modelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
};

/** An exception message, which ends a Bedrock stream: `:message-type` exception, named by `:exception-type`. */
function bedrockStreamException(name) {
  const type = name.charAt(0).toLowerCase() + name.slice(1);
  return eventStreamMessage(
    { ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
    JSON.stringify({ message: BEDROCK_STREAM_EXCEPTIONS[type] ?? `mock-llm ${type}` }),
  );
}

/** A lowercase version-4 UUID, from the seed and a label. */
function uuidOf(seed, label) {
  const h = hexId(seed, label, 32);
  const v = `${h.slice(0, 12)}4${h.slice(13, 16)}${'89ab'[Number.parseInt(h[16], 16) % 4]}${h.slice(17)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
}
/** A request id as AWS writes them: a lowercase version-4 UUID. */
const amznRequestId = (seed) => uuidOf(seed, 'x-amzn-requestid');
const amznHeaders = (ctx) => ({ 'x-amzn-requestid': amznRequestId(ctx.seed) });

// Latencies, in milliseconds: fixed functions of the answer's size, so answers stay deterministic.
const bedrockLatency = (outputTokens) => 200 + 10 * outputTokens;
const BEDROCK_FIRST_BYTE_LATENCY = 150;
const bedrockCountHeaders = (inputTokens, outputTokens) => ({
  'x-amzn-bedrock-invocation-latency': String(bedrockLatency(outputTokens)),
  'x-amzn-bedrock-output-token-count': String(outputTokens),
  'x-amzn-bedrock-input-token-count': String(inputTokens),
});
const bedrockInvocationMetrics = (inputTokens, outputTokens) => ({
  inputTokenCount: inputTokens, outputTokenCount: outputTokens, invocationLatency: bedrockLatency(outputTokens), firstByteLatency: BEDROCK_FIRST_BYTE_LATENCY,
});

/** InvokeModel's complaint about a body its model's schema rejects. */
const bedrockMalformed = (why) => errorAnswer('bedrock', 400, { message: `Malformed input request: ${why}, please reformat your input and try again.` });

/** InvokeModelWithResponseStream: each of the model's JSON events, base64, in a `chunk` event. */
function bedrockChunkStream(events, ctx, firstContent, contentCount) {
  const next = bedrockEvents(ctx);
  const frames = events.map((e) => next('chunk', { bytes: Buffer.from(JSON.stringify(e), 'utf8').toString('base64') }));
  return {
    status: 200, headers: { ...amznHeaders(ctx), 'x-amzn-bedrock-content-type': 'application/json' }, contentType: 'application/vnd.amazon.eventstream',
    frames, firstContent, contentCount, exception: bedrockStreamException,
  };
}

/** The text of Converse content blocks: text, tool results (text or JSON); images and tool uses have none. */
function converseText(content) {
  if (!Array.isArray(content)) return textOf(content);
  return content
    .map((c) => (c?.toolResult ? converseText(c.toolResult.content) : c && typeof c === 'object' && 'json' in c ? JSON.stringify(c.json) : textOf(c)))
    .filter((s) => s !== '')
    .join('\n');
}

function converse(b, ctx, streaming) {
  if (b.messages == null) return errorAnswer('bedrock', 400, { message: "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null" });
  if (!Array.isArray(b.messages)) return errorAnswer('bedrock', 400, { message: 'Malformed input request, please reformat your input and try again.' });
  if (b.messages.length === 0 || b.messages[0]?.role !== 'user') {
    return errorAnswer('bedrock', 400, { message: 'A conversation must start with a user message. Try again with a conversation that starts with a user message.' });
  }
  const inputTokens = countTokens(converseText(b.system)) + b.messages.reduce((n, m) => n + countTokens(converseText(m?.content)), 0);
  const last = findLast(b.messages, (m) => m?.role === 'user');
  const results = Array.isArray(last?.content) ? last.content.filter((c) => c?.toolResult) : [];
  const toolResult = results.length > 0;
  const tool = toolResult ? null : pickTool(b.toolConfig?.tools, b.toolConfig?.toolChoice?.tool?.name, (t) => t?.toolSpec?.name);
  const text = answerText(converseText(toolResult ? results : last?.content), ctx.chunks);
  const outputTokens = countTokens(text) + (tool ? toolTokens(tool) : 0);
  const toolUseId = `tooluse_${alnumId(ctx.seed, 'tooluse', 22)}`;
  const stopReason = tool ? 'tool_use' : 'end_turn';
  const usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  const metrics = { latencyMs: bedrockLatency(outputTokens) };
  const headers = amznHeaders(ctx);

  if (!streaming) {
    const content = [{ text }];
    if (tool) content.push({ toolUse: { toolUseId, name: tool, input: JSON.parse(TOOL_ARGUMENTS) } });
    const out = { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics };
    return { status: 200, headers, contentType: 'application/json', body: coralJson(out) };
  }

  const next = bedrockEvents(ctx);
  const frames = [next('messageStart', { role: 'assistant' })];
  const pieces = splitPieces(text, ctx.chunks);
  for (const p of pieces) frames.push(next('contentBlockDelta', { contentBlockIndex: 0, delta: { text: p } }));
  frames.push(next('contentBlockStop', { contentBlockIndex: 0 }));
  if (tool) {
    frames.push(next('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId, name: tool } } }));
    for (const p of splitPieces(TOOL_ARGUMENTS, ctx.chunks)) frames.push(next('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: p } } }));
    frames.push(next('contentBlockStop', { contentBlockIndex: 1 }));
  }
  frames.push(next('messageStop', { stopReason }));
  frames.push(next('metadata', { usage, metrics }));
  return { status: 200, headers, contentType: 'application/vnd.amazon.eventstream', frames, firstContent: 1, contentCount: pieces.length, exception: bedrockStreamException };
}

/** The user's last turn in a Llama prompt (Llama 3's header tokens, or Llama 2's [INST]); else the whole prompt. */
function llamaUserText(prompt) {
  const turns = [...prompt.matchAll(/<\|start_header_id\|>user<\|end_header_id\|>([\s\S]*?)(?:<\|eot_id\|>|$)/g)];
  if (turns.length) return turns[turns.length - 1][1].trim();
  const inst = [...prompt.matchAll(/\[INST\]([\s\S]*?)\[\/INST\]/g)];
  if (inst.length) return inst[inst.length - 1][1].replace(/<<SYS>>[\s\S]*?<<\/SYS>>/, '').trim();
  return prompt.trim();
}

/** Meta Llama's native InvokeModel body: `{prompt, max_gen_len?, temperature?, top_p?}`. */
function llama(b, ctx, streaming) {
  if (!('prompt' in b)) return bedrockMalformed('#: required key [prompt] not found');
  if (typeof b.prompt !== 'string') return bedrockMalformed('#/prompt: expected type: String');
  const promptTokens = countTokens(b.prompt);
  const text = answerText(llamaUserText(b.prompt), ctx.chunks);
  const outputTokens = countTokens(text);
  if (!streaming) {
    const headers = { ...amznHeaders(ctx), ...bedrockCountHeaders(promptTokens, outputTokens) };
    const out = { generation: text, prompt_token_count: promptTokens, generation_token_count: outputTokens, stop_reason: 'stop' };
    return { status: 200, headers, contentType: 'application/json', body: JSON.stringify(out) };
  }
  const pieces = splitPieces(text, ctx.chunks);
  let soFar = '';
  const events = pieces.map((p, i) => {
    soFar += p;
    return { generation: p, prompt_token_count: i === 0 ? promptTokens : null, generation_token_count: countTokens(soFar), stop_reason: null };
  });
  events.push({ generation: '', prompt_token_count: null, generation_token_count: outputTokens, stop_reason: 'stop', 'amazon-bedrock-invocationMetrics': bedrockInvocationMetrics(promptTokens, outputTokens) });
  return bedrockChunkStream(events, ctx, 0, pieces.length);
}

/**
 * Mistral's models on Bedrock (`mistral.*`): `{prompt, max_tokens, …}`, answered with
 * `{outputs: [{text, stop_reason}]}` and no token counts in the body (Bedrock puts them in the
 * `x-amzn-bedrock-*-token-count` headers, and in a stream's last chunk's invocation metrics).
 */
function mistral(b, ctx, streaming) {
  if (!('prompt' in b)) return bedrockMalformed('#: required key [prompt] not found');
  if (typeof b.prompt !== 'string') return bedrockMalformed('#/prompt: expected type: String');
  const promptTokens = countTokens(b.prompt);
  const text = answerText(b.prompt.replace(/<\/?s>|\[\/?INST\]/g, '').trim(), ctx.chunks);
  const outputTokens = countTokens(text);
  if (!streaming) {
    const headers = { ...amznHeaders(ctx), ...bedrockCountHeaders(promptTokens, outputTokens) };
    return { status: 200, headers, contentType: 'application/json', body: JSON.stringify({ outputs: [{ text, stop_reason: 'stop' }] }) };
  }
  const pieces = splitPieces(text, ctx.chunks);
  const events = pieces.map((p) => ({ outputs: [{ text: p, stop_reason: null }] }));
  events.push({ outputs: [{ text: '', stop_reason: 'stop' }], 'amazon-bedrock-invocationMetrics': bedrockInvocationMetrics(promptTokens, outputTokens) });
  return bedrockChunkStream(events, ctx, 0, pieces.length);
}

/** A model id (or an ARN of a model or inference profile) without the ARN and a cross-region prefix. */
function bedrockBaseModel(modelId) {
  return modelId.slice(modelId.lastIndexOf('/') + 1).replace(/^(?:us|us-gov|eu|apac|jp|au|ca|global)\./, '');
}

/** The name Bedrock reports for a Claude model: `anthropic.claude-3-5-haiku-20241022-v1:0` → `claude-3-5-haiku-20241022`. */
export function bedrockAnthropicModel(modelId) {
  return bedrockBaseModel(modelId).replace(/^anthropic\./, '').replace(/-v\d+(?::\d+)?$/, '');
}

function invokeModel(b, ctx, modelId, streaming) {
  const base = bedrockBaseModel(modelId);
  const family = base.startsWith('anthropic.') ? 'anthropic'
    : base.startsWith('meta.') ? 'meta'
      : 'anthropic_version' in b ? 'anthropic' : typeof b.prompt === 'string' ? 'meta' : null;
  if (family === 'anthropic') return messages(b, ctx, { platform: 'bedrock', model: bedrockAnthropicModel(modelId), stream: streaming });
  if (base.startsWith('mistral.')) return mistral(b, ctx, streaming);
  if (family === 'meta') return llama(b, ctx, streaming);
  return errorAnswer('bedrock', 400, { message: `mock-llm: InvokeModel answers Anthropic (anthropic.*), Meta Llama (meta.*) and Mistral (mistral.*) models, not ${modelId}; Converse answers any model.` });
}

function bedrock(b, ctx, modelId, op) {
  if (op === 'converse' || op === 'converse-stream') return converse(b, ctx, op === 'converse-stream');
  return invokeModel(b, ctx, modelId, op === 'invoke-with-response-stream');
}

// ---------------------------------------------------------------------------------------------
// Google Gemini
// ---------------------------------------------------------------------------------------------

function gemini(b, ctx, model, method) {
  if (!Array.isArray(b.contents) || b.contents.length === 0) {
    return errorAnswer('gemini', 400, { message: '* GenerateContentRequest.contents: contents is not specified\n' });
  }
  const partsText = (c) => textOf((c?.parts || []).filter((p) => typeof p?.text === 'string'));
  const promptTokens = countTokens(partsText(b.systemInstruction ?? b.system_instruction)) + b.contents.reduce((n, c) => n + countTokens(partsText(c)), 0);
  const promptDetails = [{ modality: 'TEXT', tokenCount: promptTokens }];
  if (method === 'countTokens') {
    return { status: 200, headers: {}, contentType: 'application/json; charset=UTF-8', body: JSON.stringify({ totalTokens: promptTokens, promptTokensDetails: promptDetails }, null, 2) + '\n' };
  }
  const last = findLast(b.contents, (c) => c && (c.role === undefined || c.role === 'user' || c.role === 'function'));
  const responsesParts = (last?.parts || []).filter((p) => p?.functionResponse);
  const toolResult = responsesParts.length > 0;
  const decls = (Array.isArray(b.tools) ? b.tools : []).flatMap((t) => t?.functionDeclarations ?? t?.function_declarations ?? []);
  const fcc = (b.toolConfig ?? b.tool_config)?.functionCallingConfig ?? (b.toolConfig ?? b.tool_config)?.function_calling_config;
  const choice = fcc?.mode === 'NONE' ? 'none' : (fcc?.allowedFunctionNames ?? fcc?.allowed_function_names)?.[0];
  const tool = toolResult ? null : pickTool(decls, choice, (d) => d?.name);
  const text = tool ? null : answerText(toolResult ? textOf(responsesParts) : partsText(last), ctx.chunks);
  const candidatesTokens = tool ? toolTokens(tool) : countTokens(text);
  const modelVersion = model;
  const responseId = alnumId(ctx.seed, 'gemini', 23);
  const usage = (cand) => ({ promptTokenCount: promptTokens, candidatesTokenCount: cand, totalTokenCount: promptTokens + cand, promptTokensDetails: promptDetails });
  const candidate = (parts, done) => ({ content: { parts, role: 'model' }, ...(done ? { finishReason: 'STOP' } : {}), index: 0 });
  const chunk = (parts, done, cand) => ({ candidates: [candidate(parts, done)], usageMetadata: usage(cand), modelVersion, responseId });
  const toolParts = () => [{ functionCall: { name: tool, args: JSON.parse(TOOL_ARGUMENTS) } }];

  if (method === 'generateContent') {
    const out = chunk(tool ? toolParts() : [{ text }], true, candidatesTokens);
    return { status: 200, headers: {}, contentType: 'application/json; charset=UTF-8', body: JSON.stringify(out, null, 2) + '\n' };
  }

  const chunks = [];
  if (tool) chunks.push(chunk(toolParts(), true, candidatesTokens));
  else {
    const pieces = splitPieces(text, ctx.chunks);
    let soFar = '';
    pieces.forEach((p, i) => {
      soFar += p;
      const done = i === pieces.length - 1;
      chunks.push(chunk([{ text: p }], done, done ? candidatesTokens : countTokens(soFar)));
    });
  }
  if (ctx.query.get('alt') === 'sse') {
    const frames = chunks.map((c) => `data: ${googleLine(c)}\r\n\r\n`);
    return { status: 200, headers: {}, contentType: 'text/event-stream', frames, firstContent: 0, contentCount: chunks.length, eol: '\r\n\r\n' };
  }
  // Without alt=sse the stream is one JSON array, sent element by element.
  const frames = chunks.map((c, i) => (i === 0 ? '[' : '\n,\r\n') + JSON.stringify(c, null, 2));
  frames.push('\n]');
  return { status: 200, headers: {}, contentType: 'application/json; charset=UTF-8', frames, firstContent: 0, contentCount: chunks.length };
}

// ---------------------------------------------------------------------------------------------
// Ollama's own API (/api/chat, /api/generate), as the `ollama` npm package reads it: one JSON body,
// or with `stream` (the default when the request does not say) newline-delimited JSON objects,
// `application/x-ndjson`, each piece with `done: false`, then one with `done: true`, `done_reason`
// and the counts. Tool calls come whole, their arguments an object. Durations are nanoseconds.
// ---------------------------------------------------------------------------------------------

const OLLAMA_CREATED = new Date(CREATED * 1000).toISOString().replace('.000Z', '.123456789Z');

function ollama(b, ctx, kind) {
  if (typeof b.model !== 'string' || !b.model) return errorAnswer('ollama', 400, { message: 'model is required' });
  const chat = kind === 'chat';
  if (chat && b.messages != null && !Array.isArray(b.messages)) return errorAnswer('ollama', 400, { message: 'json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message' });
  const messages = chat ? b.messages ?? [] : [{ role: 'user', content: b.prompt ?? '' }];
  const promptTokens = messages.reduce((n, m) => n + countTokens(textOf(m?.content)), 0) + countTokens(b.system);
  const last = findLast(messages, (m) => m && ['user', 'tool'].includes(m.role));
  const tool = chat && last?.role !== 'tool' ? pickTool(b.tools, undefined, (t) => t?.function?.name) : null;
  const text = tool ? '' : answerText(textOf(last?.content), ctx.chunks);
  const evalCount = tool ? toolTokens(tool) : countTokens(text);
  const head = { model: b.model, created_at: OLLAMA_CREATED };
  const tail = {
    done: true, done_reason: 'stop', ...(chat ? {} : { context: [1, 2, 3] }),
    total_duration: 1_234_567_890, load_duration: 12_345_678, prompt_eval_count: promptTokens, prompt_eval_duration: 23_456_789,
    eval_count: evalCount, eval_duration: 345_678_901,
  };
  const toolCalls = tool ? [{ function: { name: tool, arguments: JSON.parse(TOOL_ARGUMENTS) } }] : undefined;
  const piece = (t, calls) => (chat ? { message: { role: 'assistant', content: t, ...(calls ? { tool_calls: calls } : {}) } } : { response: t });
  if (b.stream === false) {
    return { status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ ...head, ...piece(text, toolCalls), ...tail }) };
  }
  const lines = tool
    ? [{ ...head, ...piece('', toolCalls), done: false }]
    : splitPieces(text, ctx.chunks).map((t) => ({ ...head, ...piece(t), done: false }));
  lines.push({ ...head, ...piece(''), ...tail });
  return { status: 200, headers: {}, contentType: 'application/x-ndjson', frames: lines.map((l) => `${JSON.stringify(l)}\n`), firstContent: 0, contentCount: lines.length - 1, eol: '\n' };
}

// ---------------------------------------------------------------------------------------------
// Cloudflare Workers AI: its REST API (/client/v4/accounts/{account}/ai/run/{model}), AI Gateway's
// native path to it (/v1/{account}/{gateway}/workers-ai/{model}), and the backend of the Workers
// binding: in workerd, env.AI.run(model, inputs, options) POSTs `{"inputs", "options"}` to
// https://workers-binding.ai/run?version=3 (/ai-gateway/run with options.gateway), naming the model in
// `cf-consn-model-id`. All three answer the same result: the REST API and the gateway in Cloudflare's
// v4 envelope (`{"result","success","errors","messages"}`), the binding's backend bare, as
// `application/json` exactly (the binding compares the content type with `===`). Streams are SSE:
// `data: {"response":"<piece>","p":"<padding>"}` events, one with `usage`, then `data: [DONE]`.
// ---------------------------------------------------------------------------------------------

const WORKERS_AI_PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Workers AI's request id (`cf-ai-req-id`): a UUID. */
const workersAiReqId = (seed) => uuidOf(seed, 'cf-ai-req-id');

/** AI Gateway's log id (`cf-aig-log-id`): 26 characters of Crockford's base32, as a ULID. */
function aigLogId(seed) {
  return Array.from(sha(`cf-aig-log-id\0${seed}`).subarray(0, 26), (b, i) => (i === 0 ? '0' : CROCKFORD[b % 32])).join('');
}

/** A model name from a path: raw (`@cf/meta/llama-3.1-8b-instruct`) or percent-encoded. */
function pathModel(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

/**
 * One Workers AI run. `model` is the model's name, `inputs` its inputs; `bare` answers as the binding's
 * backend does (no envelope, its error shape), `gateway` adds AI Gateway's headers.
 */
function workersAi(inputs, ctx, model, { bare = false, gateway = false } = {}) {
  const provider = bare ? 'workers-binding' : 'workers-ai';
  const badInput = (description) => errorAnswer(provider, 400, { code: 5006, type: 'AiError', message: `Bad input: ${description}` });
  if (!/^@(?:cf|hf)\//.test(model)) {
    return errorAnswer(provider, 400, { code: 5007, type: 'AiError', message: `No such model ${model} or task`, rest: `No such model ${model} or task` });
  }
  const headers = { 'cf-ai-req-id': workersAiReqId(ctx.seed) };
  if (gateway) Object.assign(headers, { 'cf-aig-cache-status': 'MISS', 'cf-aig-log-id': aigLogId(ctx.seed) });
  const answer = (result) => ({ status: 200, headers, contentType: 'application/json', body: JSON.stringify(bare ? result : { result, success: true, errors: [], messages: [] }) });

  // Text embeddings (@cf/baai/bge-*, …embedding…): `{"text": string | string[]}`.
  if (/bge|embedding/i.test(model)) {
    const t = inputs.text;
    const texts = typeof t === 'string' ? [t] : Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string') ? t : null;
    if (!texts) return badInput("Error: required properties at '/' are 'text'");
    return answer({ shape: [texts.length, EMBEDDING_DIMS], data: texts.map((x) => embeddingOf(x)), pooling: 'mean' });
  }

  // Text generation: `prompt` or `messages`, never both.
  const hasPrompt = inputs.prompt !== undefined;
  const hasMessages = inputs.messages !== undefined;
  if (hasPrompt && hasMessages) {
    if (bare) return errorAnswer(provider, 400, { code: 1001, type: 'InvalidInput', message: 'prompt and messages are mutually exclusive' });
    return badInput('prompt and messages are mutually exclusive');
  }
  if (!hasPrompt && !hasMessages) return badInput("Error: oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt', required properties at '/' are 'messages'");
  if (hasPrompt && typeof inputs.prompt !== 'string') return badInput("Error: type at '/prompt' is not string");
  if (hasMessages && (!Array.isArray(inputs.messages) || inputs.messages.length === 0)) return badInput("Error: '/messages' is not a non-empty array");

  const msgs = hasPrompt ? [{ role: 'user', content: inputs.prompt }] : inputs.messages;
  const promptTokens = msgs.reduce((n, m) => n + countTokens(textOf(m?.content)), 0);
  const last = findLast(msgs, (m) => m && (m.role === 'user' || m.role === 'tool'));
  const toolResult = last?.role === 'tool';
  // Tools in Workers AI's own shape ({name, description, parameters}) or OpenAI's ({type, function}).
  const tc = inputs.tool_choice;
  const choice = tc === 'none' ? 'none' : tc?.function?.name ?? tc?.name;
  const tool = toolResult ? null : pickTool(inputs.tools, choice, (t) => t?.function?.name ?? t?.name);
  const text = tool ? null : answerText(textOf(last?.content), ctx.chunks);
  const completionTokens = tool ? toolTokens(tool) : countTokens(text);
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };

  if (inputs.stream !== true) {
    return answer(tool
      ? { response: null, tool_calls: [{ name: tool, arguments: JSON.parse(TOOL_ARGUMENTS) }], usage }
      : { response: text, tool_calls: [], usage });
  }

  const pad = padder(ctx.seed, WORKERS_AI_PADDING);
  let n = 0;
  const ev = (o) => sseData({ ...o, p: pad(n++) });
  const frames = [];
  let pieces;
  if (tool) {
    // A tool call streams as OpenAI's deltas: the call's id, type and name first, then its arguments.
    const id = `chatcmpl-tool-${hexId(ctx.seed, 'chatcmpl-tool', 32)}`;
    frames.push(ev({ response: '', tool_calls: [{ id, type: 'function', index: 0, function: { name: tool, arguments: '' } }] }));
    pieces = splitPieces(TOOL_ARGUMENTS, ctx.chunks);
    for (const p of pieces) frames.push(ev({ response: '', tool_calls: [{ index: 0, function: { arguments: p } }] }));
  } else {
    pieces = splitPieces(text, ctx.chunks);
    for (const p of pieces) frames.push(ev({ response: p }));
  }
  frames.push(sseData({ response: '', usage }));
  frames.push('data: [DONE]\n\n');
  return { status: 200, headers, contentType: 'text/event-stream', frames, firstContent: tool ? 1 : 0, contentCount: pieces.length };
}

/** The Workers binding's backend: the model in `cf-consn-model-id`, the body `{"inputs", "options"}`. */
function workersBinding(b, ctx, viaGateway) {
  const header = ctx.headers?.['cf-consn-model-id'];
  const model = Array.isArray(header) ? header[0] : header;
  if (!model) return errorAnswer('workers-binding', 400, { code: 3003, type: 'IncompleteRequest', message: 'Request is missing headers or body: cf-consn-model-id' });
  if (!b.inputs || typeof b.inputs !== 'object' || Array.isArray(b.inputs)) {
    return errorAnswer('workers-binding', 400, { code: 3003, type: 'IncompleteRequest', message: 'Request is missing headers or body: inputs' });
  }
  // The path is the same for every model: the seed takes the model too.
  return workersAi(b.inputs, { ...ctx, seed: `${ctx.seed}\n${model}` }, model, { bare: true, gateway: viaGateway });
}

// ---------------------------------------------------------------------------------------------
// Routing and the HTTP server
// ---------------------------------------------------------------------------------------------

const GEMINI_PATH = /^\/(?:v1|v1beta|v1alpha)\/(?:models|tunedModels)\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

const AZURE_PATH = /^\/openai\/deployments\/[^/]+\/chat\/completions$/;

// Bedrock: the model id is URL-encoded in the path (`anthropic.claude-3-5-haiku-20241022-v1%3A0`; an ARN's
// slashes as %2F). Vertex: `…/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict`.
const BEDROCK_PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;
const VERTEX_PATH = /^\/(?:v1|v1beta1)\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\/models\/([^/]+?)(?::|%3A)(rawPredict|streamRawPredict)$/i;
// Workers AI: the model is raw in the path, slashes and all (`…/ai/run/@cf/meta/llama-3.1-8b-instruct`),
// or percent-encoded. Its OpenAI-compatible endpoints (`…/ai/v1/chat/completions`, and AI Gateway's
// `…/workers-ai/v1/chat/completions`) are matched first: they answer as OpenAI's API does.
const WORKERS_AI_OPENAI_PATH = /^\/(?:client\/v4\/accounts\/[^/]+\/ai|v1\/[^/]+\/[^/]+\/workers-ai)\/v1\/(chat\/completions|responses|embeddings)$/;
const WORKERS_AI_REST_PATH = /^\/client\/v4\/accounts\/[^/]+\/ai\/run\/(.+)$/;
const WORKERS_AI_GATEWAY_PATH = /^\/v1\/[^/]+\/[^/]+\/workers-ai\/(.+)$/;
const WORKERS_AI_OPENAI_HANDLERS = { 'chat/completions': chatCompletions, responses, embeddings };

/** The model every Azure OpenAI deployment of the mock serves. */
export const AZURE_MODEL = 'gpt-4o-mini-2024-07-18';

function route(pathname) {
  switch (pathname) {
    case '/v1/chat/completions': return { provider: 'openai', handler: chatCompletions };
    case '/v1/responses': return { provider: 'openai', handler: responses };
    case '/v1/embeddings': return { provider: 'openai', handler: embeddings };
    case '/v1/messages': return { provider: 'anthropic', handler: messages };
    case '/v1/messages/count_tokens': return { provider: 'anthropic', handler: countMessageTokens };
    case '/api/chat': return { provider: 'ollama', handler: (b, ctx) => ollama(b, ctx, 'chat') };
    case '/api/generate': return { provider: 'ollama', handler: (b, ctx) => ollama(b, ctx, 'generate') };
    case '/workers-binding/run': return { provider: 'workers-binding', handler: (b, ctx) => workersBinding(b, ctx, false) };
    case '/workers-binding/ai-gateway/run': return { provider: 'workers-binding', handler: (b, ctx) => workersBinding(b, ctx, true) };
  }
  const wo = WORKERS_AI_OPENAI_PATH.exec(pathname);
  if (wo) return { provider: 'openai', handler: WORKERS_AI_OPENAI_HANDLERS[wo[1]] };
  const wr = WORKERS_AI_REST_PATH.exec(pathname);
  if (wr) return { provider: 'workers-ai', handler: (b, ctx) => workersAi(b, ctx, pathModel(wr[1])) };
  const wg = WORKERS_AI_GATEWAY_PATH.exec(pathname);
  if (wg) return { provider: 'workers-ai', handler: (b, ctx) => workersAi(b, ctx, pathModel(wg[1]), { gateway: true }) };
  // Azure OpenAI: the deployment in the path stands for a model, whatever the body names; the answer
  // names the model the deployment serves.
  if (AZURE_PATH.test(pathname)) return { provider: 'openai', handler: azureChat };
  const br = BEDROCK_PATH.exec(pathname);
  if (br) {
    const modelId = decodeURIComponent(br[1]);
    return { provider: 'bedrock', handler: (b, ctx) => bedrock(b, ctx, modelId, br[2]) };
  }
  const v = VERTEX_PATH.exec(pathname);
  if (v) {
    const model = decodeURIComponent(v[1]);
    if (model === 'count-tokens') return { provider: 'vertex', handler: (b, ctx) => countMessageTokens(b, ctx, CLOUD_TAG.vertex) };
    // Vertex reports the model with the `@` of its version as a `-`: claude-sonnet-4@20250514 → claude-sonnet-4-20250514.
    return { provider: 'vertex', handler: (b, ctx) => messages(b, ctx, { platform: 'vertex', model: model.replace('@', '-') }) };
  }
  const g = GEMINI_PATH.exec(pathname);
  if (g) {
    const model = decodeURIComponent(g[1]);
    return { provider: 'gemini', handler: (b, ctx) => gemini(b, ctx, model, g[2]) };
  }
  return null;
}

function providerOfPath(pathname) {
  if (pathname.startsWith('/workers-binding/')) return 'workers-binding';
  if (pathname.startsWith('/client/v4/') || /^\/v1\/[^/]+\/[^/]+\/workers-ai\//.test(pathname)) return 'workers-ai';
  if (pathname.startsWith('/v1/messages')) return 'anthropic';
  if (pathname.startsWith('/model/')) return 'bedrock';
  if (/^\/(v1|v1beta1)\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\//.test(pathname)) return 'vertex';
  if (pathname.startsWith('/api/')) return 'ollama';
  if (/^\/v1(beta|alpha)?\/(models|tunedModels)\//.test(pathname) && pathname.includes(':')) return 'gemini';
  return 'openai';
}

function hasCredentials(provider, req, query) {
  const bearer = /^Bearer\s+\S+/i.test(req.headers.authorization || '');
  if (provider === 'anthropic') return bearer || !!req.headers['x-api-key'];
  if (provider === 'gemini') return bearer || !!req.headers['x-goog-api-key'] || !!query.get('key');
  // Bedrock: a SigV4 signature, or a Bedrock API key as a bearer token.
  if (provider === 'bedrock') return bearer || /^AWS4-HMAC-SHA256\s/.test(req.headers.authorization || '');
  // The Workers binding's backend is reached through the binding itself: no credentials.
  if (provider === 'workers-binding') return true;
  return bearer;
}

const TRUTHY = new Set(['1', 'true', 'yes', 'on']);
const truthy = (v) => v !== undefined && TRUTHY.has(String(v).toLowerCase());
const intOf = (v) => (v === undefined || v === '' ? NaN : Number.parseInt(v, 10));

function corsHeaders(req) {
  const h = {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': '*',
  };
  if (req.method === 'OPTIONS') {
    h['access-control-allow-methods'] = 'GET, POST, OPTIONS';
    // Echo the requested headers: the `*` wildcard does not cover Authorization.
    h['access-control-allow-headers'] = req.headers['access-control-request-headers'] || '*';
    h['access-control-max-age'] = '86400';
    if (req.headers['access-control-request-private-network'] === 'true') h['access-control-allow-private-network'] = 'true';
  }
  return h;
}

/** Whether the answer can no longer be written (an HTTP/2 answer says so on its stream). */
const gone = (res) => !!(res.destroyed || res.stream?.destroyed || res.writableEnded);

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the mock model API.
 * @param {{ port?: number, host?: string, log?: (line: string) => void }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void>, requests: Array<{ method: string, path: string, query: Record<string, string>, headers: Record<string, string | string[]>, body: any, rawBody: string }>, server: import('node:http').Server }>}
 *   `server` answers the HTTP/1.1 connections; the port itself is a net.Server that hands each connection to it or to an HTTP/2 server.
 */
export async function startMockLlm({ port = 0, host = '127.0.0.1', log } = {}) {
  const requests = [];
  const sleepers = new Set();
  let closed = false;

  const sleep = (ms) => new Promise((resolve) => {
    if (closed) return resolve();
    const s = { resolve, t: setTimeout(() => { sleepers.delete(s); resolve(); }, ms) };
    sleepers.add(s);
  });

  async function write(res, s) {
    if (res.write(s)) return;
    await new Promise((resolve) => {
      const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  async function sendStream(res, a, sw) {
    res.writeHead(a.status, { 'content-type': a.contentType, 'cache-control': 'no-cache', ...a.headers });
    res.flushHeaders();
    const delay = Math.max(0, intOf(sw('chunk-delay-ms')) || 0);
    const truncate = sw('truncate');
    const truncAt = truncate !== undefined && (truthy(truncate) || truncate === 'reset')
      ? Math.min(a.frames.length - 1, a.firstContent + Math.floor(a.contentCount / 2))
      : -1;
    const garbage = truthy(sw('garbage'));
    // An AWS event stream can end with an exception message instead, halfway through the content.
    const exception = a.exception ? sw('stream-exception') : undefined;
    const exceptionAt = exception ? Math.min(a.frames.length - 1, a.firstContent + Math.floor(a.contentCount / 2)) : -1;
    for (let i = 0; i < a.frames.length; i++) {
      if (i > 0 && delay) await sleep(delay);
      if (gone(res)) return;
      const frame = a.frames[i];
      if (i === truncAt) {
        const cut = frame.subarray ? frame.subarray(0, Math.max(1, Math.floor(frame.length / 2))) : frame.slice(0, Math.max(1, Math.floor(frame.length / 2)));
        if (truncate === 'reset') res.write(cut, () => res.destroy());
        else res.end(cut);
        return;
      }
      if (i === exceptionAt) {
        res.end(a.exception(exception));
        return;
      }
      await write(res, frame);
      if (garbage && i === a.firstContent) await write(res, Buffer.isBuffer(frame) ? corruptMessage(frame) : garbageFrame(frame, a.eol ?? '\n\n'));
    }
    res.end();
  }

  async function handle(req, res) {
    res.sendDate = false; // no Date header: identical requests get identical responses
    const url = new URL(req.url, 'http://mock-llm.invalid');
    const cors = corsHeaders(req);
    const rawBody = await readBody(req);
    let body = null;
    let badJson = false;
    if (rawBody.length) {
      try { body = JSON.parse(rawBody); } catch { badJson = true; }
    }
    requests.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, body, rawBody });
    log?.(`${req.method} ${req.url}`);

    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    const sw = (name) => {
      const h = req.headers[`x-mock-${name}`];
      if (h !== undefined) return Array.isArray(h) ? h[0] : h;
      return url.searchParams.get(`x-mock-${name}`) ?? url.searchParams.get(`mock-${name}`) ?? undefined;
    };
    const send = (a) => {
      const headers = { ...cors, ...(a.headers || {}) };
      const retryAfter = sw('retry-after');
      if (retryAfter !== undefined && a.status >= 400) headers['retry-after'] = String(retryAfter);
      if (a.frames) return sendStream(res, { ...a, headers }, sw);
      const buf = Buffer.from(a.body, 'utf8');
      res.writeHead(a.status, { ...headers, 'content-type': a.contentType, 'content-length': buf.length });
      res.end(buf);
    };

    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/health')) {
      return send({ status: 200, contentType: 'application/json', body: JSON.stringify({ name: 'mock-llm', ok: true, routes: ['POST /v1/chat/completions', 'POST /v1/responses', 'POST /v1/embeddings', 'POST /v1/messages', 'POST /v1/messages/count_tokens', 'POST /v1beta/models/{model}:generateContent', 'POST /v1beta/models/{model}:streamGenerateContent?alt=sse', 'POST /api/chat', 'POST /api/generate', 'POST /model/{modelId}/converse', 'POST /model/{modelId}/converse-stream', 'POST /model/{modelId}/invoke', 'POST /model/{modelId}/invoke-with-response-stream', 'POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict', 'POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:streamRawPredict', 'POST /client/v4/accounts/{account_id}/ai/run/{model}', 'POST /client/v4/accounts/{account_id}/ai/v1/chat/completions', 'POST /v1/{account_id}/{gateway_id}/workers-ai/{model}', 'POST /v1/{account_id}/{gateway_id}/workers-ai/v1/chat/completions', 'POST /workers-binding/run', 'POST /workers-binding/ai-gateway/run'] }) });
    }

    const r = route(url.pathname);
    const provider = r?.provider ?? providerOfPath(url.pathname);
    const seed = `${url.pathname}\n${rawBody}`;
    const errorHeaders = provider === 'anthropic' || provider === 'vertex'
      ? { 'request-id': `req_${provider === 'vertex' ? CLOUD_TAG.vertex : ''}011C${alnumId(seed, 'request-id', 20)}` }
      : provider === 'openai' ? openaiHeaders({ seed })
        : provider === 'bedrock' ? amznHeaders({ seed })
          : provider === 'workers-ai' || provider === 'workers-binding' ? { 'cf-ai-req-id': workersAiReqId(seed) } : {};
    const fail = (status, detail) => {
      const a = errorAnswer(provider, status, detail);
      return send({ ...a, headers: { ...errorHeaders, ...a.headers } });
    };

    if (!r || req.method !== 'POST') {
      if (provider === 'openai') return fail(404, { message: `Invalid URL (${req.method} ${url.pathname})`, code: null });
      if (provider === 'anthropic' || provider === 'vertex') return fail(404, { message: `Not found: ${req.method} ${url.pathname}` });
      if (provider === 'bedrock') return fail(404, { message: `mock-llm: no Bedrock operation at ${req.method} ${url.pathname}`, type: 'UnknownOperationException' });
      if (provider === 'workers-ai') return fail(404, { code: 7003, message: `Could not route to ${url.pathname}, perhaps your object identifier is invalid?` });
      if (provider === 'workers-binding') return fail(404, { message: `mock-llm: no Workers AI binding operation at ${req.method} ${url.pathname}` });
      return fail(404, { message: `Method not found: ${req.method} ${url.pathname}` });
    }

    if (truthy(sw('hang'))) return; // accepted, never answered: the socket stays open until the client gives up or close()

    const delay = intOf(sw('delay-ms'));
    if (delay > 0) {
      await sleep(delay);
      if (gone(res)) return;
    }

    const forced = intOf(sw('status'));
    if (forced >= 400 && forced <= 599) return fail(forced);

    // Workers AI's REST API (and AI Gateway's path to it) always wants its API token.
    const authRequired = provider === 'workers-ai' || String(sw('auth') ?? '').toLowerCase() === 'required';
    if (authRequired && !hasCredentials(provider, req, url.searchParams)) {
      if (provider === 'anthropic') return fail(401, { message: 'x-api-key header is required' });
      if (provider === 'workers-ai') return fail(401);
      if (provider === 'gemini') return fail(401);
      if (provider === 'bedrock') return fail(403, { message: 'Missing Authentication Token', type: 'MissingAuthenticationTokenException' });
      // Google's front door checks Vertex's OAuth token, and answers in Google's error shape.
      if (provider === 'vertex') {
        const a = errorAnswer('gemini', 401, { message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.' });
        return send({ ...a, headers: errorHeaders });
      }
      return fail(401, { message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", code: null });
    }

    if (badJson || !body || typeof body !== 'object' || Array.isArray(body)) {
      if (provider === 'anthropic' || provider === 'vertex') return fail(400, { message: 'There was an error parsing the body of your request.' });
      if (provider === 'bedrock') return fail(400);
      if (provider === 'workers-ai' || provider === 'workers-binding') return fail(400, { code: 5006, type: 'AiError', message: 'Bad input: Error: the body is not a JSON object' });
      if (provider === 'gemini') return fail(400, { message: 'Invalid JSON payload received.' });
      return fail(400, { message: 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)', code: null });
    }

    let chunks = intOf(sw('chunks'));
    chunks = Number.isFinite(chunks) && chunks >= 1 ? Math.min(chunks, MAX_CHUNKS) : DEFAULT_CHUNKS;
    const answer = r.handler(body, { seed, chunks, query: url.searchParams, headers: req.headers });
    if (answer.headers === undefined) answer.headers = errorHeaders;
    else if (answer.status >= 400) answer.headers = { ...errorHeaders, ...answer.headers };
    return send(answer);
  }

  const onRequest = (req, res) => {
    handle(req, res).catch((err) => {
      if (res.headersSent) return res.destroy();
      const body = JSON.stringify({ error: { message: `mock-llm internal error: ${err?.message}`, type: 'server_error', param: null, code: null } });
      res.writeHead(500, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(body);
    });
  };
  const server = createServer(onRequest);
  // HTTP/2 without TLS, with prior knowledge: in Node the AWS SDK's Bedrock Runtime client speaks
  // HTTP/2 by default (NodeHttp2Handler), and to an http:// endpoint it opens with HTTP/2's preface.
  // One port serves both: a connection's first bytes say which protocol it speaks.
  const h2 = createHttp2Server(onRequest);
  const sockets = new Set();
  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (chunk) => {
      socket.pause();
      socket.unshift(chunk);
      (chunk.subarray(0, 4).toString('latin1') === 'PRI ' ? h2 : server).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });

  await new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const actualPort = front.address().port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${actualPort}`;

  let closing;
  return {
    url,
    port: actualPort,
    requests,
    server,
    close() {
      closing ??= new Promise((resolve) => {
        closed = true;
        for (const s of sleepers) { clearTimeout(s.t); s.resolve(); }
        sleepers.clear();
        front.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** A copy of an event stream message with one payload byte changed: its message CRC no longer matches. */
function corruptMessage(frame) {
  const copy = Buffer.from(frame);
  const at = copy.length - 5; // the payload's last byte
  copy[at] ^= 0x20;
  return copy;
}

/** A copy of an SSE frame whose data JSON is cut in half: an event a parser cannot read. */
function garbageFrame(frame, eol) {
  const at = frame.indexOf('data: ');
  if (at < 0) return '\n,\r\n{"candidates": [{"content": {\n';
  const end = frame.length - eol.length;
  const jsonStart = at + 6;
  return frame.slice(0, jsonStart + Math.max(1, Math.floor((end - jsonStart) / 2))) + eol;
}

// ---------------------------------------------------------------------------------------------
// Command line: node mock-llm/server.mjs [--port 8788] [--host 127.0.0.1] [--log]
// ---------------------------------------------------------------------------------------------

function runDirectly() {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (runDirectly()) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p', default: process.env.MOCK_LLM_PORT ?? '8788' },
      host: { type: 'string', default: process.env.MOCK_LLM_HOST ?? '127.0.0.1' },
      log: { type: 'boolean', default: false },
    },
  });
  const llm = await startMockLlm({
    port: Number(values.port),
    host: values.host,
    log: values.log ? (line) => process.stderr.write(`mock-llm: ${line}\n`) : undefined,
  });
  process.stdout.write(`${llm.url}\n`);
  const stop = async () => {
    await llm.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
