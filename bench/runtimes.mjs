// Per-span cost in headless Chromium and in workerd, the same scenarios as in Node, each run
// alternately for edgetrace and OpenTelemetry, each library in a V8 isolate of its own (a page in
// a browser of its own; a Worker), unless --shared. Prints one JSON line. Chromium's pages have no
// DevTools session attached (bench/lib/page-runner.mjs says why).
//   node bench/runtimes.mjs ROUNDS OPS [--chromium-only | --workerd-only] [--shared] [--bounds [--bounds-built]]
// --bounds runs three more libraries in Chromium's buffer-only scenarios, each in a page (and a
// browser) of its own and in the same alternation, to show what bounds edgetrace's ratio there
// (`chromiumBounds` in the output), as bench/node-spans.mjs --bounds does in the server runtimes:
//   floor       bench/floor/browser.js, which records nothing and does only what any tracer of
//               this API must without AsyncLocalStorage (a span object, the active span, a `.then`)
//   no-core     the package with its wasm core's part taken out
//   speed-core  the package with its browser core built for speed (opt-level 3), not for size
// (bench/lib/bound-pkgs.mjs makes both in bench/out/; --bounds-built uses the ones there).
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { BOUND_PKGS, checkBound, makeNoCore, makeSpeedCore, SPEED_CORE_PKG, speedCoreSizes } from './lib/bound-pkgs.mjs';
import { chromiumVersion, pageChannel, runPage } from './lib/page-runner.mjs';
import { alternateRounds, median, SCENARIOS } from './lib/scenarios.mjs';
import { bundleBenchWorker, bundleChromiumPage } from './lib/worker-bundle.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const rounds = Number(args[0] || 5);
const ops = Number(args[1] || 1000);
const chromiumOnly = process.argv.includes('--chromium-only');
const workerdOnly = process.argv.includes('--workerd-only');
const shared = process.argv.includes('--shared'); // both libraries in one isolate, as until session 14
const bounds = process.argv.includes('--bounds');
if (bounds && shared) throw new Error('bench/runtimes.mjs: --bounds runs a page per library, so not with --shared');
const dir = join(here, 'out', 'rt');
const say = (m) => process.stderr.write(`[bench:runtimes] ${m}\n`);
const nodePaths = await bundleBenchWorker(join(here, '../pkg'), dir);
// The Chromium page, bundled as `<name>.js` with `<name>.html` to open it: with the package, and
// (--bounds) with each bound in the package's place.
const page = (name, options) => bundleChromiumPage(dir, name, options);
await page('chromium', { nodePaths });
// OpenTelemetry web with Zone.js, for the check of what each library finds after an await.
await page('chromium-zone', { nodePaths, entry: 'chromium-zone.js' });
// The pages each library runs in, as `who=` of chromium-bench.js: the bounds run as edgetrace.
const PAGES = { edgetrace: 'chromium.html?who=edgetrace', otel: 'chromium.html?who=otel', 'otel-zone': 'chromium-zone.html' };
const BOUNDS = ['floor', 'no-core', 'speed-core'];
if (bounds) {
  if (!process.argv.includes('--bounds-built')) {
    makeNoCore();
    makeSpeedCore(say);
  }
  for (const [who, pkg] of [['no-core', BOUND_PKGS['no-core']], ['speed-core', SPEED_CORE_PKG]]) {
    const modules = join(dir, who, 'node_modules');
    mkdirSync(modules, { recursive: true });
    symlinkSync(pkg, join(modules, 'edgetrace'));
    await page(`chromium-${who}`, { nodePaths: [modules, ...nodePaths.slice(1)] });
  }
  await page('chromium-floor', { nodePaths, alias: { edgetrace: join(here, 'floor/browser.js') } });
  for (const who of BOUNDS) PAGES[who] = `chromium-${who}.html?who=edgetrace`;
}

const results = { rounds, ops, chromium: {}, workerd: {}, chromiumIsolated: !shared, workerdIsolated: !shared, chromiumBounds: bounds ? {} : null, speedCoreSizes: bounds ? await speedCoreSizes() : null };

