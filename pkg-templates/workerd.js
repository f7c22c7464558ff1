// The Cloudflare Workers (workerd) entry: the wasm core imported as a compiled module, as Workers
// require (they refuse to compile wasm from bytes). Nothing runs at top level but wiring: the core
// is instantiated on first use, inside a handler.
import core from './core/edgetrace_bg.wasm';
import llm from './llm/edgetrace_llm_bg.wasm';
import { wireCompiledWasm } from './compiled-wasm.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

const { flush, init } = wireCompiledWasm({
  core,
  llm,
  // With the nodejs_compat flag.
  findAsyncLocalStorage: () => globalThis.process?.getBuiltinModule?.('node:async_hooks')?.AsyncLocalStorage,
  noAsyncLocalStorage:
    'no AsyncLocalStorage in this Worker (enable the nodejs_compat flag, or pass ' +
    "init({ asyncLocalStorage }) from 'node:async_hooks' with nodejs_als); async nesting falls back " +
    'to V8 async stack frames and the span handle, as in browsers',
  noEnv: "; a Worker's vars are on process.env, where MLFLOW_TRACKING_URI is read, with the nodejs_compat flag and a compatibility date of 2025-04-01 or later",
});

export { traceFetch, instrumentGlobalFetch, registerModelApi, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, flush as flushTraces, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
