// LangChain.js runs, traced with edgetrace/langchain's callback handler, are one tree as MLflow's
// Python autolog of LangChain makes them: each chain and runnable a CHAIN span, the chat model a
// CHAT_MODEL span (messages in OpenAI's shape, the answer, token usage, model and provider), the
// retriever a RETRIEVER span with MLflow's documents, a tool a TOOL span, all nested by LangChain's
// run ids. The model is ChatOpenAI against the local mock of OpenAI's API; the traced fetch,
// given the handler's `parent`, puts each HTTP call under its model's span.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatAnthropic } from '@langchain/anthropic';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { RunnableLambda, RunnableParallel, RunnableSequence } from '@langchain/core/runnables';
import { BaseRetriever } from '@langchain/core/retrievers';
import { Document } from '@langchain/core/documents';
import { AIMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createAgent } from 'langchain';
import { z } from 'zod';
import { flush, getLastActiveTraceId, init, SpanType, trace, traceFetch, withSpan } from '../../pkg/node.js';
import { langChainHandler } from '../../pkg/langchain.js';
import { exportedSpans, mockAndCollector } from './helpers/harness.mjs';
import { chatOpenAI, ragChain as sharedRagChain } from '../shared/langchain_rag.js';
import { assertRagRun, RAG_TREE, treeOf } from '../shared/langchain_rag_checks.mjs';
import { attr } from './helpers/collector.mjs';
import { createExperiment, readSpans, startMlflow, waitForTrace } from './helpers/mlflow.mjs';

const servers = mockAndCollector(init);
const handler = langChainHandler();

const KB = { topic: 'MLflow traces', source: 'kb/tracing.md' };
const model = (options = {}) => chatOpenAI({ baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(fetch, { parent: handler.parent }) }, options);
const ragChain = (llm) => sharedRagChain(llm, KB);

const exported = () => exportedSpans(servers, flush, 30);

test('a RAG chain in a traced function is one tree: retriever, prompt, chat model with its HTTP call, parser', async () => {
  const ask = trace(async function ask(question) {
    return ragChain(model()).invoke(question, { callbacks: [handler] });
  }, { spanType: SpanType.AGENT });
  const answer = await ask('What is a span?');
  assert.equal(answer, 'Echo: What is a span?');
  const spans = await exported();
  const traceId = getLastActiveTraceId().slice(3);
  assert.deepEqual(treeOf(spans, traceId), [['AGENT ask', [RAG_TREE]]], JSON.stringify(treeOf(spans, traceId)));
  const root = spans.find((s) => s.traceId === traceId && !s.parentSpanId);
  assertRagRun(spans, traceId, { question: 'What is a span?', kb: KB, parentSpanId: root.spanId, sent: servers.mock.requests.filter((r) => r.method === 'POST').at(-1) });
});

test('a model with tools records them and its tool call; the tool run is a TOOL span; runs outside traced code are roots', async () => {
  const weather = tool(async ({ city }) => `Sunny, 21C in ${city}`, { name: 'get_weather', description: 'The weather in a city', schema: z.object({ city: z.string() }) });
  const ai = await model().bindTools([weather]).invoke('What is the weather in Paris?', { callbacks: [handler] });
  assert.equal(ai.tool_calls.length, 1);
  const message = await weather.invoke(ai.tool_calls[0], { callbacks: [handler] });
  assert.equal(message.content, 'Sunny, 21C in Paris');
  const spans = await exported();
  const chat = spans.find((s) => s.name === 'ChatOpenAI');
  const toolSpan = spans.find((s) => s.name === 'get_weather');
  assert.equal(chat.parentSpanId, undefined, 'a root of its own');
  assert.equal(toolSpan.parentSpanId, undefined, 'a root of its own');
  assert.deepEqual(treeOf(spans, chat.traceId), [['CHAT_MODEL ChatOpenAI', [['CHAT_MODEL chat gpt-4o-mini', []]]]]);
  const tools = attr(chat, 'mlflow.chat.tools');
  assert.equal(tools[0].function.name, 'get_weather');
  const out = attr(chat, 'mlflow.spanOutputs').choices[0];
  assert.equal(out.finish_reason, 'tool_calls');
  assert.equal(out.message.content, null);
  assert.deepEqual(out.message.tool_calls, [{ id: ai.tool_calls[0].id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(ai.tool_calls[0].args) } }]);
  assert.equal(toolSpan.attributes['mlflow.spanType'], 'TOOL');
  assert.deepEqual(attr(toolSpan, 'mlflow.spanInputs'), ai.tool_calls[0].args);
  assert.deepEqual(attr(toolSpan, 'mlflow.spanOutputs'), { role: 'tool', content: 'Sunny, 21C in Paris', tool_call_id: ai.tool_calls[0].id, name: 'get_weather' });
  assert.equal(toolSpan.attributes['gen_ai.tool.call.id'], ai.tool_calls[0].id);
});