// --- Chromium --- (no DevTools session attached: bench/lib/page-runner.mjs)
// Each library runs in a page of its own, in a browser of its own, so in a V8 isolate of its own
// (as in workerd and Node), and this process asks each page in turn for a round. The scenario with
// the JSON payload gets pages of their own: the first init() of edgetrace's page asks for JSON and
// so loads the core with the JSON encoder, as a real page would. With --shared both libraries run
// in one page that runs its own plan (as until session 14).
results.chromiumVersion = await chromiumVersion();

async function chromiumIsolated(set) {
  const pages = {};
  // The bounds only buffer: they run with the default pages, not the JSON payload's.
  const withBounds = bounds && set !== 'json';
  // OpenTelemetry web with Zone.js joins only the check after the scenarios (default pages).
  const zone = set !== 'json' ? ['otel-zone'] : [];
  for (const who of ['edgetrace', 'otel', ...(withBounds ? BOUNDS : []), ...zone]) {
    const channel = pageChannel();
    pages[who] = { channel, finished: runPage(dir, PAGES[who], { say, handle: (path, body) => channel.handle(path, body) }) };
  }
  // A page that fails rejects its run; until then each is waited for in turn.
  const failed = Promise.race(Object.values(pages).map((p) => p.finished.then(() => new Promise(() => {}))));
  const ask = (who, msg) => Promise.race([pages[who].channel.job(msg), failed]);
  await Promise.race([Promise.all(Object.values(pages).map((p) => p.channel.ready)), failed]);
  const out = { scenarios: {} };
  for (const sc of SCENARIOS.filter((s) => (s.export === 'json') === (set === 'json'))) {
    const libraries = ['edgetrace', 'otel', ...(withBounds && !sc.export ? BOUNDS : [])];
    const r = await alternateRounds(sc, rounds, ops, async (who, n) => {
      const { ms, started } = await ask(who, { scenario: sc.id, n });
      checkBound('bench/runtimes.mjs', who, { started, spans: n * sc.spans });
      return ms;
    }, libraries);
    if (libraries.length > 2) {
      results.chromiumBounds[sc.id] = Object.fromEntries(BOUNDS.map((who) => [who, { ns: r[who], ratio: median(r[who]) / median(r.otel) }]));
      for (const who of BOUNDS) delete r[who];
      say(`chromium ${sc.id} bounds: ${BOUNDS.map((who) => `${who} ${median(results.chromiumBounds[sc.id][who].ns).toFixed(0)} ns/span (ratio ${results.chromiumBounds[sc.id][who].ratio.toFixed(2)})`).join(', ')}`);
    }
    out.scenarios[sc.id] = r;
    say(`chromium ${sc.id}: edgetrace ${median(r.edgetrace).toFixed(0)} ns/span, OpenTelemetry ${median(r.otel).toFixed(0)}, ratio ${r.ratio.toFixed(2)}`);
  }
  if (set !== 'json') {
    out.captureFloorNs = [];
    for (let i = 0; i < rounds; i++) out.captureFloorNs.push((await ask('edgetrace', { floor: ops * 10 })).ns);
    say(`chromium floor: one V8 async stack capture ${median(out.captureFloorNs).toFixed(0)} ns`);
    // What each library's async rows find as the active span after an await (makeParentsCheck).
    out.parentsAfterAwait = {};
    for (const who of ['edgetrace', 'otel', 'otel-zone']) out.parentsAfterAwait[who] = await ask(who, { parents: true });
    const own = out.parentsAfterAwait.edgetrace;
    if (own.kept !== own.of) throw new Error(`bench/runtimes.mjs: edgetrace found its own span after an await in ${own.kept} of ${own.of} bodies`);
    say(`chromium active span after an await: ${['edgetrace', 'otel', 'otel-zone'].map((who) => `${who} its own in ${out.parentsAfterAwait[who].kept} of ${out.parentsAfterAwait[who].of} bodies`).join(', ')}`);
  }
  for (const p of Object.values(pages)) p.channel.done();
  await Promise.all(Object.values(pages).map((p) => p.finished));
  return out;
}

