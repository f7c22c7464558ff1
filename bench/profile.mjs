// Where edgetrace's time goes in one scenario: the V8 CPU profiler over the timed part of each
// round only (not the set-up or the drain of the buffer-only scenarios), summed into self time
// per function and per layer. The profiled package is a copy of pkg/ whose wasm keeps its name
// section (built here the way scripts/build.mjs builds the Node wasm, release-speed and -O3, with
// wasm-opt -g instead of --strip-debug), so wasm functions show by their Rust names.
//   node bench/profile.mjs [SCENARIO] [OPS] [ROUNDS] [--no-build] [--no-als] [--node-tag]
// Bun and Deno run it too (`.tools/bun/bin/bun bench/profile.mjs …`, `.tools/deno/deno run -A
// bench/profile.mjs …`): both have node:inspector's Session and the Profiler domain. Bun's profile
// is JavaScriptCore's sampling profiler in V8's format; it shows no garbage collection frames.
// --no-als runs the package without AsyncLocalStorage, the way browsers run it (the active span
// after an await is found from V8's async stack). Writes bench/out/profile-<scenario>[-noals][-nodeN].md
// and .json; prints the markdown.
import { Session } from 'node:inspector/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { edgetraceRound, SCENARIOS } from './lib/scenarios.mjs';
import { buildNamedPkg } from './lib/named-pkg.mjs';
import { profileSummer } from './lib/cpu-profile.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [scenario = 'nested', opsArg = '3000', roundsArg = '8'] = args;
const ops = Number(opsArg);
const rounds = Number(roundsArg);
const say = (m) => process.stderr.write(`[bench:profile] ${m}\n`);
const named = buildNamedPkg({ reuse: process.argv.includes('--no-build'), say });

const noAls = process.argv.includes('--no-als');
// --node-tag: the files are named for the runtime that runs this (profile-<scenario>-node24.md,
// -bun, -deno), so a profile under another Node (.tools/node24), Bun or Deno sits beside the
// machine Node's.
const major = process.versions.node.split('.')[0];
const RUNTIME = process.versions.bun
  ? { tag: 'bun', name: `Bun ${process.versions.bun} (JavaScriptCore)`, run: '.tools/bun/bin/bun', layer: 'Bun and JavaScriptCore (AsyncLocalStorage, crypto, builtins)' }
  : globalThis.Deno
    ? { tag: 'deno', name: `Deno ${globalThis.Deno.version.deno} (V8 ${globalThis.Deno.version.v8})`, run: '.tools/deno/deno run -A', layer: 'Deno and V8 (its AsyncLocalStorage, ops, crypto, builtins)' }
    : { tag: `node${major}`, name: `Node ${process.versions.node}`, run: `.tools/node${major}/bin/node`, layer: 'Node and V8 (async hooks, AsyncLocalStorage, crypto, builtins)' };
const nodeTag = process.argv.includes('--node-tag') ? `-${RUNTIME.tag}` : '';
const tag = `${noAls ? `${scenario}-noals` : scenario}${nodeTag}`;
let et;
if (noAls) {
  // The JS layer with the core loaded as the Node entry loads it, but no AsyncLocalStorage.
  const glue = await import(pathToFileURL(join(named, 'core', 'edgetrace.js')).href);
  et = await import(pathToFileURL(join(named, 'edgetrace.js')).href);
  et._setRuntime({
    loader: () => {
      const exports = glue.initSync({ module: readFileSync(join(named, 'core', 'edgetrace_bg.wasm')) });
      return { Core: glue.Core, memory: () => exports.memory };
    },
  });
} else {
  et = await import(pathToFileURL(join(named, 'node.js')).href);
}
const sc = SCENARIOS.find((s) => s.id === scenario);
if (!sc) throw new Error(`unknown scenario ${scenario}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
const now = () => performance.now();
await (await edgetraceRound(et, sc.id, ops, now)).drain(); // warm-up round, not profiled
// Under Node, a full collection right before each Profiler.start. V8 can deadlock as the profiler
// starts: its listener logs every function already compiled, allocating as it goes, and when that
// sets off a collection, the collection waits on a lock the listener holds (Node 20, session 36:
// the process sat at 0 CPU in Heap::MarkCompact under ExistingCodeLogger::LogCompiledFunctions).
// With the young generation just emptied, the listener's allocations fit. (bench/run.mjs also
// stops and reruns a profile that stalls.) The collection runs before the round's clock starts.
const collect = RUNTIME.tag.startsWith('node') ? (setFlagsFromString('--expose-gc'), runInNewContext('gc')) : () => {};
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
// The inspector's own frames (Node's node:inspector, Deno's ext:deno_node/inspector.js) are not
// the scenario's.
const summer = profileSummer(RUNTIME.layer, (f) => f.url === 'node:inspector' || /(^|\/)inspector\.[jt]s$/.test(f.url || ''));
let ms = 0;
for (let r = 0; r < rounds; r++) {
  const round = await edgetraceRound(et, sc.id, ops, now, () => {
    collect();
    return session.post('Profiler.start');
  });
  const { profile } = await session.post('Profiler.stop');
  ms += round.ms;
  await round.drain();
  summer.add(profile);
}
const nsPerSpan = (ms * 1e6) / (rounds * ops * sc.spans);
const { md, data } = summer.render(
  `Scenario \`${scenario}\` (${sc.title})${noAls ? ', **without AsyncLocalStorage** (the path browsers take)' : ''}, ${RUNTIME.name}, ${rounds} round${rounds === 1 ? '' : 's'} of ${ops} ops, ${nsPerSpan.toFixed(0)} ns per span while profiled (\`${nodeTag ? RUNTIME.run : 'node'} bench/profile.mjs ${scenario} ${ops} ${rounds}${noAls ? ' --no-als' : ''}${nodeTag ? ' --node-tag' : ''}\`).`,
);
mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', `profile-${tag}.md`), md + '\n');
writeFileSync(join(here, 'out', `profile-${tag}.json`), JSON.stringify({ scenario, noAls, ops, rounds, nsPerSpan, ...data }));
console.log(md);
