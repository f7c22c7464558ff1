// The Node entry: the wasm core read from disk, async context from AsyncLocalStorage.
import { readFileSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Core, initSync } from './core/edgetrace.js';
import { LlmCalls, initSync as initLlm } from './llm/edgetrace_llm.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { _setRuntime, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

_setRuntime({
  loader: () => {
    const exports = initSync({ module: readFileSync(new URL('./core/edgetrace_bg.wasm', import.meta.url)) });
    return { Core, memory: () => exports.memory };
  },
  // The model API parsers, read on the first model call.
  llmLoader: () => {
    initLlm({ module: readFileSync(new URL('./llm/edgetrace_llm_bg.wasm', import.meta.url)) });
    return LlmCalls;
  },
  AsyncLocalStorage,
  runtime: 'node',
});

export { traceFetch, instrumentGlobalFetch, registerModelApi, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
