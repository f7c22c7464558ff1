// Copies of pkg/ that bound what edgetrace's buffer-only rows could cost
// (`bench/node-spans.mjs --bounds`), each made from the package as it is built now:
//   no-core     the recorder writes every command as usual and never hands them to the wasm core
//               (bench/out/no-core/);
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

// The package's drain hands the recorded commands to the core here; no-core's does not.
const APPLY = 'f = this.core.run(len);';

function copyPkg(dir) {
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, 'pkg'), dir, { recursive: true });
}

/** Makes bench/out/no-core/. */
export function makeNoCore() {
  const dir = BOUND_PKGS['no-core'];
  copyPkg(dir);
  const file = join(dir, 'recorder.js');
  const src = readFileSync(file, 'utf8');
  if (src.split(APPLY).length !== 2) throw new Error(`bench/lib/bound-pkgs.mjs: pkg/recorder.js no longer has one "${APPLY}" to take out`);
  writeFileSync(file, src.replace(APPLY, 'f = 0; // no-core: the commands are never applied'));
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