test('a failing step and a failing model call are ERROR with their exceptions, and the app gets its errors unchanged', async () => {
  const boom = new Error('the lookup table is gone');
  const chain = RunnableSequence.from([RunnableLambda.from((x) => x).withConfig({ runName: 'prepare' }), RunnableLambda.from(() => {
    throw boom;
  }).withConfig({ runName: 'lookup' })]);
  await assert.rejects(withSpan(() => chain.invoke('q', { callbacks: [handler] }), { name: 'request' }), (e) => e === boom);
  const failing = model({ configuration: { defaultHeaders: { 'x-mock-status': '500' } } });
  await assert.rejects(failing.invoke('hi', { callbacks: [handler] }));
  const spans = await exported();
  const lookup = spans.find((s) => s.name === 'lookup');
  assert.equal(lookup.status.code, 2);
  const ev = lookup.events.find((e) => e.name === 'exception');
  assert.equal(ev.attributes.find((a) => a.key === 'exception.message').value.stringValue, 'the lookup table is gone');
  assert.notEqual(spans.find((s) => s.name === 'prepare').status?.code, 2);
  // The sequence failed with its step.
  assert.equal(spans.find((s) => s.name === 'RunnableSequence').status.code, 2);
  const chat = spans.find((s) => s.name === 'ChatOpenAI');
  assert.equal(chat.status.code, 2);
  assert.ok(chat.events.some((e) => e.name === 'exception'));
});

test('a streamed chain gets its inputs at its end, and the streamed answer and its usage on the model span', async () => {
  const chain = ChatPromptTemplate.fromMessages([['human', 'Say {word}']]).pipe(model({ streaming: true })).pipe(new StringOutputParser());
  let text = '';
  await withSpan(async () => {
    for await (const piece of await chain.stream({ word: 'hello' }, { callbacks: [handler] })) text += piece;
  }, { name: 'stream request' });
  assert.equal(text, 'Echo: Say hello');
  const spans = await exported();
  const seq = spans.find((s) => s.name === 'RunnableSequence');
  assert.deepEqual(attr(seq, 'mlflow.spanInputs'), { word: 'hello' });
  const chat = spans.find((s) => s.name === 'ChatOpenAI');
  assert.deepEqual(attr(chat, 'mlflow.spanOutputs').choices[0].message, { role: 'assistant', content: 'Echo: Say hello' });
  assert.ok(attr(chat, 'mlflow.chat.tokenUsage').total_tokens > 0, chat.attributes['mlflow.chat.tokenUsage']);
  const http = spans.find((s) => s.name === 'chat gpt-4o-mini');
  assert.equal(http.parentSpanId, chat.spanId);
});

test("concurrent requests each keep their own tree, also when a model call waits for another's concurrency slot", async () => {
  // One slot: the second request's model call goes out when the first's frees it, in the first
  // request's async context. Its spans still go in its own trace.
  const llm = model({ maxConcurrency: 1 });
  const chain = ragChain(llm);
  const ask = (question) => withSpan(async (span) => ({ answer: await chain.invoke(question, { callbacks: [handler] }), traceId: span.traceId }), { name: 'ask', spanType: SpanType.AGENT });
  const results = await Promise.all(['first question', 'second question', 'third question'].map((q) => ask(q)));
  const spans = await exported();
  for (const [i, q] of ['first question', 'second question', 'third question'].entries()) {
    assert.equal(results[i].answer, `Echo: ${q}`);
    const traceId = results[i].traceId;
    const mine = spans.filter((s) => s.traceId === traceId);
    const chat = mine.find((s) => s.name === 'ChatOpenAI');
    assert.ok(chat, `trace ${i} has its model span`);
    assert.equal(attr(chat, 'mlflow.spanInputs').messages[1].content, q);
    const http = mine.filter((s) => s.name === 'chat gpt-4o-mini');
    assert.equal(http.length, 1, `trace ${i} has its one HTTP call`);
    assert.equal(http[0].parentSpanId, chat.spanId);
    assert.equal(attr(http[0], 'mlflow.spanInputs').messages[1].content, q);
  }
});

