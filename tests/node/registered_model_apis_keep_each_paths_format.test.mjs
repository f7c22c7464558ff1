// registerModelApi, as the README shows it for vLLM: a server that serves chat, Responses and
// embeddings side by side under one base URL. Each known path keeps its own format, with the
// registered provider; another POST under the base is a call in the registered format; a GET (a
// model list) is no model call. In a file of its own: registrations last for the process.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { flush, init, registerModelApi, traceFetch } from '../../pkg/node.js';
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

test('a registered base URL keeps each known path in its own format, with the registered provider', async () => {
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
  registerModelApi({ baseUrl: `${mock.url}/v1`, format: 'openai', provider: 'vllm' });
  const f = traceFetch();
  const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, fetch: f, maxRetries: 0 });
  const chat = await openai.chat.completions.create({ model: 'qwen', messages: [{ role: 'user', content: 'Hi' }] });
  const resp = await openai.responses.create({ model: 'qwen', input: 'Hello' });
  const emb = await openai.embeddings.create({ model: 'bge-small', input: 'Hello' });
  assert.equal((await f(`${mock.url}/v1/models`)).status, 404, 'the mock serves no model list');
  // A gateway's own path under the base: a call in the registered format.
  const own = await f(`${mock.url}/v1/gateway`, { method: 'POST', body: JSON.stringify({ model: 'qwen', messages: [] }) });
  await own.text();
  await new Promise((r) => setTimeout(r, 20));
  await flush();
  const spans = col.spans();
  const byType = (t) => spans.filter((s) => s.attributes['mlflow.spanType'] === t);
  assert.equal(spans.length, 4, `spans: ${spans.map((s) => s.name).join(', ')} (no span for the GET)`);
  const embeddings = byType('EMBEDDING');
  assert.equal(embeddings.length, 1, 'the embeddings call is an EMBEDDING span');
  assert.equal(JSON.parse(embeddings[0].attributes['mlflow.chat.tokenUsage']).input_tokens, emb.usage.prompt_tokens);
  const usage = (s) => JSON.parse(s.attributes['mlflow.chat.tokenUsage'] || 'null');
  const models = byType('CHAT_MODEL');
  assert.equal(models.length, 3);
  const totals = models.map((s) => usage(s)?.total_tokens);
  assert.ok(totals.includes(chat.usage.total_tokens), 'chat usage');
  const responses = models.find((s) => usage(s)?.total_tokens === resp.usage.total_tokens && usage(s).input_tokens === resp.usage.input_tokens);
  assert.ok(responses, `the Responses call parsed as Responses: ${JSON.stringify(models.map(usage))}`);
  const gateway = models.find((s) => s.attributes['url.full'].endsWith('/v1/gateway'));
  assert.equal(gateway?.name, 'chat qwen', 'the gateway POST is a chat call');
  for (const s of [...models, ...embeddings]) assert.equal(s.attributes['mlflow.llm.provider'], 'vllm', s.name);
});
