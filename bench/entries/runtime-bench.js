// The per-span scenarios inside a browser page or a Worker, both libraries in one bundle.
// `makeRunner` (Chromium) runs a round in one call and returns the ms of its timed part;
// `makePhasedRunner` (workerd) runs it in three requests, of which the caller times the second,
// as Workers' clocks stand still while code runs. The OpenTelemetry provider is made by the entry
// (web or base) through `makeProvider`.
import * as otelApi from '@opentelemetry/api';
import * as et from 'edgetrace';
import { ATTRS, DEPTH, edgetraceInit, edgetraceOps, otelOps, SCENARIOS, timeOps } from '../lib/scenarios.mjs';
import { BATCH, PayloadExporter } from '../lib/otel-setup.mjs';
import { fillHeld } from '../lib/wasm-held.mjs';

/**
 * A round in three phases, for workerd, where the caller times a whole request (Workers' clocks
 * stand still while code runs): `prepare` sets the library up, `ops` runs what a round times (the
 * ops, and the export in the payload scenarios), and `finish` empties what the round left
 * buffered (and, with `shutdown`, shuts OpenTelemetry's provider down). The caller times only the
 * `ops` request,
 * less an empty request, so the set-up and the drain after it stay out of the time, as they stay
 * out of a Node or Chromium round's clock. (Until session 39 one request did all three, so
 * workerd's buffer-only rows charged edgetrace for encoding and exporting every span of the round,
 * and OpenTelemetry, whose buffer-only exporter encodes nothing, for handing them over.)
 */
export function makePhasedRunner(makeProvider, { shutdown = false } = {}) {
  let round = null;
  const now = () => performance.now();
  return async function phase({ phase, scenario, who, ops }) {
    const sc = SCENARIOS.find((s) => s.id === scenario);
    if (!sc) throw new Error(`unknown scenario ${scenario}`);
    if (phase === 'prepare') {
      if (who === 'edgetrace') round = { who, scenario, h: edgetraceInit(et, sc.export) };
      else {
        const bsp = { ...BATCH, maxExportBatchSize: sc.export ? 512 : BATCH.maxQueueSize };
        round = { who, scenario, ...makeProvider(new PayloadExporter(sc.export || 'none'), bsp) };
      }
      return;
    }
    if (round?.who !== who || round.scenario !== scenario) throw new Error(`${phase}: no ${who} round of ${scenario} prepared`);
    if (phase === 'ops') {
      if (who === 'edgetrace') {
        await timeOps(edgetraceOps(et)[scenario], ops, sc.async, now);
        if (sc.export) await round.h.drain();
      } else {
        await timeOps(otelOps(round.tracer, otelApi)[scenario], ops, sc.async, now);
        if (sc.export) await round.provider.forceFlush();
      }
      return;
    }
    if (phase !== 'finish') throw new Error(`unknown phase ${phase}`);
    const r = round;
    round = null;
    if (who === 'edgetrace') {
      if (!sc.export) await r.h.drain();
      return et.getStats();
    }
    if (!sc.export) await r.provider.forceFlush();
    // Not in workerd: the provider's shutdown resolves a promise made when the provider was (in the
    // `prepare` request), which workerd refuses across requests, and the request would hang. There
    // the round's provider, flushed, is garbage once the next is made (its timer went with its
    // request).
    if (shutdown) await r.provider.shutdown();
    return {};
  };
}

/** The same phases in one call, timed in the page (Chromium): returns the `ops` phase's ms. */
export function makeRunner(makeProvider) {
  const phase = makePhasedRunner(makeProvider, { shutdown: true });
  return async function run({ scenario, who, ops }) {
    const round = { scenario, who };
    await phase({ ...round, phase: 'prepare' });
    const t0 = performance.now();
    await phase({ ...round, phase: 'ops', ops });
    const ms = performance.now() - t0;
    await phase({ ...round, phase: 'finish' });
    return ms;
  };
}

