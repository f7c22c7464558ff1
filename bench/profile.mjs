// Where edgetrace's time goes in one scenario: the V8 CPU profiler over the timed part of each
// round only (not the set-up or the drain of the buffer-only scenarios), summed into self time
// per function and per layer. The profiled package is a copy of pkg/ whose wasm keeps its name
// section (built here the way scripts/build.mjs builds the Node wasm, release-speed and -O3, with
// wasm-opt -g instead of --strip-debug), so wasm functions show by their Rust names.
//   node bench/profile.mjs [SCENARIO] [OPS] [ROUNDS] [--no-build] [--no-als]
// --no-als runs the package without AsyncLocalStorage, the way browsers run it (the active span
// after an await is found from V8's async stack). Writes bench/out/profile-<scenario>[-noals].md
// and .json; prints the markdown.
import { execFileSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { edgetraceOps, SCENARIOS, timeOps } from './lib/scenarios.mjs';
import { edgetraceInit } from './lib/setups.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [scenario = 'nested', opsArg = '3000', roundsArg = '8'] = args;
const ops = Number(opsArg);
const rounds = Number(roundsArg);
const named = join(here, 'out', 'pkg-names');
const say = (m) => process.stderr.write(`[bench:profile] ${m}\n`);

if (!process.argv.includes('--no-build') || !existsSync(join(named, 'node.js'))) {
  say('building the package with the wasm name section kept (bench/out/pkg-names)');
  const run = (cmd, a) => execFileSync(cmd, a, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  run('cargo', ['build', '--profile', 'release-speed', '--target', 'wasm32-unknown-unknown', '--lib']);
  rmSync(named, { recursive: true, force: true });
  mkdirSync(named, { recursive: true });
  cpSync(join(root, 'pkg'), named, { recursive: true });
  run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--keep-debug', '--out-dir', join(named, 'core'), '--out-name', 'edgetrace',
    join(root, 'target/wasm32-unknown-unknown/release-speed/edgetrace.wasm')]);
  const wasm = join(named, 'core', 'edgetrace_bg.wasm');
  run(join(root, 'node_modules/.bin/wasm-opt'), ['-O3', '-g', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', '--strip-producers', wasm, '-o', wasm]);
}

const noAls = process.argv.includes('--no-als');
const tag = noAls ? `${scenario}-noals` : scenario;
let et;
if (noAls) {
  // The JS layer with the core loaded as the Node entry loads it, but no AsyncLocalStorage.
  const glue = await import(pathToFileURL(join(named, 'core', 'edgetrace.js')).href);
  et = await import(pathToFileURL(join(named, 'edgetrace.js')).href);
  et._setRuntime({
    loader: () => {
      glue.initSync({ module: readFileSync(join(named, 'core', 'edgetrace_bg.wasm')) });
      return { Core: glue.Core, memory: glue.core_memory };
    },
    runtime: 'browser',
  });
} else {
  et = await import(pathToFileURL(join(named, 'node.js')).href);
}
const sc = SCENARIOS.find((s) => s.id === scenario);
if (!sc) throw new Error(`unknown scenario ${scenario}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
const now = () => performance.now();
{
  const h = edgetraceInit(et, sc.export); // warm-up round, not profiled
  await timeOps(edgetraceOps(et)[sc.id], ops, sc.async, now);
  await h.drain();
}
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
const self = new Map();
const layerOf = (f) => {
  const url = f.url || '';
  if (f.functionName === '(garbage collector)') return 'garbage collection';
  if (/wasm/.test(url) && !url.endsWith('.js')) return 'wasm core';
  if (url.endsWith('/core/edgetrace.js')) return 'wasm-bindgen glue (JS)';
  if (/pkg-names\/[a-z-]+\.js$/.test(url)) return 'edgetrace JS layer';
  if (url.endsWith('scenarios.mjs')) return 'the benchmark itself';
  return 'Node and V8 (async hooks, AsyncLocalStorage, crypto, builtins)';
};
const layers = new Map();
let ms = 0;
for (let r = 0; r < rounds; r++) {
  const h = edgetraceInit(et, sc.export);
  await session.post('Profiler.start');
  ms += await timeOps(edgetraceOps(et)[sc.id], ops, sc.async, now);
  if (sc.export) {
    const t = now();
    await h.drain();
    ms += now() - t;
  }
  const { profile } = await session.post('Profiler.stop');
  if (!sc.export) await h.drain();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Samples taken inside the profiler's own start/stop calls are not the scenario's.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const inspector = new Map();
  const underInspector = (id) => {
    if (inspector.has(id)) return inspector.get(id);
    const n = byId.get(id);
    const p = parent.get(id);
    const v = n.callFrame.url === 'node:inspector' || (p !== undefined && underInspector(p));
    inspector.set(id, v);
    return v;
  };
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    if (f.functionName === '(idle)' || f.functionName === '(program)' || underInspector(id)) return;
    const name = (f.functionName || '(anonymous)').replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
    const file = !f.url ? '' : f.url.endsWith('/core/edgetrace.js') ? 'glue' : /\.m?js$/.test(f.url) ? f.url.split('/').pop() : f.url.startsWith('node:') ? f.url : 'wasm';
    const caller = parent.has(id) ? byId.get(parent.get(id)).callFrame.functionName : '';
    const key = file ? `${name} (${file})` : caller && !name.startsWith('(') ? `${name} (native, from ${caller})` : name;
    const dt = profile.timeDeltas[i] || 0;
    self.set(key, (self.get(key) || 0) + dt);
    const layer = layerOf(f);
    layers.set(layer, (layers.get(layer) || 0) + dt);
  });
}
const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
const pct = (v) => ((100 * v) / total).toFixed(1);
const nsPerSpan = (ms * 1e6) / (rounds * ops * sc.spans);
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
const md = [
  `Scenario \`${scenario}\` (${sc.title})${noAls ? ', **without AsyncLocalStorage** (the path browsers take)' : ''}, ${rounds} round${rounds === 1 ? "" : "s"} of ${ops} ops, ${nsPerSpan.toFixed(0)} ns per span while profiled (\`node bench/profile.mjs ${scenario} ${ops} ${rounds}${noAls ? ' --no-als' : ''}\`).`,
  '',
  '| layer | self time % |',
  '|---|---|',
  ...[...layers.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${pct(v)} |`),
  '',
  '| function (top 15 by self time) | self % |',
  '|---|---|',
  ...top.map(([k, v]) => `| \`${k.replace(/\|/g, '\\|').slice(0, 110)}\` | ${pct(v)} |`),
].join('\n');
mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', `profile-${tag}.md`), md + '\n');
writeFileSync(join(here, 'out', `profile-${tag}.json`), JSON.stringify({ scenario, noAls, ops, rounds, nsPerSpan, layers: Object.fromEntries([...layers].map(([k, v]) => [k, (100 * v) / total])), top: top.map(([k, v]) => [k, (100 * v) / total]) }));
console.log(md);
