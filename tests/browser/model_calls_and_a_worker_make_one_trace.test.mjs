// (a) In headless Chromium, a page importing /pkg/browser.js calls the local mock model server
// (another origin) through traceFetch() with a streaming OpenAI chat request and exports OTLP JSON
// to a local collector: a CHAT_MODEL span with the reassembled text and the exact usage, and the
// API key sent in the Authorization header in no export.
// (b) One trace across a page and a Worker: the page's AGENT span 'turn' calls a Worker (Miniflare,
// on a real 127.0.0.1 port, wrapped in instrumentWorker()) with getTraceHeaders(span); the Worker
// makes a TOOL child. The page exports directly to a real MLflow (cross-origin: MLflow 3.x's
// default CORS policy allows 127.0.0.1/localhost origins, so no relay is needed), the Worker too;
// read back through MLflow's REST API, one trace holds all three spans with the right parents.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workerMiniflare } from '../workerd/helpers.mjs';
import { launchChromium, startStaticServer } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { attr, shape, startCollector } from '../node/helpers/collector.mjs';
import { createExperiment, readSpans, startMlflow, waitForTrace } from '../node/helpers/mlflow.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const KEY = 'sk-browser-SECRET-77aa77aa77aa77aa';


let site;
let browser;
let page;
const pageErrors = [];

before(async () => {
  site = await startStaticServer();
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  await page.goto(`${site.url}/llm.html`);
  await page.waitForFunction(() => window.llmReady === true, null, { timeout: 30_000 }).catch((e) => {
    throw new Error(`the page did not load: ${e.message}; page errors: ${JSON.stringify(pageErrors)}`);
  });
});

after(async () => {
  await browser?.close();
  await site?.close();
});

// Spans by the name of their trace's root (each name here roots one trace).
function byTraceName(spans) {
  const out = new Map();
  for (const root of spans.filter((s) => !s.parentSpanId)) out.set(root.name, spans.filter((s) => s.traceId === root.traceId));
  return out;
}

describe('(a) a page traces a streaming OpenAI chat call with traceFetch()', () => {
  let llm;
  let col;
  before(async () => {
    llm = await startMockLlm();
    col = await startCollector();
  });
  after(async () => {
    await llm?.close();
    await col?.close();
  });

  test('CHAT_MODEL span with the reassembled text and exact usage; the key is in no export', async () => {
    assert.ok(!site.served.includes('/pkg/llm-browser.js'), 'the model API parsers wait for the first model call');
    const r = await page.evaluate(([l, c, k]) => window.streamChat(l, c, k), [llm.url, col.url, KEY]);
    assert.ok(site.served.includes('/pkg/llm-browser.js') && site.served.includes('/pkg/llm/wasm-deflate.js'), 'the first model call loaded the parsers');
    assert.equal(r.error, null, r.error);
    assert.match(r.text, /^Echo: Stream to the browser/);
    assert.ok(r.usage, 'the mock sent usage');
    assert.equal(r.openBeforeFlush, 0);
    assert.equal(r.stats.lastExportError, null);
    assert.equal(r.stats.failedRequests, 0);

    const post = llm.requests.find((x) => x.method === 'POST');
    assert.equal(post.headers.authorization, `Bearer ${KEY}`, 'the key reached the API');
    assert.equal(post.headers.origin, site.url, 'a cross-origin call from the page');

    const spans = col.spans();
    assert.equal(spans.length, 1);
    const [span] = spans;
    assert.equal(span.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.equal(span.attributes['mlflow.llm.model'], 'gpt-4o-mini');
    assert.equal(span.attributes['mlflow.llm.provider'], 'openai');
    assert.equal(span.status.code, 1);
    assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
    assert.equal(attr(span, 'mlflow.spanOutputs').choices[0].message.content, r.text);
    const u = attr(span, 'mlflow.chat.tokenUsage');
    assert.deepEqual(
      { input_tokens: u.input_tokens, output_tokens: u.output_tokens, total_tokens: u.total_tokens },
      { input_tokens: r.usage.prompt_tokens, output_tokens: r.usage.completion_tokens, total_tokens: r.usage.total_tokens },
    );
    assert.ok(col.requests.length >= 1);
    for (const req of col.requests) {
      assert.equal(req.headers.origin, site.url);
      const raw = req.body.toString('latin1');
      assert.ok(!raw.includes(KEY), 'an export carries the API key');
      assert.ok(!raw.includes('SECRET'), 'an export carries part of the API key');
    }
  });

  test("model calls made the Anthropic SDK's way (its middleware returns the call's promise unawaited) stay in their trace", async () => {
    col.requests.length = 0;
    const r = await page.evaluate(([l, c]) => window.middlewareCalls(l, c), [llm.url, col.url]);
    assert.equal(r.error, null, r.error);
    const spans = col.spans();
    const inferred = (s) => s.attributes['edgetrace.parent_inferred'] === true;
    const model = 'messages claude-3-5-haiku-20241022';
    const traces = byTraceName(spans);
    // V8's async stack ends at the middleware; the one trace in flight is taken, and said so.
    assert.deepEqual(shape(traces.get('turn')), [['turn', [[model, []]]]]);
    assert.deepEqual(shape(traces.get('chain')), [['chain', [['step', [[model, []]]]]]]);
    for (const t of ['turn', 'chain']) assert.ok(traces.get(t).filter((s) => s.name === model).every(inferred));
    // Two traces in flight: not guessed, each call starts its own.
    const alone = spans.filter((s) => s.name === model && !s.parentSpanId);
    assert.equal(alone.length, 2);
    assert.ok(!alone.some(inferred));
    assert.equal(spans.filter((s) => s.name === 'concurrent').length, 2);
    assert.equal(spans.length, 9);
    // Each call, its answer read by res.json() in the traced function, ends before that function
    // (it ended a few microtasks after, when traceFetch's own copy of the body was parsed).
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const call of spans.filter((s) => s.name === model && s.parentSpanId)) {
      const parent = byId.get(call.parentSpanId);
      assert.ok(BigInt(call.endTimeUnixNano) <= BigInt(parent.endTimeUnixNano), `${model} ends after ${parent.name}`);
    }
    assert.equal(r.stats.outOfOrderEnds, 0);
  });
});