/**
 * Memory per buffered span in a page or a Worker (bench/memory-runtimes.mjs), as bench/memory.mjs
 * measures it in Node:
 * - `memory({ who, phase: 'base' })` sets the library up, makes one op of the nested scenario and
 *   exports it (so its code, and edgetrace's core, are loaded), then measures;
 * - `memory({ who, phase: 'fill', n })` makes `n` more ops, whose spans stay buffered, un-exported,
 *   and measures again; with `track`, it also says what edgetrace's core held per span
 *   (`heldPerSpan`, bench/lib/wasm-held.mjs), which makes garbage, so the caller runs it in a page
 *   or Worker of its own;
 * - `memory({ who, phase: 'check' })` then exports them and says how many spans were buffered, so a
 *   library that dropped spans could not pass for a small one.
 * Each measure has edgetrace's core apply what was recorded, then forces two GCs: the runtime must
 * run V8 with --expose-gc. It gives the JS heap where the runtime tells it (Chromium with
 * --enable-precise-memory-info) and edgetrace's wasm memory; the caller reads the process's RSS
 * from outside.
 */
export function makeMemoryRunner(makeProvider) {
  let lib = null;
  const measure = () => {
    // getStats() (lib.wasm) has edgetrace's core apply what was recorded first: the spans are
    // measured as the core holds them, and the recorded commands it applied are garbage the GCs
    // below collect (measured the other way round, that garbage was counted: 145 B of Chromium's
    // JS heap a span in run BG, against 1 B).
    const wasm = lib.wasm();
    globalThis.gc();
    globalThis.gc();
    return { heap: globalThis.performance?.memory?.usedJSHeapSize ?? null, wasm };
  };
  return async function memory({ who, phase, n, track = false }) {
    if (typeof globalThis.gc !== 'function') throw new Error('memory: V8 gc() is not exposed (run V8 with --expose-gc)');
    if (phase === 'base') {
      if (who === 'edgetrace') {
        const h = edgetraceInit(et, null);
        const op = edgetraceOps(et).nested;
        op();
        await h.drain();
        lib = { op, wasm: () => et.getStats().wasmMemoryBytes, exported: () => et.getStats().exported, flush: h.drain };
      } else {
        const exporter = new PayloadExporter('none');
        const { provider, tracer } = makeProvider(exporter, BATCH);
        const op = otelOps(tracer, otelApi).nested;
        op();
        await provider.forceFlush();
        lib = { op, wasm: () => 0, exported: () => exporter.spans, flush: () => provider.forceFlush() };
      }
      lib.before = lib.exported();
      return measure();
    }
    if (phase === 'fill') {
      // getStats() (lib.wasm) has the core apply what was recorded before it reads the memory.
      let heldPerSpan = null;
      if (track && who === 'edgetrace') heldPerSpan = fillHeld(lib.op, n, DEPTH + 1, lib.wasm);
      else for (let i = 0; i < n; i++) lib.op();
      lib.ops = n;
      return { ...measure(), heldPerSpan };
    }
    if (phase === 'check') {
      await lib.flush();
      const buffered = lib.exported() - lib.before;
      if (buffered !== lib.ops * (DEPTH + 1)) throw new Error(`memory: ${who} exported ${buffered} spans after the fill, not the ${lib.ops * (DEPTH + 1)} it made`);
      return { buffered };
    }
    throw new Error(`memory: unknown phase ${phase}`);
  };
}

/**
 * What each library finds as the active span after an `await`, in the async row's shape (one op of
 * `nestedAsync`): each span's body, after its `await null`, asks for the active span (as a child
 * started there takes it for its parent) and checks that it is its own. So the async rows' ratios
 * can be read knowing what each side did: `{ kept, of }`, the bodies that found their own span,
 * of those that asked.
 */
export function makeParentsCheck(makeProvider) {
  return async function parents(who) {
    let kept = 0;
    let of = 0;
    const ask = (found, own) => {
      of++;
      if (found === own) kept++;
    };
    if (who === 'edgetrace') {
      const h = edgetraceInit(et, null);
      const nest = (d) => et.withSpan(async (s) => {
        s.setAttributes(ATTRS);
        await null;
        ask(et.getCurrentActiveSpan(), s);
        if (d > 0) await nest(d - 1);
      }, { name: d === DEPTH ? 'root' : 'child' });
      await nest(DEPTH);
      await h.drain();
    } else {
      const { provider, tracer } = makeProvider(new PayloadExporter('none'), BATCH);
      const nest = (d) => tracer.startActiveSpan(d === DEPTH ? 'root' : 'child', async (s) => {
        s.setAttributes(ATTRS);
        await null;
        ask(otelApi.trace.getActiveSpan(), s);
        if (d > 0) await nest(d - 1);
        s.end();
      });
      await nest(DEPTH);
      await provider.forceFlush();
      await provider.shutdown();
    }
    return { kept, of };
  };
}
