// The built npm package in workerd (Miniflare): the workerd entry loads the wasm as a compiled
// module, and traces nested sync calls, async calls across awaits, concurrent flows, generators,
// exceptions, updateCurrentTrace and misuse, in three set-ups: no compatibility flags (no
// AsyncLocalStorage: the package falls back to V8 async stack frames, and the explicit parent
// handle), nodejs_compat (the package finds AsyncLocalStorage itself) and nodejs_als (passed as
// init({ asyncLocalStorage })); and instrumentWorker(). A fixture Worker runs one scenario per
// request and exports OTLP JSON straight to a local collector on 127.0.0.1: workerd's own fetch
// reaches it (no outboundService is configured; the first test proves the requests arrive).
import assert from 'node:assert/strict';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workerMiniflare } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { byTrace, shape, startCollector } from '../node/helpers/collector.mjs';
import { waitFor } from '../node/helpers/util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');

let col;
const instances = [];

function miniflare(script, compatibilityFlags = [], bindings = undefined) {
  const mf = workerMiniflare(join(fixtures, script), { bindings, compatibilityFlags });
  instances.push(mf);
  return mf;
}

before(async () => {
  col = await startCollector();
});
after(async () => {
  await Promise.allSettled(instances.map((mf) => mf.dispose()));
  await col?.close();
});

