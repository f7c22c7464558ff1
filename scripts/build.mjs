#!/usr/bin/env node
// Builds the npm package in pkg/: the Rust core compiled to wasm32 three times (the size-optimized
// `release-browser` profile, shipped in the browser entry deflated as base64, once OTLP/protobuf
// only and once with the OTLP/JSON encoder too, and the speed-optimized
// `release-speed` profile, the .wasm file Node and Workers load), wasm-bindgen (web target) for
// Node's and Workers' core (the browser's cores export plain functions, cargo feature `c-abi`,
// loaded by pkg-templates/core-abi.js), wasm-opt from the npm `binaryen` package, and the
// hand-written JS entries and types from pkg-templates/. The model API parsers are a fourth build
// (cargo feature `llm-module`), a wasm module of their own in pkg/llm/ that the JS layer loads on
// the first model call.
// Prints each step and the shipped sizes (raw and gzip -9).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, inflateRawSync } from 'node:zlib';
import { BROWSER_CORES, browserWasm, nodeBindgenArgs, wasmOptArgs } from './browser-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const core = join(pkg, 'core');
const step = (msg) => console.log(`[build] ${msg}`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

rmSync(pkg, { recursive: true, force: true });
mkdirSync(core, { recursive: true });

const { browserStd, browserBuild } = browserWasm(root, run);
step(`the browser's wasm: ${browserStd}`);
// The browser's two size-optimized cores: the default one, OTLP/protobuf only (cargo feature
// `protobuf-only`), in target/wasm-small, and the one with the OTLP/JSON encoder too, loaded
// instead for init({ format: 'json' }), in target/wasm-small-json.
const small = join(root, 'target', 'wasm-small');
const smallJson = join(root, 'target', 'wasm-small-json');
const bindgen = (wasmFile, outDir) => run('wasm-bindgen', nodeBindgenArgs(wasmFile, outDir));
// Their exports are plain functions (cargo feature `c-abi`): no wasm-bindgen step.
for (const [features, dir, what] of [[BROWSER_CORES.protobuf, small, 'OTLP/protobuf only'], [BROWSER_CORES.json, smallJson, 'with OTLP/JSON']]) {
  step(`cargo build --profile release-browser --target wasm32-unknown-unknown ${features.join(' ')} (size-optimized, for browsers: ${what}; ${browserStd})`);
  const built = browserBuild('release-browser', features);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(built, join(dir, 'edgetrace_bg.wasm'));
}
step('cargo build --profile release-speed --target wasm32-unknown-unknown (for Node and Workers)');
run('cargo', ['build', '--profile', 'release-speed', '--target', 'wasm32-unknown-unknown', '--lib']);
step('wasm-bindgen --target web');
bindgen(join(root, 'target/wasm32-unknown-unknown/release-speed/edgetrace.wasm'), core);

const wasmOpt = (file, level = '-Oz') => run(join(root, 'node_modules/.bin/wasm-opt'), wasmOptArgs(file, level));
step('wasm-opt -O3 / -Oz (binaryen from npm)');
const wasm = join(core, 'edgetrace_bg.wasm');
wasmOpt(wasm, '-O3');
const smallWasm = join(small, 'edgetrace_bg.wasm');
wasmOpt(smallWasm);
const smallJsonWasm = join(smallJson, 'edgetrace_bg.wasm');
wasmOpt(smallJsonWasm);

// Size-optimized for every runtime: it runs once per model call, not per span.
const llm = join(pkg, 'llm');
step(`cargo build --release --target wasm32-unknown-unknown --features llm-module (the model API parsers; ${browserStd})`);
const llmBuilt = browserBuild('release', ['--features', 'llm-module']);
run('wasm-bindgen', [
  '--target', 'web', '--no-typescript', '--omit-default-module-path', '--out-dir', llm, '--out-name', 'edgetrace_llm', llmBuilt,
]);
const llmWasm = join(llm, 'edgetrace_llm_bg.wasm');
wasmOpt(llmWasm);
// The browser entry's wasm modules (the size-optimized core and the parsers) ship deflated, as
// base64, inflated with the browser's DecompressionStream (pkg-templates/inflate.js). Deflated with
// Zopfli (scripts/deflate, a build tool of its own): its output is ordinary raw deflate, ~6 %
// smaller than zlib's level 9, which is ~2 KB of the up-front bundle's gzip.
step('cargo build --release scripts/deflate (Zopfli, a build tool)');
run('cargo', ['build', '--release', '--quiet', '--manifest-path', join(root, 'scripts/deflate/Cargo.toml'),
  '--target-dir', join(root, 'target/tools')]);
const deflater = join(root, 'target/tools/release/edgetrace-deflate');
const deflated = (wasmFile, out) => {
  const tmp = `${out}.deflate`;
  run(deflater, [wasmFile, tmp]);
  const bytes = readFileSync(tmp);
  rmSync(tmp);
  if (!inflateRawSync(bytes).equals(readFileSync(wasmFile))) throw new Error(`${wasmFile}: the deflated module does not inflate to itself`);
  writeFileSync(out, `// Generated by scripts/build.mjs: ${basename(wasmFile)}, deflated (raw deflate, Zopfli), as base64.\nexport default '${bytes.toString('base64')}';\n`);
};
deflated(llmWasm, join(llm, 'wasm-deflate.js'));

step('deflate the size-optimized wasm for the browser entry (and the one with OTLP/JSON)');
deflated(smallWasm, join(core, 'wasm-deflate.js'));
deflated(smallJsonWasm, join(core, 'wasm-deflate-json.js'));

step('copy pkg-templates/');
for (const f of readdirSync(join(root, 'pkg-templates'))) copyFileSync(join(root, 'pkg-templates', f), join(pkg, f));
// The package's README and LICENSE (its "files" lists them): the project's. The README's links
// to files of the repository the package does not hold (the benchmark results, the ingest
// service's README, screenshots) become their text and path, as the package names no
// repository for a registry to resolve them against.
writeFileSync(join(pkg, 'README.md'), packageReadme(readFileSync(join(root, 'README.md'), 'utf8')));
copyFileSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'));

const size = (p) => {
  const b = readFileSync(p);
  return { raw: b.length, gzip9: gzipSync(b, { level: 9 }).length };
};
const rows = [
  ['core/edgetrace_bg.wasm (Node, Workers)', size(wasm)],
  ['size-optimized wasm (for browsers)', size(smallWasm)],
  ['core/edgetrace.js (wasm-bindgen glue, Node and Workers)', size(join(core, 'edgetrace.js'))],
  ["core-abi.js (the browser cores' loader)", size(join(pkg, 'core-abi.js'))],
  ['JS layer (edgetrace, recorder, exporter, safe-json, stream, fetch)', ['edgetrace.js', 'recorder.js', 'exporter.js', 'safe-json.js', 'stream.js', 'fetch.js']
    .map((f) => size(join(pkg, f))).reduce((a, b) => ({ raw: a.raw + b.raw, gzip9: a.gzip9 + b.gzip9 }))],
  ['core/wasm-deflate.js (browser)', size(join(core, 'wasm-deflate.js'))],
  ['size-optimized wasm with OTLP/JSON', size(smallJsonWasm)],
  ['core/wasm-deflate-json.js (browser, format json)', size(join(core, 'wasm-deflate-json.js'))],
  ['llm/edgetrace_llm_bg.wasm (model API parsers)', size(llmWasm)],
  ['llm/wasm-deflate.js (browser)', size(join(llm, 'wasm-deflate.js'))],
];
step(`sizes (bytes, raw / gzip -9; the browser's wasm: ${browserStd}):`);
for (const [name, s] of rows) console.log(`  ${name.padEnd(56)} ${String(s.raw).padStart(8)} / ${String(s.gzip9).padStart(7)}`);
writeFileSync(join(pkg, 'sizes.json'), JSON.stringify({ browserStd, ...Object.fromEntries(rows) }, null, 2));

// The ingest service (ingest/): the same crate with the `ingest` feature (its IngestCore class).
const ingestBuild = join(root, 'ingest', 'build');
step('cargo build --release --target wasm32-unknown-unknown --features ingest (the ingest service)');
run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib', '--features', 'ingest']);
rmSync(ingestBuild, { recursive: true, force: true });
mkdirSync(ingestBuild, { recursive: true });
step('wasm-bindgen --target web (ingest)');
run('wasm-bindgen', [
  '--target', 'web', '--no-typescript', '--out-dir', ingestBuild, '--out-name', 'edgetrace_ingest',
  join(root, 'target/wasm32-unknown-unknown/release/edgetrace.wasm'),
]);
const ingestWasm = join(ingestBuild, 'edgetrace_ingest_bg.wasm');
wasmOpt(ingestWasm);
const ingestSize = size(ingestWasm);
console.log(`  ${'ingest/build/edgetrace_ingest_bg.wasm'.padEnd(44)} ${String(ingestSize.raw).padStart(8)} / ${String(ingestSize.gzip9).padStart(7)}`);
step(`done: ${pkg} (${statSync(wasm).size} byte wasm), ${ingestBuild}`);

/** The README for the package: relative links and images turned into text naming the path. */
function packageReadme(text) {
  const named = (label, path) => (label.replaceAll('`', '') === path.split('#')[0] ? `${label} (in the source repository)` : `${label} (\`${path}\` in the source repository)`);
  return text
    .replace(/!\[([^\]]*)\]\((?!https?:)([^)\s]+)\)/g, '*($1: `$2` in the source repository)*')
    .replace(/\[([^\]]+)\]\((?!https?:|#)([^)\s]+)\)/g, (_, label, path) => named(label, path));
}