describe('(b) a page span and a Worker make one trace in MLflow', () => {
  let mlflow;
  let mf;
  let workerUrl;
  let experimentId;
  before(async () => {
    mlflow = await startMlflow();
    experimentId = await createExperiment(mlflow.url, 'edgetrace-browser-worker');
    mf = workerMiniflare(join(fixtures, 'worker_turn.js'), {
      compatibilityFlags: ['nodejs_compat'],
      host: '127.0.0.1',
      port: 0,
      bindings: { MLFLOW_URL: mlflow.url, EXPERIMENT_ID: String(experimentId) },
    });
    workerUrl = (await mf.ready).href.replace(/\/$/, '');
  }, { timeout: 300_000 });
  after(async () => {
    await mf?.dispose();
    await mlflow?.stop();
  });

  test('the AGENT span, the Worker request span and its TOOL child are one trace with the right parents', { timeout: 120_000 }, async () => {
    assert.match(workerUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await page.evaluate(([w, m, e]) => window.turn(w, m, e), [workerUrl, mlflow.url, String(experimentId)]);
    assert.equal(r.error, null, r.error);
    assert.equal(r.stats.lastExportError, null, 'the page exported to MLflow cross-origin');
    assert.equal(r.stats.failedRequests, 0);
    assert.ok(r.stats.requests >= 1);
    assert.match(r.page.traceId, /^[0-9a-f]{32}$/);
    // The Worker got the page span's traceparent and continued it.
    assert.equal(r.sentHeaders.traceparent, `00-${r.page.traceId}-${r.page.spanId}-01`);
    assert.equal(r.answer.traceparent, r.sentHeaders.traceparent);
    assert.equal(r.answer.worker.traceId, r.page.traceId);
    assert.deepEqual(r.answer.docs, ['doc about mlflow']);
    assert.equal(r.lastTraceId, `tr-${r.page.traceId}`);

    const trace = await waitForTrace(mlflow.url, r.lastTraceId, 3, 60_000);
    const spans = readSpans(trace);
    assert.equal(spans.length, 3, JSON.stringify(spans.map((s) => s.name)));
    const agent = spans.find((s) => s.name === 'turn');
    const tool = spans.find((s) => s.name === 'lookup');
    const request = spans.find((s) => s !== agent && s !== tool);
    assert.ok(agent && tool && request, JSON.stringify(spans.map((s) => s.name)));
    assert.equal(agent.type, 'AGENT');
    assert.equal(agent.parentId, null, 'the page span is the root');
    assert.equal(agent.spanId, r.page.spanId);
    assert.equal(request.spanId, r.answer.worker.spanId);
    assert.equal(request.parentId, agent.spanId, 'the Worker request span is a child of the page span that sent the request');
    assert.equal(tool.type, 'TOOL');
    assert.equal(tool.spanId, r.answer.worker.toolSpanId);
    assert.equal(tool.parentId, request.spanId, 'the TOOL span is a child of the Worker request span');
    assert.deepEqual(typeof tool.inputs === 'string' ? JSON.parse(tool.inputs) : tool.inputs, { q: 'mlflow' });
    assert.equal(trace.trace_info.trace_location?.mlflow_experiment?.experiment_id, String(experimentId));
  });

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
