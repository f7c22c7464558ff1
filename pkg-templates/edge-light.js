// The entry for Vercel's Edge runtime (the `edge-light` condition): Next.js routes and middleware
// with `runtime = 'edge'`, and Vercel Edge Functions. It refuses to compile wasm from bytes and has
// no DecompressionStream, so the browser entry's deflated core cannot load there; the two modules
// are imported with `?module`, which Next.js's bundlers (webpack and Turbopack) and Vercel's build
// turn into compiled modules. Nothing runs at top level but wiring.
import core from './core/edgetrace_bg.wasm?module';
import llm from './llm/edgetrace_llm_bg.wasm?module';
import { wireCompiledWasm } from './compiled-wasm.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

const { flush, init } = wireCompiledWasm({
  core,
  llm,
  // The Edge runtime puts AsyncLocalStorage on the global object.
  findAsyncLocalStorage: () => globalThis.AsyncLocalStorage,
  noAsyncLocalStorage:
    "no AsyncLocalStorage on this Edge runtime's global object (pass init({ asyncLocalStorage }) " +
    "from 'node:async_hooks'); async nesting falls back to V8 async stack frames and the span handle, as in browsers",
});

export { traceFetch, instrumentGlobalFetch, registerModelApi, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, flush as flushTraces, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