/** Runs one scenario in `mf`; returns the Worker's JSON answer and the spans the collector got. */
async function run(mf, scenario, query = '') {
  col.requests.length = 0;
  const res = await mf.dispatchFetch(`http://worker.test/${scenario}${query}`, { headers: { 'x-collector': col.url } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.error, null, `the scenario threw: ${JSON.stringify(body.error)}`);
  return { body, spans: col.spans() };
}

/** Every span of a request was exported, none dropped, and the export did not fail. */
function assertAllExported(body, n) {
  assert.equal(body.stats.started, n, 'started');
  assert.equal(body.stats.ended, n, 'ended');
  assert.equal(body.stats.exported, n, 'exported');
  assert.equal(body.stats.queued, 0, 'queued');
  assert.equal(body.stats.open, 0, 'open');
  assert.equal(body.stats.dropped.total, 0, 'dropped');
  assert.equal(body.stats.lastExportError, null);
}

const ASYNC_HANDLE_SHAPE = [['top', [['mid', [['leaf', []], ['leaf', []], ['manual', []], ['wrap', [['double', []]]]]]]]];
const NO_ALS_WARNING = /no AsyncLocalStorage in this Worker/;

/** Five flows of `perFlow` spans, each step a child of its own flow's root (by the inputs). */
function assertFlows(spans, perFlow) {
  assert.equal(spans.length, 5 * perFlow);
  const traces = byTrace(spans);
  assert.equal(traces.size, 5);
  const flowIds = new Set();
  for (const [, ts] of traces) {
    assert.equal(ts.length, perFlow);
    const roots = ts.filter((s) => !s.parentSpanId);
    assert.equal(roots.length, 1, 'one root per flow');
    const [root] = roots;
    assert.equal(root.name, 'flow');
    const flowId = JSON.parse(root.attributes['mlflow.spanInputs']).id;
    flowIds.add(flowId);
    for (const s of ts.filter((x) => x !== root)) {
      assert.equal(s.name, 'step');
      assert.equal(s.parentSpanId, root.spanId);
      assert.equal(JSON.parse(s.attributes['mlflow.spanInputs']).flow, flowId, 'a step landed in another flow');
    }
  }
  assert.equal(flowIds.size, 5);
}

/** The tests every set-up must pass for async nesting without handles. */
function asyncNestingTests(getMf) {
  test('nested async calls stay nested across several awaits without a handle (trace() only)', async () => {
    const { body, spans } = await run(getMf(), 'asyncAuto');
    assert.equal(body.result, 4);
    assert.equal(spans.length, 4);
    assert.deepEqual(shape(spans), [['top', [['mid', [['leaf', []], ['leaf', []]]]]]]);
    const leaves = spans.filter((s) => s.name === 'leaf').map((s) => s.attributes['mlflow.spanInputs']).sort();
    assert.deepEqual(leaves, ['{"n":1}', '{"n":2}']);
    assertAllExported(body, 4);
  });

  test('five concurrent interleaved flows without handles each produce exactly their own tree', async () => {
    const { body, spans } = await run(getMf(), 'concurrentAuto');
    assert.deepEqual(body.result[2], ['f2.0', 'f2.1', 'f2.2']);
    assertFlows(spans, 6);
  });

  test('nested async calls across awaits with an explicit parent handle', async () => {
    const { body, spans } = await run(getMf(), 'asyncHandle');
    assert.equal(body.result, 8);
    assert.deepEqual(shape(spans), ASYNC_HANDLE_SHAPE);
  });
}

describe('workerd, no compatibility flags (no AsyncLocalStorage)', () => {
  let mf;
  before(() => {
    mf = miniflare('worker.js');
  });

  test('the Worker exports to the collector on 127.0.0.1 with a plain fetch (no outboundService)', async () => {
    const { body } = await run(mf, 'sync');
    assert.equal(col.requests.length, 1, 'one export request reached the collector');
    const req = col.requests[0];
    assert.equal(req.status, 200);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.ok(req.json?.resourceSpans?.length, 'an OTLP JSON body');
    assert.equal(body.stats.requests, 1);
    assert.equal(body.stats.failedRequests, 0);
  });

  test('a collector that is down: flush() gives up well within the 30 s ctx.waitUntil allows, and says so', async () => {
    // The first request hangs (the Workers default timeout, 4 s, ends it: 10 s elsewhere), the
    // next three are refused. Four attempts in all (nine elsewhere), 0.5, 1 and 2 s of backoff at
    // most between them (up to 30 s elsewhere).
    col.requests.length = 0;
    col.hangNext(1);
    col.failNext(10, 503);
    try {
      const res = await mf.dispatchFetch('http://worker.test/default-retries', { headers: { 'x-collector': col.url } });
      const body = await res.json();
      assert.equal(col.requests.length, 3, 'three refused attempts after the one that hung');
      assert.ok(body.flushMs >= 3900 && body.flushMs < 9000, `flush() took ${body.flushMs} ms`);
      assert.equal(body.stats.failedRequests, 1);
      assert.equal(body.stats.dropped.exportFailed, 1);
      assert.equal(body.stats.exported, 0);
      assert.ok(body.warnings.some((w) => w.includes(`dropped a batch of 1 spans after 4 attempts (${col.url}/v1/traces: HTTP 503`)), JSON.stringify(body.warnings));
    } finally {
      col.clearPlan();
    }
  });

  test('the package says it has no AsyncLocalStorage here', async () => {
    await run(mf, 'sync'); // the package looks for it at the first init() of the isolate
    const res = await mf.dispatchFetch('http://worker.test/warnings');
    const warnings = await res.json();
    assert.equal(warnings.filter((w) => NO_ALS_WARNING.test(w)).length, 1, JSON.stringify(warnings));
  });

  test('nested sync calls form one tree with inputs named by parameter and outputs', async () => {
    const { body, spans } = await run(mf, 'sync');
    assert.equal(body.result, 20);
    assert.equal(spans.length, 3);
    assert.deepEqual(shape(spans), [['calc', [['add', []], ['add', []]]]]);
    const root = spans.find((s) => s.name === 'calc');
    assert.equal(`tr-${root.traceId}`, body.lastTraceId);
    assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
    assert.equal(root.attributes['mlflow.spanInputs'], '{"x":3}');
    assert.equal(root.attributes['mlflow.spanOutputs'], 20, 'a number: a typed value, not JSON text');
    const adds = spans.filter((s) => s.name === 'add').map((s) => s.attributes['mlflow.spanInputs']).sort();
    assert.deepEqual(adds, ['{"a":3,"b":1}', '{"a":3,"b":2}']);
    assert.equal(root.resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'workerd-test');
    assert.match(root.traceId, /^[0-9a-f]{32}$/);
    assert.match(root.spanId, /^[0-9a-f]{16}$/);
    assertAllExported(body, 3);
  });

  test('explicit parent handles: withSpan({parent}), startSpan({parent}), sync nesting after an await', async () => {
    const { body, spans } = await run(mf, 'asyncHandle');
    assert.equal(body.result, 8);
    assert.equal(spans.length, 7);
    assert.equal(byTrace(spans).size, 1, 'one trace');
    assert.deepEqual(shape(spans), ASYNC_HANDLE_SHAPE);
    const leaves = spans.filter((s) => s.name === 'leaf').map((s) => [s.attributes['mlflow.spanInputs'], s.attributes['mlflow.spanOutputs']]).sort();
    assert.deepEqual(leaves, [['{"n":1}', 2], ['{"n":2}', 4]]);
    assert.equal(spans.find((s) => s.name === 'leaf').attributes['mlflow.spanType'], 'TOOL');
    assert.equal(spans.find((s) => s.name === 'manual').attributes['mlflow.spanOutputs'], '"done"');
    assert.equal(spans.find((s) => s.name === 'double').attributes['mlflow.spanInputs'], '{"n":4}');
    assert.equal(spans.find((s) => s.name === 'top').attributes['mlflow.spanOutputs'], 8);
    assertAllExported(body, 7);
  });

  asyncNestingTests(() => mf);

  test('documented limit without AsyncLocalStorage: a span started in a timer callback without a handle is its own root', async () => {
    const { body, spans } = await run(mf, 'detached');
    const outerTid = body.result;
    assert.equal(spans.length, 3);
    const detached = spans.find((s) => s.name === 'detached');
    assert.equal(detached.parentSpanId, undefined, 'a detached timer starts its own trace');
    assert.notEqual(detached.traceId, outerTid);
    assert.deepEqual(shape(spans.filter((s) => s.traceId === outerTid)), [['outer', [['with-handle', []]]]]);
  });

  test('five concurrent flows with explicit handles in one request each produce exactly their own tree', async () => {
    const { body, spans } = await run(mf, 'concurrent');
    assert.equal(body.result.length, 5);
    assert.deepEqual(body.result[3], ['f3.0', 'f3.1', 'f3.2']);
    assertFlows(spans, 6);
    assertAllExported(body, 30);
  });

  test('five concurrent requests in one isolate each produce exactly their own tree', async () => {
    col.requests.length = 0;
    const ids = ['r0', 'r1', 'r2', 'r3', 'r4'];
    const bodies = await Promise.all(
      ids.map(async (id) => {
        const res = await mf.dispatchFetch(`http://worker.test/oneFlow?id=${id}`, { headers: { 'x-collector': col.url } });
        assert.equal(res.status, 200);
        return res.json();
      }),
    );
    bodies.forEach((b, i) => {
      assert.equal(b.error, null);
      assert.deepEqual(b.result, [0, 1, 2].map((j) => `${ids[i]}.${j}`));
    });
    // Every request awaited flush(); whichever request sent them, all 20 spans are there once.
    const spans = col.spans();
    assert.equal(spans.length, 20);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, 20, 'no span sent twice');
    const traces = byTrace(spans);
    assert.equal(traces.size, 5);
    for (const [, ts] of traces) {
      assert.deepEqual(shape(ts), [['flow', [['step', []], ['step', []], ['step', []]]]]);
      const root = ts.find((s) => !s.parentSpanId);
      const id = JSON.parse(root.attributes['mlflow.spanInputs']).id;
      for (const s of ts.filter((x) => x !== root)) assert.equal(JSON.parse(s.attributes['mlflow.spanInputs']).flow, id);
    }
  });

  test('generators: the span ends when the generator finishes and records what it yielded', async () => {
    const { body, spans } = await run(mf, 'generators');
    assert.deepEqual(body.result, { sync: [0, 1, 2], streamed: ['a', 'b'] });
    assert.equal(spans.length, 2);
    const count = spans.find((s) => s.name === 'count');
    assert.equal(count.attributes['mlflow.spanOutputs'], '[0,1,2]');
    assert.equal(count.attributes['mlflow.spanInputs'], '{"n":3}');
    const st = spans.find((s) => s.name === 'stream');
    assert.equal(st.attributes['mlflow.spanOutputs'], '["a","b"]');
    assert.equal(st.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assertAllExported(body, 2);
  });

  test('an exception sets ERROR, is recorded as an event, and is re-thrown unchanged', async () => {
    const { body, spans } = await run(mf, 'exceptions');
    assert.deepEqual(body.result, { asyncThrew: true, asyncSame: true, syncThrew: true, syncSame: true });
    assert.equal(spans.length, 2);
    for (const name of ['fails', 'failsSync']) {
      const s = spans.find((x) => x.name === name);
      assert.equal(s.status.code, 2, `${name} status`);
      assert.match(s.status.message, /boom/);
      const ev = s.events.filter((e) => e.name === 'exception');
      assert.equal(ev.length, 1, 'one exception event');
      const attrs = Object.fromEntries(ev[0].attributes.map((a) => [a.key, a.value.stringValue]));
      assert.equal(attrs['exception.message'], 'boom');
      assert.equal(attrs['exception.type'], 'MyError', 'its class (its name is still Error)');
      assert.match(attrs['exception.stacktrace'], /fixtures\/worker\.js/);
    }
  });

  test('updateCurrentTrace writes tags, session and user onto the root only (before and after an await)', async () => {
    const { spans } = await run(mf, 'updateTrace');
    assert.equal(spans.length, 4);
    const by = Object.fromEntries(spans.map((s) => [s.name, s]));
    assert.deepEqual(shape(spans), [['outer', [['inner', []]]], ['outer2', [['inner2', []]]]]);
    assert.equal(by.outer.attributes['mlflow.traceTag.env'], 'test');
    assert.equal(by.outer.attributes['session.id'], 's-1');
    assert.equal(by.outer.attributes['user.id'], 'u-1');
    assert.equal(by.outer2.attributes['mlflow.traceTag.late'], 'yes');
    assert.equal(by.outer2.attributes['session.id'], 's-2');
    assert.equal(by.outer2.attributes['user.id'], 'u-2');
    assert.equal(by.outer2.attributes['mlflow.traceTag.env'], undefined, 'tags stay on their own trace');
    for (const inner of [by.inner, by.inner2]) {
      assert.equal(inner.attributes['session.id'], undefined);
      assert.equal(inner.attributes['user.id'], undefined);
      assert.equal(inner.attributes['mlflow.traceTag.env'], undefined);
    }
  });

  test('misuse never throws: ended twice, foreign or ended parent, odd inputs, calls after end', async () => {
    const { body, spans } = await run(mf, 'misuse');
    assert.deepEqual(body.result.headers, {}, 'an ended span gives no traceparent');
    assert.equal(body.result.active, 'none');
    const m = spans.find((x) => x.name === 'm');
    assert.deepEqual(JSON.parse(m.attributes['mlflow.spanInputs']), {
      cyc: { a: 1, self: '[Circular]' }, big: '12', fn: '[Function fn]', sym: 'Symbol(x)', m: { k: 1 },
    });
    assert.equal(m.attributes.x, undefined, 'an attribute set after end is ignored');
    assert.equal(m.attributes['mlflow.spanOutputs'], undefined, 'outputs set after end are ignored');
    assert.ok(!spans.find((x) => x.name === 'orphan').parentSpanId);
    // A child of an ended span continues its trace under it (work the span left running).
    const endedParent = spans.find((x) => x.name === 'ended-parent');
    const late = spans.find((x) => x.name === 'after-ended-parent');
    assert.equal(late.parentSpanId, endedParent.spanId);
    assert.equal(late.traceId, endedParent.traceId);
    assert.equal(spans.length, 4);
    const w = body.warnings.join('\n');
    assert.match(w, /ended twice/);
    assert.match(w, /not an edgetrace Span/);
    assert.match(w, /outside any span/);
    assert.doesNotMatch(w, /had already ended/);
  });

  test('ctx.waitUntil(flush()) delivers the spans after the response', async () => {
    col.requests.length = 0;
    const res = await mf.dispatchFetch('http://worker.test/wait-until?n=3', { headers: { 'x-collector': col.url } });
    const body = await res.json();
    assert.equal(body.result, 3);
    assert.equal(body.queuedBeforeFlush, 3, 'nothing was sent before flush()');
    await waitFor(() => col.spans().length >= 3, { timeoutMs: 10_000, intervalMs: 20, what: 'the waitUntil export' });
    await new Promise((r) => setTimeout(r, 100)); // nothing more should come
    const spans = col.spans();
    assert.equal(spans.length, 3);
    assert.deepEqual(shape(spans), [['wu-root', [['wu0', []], ['wu1', []]]]]);
  });
});

/** With AsyncLocalStorage the active span also reaches a timer started inside it. */
function alsTests(getMf) {
  asyncNestingTests(getMf);

  test('AsyncLocalStorage is in use: a span started in a timer callback without a handle nests', async () => {
    const { body, spans } = await run(getMf(), 'detached');
    assert.equal(spans.length, 3);
    assert.equal(byTrace(spans).size, 1, JSON.stringify(spans.map((s) => [s.name, s.parentSpanId])));
    assert.equal(spans[0].traceId, body.result);
    assert.deepEqual(shape(spans), [['outer', [['detached', []], ['with-handle', []]]]]);
  });

  test('the package gave no "no AsyncLocalStorage" warning in this isolate', async () => {
    await run(getMf(), 'sync');
    const res = await getMf().dispatchFetch('http://worker.test/warnings');
    const warnings = await res.json();
    assert.equal(warnings.filter((w) => NO_ALS_WARNING.test(w)).length, 0, JSON.stringify(warnings));
  });
}

describe('workerd with nodejs_compat (the package finds AsyncLocalStorage itself)', () => {
  let mf;
  before(() => {
    mf = miniflare('worker.js', ['nodejs_compat']);
  });
  alsTests(() => mf);
});

describe('workerd with only nodejs_als (AsyncLocalStorage passed as init({ asyncLocalStorage }))', () => {
  let mf;
  before(() => {
    mf = miniflare('worker_als.js', ['nodejs_als']);
  });

  test('the runtime offers AsyncLocalStorage and it keeps its store across an await', async () => {
    const res = await mf.dispatchFetch('http://worker.test/als-available');
    assert.deepEqual(await res.json(), { available: true, keepsStoreAcrossAwait: true });
  });

  alsTests(() => mf);
});

/**
 * Reads the first chunk of `url`'s response over a real connection to workerd, then closes it, as
 * a client that hangs up (Miniflare's dispatchFetch would buffer the body, and cancelling its
 * reader does not close workerd's connection). Resolves with that chunk's text.
 */
function firstChunkThenHangUp(url) {
  return firstChunkThenHangUpWith(url, {});
}

function firstChunkThenHangUpWith(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      res.once('data', (chunk) => {
        req.destroy();
        resolve(String(chunk));
      });
    });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

