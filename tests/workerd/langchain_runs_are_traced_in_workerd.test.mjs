// LangChain.js in a Cloudflare Worker, in workerd (Miniflare, nodejs_compat), traced with
// edgetrace/langchain's handler inside `instrumentWorker`: the RAG chain of
// tests/shared/langchain_rag.js (a BaseRetriever subclass, a prompt, ChatOpenAI against the local
// mock of OpenAI's API with `traceFetch(fetch, { parent: handler.parent })` as its fetch, a string
// parser; the Worker is tests/workerd/fixtures/worker_langchain.js) must be one tree under the
// request's root span, as in Node (tests/node/langchain_runs_are_mlflow_trees.test.mjs), checked
// by the same code (tests/shared/langchain_rag_checks.mjs): each runnable a CHAIN span, the
// retriever a RETRIEVER span with MLflow's documents, the chat model a CHAT_MODEL span with OpenAI's
// messages, the answer and the usage, and under it the model's HTTP call. Two requests at once,
// each asking three questions at once, two through the request's model of `maxConcurrency: 1`
// (the second call waits for the first to free the slot, and goes out from its turn) and the third,
// a moment later, through a model of its own (its call goes out while the second waits, so the
// calls go out in another order than their models started, all in the request's async context),
// must each keep their spans in their own trace and each HTTP call under its own model's span.
// The slot is a request's own: a model shared by concurrent requests, whose slot one request frees
// for another, hangs the waiting request in workerd, traced or not ("The Workers runtime canceled
// this request because it detected that your Worker's code had hung"): the call it waited for goes
// out in the other request's I/O context.
//
// The Worker is bundled with esbuild as wrangler bundles one: platform 'browser' (wrangler's, by
// default), so packages' `browser` maps of their files apply: langsmith (a dependency of
// @langchain/core) maps its fs, worker_threads and zstd modules to browser ones, without which the
// bundle imports node:fs, node:os and node:worker_threads, which this workerd, with nodejs_compat
// at the compatibility date of 2025-09-01, has only with enable_nodejs_fs_module,
// enable_nodejs_os_module and enable_nodejs_worker_threads_module ('No such module "node:fs"' at
// start-up); and keepNames, as wrangler's keep_names defaults to true: esbuild renames the class
// ChatOpenAI to ChatOpenAI2 in the bundle (its `var ChatOpenAI = class ChatOpenAI2`), and
// LangChain names a ChatOpenAI run by its class's name (ChatOpenAI's lc_name is its parent's), so
// without it the model span is 'ChatOpenAI2'. With those, @langchain/core and @langchain/openai
// bundle and run in workerd as they are.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startWorkerApp, workerMiniflare } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';
import { waitFor } from '../node/helpers/util.mjs';
import { assertRagRun, modelAndCall, RAG_TREE, SPANS_PER_CHAIN, treeOf } from '../shared/langchain_rag_checks.mjs';

let col;
let llm;
let app;
let mf;

before(async () => {
  col = await startCollector();
  llm = await startMockLlm();
  app = await startWorkerApp('worker_langchain.js', {
    bundle: { platform: 'browser', keepNames: true },
    start: (scriptPath, o) => workerMiniflare(scriptPath, { ...o, compatibilityFlags: ['nodejs_compat'], bindings: { COLLECTOR: col.url, LLM: llm.url } }),
  });
  ({ mf } = app);
});
after(async () => {
  await app?.close();
  await col?.close();
  await llm?.close();
});

/**
 * GET `path` with the questions (and `alone`) on the Worker: what its app answered, once its trace
 * (`spans` spans) has arrived.
 */
