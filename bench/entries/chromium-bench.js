// Chromium: edgetrace's browser entry against OpenTelemetry's WebTracerProvider (its default
// StackContextManager: no Zone.js, so async context is not carried across awaits; with Zone.js
// it would cost more).
import { trace } from '@opentelemetry/api';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { getStats } from 'edgetrace';
import { makeMemoryRunner, makeParentsCheck, makeRunner } from './runtime-bench.js';
import { alternateRounds, median, SCENARIOS } from '../lib/scenarios.mjs';

const webProvider = (exporter, bsp) => {
  trace.disable();
  const provider = new WebTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, bsp)] });
  provider.register();
  return { provider, tracer: provider.getTracer('bench') };
};
window.runBench = makeRunner(webProvider);
window.runMemory = makeMemoryRunner(webProvider);
window.runParents = makeParentsCheck(webProvider);
// The floor for finding the active span after an `await` without AsyncContext: one capture of
// V8's async stack (structured call sites, 16 frames), from an async function awaiting inside
// a named async runner, as edgetrace's browser path does. ns per capture.
window.runCaptureFloor = async (n) => {
  const asCallSites = (_e, cs) => cs;
  const capture = () => {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    try {
      Error.prepareStackTrace = asCallSites;
      Error.stackTraceLimit = 16;
      const holder = {};
      Error.captureStackTrace(holder, capture);
      for (const f of holder.stack) if (f.getFunctionName()?.startsWith('__floor_')) return true;
      return false;
    } finally {
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = prepare;
    }
  };
  const runner = { async __floor_1(f) { return await f(); } }.__floor_1;
  return runner(async () => {
    await null;
    let found = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if (capture()) found++;
    const ms = performance.now() - t0;
    if (found !== n) throw new Error(`the runner frame was found ${found} of ${n} times`);
    return (ms * 1e6) / n;
  });
};

// Between runs the page yields to its event loop.
const idle = () => new Promise((r) => setTimeout(r, 0));

const post = (path, body) => fetch(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

// The page runs its own plan (bench/lib/page-runner.mjs opens it with no DevTools session):
// `?set=default|json&rounds=&ops=`. The default page runs every scenario but the JSON one, and the
// capture floor; the JSON scenario gets a page of its own, whose first init() asks for JSON and so
// loads the core with the JSON encoder (its first round, discarded, loads it), as a real page would.
// Rounds alternate which library goes first; between runs the page yields to its event loop.
async function runPlan() {
  const q = new URLSearchParams(location.search);
  const set = q.get('set');
  const rounds = Number(q.get('rounds'));
  const ops = Number(q.get('ops'));
  const out = { scenarios: {} };
  for (const sc of SCENARIOS.filter((s) => (s.export === 'json') === (set === 'json'))) {
    const r = await alternateRounds(sc, rounds, ops, async (who, n) => {
      await idle();
      return window.runBench({ scenario: sc.id, who, ops: n });
    });
    out.scenarios[sc.id] = r;
    await post('/progress', `chromium ${sc.id}: edgetrace ${median(r.edgetrace).toFixed(0)} ns/span, OpenTelemetry ${median(r.otel).toFixed(0)}, ratio ${r.ratio.toFixed(2)}`);
  }
  if (set !== 'json') {
    out.captureFloorNs = [];
    for (let i = 0; i < rounds; i++) {
      await idle();
      out.captureFloorNs.push(await window.runCaptureFloor(ops * 10));
    }
    await post('/progress', `chromium floor: one V8 async stack capture ${median(out.captureFloorNs).toFixed(0)} ns`);
  }
  return out;
}

// A page driven by the benchmark (`?who=edgetrace|otel`), one library per page and per browser, so
// each runs in a V8 isolate of its own: it asks for a job (POST /next, with the last job's
// result), runs it, and asks again, until told it is done. A job is a round of one scenario
// (`{ scenario, n }`: its ms back, and how many spans edgetrace's core has started) or the capture
// floor (`{ floor: n }`: ns per capture back) or the parents check (`{ parents: true }`: what
// makeParentsCheck gives back) or a step of the memory measure (`{ memory: phase, n }`,
// bench/memory-runtimes.mjs; see makeMemoryRunner). The bounds' pages (bench/runtimes.mjs --bounds) are
// this entry bundled with a stand-in for the package, and run as `who=edgetrace`.
async function runDriven(who) {
  let last = null;
  for (;;) {
    const job = await (await fetch('/next', { method: 'POST', body: JSON.stringify(last) })).json();
    if (job.done) return {};
    await idle();
    if (job.floor) last = { ns: await window.runCaptureFloor(job.floor) };
    else if (job.parents) last = await window.runParents(who);
    else if (job.memory) last = await window.runMemory({ who, phase: job.memory, n: job.n, track: job.track });
    else last = { ms: await window.runBench({ scenario: job.scenario, who, ops: job.n }), started: getStats().started };
  }
}

const query = new URLSearchParams(location.search);
const plan = query.has('who') ? () => runDriven(query.get('who')) : query.has('set') ? runPlan : null;
if (plan) plan().then((r) => post('/result', r), (e) => post('/result', { error: String(e?.stack || e) }));

