// The built npm package in headless Chromium: a page imports /pkg/browser.js as plain ESM
// (<script type="module">, the wasm inlined), runs the scenarios of the Node test and exports
// OTLP JSON to a local collector on another origin (CORS preflight for application/json). Browsers
// have no AsyncLocalStorage: sync nesting is automatic, the explicit parent handle always works,
// and the package finds the parent after an await from V8's async stack frames; spans started in
// timer or .then() callbacks without a handle start their own traces (the documented limit).
// Also: a page that ends spans and navigates away at once still delivers them (pagehide flush with
// keepalive). Everything listens on 127.0.0.1.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchChromium, startStaticServer } from './helpers.mjs';
import { byTrace, shape, startCollector } from '../node/helpers/collector.mjs';
import { freePort, waitFor } from '../node/helpers/util.mjs';



let col;
let site;
let browser;
let page;
const pageErrors = [];
const consoleErrors = [];

before(async () => {
  col = await startCollector();
  site = await startStaticServer();
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.goto(`${site.url}/index.html`);
  await page.waitForFunction(() => window.scenariosReady === true, null, { timeout: 15_000 });
});

after(async () => {
  await browser?.close();
  await site?.close();
  await col?.close();
});

/** Runs one scenario in the page; returns its answer and the spans the collector got. */
async function run(name) {
  col.requests.length = 0;
  const body = await page.evaluate(([n, url]) => window.runScenario(n, url), [name, col.url]);
  assert.equal(body.error, null, `the scenario threw: ${JSON.stringify(body.error)}`);
  return { body, spans: col.spans() };
}

/** Every span of a run was exported, none dropped, and the export did not fail. */
function assertAllExported(body, n) {
  assert.equal(body.stats.started, n, 'started');
  assert.equal(body.stats.ended, n, 'ended');
  assert.equal(body.stats.exported, n, 'exported');
  assert.equal(body.stats.queued, 0, 'queued');
  assert.equal(body.stats.open, 0, 'open');
  assert.equal(body.stats.dropped.total, 0, 'dropped');
  assert.equal(body.stats.lastExportError, null);
}

