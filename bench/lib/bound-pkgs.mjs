// Copies of pkg/ that bound what edgetrace's buffer-only rows could cost
// (`bench/node-spans.mjs --bounds`), each made from the package as it is built now:
//   no-core     the recorder writes every command as usual and never hands them to the wasm core
//               (bench/out/no-core/), in Node and in browsers (bench/runtimes.mjs --bounds);
//   spike-core  the wasm core built with cargo feature `bench-spike`: the fused spike
//               (examples/common/spike.rs) applies the commands in the tracer's place, encoding
//               each span as OTLP protobuf as it ends, with no `SpanData` and much of the core left
//               out: a lower bound on a core that keeps spans as bytes (bench/out/spike-core/).
// and for browsers (bench/runtimes.mjs --bounds), besides no-core:
//   speed-core  the browser entry's core built for speed (opt-level 3, wasm-opt -O3, without the
//               `size` feature), as Node's is, in place of the size-built one it ships
//               (bench/out/speed-core/): what the size build costs per span, and what it saves.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { BROWSER_CORES, browserWasm, nodeBindgenArgs, wasmOptArgs } from '../../scripts/browser-wasm.mjs';
import { readBrowserCore, writeBrowserCore } from './browser-core.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The copies bench/node-spans.mjs --bounds loads (their Node entry). */
export const BOUND_PKGS = { 'no-core': join(root, 'bench/out/no-core'), 'spike-core': join(root, 'bench/out/spike-core') };
/** The copy with the browser's core built for speed (bench/runtimes.mjs --bounds). */
export const SPEED_CORE_PKG = join(root, 'bench/out/speed-core');

// The package hands recorded commands to the core in one place, the recorder's `run` (the buffer,
// the full buffers kept, a command too big for the buffer, and in browsers what was recorded
// while the core loaded); no-core's does not. Nor does the core keep full buffers for it
// (recorder.js `keep`): it would hold them all. Each edit: [file, from, to].
const NO_CORE_EDITS = [
  ['recorder.js', 'f = this.core.run(len);', 'f = 0; // no-core: the commands are never applied'],
  ['recorder.js', 'this.core.cmd_buffer(CAP, len)', 'this.core.cmd_buffer(CAP, 0)'],
];

/**
 * A bound that did not do what it stands for would measure nothing, so each round of one is
 * checked (`where` names the benchmark in the error): no-core's core must start no span;
 * speed-core's must start them (a core that failed to load turns tracing off, which would look
 * fast); spike-core's spike must end every span of the round (`ended`, counted in the round),
 * not fail and turn tracing off. `started` is what the core counts as started; `spans`, what the
 * round made.
 */
export function checkBound(where, who, { started, ended, spans }) {
  // The package itself: its core must have started every span of the round once it was drained
  // (each round's init() makes a core anew). A build that lost recorded commands would look fast.
  if (who === 'edgetrace' && started !== spans) throw new Error(`${where}: edgetrace's core started ${started} spans of a round of ${spans}`);
  if (who === 'no-core' && started !== 0) throw new Error(`${where}: the package without its core started ${started} spans in its core`);
  if (who === 'speed-core' && !(started > 0)) throw new Error(`${where}: the package with its core built for speed started no spans in its core`);
  if (who === 'spike-core' && ended !== spans) throw new Error(`${where}: the spike ended ${ended} spans of a round of ${spans}`);
}

function copyPkg(dir) {
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, 'pkg'), dir, { recursive: true });
}

/** Makes bench/out/no-core/. */
export function makeNoCore() {
  const dir = BOUND_PKGS['no-core'];
  copyPkg(dir);
  for (const [name, from, to] of NO_CORE_EDITS) {
    const file = join(dir, name);
    const src = readFileSync(file, 'utf8');
    if (src.split(from).length !== 2) throw new Error(`bench/lib/bound-pkgs.mjs: pkg/${name} no longer has one "${from}" to change`);
    writeFileSync(file, src.replace(from, to));
  }
}

/** Makes bench/out/spike-core/: its Node core built as scripts/build.mjs builds it, with the
 * spike in the tracer's place (in a target directory of its own, so pkg/'s build is not touched). */
export function makeSpikeCore(say = () => {}) {
  const dir = BOUND_PKGS['spike-core'];
  copyPkg(dir);
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const target = join(root, 'target/bench-spike');
  say('cargo build --profile release-speed --target wasm32-unknown-unknown --lib --features bench-spike (bench/out/spike-core)');
  run('cargo', ['build', '--profile', 'release-speed', '--target', 'wasm32-unknown-unknown', '--lib', '--features', 'bench-spike', '--target-dir', target]);
  run('wasm-bindgen', nodeBindgenArgs(join(target, 'wasm32-unknown-unknown/release-speed/edgetrace.wasm'), join(dir, 'core')));
  run(join(root, 'node_modules/.bin/wasm-opt'), wasmOptArgs(join(dir, 'core/edgetrace_bg.wasm'), '-O3'));
}

/** Makes bench/out/speed-core/: the browser entry's default core (OTLP/protobuf only, plain
 * exports) built as scripts/build.mjs builds it, but for speed. */
export function makeSpeedCore(say = () => {}) {
  copyPkg(SPEED_CORE_PKG);
  const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  const features = ['--features', BROWSER_CORES.protobuf[1].split(',').filter((f) => f !== 'size').join(',')];
  say(`cargo build --profile release-speed --target wasm32-unknown-unknown --lib ${features.join(' ')} (bench/out/speed-core: the browser's core built for speed)`);
  const wasm = join(SPEED_CORE_PKG, 'core', 'speed.wasm');
  copyFileSync(browserWasm(root, run).browserBuild('release-speed', features), wasm);
  run(join(root, 'node_modules/.bin/wasm-opt'), wasmOptArgs(wasm, '-O3'));
  writeBrowserCore(SPEED_CORE_PKG, readFileSync(wasm), "bench/lib/bound-pkgs.mjs: the browser's core built for speed.");
  rmSync(wasm);
}

/** The browser's default core in pkg/ and in the speed-core copy, raw and deflated the same way
 * (zlib, level 9) bytes: `{ shipped: { raw, deflated }, speed: { raw, deflated } }`. */
export async function speedCoreSizes() {
  const sizes = (b) => ({ raw: b.length, deflated: deflateRawSync(b, { level: 9 }).length });
  return { shipped: sizes(await readBrowserCore(join(root, 'pkg'))), speed: sizes(await readBrowserCore(SPEED_CORE_PKG)) };
}