test('a tool that calls traced code: its spans go under the tool with the handler as their parent', async () => {
  const lookup = trace(async function lookup(city) {
    await new Promise((r) => setTimeout(r, 1));
    return city.toUpperCase();
  }, { spanType: SpanType.RETRIEVER });
  const weather = tool(async ({ city }) => `Sunny in ${await withSpan(() => lookup(city), { name: 'inner', parent: handler.parent() })}`, { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string() }) });
  await withSpan(() => weather.invoke({ city: 'Oslo' }, { callbacks: [handler] }), { name: 'request' });
  const spans = await exported();
  const traceId = spans.find((s) => s.name === 'request').traceId;
  assert.deepEqual(treeOf(spans, traceId), [['UNKNOWN request', [['TOOL get_weather', [['UNKNOWN inner', [['RETRIEVER lookup', []]]]]]]]], JSON.stringify(treeOf(spans, traceId)));
});

test('a RAG chain reads back from a real MLflow as one trace, in its thread\'s session, with the model usage counted once', { timeout: 300_000 }, async () => {
  const mlflow = await startMlflow();
  try {
    const experimentId = await createExperiment(mlflow.url, 'edgetrace-langchain');
    init({ endpoint: mlflow.url, experimentId, logger: { warn() {} } });
    // A LangGraph thread (the run's metadata's thread_id) is the trace's MLflow session.
    const ask = trace(async function ask(question) {
      return ragChain(model()).invoke(question, { callbacks: [handler], metadata: { thread_id: 'thread-42' } });
    }, { spanType: SpanType.AGENT });
    await ask('What is MLflow?');
    const traceId = getLastActiveTraceId();
    await flush();
    const t = await waitForTrace(mlflow.url, traceId, 11);
    const spans = readSpans(t);
    assert.equal(spans.length, 11);
    const retriever = spans.find((s) => s.type === 'RETRIEVER');
    const json = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
    assert.equal(json(retriever.outputs)[0].page_content, 'MLflow traces: What is MLflow?');
    const chat = spans.find((s) => s.name === 'ChatOpenAI');
    assert.equal(chat.type, 'CHAT_MODEL');
    assert.equal(spans.find((s) => s.name === 'chat gpt-4o-mini').parentId, chat.spanId);
    // MLflow sums a trace's usage over spans with no usage above them: the HTTP call's is under
    // the model span's, so the trace counts the call once.
    assert.equal(t.trace_info.trace_metadata['mlflow.trace.session'], 'thread-42');
    const usage = JSON.parse(t.trace_info.trace_metadata['mlflow.trace.tokenUsage']);
    assert.ok(json(chat.attributes['mlflow.chat.tokenUsage']).total_tokens > 0);
    assert.equal(usage.total_tokens, json(chat.attributes['mlflow.chat.tokenUsage']).total_tokens, JSON.stringify(usage));
  } finally {
    await mlflow.stop();
  }
});

