// The browser entry compiles its wasm core asynchronously, and spans may start meanwhile. When the
// core then fails to load, tracing turns off with one warning, and a span that was already open
// must stay harmless: its setters and its end are ignored, none throws into the app.
// (Run in Node, the browser entry's core made to fail to compile; this file's process only.)
import assert from 'node:assert/strict';
import { test } from 'node:test';

const compile = WebAssembly.compile;
WebAssembly.compile = async (bytes) => {
  const m = await compile(bytes);
  // Only edgetrace's core (its exports are named et_*), not other wasm Node compiles (undici's).
  if (WebAssembly.Module.exports(m).some((e) => e.name.startsWith('et_'))) throw new Error('no wasm here');
  return m;
};
const { init, startSpan, withSpan } = await import('../../pkg/browser.js');

test('a span open when the core fails to load ignores its setters and its end', async () => {
  const warnings = [];
  init({ logger: { warn: (m) => warnings.push(m) } });
  const span = startSpan({ name: 'open while loading' });
  // The core's load fails meanwhile: inflating and compiling it took over 100 ms once on a
  // loaded 2-core host (CI at e636d2c, under Node 24), so the test waits for the warning.
  for (let t = 0; t < 10_000 && warnings.length === 0; t += 20) await new Promise((r) => setTimeout(r, 20));
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /edgetrace: tracing is off, the wasm core failed to load: no wasm here/);
  span.setAttribute('k', 'v');
  span.setAttributes({ a: 'b', n: 1 });
  span.setInputs(7);
  span.setOutputs(true);
  span.setOutputs({ a: 1 });
  span.addEvent('e', { x: 1 });
  span.recordException(new Error('boom'));
  span.setStatus('ERROR');
  span.end();
  // And the app's own calls go on.
  assert.equal(withSpan(() => 42, { name: 'after' }), 42);
  assert.equal(warnings.length, 1, warnings.join('\n'));
});
