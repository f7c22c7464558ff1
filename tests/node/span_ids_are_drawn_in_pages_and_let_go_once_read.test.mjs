// Span and trace ids are drawn here, in pages of random words (Recorder.draw): a span keeps where
// its ids are, not the ids as numbers, and reads them only when asked. Across many pages every id
// must still be distinct, not zero, and the one the core exported; a span lets go of its page
// once its ids are read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flush, init, withSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
  init({ endpoint: col.url, format: 'json', serviceName: 'ids', logger: { warn() {} } });
});
after(() => col.close());

test('ids from many pages are distinct, never zero, and the ones exported', async () => {
  const spans = [];
  const traces = 600; // 600 roots and 1200 children: 7,200 words, several pages
  for (let i = 0; i < traces; i++) {
    withSpan((root) => {
      spans.push({ span: root, root: true });
      for (let c = 0; c < 2; c++) withSpan((child) => spans.push({ span: child, root: false, parent: root }), { name: 'child' });
    }, { name: 'root' });
  }
  // Before their ids are read, spans hold pages; a page is shared by the spans drawn from it.
  const pages = new Set(spans.map((s) => s.span._ids));
  assert.ok(pages.size >= 5 && !pages.has(null), `${pages.size} pages held`);
  await flush();
  const exported = new Map(col.spans().map((s) => [s.spanId, s]));
  assert.equal(exported.size, spans.length, 'every span exported once, under its own id');
  const traceIds = new Set();
  for (const { span, root, parent } of spans) {
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(span.spanId, '0'.repeat(16));
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(span.traceId, '0'.repeat(32));
    const got = exported.get(span.spanId);
    assert.ok(got, `span ${span.spanId} was exported under the id JS reports`);
    assert.equal(got.traceId, span.traceId, 'with the trace id JS reports');
    if (root) traceIds.add(span.traceId);
    else {
      assert.equal(span.traceId, parent.traceId, 'a child is in its root\'s trace');
      assert.equal(got.parentSpanId, parent.spanId);
    }
    // Its ids read (a root's both), the span holds no page.
    assert.equal(span._ids, null);
  }
  assert.equal(traceIds.size, traces, 'every trace id distinct');
});

test('a root reading only its trace id keeps its page until its span id is read too', () => {
  // (A callback that returned its span would have it recorded as outputs, its ids read.)
  let root;
  withSpan((s) => {
    root = s;
  }, { name: 'root' });
  assert.ok(root._ids instanceof Uint32Array, 'nothing read yet');
  assert.ok(root.traceId);
  assert.ok(root._ids instanceof Uint32Array, 'its span id is still to be read from the page');
  assert.ok(root.spanId);
  assert.equal(root._ids, null);
  let child;
  withSpan(() => withSpan((s) => {
    child = s;
  }, { name: 'child' }), { name: 'root' });
  assert.ok(child.spanId);
  assert.equal(child._ids, null, 'a child reads only its span id from its page');
});
