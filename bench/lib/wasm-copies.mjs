// How many `memory.copy` instructions the Node core runs per span. V8 runs each one as a call out
// of the module into C (about 150 instructions under callgrind, however short the copy), so on
// the span hot path a copy of a few bytes costs more than the work around it. This makes a copy
// of a package whose core counts them: each `memory.copy` becomes a call to an imported function
// that counts it, by call site, and does the copy (binaryen's wasm-dis and wasm-as, from npm).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { edgetraceRound, opsFor, SCENARIOS } from './scenarios.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (t) => join(root, 'node_modules/.bin', t);
const FEATURES = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue'];

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
  const sites = [];
  let fn = '?';
  const wat = execFileSync(bin('wasm-dis'), [wasm], { maxBuffer: 1 << 30 }).toString().split('\n').map((line) => {
    const m = /^ \(func (\S+)/.exec(line);
    if (m) fn = m[1];
    if (!line.includes('(memory.copy')) return line;
    sites.push(fn);
    return line.replace('(memory.copy', `(call $__edgetrace_count_copy (i32.const ${sites.length - 1})`);
  }).join('\n');
  const counted = wat.replace(/\n \(import /, '\n (import "edgetrace_count" "copy" (func $__edgetrace_count_copy (param i32 i32 i32 i32)))\n (import ');
  if (counted === wat) throw new Error('the core imports nothing: cannot add the counting import');
  writeFileSync(join(dir, 'counted.wat'), counted);
  execFileSync(bin('wasm-as'), [...FEATURES, join(dir, 'counted.wat'), '-o', wasm]);
  let tally = new Map();
  let memory = null;
  const load = async () => {
    const Instance = WebAssembly.Instance;
    // The glue instantiates synchronously (initSync), on the first init(): give it the import,
    // keep the memory. Only for modules that import it (the model API parsers do not).
    WebAssembly.Instance = function (module, imports) {
      if (!WebAssembly.Module.imports(module).some((i) => i.module === 'edgetrace_count')) return new Instance(module, imports);
      imports.edgetrace_count = {
        copy(site, dst, src, len) {
          const t = tally.get(site) || [0, 0];
          t[0]++;
          t[1] += len;
          tally.set(site, t);
          new Uint8Array(memory.buffer).copyWithin(dst, src, src + len);
        },
      };
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
    counts: () => Object.fromEntries([...tally].map(([site, [c, b]]) => [site, [c, b]])),
    reset: () => { tally = new Map(); },
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
  const spans = n * sc.spans;
  let total = 0;
  const bySite = Object.entries(counts).map(([site, [c, bytes]]) => {
    total += c;
    return [`${counting.sites[site]} #${site}`, c / spans, bytes / c];
  }).sort((a, b) => b[1] - a[1]);
  return { spans, perSpan: total / spans, bySite };
}
