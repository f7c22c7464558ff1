// The Node entry: the wasm core read from disk, async context from AsyncLocalStorage.
import { readFileSync } from 'node:fs';
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { Core, initSync } from './core/edgetrace.js';
import { LlmCalls, initSync as initLlm } from './llm/edgetrace_llm.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { checkTransport, SERVER_DEFAULTS } from './exporter.js';
import { _setRuntime, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

// Node 24 (and 22 with --experimental-async-context-frame) keeps async context in frames, immutable
// maps from each AsyncLocalStorage to its store: AsyncLocalStorage.run makes one frame to enter
// the span and another to leave it (`enterWith` of the store before). An AsyncResource made
// where the span starts holds the frame there, and leaving its `runInAsyncScope` puts that very
// frame back: the span is entered inside it, and leaving makes no frame (2,437 against 3,576
// instructions per nested level under Node 24, `bench/als-enter.mjs`). Node 20's AsyncLocalStorage
// (async hooks, with `_propagate`) keeps `run`: 232 there against 1,432 for the resource. So do
// Bun (its AsyncLocalStorage has `_propagate`) and Deno, which load this entry too. Deno's has no
// `_propagate` either, but there a resource scope costs more than `run`: 2.3 µs against 0.5 for
// one span, and about 9 times as much for eleven nested (Deno 2.9).
const frames = !globalThis.Deno && typeof AsyncLocalStorage.prototype._propagate !== 'function' && typeof AsyncLocalStorage.prototype.enterWith === 'function';
const inScope = (als, span, fn, arg) => {
  als.enterWith(span);
  return fn(arg);
};
const enter = frames ? (als, span, fn, arg) => new AsyncResource('edgetrace.span').runInAsyncScope(inScope, null, als, span, fn, arg) : null;

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
  enter,
  defaults: SERVER_DEFAULTS, // bigger batches (exporter.js)
  check: checkTransport, // endpoint and format, at init
});

// A script that ends without awaiting flush() still sends what it traced: 'beforeExit' comes when
// nothing else keeps the process alive, flush() keeps it alive until its exports settle, and the
// next 'beforeExit' finds nothing new ended. A collector that does not answer would keep it alive
// through every retry (about 45 s by default): after EXIT_FLUSH_MS the process exits as it was
// about to, with a warning. (Not after process.exit(), which skips 'beforeExit'.)
const EXIT_FLUSH_MS = 5000;
let endedAtExit = -1;
globalThis.process?.on?.('beforeExit', () => {
  try {
    const s = getStats();
    if (!(s.queued > 0 && s.ended !== endedAtExit)) return;
    endedAtExit = s.ended;
    flush();
    setTimeout(() => {
      console.warn(`edgetrace: exiting with spans unsent: their export did not finish within ${EXIT_FLUSH_MS / 1000} s of the script's end (await flush() to wait for it)`);
      process.exit();
    }, EXIT_FLUSH_MS).unref();
  } catch {
    // Tracing never breaks the app, nor its exit.
  }
});

export { traceFetch, instrumentGlobalFetch, registerModelApi, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
