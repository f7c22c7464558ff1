// getStats().truncatedValues counts every value cut to maxValueBytes once, whoever cut it: a
// model call's inputs and outputs, which the parsers cut themselves (their longest strings, so
// MLflow still reads the messages), count as a plain value the core cuts does. Through the built
// package, against the local mock model server (which echoes the last message, so a long prompt
// makes a long answer); spans go to a local collector as OTLP JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flush, getStats, init, traceFetch, withSpan } from '../../pkg/node.js';
import { mockAndCollector } from './helpers/harness.mjs';

const MARKER = '…[edgetrace: truncated, original bytes: ';

const servers = mockAndCollector(init);

async function modelSpan() {
  await new Promise((r) => setTimeout(r, 20));
  await flush();
  const spans = servers.col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(spans.length, 1);
  return spans[0];
}

const truncated = () => getStats().truncatedValues;
const chat = (content, stream) => JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content }] });

test('a plain value over the limit counts once', async () => {
  const before = truncated();
  await withSpan(async (s) => s.setInputs({ text: 'x'.repeat(120 * 1024) }), { name: 'plain' });
  await flush();
  assert.equal(truncated() - before, 1);
});

for (const stream of [false, true]) {
  const kind = stream ? 'streamed' : 'not streamed';
  test(`a ${kind} chat call with a 120 KB message counts its cut inputs and its cut outputs once each`, async () => {
    const before = truncated();
    const res = await traceFetch()(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body: chat('word '.repeat(24 * 1024), stream) });
    await res.text();
    const span = await modelSpan();
    for (const k of ['mlflow.spanInputs', 'mlflow.spanOutputs']) {
      assert.ok(span.attributes[k].includes(MARKER), `${k} is cut`);
      assert.ok(span.attributes[k].length <= 32 * 1024, `${k} is within the limit`);
    }
    // Cut with their structure kept: MLflow still reads the messages.
    assert.equal(JSON.parse(span.attributes['mlflow.spanInputs']).messages[0].role, 'user');
    assert.equal(truncated() - before, 2, 'inputs and outputs');
  });

  test(`a ${kind} chat call within the limit counts nothing`, async () => {
    const before = truncated();
    const res = await traceFetch()(`${servers.mock.url}/v1/chat/completions`, { method: 'POST', body: chat('short', stream) });
    await res.text();
    const span = await modelSpan();
    assert.ok(!span.attributes['mlflow.spanInputs'].includes(MARKER));
    assert.equal(truncated() - before, 0);
  });
}
