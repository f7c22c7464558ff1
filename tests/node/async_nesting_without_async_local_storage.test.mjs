// Without AsyncLocalStorage (browsers, Workers without nodejs_compat) edgetrace finds the parent
// of a span started after an await from V8's async stack frames. These are the patterns the
// README documents as nesting automatically, and the ones that need the span handle.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { flush, getCurrentActiveSpan, getLastActiveTraceId, init, startSpan, trace, updateCurrentTrace, withSpan } from './helpers/entry-without-als.mjs';
import { byTrace, shape, startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
});
after(() => col.close());
beforeEach(() => {
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const spansOf = async (tid) => {
  await flush();
  return col.spans().filter((s) => !tid || s.traceId === tid);
};

test('async functions nest across awaits, timers and fetch-like waits', async () => {
  const leaf = trace(async function leaf(x) {
    await sleep(2);
    return x;
  });
  const syncLeaf = trace(function syncLeaf(x) {
    return x;
  });
  const mid = trace(async function mid() {
    await sleep(1);
    await leaf(1);
    syncLeaf(2);
    await Promise.resolve();
    return leaf(3);
  });
  const top = trace(async function top() {
    await sleep(1);
    return mid();
  });
  await top();
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['top', [['mid', [['leaf', []], ['leaf', []], ['syncLeaf', []]]]]]]);
});

test('five concurrent flows under Promise.all keep their own trees', async () => {
  const step = trace(async function step(flow) {
    await sleep(Math.random() * 4);
    return flow;
  });
  const flow = trace(async function flow(id) {
    await sleep(Math.random() * 3);
    await step(id);
    await Promise.all([step(id), step(id)]);
    return id;
  });
  await Promise.all([1, 2, 3, 4, 5].map((i) => flow(i)));
  const traces = byTrace(await spansOf());
  assert.equal(traces.size, 5);
  for (const [, ts] of traces) {
    const root = ts.find((s) => !s.parentSpanId);
    const id = JSON.parse(root.attributes['mlflow.spanInputs']).id;
    assert.equal(ts.length, 4);
    for (const s of ts.filter((x) => x !== root)) {
      assert.equal(s.parentSpanId, root.spanId);
      assert.equal(JSON.parse(s.attributes['mlflow.spanInputs']).flow, id);
    }
  }
});

test('withSpan with an async callback nests, and updateCurrentTrace after an await finds the trace', async () => {
  await withSpan(async () => {
    await sleep(1);
    updateCurrentTrace({ tags: { k: 'v' } });
    assert.ok(getCurrentActiveSpan(), 'active span found after an await');
    await withSpan(async () => sleep(1), { name: 'child' });
  }, { name: 'parent' });
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['parent', [['child', []]]]]);
  assert.equal(spans.find((s) => s.name === 'parent').attributes['mlflow.traceTag.k'], 'v');
});

test('documented limit: a .then() callback or a detached timer does not see the parent; the handle does', async () => {
  let tid;
  await withSpan(async (span) => {
    tid = span.traceId;
    await new Promise((resolve) => {
      setTimeout(() => {
        startSpan({ name: 'detached' }).end();
        startSpan({ name: 'with-handle', parent: span }).end();
        resolve();
      }, 1);
    });
  }, { name: 'outer' });
  const all = await spansOf();
  const detached = all.find((s) => s.name === 'detached');
  assert.equal(detached.parentSpanId, undefined, 'a detached timer starts its own trace');
  assert.notEqual(detached.traceId, tid);
  assert.deepEqual(shape(all.filter((s) => s.traceId === tid)), [['outer', [['with-handle', []]]]]);
});
