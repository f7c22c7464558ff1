// The Node entry: the wasm core read from disk, async context from AsyncLocalStorage.
import { readFileSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Core, initSync } from './core/edgetrace.js';
import { LlmCalls, initSync as initLlm } from './llm/edgetrace_llm.js';
import { instrumentGlobalFetch, registerModelApi, traceFetch } from './fetch.js';
import { wasmFiles } from './wasm-files.js';
import { checkServer, markShedTraces, mlflowEnv, noEnvEndpoint, noEnvExperiment, sameOptions, SERVER_DEFAULTS, timedFlush, withMlflowEnv } from './exporter.js';
import { _internal, _setRuntime, init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flush, getStats, instrumentWorker, Span, SpanType, SpanStatusCode } from './edgetrace.js';

// The package's wasm files, read from beside this file. (Each `new URL('./…', import.meta.url)`
// is written out whole: webpack and Next.js copy the files such expressions name into their
// output.) A bundler that does not (esbuild, bun build) leaves the bundle without them: that, or a
// runtime that may not read them (Deno without --allow-read), is an error that says what to do,
// and tracing goes off with it as a warning; init() does not throw it.
function readWasm(url, name) {
  try {
    // The Bun entry's file imports, where it set them (bun.js): a compiled executable's own.
    return readFileSync(wasmFiles[name] || url());
  } catch (e) {
    // A TypeError: the bundler replaced the file's URL with one of its own (Next.js does, with a
    // URL of its static files that no file read takes).
    const hint = e?.code === 'ENOENT' || e instanceof TypeError
      ? " (was edgetrace bundled without its .wasm files? Keep it external to the bundle, e.g. Next.js's serverExternalPackages: ['edgetrace'], esbuild's --packages=external or --external:edgetrace, or copy node_modules/edgetrace/core and llm beside the bundle)"
      : '';
    throw new Error(`${e?.message ?? e}${hint}`);
  }
}

// Each span is entered with AsyncLocalStorage.run, in every runtime this entry serves: Node 20
// (async hooks), Node 22 and 24 (async context frames), Bun and Deno. Until session 38, Node 24
// entered it inside an AsyncResource scope instead, which leaves by putting the frame before it
// back where `run` makes a second frame: fewer instructions per level (`bench/als-enter.mjs`),
// and 2-3 % less time in a process that never collects its old generation. But right after a
// full collection that path ran 30-40 % slower than `run` for thousands of spans (why, in V8,
// was not found), and the benchmark collects before every round, as apps' processes collect now
// and then: under Node 24 `run` took 889 against 1,257 ns a nested span there
// (bench/HISTORY.md, session 38).
_setRuntime({
  // A core that cannot be read is a rejected promise: tracing goes off with a warning (edgetrace.js
  // wasmNow), where a throw would come out of init().
  loader: () => {
    try {
      const exports = initSync({ module: readWasm(() => new URL('./core/edgetrace_bg.wasm', import.meta.url), 'core') });
      return { Core, memory: () => exports.memory };
    } catch (e) {
      return Promise.reject(e);
    }
  },
  // The model API parsers, read on the first model call.
  llmLoader: () => {
    initLlm({ module: readWasm(() => new URL('./llm/edgetrace_llm_bg.wasm', import.meta.url), 'llm') });
    return LlmCalls;
  },
  AsyncLocalStorage,
  defaults: { ...SERVER_DEFAULTS, ...mlflowEnv() }, // bigger batches, MLflow's environment variables (exporter.js)
  check: checkServer(_internal.warn), // endpoint, format and the options' kinds, at init
  same: sameOptions, // init() again with the same options changes nothing
});
markShedTraces(Span, _internal.shed); // traceparent and isRecording of a shed trace (exporter.js)
_internal.state().envInit = withMlflowEnv; // instrumentWorker's init, as this entry's (initEveryCopy)

// Every copy of this entry a bundler loaded in this process (below, at initEveryCopy), and each
// copy's counters (one per copy of edgetrace.js), for the exit's warning.
const copies = (globalThis[Symbol.for('edgetrace.copies')] ||= { options: undefined, inits: [] });
(copies.stats ||= new Set()).add(getStats);

// An app that never calls init() sends as MLflow's variables say. The defaults above read them as
// this entry loaded, but an app may set them later (dotenv's config() in its main module, run
// after the imports) and rely on them alone, as MLflow's Python SDK lets it. So until the first
// init(), the options the exporter reads take them as they are now: read at most once a second,
// when the endpoint is asked for (the exporter asks after every span end). init() replaces these
// options, and reads the variables itself (initEveryCopy).
const preInit = _internal.state().options;
let initCalled = false; // by this copy's init() (initEveryCopy)
// No init() in any copy of the package (initEveryCopy configures every copy), and this copy's
// options are still the pre-init ones (instrumentWorker's init replaces them).
const unconfigured = () => !initCalled && copies.options === undefined && _internal.state().options === preInit;
let envReadAt = -Infinity;
let envNow;
for (const key of ['endpoint', 'experimentId', 'headers']) {
  Object.defineProperty(preInit, key, {
    get() {
      const t = Date.now();
      if (key === 'endpoint' && t - envReadAt >= 1000) {
        [envReadAt, envNow] = [t, mlflowEnv()];
        // The exporter's read, with no init(): MLflow would refuse every batch (422) unsaid.
        // Looked at again once the code running now is done: it may init() or set the variable.
        if (unconfigured() && envNow.endpoint && envNow.experimentId == null) setTimeout(noExperiment).unref?.();
      }
      return (envNow ||= mlflowEnv())[key];
    },
    set: (value) => Object.defineProperty(preInit, key, { value, writable: true, enumerable: true, configurable: true }),
    enumerable: true,
    configurable: true,
  });
}
function noExperiment() {
  const env = mlflowEnv();
  if (unconfigured() && env.endpoint && env.experimentId == null && !copies.experimentWarned) {
    copies.experimentWarned = true;
    _internal.warn(noEnvExperiment());
  }
}
// flush() reads them afresh: a script may set them after its spans ended.
const flushEnvNow = (options) => {
  envReadAt = -Infinity;
  return flush(options);
};

