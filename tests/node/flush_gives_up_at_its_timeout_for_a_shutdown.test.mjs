// A server stopping on SIGTERM has a grace period (Kubernetes' 30 s, docker stop's 10 s). With
// the collector down, flush() waits through the export's retries; flush({ timeoutMs }) resolves
// by then and says how many spans are left unsent. With a collector that answers, it waits for
// the export as flush() does.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { flush, getStats, init, withSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';

test('flush({ timeoutMs }) resolves at its timeout with a collector that never answers, and warns of what is unsent', async () => {
  const waiting = [];
  const hang = createServer((req, res) => waiting.push(res)); // accepts, answers only at the end
  await new Promise((r) => hang.listen(0, '127.0.0.1', r));
  const warnings = [];
  init({ endpoint: `http://127.0.0.1:${hang.address().port}`, flushIntervalMs: 60_000, logger: { warn: (m) => warnings.push(m) } });
  try {
    for (let i = 0; i < 3; i++) withSpan(() => i, { name: `s${i}` });
    const t0 = Date.now();
    await flush({ timeoutMs: 300 });
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 2000, `resolved after ${took} ms`);
    const w = warnings.find((m) => m.includes('flush gave up after 300 ms'));
    assert.ok(w, warnings.join('\n'));
    assert.match(w, /did not take the spans in time \(0 still queued/, 'the three are in the request that hangs');
  } finally {
    // Answered now: the export in flight ends, and nothing is left retrying.
    for (const res of waiting) res.end();
    await flush();
    init({ enabled: false });
    hang.close();
  }
});

test('flush({ timeoutMs }) with a collector that answers waits for the export and says nothing', async () => {
  const col = await startCollector();
  const warnings = [];
  init({ endpoint: col.url, format: 'json', flushIntervalMs: 60_000, logger: { warn: (m) => warnings.push(m) } });
  try {
    withSpan(() => 1, { name: 'sent' });
    await flush({ timeoutMs: 10_000 });
    assert.deepEqual(col.spans().map((s) => s.name), ['sent']);
    assert.equal(getStats().queued, 0);
    assert.deepEqual(warnings, []);
  } finally {
    init({ enabled: false });
    await col.close();
  }
});
