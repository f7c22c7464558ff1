// A span's outputs set by the app (`span.setOutputs`, or `end({ outputs })`) are kept: the value its
// body returns does not replace them, as it did (a reviewer's `withSpan` that set `{ x: 1 }` and
// returned 2 reached MLflow with outputs 2). A body that sets none still has its return value
// recorded, sync or async, by withSpan and trace() alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flush, getCurrentActiveSpan, init, trace, withSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';

test('outputs the app set win over the return value; without them the return value is recorded', async () => {
  const col = await startCollector();
  try {
    init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
    assert.equal(withSpan((s) => {
      s.setOutputs({ x: 1 });
      return 2;
    }, { name: 'sync-set' }), 2);
    assert.equal(await withSpan(async (s) => {
      await null;
      s.setOutputs({ x: 3 });
      return 4;
    }, { name: 'async-set' }), 4);
    const traced = trace(async function tracedSet(span) {
      return 6;
    });
    assert.equal(await withSpan(async (outer) => {
      outer.setOutputs('kept');
      return traced();
    }, { name: 'outer-set' }), 6);
    const tracedOwn = trace(async function tracedOwn() {
      await null;
      getCurrentActiveSpan().setOutputs({ own: true });
      return 'returned';
    });
    assert.equal(await tracedOwn(), 'returned');
    const tracedSyncOwn = trace(function tracedSyncOwn() {
      getCurrentActiveSpan().setOutputs('own');
      return 'returned';
    });
    assert.equal(tracedSyncOwn(), 'returned');
    assert.equal(withSpan(() => 7, { name: 'sync-returned' }), 7);
    assert.equal(await withSpan(async () => 8, { name: 'async-returned' }), 8);
    await flush();
    const outputs = Object.fromEntries(col.spans().map((s) => [s.name, s.attributes['mlflow.spanOutputs']]));
    assert.deepEqual(outputs, {
      'sync-set': '{"x":1}',
      'async-set': '{"x":3}',
      'outer-set': '"kept"',
      tracedSet: 6,
      tracedOwn: '{"own":true}',
      tracedSyncOwn: '"own"',
      'sync-returned': 7,
      'async-returned': 8,
    });
  } finally {
    init({ enabled: false });
    await col.close();
  }
});
