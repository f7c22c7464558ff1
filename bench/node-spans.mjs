// Per-span cost in Node, edgetrace against OpenTelemetry JS, run alternately round by round.
// Prints one JSON line: for each scenario, ns per span of each round for both, plus the floors.
//   node --expose-gc bench/node-spans.mjs ROUNDS OPS [--shared] [--bounds] [--otel3] [--only=ID,...]
// --only runs the scenarios named (ids from bench/lib/scenarios.mjs), for a longer look at a few
// rows than the full run gives them.
// Each library runs in a Node process of its own (a child of this one, which asks each in turn
// to run a round and report its time), as in an app that traces with one of them. In one process
// each would pay for the other: Node 20 runs every enabled AsyncLocalStorage's propagation on every
// promise, and edgetrace's stays enabled once used, so OpenTelemetry's async rounds paid for two
// while edgetrace's paid for one; and both share V8's feedback on the scenario code. --shared runs
// both in this process, as until session 14 (a GC is forced before each library's turn).
// --bounds runs three more libraries in the buffer-only scenarios, in processes of their own and
// in the same alternation, to show what bounds edgetrace's ratio there (`bounds` in the output):
//   floor       bench/floor/node.js, which records nothing and does only what any tracer of this
//               API must (a span object, the active one found, AsyncLocalStorage.run, a .then);
//   no-core     the package with its wasm core's part taken out: a copy of pkg/ whose recorder
//               writes every command as usual and never hands them to the core;
//   spike-core  the package with the fused spike as its core (cargo feature `bench-spike`): a lower
//               bound on a core that encodes each span as its commands are applied.
// (bench/lib/bound-pkgs.mjs makes both, in bench/out/; --bounds-built uses the ones there.) Where
// no-core's ratio is above a target, no change to the core alone can meet it.
import { forkChild } from './lib/child.mjs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BOUND_PKGS, checkBound, makeNoCore, makeSpikeCore } from './lib/bound-pkgs.mjs';
import { cpuNow, wallNow } from './lib/clocks.mjs';
import { alternateRounds, edgetraceInit, edgetraceOps, median, otelOps, SCENARIOS, timeOps } from './lib/scenarios.mjs';

// Rounds are measured by the process's CPU time (bench/lib/clocks.mjs), the verdict's measure,
// with wall time beside it (`wall` in the output).
const childOf = process.argv.indexOf('--child');

// The edgetrace-like libraries a child can load: the package, and the bounds (--bounds).
const PACKAGES = {
  edgetrace: '../pkg/node.js',
  floor: './floor/node.js',
  ...Object.fromEntries(Object.entries(BOUND_PKGS).map(([who, dir]) => [who, pathToFileURL(join(dir, 'node.js')).href])),
};
const BOUNDS = ['floor', ...Object.keys(BOUND_PKGS)];

// n ops of `op`, timed; in the payload scenarios the export (`drain`) is timed too, otherwise it
// runs after the clocks stop. Returns { ms, wallMs }: CPU and wall ms.
async function timedRound(sc, op, n, drain) {
  const c0 = cpuNow();
  const w0 = wallNow();
  await timeOps(op, n, sc.async, wallNow);
  let ms = cpuNow() - c0;
  let wallMs = wallNow() - w0;
  const c1 = cpuNow();
  const w1 = wallNow();
  await drain();
  if (sc.export) {
    ms += cpuNow() - c1;
    wallMs += wallNow() - w1;
  }
  return { ms, wallMs };
}

/** One library's rounds: `run(sc, n)` times n ops (and the export, in the payload scenarios);
 * returns { ms, bytesPerSpan }. Each library's modules load only where it runs. */
async function library(who) {
  if (who !== 'otel' && who !== 'otel3') {
    const et = await import(PACKAGES[who]);
    return async (sc, n) => {
      const h = edgetraceInit(et, sc.export);
      const endedBefore = who === 'spike-core' ? et.getStats().ended : 0;
      const { ms, wallMs } = await timedRound(sc, edgetraceOps(et)[sc.id], n, h.drain);
      if (who === 'edgetrace' || who === 'no-core' || who === 'spike-core') {
        const s = et.getStats();
        checkBound('bench/node-spans.mjs', who, { started: s.started, ended: s.ended - endedBefore, spans: n * sc.spans });
      }
      return { ms, wallMs, bytesPerSpan: sc.export ? h.bytes() / (n * sc.spans) : null };
    };
  }
  // OpenTelemetry JS 3 (--otel3) comes from bench/otel3/node_modules, with its own api.
  const { otelNode, api: otelApi } = who === 'otel3' ? await import('./otel3/setup.mjs') : { ...(await import('./lib/setups.mjs')), api: await import('@opentelemetry/api') };
  return async (sc, n) => {
    const o = otelNode(sc.export);
    const { ms, wallMs } = await timedRound(sc, otelOps(o.tracer, otelApi)[sc.id], n, o.drain);
    const bytesPerSpan = sc.export ? o.bytes() / (n * sc.spans) : null;
    await o.close();
    return { ms, wallMs, bytesPerSpan };
  };
}

