// The browser entry's wasm modules ship deflated, as base64 (scripts/build.mjs), and are inflated
// with DecompressionStream (pkg/inflate.js). Each must inflate, by Node's zlib and by the
// package's own inflater, to exactly the module it was built from: the two cores (OTLP/protobuf
// only, and with OTLP/JSON) to their size builds, the model API parsers to their .wasm.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { inflateBase64 } from '../../pkg/inflate.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shipped = async (f) => (await import(pathToFileURL(join(root, 'pkg', f)).href)).default;

test('the package inflater gives back every byte value, and an empty module', async () => {
  const bytes = Buffer.from([...Array(256).keys(), ...Array(256).keys()].reverse());
  for (const b of [bytes, Buffer.alloc(0), Buffer.alloc(100_000, 7)]) {
    const got = Buffer.from(await inflateBase64(deflateRawSync(b, { level: 9 }).toString('base64')));
    assert.ok(got.equals(b), `${b.length} bytes`);
  }
  await assert.rejects(inflateBase64(Buffer.from('not deflate data').toString('base64')));
});

test('the built package ships valid wasm: the cores are the size builds, the parsers their own module', async () => {
  const small = join(root, 'target/wasm-small/edgetrace_bg.wasm');
  const smallJson = join(root, 'target/wasm-small-json/edgetrace_bg.wasm');
  assert.ok(existsSync(small) && existsSync(smallJson), 'scripts/build.mjs leaves the size builds in target/wasm-small and target/wasm-small-json');
  const modules = [
    ['core/wasm-deflate.js', readFileSync(small)],
    ['core/wasm-deflate-json.js', readFileSync(smallJson)],
    ['llm/wasm-deflate.js', readFileSync(join(root, 'pkg/llm/edgetrace_llm_bg.wasm'))],
  ];
  for (const [file, built] of modules) {
    const text = await shipped(file);
    assert.match(text, /^[A-Za-z0-9+/]+=*$/, `${file} is base64`);
    const wasm = inflateRawSync(Buffer.from(text, 'base64'));
    assert.ok(WebAssembly.validate(wasm), `${file} inflates to a valid module`);
    assert.ok(wasm.equals(built), `${file} inflates to the build, byte for byte`);
    assert.ok(Buffer.from(await inflateBase64(text)).equals(built), `${file}: the same by pkg/inflate.js`);
  }
  const core = inflateRawSync(Buffer.from(await shipped('core/wasm-deflate.js'), 'base64'));
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(core)).map((e) => e.name);
  assert.ok(exports.includes('et_run') && exports.includes('et_new'), "the core exports Core's methods as plain functions (src/abi.rs)");
});
