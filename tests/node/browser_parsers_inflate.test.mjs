// The browser entry's model API parsers ship deflated, as base64 (pkg/llm/wasm-deflate.js), and
// pkg/llm-browser.js inflates them with DecompressionStream (pkg/inflate.js). Node has the same web APIs, so the
// loader runs here as it does in a browser: without DecompressionStream it fails with a clear
// error (edgetrace then traces model calls without their responses), and with it the parsers
// it gives parse a real OpenAI response into the core's commands.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateBase64 } from '../../pkg/inflate.js';
import { loadParsers } from '../../pkg/llm-browser.js';

test('without DecompressionStream the loader says why it cannot load the parsers', async () => {
  const saved = globalThis.DecompressionStream;
  delete globalThis.DecompressionStream;
  try {
    await assert.rejects(loadParsers(inflateBase64), /DecompressionStream is not defined/);
  } finally {
    globalThis.DecompressionStream = saved;
  }
});

test('the inflated parsers turn an OpenAI chat response into commands for the span', async () => {
  const LlmCalls = await loadParsers(inflateBase64);
  const calls = new LlmCalls('{}');
  const h = 0x20000001; // a handle the JS recorder chooses (tracer.rs GIVEN_HANDLES and up)
  const request = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  calls.start(h, 'openai', 'api.openai.com', '/v1/chat/completions', request, 1000, 32768);
  assert.equal(calls.in_flight(), 1);
  const body = JSON.stringify({
    id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
  });
  const commands = Buffer.from(calls.finish_body(h, 200, new TextEncoder().encode(body), 1500));
  assert.equal(calls.in_flight(), 0);
  const text = commands.toString('latin1');
  assert.ok(text.includes('Hello there'), 'the response text is in the outputs');
  assert.ok(text.includes('gpt-4o-mini-2024-07-18'), 'the response model is an attribute');
  assert.ok(commands.readUInt32LE(1) === h, 'the first command is for the span');
});
