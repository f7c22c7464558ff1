// How the wasm the browser loads (its two cores and the model API parsers) is built, and the
// wasm-bindgen and wasm-opt arguments every core is built with; shared by scripts/build.mjs and
// the benchmarks' copies of the package (bench/lib/named-pkg.mjs, bench/lib/bound-pkgs.mjs).
//
// Where the machine's nightly toolchain has the standard library's source (scripts/setup.sh adds
// it), std is rebuilt so that a panic aborts at once (`-Cpanic=immediate-abort`, `-Zbuild-std`):
// no panic message is formatted or kept, which in wasm32-unknown-unknown could never be printed
// anyway, and a panic is the same trap either way; nor the source locations panics would name
// (`-Zlocation-detail=none`). About 3.5 KB less deflated for the default core, 9 KB for the
// parsers. Elsewhere (or with EDGETRACE_BROWSER_STD=stable) the stable
// toolchain's std. Node's and Workers' core is always built with stable.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The browser's two cores, as `cargo build --features` takes them: the entry's default, OTLP/protobuf
 * only, and the one with OTLP/JSON that loads instead for init({ format: 'json' }). Both are
 * size-built (`size`) and export plain functions (`c-abi`, loaded by pkg-templates/core-abi.js).
 * scripts/build.mjs ships them; bench/lib/named-pkg.mjs builds the same with names kept.
 */
export const BROWSER_CORES = {
  protobuf: ['--features', 'size,protobuf-only,c-abi'],
  json: ['--features', 'size,c-abi'],
};

/** wasm-bindgen's arguments for Node's and Workers' core: `wasmFile` to `outDir`/edgetrace.js. */
export const nodeBindgenArgs = (wasmFile, outDir) => [
  '--target', 'web', '--no-typescript', '--omit-default-module-path', '--out-dir', outDir, '--out-name', 'edgetrace', wasmFile,
];

/** The wasm features every core is built with, as wasm-opt must be told them. */
const WASM_OPT_FEATURES = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue'];

/**
 * What the size builds (-Oz) are told besides: the low 1 KB of memory is never used, so binaryen
 * may fold constant offsets into loads and stores (Rust's wasm32 layout puts the stack below 1 MiB,
 * growing down from there, and the data above it; the low kilobyte is reached only by a stack
 * overflowing its whole megabyte), and its passes rerun until they change nothing more. The
 * browser entry's core: 47,391 → 47,009 bytes, 20,791 → 20,565 deflated (wasm-opt 132).
 */
const SIZE_PASSES = ['--low-memory-unused', '--converge'];

/**
 * wasm-opt's arguments to optimize `file` in place at `level` (-O3, -Oz): stripped as shipped, or
 * with `keepNames` keeping the name section (for profiles).
 */
export const wasmOptArgs = (file, level, { keepNames = false } = {}) => {
  const passes = level === '-Oz' ? [...SIZE_PASSES, level] : [level];
  return keepNames
    ? [...passes, '-g', ...WASM_OPT_FEATURES, '--strip-producers', file, '-o', file]
    : [...passes, ...WASM_OPT_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features', file, '-o', file];
};

/**
 * `{ browserStd, browserBuild(profile, features) }`: which std the browser's wasm gets, and a
 * build of the lib for wasm32 that way, returning the .wasm's path. `run(cmd, args, opts)` runs.
 */
export function browserWasm(root, run) {
  const nightly = (() => {
    if (process.env.EDGETRACE_BROWSER_STD === 'stable') return false;
    try {
      const sysroot = execFileSync('rustc', ['+nightly', '--print', 'sysroot'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      return existsSync(join(sysroot, 'lib/rustlib/src/rust/library/core'));
    } catch {
      return false;
    }
  })();
  const browserStd = nightly ? 'nightly, std rebuilt with panic=immediate-abort' : 'stable std';
  function browserBuild(profile, features) {
    if (!nightly) {
      run('cargo', ['build', '--profile', profile, '--target', 'wasm32-unknown-unknown', '--lib', ...features]);
      return join(root, 'target/wasm32-unknown-unknown', profile, 'edgetrace.wasm');
    }
    run('cargo', ['+nightly', 'build', '-Zbuild-std=std,panic_abort', '--profile', profile, '--target', 'wasm32-unknown-unknown',
      '--target-dir', join(root, 'target/nightly'), '--lib', ...features], {
      // Legacy symbol names, as stable's: the nightly's v0 names would not read back in profiles
      // (bench/lib/demangle.mjs); the shipped modules keep no names either way.
      env: { ...process.env, RUSTFLAGS: `${process.env.RUSTFLAGS || ''} -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Csymbol-mangling-version=legacy`.trim() },
    });
    return join(root, 'target/nightly/wasm32-unknown-unknown', profile, 'edgetrace.wasm');
  }
  return { browserStd, browserBuild };
}
