// traceFetch() inside workerd (Miniflare), with no compatibility flags and with nodejs_compat: a
// fixture Worker calls the local mock model server with plain fetch through traceFetch() (no
// argument, so the global fetch is wrapped and must be called without "Illegal invocation"):
// OpenAI chat non-streaming and streaming, Anthropic messages streaming. The Worker reads every
// answer itself and exports OTLP JSON to a local collector; the spans must be CHAT_MODEL with the
// exact usage the mock sent, the streamed text reassembled exactly as the Worker read it, the
// model name, and the API key sent in the headers must be in no exported body.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workerMiniflare } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { attr, startCollector } from '../node/helpers/collector.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const KEY = 'sk-workerd-SECRET-5a5a5a5a5a5a5a5a';

let col;
let llm;
const instances = [];

function miniflare(compatibilityFlags) {
  const mf = workerMiniflare(join(fixtures, 'worker_llm.js'), { compatibilityFlags });
  instances.push(mf);
  return mf;
}

before(async () => {
  col = await startCollector();
  llm = await startMockLlm();
});
after(async () => {
  await Promise.allSettled(instances.map((mf) => mf.dispose()));
  await col?.close();
  await llm?.close();
});

/** Runs one scenario; returns what the Worker read, the spans and the raw export bodies. */
async function run(mf, scenario) {
  col.requests.length = 0;
  llm.requests.length = 0;
  const res = await mf.dispatchFetch(`http://worker.test/${scenario}`, { headers: { 'x-collector': col.url, 'x-llm': llm.url, 'x-key': KEY } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.error, null, `the Worker threw: ${JSON.stringify(body.error)}`);
  assert.ok(!/Illegal invocation/.test(text), 'no Illegal invocation anywhere in the Worker answer');
  assert.equal(body.result.status, 200);
  assert.equal(body.openBeforeFlush, 0, 'the model span ended after the Worker read the answer');
  // The key really went out to the model API in the Authorization header...
  const sent = llm.requests.filter((r) => r.method === 'POST');
  assert.equal(sent.length, 1, 'one model API call');
  assert.equal(sent[0].headers.authorization, `Bearer ${KEY}`);
  // ...and never came back in an export.
  assert.ok(col.requests.length >= 1, 'the Worker exported to the collector');
  for (const r of col.requests) {
    const raw = r.body.toString('latin1');
    assert.ok(!raw.includes(KEY), 'an export carries the API key');
    assert.ok(!raw.includes('SECRET'), 'an export carries part of the API key');
    assert.ok(!/Illegal invocation/.test(raw), 'a span records Illegal invocation');
  }
  assert.equal(body.stats.lastExportError, null);
  assert.equal(body.stats.dropped.total, 0);
  const spans = col.spans();
  assert.equal(spans.length, 1, 'exactly one span: the model call');
  const [span] = spans;
  assert.equal(span.attributes['mlflow.spanType'], 'CHAT_MODEL');
  assert.equal(span.status.code, 1, `span status: ${JSON.stringify(span.status)}`);
  return { result: body.result, span, request: sent[0] };
}

function modelCallTests(flags) {
  let mf;
  before(() => {
    mf = miniflare(flags);
  });

  test('OpenAI chat (non-streaming) through traceFetch(): CHAT_MODEL, exact usage, model, output', async () => {
    const { result, span, request } = await run(mf, 'openai');
    assert.equal(span.attributes['mlflow.llm.model'], 'gpt-4o-mini');
    assert.equal(span.attributes['mlflow.llm.provider'], 'openai');
    assert.equal(span.attributes['mlflow.message.format'], 'openai');
    assert.deepEqual(attr(span, 'mlflow.spanInputs').messages, request.body.messages);
    assert.equal(attr(span, 'mlflow.spanOutputs').choices[0].message.content, result.text);
    assert.match(result.text, /^Echo: What is workerd\?/);
    const u = attr(span, 'mlflow.chat.tokenUsage');
    assert.deepEqual(
      { input_tokens: u.input_tokens, output_tokens: u.output_tokens, total_tokens: u.total_tokens },
      { input_tokens: result.usage.prompt_tokens, output_tokens: result.usage.completion_tokens, total_tokens: result.usage.total_tokens },
    );
    assert.equal(u.input_tokens, 3, 'the mock counts 3 input words');
  });

  test('OpenAI chat streaming through traceFetch(): reassembled text equals what the Worker read, exact usage', async () => {
    const { result, span } = await run(mf, 'openaiStream');
    assert.ok(result.text.length > 0);
    assert.match(result.text, /^Echo: Stream from a Worker/);
    assert.ok(result.usage, 'the mock sent a usage chunk');
    assert.equal(span.attributes['mlflow.llm.model'], 'gpt-4o');
    assert.equal(attr(span, 'mlflow.spanOutputs').choices[0].message.content, result.text);
    const u = attr(span, 'mlflow.chat.tokenUsage');
    assert.equal(u.input_tokens, result.usage.prompt_tokens);
    assert.equal(u.output_tokens, result.usage.completion_tokens);
    assert.equal(u.total_tokens, result.usage.total_tokens);
    assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
  });

  test('Anthropic messages streaming through traceFetch(): reassembled text, exact final usage, model', async () => {
    const { result, span } = await run(mf, 'anthropicStream');
    assert.match(result.text, /^Echo: Hello Claude in workerd/);
    assert.equal(span.attributes['mlflow.llm.model'], 'claude-sonnet-4-5');
    assert.equal(span.attributes['mlflow.llm.provider'], 'anthropic');
    const out = attr(span, 'mlflow.spanOutputs');
    const streamed = out.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
    assert.equal(streamed, result.text);
    const u = attr(span, 'mlflow.chat.tokenUsage');
    assert.equal(u.input_tokens, result.usage.input_tokens);
    assert.equal(u.output_tokens, result.usage.output_tokens, 'the final count from message_delta, not message_start\'s 1');
    assert.ok(result.usage.output_tokens > 1);
  });
}

describe('traceFetch() in workerd, no compatibility flags', () => modelCallTests([]));
describe('traceFetch() in workerd, nodejs_compat', () => modelCallTests(['nodejs_compat']));
