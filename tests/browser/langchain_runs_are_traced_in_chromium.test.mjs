// LangChain.js in a page in headless Chromium, traced with edgetrace/langchain's handler: a RAG
// chain (tests/shared/langchain_rag.js: a BaseRetriever subclass, a prompt, ChatOpenAI against the
// local mock of OpenAI's API on another origin with `traceFetch(fetch, { parent: handler.parent })`
// as its fetch, a string parser; the page is tests/browser/fixtures/langchain.js, bundled here
// with LangChain by esbuild and importing the package's /pkg/browser.js and /pkg/langchain.js)
// under a page's AGENT span must be one tree, as in Node
// (tests/node/langchain_runs_are_mlflow_trees.test.mjs), checked by the same code
// (tests/shared/langchain_rag_checks.mjs): each runnable a CHAIN span,
// the retriever a RETRIEVER span with MLflow's documents, the chat model a CHAT_MODEL span with
// OpenAI's messages, the answer and the usage, and under it the model's HTTP call. A page has no
// AsyncLocalStorage: the runs nest by LangChain's run ids, and the HTTP call's parent is the span
// `handler.parent` gives for its request, by the request's body. Two chains run at once
// (Promise.all) with different questions, with a model each and with one model of
// `maxConcurrency: 1` for both, must each keep their model span and HTTP span in their own trace;
// and so must three, two through a model of one slot and the third, a moment later, through a
// model of its own, whose call goes out while the second waits for the slot: the calls go out in
// another order than their models started, which only the request's body tells (in a page no
// async context is found where LangChain starts a model run or sends its call).
//
// The page is bundled with keepNames: esbuild renames the class ChatOpenAI to ChatOpenAI2 in a
// bundle (`var ChatOpenAI = class ChatOpenAI2`), and LangChain names a ChatOpenAI run by its
// class's name (ChatOpenAI's lc_name is its parent's), so without it the model span is
// 'ChatOpenAI2'. Everything listens on 127.0.0.1.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bundlePage, launchChromium, startStaticServer } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';
import { assertRagRun, modelAndCall, RAG_TREE, SPANS_PER_CHAIN, treeOf } from '../shared/langchain_rag_checks.mjs';

let col;
let llm;
let site;
let browser;
let page;
const pageErrors = [];

before(async () => {
  // keepNames: see above.
  const bundle = await bundlePage('langchain.js', { keepNames: true });
  col = await startCollector();
  llm = await startMockLlm();
  site = await startStaticServer({ bundles: { '/langchain-bundle.js': bundle } });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  await page.goto(`${site.url}/langchain.html`);
  await page.waitForFunction(() => window.lcReady === true, null, { timeout: 15_000 }).catch((e) => {
    throw new Error(`the page did not load: ${e.message}; page errors: ${JSON.stringify(pageErrors)}`);
  });
  await page.evaluate(([c, l]) => window.lcInit(c, l), [col.url, llm.url]);
});

after(async () => {
  await browser?.close();
  await site?.close();
  await llm?.close();
  await col?.close();
});

// The tree of a page's 'ask' span and its RAG chain's run.
const ASK = ['AGENT ask', [RAG_TREE]];
const SPANS_PER_ASK = 1 + SPANS_PER_CHAIN;

/**
 * The questions (and `options.alone`) asked at once in the page: what it got, its 'ask' spans, the
 * spans exported and the model calls the mock got.
 */
async function ask(questions, options = {}) {
  const all = [...questions, ...(options.alone == null ? [] : [options.alone])];
  col.requests.length = 0;
  const from = llm.requests.length;
  const body = await page.evaluate(([qs, o]) => window.lcAsk(qs, o), [questions, options]);
  assert.equal(body.error, null, `the page threw: ${body.error}`);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(body.warnings, [], 'edgetrace warned of nothing');
  assert.equal(body.openBeforeFlush, 0, 'every span ended');
  assert.equal(body.stats.lastExportError, null);
  assert.equal(body.stats.dropped.total, 0);
  assert.deepEqual(body.results.map((r) => r.answer), all.map((q) => `Echo: ${q}`));
  const spans = col.spans();
  assert.equal(spans.length, all.length * SPANS_PER_ASK, `no span but the asks' trees: ${spans.map((s) => s.name)}`);
  const sent = llm.requests.slice(from).filter((r) => r.method === 'POST');
  assert.equal(sent.length, all.length, 'a model call a question');
  return { results: body.results, spans, sent };
}

