// Without AsyncLocalStorage (browsers, Workers without nodejs_compat) the parent of a span started
// after an await is found on V8's async stack, which does not lead through a promise an async
// function returns without awaiting it. The official Anthropic SDK's fetch middleware does just
// that (`return fetchFn.call(undefined, url, init)`), so its model calls inside a traced function
// started traces of their own. A model call whose parent the stack does not give now takes the one
// trace in flight, says so (`edgetrace.parent_inferred`), and guesses nothing when two traces are
// in flight. Run here in Node on the browsers' path (tests/node/helpers/entry-without-als.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { flush, init, trace, traceFetch } from './helpers/entry-without-als.mjs';
import { shape } from './helpers/collector.mjs';
import { mockAndCollector } from './helpers/harness.mjs';

const servers = mockAndCollector(init);

const spans = async () => {
  await new Promise((r) => setTimeout(r, 20));
  await flush();
  return servers.col.spans();
};
const inferred = (s) => s.attributes['edgetrace.parent_inferred'] === true;
const body = (text) => JSON.stringify({ model: 'claude-3-5-haiku-20241022', max_tokens: 50, messages: [{ role: 'user', content: text }] });
const post = { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } };

// The SDK's shape: a wrapper that returns the inner call's promise without awaiting it; the inner
// call makes the traced fetch after an await of its own.
function viaMiddleware(fetchImpl) {
  const inner = async (url, init) => {
    await Promise.resolve();
    return fetchImpl(url, init);
  };
  return async (url, init) => inner(url, init);
}

test('the Anthropic SDK\'s calls (created and streamed) nest under the traced function; the OpenAI SDK\'s are found on the stack', async () => {
  const anthropic = new Anthropic({ apiKey: 'sk-ant-x', baseURL: servers.mock.url, fetch: traceFetch(), maxRetries: 0 });
  const openai = new OpenAI({ apiKey: 'sk-x', baseURL: `${servers.mock.url}/v1`, fetch: traceFetch(), maxRetries: 0 });
  const turn = trace(async function turn() {
    await anthropic.messages.create({ model: 'claude-3-5-haiku-20241022', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    const stream = anthropic.messages.stream({ model: 'claude-3-5-haiku-20241022', max_tokens: 50, messages: [{ role: 'user', content: 'stream' }] });
    await stream.finalMessage();
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  });
  await turn();
  const all = await spans();
  assert.equal(all.length, 4);
  assert.deepEqual(shape(all), [['turn', [['chat gpt-4o-mini', []], ['messages claude-3-5-haiku-20241022', []], ['messages claude-3-5-haiku-20241022', []]]]]);
  assert.deepEqual(all.filter(inferred).map((s) => s.name), ['messages claude-3-5-haiku-20241022', 'messages claude-3-5-haiku-20241022']);
});

test('a call behind such a middleware nests under the deepest traced function of a chain, and under the root when steps run side by side', async () => {
  const call = viaMiddleware(traceFetch());
  const step = trace(async function step(text) {
    await new Promise((r) => setTimeout(r, 1));
    return (await call(`${servers.mock.url}/v1/messages`, { ...post, body: body(text) })).json();
  });
  const chain = trace(async function chain() {
    return step('one');
  });
  await chain();
  let all = await spans();
  assert.deepEqual(shape(all), [['chain', [['step', [['messages claude-3-5-haiku-20241022', []]]]]]]);
  assert.ok(inferred(all.find((s) => s.name.startsWith('messages'))));

  servers.col.requests.length = 0;
  const sideBySide = trace(async function sideBySide() {
    return Promise.all([step('a'), step('b')]);
  });
  await sideBySide();
  all = await spans();
  // Both steps are in flight when each call starts: which one made it cannot be told, so both
  // calls go under the root, not under a step that may not be theirs.
  assert.deepEqual(shape(all), [['sideBySide', [
    ['messages claude-3-5-haiku-20241022', []], ['messages claude-3-5-haiku-20241022', []], ['step', []], ['step', []],
  ]]]);
});

test('with two traces in flight the call is not guessed: it starts its own trace; with none in flight too', async () => {
  const call = viaMiddleware(traceFetch());
  let release;
  const bothStarted = new Promise((r) => (release = r));
  let started = 0;
  const turn = trace(async function turn(text) {
    if (++started === 2) release();
    await bothStarted;
    return (await call(`${servers.mock.url}/v1/messages`, { ...post, body: body(text) })).json();
  });
  await Promise.all([turn('a'), turn('b')]);
  await (await call(`${servers.mock.url}/v1/messages`, { ...post, body: body('alone') })).json();
  const all = await spans();
  assert.equal(all.length, 5);
  const calls = all.filter((s) => s.name.startsWith('messages'));
  assert.equal(calls.length, 3);
  for (const c of calls) {
    assert.equal(c.parentSpanId, undefined, 'a call no stack leads to starts its own trace');
    assert.ok(!inferred(c));
  }
  assert.equal(new Set(all.map((s) => s.traceId)).size, 5);
});
