// What the entries whose wasm arrives as compiled modules share: Cloudflare Workers (workerd.js)
// and Vercel's Edge runtime, Next.js's among them (edge-light.js). Both refuse to compile wasm
// from bytes, so each entry imports its two modules in the form its bundler takes, and hands
// them here. Nothing runs but wiring: the core is instantiated on first use, inside a handler.
import { Core, initSync } from './core/edgetrace.js';
import { LlmCalls, initSync as initLlm } from './llm/edgetrace_llm.js';
import { checkServer, markShedTraces, mlflowEnv, sameOptions, SERVER_DEFAULTS, timedFlush, withMlflowEnv } from './exporter.js';
import { _internal, _setRuntime, flush, getStats, init, Span } from './edgetrace.js';

// Next.js runs Edge routes locally (`next dev`, `next start`) in a `vm` context of their own, and
// compiles the wasm modules it injects there in the outer realm: `instanceof WebAssembly.Module`
// is false for them, and wasm-bindgen's `initSync` would then take the module for bytes and fail.
// `WebAssembly.Instance` takes a module of any realm; only the glue's check needs this.
function ownRealm(m) {
  if (m instanceof WebAssembly.Module || Object.prototype.toString.call(m) !== '[object WebAssembly.Module]') return m;
  return Object.setPrototypeOf(m, WebAssembly.Module.prototype);
}

/**
 * Wires the package to the runtime; returns the `flush` and `init` to export.
 * @param {{ core: WebAssembly.Module, llm: WebAssembly.Module, findAsyncLocalStorage: () => any, noAsyncLocalStorage: string, noEnv?: string }} runtime `noEnv`: what the warning of no endpoint adds where there is no `process.env`
 */
export function wireCompiledWasm({ core, llm, findAsyncLocalStorage, noAsyncLocalStorage, noEnv }) {
  _setRuntime({
    // A module that fails to instantiate turns tracing off with a warning (edgetrace.js), and
    // never throws into the app.
    loader: () => {
      try {
        const exports = initSync({ module: ownRealm(core) });
        return { Core, memory: () => exports.memory };
      } catch (e) {
        return Promise.reject(e);
      }
    },
    // The model API parsers: a second compiled module, instantiated on the first model call.
    llmLoader: () => {
      initLlm({ module: ownRealm(llm) });
      return LlmCalls;
    },
    // Asked on first use, inside a handler.
    findAsyncLocalStorage,
    noAsyncLocalStorage,
    // The servers' bigger batches (exporter.js), and retries that end within the 30 s a Worker is
    // kept alive by `ctx.waitUntil` (Vercel's `waitUntil` likewise) after its response: four
    // attempts of at most 4 s each, with at most 0.5, 1 and 2 s between them (full jitter), or a
    // Retry-After of at most 4 s: 28 s in all at worst.
    // A flush that gives up warns and counts the spans as dropped; one the platform cuts short
    // would lose them without a word.
    // MLflow's environment variables too, where `process.env` holds them: Next.js's Edge runtime,
    // and Workers with nodejs_compat (from compatibility date 2025-04-01, its vars are there).
    defaults: { ...SERVER_DEFAULTS, exportTimeoutMs: 4000, maxRetries: 3, maxBackoffMs: 4000, ...mlflowEnv() },
    check: checkServer(_internal.warn, noEnv), // endpoint, format and the options' kinds, at init
    same: sameOptions, // init() again with the same options changes nothing
  });
  markShedTraces(Span, _internal.shed); // traceparent and isRecording of a shed trace (exporter.js)
  _internal.state().envInit = withMlflowEnv; // instrumentWorker's init, as this entry's
  return {
    // flush({ timeoutMs }): a server's shutdown waits for the export at most that long.
    flush: timedFlush(flush, getStats, _internal.warn),
    // MLflow's environment variables as they are at init(), under the options given.
    init: (options) => init(withMlflowEnv(options)),
  };
}
