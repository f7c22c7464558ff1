// In headless Chromium, a streamed model call's span ends when its stream ends, however much the
// page allocates while it reads. Until session 38 the package watched the stream it hands the app
// with a FinalizationRegistry, to end the span of a body the app drops unread. But in Chromium a
// ReadableStream is a platform object, and V8 may collect its JS wrapper while the stream lives on
// and is read: with a page allocating as a chat UI re-rendering each token does, every streamed
// span ended as "cancelled" mid-answer, without its usage. The package now watches the stream's
// underlying source, a plain object the stream holds. A body dropped unread still ends as cancelled
// once it is collected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, startStaticServer } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { startCollector } from '../node/helpers/collector.mjs';

let site;
let browser;
let page;
let llm;
let col;
const pageErrors = [];

before(async () => {
  site = await startStaticServer();
  llm = await startMockLlm();
  col = await startCollector();
  // gc() for the dropped body's check; the streams' check needs none (the page's garbage does it).
  browser = await launchChromium(['--js-flags=--expose-gc']);
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
  await llm?.close();
  await col?.close();
});

const STREAMS = 20;

test('streams read to their end while the page allocates end as completed, with their usage', async () => {
  col.requests.length = 0;
  const r = await page.evaluate(async ([llmUrl, colUrl, n]) => {
    const { flush, init, traceFetch } = await import('/pkg/browser.js');
    init({ endpoint: colUrl, format: 'json', logger: { warn() {} } });
    const f = traceFetch(undefined, { includeUsage: true });
    const texts = [];
    for (let i = 0; i < n; i++) {
      const res = await f(`${llmUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-chunks': '8', 'x-mock-chunk-delay-ms': '5' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `question ${i}` }] }),
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        // What a UI does with each token: garbage, and with it the young generation's collections.
        let junk = [];
        for (let k = 0; k < 200_000; k++) junk.push({ k });
        junk = null;
      }
      texts.push(text.includes('data: [DONE]'));
    }
    await flush();
    return texts;
  }, [llm.url, col.url, STREAMS]);
  assert.deepEqual(r, Array(STREAMS).fill(true), 'the page read every stream to its end');
  const spans = col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(spans.length, STREAMS);
  const ends = spans.map((s) => s.attributes['edgetrace.llm.stream_end']);
  assert.deepEqual(ends, Array(STREAMS).fill('completed'), `how the streams ended: ${JSON.stringify(ends)}`);
  for (const s of spans) assert.ok(s.attributes['mlflow.chat.tokenUsage'], `usage on ${s.name}`);
});

test('a streamed body the page drops unread ends its span as cancelled once it is collected', async () => {
  col.requests.length = 0;
  const open = await page.evaluate(async (llmUrl) => {
    const { getStats, traceFetch } = await import('/pkg/browser.js');
    const before = getStats().open;
    await (async () => {
      const res = await traceFetch()(`${llmUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-chunks': '8' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'dropped' }] }),
      });
      return res.status;
    })();
    const opened = getStats().open - before;
    const t0 = Date.now();
    while (getStats().open > before && Date.now() - t0 < 10_000) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    return { opened, left: getStats().open - before };
  }, llm.url);
  assert.deepEqual(open, { opened: 1, left: 0 }, 'the dropped body\'s span ended');
  await page.evaluate(() => import('/pkg/browser.js').then((m) => m.flush()));
  const [span] = col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(span.attributes['edgetrace.llm.stream_end'], 'cancelled');
});