test('concurrent requests whose last messages are the same each keep their own HTTP call, through one concurrency slot', async () => {
  // The body's last message cannot tell them apart; the first in, first out slot order does.
  const llm = model({ maxConcurrency: 1 });
  const users = ['u0', 'u1', 'u2'];
  const chainFor = (user) => ChatPromptTemplate.fromMessages([['system', `You are helping ${user}.`], ['human', 'hi']]).pipe(llm);
  const results = await Promise.all(users.map((u) => withSpan(async (span) => {
    await chainFor(u).invoke({}, { callbacks: [handler] });
    return span.traceId;
  }, { name: `request ${u}` })));
  const spans = await exported();
  for (const [i, u] of users.entries()) {
    const mine = spans.filter((s) => s.traceId === results[i]);
    const chat = mine.find((s) => s.name === 'ChatOpenAI');
    const http = mine.filter((s) => s.name === 'chat gpt-4o-mini');
    assert.equal(http.length, 1, `request ${u} has its one HTTP call`);
    assert.equal(http[0].parentSpanId, chat.spanId);
    assert.equal(attr(http[0], 'mlflow.spanInputs').messages[0].content, `You are helping ${u}.`);
  }
});

/** A retriever that embeds its query with OpenAIEmbeddings through the traced fetch. */
class EmbeddingRetriever extends BaseRetriever {
  lc_namespace = ['edgetrace', 'test'];
  constructor(embeddings) {
    super();
    this.embeddings = embeddings;
  }
  async _getRelevantDocuments(query) {
    const v = await this.embeddings.embedQuery(query);
    return [new Document({ pageContent: `${v.length} dimensions for ${query}` })];
  }
}

test("an embedding call goes under its retriever, not under a model run under way beside it, nor in another request's trace", async () => {
  // OpenAIEmbeddings sends at most 2 calls at once by default: with three requests, the third's
  // goes out in the context of a call that freed a slot, another request's.
  const embeddings = new OpenAIEmbeddings({ model: 'text-embedding-3-small', apiKey: 'sk-test', maxRetries: 0, configuration: { baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(fetch, { parent: handler.parent }) } });
  const chain = RunnableParallel.from({ docs: RunnableLambda.from((x) => x.question).pipe(new EmbeddingRetriever(embeddings)), answer: ChatPromptTemplate.fromMessages([['human', '{question}']]).pipe(model()) });
  const questions = ['what is a trace?', 'what is a span?', 'what is a run?'];
  const results = await Promise.all(questions.map((q) => withSpan(async (span) => {
    await chain.invoke({ question: q }, { callbacks: [handler] });
    return span.traceId;
  }, { name: 'ask' })));
  const spans = await exported();
  for (const [i, q] of questions.entries()) {
    const mine = spans.filter((s) => s.traceId === results[i]);
    const retriever = mine.find((s) => s.name === 'EmbeddingRetriever');
    const embedding = mine.filter((s) => s.attributes['mlflow.spanType'] === 'EMBEDDING');
    assert.equal(embedding.length, 1, `request ${i} has its embedding call: ${mine.map((s) => s.name)}`);
    assert.equal(embedding[0].parentSpanId, retriever.spanId);
    assert.match(embedding[0].attributes['mlflow.spanInputs'], new RegExp(q.replace('?', '\\?')));
    const chat = mine.find((s) => s.name === 'ChatOpenAI');
    assert.equal(mine.filter((s) => s.parentSpanId === chat.spanId).length, 1, 'the model span holds only its own call');
  }
});

test("a prompt's value and LangChain's other classes are recorded as their values, and a cyclic input does no harm", async () => {
  const prompt = ChatPromptTemplate.fromMessages([['system', 'Be brief.'], ['human', '{question}']]);
  const cyclic = { question: 'loops?' };
  cyclic.self = cyclic;
  await withSpan(() => prompt.pipe(RunnableLambda.from((v) => v.toChatMessages().length)).invoke(cyclic, { callbacks: [handler] }), { name: 'request' });
  const all = await exported();
  const spans = all.filter((s) => s.traceId === all.find((r) => r.name === 'request').traceId);
  const p = spans.find((s) => s.name === 'ChatPromptTemplate');
  assert.deepEqual(attr(p, 'mlflow.spanOutputs'), { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'loops?' }] });
  assert.equal(attr(p, 'mlflow.spanInputs').question, 'loops?');
  assert.ok(!p.attributes['mlflow.spanOutputs'].includes('"lc":1'), p.attributes['mlflow.spanOutputs']);
});

