// While the collector is down, the batches in flight retry and no new batch is taken, and the
// queue's overflow was told only by `take`: once the collector was back, or the batch in flight
// given up. An operator watching an outage saw only "an export failed … retrying". The overflow
// is now told at the next failed attempt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flush, getStats, init, withSpan } from '../../pkg/node.js';
import { freePort } from './helpers/util.mjs';

test('spans dropped from a full queue while the collector is down are warned at the next failed attempt, before the batch in flight is given up', async () => {
  const port = await freePort(); // nothing listens there
  const warnings = [];
  init({
    endpoint: `http://127.0.0.1:${port}`, maxQueueSpans: 10, maxBatchSpans: 5, maxConcurrentExports: 1, flushIntervalMs: 60_000,
    maxRetries: 3, initialBackoffMs: 150, maxBackoffMs: 150, logger: { warn: (m) => warnings.push(m) },
  });
  try {
    withSpan(() => 1, { name: 'first' });
    const flushed = flush(); // the first span's batch: it fails, then retries
    const t0 = Date.now();
    while (getStats().requests === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
    // The queue takes new traces up to three quarters of its 10 spans (8); the rest are dropped.
    for (let i = 0; i < 30; i++) withSpan(() => i, { name: `during-${i}` });
    assert.equal(getStats().dropped.queueFull, 22);
    await flushed;
    const full = warnings.findIndex((w) => w === 'edgetrace: the queue was full (maxQueueSpans): spans were dropped');
    const givenUp = warnings.findIndex((w) => w.startsWith('edgetrace: dropped a batch of 1 spans after 4 attempts'));
    assert.ok(full >= 0 && givenUp >= 0, warnings.join('\n'));
    assert.ok(full < givenUp, `the overflow was told after the batch in flight was given up:\n${warnings.join('\n')}`);
    assert.equal(warnings.filter((w) => w.includes('queue was full')).length, 1, 'told once');
  } finally {
    init({ enabled: false });
  }
});
