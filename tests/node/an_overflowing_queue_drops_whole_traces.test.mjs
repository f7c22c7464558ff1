// When the queue overflows (a collector slower than the app, or down), spans used to be dropped one
// by one as they found it full: MLflow then held traces whose root was dropped (in progress, no
// name, no session) and traces that lacked a step (shown complete). A server found this under load
// (MLflow on SQLite taking ~430 spans/s). Now no trace starts while the queue is three quarters
// full, so the last quarter is kept for traces under way, and what is dropped is whole traces.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flush, getStats, getTraceHeaders, init, startSpan, withSpan } from '../../pkg/node.js';
import { byTrace, startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
});
after(() => col.close());

test('a burst past the queue drops whole traces; traces under way when it filled still arrive whole', async () => {
  const warnings = [];
  // No endpoint yet: spans wait in the queue (40 spans), as they do while exports cannot keep up.
  init({ format: 'json', maxQueueSpans: 40, maxBatchSpans: 40, logger: { warn: (m) => warnings.push(m) } });
  const underWay = [0, 1].map((i) => startSpan({ name: `long-${i}` }));
  // Traces of a root and two steps each, ended as they go: 30 fit before three quarters (30 spans).
  for (let i = 0; i < 40; i++) {
    withSpan(() => {
      withSpan(() => 1, { name: 'step-a' });
      withSpan(() => 2, { name: 'step-b' });
    }, { name: `turn-${i}` });
  }
  // The traces under way end now, each with two steps of its own, into the last quarter.
  for (const root of underWay) {
    for (const step of ['step-a', 'step-b']) startSpan({ name: step, parent: root }).end();
    root.end();
  }
  const s = getStats();
  assert.equal(s.started, 2 + 40 * 3 + 4);
  assert.equal(s.ended, s.started);
  assert.equal(s.queued, 30 + 6);
  assert.equal(s.dropped.queueFull, 30 * 3, 'the 30 traces that started at three quarters, whole');

  init({ endpoint: col.url, format: 'json', maxQueueSpans: 40, maxBatchSpans: 40, logger: { warn: (m) => warnings.push(m) } });
  await flush();
  const spans = col.spans();
  assert.equal(spans.length, 36);
  const traces = [...byTrace(spans).values()];
  assert.equal(traces.length, 12);
  for (const t of traces) {
    const roots = t.filter((x) => !x.parentSpanId);
    assert.equal(roots.length, 1, 'every trace that arrives has its root');
    assert.equal(t.length, 3, `${roots[0].name} arrives with both its steps`);
    assert.ok(t.every((x) => x === roots[0] || x.parentSpanId === roots[0].spanId));
  }
  assert.deepEqual(traces.map((t) => t.find((x) => !x.parentSpanId).name).filter((n) => n.startsWith('long')).sort(), ['long-0', 'long-1']);
  init({ enabled: false });
});

test('a shed trace is not recording, and its traceparent tells the services it calls not to sample it', async () => {
  // No endpoint: spans wait in the queue (8 spans), as they do while exports cannot keep up.
  init({ format: 'json', maxQueueSpans: 8, maxBatchSpans: 8, logger: { warn() {} } });
  const askedEarly = startSpan({ name: 'asked-early' });
  const askedLate = startSpan({ name: 'asked-late' });
  assert.equal(askedEarly.isRecording, true);
  assert.match(getTraceHeaders(askedEarly).traceparent, /-01$/);
  for (let i = 0; i < 6; i++) withSpan(() => i, { name: `turn-${i}` });
  assert.equal(getStats().queued, 6, 'three quarters of the queue wait');
  await withSpan(async (root) => {
    assert.equal(root.isRecording, false);
    assert.match(getTraceHeaders().traceparent, /-00$/);
    await withSpan(async (step) => {
      await null;
      assert.equal(step.isRecording, false);
      assert.match(getTraceHeaders().traceparent, /-00$/, 'a step of a shed trace says so too');
    }, { name: 'step' });
  }, { name: 'shed' });
  // Traces under way when the queue filled are kept, whenever they are first asked.
  for (const s of [askedEarly, askedLate]) {
    assert.equal(s.isRecording, true, s.name);
    assert.match(getTraceHeaders(s).traceparent, /-01$/, s.name);
    s.end();
  }
  const st = getStats();
  assert.equal(st.dropped.queueFull, 2, 'the shed trace, whole');
  assert.equal(st.queued, 8);
  init({ enabled: false });
});
