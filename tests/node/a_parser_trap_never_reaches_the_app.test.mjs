// A fault in the model API parsers' wasm module (a trap) while a model call is traced must not
// reach the app: its response arrives byte for byte, the span still ends and is exported, and the
// module, whose state a trap leaves as it stopped, is not called again (later model calls are
// traced without their responses), with one warning. The trap is simulated by making the parsers'
// `chunk` throw a `WebAssembly.RuntimeError`, as a trapping wasm call does (the fuzzers found one
// such trap in the Anthropic stream parser, fixed since: tests/model_responses_become_llm_attributes.rs).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LlmCalls } from '../../pkg/llm/edgetrace_llm.js';
import { flush, init, traceFetch } from '../../pkg/node.js';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { startCollector } from './helpers/collector.mjs';

let mock;
let col;
before(async () => {
  mock = await startMockLlm();
  col = await startCollector();
});
after(async () => {
  await mock?.close();
  await col?.close();
});

const chat = (stream) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
  body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'What is MLflow?' }] }),
});

test('a trap in the parsers: the app gets its response, the span ends, the parsers are not called again', async () => {
  const warnings = [];
  init({ endpoint: col.url, format: 'json', logger: { warn: (m) => warnings.push(m) } });
  const calls = { start: 0, chunk: 0, finish_body: 0, finish_stream: 0 };
  const original = {};
  for (const m of Object.keys(calls)) {
    original[m] = LlmCalls.prototype[m];
    LlmCalls.prototype[m] = function (...args) {
      calls[m]++;
      if (m === 'chunk') throw new WebAssembly.RuntimeError('unreachable');
      return original[m].apply(this, args);
    };
  }
  try {
    const url = `${mock.url}/v1/chat/completions`;
    const expected = await (await fetch(url, chat(true))).text();
    const traced = traceFetch();

    const first = await traced(url, chat(true));
    assert.equal(first.status, 200);
    assert.equal(await first.text(), expected, 'the streamed response reaches the app unchanged');
    assert.equal(calls.start, 1, 'the parsers followed the call until the trap');
    assert.equal(calls.chunk, 1, 'after the trap, no later chunk went into the parsers');
    assert.equal(calls.finish_stream, 0, 'nor did the end of the stream');

    const second = await traced(url, chat(false));
    const body = await second.json();
    assert.equal(body.object, 'chat.completion', 'a later call answers as usual');
    assert.deepEqual(calls, { start: 1, chunk: 1, finish_body: 0, finish_stream: 0 }, 'a later call does not go into the parsers');

    await new Promise((r) => setTimeout(r, 20));
    await flush();
    const spans = col.spans();
    assert.equal(spans.length, 2, 'both calls were traced and exported');
    for (const s of spans) assert.equal(s.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.equal(spans[0].attributes['mlflow.spanOutputs'], undefined, 'no outputs from parsers that trapped');
    assert.deepEqual(warnings, ['edgetrace: the model API parsers trapped, so model calls are traced without their responses from now on: unreachable']);
  } finally {
    Object.assign(LlmCalls.prototype, original);
  }
});
