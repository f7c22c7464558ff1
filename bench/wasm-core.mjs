// The core's span model against the fused spike's (examples/common/spike.rs: each span encoded
// as OTLP protobuf while its recorded commands are applied, no `SpanData` built), both compiled
// to wasm as the Node core is (opt-level 3) and run by this Node's V8, in alternating rounds of
// the same recorded traces (a root with 10 nested children, 5 string attributes each). Times,
// not instruction counts: what callgrind counts natively (examples/commands_cost.rs) need not
// be what V8's wasm code takes. Seven ways, ns per span:
//   keep   the core applies the commands and the spans stay queued (the buffer-only rows' work)
//   proto  the core applies them and empties its queue as OTLP protobuf after each buffer
//   json   the same as OTLP/JSON
//   spike  the spike applies them, encoding as it goes (it leaves out much the core does: a
//          lower bound for a core that keeps spans as bytes)
// and, from spans the core applied and kept beforehand (untimed), the export's own part:
//   drop        freeing them
//   take-proto  encoding them as protobuf (and freeing them)
//   take-json   the same as OTLP/JSON
//   node bench/wasm-core.mjs [TRACES] [ROUNDS]        (e.g. with .tools/node24/bin/node; Bun runs
//                                                      it too: .tools/bun/bin/bun, JavaScriptCore's wasm)
// Builds bench/wasm-core/ (cargo, wasm32-unknown-unknown) into target/wasm-core first.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/scenarios.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const traces = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 14);
const spans = traces * 11;

process.stderr.write('[bench:wasm-core] cargo build --release --target wasm32-unknown-unknown (bench/wasm-core)\n');
execFileSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown',
  '--manifest-path', join(root, 'bench/wasm-core/Cargo.toml'), '--target-dir', join(root, 'target/wasm-core')], { stdio: 'inherit' });
const file = join(root, 'target/wasm-core/wasm32-unknown-unknown/release/edgetrace_wasm_core_bench.wasm');
const module = new WebAssembly.Module(readFileSync(file));
// The edgetrace library brings its JS boundary's imports along; nothing here calls them.
const imports = {};
for (const i of WebAssembly.Module.imports(module)) {
  imports[i.module] ??= {};
  imports[i.module][i.name] = () => {
    throw new Error(`bench/wasm-core: unexpected call to the import ${i.name}`);
  };
}
const x = new WebAssembly.Instance(module, imports).exports;
x.setup(traces);

const ways = {
  keep: () => x.run_core(0),
  proto: () => x.run_core(1),
  json: () => x.run_core(2),
  spike: () => x.run_spike(),
  drop: () => x.drop_kept(),
  'take-proto': () => x.take_kept(0),
  'take-json': () => x.take_kept(1),
};
// The ways that start from kept spans, which are made before the clock starts.
const fromKept = new Set(['drop', 'take-proto', 'take-json']);
const names = Object.keys(ways);

// Runs one way: what it made and its ms. Whatever it kept queued is freed after the clock stops.
function once(k) {
  if (fromKept.has(k)) x.run_core(0);
  const t0 = performance.now();
  const made = ways[k]();
  const ms = performance.now() - t0;
  x.drop_kept();
  return { made, ms };
}

// What each way made, checked once: every span queued; the spike's protobuf within 1 % of the
// core's (the core's bodies add each batch's resource and scope); kept spans taken all at once
// make fewer, bigger batches: the same bytes but for the batches' resource and scope.
const made = Object.fromEntries(names.map((k) => [k, once(k).made]));
const near = (a, b) => b > 0 && Math.abs(a - b) / b < 0.01;
if (made.keep !== spans) throw new Error(`the core kept ${made.keep} of ${spans} spans queued`);
if (!near(made.spike, made.proto)) throw new Error(`protobuf bytes differ: the core ${made.proto}, the spike ${made.spike}`);
if (!(made.json > made.proto)) throw new Error(`OTLP/JSON bytes ${made.json} not above protobuf's ${made.proto}`);
if (!near(made['take-proto'], made.proto) || !near(made['take-json'], made.json)) {
  throw new Error(`kept spans encoded to other bytes: ${made['take-proto']} / ${made['take-json']} against ${made.proto} / ${made.json}`);
}

const ns = Object.fromEntries(names.map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  process.stderr.write(`[bench:wasm-core] round ${r + 1} of ${rounds}\n`);
  for (const k of r % 2 ? [...names].reverse() : names) {
    const { ms } = once(k);
    if (r >= 2) ns[k].push((ms * 1e6) / spans); // the first two rounds warm up
  }
}
// Bun reports a Node version of its own choosing: name its engine instead.
const engine = process.versions.bun ? `Bun ${process.versions.bun} (JavaScriptCore)` : `Node ${process.versions.node} (V8 ${process.versions.v8})`;
console.log(`${engine}, ${traces} traces (${spans} spans) a round, ${rounds - 2} round${rounds === 3 ? "" : "s"} after 2 warm-up rounds, ns per span: median (min–max)`);
for (const k of names) {
  console.log(`  ${k.padEnd(10)} ${median(ns[k]).toFixed(0).padStart(5)} (${Math.min(...ns[k]).toFixed(0)}–${Math.max(...ns[k]).toFixed(0)})`);
}
console.log(`  spike ÷ keep ${(median(ns.spike) / median(ns.keep)).toFixed(2)}, spike ÷ proto ${(median(ns.spike) / median(ns.proto)).toFixed(2)}`);
