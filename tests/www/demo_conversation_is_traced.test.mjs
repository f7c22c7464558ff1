// The demo end to end, as a newcomer runs it: the page (www/, bundled by Vite from the package)
// in headless Chromium, the ingest service and the demo Worker in local workerd (wrangler dev),
// the mock model server and a real MLflow. A two-turn conversation is typed into the page; then
// MLflow's REST API must hold one trace per turn with the whole tree across page and Worker, the
// span types, the streamed answer exactly as the page showed it, and the token usage; and the
// MLflow UI must show the trace. Screenshots of the page and of the trace in the MLflow UI are
// saved to tests/artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDemoStack } from '../../scripts/demo-stack.mjs';
import { launchChromium } from '../browser/helpers.mjs';
import { getTrace, readSpans, startMlflow, waitForTrace } from '../node/helpers/mlflow.mjs';
import { root } from '../node/helpers/util.mjs';

const artifacts = join(root, 'tests/artifacts');
let mlflow;
let stack;
let browser;

before(async () => {
  mlflow = await startMlflow();
  stack = await startDemoStack({ mlflowUrl: mlflow.url, experiment: `demo-e2e-${Date.now()}`, ports: { page: 0, ingest: 0, worker: 0, model: 0 }, build: !process.env.DEMO_PAGE_BUILT });
  browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
}, { timeout: 300_000 });

after(async () => {
  await browser?.close();
  await stack?.stop();
  await mlflow?.stop();
});

