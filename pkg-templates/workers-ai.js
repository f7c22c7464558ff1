// `traceWorkersAi(env.AI)`: Cloudflare Workers AI's binding, each `run` a model call span. A
// module of its own (`edgetrace/workers-ai`), so the up-front browser entry does not carry it.
//
// The binding (workerd's `cloudflare-internal:ai-api`) calls Workers AI through a service of the
// runtime's, not through `fetch`, so no fetch wrapper sees its calls: its `run` is wrapped
// instead. The model's inputs go to the parsers as a request to `/ai/run/{model}` would carry
// them, and its answer as it comes back: the object `run` resolves to, or the stream (SSE) it
// returns with `stream: true`, each chunk handed to the parsers as the app reads it. The
// binding's other methods (`gateway`, `models`, `toMarkdown`, …) and properties pass through.
// Tracing never changes what `run` returns or throws.

import { _internal, getCurrentActiveSpan, startSpan } from './edgetrace.js';
import { callKind, followCall, watchModelStream } from './fetch.js';
import { isUserAbort } from './stream.js';
import { safeStringify } from './safe-json.js';

const TRACED = Symbol.for('edgetrace.workersAi');
// Each binding's calls in flight, each `{ overlapped }`: a binding (one `env.AI` serves every
// request of an isolate) keeps one `lastRequestId` for all its calls, so a call's is read only
// when no other of its calls ran beside it.
const IN_FLIGHT = new WeakMap();

/**
 * The binding with its `run` traced; anything else (no `run`, already traced) as it is.
 * @template T
 * @param {T} binding `env.AI`
 * @param {{ name?: string, parent?: () => unknown }} [options]
 * @returns {T}
 */
export function traceWorkersAi(binding, options = {}) {
  if (!binding || typeof binding.run !== 'function' || binding[TRACED]) return binding;
  let inFlight = IN_FLIGHT.get(binding);
  if (!inFlight) IN_FLIGHT.set(binding, (inFlight = new Set()));
  const run = (model, inputs, runOptions) => traceRun(binding, options, inFlight, model, inputs, runOptions);
  return new Proxy(binding, {
    get(target, key) {
      if (key === 'run') return run;
      if (key === TRACED) return true;
      // The binding's own methods read its private fields: they run on it, not on the proxy.
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' && key !== 'constructor' ? v.bind(target) : v;
    },
  });
}

// What the request to `/ai/run/{model}` would carry: the inputs as JSON, a stream or bytes among
// them (audio, an image) described, not read.
function requestText(inputs) {
  let shown = inputs;
  try {
    // The binding sends a stream (`{ body, contentType }`, or the stream itself: audio to
    // transcribe) as the request's body, unread here. An image or audio given as an array of its
    // bytes (`[...new Uint8Array(buf)]`, as Workers AI's docs pass it) is its length, not the
    // numbers, which would take the room of the prompt beside it.
    const streamed = (v) => (typeof ReadableStream === 'function' && v instanceof ReadableStream) || (typeof FormData === 'function' && v instanceof FormData);
    const bytes = (v) => Array.isArray(v) && v.length > 64 && v.every((b) => Number.isInteger(b) && b >= 0 && b < 256);
    for (const [k, v] of Object.entries(inputs ?? {})) {
      if (streamed(v) || (v && typeof v === 'object' && streamed(v.body))) {
        shown = { ...shown, [k]: `[a stream${typeof v.contentType === 'string' ? ` of ${v.contentType}` : ''}]` };
      } else if (bytes(v)) {
        shown = { ...shown, [k]: `[${v.length} bytes]` };
      }
    }
  } catch {
    shown = inputs;
  }
  return safeStringify(shown) ?? '';
}

async function traceRun(binding, options, inFlight, model, inputs, runOptions) {
  const call = () => binding.run(model, inputs, runOptions);
  let parent;
  let core;
  try {
    core = _internal.core();
    parent = options.parent?.() || getCurrentActiveSpan(1) || null;
    if (!core && _internal.loading()) core = await _internal.coreReady();
  } catch {
    core = null;
  }
  // A websocket is a session, not a call; a raw Response is the app's to read.
  if (!core || typeof model !== 'string' || runOptions?.websocket || runOptions?.returnRawResponse) return call();
  let span;
  let h;
  let started;
  const me = { overlapped: inFlight.size > 0 };
  try {
    const text = requestText(inputs);
    let req = null;
    try {
      req = text ? JSON.parse(text) : null;
    } catch {
      req = null;
    }
    const [op, spanType] = callKind('workers-ai', model, req);
    span = startSpan({ parent, name: options.name || `${op} ${model}`, spanType });
    h = span._h;
    for (const other of inFlight) other.overlapped = me.overlapped = true;
    inFlight.add(me);
    if (h) started = followCall(span, 'workers-ai', 'workers-binding.ai', `/ai/run/${model}`, _internal.redactBody(req, text, span));
  } catch {
    // Tracing never stands in the call's way.
    inFlight.delete(me);
    if (!span) return call();
  }
  const signal = runOptions?.signal;
  let result;
  try {
    result = await call();
  } catch (e) {
    inFlight.delete(me);
    const llm = await started;
    _internal.llmRun(() => llm?.forget(h));
    // The binding throws the API's error as an `InferenceUpstreamError` named by the API
    // (`InvalidInput`, `AiError`, …), its status on the binding.
    try {
      // The binding keeps the status of its last answer, and does not clear it when a call fails
      // before one (an abort); it does clear `lastRequestId` as a call starts, and sets it when
      // the answer comes: a status is this call's only then.
      const status = binding.lastRequestHttpStatusCode;
      if (!me.overlapped && binding.lastRequestId !== '' && Number.isInteger(status)) span.setAttribute('http.response.status_code', status);
    } catch {
      /* a binding of another make */
    }
    if (isUserAbort(e, signal)) span.setAttribute('edgetrace.llm.cancelled', true);
    else span.recordException(e);
    span.end();
    throw e;
  }
  inFlight.delete(me);
  try {
    if (!me.overlapped) {
      const id = binding.lastRequestId;
      if (id) span.setAttribute('edgetrace.llm.request_id', id);
      // Through AI Gateway (`{ gateway: { id } }`): its log's id, to find the call in its logs.
      const log = runOptions?.gateway && binding.aiGatewayLogId;
      if (log) span.setAttribute('edgetrace.llm.gateway_log_id', log);
    }
  } catch {
    /* a binding of another make */
  }
  const llm = h && (await started);
  if (!llm) {
    span.end();
    return result;
  }
  // A stream (`stream: true`, or a model that answers in bytes: audio, an image): watched as the
  // app reads it. The parsers read it as SSE only when the call asked for a stream.
  if (result instanceof ReadableStream) {
    let streaming = false;
    _internal.llmRun(() => {
      streaming = llm.streaming(h);
    });
    if (streaming) return watchModelStream(llm, span, result, 200, signal);
    _internal.llmRun(() => llm.finish_body(h, 200, new TextEncoder().encode(JSON.stringify('[a stream of bytes]')), _internal.now()));
    span.end();
    return result;
  }
  try {
    const body = new TextEncoder().encode(safeStringify(result) ?? 'null');
    _internal.llmRun(() => llm.finish_body(h, 200, body, _internal.now()));
    _internal.redactOutputs(span, llm);
  } finally {
    span.end();
  }
  return result;
}
