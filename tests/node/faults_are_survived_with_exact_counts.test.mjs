// Faults the SDK survives, with exact counts: Retry-After honoured, hanging and slow collectors
// bounded by the export timeout, and a span storm far past the queue's limits that keeps memory
// bounded and counts every drop (run in a child process so its memory is its own).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { flush, getStats, init, startSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';
import { root } from './helpers/util.mjs';

let col;
before(async () => {
  col = await startCollector();
});
after(async () => {
  await col?.close();
});

test('429 with Retry-After: 1 is honoured: the retry waits about a second, then the span arrives once', async () => {
  init({ endpoint: col.url, format: 'json', serviceName: 'faults', maxRetries: 3, initialBackoffMs: 10, logger: { warn() {} } });
  col.failNext(1, 429, { 'retry-after': '1' });
  const t0 = Date.now();
  startSpan({ name: 'after-429' }).end();
  await flush();
  const waited = Date.now() - t0;
  assert.ok(waited >= 950, `the retry came after ${waited} ms, before Retry-After`);
  assert.equal(col.spans().filter((s) => s.name === 'after-429').length, 1);
});

test('a hanging collector: each export gives up after exportTimeoutMs, flush() returns, and the drop is counted', async () => {
  init({ endpoint: col.url, format: 'json', serviceName: 'faults', maxRetries: 1, initialBackoffMs: 10, exportTimeoutMs: 300, logger: { warn() {} } });
  col.hangNext(2);
  const before = getStats();
  const t0 = Date.now();
  startSpan({ name: 'into-the-void' }).end();
  await flush();
  const took = Date.now() - t0;
  const after = getStats();
  assert.ok(took < 5000, `flush took ${took} ms`);
  assert.equal(after.dropped.exportFailed - before.dropped.exportFailed, 1);
  assert.equal(after.retried - before.retried, 1);
  assert.match(after.lastExportError, /abort|timeout/i);
  // The next span goes through once the collector answers again.
  startSpan({ name: 'after-hang' }).end();
  await flush();
  assert.equal(col.spans().filter((s) => s.name === 'after-hang').length, 1);
});

test('a span storm 150x past the queue limit: memory stays bounded, every span is exported or counted as dropped', async () => {
  col.hangNext(100_000); // the collector hangs for the whole storm
  const total = 300_000;
  const child = spawn(process.execPath, ['--expose-gc', join(root, 'tests/node/fixtures/span-storm.mjs'), col.url, String(total)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  col.clearPlan();
  assert.equal(code, 0);
  const r = JSON.parse(out.trim().split('\n').pop());
  const s = r.stats;
  console.error(`[storm] ${total} spans: rss ${(r.rssAtTenth / 2 ** 20).toFixed(1)} MiB at 10%, ${(r.rssAtEnd / 2 ** 20).toFixed(1)} MiB at the end; ` +
    `${r.usPerSpanFirst.toFixed(2)} µs/span in the first tenth, ${r.usPerSpanLast.toFixed(2)} µs/span in the last; dropped ${JSON.stringify(s.dropped)}`);
  assert.equal(s.started, total);
  assert.equal(s.ended, total);
  assert.ok(s.dropped.queueFull > total * 0.9, `queueFull ${s.dropped.queueFull}`);
  assert.equal(s.queued, 0);
  assert.equal(s.exported + s.dropped.total, total, 'every span is exported or counted as dropped');
  assert.ok(r.rssAtEnd - r.rssAtTenth < 48 * 2 ** 20, `rss grew by ${((r.rssAtEnd - r.rssAtTenth) / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(r.warningCount < 100, `${r.warningCount} warnings: drops are reported, not spammed`);
});