/** Five flows of six spans, each step a child of its own flow's root (by the inputs). */
function assertFlows(spans) {
  assert.equal(spans.length, 30);
  const traces = byTrace(spans);
  assert.equal(traces.size, 5);
  const flowIds = new Set();
  for (const [, ts] of traces) {
    assert.equal(ts.length, 6);
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

describe('edgetrace in headless Chromium (plain ESM, no AsyncLocalStorage)', () => {
  test('the page loaded /pkg/browser.js as ESM and exports cross-origin to the collector (CORS)', async () => {
    assert.ok(site.served.includes('/pkg/browser.js'));
    assert.ok(site.served.includes('/pkg/core/wasm-deflate.js'), 'the deflated wasm');
    assert.ok(!site.served.some((p) => p.endsWith('.wasm')), 'no separate wasm fetch');
    assert.ok(!site.served.includes('/pkg/core/wasm-deflate-json.js'), 'nothing loads the core with the OTLP/JSON encoder before init()');
    const { body } = await run('sync');
    assert.ok(site.served.includes('/pkg/core/wasm-deflate-json.js'), "init({ format: 'json' }) loaded the core with the OTLP/JSON encoder");
    assert.ok(!site.served.some((p) => p.includes('llm')), 'a page that calls no model never loads the model API parsers');
    assert.equal(col.requests.length, 1, 'one export request');
    const req = col.requests[0];
    assert.equal(req.headers.origin, site.url, 'a cross-origin request from the page');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(body.stats.requests, 1);
    assert.equal(body.stats.failedRequests, 0);
  });

  test('nested sync calls form one tree with inputs named by parameter and outputs', async () => {
    const { body, spans } = await run('sync');
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
    assert.equal(root.resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'browser-test');
    assert.match(root.traceId, /^[0-9a-f]{32}$/);
    assertAllExported(body, 3);
  });

  test('nested async calls across several awaits without a handle nest (found from V8 async stack frames)', async () => {
    const { body, spans } = await run('asyncAuto');
    assert.equal(body.result, 4);
    assert.equal(spans.length, 4);
    assert.deepEqual(shape(spans), [['top', [['mid', [['leaf', []], ['leaf', []]]]]]]);
    const leaves = spans.filter((s) => s.name === 'leaf').map((s) => s.attributes['mlflow.spanInputs']).sort();
    assert.deepEqual(leaves, ['{"n":1}', '{"n":2}']);
    assertAllExported(body, 4);
  });

  test('nested async calls across several awaits with an explicit parent handle', async () => {
    const { body, spans } = await run('asyncHandle');
    assert.equal(body.result, 8);
    assert.equal(spans.length, 7);
    assert.equal(byTrace(spans).size, 1, 'one trace');
    assert.deepEqual(shape(spans), [['top', [['mid', [['leaf', []], ['leaf', []], ['manual', []], ['wrap', [['double', []]]]]]]]]);
    assert.equal(spans.find((s) => s.name === 'manual').attributes['mlflow.spanOutputs'], '"done"');
    assert.equal(spans.find((s) => s.name === 'double').attributes['mlflow.spanInputs'], '{"n":4}');
    assertAllExported(body, 7);
  });

  test('without AsyncLocalStorage, spans started in a timer or a detached .then() without a handle are their own roots (documented limit)', async () => {
    // What Chromium's V8 links and what it does not: a .then() callback whose promise the async
    // function awaits at once is part of the awaited chain (it nests); a timer callback and a
    // .then() nobody awaits are not (they start their own traces). The handle always nests.
    const { body, spans } = await run('detached');
    const outerTid = body.result;
    assert.equal(spans.length, 6);
    for (const name of ['timer-no-handle', 'then-detached-no-handle']) {
      const s = spans.find((x) => x.name === name);
      assert.equal(s.parentSpanId, undefined, `${name} starts its own trace`);
      assert.notEqual(s.traceId, outerTid);
    }
    assert.deepEqual(shape(spans.filter((s) => s.traceId === outerTid)), [
      ['outer', [['then-awaited-no-handle', []], ['then-detached-handle', []], ['timer-handle', []]]],
    ]);
  });

  test('five concurrent interleaved flows without handles each produce exactly their own tree', async () => {
    const { body, spans } = await run('concurrentAuto');
    assert.deepEqual(body.result[4], ['f4.0', 'f4.1', 'f4.2']);
    assertFlows(spans);
    assertAllExported(body, 30);
  });

  test('five concurrent interleaved flows with explicit handles each produce exactly their own tree', async () => {
    const { body, spans } = await run('concurrentHandle');
    assert.deepEqual(body.result[0], ['f0.0', 'f0.1', 'f0.2']);
    assertFlows(spans);
    assertAllExported(body, 30);
  });

  test('generators: the span ends when the generator finishes and records what it yielded', async () => {
    const { body, spans } = await run('generators');
    assert.deepEqual(body.result, { sync: [0, 1, 2], streamed: ['a', 'b'] });
    assert.equal(spans.length, 4, spans.map((s) => s.name).join(', '));
    const count = spans.find((s) => s.name === 'count');
    assert.equal(count.attributes['mlflow.spanOutputs'], '[0,1,2]');
    assert.equal(count.attributes['mlflow.spanInputs'], '{"n":3}');
    const st = spans.find((s) => s.name === 'stream');
    assert.equal(st.attributes['mlflow.spanOutputs'], '["a","b"]');
    assert.equal(st.attributes['mlflow.spanType'], 'CHAT_MODEL');
    // Spans the async generator starts after its awaits are its children, in its trace.
    for (const w of ['a', 'b']) {
      const piece = spans.find((s) => s.name === `piece ${w}`);
      assert.deepEqual([piece.traceId, piece.parentSpanId], [st.traceId, st.spanId], `piece ${w} under stream`);
    }
    assertAllExported(body, 4);
  });

  test('an exception sets ERROR, is recorded as an event, and is re-thrown unchanged', async () => {
    const { body, spans } = await run('exceptions');
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
      assert.match(attrs['exception.stacktrace'], /\/scenarios\.js/);
    }
  });

  test('updateCurrentTrace writes tags, session and user onto the root only (before and after an await)', async () => {
    const { spans } = await run('updateTrace');
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
    }
  });

  test('misuse never throws: ended twice, foreign or ended parent, odd inputs and a DOM node, calls after end', async () => {
    const { body, spans } = await run('misuse');
    assert.deepEqual(body.result.headers, {}, 'an ended span gives no traceparent');
    assert.equal(body.result.active, 'none');
    const m = spans.find((x) => x.name === 'm');
    assert.deepEqual(JSON.parse(m.attributes['mlflow.spanInputs']), {
      cyc: { a: 1, self: '[Circular]' }, big: '12', fn: '[Function fn]', sym: 'Symbol(x)', m: { k: 1 }, el: '[Node BODY]',
    });
    assert.equal(m.attributes.x, undefined, 'an attribute set after end is ignored');
    assert.equal(m.attributes['mlflow.spanOutputs'], undefined);
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

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});

/**
 * Opens leave.html (ends n spans, then location.href = '/next.html' in the same task), waits for
 * next.html, then for the collector to stop receiving. Returns the spans and what was queued.
 */
async function leaveAndCollect(params) {
  col.requests.length = 0;
  const leaving = await browser.newPage();
  const errors = [];
  leaving.on('pageerror', (e) => errors.push(String(e)));
  try {
    const query = new URLSearchParams({ collector: col.url, ...params });
    await leaving.goto(`${site.url}/leave.html?${query}`);
    await leaving.waitForURL(`${site.url}/next.html`, { timeout: 10_000 });
    await leaving.waitForSelector('#arrived');
    const queued = Number(await leaving.evaluate(() => sessionStorage.getItem('edgetrace-queued-before-leaving')));
    const whileCompiling = await leaving.evaluate(() => sessionStorage.getItem('edgetrace-started-while-compiling'));
    await waitFor(() => col.spans().length > 0, { timeoutMs: 10_000, intervalMs: 20, what: 'spans from the page that left' });
    // Then until nothing more arrives for 500 ms.
    let last = -1;
    await waitFor(() => {
      const now = col.requests.length;
      const stable = now === last;
      last = now;
      return stable;
    }, { timeoutMs: 10_000, intervalMs: 500, what: 'the exports to stop' });
    assert.deepEqual(errors, []);
    return { queued, whileCompiling, spans: col.spans(), requests: col.requests.slice() };
  } finally {
    await leaving.close();
  }
}

// A fixture page of its own (`<name>.html`, exporting to the collector), run until it reports
// `window.result`: that result and the page's uncaught errors.
async function runFixturePage(name) {
  col.requests.length = 0;
  const p = await browser.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  try {
    await p.goto(`${site.url}/${name}.html?${new URLSearchParams({ collector: col.url })}`);
    const r = await p.waitForFunction(() => window.result, null, { timeout: 15_000 }).then((h) => h.jsonValue());
    return { r, errors };
  } finally {
    await p.close();
  }
}

test('a browser without DecompressionStream: tracing turns off with one warning and the page runs on', async () => {
  const { r, errors } = await runFixturePage('nodecompress');
  assert.equal(r.error, null, r.error);
  assert.equal(r.sum, 5, 'the traced function returned its value');
  assert.equal(r.later, 'after');
  assert.equal(r.recording, false, 'spans after the failure record nothing');
  assert.deepEqual(r.warnings, ['edgetrace: tracing is off, the wasm core failed to load: DecompressionStream is not defined']);
  assert.equal(r.stats.started, 0);
  assert.deepEqual(errors, []);
  assert.equal(col.requests.length, 0, 'nothing was sent');
});

test("a span before init({ format: 'json' }): the default core was loading already, so the export is OTLP/protobuf, with one warning, and nothing is lost", async () => {
  const { r, errors } = await runFixturePage('latejson');
  assert.equal(r.error, null, r.error);
  assert.equal(r.early, 'early');
  assert.deepEqual(r.warnings, ["edgetrace: format 'json' must be set before the first span in browsers; sending OTLP/protobuf"]);
  assert.equal(r.stats.exported, 2);
  assert.equal(r.stats.failedRequests, 0);
  assert.deepEqual(errors, []);
  assert.equal(col.requests.length, 1);
  const [req] = col.requests;
  assert.equal(req.headers['content-type'], 'application/x-protobuf', 'the body and its content type agree');
  assert.ok(req.body.includes('before-init') && req.body.includes('after-init'), 'both spans are in the protobuf body');
});

test('tracing off (enabled: false, or a configuration the core refuses): updateCurrentTrace() in a traced function says nothing', async () => {
  const { r, errors } = await runFixturePage('offquiet');
  assert.equal(r.error, null, r.error);
  assert.equal(r.disabled, 2);
  assert.equal(r.refused, 4);
  assert.deepEqual(r.whenDisabled, []);
  assert.equal(r.whenRefused.length, 1, r.whenRefused.join('\n'));
  assert.match(r.whenRefused[0], /^edgetrace: tracing is off, .*maxBatchSpans must be at least 1/);
  assert.deepEqual(errors, []);
  assert.equal(col.requests.length, 0, 'nothing was sent');
});

test('an export to a wrong endpoint is dropped with a warning that names the URL it went to', async () => {
  const refusedPort = await freePort(); // nothing listens there
  const p = await browser.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  try {
    await p.goto(`${site.url}/badendpoint.html?${new URLSearchParams({ refused: `http://127.0.0.1:${refusedPort}` })}`);
    const r = await p.waitForFunction(() => window.result, null, { timeout: 15_000 }).then((h) => h.jsonValue());
    assert.equal(r.error, null, r.error);
    // Without a scheme the endpoint is a path on the page's own origin, which answers 404; the
    // warning gives the URL as the exporter has it, without the scheme the app left out.
    assert.ok(site.served.includes('/127.0.0.1:9/v1/traces'), 'sent to the page\'s own origin');
    const relative = '127.0.0.1:9/v1/traces';
    assert.equal(r.schemeless.value, 7);
    assert.equal(r.schemeless.warnings.length, 1, r.schemeless.warnings.join('\n'));
    assert.ok(r.schemeless.warnings[0].startsWith(`edgetrace: dropped a batch of 1 spans after 1 attempts (${relative}: HTTP 404`), r.schemeless.warnings[0]);
    assert.ok(r.schemeless.lastExportError.startsWith(`${relative}: HTTP 404`), r.schemeless.lastExportError);
    const refused = `http://127.0.0.1:${refusedPort}/v1/traces`;
    assert.equal(r.refused.value, 7);
    assert.deepEqual(r.refused.warnings, [`edgetrace: dropped a batch of 1 spans after 1 attempts (${refused}: Failed to fetch)`]);
    assert.equal(r.refused.lastExportError, `${refused}: Failed to fetch`);
    assert.deepEqual(errors, []);
  } finally {
    await p.close();
  }
});

describe('a page that ends spans and navigates away at once', () => {
  test('delivers them with the pagehide keepalive flush (exactly once each)', async () => {
    const n = 6;
    const { queued, spans } = await leaveAndCollect({ n: String(n) });
    assert.equal(queued, n, 'all spans were still queued when the page left');
    assert.equal(spans.length, n);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, n, 'no span sent twice');
    assert.deepEqual(shape(spans), [['leave-root', Array.from({ length: n - 1 }, (_, i) => [`leaving-${i}`, []])]]);
    assert.equal(spans[0].resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'browser-leave');
  });

  test('fifty traces ended just before navigating away all arrive, each once and whole', async () => {
    const traces = 50;
    const n = 3;
    const { queued, spans } = await leaveAndCollect({ n: String(n), traces: String(traces) });
    assert.equal(queued, traces * n, 'all spans were still queued when the page left');
    assert.equal(spans.length, traces * n);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, traces * n, 'no span sent twice');
    const roots = spans.filter((s) => !s.parentSpanId);
    assert.deepEqual(roots.map((s) => s.name).sort(), Array.from({ length: traces }, (_, t) => `leave-root-${t}`).sort());
    assert.equal(new Set(spans.map((s) => s.traceId)).size, traces);
    for (const r of roots) assert.equal(spans.filter((s) => s.traceId === r.traceId).length, n, `${r.name} is whole`);
  });

  test('several batches, about 39 KB in all, all arrive on pagehide', async () => {
    const n = 12;
    const { queued, spans, requests } = await leaveAndCollect({ n: String(n), size: '3000', maxExportBytes: '10000' });
    assert.equal(queued, n);
    assert.ok(requests.length >= 4, `${requests.length} requests`);
    for (const r of requests) assert.ok(r.body.length <= 10000, `body of ${r.body.length} bytes`);
    assert.equal(spans.length, n);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, n);
  });

  test('a request the flush timer started is not cancelled when the page leaves while it is under way', async () => {
    // The timer's export takes the spans, so pagehide has nothing left to send; the collector
    // holds the CORS preflight for 400 ms, so the POST is still to come as the page goes. Sent
    // without keepalive, the browser cancelled it with the page and the spans were lost.
    const n = 8;
    col.delayPreflights(400);
    try {
      const { queued, spans } = await leaveAndCollect({ n: String(n), sent: '1' });
      assert.equal(queued, 0, 'the timer had taken every span before the page left');
      assert.equal(spans.length, n);
      assert.equal(new Set(spans.map((s) => s.spanId)).size, n, 'no span sent twice');
    } finally {
      col.delayPreflights(0);
    }
  });

  test('spans recorded while the core still compiles are kept and exported once it is ready', async () => {
    const traces = 4;
    const n = 5;
    const { queued, whileCompiling, spans } = await leaveAndCollect({ n: String(n), traces: String(traces), compiling: '1' });
    assert.equal(whileCompiling, '0', 'the spans were recorded before the core existed');
    assert.equal(queued, 0, 'flush() waited for the core and sent them all');
    assert.equal(spans.length, traces * n);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, traces * n, 'no span sent twice');
    assert.equal(new Set(spans.map((s) => s.traceId)).size, traces);
    for (const t of byTrace(spans).values()) {
      const root = t.find((s) => !s.parentSpanId);
      assert.ok(root, 'each trace has its root');
      assert.ok(t.every((s) => s === root || s.parentSpanId === root.spanId), 'and its children under it');
    }
  });

  test('over 64 KiB queued at pagehide: keepalive stays within the browser budget and what it carries arrives once', async () => {
    // Chromium allows 64 KiB of keepalive bodies in flight per page in all. The exporter sends
    // batches with keepalive only up to that budget (the rest stays queued for a later flush, lost
    // if the page is really gone), so the batches it does send are not refused.
    const n = 30; // 30 spans of ~1.9 KB of OTLP JSON each: one ~58 KB batch plus one more
    const { queued, spans } = await leaveAndCollect({ n: String(n), size: '3000' });
    assert.equal(queued, n);
    assert.ok(spans.length >= 17, `${spans.length} of ${n} spans arrived; the first 58 KB batch must`);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'no span sent twice');
  });
});
