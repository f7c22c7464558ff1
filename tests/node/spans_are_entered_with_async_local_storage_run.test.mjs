// How the Node entry makes a span active: with AsyncLocalStorage.run, under Node 20's async hooks
// and under Node 24's async context frames (and Node 22's with --experimental-async-context-frame)
// alike. Until session 38 Node 24 entered it inside an AsyncResource's scope, which ran 30-40 %
// slower than `run` after each full collection (pkg-templates/node.js); no scope is entered now.
// Either way the span must be active for everything its body starts, also what runs after the body
// returned (timers, promise callbacks), and the context before it must be back once it returns or
// throws. CI runs this suite under Node 20 and under Node 24 (scripts/test.sh).
import assert from 'node:assert/strict';
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { after, before, beforeEach, test } from 'node:test';
import { flush, getCurrentActiveSpan, getLastActiveTraceId, init, withSpan } from '../../pkg/node.js';
import { shape, startCollector } from './helpers/collector.mjs';

const calls = { run: 0, scope: 0 };
const run = AsyncLocalStorage.prototype.run;
const scope = AsyncResource.prototype.runInAsyncScope;
AsyncLocalStorage.prototype.run = function (...a) {
  calls.run++;
  return run.apply(this, a);
};
AsyncResource.prototype.runInAsyncScope = function (...a) {
  calls.scope++;
  return scope.apply(this, a);
};

let col;
before(async () => {
  col = await startCollector();
});
after(() => {
  AsyncLocalStorage.prototype.run = run;
  AsyncResource.prototype.runInAsyncScope = scope;
  col.close();
});
beforeEach(() => {
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', serviceName: 'node-context-test' });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test(`spans are entered with AsyncLocalStorage.run on Node ${process.versions.node}`, async () => {
  calls.run = 0;
  calls.scope = 0;
  // A plain function (not async) that returns a promise: what it schedules while it runs must
  // find its span when it runs later, after the scope it was entered in was left.
  const done = withSpan((root) => {
    withSpan(() => {
      withSpan(() => {}, { name: 'leaf' });
    }, { name: 'child' });
    const timer = new Promise((resolve) => {
      setTimeout(() => resolve(withSpan(() => getCurrentActiveSpan().name, { name: 'timer' })), 1);
    });
    const micro = Promise.resolve().then(() => withSpan(() => getCurrentActiveSpan().name, { name: 'microtask' }));
    return Promise.all([timer, micro, root.name]);
  }, { name: 'root' });
  assert.equal(getCurrentActiveSpan(), undefined, 'the context before the root is back');
  assert.deepEqual(await done, ['timer', 'microtask', 'root']);
  const spans = 5;
  assert.equal(calls.run, spans, 'one AsyncLocalStorage.run per span');
  assert.equal(calls.scope, 0, 'no AsyncResource scope per span');
  await flush();
  assert.deepEqual(shape(col.spans()), [['root', [['child', [['leaf', []]]], ['microtask', []], ['timer', []]]]]);
});

test('a span body that throws, or awaits, leaves the context it found', async () => {
  await withSpan(async (outer) => {
    assert.throws(() => withSpan(() => {
      throw new Error('boom');
    }, { name: 'throws' }), /boom/);
    assert.equal(getCurrentActiveSpan(), outer, 'back to the outer span after a throw');
    const pending = withSpan(async () => {
      await sleep(2);
      return getCurrentActiveSpan().name;
    }, { name: 'awaits' });
    assert.equal(getCurrentActiveSpan(), outer, 'back to the outer span while the inner one awaits');
    assert.equal(await pending, 'awaits');
    assert.equal(getCurrentActiveSpan(), outer);
  }, { name: 'outer' });
  assert.equal(getCurrentActiveSpan(), undefined);
  await flush();
  const tid = getLastActiveTraceId().slice(3);
  assert.deepEqual(shape(col.spans().filter((s) => s.traceId === tid)), [['outer', [['awaits', []], ['throws', []]]]]);
});
