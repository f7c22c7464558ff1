// A copy of pkg/ whose wasm keeps its name section, so CPU profiles show wasm functions by their
// Rust names. Built the way scripts/build.mjs builds the shipped files except that wasm-opt keeps
// the names (-g instead of --strip-debug): the speed build (release-speed, -O3) as the .wasm file
// Node and Workers load, and the size builds (release-browser, -Oz; OTLP/protobuf only, and with
// OTLP/JSON) deflated for the browser entry.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_CORES, browserWasm, wasmOptArgs } from '../../scripts/browser-wasm.mjs';
import { writeBrowserCore } from './browser-core.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const NAMED_PKG = join(root, 'bench', 'out', 'pkg-names');

/** Builds bench/out/pkg-names (or keeps it when `reuse` and it is there); returns its path. */
export function buildNamedPkg({ reuse = false, say = () => {} } = {}) {
  if (reuse && existsSync(join(NAMED_PKG, 'core', 'edgetrace_size_bg.wasm'))) return NAMED_PKG;
  say('building the package with the wasm name section kept (bench/out/pkg-names)');
  const run = (cmd, a, opts = {}) => execFileSync(cmd, a, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  const { browserBuild } = browserWasm(root, run);
  const wasmOpt = (file, level) => run(join(root, 'node_modules/.bin/wasm-opt'), wasmOptArgs(file, level, { keepNames: true }));
  rmSync(NAMED_PKG, { recursive: true, force: true });
  mkdirSync(NAMED_PKG, { recursive: true });
  cpSync(join(root, 'pkg'), NAMED_PKG, { recursive: true });
  // The browser's two cores: OTLP/protobuf only (the entry's default) and with OTLP/JSON.
  for (const [profile, out, level, features] of [
    ['release-speed', 'core', '-O3', []],
    ['release-browser', 'core-size', '-Oz', BROWSER_CORES.protobuf],
    ['release-browser', 'core-size-json', '-Oz', BROWSER_CORES.json],
  ]) {
    if (out === 'core') {
      run('cargo', ['build', '--profile', profile, '--target', 'wasm32-unknown-unknown', '--lib', ...features]);
      run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--keep-debug', '--out-dir', join(NAMED_PKG, out), '--out-name', 'edgetrace',
        join(root, `target/wasm32-unknown-unknown/${profile}/edgetrace.wasm`)]);
    } else {
      // As scripts/build.mjs builds the browser's cores: plain exports, no wasm-bindgen.
      mkdirSync(join(NAMED_PKG, out), { recursive: true });
      cpSync(browserBuild(profile, features), join(NAMED_PKG, out, 'edgetrace_bg.wasm'));
    }
    wasmOpt(join(NAMED_PKG, out, 'edgetrace_bg.wasm'), level);
  }
  for (const [dir, file] of [['core-size', 'wasm-deflate.js'], ['core-size-json', 'wasm-deflate-json.js']]) {
    writeBrowserCore(NAMED_PKG, readFileSync(join(NAMED_PKG, dir, 'edgetrace_bg.wasm')), 'bench/lib/named-pkg.mjs: the size build, names kept.', file);
  }
  // The default core kept for the size breakdown (bench/lib/wasm-breakdown.mjs).
  renameSync(join(NAMED_PKG, 'core-size', 'edgetrace_bg.wasm'), join(NAMED_PKG, 'core', 'edgetrace_size_bg.wasm'));
  rmSync(join(NAMED_PKG, 'core-size'), { recursive: true });
  rmSync(join(NAMED_PKG, 'core-size-json'), { recursive: true });
  return NAMED_PKG;
}