if (childOf >= 0) {
  // A child: runs the rounds it is asked for, with a GC before each.
  const run = await library(process.argv[childOf + 1]);
  process.on('message', async ({ id, n }) => {
    globalThis.gc?.();
    const sc = SCENARIOS.find((s) => s.id === id);
    process.send(await run(sc, n));
  });
  process.send({ ready: true });
} else {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const rounds = Number(args[0] || 7);
  const ops = Number(args[1] || 2000);
  const shared = process.argv.includes('--shared');
  const bounds = process.argv.includes('--bounds');
  // --otel3: OpenTelemetry JS 3 takes its turns too, in a process of its own (`otel3` in the output).
  const otel3 = process.argv.includes('--otel3');
  if (bounds && shared) throw new Error('bench/node-spans.mjs: --bounds runs a process per library, so not with --shared');
  if (bounds && !process.argv.includes('--bounds-built')) {
    makeNoCore();
    makeSpikeCore((m) => process.stderr.write(`[bench:node] ${m}\n`));
  }
  const out = { rounds, ops, shared, scenarios: {}, floors: {}, bounds: bounds ? {} : null, otel3: otel3 ? {} : null };
  const runners = {};
  const children = [];
  if (shared) {
    for (const who of ['edgetrace', 'otel', ...(otel3 ? ['otel3'] : [])]) {
      const run = await library(who);
      runners[who] = async (sc, n) => {
        globalThis.gc?.();
        return run(sc, n);
      };
    }
  } else {
    for (const who of ['edgetrace', 'otel', ...(otel3 ? ['otel3'] : []), ...(bounds ? BOUNDS : [])]) {
      const { child, next, ask } = forkChild(fileURLToPath(import.meta.url), ['--child', who], who);
      children.push(child);
      await next(); // ready
      runners[who] = (sc, n) => ask({ id: sc.id, n });
    }
  }
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  for (const id of only || []) {
    if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`bench/node-spans.mjs: unknown scenario ${id}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
  }
  try {
    for (const sc of SCENARIOS.filter((s) => !only || only.includes(s.id))) {
      const bytesPerSpan = {};
      // The bounds only buffer: neither builds a payload.
      const libraries = ['edgetrace', 'otel', ...(otel3 ? ['otel3'] : []), ...(bounds && !sc.export ? BOUNDS : [])];
      const wall = Object.fromEntries(libraries.map((who) => [who, []]));
      const res = await alternateRounds(sc, rounds, ops, async (who, n) => {
        const r = await runners[who](sc, n);
        if (r.bytesPerSpan !== null) bytesPerSpan[who] = r.bytesPerSpan;
        wall[who].push((r.wallMs * 1e6) / (n * sc.spans));
        return r.ms;
      }, libraries);
      if (otel3) {
        out.otel3[sc.id] = { ns: res.otel3, ratio: median(res.edgetrace) / median(res.otel3) };
        delete res.otel3;
        process.stderr.write(`[bench:node] ${sc.id}: OpenTelemetry JS 3 ${median(out.otel3[sc.id].ns).toFixed(0)} ns/span, edgetrace's ratio to it ${out.otel3[sc.id].ratio.toFixed(2)}\n`);
      }
      if (bounds && !sc.export) {
        out.bounds[sc.id] = Object.fromEntries(BOUNDS.map((who) => [who, { ns: res[who], ratio: median(res[who]) / median(res.otel) }]));
        for (const who of BOUNDS) delete res[who];
        const b = out.bounds[sc.id];
        process.stderr.write(`[bench:node] ${sc.id} bounds: ${BOUNDS.map((who) => `${who} ${median(b[who].ns).toFixed(0)} ns/span (ratio ${b[who].ratio.toFixed(2)})`).join(', ')}\n`);
      }
      res.bytesPerSpan = bytesPerSpan;
      // The same rounds by wall time (the warm-up round left out, as alternateRounds does).
      res.wall = { edgetrace: wall.edgetrace.slice(1), otel: wall.otel.slice(1) };
      res.wall.ratio = median(res.wall.edgetrace) / median(res.wall.otel);
      out.scenarios[sc.id] = res;
      process.stderr.write(`[bench:node] ${sc.id}: edgetrace ${median(res.edgetrace).toFixed(0)} ns/span, OpenTelemetry ${median(res.otel).toFixed(0)} ns/span, ratio ${res.ratio.toFixed(2)} (by wall time ${res.wall.ratio.toFixed(2)})\n`);
    }
  } finally {
    for (const c of children) c.kill();
  }

  // The floors: a plain wrapper call and an empty AsyncLocalStorage.run, per call; and the async
  // scenario's shape with no tracing (AsyncLocalStorage.run per level, the same awaits, and a
  // .then per level as withSpan needs to end its span), per span.
  const wrap = (f) => (...a) => f(...a);
  const plain = wrap((x) => x + 1);
  const als = new AsyncLocalStorage();
  for (const [id, op] of [['wrapper', () => plain(1)], ['alsRun', () => als.run(1, () => 1)]]) {
    const xs = [];
    for (let r = 0; r < rounds; r++) xs.push(((await timeOps(op, ops * 50, false, cpuNow)) * 1e6) / (ops * 50));
    out.floors[id] = xs;
    process.stderr.write(`[bench:node] floor ${id}: ${median(xs).toFixed(1)} ns/call\n`);
  }
  const shape = (d) => als.run(d, async () => {
    await null;
    if (d > 0) await shape(d - 1);
  }).then((v) => v);
  {
    const xs = [];
    for (let r = 0; r < rounds; r++) xs.push(((await timeOps(() => shape(10), ops, true, cpuNow)) * 1e6) / (ops * 11));
    out.floors.asyncShape = xs;
    process.stderr.write(`[bench:node] floor asyncShape: ${median(xs).toFixed(0)} ns/span\n`);
  }
  console.log(JSON.stringify(out));
}