const parsed = (v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

test('the bundled page carries no .wasm asset: the package ships its wasm inside its JS, deflated', () => {
  const assets = readdirSync(join(root, 'www/dist/assets'));
  assert.ok(assets.some((f) => f.endsWith('.js')), `the bundle is there: ${assets.join(', ')}`);
  assert.deepEqual(assets.filter((f) => f.endsWith('.wasm')), [], 'Vite emitted a .wasm the page never fetches (wasm-bindgen default module path)');
});

test('a two-turn conversation in the demo page: each turn is one trace across page and Worker, visible in the MLflow UI', { timeout: 240_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(stack.urls.page);
  await page.waitForFunction(() => window.demoReady === true, null, { timeout: 30_000 });

  const questions = ['What does edgetrace do?', 'How do traces get from the page to MLflow?'];
  const turns = [];
  for (const [i, q] of questions.entries()) {
    await page.fill('#question', q);
    await page.click('#send');
    await page.waitForSelector(`#turns li:nth-child(${i + 1})[data-trace-id]`, { timeout: 30_000 });
    turns.push(await page.evaluate((n) => {
      const li = document.querySelector(`#turns li:nth-child(${n})`);
      return { state: li.dataset.state, traceId: li.dataset.traceId, answer: li.querySelector('.answer').textContent, link: li.querySelector('.meta a').href };
    }, i + 1));
  }
  // A thumbs up on the first answer: MLflow's feedback on that turn's trace.
  await page.click('#turns li:nth-child(1) .rate button[data-value="true"]');
  await page.waitForSelector('#turns li:nth-child(1)[data-feedback]', { timeout: 30_000 });
  assert.equal(await page.$eval('#turns li:nth-child(1)', (li) => li.dataset.feedback), 'logged', await page.$eval('#turns li:nth-child(1) .rate', (e) => e.textContent));
  assert.deepEqual(errors, []);
  // The side panel listed the page's spans of each turn as they ended.
  const panel = await page.$$eval('#spans li[data-trace]', (lis) => lis.map((li) => [li.dataset.trace, li.querySelector('.type').textContent, li.querySelector('.name').textContent]));
  await page.screenshot({ path: join(artifacts, 'demo-page.png') });

  for (const t of turns) {
    assert.equal(t.state, 'done', JSON.stringify(t));
    assert.match(t.traceId, /^tr-[0-9a-f]{32}$/);
    assert.ok(t.answer.length > 10, `a streamed answer: ${t.answer}`);
    assert.ok(t.link.includes(`selectedEvaluationId=${t.traceId}`));
    assert.deepEqual(panel.filter(([id]) => id === t.traceId).map(([, type, name]) => `${type} ${name}`).sort(),
      ['AGENT turn', 'CHAT_MODEL chat gpt-4o-mini', 'RETRIEVER retrieve', 'TOOL get_weather'].sort());

    // page: turn, retrieve, get_weather, chat; Worker: 3 request spans, search_docs, weather_service
    const spans = readSpans(await waitForTrace(mlflow.url, t.traceId, 9, 60_000));
    assert.equal(spans.length, 9, spans.map((s) => s.name).join(', '));
    const by = (name) => {
      const found = spans.filter((s) => s.name === name);
      assert.equal(found.length, 1, `one span named ${name}`);
      return found[0];
    };
    const turn = by('turn');
    assert.equal(turn.parentId, null);
    assert.equal(turn.type, 'AGENT');
    assert.equal(parsed(turn.outputs), t.answer);
    assert.deepEqual(parsed(turn.inputs), { question: questions[turns.indexOf(t)] });
    const retrieve = by('retrieve');
    const tool = by('get_weather');
    const chat = by('chat gpt-4o-mini');
    for (const s of [retrieve, tool, chat]) assert.equal(s.parentId, turn.spanId, `${s.name} under turn`);
    assert.equal(retrieve.type, 'RETRIEVER');
    assert.deepEqual(parsed(retrieve.inputs), { question: questions[turns.indexOf(t)] });
    assert.equal(parsed(by('search_docs').outputs).length, 2, 'two passages retrieved');
    assert.equal(tool.type, 'TOOL');
    assert.equal(chat.type, 'CHAT_MODEL');
    // The Worker's halves: request spans under the page's spans, their own spans under those.
    const wRetrieve = by('GET /retrieve');
    assert.equal(wRetrieve.parentId, retrieve.spanId);
    assert.equal(by('search_docs').parentId, wRetrieve.spanId);
    assert.equal(by('search_docs').type, 'RETRIEVER');
    const wTool = by('GET /tool/weather');
    assert.equal(wTool.parentId, tool.spanId);
    assert.equal(by('weather_service').type, 'TOOL');
    assert.equal(by('weather_service').parentId, wTool.spanId);
    assert.equal(by('POST /v1/chat/completions').parentId, turn.spanId);
    // The streamed answer, reassembled, is what the page showed; usage is the model's own.
    const out = parsed(chat.outputs);
    assert.equal(out.choices[0].message.content, t.answer);
    const usage = parsed(chat.attributes['mlflow.chat.tokenUsage']);
    assert.equal(usage.input_tokens, out.usage.prompt_tokens);
    assert.equal(usage.output_tokens, out.usage.completion_tokens);
    assert.equal(usage.total_tokens, out.usage.total_tokens);
    assert.ok(usage.output_tokens > 0);
    // Only the first answer was rated, thumbs up, by this page's session.
    const feedback = (await getTrace(mlflow.url, t.traceId)).trace_info.assessments || [];
    assert.deepEqual(feedback.map((a) => [a.assessment_name, a.feedback.value, a.source.source_type, a.source.source_id.startsWith('session-')]),
      turns.indexOf(t) === 0 ? [['user_feedback', true, 'HUMAN', true]] : []);
    assert.equal(parsed(chat.inputs).messages[1].content, questions[turns.indexOf(t)]);
  }

  // The MLflow UI shows the second turn's trace (not only the API).
  const ui = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await ui.goto(turns[1].link);
  await ui.getByText('search_docs').first().waitFor({ timeout: 60_000 });
  await ui.getByText('chat gpt-4o-mini').first().waitFor({ timeout: 10_000 });
  await ui.screenshot({ path: join(artifacts, 'demo-mlflow-trace.png') });
  await ui.close();
});
