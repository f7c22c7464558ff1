// A traced model call whose JSON answer the app reads (`await res.json()`) inside a traced function
// ended after that function: its span ended when a copy of the body read by edgetrace had been
// parsed, a few microtasks after the app's read, so the parent ended first. Every such call then
// counted in outOfOrderEnds and MLflow showed the call outliving its caller. Now the span ends when
// the app has read the whole body (or, for an app that never reads it, when edgetrace's copy is in).
// (Found by a packaging review, in every runtime it tried.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { flush, getStats, init, trace, traceFetch } from '../../pkg/node.js';
import { attr } from './helpers/collector.mjs';
import { mockAndCollector } from './helpers/harness.mjs';

const servers = mockAndCollector(init);

const tracedFetch = traceFetch(fetch);
const chat = (q) => tracedFetch(`${servers.mock.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }] }),
});

/** Each root's model call, with both spans, after the trace is exported. */
async function calls() {
  await flush();
  const spans = servers.col.spans();
  return spans.filter((s) => !s.parentSpanId).map((root) => ({ root, call: spans.find((s) => s.parentSpanId === root.spanId) }));
}

for (const [how, read] of [
  ['res.json()', (res) => res.json()],
  ['res.text()', async (res) => JSON.parse(await res.text())],
  ['res.arrayBuffer()', async (res) => JSON.parse(new TextDecoder().decode(await res.arrayBuffer()))],
  ['a reader of res.body', async (res) => {
    const chunks = [];
    for await (const c of res.body) chunks.push(...c);
    return JSON.parse(new TextDecoder().decode(new Uint8Array(chunks)));
  }],
]) {
  test(`a model call read by ${how} ends before the traced function that awaits it`, async () => {
    const before = getStats().outOfOrderEnds;
    const answer = trace(async (q) => (await read(await chat(q))).choices[0].message.content, { name: 'answer' });
    const texts = [];
    for (let i = 0; i < 5; i++) texts.push(await answer(`question ${i}`));
    const got = await calls();
    assert.equal(got.length, 5);
    for (const { root, call } of got) {
      assert.ok(call, 'the model call is a child of the function');
      assert.ok(BigInt(call.endTimeUnixNano) <= BigInt(root.endTimeUnixNano), `${call.name} ends at ${call.endTimeUnixNano}, after ${root.name} at ${root.endTimeUnixNano}`);
      // And it is whole: the answer and its usage parsed from the body.
      assert.ok(texts.includes(attr(call, 'mlflow.spanOutputs').choices[0].message.content));
      assert.ok(attr(call, 'mlflow.chat.tokenUsage').input_tokens > 0);
    }
    assert.equal(getStats().outOfOrderEnds - before, 0);
  });
}

test('a model call whose body the app never reads still ends, with its answer', async () => {
  const res = await trace(async () => chat('unread'), { name: 'unread' })();
  assert.equal(res.status, 200);
  const [{ call }] = await calls();
  assert.ok(attr(call, 'mlflow.chat.tokenUsage').input_tokens > 0);
  assert.equal(getStats().open, 0);
});

test("the official SDK's calls end before the function that makes them", async () => {
  const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${servers.mock.url}/v1`, fetch: tracedFetch, maxRetries: 0 });
  const before = getStats().outOfOrderEnds;
  const ask = trace(async (q) => (await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }] })).choices[0].message.content, { name: 'ask' });
  for (let i = 0; i < 3; i++) await ask(`sdk ${i}`);
  for (const { root, call } of await calls()) assert.ok(BigInt(call.endTimeUnixNano) <= BigInt(root.endTimeUnixNano));
  assert.equal(getStats().outOfOrderEnds - before, 0);
});

test('a failed model call carries an exception named as the official SDKs name it, as MLflow autologs it', async () => {
  // MLflow's UI marks and filters spans by their exception events; a failed call had ERROR status
  // and no event (found by comparing edgetrace's traces with MLflow's Python autolog).
  for (const [status, type] of [[429, 'RateLimitError'], [500, 'InternalServerError'], [400, 'BadRequestError']]) {
    servers.col.requests.length = 0;
    const res = await tracedFetch(`${servers.mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'x-mock-status': String(status) },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fail' }] }),
    });
    assert.equal(res.status, status);
    await res.text();
    await flush();
    const [span] = servers.col.spans();
    assert.equal(span.status.code, 2);
    assert.match(span.status.message, new RegExp(`^HTTP ${status}: `), 'the API\'s own message stays the status');
    assert.equal(span.events.length, 1);
    const ev = span.events[0];
    assert.equal(ev.name, 'exception');
    const attrs = Object.fromEntries(ev.attributes.map((a) => [a.key, a.value.stringValue]));
    assert.equal(attrs['exception.type'], type);
    assert.equal(attrs['exception.message'], span.status.message);
    assert.equal(span.attributes['mlflow.spanLogLevel'], 40);
  }
});