test('runs of a stream left with break are ended, failed, once they have gone runTimeoutMs without news', async () => {
  const quick = langChainHandler({ runTimeoutMs: 200 });
  const chain = ChatPromptTemplate.fromMessages([['human', 'Say {word}']]).pipe(model({ streaming: true })).pipe(new StringOutputParser());
  await withSpan(async () => {
    for await (const piece of await chain.stream({ word: 'a long answer' }, { callbacks: [quick] })) if (piece) break;
  }, { name: 'abandoned stream' });
  let spans = await exported();
  assert.equal(spans.filter((s) => s.name === 'RunnableSequence').length, 0, 'LangChain did not end the sequence');
  await new Promise((r) => setTimeout(r, 300));
  // The next run the handler hears of sweeps the abandoned ones.
  await RunnableLambda.from((x) => x).invoke(1, { callbacks: [quick] });
  spans = await exported();
  const seq = spans.find((s) => s.name === 'RunnableSequence');
  assert.ok(seq, 'the sequence span ended');
  assert.equal(seq.status.code, 2);
  assert.match(seq.status.message, /never ended this run/);
  const root = spans.find((s) => s.name === 'abandoned stream');
  assert.equal(seq.parentSpanId, root.spanId);
  // Ended at its last news, not at the sweep.
  assert.ok(BigInt(seq.endTimeUnixNano) - BigInt(seq.startTimeUnixNano) < 200_000_000n, `${seq.startTimeUnixNano}..${seq.endTimeUnixNano}`);
});

test("a call whose body holds another waiting model run's last message goes under its own model span", async () => {
  // "question" waits for the one slot; "another question", from a model of its own, goes out
  // meanwhile, and its body holds "question" too.
  const slotted = model({ maxConcurrency: 1, configuration: { defaultHeaders: { 'x-mock-delay-ms': '100' } } });
  await withSpan(() => Promise.all([
    slotted.invoke('first question', { callbacks: [handler] }),
    slotted.invoke('question', { callbacks: [handler] }),
    new Promise((r) => setTimeout(r, 20)).then(() => model().invoke('another question', { callbacks: [handler] })),
  ]), { name: 'request' });
  const spans = await exported();
  const last = (s) => attr(s, 'mlflow.spanInputs').messages.at(-1).content;
  const calls = spans.filter((s) => s.name === 'chat gpt-4o-mini');
  assert.equal(calls.length, 3);
  for (const h of calls) assert.equal(last(spans.find((p) => p.spanId === h.parentSpanId)), last(h));
});

test("a LangChain agent (createAgent, on LangGraph) is one tree: its graph's nodes, each model call with its HTTP call, the tool; its thread is the trace's session", async () => {
  const weather = tool(async ({ city }) => `Sunny in ${city}`, { name: 'get_weather', description: 'The weather in a city', schema: z.object({ city: z.string() }) });
  const agent = createAgent({ model: model(), tools: [weather] });
  const out = await withSpan(() => agent.invoke({ messages: [{ role: 'user', content: 'Weather in Paris?' }] }, { callbacks: [handler], configurable: { thread_id: 'thread-7' } }), { name: 'request', spanType: SpanType.AGENT });
  assert.equal(out.messages.at(-1).content, 'Echo: Sunny in Paris');
  const spans = await exported();
  const traceId = spans.find((s) => s.name === 'request').traceId;
  const chat = ['CHAT_MODEL ChatOpenAI', [['CHAT_MODEL chat gpt-4o-mini', []]]];
  // (LangGraph's own RunnableLambda steps after each model call route the graph.)
  assert.deepEqual(treeOf(spans, traceId), [['AGENT request', [['CHAIN LangGraph', [
    ['CHAIN __start__', []],
    ['CHAIN model_request', [chat, ['CHAIN RunnableLambda', []]]],
    ['CHAIN tools', [['TOOL get_weather', []]]],
    ['CHAIN model_request', [chat, ['CHAIN RunnableLambda', []]]],
  ]]]]], JSON.stringify(treeOf(spans, traceId)));
  const mine = spans.filter((s) => s.traceId === traceId);
  // Every value the handler recorded is the app's, none LangChain's serialization of its classes.
  // (The app's own span records what its function returned: LangChain's messages, as their JSON.)
  for (const s of mine.filter((x) => x.name !== 'request')) for (const k of ['mlflow.spanInputs', 'mlflow.spanOutputs']) assert.ok(!(s.attributes[k] ?? '').includes('"lc":1'), `${s.name} ${k}: ${s.attributes[k]}`);
  const second = mine.filter((s) => s.name === 'ChatOpenAI')[1];
  const messages = attr(second, 'mlflow.spanInputs').messages;
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(messages[1].tool_calls[0].function.name, 'get_weather');
  assert.equal(messages[2].content, 'Sunny in Paris');
  assert.equal(attr(mine.find((s) => s.name === 'get_weather'), 'mlflow.spanInputs').city, 'Paris');
  assert.ok(mine.some((s) => s.attributes['session.id'] === 'thread-7'));
});