describe('instrumentWorker(): a root span per request, configured from an env binding', () => {
  let mf;
  before(() => {
    mf = miniflare('worker_instrumented.js', [], { COLLECTOR: col.url });
  });

  test('the request span continues traceparent, nests the handler spans across awaits, records the status', async () => {
    col.requests.length = 0;
    const parentTrace = '0af7651916cd43dd8448eb211c80319c';
    const parentSpan = 'b7ad6b7169203331';
    const res = await mf.dispatchFetch('http://worker.test/chat?q=hi', { headers: { traceparent: `00-${parentTrace}-${parentSpan}-01` } });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.answer, 'answer to hi from 1 doc(s)');
    assert.equal(body.traceId, parentTrace);
    assert.equal(body.activeIsRequestSpan, true, 'after awaits, the active span is the request span');
    await waitFor(() => col.spans().length >= 3, { timeoutMs: 10_000, intervalMs: 20, what: 'the request trace' });
    await new Promise((r) => setTimeout(r, 100));
    const spans = col.spans();
    assert.equal(spans.length, 3);
    const root = spans.find((s) => s.name === 'GET /chat');
    assert.ok(root, spans.map((s) => s.name).join());
    assert.equal(root.traceId, parentTrace);
    assert.equal(root.parentSpanId, parentSpan);
    assert.equal(root.spanId, body.spanId);
    assert.equal(root.attributes['http.request.method'], 'GET');
    assert.equal(root.attributes['url.path'], '/chat');
    assert.equal(root.attributes['http.response.status_code'], 200);
    // MLflow shows these as the trace's request and response: the query (which may carry keys) is
    // left out.
    assert.equal(root.attributes['mlflow.spanInputs'], '{"method":"GET","path":"/chat"}');
    assert.equal(root.attributes['mlflow.spanOutputs'], '{"status":200}');
    assert.equal(root.attributes['edgetrace.stream'], 'completed');
    assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
    assert.equal(root.attributes['session.id'], 'sess-w');
    assert.equal(root.attributes['user.id'], 'user-w');
    assert.equal(root.status.code, 1);
    for (const s of spans.filter((x) => x !== root)) {
      assert.equal(s.traceId, parentTrace);
      assert.equal(s.parentSpanId, root.spanId, `${s.name} is a child of the request span`);
    }
    assert.equal(spans.find((s) => s.name === 'retrieve').attributes['mlflow.spanType'], 'RETRIEVER');
    assert.equal(spans.find((s) => s.name === 'chat').attributes['mlflow.spanInputs'], '{"query":"hi","docs":["doc about hi"]}');
    assert.equal(root.resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'instrumented-worker');
  });

  test('a streamed response: the request span ends when the stream ends, then it is exported', async () => {
    col.requests.length = 0;
    const res = await mf.dispatchFetch('http://worker.test/stream');
    const reader = res.body.getReader();
    // The handler returns at once; the body takes ~150 ms to produce (Miniflare may buffer it
    // before handing it over, so the span's own timing is what proves when it ended).
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.equal(text, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
    await waitFor(() => col.spans().some((s) => s.name === 'GET /stream'), { timeoutMs: 10_000, intervalMs: 20, what: 'the stream span' });
    const span = col.spans().find((s) => s.name === 'GET /stream');
    assert.equal(span.attributes['edgetrace.stream'], 'completed');
    const durationMs = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
    assert.ok(durationMs >= 120, `the span lasted ${durationMs} ms, as long as the stream (not until the handler returned)`);
  });

  test('a client that hangs up in the middle of a streamed response: the request span ends as cancelled, then it is exported', async () => {
    col.requests.length = 0;
    const first = await firstChunkThenHangUp(new URL('/long-stream', await mf.ready));
    assert.match(first, /^chunk 0\n/);
    await waitFor(() => col.spans().some((s) => s.name === 'GET /long-stream'), { timeoutMs: 10_000, intervalMs: 20, what: 'the request span' });
    const span = col.spans().find((s) => s.name === 'GET /long-stream');
    assert.equal(span.attributes['edgetrace.stream'], 'cancelled');
    const durationMs = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
    assert.ok(durationMs < 1500, `the span ended when the client left (${durationMs} ms), not when the 2 s stream would have`);
  });

  test('a client that hangs up while a call inside the request still streams: the call span ends too, and is exported', async () => {
    // The request span ends when the client leaves; the call ends only at its stream's next chunk.
    // The last flush went at once, and once it settled workerd stopped the request's I/O: the
    // call's span stayed open and was never exported (as an OpenAI SDK stream did, found by a
    // Workers developer review).
    col.requests.length = 0;
    const first = await firstChunkThenHangUp(new URL('/inner-stream', await mf.ready));
    assert.match(first, /^chunk 0\n/);
    await waitFor(() => col.spans().some((s) => s.name === 'upstream call'), { timeoutMs: 10_000, intervalMs: 20, what: 'the call span' });
    const spans = col.spans();
    const request = spans.find((s) => s.name === 'GET /inner-stream');
    const call = spans.find((s) => s.name === 'upstream call');
    assert.ok(request, 'the request span');
    assert.equal(request.attributes['edgetrace.stream'], 'cancelled');
    assert.equal(call.parentSpanId, request.spanId);
    assert.equal(call.traceId, request.traceId);
  });

  test("a client that hangs up on a model's stream handed straight to it: both spans end, cancelled, and are exported", async () => {
    // Found by a Workers AI review (s50a): workerd neither cancels nor fails a body that pipes a
    // model's stream when the client leaves; it only stops reading it, so nothing ended and the
    // trace was lost (10 of 13 hang-ups). The request's body now ends when its reader stops
    // asking for more with a chunk waiting (STALL_MS), as when the request's signal aborts.
    const llm = await startMockLlm();
    try {
      for (let i = 0; i < 2; i++) {
        col.requests.length = 0;
        const first = await firstChunkThenHangUpWith(new URL('/model-pipe', await mf.ready), { 'x-llm': llm.url });
        assert.match(first, /^data: /);
        await waitFor(() => col.spans().some((s) => s.name === 'GET /model-pipe') && col.spans().some((s) => s.name === 'chat gpt-4o-mini'), { timeoutMs: 15_000, intervalMs: 20, what: `both spans (hang-up ${i + 1})` });
        const spans = col.spans();
        const request = spans.find((s) => s.name === 'GET /model-pipe');
        const call = spans.find((s) => s.name === 'chat gpt-4o-mini');
        assert.equal(request.attributes['edgetrace.stream'], 'cancelled');
        assert.equal(call.attributes['edgetrace.llm.stream_end'], 'cancelled');
        assert.equal(call.parentSpanId, request.spanId);
        const ms = Number(BigInt(request.endTimeUnixNano) - BigInt(request.startTimeUnixNano)) / 1e6;
        assert.ok(ms < 2900, `the request span ended ${ms} ms after it began, not with the 3 s stream`);
      }
    } finally {
      await llm.close();
    }
  });

  test('a streamed model call the app stopped reading ends with its request, as cancelled with what was read, and is exported', async () => {
    // Found by a Workers developer review (s49a): after a `break` out of the AWS SDK's ConverseStream,
    // the model span stayed open, workerd stopped the request's I/O after its last flush, and the
    // span never reached MLflow. The request's last flush now ends such a stream first.
    const llm = await startMockLlm();
    try {
      col.requests.length = 0;
      const res = await mf.dispatchFetch('http://worker.test/model-break', { headers: { 'x-llm': llm.url } });
      const read = await res.text();
      assert.match(read, /^data: /);
      await waitFor(() => col.spans().some((s) => s.name === 'chat gpt-4o-mini'), { timeoutMs: 10_000, intervalMs: 20, what: 'the model call span' });
      const spans = col.spans();
      const request = spans.find((s) => s.name === 'GET /model-break');
      const call = spans.find((s) => s.name === 'chat gpt-4o-mini');
      assert.equal(call.parentSpanId, request.spanId);
      assert.equal(call.attributes['edgetrace.llm.stream_end'], 'cancelled');
      const out = JSON.parse(call.attributes['mlflow.spanOutputs']);
      assert.ok(out.choices[0].message.content.length > 0, 'what was read is kept');
      assert.ok(call.attributes['edgetrace.llm.chunks'] < 30, `the call ended with the request, not with its stream (${call.attributes['edgetrace.llm.chunks']} chunks)`);
      // It ends when the app last read from it (review s49c), not a second later when the request's
      // trace settled.
      const late = Number(BigInt(call.endTimeUnixNano) - BigInt(request.endTimeUnixNano)) / 1e6;
      assert.ok(late < 300, `the call span ends ${late} ms after the request, not at its settling`);
    } finally {
      await llm.close();
    }
  });

  test("work the handler hands to ctx.waitUntil: its span, ended after the request's last flush, is exported with no later request", async () => {
    // The request's last flush waits 1 s for its trace's open spans; the job's span ends after 1.5 s.
    // Before, it waited in the queue for the next request's flush (a Workers developer review).
    col.requests.length = 0;
    const res = await mf.dispatchFetch('http://worker.test/background');
    assert.equal(await res.text(), 'accepted');
    await waitFor(() => col.spans().some((s) => s.name === 'background job'), { timeoutMs: 10_000, intervalMs: 20, what: 'the background span' });
    const spans = col.spans();
    const request = spans.find((s) => s.name === 'GET /background');
    const job = spans.find((s) => s.name === 'background job');
    assert.ok(request, spans.map((s) => s.name).join());
    assert.equal(job.parentSpanId, request.spanId);
    const jobMs = Number(BigInt(job.endTimeUnixNano) - BigInt(job.startTimeUnixNano)) / 1e6;
    assert.ok(jobMs >= 1400, `the job ran ${jobMs} ms, past the request's settling`);
  });

  test('a handler that throws: the request span is ERROR with the exception, and the error reaches the runtime', async () => {
    col.requests.length = 0;
    const res = await mf.dispatchFetch('http://worker.test/boom');
    await res.arrayBuffer();
    assert.equal(res.status, 500);
    await waitFor(() => col.spans().length >= 1, { timeoutMs: 10_000, intervalMs: 20, what: 'the failed request span' });
    const spans = col.spans();
    assert.equal(spans.length, 1);
    const [s] = spans;
    assert.equal(s.name, 'GET /boom');
    assert.equal(s.parentSpanId, undefined);
    assert.equal(s.status.code, 2);
    const ev = s.events.find((e) => e.name === 'exception');
    const attrs = Object.fromEntries(ev.attributes.map((a) => [a.key, a.value.stringValue]));
    assert.equal(attrs['exception.message'], 'handler failed');
  });
});

