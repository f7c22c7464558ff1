// The browser entry (plain ESM and bundlers alike). The wasm core ships in the bundle, deflated
// as base64 (no bundler needs a wasm loader), and is inflated and compiled asynchronously when
// tracing starts: spans recorded meanwhile are kept in order and applied when it is ready.
// That core writes OTLP/protobuf only; for init({ format: 'json' }) the core with the OTLP/JSON
// encoder loads instead, from a chunk of its own (2.7 KB gzip that protobuf pages do not load).
import { instantiateCore } from './core-abi.js';
import deflated from './core/wasm-deflate.js';
import { inflateBase64 } from './inflate.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { _setRuntime, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

_setRuntime({
  // The options of the first init() (or the defaults, when a span comes first) choose the core.
  loader: async (options) => {
    const json = options?.format === 'json';
    const text = json ? (await import('./core/wasm-deflate-json.js')).default : deflated;
    // Compiled asynchronously; its exports are plain functions (src/abi.rs), wrapped by
    // core-abi.js instead of wasm-bindgen's glue.
    return { ...instantiateCore(await WebAssembly.compile(await inflateBase64(text))), json };
  },
  // The model API parsers load on the first model call, from a chunk of their own.
  llmLoader: () => import('./llm-browser.js').then((m) => m.loadParsers(inflateBase64)),
  // Server runtimes that load this entry and put AsyncLocalStorage on the global object (Vercel's
  // Edge runtime, Next.js middleware): asked on first use. Browsers have none.
  findAsyncLocalStorage: () => globalThis.AsyncLocalStorage,
});

export { traceFetch, instrumentGlobalFetch, registerModelApi, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, flush as flushTraces, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
