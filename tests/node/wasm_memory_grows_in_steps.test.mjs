// The wasm core's memory grows in steps (an eighth of what it has, 1 MiB at the least:
// src/wasm_heap.rs), not a 64 KiB page at a time as the queue fills. Each grow detaches the
// memory's ArrayBuffer and the recorder makes its views again, which Bun's JavaScriptCore makes
// slow (0.35 ms a grow). Counted through getStats().wasmMemoryBytes, read after every trace while
// 33,000 spans are buffered: one page at a time took 126 grows here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flush, getStats, init, withSpan } from '../../pkg/node.js';

const ATTRS = { 'app.a': 'alpha', 'app.b': 'bravo', 'app.c': 'charlie', 'app.d': 'delta', 'app.e': 'echo' };
const nest = (d) => withSpan((s) => {
  s.setAttributes(ATTRS);
  if (d > 0) nest(d - 1);
}, { name: d === 10 ? 'root' : 'child' });

test('buffering 33,000 spans grows the wasm memory in a few steps, and the stat reports its bytes', async () => {
  init({
    endpoint: 'http://127.0.0.1:9/v1/traces',
    fetch: async () => new Response(null, { status: 200 }),
    flushIntervalMs: 3_600_000,
    maxQueueSpans: 1_000_000,
    maxQueueBytes: 1 << 30,
    maxBatchSpans: 1_000_000,
    maxExportBytes: 1 << 30,
    logger: { warn() {} },
  });
  nest(10);
  const sizes = [getStats().wasmMemoryBytes];
  for (let i = 1; i < 3000; i++) {
    nest(10);
    const b = getStats().wasmMemoryBytes;
    if (b !== sizes[sizes.length - 1]) sizes.push(b);
  }
  const stats = getStats();
  assert.equal(stats.queued, 33_000, 'every span held');
  const grows = sizes.length - 1;
  const steps = sizes.slice(1).map((b, i) => b - sizes[i]);
  assert.ok(sizes.every((b) => b > 0 && b % 65536 === 0), `whole wasm pages: ${sizes.join(', ')}`);
  assert.ok(grows >= 1, 'the queue made the memory grow');
  assert.ok(grows <= 30, `${grows} grows while buffering 33,000 spans: ${steps.join(', ')}`);
  assert.ok(steps.every((d) => d >= 16 * 65536), `every step 1 MiB or more: ${steps.join(', ')}`);
  await flush();
  assert.equal(getStats().queued, 0);
});