describe('instrumentWorker(): scheduled and queue handlers, in a Worker no request has reached (nodejs_compat)', () => {
  let mf;
  before(() => {
    mf = miniflare('worker_instrumented.js', ['nodejs_compat'], { COLLECTOR: col.url });
  });

  test('a cron run is a root span with its children, configured from env and exported without any request', async () => {
    // Before, only fetch was wrapped: init ran on the first request, so a cron-only Worker
    // exported nothing, and no run had a span of its own.
    col.requests.length = 0;
    const worker = await mf.getWorker();
    const result = await worker.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date(1_700_000_000_000) });
    assert.equal(result.outcome, 'ok');
    await waitFor(() => col.spans().length >= 3, { timeoutMs: 10_000, intervalMs: 20, what: 'the cron trace' });
    const spans = col.spans();
    const root = spans.find((s) => s.name === 'scheduled */5 * * * *');
    assert.ok(root, spans.map((s) => s.name).join());
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.attributes['mlflow.spanInputs'], '{"cron":"*/5 * * * *","scheduledTime":1700000000000}');
    const child = (query) => spans.find((s) => s.name === 'retrieve' && s.attributes['mlflow.spanInputs'] === JSON.stringify({ query }));
    assert.equal(child('cron */5 * * * *').parentSpanId, root.spanId);
    // Started in ctx.waitUntil after the run's root span ended: in its trace, under it.
    const late = child('in the background');
    assert.ok(late, spans.map((s) => s.attributes['mlflow.spanInputs']).join());
    assert.equal(late.parentSpanId, root.spanId);
    assert.equal(late.traceId, root.traceId);
  });

  test('a queue batch is a root span with a child per message', async () => {
    col.requests.length = 0;
    const worker = await mf.getWorker();
    const messages = ['a', 'b'].map((body, i) => ({ id: `m${i}`, timestamp: new Date(), body, attempts: 1 }));
    const result = await worker.queue('jobs', messages);
    assert.equal(result.outcome, 'ok');
    await waitFor(() => col.spans().length >= 3, { timeoutMs: 10_000, intervalMs: 20, what: 'the queue trace' });
    const spans = col.spans();
    const root = spans.find((s) => s.name === 'queue jobs');
    assert.ok(root, spans.map((s) => s.name).join());
    assert.equal(root.attributes['mlflow.spanInputs'], '{"queue":"jobs","messages":2}');
    const children = spans.filter((s) => s.name === 'retrieve');
    assert.deepEqual(children.map((s) => s.attributes['mlflow.spanInputs']).sort(), ['{"query":"a"}', '{"query":"b"}']);
    for (const c of children) assert.equal(c.parentSpanId, root.spanId);
  });
});
