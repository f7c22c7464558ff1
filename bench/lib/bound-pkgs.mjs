// Copies of pkg/ that bound what edgetrace's buffer-only rows could cost
// (`bench/node-spans.mjs --bounds`), each made from the package as it is built now:
//   no-core     the recorder writes every command as usual and never hands them to the wasm core
//               (bench/out/no-core/), in Node and in browsers (bench/runtimes.mjs --bounds);
//   spike-core  the wasm core built with cargo feature `bench-spike`: the fused spike
//               (examples/common/spike.rs) applies the commands in the tracer's place, encoding
//               each span as OTLP protobuf as it ends, with no `SpanData` and much of the core left
//               out: a lower bound on a core that keeps spans as bytes (bench/out/spike-core/).
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBindgenArgs, wasmOptArgs } from '../../scripts/browser-wasm.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const BOUND_PKGS = { 'no-core': join(root, 'bench/out/no-core'), 'spike-core': join(root, 'bench/out/spike-core') };

// The package hands recorded commands to the core in two places: its drain (the buffer), and
// `applyOwn` (a command too big for the buffer, and in browsers what was recorded while the core
// loaded); no-core's does not, in either.
const APPLY = ['f = this.core.run(len);', 'f = this.core.run(bytes.length);'];

function copyPkg(dir) {
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, 'pkg'), dir, { recursive: true });
}

/** Makes bench/out/no-core/. */
export function makeNoCore() {
  const dir = BOUND_PKGS['no-core'];
  copyPkg(dir);
  const file = join(dir, 'recorder.js');
  let src = readFileSync(file, 'utf8');
  for (const call of APPLY) {
    if (src.split(call).length !== 2) throw new Error(`bench/lib/bound-pkgs.mjs: pkg/recorder.js no longer has one "${call}" to take out`);
    src = src.replace(call, 'f = 0; // no-core: the commands are never applied');
  }
  writeFileSync(file, src);
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
