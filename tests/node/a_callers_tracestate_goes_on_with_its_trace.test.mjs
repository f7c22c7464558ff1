// W3C Trace Context: a service that continues its caller's trace passes the caller's `tracestate`
// on with it. instrumentWorker continues an incoming `traceparent`; getTraceHeaders() inside it
// gives the caller's `tracestate` beside the new `traceparent`, and none for a trace that starts
// here (no or an invalid `traceparent`), nor one longer than the 512 characters W3C has services
// propagate.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flush, getTraceHeaders, init, instrumentWorker, withSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
});
after(() => col?.close());

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = `00-${TRACE}-00f067aa0ba902b7-01`;
// The handler calls a service inside a span of its own: what it would send there.
const worker = instrumentWorker({
  fetch: () => withSpan(() => Response.json(getTraceHeaders()), { name: 'call a service' }),
});
const headersFor = async (headers) => (await worker.fetch(new Request('http://app.test/ask', { headers }), {}, undefined)).json();

test("the caller's tracestate goes on with the caller's trace", async () => {
  const got = await headersFor({ traceparent: PARENT, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
  assert.match(got.traceparent, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`), 'the trace goes on');
  assert.notEqual(got.traceparent, PARENT, 'under a span of this service');
  assert.equal(got.tracestate, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
  // Sent twice, the header is one list, in order (as fetch's Headers joins it).
  const twice = new Headers([['traceparent', PARENT], ['tracestate', 'a=1'], ['tracestate', 'b=2']]);
  assert.equal((await headersFor(twice)).tracestate, 'a=1, b=2');
  await flush();
  assert.ok(col.spans().some((s) => s.traceId === TRACE), 'the continued trace is exported');
});

test('a trace that starts here carries no tracestate', async () => {
  for (const headers of [{ tracestate: 'congo=t61rcWkgMzE' }, { traceparent: 'not-a-traceparent', tracestate: 'congo=t61rcWkgMzE' }]) {
    const got = await headersFor(headers);
    assert.ok(got.traceparent && !got.traceparent.includes(TRACE), JSON.stringify(got));
    assert.equal(got.tracestate, undefined, JSON.stringify(headers));
  }
  // Nor with no incoming headers at all, nor outside a request.
  assert.equal((await headersFor({})).tracestate, undefined);
  assert.deepEqual(Object.keys(withSpan(() => getTraceHeaders(), { name: 'alone' })), ['traceparent']);
});

test('a tracestate longer than 512 characters is not passed on', async () => {
  const long = Array.from({ length: 32 }, (_, i) => `vendor${i}=${'x'.repeat(12)}`).join(',');
  assert.ok(long.length > 512);
  const got = await headersFor({ traceparent: PARENT, tracestate: long });
  assert.match(got.traceparent, new RegExp(`^00-${TRACE}-`));
  assert.equal(got.tracestate, undefined);
});
