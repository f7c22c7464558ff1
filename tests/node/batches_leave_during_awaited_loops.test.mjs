// Full batches leave the core in a task of their own, and an app that awaits traced calls in a loop
// runs no task until the loop ends: its spans filled the queue (2,048 by default), the root among
// the dropped, with no batch sent and nothing said; MLflow then showed the trace as in progress,
// nameless. Now, once half the queue's spans have ended since the core was last asked, a microtask
// sends too. Spans dropped for a full queue are now warned about, once. And an export
// that cannot reach the collector says where it was sent and why, at its first attempt, so a
// flush() that waits through the retries shows why from the start.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flush, getStats, init, trace, withSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';
import { freePort } from './helpers/util.mjs';

test('3,000 traced calls awaited in a loop are all exported, their root included', async () => {
  const col = await startCollector();
  const warnings = [];
  try {
    init({ endpoint: col.url, format: 'json', logger: { warn: (m) => warnings.push(m) } });
    const dropped = getStats().dropped.total;
    const item = trace(async function item(i) {
      return i;
    });
    const batch = trace(async function batch(n) {
      for (let i = 0; i < n; i++) await item(i);
      return n;
    });
    assert.equal(await batch(3000), 3000);
    await flush();
    const s = getStats();
    assert.equal(s.dropped.total - dropped, 0, 'spans were dropped');
    const spans = col.spans();
    assert.equal(spans.filter((x) => x.name === 'item').length, 3000);
    const roots = spans.filter((x) => x.name === 'batch');
    assert.equal(roots.length, 1, 'the root was exported');
    // More than one request: batches left while the loop ran, not only at the flush.
    assert.ok(col.requests.length >= 2, `${col.requests.length} requests`);
    assert.deepEqual(warnings, []);
  } finally {
    init({ enabled: false });
    await col.close();
  }
});

test('spans dropped for a full queue are warned about, once', async () => {
  const col = await startCollector();
  const warnings = [];
  try {
    init({ endpoint: col.url, maxQueueSpans: 100, maxBatchSpans: 50, maxConcurrentExports: 1, logger: { warn: (m) => warnings.push(m) } });
    const before = getStats().dropped.queueFull;
    // A synchronous burst: nothing can be sent until it is over.
    for (let i = 0; i < 400; i++) withSpan(() => i, { name: 'burst' });
    await flush();
    assert.ok(getStats().dropped.queueFull - before > 0, 'the burst overflowed the queue');
    assert.deepEqual(warnings, ['edgetrace: the queue was full (maxQueueSpans): spans were dropped']);
  } finally {
    init({ enabled: false });
    await col.close();
  }
});

test('an export that cannot reach the collector says where it went and why, at its first attempt', async () => {
  const port = await freePort(); // nothing listens there
  const warnings = [];
  init({ endpoint: `http://127.0.0.1:${port}`, maxRetries: 1, initialBackoffMs: 1, maxBackoffMs: 1, logger: { warn: (m) => warnings.push(m) } });
  try {
    withSpan(() => 1, { name: 'unreachable' });
    await flush();
    const url = `http://127.0.0.1:${port}/v1/traces`;
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0], new RegExp(`^edgetrace: an export failed, ${url.replace(/[./]/g, '\\$&')}: fetch failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); retrying up to 1 times$`));
    assert.match(warnings[1], new RegExp(`^edgetrace: dropped a batch of 1 spans after 2 attempts \\(${url.replace(/[./]/g, '\\$&')}: fetch failed`));
  } finally {
    init({ enabled: false });
  }
});

test('flushIntervalMs 0 sends ended spans in the next task, where it used to turn timed exports off', async () => {
  const col = await startCollector();
  try {
    init({ endpoint: col.url, format: 'json', flushIntervalMs: 0, logger: { warn() {} } });
    withSpan(() => 1, { name: 'at-once' });
    const t0 = Date.now();
    while (!col.spans().some((x) => x.name === 'at-once') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    assert.ok(col.spans().some((x) => x.name === 'at-once'), 'the span was sent without a flush()');
    assert.ok(Date.now() - t0 < 1000, `it took ${Date.now() - t0} ms`);
  } finally {
    init({ enabled: false });
    await col.close();
  }
});