test("a call is matched by its whole conversation: a user whose history holds another user's question keeps its own call", async () => {
  const llm = model();
  const ask = (user, messages) => withSpan(async (span) => {
    await llm.invoke(messages, { callbacks: [handler] });
    return span.traceId;
  }, { name: `request ${user}` });
  const [b, a] = await Promise.all([
    ask('B', [new HumanMessage('What is MLflow?'), new AIMessage('An ML platform.'), new HumanMessage('Why?')]),
    ask('A', [new HumanMessage('What is MLflow?')]),
  ]);
  const spans = await exported();
  for (const [traceId, last] of [[a, 'What is MLflow?'], [b, 'Why?']]) {
    const chat = spans.find((s) => s.traceId === traceId && s.name === 'ChatOpenAI');
    const calls = spans.filter((s) => s.parentSpanId === chat.spanId);
    assert.equal(calls.length, 1, `${last}: ${calls.length} calls`);
    assert.equal(attr(calls[0], 'mlflow.spanInputs').messages.at(-1).content, last);
  }
});

test("LangChain's retries of a call go under its own model span, also while another request's call waits with the same last message", async () => {
  // Each body's first attempt is answered 429; LangChain retries it.
  const seen = new Set();
  const flaky = (input, init) => {
    const first = !seen.has(init.body);
    seen.add(init.body);
    return fetch(input, { ...init, headers: { ...init.headers, ...(first ? { 'x-mock-status': '429', 'x-mock-retry-after': '0' } : {}) } });
  };
  const llm = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-test', maxRetries: 2, maxConcurrency: 1, configuration: { baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(flaky, { parent: handler.parent }) } });
  const ask = (who) => withSpan(async (span) => {
    await llm.invoke([new SystemMessage(`Document of ${who}`), new HumanMessage('Summarize.')], { callbacks: [handler] });
    return span.traceId;
  }, { name: `request ${who}` });
  const ids = await Promise.all([ask('X'), ask('Y')]);
  const spans = await exported();
  for (const [i, who] of ['X', 'Y'].entries()) {
    const chat = spans.find((s) => s.traceId === ids[i] && s.name === 'ChatOpenAI');
    const calls = spans.filter((s) => s.parentSpanId === chat.spanId);
    assert.deepEqual(calls.map((c) => [attr(c, 'mlflow.spanInputs').messages[0].content, c.status?.code]).sort((p, q) => (p[1] > q[1] ? -1 : 1)), [[`Document of ${who}`, 2], [`Document of ${who}`, 1]]);
  }
});