// A script that ends without awaiting flush() still sends what it traced: 'beforeExit' comes when
// nothing else keeps the process alive, flush() keeps it alive until its exports settle, and the
// next 'beforeExit' finds nothing new ended. A collector that does not answer would keep it alive
// through every retry (about 45 s by default): after EXIT_FLUSH_MS the process exits as it was
// about to, with a warning. (Not after process.exit(), which skips 'beforeExit'.)
const EXIT_FLUSH_MS = 5000;
let endedAtExit = -1;
let openWarned = false;
globalThis.process?.on?.('beforeExit', () => {
  try {
    const s = getStats();
    // A span never ended is never exported: its trace stays "in progress" in MLflow, without the
    // name and previews its root would give it. Said once, at the first exit that finds one.
    if (s.open > 0 && !openWarned) {
      openWarned = true;
      console.warn(`edgetrace: exiting with ${s.open} span(s) never ended; they are not exported, and MLflow shows their traces as in progress (end each span that startSpan() returns, or use withSpan/trace; the span of a model call ends when its streamed answer is read to its end, cancelled or aborted)`);
    }
    // No init() and no endpoint (neither MLFLOW_TRACKING_URI): what was traced went nowhere.
    // Said by one copy of the package (copies), with why the variable gave none where it is set.
    envReadAt = -Infinity;
    if (s.ended > 0 && !copies.exitWarned && unconfigured() && !preInit.endpoint && preInit.enabled !== false) {
      copies.exitWarned = true;
      const ended = [...copies.stats].reduce((n, stats) => n + stats().ended, 0); // every copy's spans
      console.warn(`edgetrace: exiting with ${ended} span(s) traced and never sent: there is no endpoint (call init({ endpoint }) or set MLFLOW_TRACKING_URI; init({ enabled: false }) turns tracing off)${noEnvEndpoint()}`);
    }
    if (!(s.queued > 0 && s.ended !== endedAtExit)) return;
    endedAtExit = s.ended;
    flushEnvNow();
    setTimeout(() => {
      console.warn(`edgetrace: exiting with spans unsent: their export did not finish within ${EXIT_FLUSH_MS / 1000} s of the script's end (await flush() to wait for it)`);
      process.exit();
    }, EXIT_FLUSH_MS).unref();
  } catch {
    // Tracing never breaks the app, nor its exit.
  }
});

// flush({ timeoutMs }): a server's shutdown waits for the export at most that long.
const flushWithin = timedFlush(flushEnvNow, getStats, _internal.warn);

// A bundler may load this entry more than once in one process: Next.js bundles instrumentation.ts
// and the routes apart, each with a copy of the package, and an init() in instrumentation.ts
// configured only its own copy, while the routes' spans waited, unsent, in theirs. So an init()
// in any copy also configures every copy that has had no init() of its own, including copies
// loaded later.
const adopt = (options) => {
  try {
    if (!initCalled) init(options);
  } catch {
    // Options this copy cannot take were warned about by the copy given them.
  }
};
copies.inits.push(adopt);
if (copies.options) adopt(copies.options);
function initEveryCopy(options) {
  initCalled = true;
  // mlflow-tracing's init({ trackingUri, experimentId }), as an app moved from it calls it: the
  // same server as edgetrace's endpoint, taken as it, and the name to use said once.
  const trackingUri = typeof options === 'object' ? options?.trackingUri : undefined;
  const both = trackingUri != null && options.endpoint != null;
  if (trackingUri != null) options = { endpoint: trackingUri, ...options, trackingUri: undefined };
  options = withMlflowEnv(options); // MLflow's environment variables as they are now, under the options given
  // Options that throw do so here, before any other copy takes them.
  const ready = init(options);
  if (trackingUri != null) _internal.warn(both ? "init({ trackingUri }) is mlflow-tracing's name for edgetrace's endpoint: both were given, and endpoint is used" : "init({ trackingUri }) is mlflow-tracing's name: edgetrace's is init({ endpoint }), and trackingUri was taken as it");
  copies.options = options;
  for (const other of copies.inits) if (other !== adopt) other(options);
  return ready;
}

export { traceFetch, instrumentGlobalFetch, registerModelApi, initEveryCopy as init, trace, withSpan, startSpan, getCurrentActiveSpan, updateCurrentTrace, getLastActiveTraceId, getTraceHeaders, flushWithin as flush, flushWithin as flushTraces, getStats, instrumentWorker, Span, SpanType, SpanStatusCode };
