// In workerd, as in Chromium (tests/browser/streamed_model_spans_survive_collections.test.mjs), a
// streamed model call's span ends when its stream ends, however much garbage the Worker makes while
// it reads: the registry that ends a body dropped unread watches the stream's underlying source,
// which must live as long as the stream can be read in workerd's streams too.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workerMiniflare } from './helpers.mjs';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { startCollector } from '../node/helpers/collector.mjs';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
let col;
let llm;
let mf;
before(async () => {
  col = await startCollector();
  llm = await startMockLlm();
  mf = workerMiniflare(join(fixtures, 'worker_stream_garbage.js'));
});
after(async () => {
  await mf?.dispose();
  await col?.close();
  await llm?.close();
});

test('streams a Worker reads to their end while making garbage end as completed, with their usage', async () => {
  const n = 10;
  const res = await mf.dispatchFetch('http://worker.test/', { headers: { 'x-collector': col.url, 'x-llm': llm.url, 'x-n': String(n) } });
  assert.deepEqual(await res.json(), Array(n).fill(true), 'the Worker read every stream to its end');
  const spans = col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(spans.length, n);
  assert.deepEqual(spans.map((s) => s.attributes['edgetrace.llm.stream_end']), Array(n).fill('completed'));
  for (const s of spans) assert.ok(s.attributes['mlflow.chat.tokenUsage'], `usage on ${s.name}`);
});