test("ChatAnthropic's runs too: its system prompt sent apart, usage from Anthropic's answer, the HTTP call under its model span", async () => {
  const claude = new ChatAnthropic({ model: 'claude-sonnet-4-5', apiKey: 'sk-ant-test', maxRetries: 0, clientOptions: { baseURL: servers.mock.url, fetch: traceFetch(fetch, { parent: handler.parent }) } });
  const chain = ChatPromptTemplate.fromMessages([['system', 'You answer in one line.'], ['human', '{question}']]).pipe(claude).pipe(new StringOutputParser());
  const ask = (q) => withSpan(async (span) => ({ answer: await chain.invoke({ question: q }, { callbacks: [handler] }), traceId: span.traceId }), { name: 'ask', spanType: SpanType.AGENT });
  const results = await Promise.all([ask('What is a trace?'), ask('What is a span?')]);
  const spans = await exported();
  for (const [i, q] of ['What is a trace?', 'What is a span?'].entries()) {
    assert.equal(results[i].answer, `Echo: ${q}`);
    const mine = spans.filter((s) => s.traceId === results[i].traceId);
    const chat = mine.find((s) => s.name === 'ChatAnthropic');
    assert.deepEqual(attr(chat, 'mlflow.spanInputs'), { messages: [{ role: 'system', content: 'You answer in one line.' }, { role: 'user', content: q }] });
    assert.equal(chat.attributes['mlflow.llm.provider'], 'anthropic');
    assert.equal(chat.attributes['mlflow.llm.model'], 'claude-sonnet-4-5');
    const calls = mine.filter((s) => s.parentSpanId === chat.spanId);
    assert.equal(calls.length, 1);
    assert.equal(attr(calls[0], 'mlflow.spanInputs').messages.at(-1).content, q);
    const usage = attr(chat, 'mlflow.chat.tokenUsage');
    assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0, JSON.stringify(usage));
    assert.equal(usage.input_tokens, attr(calls[0], 'mlflow.chat.tokenUsage').input_tokens);
  }
});

/** The HTTP status of each call under each model span, by the value of `key` in its run's metadata or its trace's root name. */
function callsByModel(spans, nameOf) {
  const out = {};
  for (const m of spans.filter((s) => s.name === 'ChatOpenAI')) {
    out[nameOf(m)] = spans.filter((h) => h.parentSpanId === m.spanId).map((h) => h.attributes['http.response.status_code']).sort();
  }
  return out;
}

test('retries of the same conversation by two users, with no span active (each run a root), each go under their own model span', async () => {
  const seen = new Map();
  // The first call with the body: 429 at once; the second: 429 after 2.5 s, once the first's retry
  // (after LangChain's backoff of 1 to 2 s) is under way; retries: 200. (Two calls with the same
  // body that fail at once, with no context to tell them apart, may have their retries swapped.)
  const flaky = (input, init) => {
    const n = (seen.get(init.body) ?? 0) + 1;
    seen.set(init.body, n);
    const h = n === 1 ? { 'x-mock-status': '429', 'x-mock-retry-after': '0' } : n === 2 ? { 'x-mock-status': '429', 'x-mock-retry-after': '0', 'x-mock-delay-ms': '2500' } : { 'x-mock-delay-ms': '100' };
    return fetch(input, { ...init, headers: { ...init.headers, ...h } });
  };
  const llm = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-test', maxRetries: 2, configuration: { baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(flaky, { parent: handler.parent }) } });
  const ask = (user) => llm.invoke([new SystemMessage('You are a helpful assistant.'), new HumanMessage('What is MLflow?')], { callbacks: [handler], metadata: { user } });
  await Promise.all([ask('A'), ask('B')]);
  const calls = callsByModel(await exported(), (m) => attr(m, 'metadata').user);
  assert.deepEqual(calls, { A: [200, 429], B: [200, 429] }, JSON.stringify(calls));
});

test('with one concurrency slot, a retry goes under its own model span, not under a run waiting with the same conversation', async () => {
  let n = 0;
  // Call 1 is U0's; call 2, A's first attempt, is answered 429.
  const flaky = (input, init) => {
    n++;
    const h = n === 2 ? { 'x-mock-status': '429', 'x-mock-retry-after': '0' } : { 'x-mock-delay-ms': '50' };
    return fetch(input, { ...init, headers: { ...init.headers, ...h } });
  };
  const llm = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-test', maxRetries: 2, maxConcurrency: 1, configuration: { baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(flaky, { parent: handler.parent }) } });
  const ask = (user, q) => withSpan(() => llm.invoke([new SystemMessage('You are a helpful assistant.'), new HumanMessage(q)], { callbacks: [handler] }), { name: `user ${user}` });
  await Promise.all([ask('U0', 'Something else'), ask('A', 'What is MLflow?'), ask('B', 'What is MLflow?')]);
  const spans = await exported();
  const calls = callsByModel(spans, (m) => spans.find((s) => s.traceId === m.traceId && !s.parentSpanId).name);
  assert.deepEqual(calls, { 'user U0': [200], 'user A': [200, 429], 'user B': [200] }, JSON.stringify(calls));
});