for (const set of workerdOnly ? [] : ['default', 'json']) {
  const r = results.chromiumIsolated ? await chromiumIsolated(set) : await runPage(dir, `chromium.html?set=${set}&rounds=${rounds}&ops=${ops}`, { say });
  Object.assign(results.chromium, r.scenarios);
  if (r.captureFloorNs) results.chromiumCaptureFloorNs = r.captureFloorNs;
  if (r.parentsAfterAwait) results.chromiumParentsAfterAwait = r.parentsAfterAwait;
}
if (!workerdOnly) results.chromium = Object.fromEntries(SCENARIOS.map((sc) => [sc.id, results.chromium[sc.id]]));

// --- workerd ---
if (chromiumOnly) {
  console.log(JSON.stringify(results));
  process.exit(0);
}
// Each library runs in a Worker of its own, so in an isolate of its own, as it would in an app:
// neither pays for the other's garbage (no GC can be forced between rounds in workerd) nor shares
// V8's feedback and tiering of the scenario code both call. The floors run in a third. With
// --shared both run in one Worker (as until session 14). Measured so, a change can move time from
// one library's column to the other's: a smaller span object, tried in session 14, read 1.4-1.8x
// as slow in edgetrace's nested row while OpenTelemetry's got faster (their sum about the same),
// and no slower than before with each library in its own isolate.
const isolated = !shared;
const worker = (name) => ({
  name, modules: true, scriptPath: join(dir, 'worker.js'), modulesRoot: dir,
  modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
  compatibilityDate: '2026-04-01', compatibilityFlags: ['nodejs_compat'],
});
const names = isolated ? ['edgetrace', 'otel', 'floor'] : ['bench'];
const mf = new Miniflare({ workers: names.map(worker), cf: false });
try {
  const fetchers = isolated ? Object.fromEntries(await Promise.all(names.map(async (n) => [n, await mf.getWorker(n)]))) : null;
  // `q.who` (or `q.floor`) picks the Worker when isolated.
  // The request's time by the caller's clock, and what it answered; a request that failed is an
  // error here, not a fast round.
  const send = async (q) => {
    const url = `http://bench.test/?${new URLSearchParams(q)}`;
    const t0 = performance.now();
    const res = await (isolated ? fetchers[q.floor ? 'floor' : q.who].fetch(url) : mf.dispatchFetch(url));
    const body = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) throw new Error(`bench/runtimes.mjs: workerd answered ${res.status} to ${url}: ${body}`);
    return { ms, body };
  };
  const call = async (q) => (await send(q)).ms;
  for (const who of ['edgetrace', 'otel']) for (let i = 0; i < 5; i++) await call({ ops: 0, who });
  for (const sc of SCENARIOS) {
    // A round is three requests (makePhasedRunner in bench/entries/runtime-bench.js): the set-up,
    // the timed ops, then the drain; only the second is timed, less an empty request.
    const r = await alternateRounds(sc, rounds, ops, async (who, n) => {
      const empty = median([await call({ ops: 0, who }), await call({ ops: 0, who }), await call({ ops: 0, who })]);
      const round = { scenario: sc.id, who };
      await call({ ...round, phase: 'prepare' });
      const ms = await call({ ...round, phase: 'ops', ops: n });
      const stats = JSON.parse((await send({ ...round, phase: 'finish' })).body);
      if (who === 'edgetrace') checkBound('bench/runtimes.mjs (workerd)', who, { started: stats.started, spans: n * sc.spans });
      return ms - empty;
    });
    results.workerd[sc.id] = r;
    say(`workerd ${sc.id}: edgetrace ${median(r.edgetrace).toFixed(0)} ns/span, OpenTelemetry ${median(r.otel).toFixed(0)}, ratio ${r.ratio.toFixed(2)}`);
  }
  // Floors, ns per call: a request of n calls, less an empty request.
  results.workerdFloorsNs = {};
  for (const kind of ['call', 'als']) {
    const xs = [];
    const n = ops * 100;
    for (let i = 0; i < rounds; i++) {
      const empty = median([await call({ ops: 0, floor: kind }), await call({ ops: 0, floor: kind }), await call({ ops: 0, floor: kind })]);
      xs.push(((await call({ floor: kind, ops: n })) - empty) * 1e6 / n);
    }
    results.workerdFloorsNs[kind] = xs;
    say(`workerd floor ${kind}: ${median(xs).toFixed(1)} ns per call`);
  }
} finally {
  await mf.dispose();
}
console.log(JSON.stringify(results));