test("a RAG chain in a page is one tree under the page's span: retriever, prompt, chat model with its HTTP call, parser", async () => {
  const { results, spans, sent } = await ask(['What is a span?']);
  const [{ traceId, spanId }] = results;
  assert.ok(spans.every((s) => s.traceId === traceId), 'one trace');
  const tree = treeOf(spans, traceId);
  assert.deepEqual(tree, [ASK], JSON.stringify(tree));
  assert.equal(spans.find((s) => !s.parentSpanId).spanId, spanId, "the root is the page's span");

  assertRagRun(spans, traceId, { question: 'What is a span?', kb: { topic: 'Pages trace', source: 'kb/pages.md' }, parentSpanId: spanId, sent: sent[0] });
});

for (const [shared, how] of [[false, 'a model each'], [true, 'one model of maxConcurrency 1 for both']]) {
  test(`two chains at once in a page (Promise.all), ${how}: each trace holds its own model span and, under it, its own HTTP call`, async () => {
    const questions = ['first question', 'second question'];
    const { results, spans } = await ask(questions, { shared });
    assert.notEqual(results[0].traceId, results[1].traceId, 'a trace each');
    const https = [];
    for (const [i, q] of questions.entries()) {
      const { traceId, spanId } = results[i];
      const tree = treeOf(spans, traceId);
      assert.deepEqual(tree, [ASK], JSON.stringify(tree));
      assert.equal(spans.find((s) => s.traceId === traceId && !s.parentSpanId).spanId, spanId, `trace ${i}'s root is its page span`);
      const mine = spans.filter((s) => s.traceId === traceId);
      const { http } = modelAndCall(spans, traceId, q);
      assert.equal(attr(mine.find((s) => s.name === 'KnowledgeBase'), 'mlflow.spanInputs'), q);
      assert.ok(!mine.some((s) => JSON.stringify(s.attributes).includes(questions[1 - i])), `"${questions[1 - i]}" is not in trace ${i}`);
      https.push(http);
    }
    // The chains ran at once: their model runs overlap.
    const chats = results.map(({ traceId }) => spans.find((s) => s.traceId === traceId && s.name === 'ChatOpenAI'));
    assert.ok(BigInt(chats[0].startTimeUnixNano) < BigInt(chats[1].endTimeUnixNano) && BigInt(chats[1].startTimeUnixNano) < BigInt(chats[0].endTimeUnixNano), 'the model runs overlap');
    if (shared) {
      // One slot: the second call went out once the first had its answer.
      const [a, b] = https.sort((x, y) => (BigInt(x.startTimeUnixNano) < BigInt(y.startTimeUnixNano) ? -1 : 1));
      assert.ok(BigInt(b.startTimeUnixNano) >= BigInt(a.endTimeUnixNano), 'the calls did not overlap');
    }
  });
}

test("three chains at once in a page, two through a model of one slot: each HTTP call under its own model's span though the calls went out in another order than their models started", async () => {
  const [a, b, alone] = ['first question', 'second question', 'third question'];
  const { results, spans } = await ask([a, b], { shared: true, alone });
  assert.equal(new Set(results.map((r) => r.traceId)).size, 3, 'a trace each');
  const found = {};
  for (const [i, q] of [a, b, alone].entries()) {
    const tree = treeOf(spans, results[i].traceId);
    assert.deepEqual(tree, [ASK], JSON.stringify(tree));
    found[q] = modelAndCall(spans, results[i].traceId, q);
  }
  const startOf = (s) => BigInt(s.startTimeUnixNano);
  assert.ok(startOf(found[b].http) >= BigInt(found[a].http.endTimeUnixNano), 'the slotted calls did not overlap');
  // The second slotted model started before the lone one, whose call went out while the second
  // waited for the slot.
  assert.ok(startOf(found[b].chat) < startOf(found[alone].chat), `"${b}"'s model started before "${alone}"'s`);
  assert.ok(startOf(found[alone].http) < startOf(found[b].http), `"${alone}"'s call went out before "${b}"'s`);
});
