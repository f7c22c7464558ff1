// What the LangChain tests of each runtime (Node, workerd, Chromium) check of the RAG chain of
// tests/shared/langchain_rag.js once its spans are exported: the tree and what each run's span holds.
import assert from 'node:assert/strict';
import { attr } from '../node/helpers/collector.mjs';

/** One trace's spans as nested ['TYPE name', [children…]]. */
export function treeOf(spans, traceId) {
  const mine = spans.filter((s) => s.traceId === traceId);
  // Steps in the order they started; a RunnableMap's branches, which start together, by name.
  const byStart = (a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1);
  const byName = (a, b) => (a.name < b.name ? -1 : 1);
  const kids = (s) => mine.filter((k) => k.parentSpanId === s.spanId).sort(s.name === 'RunnableMap' ? byName : byStart);
  const shape = (s) => [`${s.attributes['mlflow.spanType']} ${s.name}`, kids(s).map(shape)];
  return mine.filter((s) => !s.parentSpanId).map(shape);
}

/** The tree of one run of the RAG chain, its model's HTTP call under the model span. */
export const RAG_TREE = ['CHAIN RunnableSequence', [
  ['CHAIN RunnableMap', [['CHAIN RunnablePassthrough', []], ['CHAIN RunnableSequence', [['RETRIEVER KnowledgeBase', []], ['CHAIN RunnableLambda', []]]]]],
  ['CHAIN ChatPromptTemplate', []],
  ['CHAT_MODEL ChatOpenAI', [['CHAT_MODEL chat gpt-4o-mini', []]]],
  ['CHAIN StrOutputParser', []],
]];
export const SPANS_PER_CHAIN = 10;

/**
 * In the trace `traceId`, the model span that answered `q` and its one HTTP call, asserted to be
 * one each and to hold `q`'s conversation, answer and usage.
 */
export function modelAndCall(spans, traceId, q) {
  const mine = spans.filter((s) => s.traceId === traceId);
  const chats = mine.filter((s) => s.name === 'ChatOpenAI' && attr(s, 'mlflow.spanInputs').messages[1]?.content === q);
  assert.equal(chats.length, 1, `the trace has the one model span of "${q}"`);
  const [chat] = chats;
  assert.deepEqual(attr(chat, 'mlflow.spanOutputs').choices[0].message, { role: 'assistant', content: `Echo: ${q}` });
  const kids = mine.filter((s) => s.parentSpanId === chat.spanId);
  assert.equal(kids.length, 1, `the model span of "${q}" has one child`);
  const [http] = kids;
  assert.equal(http.name, 'chat gpt-4o-mini');
  assert.equal(attr(http, 'mlflow.spanInputs').messages[1].content, q, `the HTTP call under "${q}"'s model span is its own`);
  // The usage LangChain read from the mock's answer, and what the traced fetch read from it.
  assert.ok(attr(http, 'mlflow.chat.tokenUsage').total_tokens > 0);
  assert.deepEqual(attr(chat, 'mlflow.chat.tokenUsage'), attr(http, 'mlflow.chat.tokenUsage'));
  return { chat, http };
}

/**
 * The spans of one run of the RAG chain in the trace `traceId`, under the span `parentSpanId`, for
 * the question `question` with the documents of `kb` ({ topic, source }); `sent`, the request the
 * mock got, where the test has it.
 */
export function assertRagRun(spans, traceId, { question, kb, parentSpanId, sent }) {
  const mine = spans.filter((s) => s.traceId === traceId);
  const one = (name) => {
    const found = mine.filter((s) => s.name === name);
    assert.equal(found.length, 1, `one ${name} span`);
    return found[0];
  };
  const retriever = one('KnowledgeBase');
  assert.equal(attr(retriever, 'mlflow.spanInputs'), question);
  assert.deepEqual(attr(retriever, 'mlflow.spanOutputs'), [
    { page_content: `${kb.topic}: ${question}`, metadata: { source: kb.source }, id: 'doc-1' },
    { page_content: 'Spans nest.', metadata: { source: 'kb/spans.md' }, id: null },
  ]);

  const { chat, http } = modelAndCall(spans, traceId, question);
  assert.deepEqual(attr(chat, 'mlflow.spanInputs'), { messages: [
    { role: 'system', content: `Answer from: ${kb.topic}: ${question}\nSpans nest.` },
    { role: 'user', content: question },
  ] });
  assert.deepEqual(attr(chat, 'mlflow.spanOutputs'), { choices: [{ message: { role: 'assistant', content: `Echo: ${question}` }, finish_reason: 'stop' }] });
  assert.equal(chat.attributes['mlflow.llm.model'], 'gpt-4o-mini');
  assert.equal(chat.attributes['mlflow.llm.provider'], 'openai');
  assert.equal(chat.attributes['mlflow.message.format'], 'langchain');
  assert.equal(attr(chat, 'invocation_params').model, 'gpt-4o-mini');
  // The HTTP call is the one the mock got.
  if (sent) assert.deepEqual(attr(http, 'mlflow.spanInputs').messages, sent.body.messages);

  // The prompt's and parser's inputs are the values, not LangChain's serialization of its classes.
  assert.equal(attr(one('ChatPromptTemplate'), 'mlflow.spanInputs').question, question);
  assert.deepEqual(attr(one('StrOutputParser'), 'mlflow.spanInputs'), { role: 'assistant', content: `Echo: ${question}` });
  const outer = mine.filter((s) => s.name === 'RunnableSequence' && s.parentSpanId === parentSpanId);
  assert.equal(outer.length, 1, 'the chain is under its parent span');
  assert.deepEqual(attr(outer[0], 'mlflow.spanOutputs'), { output: `Echo: ${question}` });
  for (const s of mine) assert.notEqual(s.status?.code, 2, `${s.name} is no error`);
}
