// What the browser core carries that no page needs is size (issue 7): each exported method costs
// a wasm-bindgen shim in the module and a wrapper in the glue, and one panic path can pull in
// Rust's formatting and Unicode tables. These checks keep both out of the shipped package.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = (f) => join(root, 'pkg', f);

test('every method the core exports is one the JS layer calls', async () => {
  const { Core } = await import(pathToFileURL(pkg('core/edgetrace.js')).href);
  const methods = Object.getOwnPropertyNames(Core.prototype).filter((m) => !['constructor', 'free'].includes(m) && !m.startsWith('__')); // free: wasm-bindgen's own
  assert.ok(['run', 'cmd_buffer', 'take_batch', 'write_stats'].every((m) => methods.includes(m)), `the glue's Core has its methods (${methods.join(', ')})`);
  const js = ['edgetrace.js', 'exporter.js', 'fetch.js', 'recorder.js', 'browser.js', 'node.js', 'workerd.js', 'inflate.js']
    .map((f) => readFileSync(pkg(f), 'utf8')).join('\n');
  const unused = methods.filter((m) => !new RegExp(`\\.${m}\\(`).test(js));
  assert.deepEqual(unused, [], 'exported but never called from pkg/*.js: move them out of #[wasm_bindgen] (src/bindings.rs)');
});

test("the browser cores export what core-abi.js calls, and nothing else", async () => {
  const glue = readFileSync(pkg('core-abi.js'), 'utf8');
  const called = [...new Set(glue.match(/\bx\.(et_\w+)/g).map((m) => m.slice(2)))].sort();
  assert.ok(called.includes('et_run') && called.includes('et_new'), `core-abi.js calls the core (${called.join(', ')})`);
  for (const f of ['core/wasm-deflate.js', 'core/wasm-deflate-json.js']) {
    const wasm = inflateRawSync(Buffer.from((await import(pathToFileURL(pkg(f)).href)).default, 'base64'));
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(wasm)).filter((e) => e.kind === 'function').map((e) => e.name).sort(); // (a stable-std build also exports __heap_base and __data_end, globals)
    assert.deepEqual(exports, called, `${f} exports exactly the functions core-abi.js calls`);
  }
});

test("the cores carry no str slicing panic (it links Rust's Debug formatting and Unicode tables)", async () => {
  const browser = async (f) => inflateRawSync(Buffer.from((await import(pathToFileURL(pkg(f)).href)).default, 'base64'));
  for (const [name, wasm] of [
    ['the browser core', await browser('core/wasm-deflate.js')],
    ['the browser core with OTLP/JSON', await browser('core/wasm-deflate-json.js')],
    ['the Node and Workers core', readFileSync(pkg('core/edgetrace_bg.wasm'))],
  ]) {
    assert.ok(WebAssembly.validate(wasm), `${name} is valid wasm`);
    assert.ok(!wasm.includes('is not a char boundary'), `${name} has str's slicing panic message: a &s[a..b] on a str crept into the core (use s.get(a..b))`);
    assert.ok(wasm.includes('is not open'), `${name} has the core's own messages (the check reads the data section)`);
  }
});
