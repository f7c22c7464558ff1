// The browser entry (plain ESM and bundlers alike): the wasm core ships inlined, as a string with
// one character per byte (which gzip compresses nearly as well as the .wasm, unlike base64), so
// no bundler needs a wasm loader and the core starts synchronously on first use.
import { Core, core_memory as memory, initSync } from './core/edgetrace.js';
import wasmText from './core/wasm-inline.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { _setRuntime, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

function decode(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

_setRuntime({
  loader: () => {
    initSync({ module: decode(wasmText) });
    return { Core, memory };
  },
  // The model API parsers load on the first model call, from a chunk of their own.
  llmLoader: () => import('./llm-browser.js').then((m) => m.loadParsers()),
  runtime: 'browser',
});

export { traceFetch, instrumentGlobalFetch, registerModelApi, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
