// The browser entry inlines its core wasm as a JS string with one character per byte
// (scripts/wasm-string.mjs). Every byte value must come back as itself, including the ones a
// template literal treats specially, and the shipped files must decode to valid modules that are
// exactly the size-built wasm. The model API parsers ship deflated, as base64 (pkg/llm/wasm-deflate.js),
// and must inflate to their .wasm byte for byte.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { wasmStringLiteral } from '../../scripts/wasm-string.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wasm-string-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function roundTrip(bytes) {
  const file = join(dir, `m${n++}.mjs`);
  writeFileSync(file, `export default ${wasmStringLiteral(bytes)};\n`);
  return Buffer.from((await import(pathToFileURL(file).href)).default, 'latin1');
}

test('every byte value, and the sequences a template literal reads specially, come back as themselves', async () => {
  const tricky = [
    [0x00, 0x31], // NUL before a digit: `\0` there would be an octal escape
    [0x00, 0x00],
    [0x24, 0x7b], // `${` would open a substitution
    [0x0d, 0x0a], // CR LF: a raw CR would be read as LF
    [0x0d],
    [0x5c, 0x60], // backslash, backtick
    [0x5c, 0x75, 0x7b], // backslash u {
    [0xe2, 0x80, 0xa8], // the UTF-8 bytes of U+2028
    [0xff, 0xfe, 0x7f],
  ];
  const all = Buffer.from([...Array(256).keys(), ...tricky.flat(), 0x00]);
  const back = await roundTrip(all);
  assert.deepEqual([...back], [...all]);
  for (const t of tricky) assert.deepEqual([...(await roundTrip(Buffer.from(t)))], t, `bytes ${t}`);
  // 20,000 pseudo-random bytes
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const big = Buffer.from(Array.from({ length: 20_000 }, rand));
  assert.ok((await roundTrip(big)).equals(big));
});

test('the literal is ASCII, so no page or server charset can change it', () => {
  const text = wasmStringLiteral(Buffer.from([...Array(256).keys()]));
  assert.ok(/^[\x00-\x7f]*$/.test(text));
  assert.ok(!text.includes('\r'));
});

test('esbuild re-prints it (minified, as bundles do) to the same bytes', async () => {
  const bytes = Buffer.from([...Array(256).keys(), 0, 0x35, 0x24, 0x7b, 0x0d]);
  const r = await build({ stdin: { contents: `export default ${wasmStringLiteral(bytes)};`, loader: 'js' }, minify: true, write: false, format: 'esm' });
  const file = join(dir, 'bundled.mjs');
  writeFileSync(file, r.outputFiles[0].contents);
  assert.ok(Buffer.from((await import(pathToFileURL(file).href)).default, 'latin1').equals(bytes));
});

test('the built package inlines valid wasm: the core is the size build, the parsers their own module', async () => {
  const core = Buffer.from((await import(pathToFileURL(join(root, 'pkg/core/wasm-inline.js')).href)).default, 'latin1');
  const deflated = (await import(pathToFileURL(join(root, 'pkg/llm/wasm-deflate.js')).href)).default;
  assert.match(deflated, /^[A-Za-z0-9+/]+=*$/, 'the parsers are base64');
  const llm = inflateRawSync(Buffer.from(deflated, 'base64'));
  assert.ok(WebAssembly.validate(core), 'the core decodes to a valid module');
  assert.ok(WebAssembly.validate(llm), 'the parsers decode to a valid module');
  assert.ok(llm.equals(readFileSync(join(root, 'pkg/llm/edgetrace_llm_bg.wasm'))), 'the parsers inflate to their .wasm, byte for byte');
  const small = join(root, 'target/wasm-small/edgetrace_bg.wasm');
  assert.ok(existsSync(small), 'scripts/build.mjs leaves the size build in target/wasm-small');
  assert.ok(core.equals(readFileSync(small)), 'the core is the size build, byte for byte');
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(core)).map((e) => e.name);
  assert.ok(exports.includes('core_run') && exports.includes('core_new'), 'the core exports the Core class');
});
