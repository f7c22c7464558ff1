// The Cloudflare Workers (workerd) entry: the wasm core imported as a compiled module, as Workers
// require (they refuse to compile wasm from bytes). Nothing runs at top level but wiring: the core
// is instantiated on first use, inside a handler.
import wasmModule from './core/edgetrace_bg.wasm';
import { Core, initSync } from './core/edgetrace.js';
import llmModule from './llm/edgetrace_llm_bg.wasm';
import { LlmCalls, initSync as initLlm } from './llm/edgetrace_llm.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { checkServer, markShedTraces, sameOptions, SERVER_DEFAULTS, timedFlush } from './exporter.js';
import { _internal, _setRuntime, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

_setRuntime({
  loader: () => {
    const exports = initSync({ module: wasmModule });
    return { Core, memory: () => exports.memory };
  },
  // The model API parsers: a second compiled module, instantiated on the first model call.
  llmLoader: () => {
    initLlm({ module: llmModule });
    return LlmCalls;
  },
  // With the nodejs_compat flag; asked on first use, inside a handler.
  findAsyncLocalStorage: () => globalThis.process?.getBuiltinModule?.('node:async_hooks')?.AsyncLocalStorage,
  noAsyncLocalStorage:
    'no AsyncLocalStorage in this Worker (enable the nodejs_compat flag, or pass ' +
    "init({ asyncLocalStorage }) from 'node:async_hooks' with nodejs_als); async nesting falls back " +
    'to V8 async stack frames and the span handle, as in browsers',
  // The servers' bigger batches (exporter.js), and retries that end within the 30 s a Worker is
  // kept alive by `ctx.waitUntil` after its response: four attempts of at most 4 s each, with at
  // most 0.5, 1 and 2 s between them (full jitter), or a Retry-After of at most 4 s: 28 s in all
  // at worst.
  // A flush that gives up warns and counts the spans as dropped; one the platform cuts short
  // would lose them without a word.
  defaults: { ...SERVER_DEFAULTS, exportTimeoutMs: 4000, maxRetries: 3, maxBackoffMs: 4000 },
  check: checkServer(_internal.warn), // endpoint, format and the options' kinds, at init
  same: sameOptions, // init() again with the same options changes nothing
});
markShedTraces(Span, _internal.shed); // traceparent and isRecording of a shed trace (exporter.js)

// flush({ timeoutMs }): a server's shutdown waits for the export at most that long.
const flushWithin = timedFlush(flush, getStats, _internal.warn);

export { traceFetch, instrumentGlobalFetch, registerModelApi, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flushWithin as flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