async function ask(path, questions, spans, alone) {
  const query = [...questions.map((q) => `q=${encodeURIComponent(q)}`), ...(alone == null ? [] : [`alone=${encodeURIComponent(alone)}`])].join('&');
  const res = await mf.dispatchFetch(`http://worker.test${path}?${query}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.error, null, `the Worker threw: ${body.error}`);
  assert.deepEqual(body.warnings, [], 'edgetrace warned of nothing');
  assert.deepEqual(body.answers, [...questions, ...(alone == null ? [] : [alone])].map((q) => `Echo: ${q}`));
  await waitFor(() => col.spans().filter((s) => s.traceId === body.traceId).length >= spans, { timeoutMs: 10_000, intervalMs: 20, what: `the ${spans} spans of ${path}'s trace` });
  return body;
}

test("a RAG chain in a Worker is one tree under the request's root span: retriever, prompt, chat model with its HTTP call, parser", async () => {
  col.requests.length = 0;
  const from = llm.requests.length;
  const body = await ask('/ask', ['What is a span?'], 1 + SPANS_PER_CHAIN);
  const spans = col.spans();
  assert.equal(spans.length, 1 + SPANS_PER_CHAIN, `no span but the trace's: ${spans.map((s) => s.name)}`);
  assert.ok(spans.every((s) => s.traceId === body.traceId), 'one trace');
  const tree = treeOf(spans, body.traceId);
  assert.deepEqual(tree, [['AGENT GET /ask', [RAG_TREE]]], JSON.stringify(tree));
  const root = spans.find((s) => !s.parentSpanId);
  assert.equal(root.spanId, body.spanId, "the root is the Worker's request span");

  const sent = llm.requests.slice(from).filter((r) => r.method === 'POST');
  assert.equal(sent.length, 1, 'one model call');
  assertRagRun(spans, body.traceId, { question: 'What is a span?', kb: { topic: 'Workers trace', source: 'kb/workers.md' }, parentSpanId: root.spanId, sent: sent[0] });
});

test("two requests at once, each asking three questions at once, two through a model of one slot: each request's spans in their own trace, each HTTP call under its own model's span, in whatever order the calls went out", async () => {
  col.requests.length = 0;
  const from = llm.requests.length;
  // Per request: [through the one-slot model…, through a model of its own].
  const asked = [
    [['first question', 'second question'], 'third question'],
    [['fourth question', 'fifth question'], 'sixth question'],
  ];
  const perTrace = 1 + 3 * SPANS_PER_CHAIN;
  const bodies = await Promise.all(asked.map(([qs, alone]) => ask(`/ask-batch`, qs, perTrace, alone)));
  const spans = col.spans();
  assert.equal(spans.length, 2 * perTrace, `no span but the two traces': ${spans.map((s) => s.name)}`);
  assert.notEqual(bodies[0].traceId, bodies[1].traceId, 'a trace each');
  const roots = bodies.map((b) => spans.find((s) => s.spanId === b.spanId));
  // The requests were in flight together.
  assert.ok(BigInt(roots[0].startTimeUnixNano) < BigInt(roots[1].endTimeUnixNano) && BigInt(roots[1].startTimeUnixNano) < BigInt(roots[0].endTimeUnixNano), 'the two requests overlap');
  const sent = llm.requests.slice(from).filter((r) => r.method === 'POST');
  assert.equal(sent.length, 6, 'six model calls');

  const startOf = (s) => BigInt(s.startTimeUnixNano);
  for (const [i, [slotted, alone]] of asked.entries()) {
    const { traceId } = bodies[i];
    const tree = treeOf(spans, traceId);
    assert.deepEqual(tree, [['AGENT GET /ask-batch', [RAG_TREE, RAG_TREE, RAG_TREE]]], JSON.stringify(tree));
    const mine = spans.filter((s) => s.traceId === traceId);
    const chat = {};
    const http = {};
    for (const q of [...slotted, alone]) {
      ({ chat: chat[q], http: http[q] } = modelAndCall(spans, traceId, q));
      // Its model span is in the chain of its question.
      const prompt = mine.find((s) => s.name === 'ChatPromptTemplate' && s.parentSpanId === chat[q].parentSpanId);
      assert.equal(attr(prompt, 'mlflow.spanInputs').question, q);
    }
    const [a, b] = slotted;
    // One slot: the second call went out once the first had its answer.
    assert.ok(BigInt(http[b].startTimeUnixNano) >= BigInt(http[a].endTimeUnixNano), 'the slotted calls did not overlap');
    // The calls went out in another order than their models started: the second slotted model
    // started before the lone one, whose call went out while the second waited for the slot.
    assert.ok(startOf(chat[b]) < startOf(chat[alone]), `"${b}"'s model started before "${alone}"'s`);
    assert.ok(startOf(http[alone]) < startOf(http[b]), `"${alone}"'s call went out before "${b}"'s`);
    // No question of the other request is in this trace.
    for (const q of asked[1 - i].flat()) assert.ok(!mine.some((s) => JSON.stringify(s.attributes).includes(q)), `"${q}" is not in trace ${i}`);
  }
});
