// How many `memory.copy` instructions the Node core and the browser's default core run per span.
// V8 runs each one as a call out of the module into C (about 150 instructions under callgrind,
// however short the copy), so on the span hot path a copy of a few bytes costs more than the work
// around it. Each `memory.copy` of a core becomes a call to an imported function that counts it,
// by call site, and does the copy (binaryen's wasm-dis and wasm-as, from npm).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readBrowserCore } from './browser-core.mjs';
import { ATTRS, edgetraceRound, opsFor, SCENARIOS } from './scenarios.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (t) => join(root, 'node_modules/.bin', t);
const FEATURES = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue'];

/**
 * Writes `from` (a .wasm file) to `to` with each `memory.copy` a call to the import
 * `edgetrace_count.copy(site, dst, src, len)`, which must do the copy; `work` is a directory for
 * the text form. Returns the sites: `sites[i]` names the function of call site `i`.
 */
export function instrument(from, to, work) {
  const sites = [];
  let fn = '?';
  const wat = execFileSync(bin('wasm-dis'), [from], { maxBuffer: 1 << 30 }).toString().split('\n').map((line) => {
    const m = /^ \(func (\S+)/.exec(line);
    if (m) fn = m[1];
    if (!line.includes('(memory.copy')) return line;
    sites.push(fn);
    return line.replace('(memory.copy', `(call $__edgetrace_count_copy (i32.const ${sites.length - 1})`);
  }).join('\n');
  const counted = wat.replace(/\n \(import /, '\n (import "edgetrace_count" "copy" (func $__edgetrace_count_copy (param i32 i32 i32 i32)))\n (import ');
  if (counted === wat) throw new Error(`${from} imports nothing: cannot add the counting import`);
  writeFileSync(join(work, 'counted.wat'), counted);
  execFileSync(bin('wasm-as'), [...FEATURES, join(work, 'counted.wat'), '-o', to]);
  return sites;
}

/** The counting import for a module's `memory.copy` sites; `memory()` gives its memory. */
function counter(memory) {
  const tally = new Map();
  return {
    tally,
    copy(site, dst, src, len) {
      const t = tally.get(site) || [0, 0];
      t[0]++;
      t[1] += len;
      tally.set(site, t);
      new Uint8Array(memory().buffer).copyWithin(dst, src, src + len);
    },
  };
}

/**
 * `{ spans, perSpan, bySite: [[function #site, copies per span, average bytes]] }` (most first)
 * from `counts`, `[site, [copies, bytes]]` pairs, over `spans` spans.
 */
function perSpan(counts, sites, spans) {
  let total = 0;
  const bySite = [...counts].map(([site, [c, bytes]]) => {
    total += c;
    return [`${sites[site]} #${site}`, c / spans, bytes / c];
  }).sort((a, b) => b[1] - a[1]);
  return { spans, perSpan: total / spans, bySite };
}

/**
 * The browser's default core (the deflated, size-built one in `pkgDir`, with plain exports, as
 * pkg-templates/core-abi.js loads it) driven by the JS recorder with `spans` lone roots of five
 * string attributes, as the root5 scenario records them, after as many to warm up. Returns
 * `{ perSpan, bySite }` as `copiesPerSpan` does.
 */
export async function browserCoreCopiesPerSpan(pkgDir, spans) {
  const work = mkdtempSync(join(tmpdir(), 'edgetrace-copies-'));
  try {
    writeFileSync(join(work, 'core.wasm'), await readBrowserCore(pkgDir));
    const sites = instrument(join(work, 'core.wasm'), join(work, 'counted.wasm'), work);
    const { instantiateCore } = await import(pathToFileURL(join(pkgDir, 'core-abi.js')).href);
    const { Recorder, configBytes } = await import(pathToFileURL(join(pkgDir, 'recorder.js')).href);
    let mem = null;
    const count = counter(() => mem);
    const Instance = WebAssembly.Instance;
    WebAssembly.Instance = function (module, imports) {
      return new Instance(module, { ...imports, edgetrace_count: { copy: count.copy } });
    };
    let loaded;
    try {
      loaded = instantiateCore(new WebAssembly.Module(readFileSync(join(work, 'counted.wasm'))));
    } finally {
      WebAssembly.Instance = Instance;
    }
    mem = loaded.memory();
    const options = { serviceName: 'copies', maxQueueSpans: 1 << 20, maxQueueBytes: 1 << 30, maxBatchSpans: 1 << 20 };
    const core = new loaded.Core(configBytes(options, Object.keys(options), JSON.stringify), Date.now(), 0, 1);
    const failed = [];
    const rec = new Recorder(core, loaded.memory(), (flags) => failed.push(flags));
    const round = () => {
      for (let i = 0; i < spans; i++) {
        const ctx = rec.newContext();
        const h = rec.start({}, ctx, 0, 'root', 'UNKNOWN', 1_700_000_000_000 + i);
        for (const k in ATTRS) rec.str(h, k, ATTRS[k]);
        rec.end(h, 1_700_000_000_001 + i, ctx);
      }
      rec.drain();
    };
    round();
    count.tally.clear();
    round();
    if (failed.length) throw new Error(`the core refused recorded commands (${failed.join(', ')})`);
    return perSpan(count.tally, sites, spans);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A copy of the package in `pkgDir` whose Node core counts its copies. Returns `{ dir, sites,
 * load, counts, reset, remove }`: `sites[i]` names the function of call site `i`; `load()`
 * imports the copy's node.js, with the counting import given to its core when it loads
 * (it leaves `WebAssembly.Instance` wrapped for the rest of the process); `counts()` gives
 * `{ site: [copies, bytes] }` since the last `reset()`.
 */
export function countingPackage(pkgDir) {
  const dir = mkdtempSync(join(tmpdir(), 'edgetrace-copies-'));
  cpSync(pkgDir, dir, { recursive: true });
  const wasm = join(dir, 'core', 'edgetrace_bg.wasm');
  const sites = instrument(wasm, wasm, dir);
  let memory = null;
  let count = counter(() => memory);
  const load = async () => {
    const Instance = WebAssembly.Instance;
    // The glue instantiates synchronously (initSync), on the first init(): give it the import,
    // keep the memory. Only for modules that import it (the model API parsers do not).
    WebAssembly.Instance = function (module, imports) {
      if (!WebAssembly.Module.imports(module).some((i) => i.module === 'edgetrace_count')) return new Instance(module, imports);
      imports.edgetrace_count ??= { copy: (...a) => count.copy(...a) }; // (unless counted by another)
      const instance = new Instance(module, imports);
      memory = instance.exports.memory;
      return instance;
    };
    return import(pathToFileURL(join(dir, 'node.js')).href);
  };
  return {
    dir,
    sites,
    load,
    counts: () => Object.fromEntries([...count.tally].map(([site, [c, b]]) => [site, [c, b]])),
    reset: () => { count = counter(() => memory); },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Copies per span in one timed round of `scenarioId` (bench/lib/scenarios.mjs) after a warm-up
 * round, as the benchmarks time it (`drain` included only where the scenario exports). Returns
 * `{ spans, perSpan, bySite: [[function, copies per span, average bytes]] }`.
 */
export async function copiesPerSpan(counting, api, scenarioId, ops) {
  const sc = SCENARIOS.find((s) => s.id === scenarioId);
  const n = opsFor(sc, ops);
  await (await edgetraceRound(api, scenarioId, n, () => performance.now())).drain();
  counting.reset();
  const round = await edgetraceRound(api, scenarioId, n, () => performance.now());
  const counts = counting.counts();
  await round.drain();
  return perSpan(Object.entries(counts), counting.sites, n * sc.spans);
}
