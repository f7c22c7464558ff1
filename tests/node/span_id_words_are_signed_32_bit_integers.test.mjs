// The recorder draws span and trace ids as 32-bit words and keeps them on the span. It keeps them
// signed, so V8 holds each as a small integer where its small integers are 32 bits wide (Node on
// x64) instead of allocating a heap number for each word of 2^31 and up; and the ids the span
// reports and the ones the core exports are still the same bits.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Recorder, configBytes, idHex } from '../../pkg/recorder.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const isInt32 = (x) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31;

test('span and trace id words are signed 32-bit integers, and the exported ids are their bits', async () => {
  const glue = await import(pathToFileURL(join(root, 'pkg', 'core', 'edgetrace.js')).href);
  const { memory } = glue.initSync({ module: readFileSync(join(root, 'pkg', 'core', 'edgetrace_bg.wasm')) });
  const core = new glue.Core(configBytes({ serviceName: 'ids' }, ['serviceName'], JSON.stringify), Date.now(), 0, 1);
  const rec = new Recorder(core, memory, (flags) => assert.fail(`a command failed: ${flags}`));
  const spans = [];
  for (let trace = 0; trace < 200; trace++) {
    const ctx = rec.newContext();
    const r = { root: true };
    const c = { root: false };
    const hr = rec.start(r, ctx, 0, 'root', 'CHAIN', 1000 + trace);
    const hc = rec.start(c, ctx, hr, 'child', 'LLM', 1000.5 + trace);
    rec.end(hc, 1001 + trace);
    rec.end(hr, 1002 + trace, ctx);
    c.w = r;
    spans.push(r, c);
  }
  rec.drain();
  const words = spans.flatMap((s) => (s.root ? [s._s0, s._s1, s._w0, s._w1, s._w2, s._w3] : [s._s0, s._s1]));
  assert.equal(words.length, 200 * 8);
  for (const w of words) assert.ok(isInt32(w), `${w} is a signed 32-bit word`);
  assert.ok(words.some((w) => w < 0), 'words with the top bit set are negative');
  const exported = [];
  for (let b; (b = core.take_batch(false)); ) exported.push(...JSON.parse(Buffer.from(b).toString()).resourceSpans[0].scopeSpans[0].spans);
  assert.equal(exported.length, spans.length);
  const byId = new Map(exported.map((s) => [s.spanId, s]));
  for (const s of spans) {
    const e = byId.get(idHex(s._s0, s._s1));
    assert.ok(e, `span ${idHex(s._s0, s._s1)} is exported under the id its words make`);
    const r = s.root ? s : s.w;
    assert.equal(e.traceId, idHex(r._w0, r._w1, r._w2, r._w3));
    assert.match(e.spanId, /^[0-9a-f]{16}$/);
  }
});
