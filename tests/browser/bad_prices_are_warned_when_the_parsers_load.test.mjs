// In browsers, init() no longer checks `prices` up front (the check moved into the server
// runtimes' code, to keep the up-front bundle under OpenTelemetry web with Zone.js): the model API
// parsers check them when they load, on the first model call. There a bad price is one warning
// naming it, the call is still traced as a CHAT_MODEL span (without its response's parsing), and
// the app gets its answer untouched.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, startStaticServer } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { startCollector } from '../node/helpers/collector.mjs';

let site;
let browser;
let llm;
let col;

before(async () => {
  site = await startStaticServer();
  browser = await launchChromium();
  llm = await startMockLlm();
  col = await startCollector();
});
after(async () => {
  await browser?.close();
  await site?.close();
  await llm?.close();
  await col?.close();
});

test('a negative price in a page: one warning naming it at the first model call; the call is still traced and answered', async () => {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  await page.goto(`${site.url}/index.html`);
  const r = await page.evaluate(async ([llmUrl, colUrl]) => {
    const { flush, getStats, init, traceFetch } = await import('/pkg/browser.js');
    const warnings = [];
    let threw = null;
    try {
      init({ endpoint: colUrl, format: 'json', prices: { 'my-model': { input: -1, output: 2 } }, logger: { warn: (m) => warnings.push(String(m)) } });
    } catch (e) {
      threw = String(e);
    }
    const res = await traceFetch()(`${llmUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'my-model', messages: [{ role: 'user', content: 'priced badly' }] }),
    });
    const answer = (await res.json()).choices[0].message.content;
    const t0 = Date.now();
    while (getStats().open > 0 && Date.now() - t0 < 3000) await new Promise((x) => setTimeout(x, 10));
    await flush();
    return { threw, answer, warnings };
  }, [llm.url, col.url]);
  await page.close();
  assert.deepEqual(pageErrors, []);
  assert.equal(r.threw, null, 'init() in a page does not throw for prices');
  assert.match(r.answer, /priced badly/);
  assert.deepEqual(r.warnings, ['edgetrace: model calls are traced without their responses, the model API parsers failed to load: invalid configuration: prices.my-model: prices must be non-negative numbers']);
  const spans = col.spans();
  assert.equal(spans.length, 1);
  assert.equal(spans[0].attributes['mlflow.spanType'], 'CHAT_MODEL');
});

test('the parsers failing to download (a page offline at its first model call): one warning, and the next model call loads them and is traced whole', async () => {
  // Before, the failed load was kept for the page's life: every later call was a bare span, with
  // no inputs, outputs or token usage (a browser review, offline and back).
  col.requests.length = 0;
  const page = await browser.newPage();
  let refused = 0;
  await page.route('**/pkg/llm-browser.js', (route) => (refused++ === 0 ? route.abort('internetdisconnected') : route.continue()));
  await page.goto(`${site.url}/index.html`);
  const r = await page.evaluate(async ([llmUrl, colUrl]) => {
    const { flush, getStats, init, traceFetch } = await import('/pkg/browser.js');
    const warnings = [];
    await init({ endpoint: colUrl, format: 'json', logger: { warn: (m) => warnings.push(String(m)) } });
    const answers = [];
    for (const content of ['while offline', 'back online', 'still online']) {
      const res = await traceFetch()(`${llmUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
      });
      answers.push((await res.json()).choices[0].message.content);
      const t0 = Date.now();
      while (getStats().open > 0 && Date.now() - t0 < 3000) await new Promise((x) => setTimeout(x, 10));
    }
    await flush();
    return { answers, warnings };
  }, [llm.url, col.url]);
  await page.close();
  assert.equal(r.answers.length, 3);
  assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
  assert.match(r.warnings[0], /the model API parsers failed to load/);
  const spans = col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(spans.length, 3);
  const byInput = (text) => spans.find((s) => String(s.attributes['mlflow.spanInputs'] ?? '').includes(text));
  assert.equal(spans.filter((s) => s.attributes['mlflow.spanInputs'] === undefined).length, 1, 'only the call made while the parsers could not load is bare');
  for (const text of ['back online', 'still online']) {
    const s = byInput(text);
    assert.ok(s, `the call "${text}" has its inputs`);
    assert.ok(s.attributes['mlflow.chat.tokenUsage'], `the call "${text}" has its token usage`);
  }
});

// A limit the core refuses is known in a page only when the core has loaded (init() has returned by
// then): tracing turns off with one warning that says why, prefixed once, and the page goes on.
test('a limit the core refuses, in a page: tracing is off with one warning, "edgetrace: " once', async () => {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  await page.goto(`${site.url}/index.html`);
  const r = await page.evaluate(async (colUrl) => {
    const { flush, init, withSpan } = await import('/pkg/browser.js');
    const warnings = [];
    await init({ endpoint: colUrl, maxValueBytes: 10, logger: { warn: (m) => warnings.push(String(m)) } });
    const value = withSpan(() => 42, { name: 'after-refusal' });
    await flush();
    return { value, warnings };
  }, col.url);
  await page.close();
  assert.deepEqual(pageErrors, []);
  assert.equal(r.value, 42);
  assert.deepEqual(r.warnings, ['edgetrace: tracing is off, invalid configuration: maxValueBytes must be at least 64']);
});
